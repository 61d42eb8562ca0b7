// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_scan.c - libFuzzer target for the MTA log scanner: the input is
 * split into lines and fed, in order, to one scanner (so the cross-line
 * tables are exercised too). Every event must carry a host address of
 * either family, a known MTA and a non-empty tag list; anything else is
 * a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mxwall.h"
#include "mta/scan.h"

static const char *const traps[] = {"trap@example.org", "x@[192.0.2.1]"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scan_opts o = {traps, 2, 1124013600};
	struct scanner *s = scanner_new(&o);
	struct scan_event ev;
	struct scan_stats st;
	const char *p = (const char *)data, *end = p + size, *nl;

	while (p <= end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (scanner_feed(s, p, (size_t)(nl - p), &ev)) {
			if (!ev.mta || !ev.tags[0] ||
			    memchr(ev.tags, '\0', sizeof(ev.tags)) == NULL)
				abort();
			if (ev.ip.family != AF_INET && ev.ip.family != AF_INET6)
				abort();
			if (ev.ip.plen != (ev.ip.family == AF_INET ? 32 : 128))
				abort();
		}
		p = nl + 1;
	}
	scanner_stats(s, &st);
	if (st.lines != st.events + st.ignored + st.garbage)
		abort();
	scanner_free(s);
	return 0;
}

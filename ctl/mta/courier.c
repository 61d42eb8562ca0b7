// SPDX-License-Identifier: GPL-2.0
/*
 * scan_courier.c - Courier's courieresmtpd.
 *
 *	error,relay=::ffff:ADDR,port=43632,from=<a>,to=<b>: 550 User unknown.
 *	error,relay=::ffff:ADDR,msg="535 Authentication failed.",cmd: AUTH ...
 *
 * relay= comes first, right after the fixed "error,"; ident=, from=, to=,
 * msg= and cmd: after it are the client's. The address ends at ','.
 */
#include <string.h>

#include "mta/scan_int.h"

int scan_courier(struct scan_ctx *c, const struct scan_msg *m,
		 struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *a, *t, *te;

	q = LIT(p, end, "error,relay=");
	if (!q)
		return SCAN_NONE;
	a = memchr(q, ',', (size_t)(end - q));
	if (!a || !scan_addr(q, (size_t)(a - q), &ev->ip))
		return SCAN_UNPARSED;
	scan_classify(ev, a, end);
	if (c->ntraps && (t = FIND(a, end, ",to=<"))) {
		t += 4;
		te = memchr(t, '>', (size_t)(end - t));
		if (te)
			scan_spamtrap(c, ev, t, (size_t)(te - t + 1));
	}
	return SCAN_EVENT;
}

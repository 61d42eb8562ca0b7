// SPDX-License-Identifier: GPL-2.0
/*
 * bench_scan.c - parser throughput: read a log into memory, then feed
 * every line to one scanner and time only the scanner (one core).
 * Prints "lines, events, seconds, lines/s". bench_scan.sh runs it on a
 * generated 1M-line Postfix log next to fail2ban-regex; without a file it
 * times a built-in mix of common Postfix lines, 1M lines.
 *
 * usage: bench_scan [LOGFILE [ROUNDS]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mxwall.h"
#include "mta/scan.h"

static const char *const mix[] = {
    "Nov 23 06:55:01 mx1 postfix/postscreen[2639]: CONNECT from "
    "[198.51.100.189]:39722 to [192.0.2.1]:25",
    "Nov 23 06:55:01 mx1 postfix/postscreen[2639]: PASS OLD "
    "[198.51.100.189]:39722",
    "Nov 23 06:55:01 mx1 postfix/smtpd[2640]: connect from "
    "mail.example.com[198.51.100.189]",
    "Nov 23 06:55:02 mx1 postfix/smtpd[2640]: 4F1A2B3C4D: "
    "client=mail.example.com[198.51.100.189]",
    "Nov 23 06:55:02 mx1 postfix/cleanup[2641]: 4F1A2B3C4D: "
    "message-id=<123@mail.example.com>",
    "Nov 23 06:55:02 mx1 postfix/qmgr[900]: 4F1A2B3C4D: "
    "from=<user@example.org>, size=1234, nrcpt=1 (queue active)",
    "Nov 23 06:55:03 mx1 postfix/lmtp[2642]: 4F1A2B3C4D: "
    "to=<rcpt@example.com>, relay=mail.example.com[private/dovecot-lmtp], "
    "delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
    "Nov 23 06:55:03 mx1 postfix/qmgr[900]: 4F1A2B3C4D: removed",
    "Nov 23 06:55:03 mx1 postfix/smtpd[2640]: disconnect from "
    "mail.example.com[198.51.100.189] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 "
    "quit=1 commands=7",
    "Nov 23 06:55:04 mx1 postfix/smtpd[2643]: NOQUEUE: reject: RCPT from "
    "unknown[203.0.113.7]: 554 5.7.1 Service unavailable; Client host "
    "[203.0.113.7] blocked using zen.spamhaus.org; "
    "https://www.spamhaus.org/query/ip/203.0.113.7; from=<s@spam.example> "
    "to=<u@example.com> proto=ESMTP helo=<x>",
    "Nov 23 06:55:04 mx1 postfix/submission/smtpd[2644]: warning: "
    "unknown[203.0.113.8]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
    "Nov 23 06:55:05 mx1 postfix/postscreen[2639]: PREGREET 11 after 0.2 from "
    "[203.0.113.9]:4711: EHLO user\\r\\n",
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct scan_opts o = {NULL, 0, 0};
	struct scan_event ev;
	struct scanner *s;
	char *buf, *p, *e, *nl;
	size_t cap = 1 << 20, len = 0, n;
	unsigned long long lines = 0, events = 0;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, r;
	double t0, best = 0;
	FILE *f;

	buf = xmalloc(cap);
	if (argc < 2) {
		for (n = 0; n < 1000000; n++) {
			size_t l = strlen(mix[n % ARRAY_SIZE(mix)]);

			while (len + l + 1 > cap)
				buf = xreallocarray(buf, cap *= 2, 1);
			memcpy(buf + len, mix[n % ARRAY_SIZE(mix)], l);
			len += l;
			buf[len++] = '\n';
		}
		printf(
		    "bench_scan: built-in Postfix mix (for the fail2ban-regex "
		    "comparison run selftests/bench/bench_scan.sh)\n");
	} else {
		f = fopen(argv[1], "rb");
		if (!f) {
			perror(argv[1]);
			free(buf);
			return 1;
		}
		while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
			len += n;
			if (len == cap)
				buf = xreallocarray(buf, cap *= 2, 1);
		}
		fclose(f);
	}
	for (r = 0; r < (rounds > 0 ? rounds : 1); r++) {
		s = scanner_new(&o);
		lines = events = 0;
		t0 = now();
		for (p = buf, e = buf + len; p < e; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(e - p));
			if (!nl)
				nl = e;
			events += (unsigned long long)scanner_feed(
			    s, p, (size_t)(nl - p), &ev);
			lines++;
		}
		t0 = now() - t0;
		if (!r || t0 < best)
			best = t0;
		scanner_free(s);
	}
	printf("lines %llu events %llu seconds %.3f lines/s %.0f\n", lines,
	       events, best, (double)lines / best);
	free(buf);
	return 0;
}

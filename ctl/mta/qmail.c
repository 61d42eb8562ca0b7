// SPDX-License-Identifier: GPL-2.0
/*
 * scan_qmail.c - qmail's rblsmtpd and patched qmail-smtpd.
 *
 *	rblsmtpd: ADDR pid N: 451 http://rbl.example/query?ip=ADDR
 *	rblsmtpd: ADDR pid N ZONE: 451 ...           (patched, zone named)
 *	rblsmtpd: ZONE blocked ADDR NAME -           (old form)
 *	qmail-smtpd: 421 badiprbl: ip ADDR rbl: ZONE (badiprbl patch)
 *
 * and the same behind a "qmail: TAI.frac " wrapper. ADDR is
 * $TCPREMOTEIP from tcpserver, in a fixed position before any text of the
 * client; the message (an RBL TXT record) only gives the tag.
 */
#include <string.h>

#include "mta/scan_int.h"

static int rblsmtpd(const char *p, const char *end, struct scan_event *ev)
{
	const char *t = sc_token(p, end), *q, *z;

	if ((q = LIT(t, end, " pid "))) {
		if (!scan_addr(p, (size_t)(t - p), &ev->ip))
			return SCAN_UNPARSED;
		q = sc_digits(q, end);
		if (q && (z = LIT(q, end, " ")) && scan_zone_tag(ev, z, end))
			return SCAN_EVENT;
		SCAN_TAG(ev, "dnsbl");
		return SCAN_EVENT;
	}
	if ((q = LIT(t, end, " blocked "))) {
		z = sc_token(q, end);
		if (z >= end)
			return SCAN_UNPARSED; /* cut inside the address? */
		if (!scan_addr(q, (size_t)(z - q), &ev->ip))
			return SCAN_UNPARSED;
		if (!scan_zone_tag(ev, p, t))
			SCAN_TAG(ev, "dnsbl");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

static int qmail_smtpd(const char *p, const char *end, struct scan_event *ev)
{
	const char *q = sc_digits(p, end), *a;

	q = LIT(q, end, " badiprbl: ip ");
	if (!q)
		return SCAN_NONE;
	a = sc_token(q, end);
	if (!scan_addr(q, (size_t)(a - q), &ev->ip))
		return SCAN_UNPARSED;
	q = LIT(a, end, " rbl: ");
	if (!q)
		return SCAN_UNPARSED;
	if (!scan_zone_tag(ev, q, end))
		SCAN_TAG(ev, "dnsbl");
	return SCAN_EVENT;
}

int scan_qmail(struct scan_ctx *c, const struct scan_msg *m,
	       struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q;

	(void)c;
	if (m->proglen == 5) { /* "qmail: TAI.frac prog: " */
		q = sc_digits(p, end);
		if (q && q < end && *q == '.')
			q = sc_digits(q + 1, end);
		q = LIT(q, end, " ");
		if (!q)
			return SCAN_NONE;
		if ((p = LIT(q, end, "rblsmtpd: ")))
			return rblsmtpd(p, end, ev);
		if ((p = LIT(q, end, "qmail-smtpd: ")))
			return qmail_smtpd(p, end, ev);
		return SCAN_NONE;
	}
	if (m->proglen == 8)
		return rblsmtpd(p, end, ev);
	return qmail_smtpd(p, end, ev);
}

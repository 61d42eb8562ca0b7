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

/*
 * cr_reason - after the address: ",port=N", then ",msg=\"reply\"" or the
 * client's ",from=<a>" and ",to=<b>" (skipped as units) and ": reply";
 * [return, *re) is the server's reply, NULL when the shape is not that.
 */
static const char *cr_reason(const char *p, const char *end, const char **re)
{
	const char *q;

	*re = end;
	if ((q = LIT(p, end, ",port=")))
		p = sc_digits(q, end);
	/* an ident reply is the client's text: the one ",from=<" after it */
	if (LIT(p, end, ",ident=")) {
		if (COUNT(p, end, ",from=<") != 1)
			return NULL;
		p = FIND(p, end, ",from=<");
	}
	/* msg=: a refusal before MAIL (AUTH); cmd: after it is the client's */
	if ((q = LIT(p, end, ",msg=\""))) {
		p = memchr(q, '"', (size_t)(end - q));
		*re = p ? p : end;
		return COUNT(q, end, ",msg=\"") ? NULL : q;
	}
	if ((q = LIT(p, end, ",from=")))
		p = scan_echo_end(q, end);
	if ((q = LIT(p, end, ",to=")))
		p = scan_echo_end(q, end);
	/* a reply "NNN text", the line's one ">: " before it */
	if ((q = LIT(p, end, ": ")))
		return sc_digits(q, end) == q + 3 && scan_echo_closed(q, end) &&
			       COUNT(q, end, ">: ") == 0
			   ? q
			   : NULL;
	return NULL;
}

int scan_courier(struct scan_ctx *c, const struct scan_msg *m,
		 struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *a, *t, *te, *re = end;

	q = LIT(p, end, "error,relay=");
	if (!q)
		return SCAN_NONE;
	a = memchr(q, ',', (size_t)(end - q));
	if (!a || !scan_addr(q, (size_t)(a - q), &ev->ip))
		return SCAN_UNPARSED;
	scan_classify(ev, cr_reason(a, end, &re), re);
	if (c->ntraps && (t = FIND(a, end, ",to=<"))) {
		t += 4;
		te = memchr(t, '>', (size_t)(end - t));
		if (te)
			scan_spamtrap(c, ev, t, (size_t)(te - t + 1));
	}
	return SCAN_EVENT;
}

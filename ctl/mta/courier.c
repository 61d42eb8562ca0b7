// SPDX-License-Identifier: GPL-2.0
/*
 * scan_courier.c - Courier's courieresmtpd.
 *
 *	error,relay=::ffff:ADDR,port=43632,from=<a>,to=<b>: 550 User unknown.
 *	error,relay=::ffff:ADDR,msg="535 Authentication failed.",cmd: AUTH ...
 *
 * relay= comes first, right after the fixed "error,"; ident=, from=, to=,
 * msg= and cmd: after it are the client's. The address ends at ','.
 * Courier's replies that echo the client (as real Courier writes them):
 *
 *	550 User <nosuchuser> unknown
 *	517 HELO bad_helo!name does not exist.
 *	517 HELO [203.0.113.9] does not match ::ffff:ADDR
 *	517 Sender rejected: someone@spam.example
 *	502 ESMTP command error		(msg=, the command after cmd:)
 *
 * Its own failures print nothing (cr_own_failure):
 *
 *	error,relay=...,from=<a>,to=<b>: 450 Service temporarily unavailable.
 *
 * (An AUTH it cannot check while authdaemond is down is refused with the
 * same "535 Authentication failed." line as a wrong password.)
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

/*
 * cr_classify - the reason of Courier's reply [r, re) ("NNN text"), never
 * from the client's words it echoes: a recipient's local part between
 * "User <" and "> unknown", a HELO name (Courier writes it without
 * spaces) between "HELO " and the next space.
 */
static void cr_classify(struct scan_event *ev, const char *r, const char *re)
{
	const char *t = r ? LIT(sc_digits(r, re), re, " ") : NULL, *q;

	if (t && LIT(t, re, "User <") && re - t >= 15 &&
	    !memcmp(re - 9, "> unknown", 9)) {
		SCAN_TAG(ev, "unknown-user");
		return;
	}
	if (t && (q = LIT(t, re, "HELO "))) {
		q = memchr(q, ' ', (size_t)(re - q));
		if (q && (LIT(q, re, " does not exist") ||
			  LIT(q, re, " does not match ")))
			SCAN_TAG(ev, "bad-helo");
		else
			scan_classify(ev, q, re);
		return;
	}
	scan_classify(ev, r, re);
}

/*
 * cr_own_failure - the reply [r, re) is Courier's own trouble, no
 * client's doing: "450 Service temporarily unavailable." is what it
 * answers when it cannot look a recipient up (authdaemond unreachable,
 * "authdaemon: s_connect() failed" logged without the client's address).
 */
static bool cr_own_failure(const char *r, const char *re)
{
	const char *t = r ? LIT(sc_digits(r, re), re, " ") : NULL;

	return t && LIT(r, re, "450 ") &&
	       LIT(t, re, "Service temporarily unavailable");
}

int scan_courier(struct scan_ctx *c, const struct scan_msg *m,
		 struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *a, *t, *te, *r, *re = end;

	q = LIT(p, end, "error,relay=");
	if (!q)
		return SCAN_NONE;
	a = memchr(q, ',', (size_t)(end - q));
	if (!a || !scan_addr(q, (size_t)(a - q), &ev->ip))
		return SCAN_UNPARSED;
	r = cr_reason(a, end, &re);
	if (cr_own_failure(r, re))
		return SCAN_NONE;
	cr_classify(ev, r, re);
	if (c->ntraps && (t = FIND(a, end, ",to=<"))) {
		t += 4;
		te = memchr(t, '>', (size_t)(end - t));
		if (te)
			scan_spamtrap(c, ev, t, (size_t)(te - t + 1));
	}
	return SCAN_EVENT;
}

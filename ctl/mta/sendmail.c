// SPDX-License-Identifier: GPL-2.0
/*
 * scan_sendmail.c - Sendmail (sm-mta, sendmail, sm-acceptingconnections).
 *
 * The client is written "NAME [ADDR]" or "[ADDR]" (IPv6 "[IPv6:...]"),
 * optionally followed by " (may be forged)". NAME is whatever the PTR
 * lookup returned and is never used. An "IDENT@NAME" form (ident lookups)
 * fails closed: the ident reply is the client's text. Shapes:
 *
 *	QID: ruleset=check_rcpt, arg1=<a>, relay=NAME [ADDR], reject=550 ...
 *	ruleset=check_relay, arg1=NAME, arg2=ADDR, relay=NAME [ADDR], reject=
 *	    arg1 precedes relay= and reject= repeats it: exactly one
 *	    ", relay=" in the line, or nothing.
 *	QID: AUTH failure (LOGIN): text, user=U, relay=NAME [ADDR][ (may be
 *	    forged)]   U may hold ", relay=": the last one, which must end the
 *	    line.
 *	QID: <rcpt>... No such user here | User unknown      (pending, no host)
 *	QID: from=<a>, size=0, ..., nrcpts=0, ..., relay=NAME [ADDR]
 *	    the event, when the same pid:QID had a pending line (bounded
 *	    table); the last ", relay=" must end the line.
 *	Shapes with the client's text before relay= refuse lines of
 *	SCAN_CUT_LEN bytes or more (a cut could leave a forged relay=).
 *	    A "451 4.3.0" refusal is our own failure (SYSERR: a map that
 *	    cannot be opened): no event.
 *	QID: rejecting commands from NAME [ADDR] due to pre-greeting traffic
 *	    (NAME is "[ADDR]" itself when the address has no PTR name)
 *	QID: NAME [ADDR][ (may be forged)] did not issue MAIL/EXPN/VRFY/ETRN
 *	QID: NAME [ADDR]: possible SMTP attack: command=AUTH, count=5
 *	QID: NAME [ADDR]: EXPN root [rejected]
 *	QID: lost input channel from NAME [ADDR] to MTA after rcpt
 */
#include <stdio.h>
#include <string.h>

#include "mta/scan_int.h"

/* sm_relay - "NAME [ADDR]" or "[ADDR]" then optional " (may be forged)" */
static const char *sm_relay(const char *p, const char *end, struct cidr *ip)
{
	const char *q = p, *r;

	/* no PTR name: the address stands in for it, "[ADDR] [ADDR]" */
	if (q < end && *q == '[' && (r = memchr(q, ']', (size_t)(end - q))) &&
	    LIT(r + 1, end, " [")) {
		size_t n = (size_t)(r + 1 - q);

		/* the same text twice, or fail closed */
		if ((size_t)(end - (r + 2)) < n || memcmp(q, r + 2, n))
			return NULL;
		q = r + 2;
	}
	if (q < end && *q != '[') {
		while (q < end && *q != ' ') {
			if (*q == '@' || *q == '[' || *q == ']' || *q == ',')
				return NULL;
			q++;
		}
		if (q >= end)
			return NULL;
		q++;
	}
	if (q >= end || *q != '[')
		return NULL;
	r = memchr(q + 1, ']', (size_t)(end - q - 1));
	if (!r || !scan_addr(q + 1, (size_t)(r - q - 1), ip))
		return NULL;
	r++;
	if (LIT(r, end, " (may be forged)"))
		r += 16;
	return r;
}

/*
 * sm_reason - the reason in "NNN X.Y.Z <ECHO>... text" (after reject=):
 * the text after the echo of the client's address, which a quoted local
 * part can make hold ">... " itself: then none (tag "other").
 */
static const char *sm_reason(const char *p, const char *end)
{
	const char *q = sc_digits(p, end), *e;

	q = LIT(q, end, " ");
	if (q && sc_digit(*q) && (e = sc_token(q, end)) < end && e - q <= 12 &&
	    memchr(q, '.', (size_t)(e - q)))
		q = e + 1;
	if (q && q < end && *q == '<') {
		e = scan_echo_end(q, end);
		if (!e || !LIT(e, end, "... ") || COUNT(p, end, ">... ") != 1 ||
		    !scan_echo_closed(e + 4, end))
			return NULL;
		q = e + 4;
	}
	return q;
}

static size_t sm_key(char *k, size_t len, const struct scan_msg *m,
		     const char *qid, size_t qlen)
{
	int n = snprintf(k, len, "sm%u:%.*s", m->pid, (int)qlen, qid);

	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

int scan_sendmail(struct scan_ctx *c, const struct scan_msg *m,
		  struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *r, *qid = NULL, *a;
	size_t qlen = 0, klen;
	struct scan_kv *kv;
	char key[SCAN_KEY_MAX];

	/* queue id: 8..20 alphanumerics, then ": " */
	q = p;
	while (q < end && q - p <= 20 &&
	       ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z') ||
		(*q >= 'a' && *q <= 'z')))
		q++;
	if (q - p >= 8 && q - p <= 20 && LIT(q, end, ": ")) {
		qid = p;
		qlen = (size_t)(q - p);
		p = q + 2;
	}
	if (p >= end)
		return SCAN_NONE;

	if ((q = LIT(p, end, "ruleset=check_"))) {
		r = FIND(q, end, ", reject=");
		if (!r)
			return SCAN_NONE; /* discard, quarantine, ... */
		/* arg1 comes first: a cut could leave only a forged relay= */
		if (SCAN_CUT_RISK(m) || COUNT(p, end, ", relay=") != 1)
			return SCAN_UNPARSED;
		a = FIND(p, end, ", relay=") + 8;
		a = sm_relay(a, end, &ev->ip);
		if (!a || !LIT(a, end, ", reject="))
			return SCAN_UNPARSED;
		r = sm_reason(a + 9, end);
		/* our own failure (a map we cannot open, no resources) */
		if (LIT(a + 9, end, "451 4.3.0") ||
		    (r && (FIND(r, end, "Temporary system failure") ||
			   FIND(r, end, "Temporary lookup failure"))))
			return SCAN_NONE;
		scan_classify(ev, r, end);
		/* a sender refused by the access map: "Access denied" */
		if (!ev->tags[0] && LIT(q, end, "mail, "))
			SCAN_TAG(ev, "bad-sender");
		if (c->ntraps && LIT(q, end, "rcpt, arg1=<")) {
			r = q + 11;
			a = memchr(r, '>', (size_t)(end - r));
			if (a)
				scan_spamtrap(c, ev, r, (size_t)(a - r + 1));
		}
		return SCAN_EVENT;
	}
	if (LIT(p, end, "AUTH failure (") || LIT(p, end, "from=<")) {
		/*
		 * A cut line (syslog, or sm_syslog()'s pieces of ~1000 bytes)
		 * could end in the client's user= text with a forged relay=
		 * of its own: long lines fail closed.
		 */
		if (SCAN_CUT_RISK(m))
			return SCAN_UNPARSED;
		r = RFIND(p, end, ", relay=");
		if (!r)
			return SCAN_UNPARSED;
		a = sm_relay(r + 8, end, &ev->ip);
		if (!a || a != end)
			return SCAN_UNPARSED;
		if (*p == 'A') {
			SCAN_TAG(ev, "auth");
			return SCAN_EVENT;
		}
		/* from= line: an event only after a pending unknown user */
		klen = qid ? sm_key(key, sizeof(key), m, qid, qlen) : 0;
		kv = klen ? scan_kv_get(c, key, klen) : NULL;
		if (!kv)
			return SCAN_NONE;
		if (kv->flags & 1)
			SCAN_TAG(ev, "spamtrap");
		SCAN_TAG(ev, "unknown-user");
		memset(kv, 0, sizeof(*kv));
		return SCAN_EVENT;
	}
	if (*p == '<' && qid) {
		/* "<rcpt>... No such user here": remember, no host yet */
		r = FIND(p, end, ">... ");
		if (!r || (!LIT(r + 5, end, "No such user here") &&
			   !LIT(r + 5, end, "User unknown")))
			return SCAN_NONE;
		klen = sm_key(key, sizeof(key), m, qid, qlen);
		kv = klen ? scan_kv_put(c, key, klen) : NULL;
		if (kv && c->ntraps) {
			struct scan_event tmp;

			memset(&tmp, 0, sizeof(tmp));
			scan_spamtrap(c, &tmp, p, (size_t)(r + 1 - p));
			kv->flags = tmp.tags[0] ? 1 : 0;
		}
		return SCAN_NONE;
	}
	if ((q = LIT(p, end, "rejecting commands from "))) {
		/* no name: "from  [ADDR]" */
		if (q < end && *q == ' ')
			q++;
		q = sm_relay(q, end, &ev->ip);
		if (!q || !LIT(q, end, " due to pre-greeting traffic"))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "pregreet");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "lost input channel from "))) {
		q = sm_relay(q, end, &ev->ip);
		if (!q || !LIT(q, end, " to "))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	/* "NAME [ADDR]..." at the start of the message */
	q = sm_relay(p, end, &ev->ip);
	if (!q)
		return SCAN_NONE;
	if (LIT(q, end, " did not issue MAIL/EXPN/VRFY/ETRN")) {
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((r = LIT(q, end, ": possible SMTP attack: command="))) {
		if (LIT(r, end, "AUTH"))
			SCAN_TAG(ev, "auth");
		else
			SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((r = LIT(q, end, ": ")) && end - r > 5 &&
	    (!memcmp(r, "EXPN ", 5) || !memcmp(r, "expn ", 5) ||
	     !memcmp(r, "VRFY ", 5) || !memcmp(r, "vrfy ", 5)) &&
	    end - r >= 16 && !memcmp(end - 11, " [rejected]", 11)) {
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

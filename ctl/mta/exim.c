// SPDX-License-Identifier: GPL-2.0
/*
 * scan_exim.c - Exim mainlog/rejectlog lines, native or through syslog.
 *
 * A line may start with Exim's own stamp "YYYY-MM-DD HH:MM:SS[.mmm][ +zone]",
 * then "[pid] " and/or a message id. The host part that Exim writes for
 * the client (host.c host_and_ident()) is
 *
 *	[NAME ][(HELO) ][ADDR][:PORT]
 *
 * NAME is a verified reverse name (letters, digits, '-', '.'); HELO is the
 * client's and may itself be an address literal, "([192.0.2.50])", so the
 * address is the bracket that follows; a HELO holding a space or a
 * parenthesis fails closed. Shapes read (address position first):
 *
 *	H=HOST F=<a> rejected RCPT <b>: msg   (temporarily rejected, rejected
 *	    MAIL <a>, rejected after DATA, rejected EHLO or HELO NAME,
 *	    rejected connection in "connect" ACL: a refusal before HELO)
 *	H=HOST dropped by 'connect' ACL: msg
 *	rejected EHLO from HOST: syntactically invalid argument(s): text
 *	rejected MAIL from HOST: no HELO/EHLO given    (any other verb)
 *	SMTP call from HOST dropped: too many ...
 *	no MAIL in SMTP connection from HOST D=21s C=EHLO
 *	SMTP connection from HOST closed by DROP in ACL
 *	NAME authenticator failed for [H=]HOST: 535 Incorrect authentication
 *	    data (set_id=U)   (H= since Exim 4.97)
 *	SMTP protocol synchronization error (...): rejected connection from
 *	    H=HOST input="..."   (talking before the greeting: pregreet)
 *
 * Shapes with attacker text before the host part:
 *
 *	SMTP protocol error in "CMD" H=HOST text, SMTP syntax error in "CMD"
 *	    H=HOST text: old Exims do not escape '"' in CMD, so the *last*
 *	    " H=" is taken and what follows its host part is Exim's text.
 *	    These shapes refuse lines of SCAN_CUT_LEN bytes or more.
 *	SMTP protocol synchronization error (...): rejected "CMD" H=HOST
 *	    next input="...": text on both sides, so exactly one " H=".
 *	MSGID F=<a> H=HOST P=smtp rejected by local_scan(): exactly one " H=".
 *	MSGID SA: Action: ... From <a> (host=NAME [ADDR]) for b: exactly one
 *	    "(host=".
 *
 * No event: notes that refuse nothing ("no host name found for IP
 * address", "no IP address found for host", "sender verify fail for <a>"
 * - the refusal, if any, has a line of its own), lost connections, and
 * deferrals caused by our own state (failed lookups and expansions,
 * callouts that could not complete).
 */
#include <stdio.h>
#include <string.h>

#include "core/mxwall.h"
#include "mta/scan_int.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       sc_digit(c) || c == '-' || c == '.' || c == '_';
}

/*
 * ex_host - the host part at p; the byte after it, or NULL.
 * A HELO from a host in helo_accept_junk_hosts may hold ") [" itself
 * ("(x) [203.0.113.9] (y) [ADDR]"): when a HELO is present and ") ["
 * occurs again later in the line, the line is ambiguous and fails closed.
 */
static const char *ex_host(const char *p, const char *end, struct cidr *ip)
{
	const char *q = p, *r;
	bool helo = false;

	if (q < end && *q != '(' && *q != '[') {
		while (q < end && name_char(*q))
			q++;
		if (q == p || q >= end || *q != ' ')
			return NULL;
		q++;
	}
	if (q < end && *q == '(') {
		r = q + 1;
		while (r < end && *r != ')') {
			if (*r == ' ' || *r == '(')
				return NULL;
			r++;
		}
		if (r >= end || r + 1 >= end || r[1] != ' ')
			return NULL;
		q = r + 2;
		helo = true;
	}
	if (q >= end || *q != '[')
		return NULL;
	r = memchr(q + 1, ']', (size_t)(end - q - 1));
	if (!r || !scan_addr(q + 1, (size_t)(r - q - 1), ip))
		return NULL;
	r++;
	if (r < end && *r == ':' && r + 1 < end && sc_digit(r[1]))
		r = sc_digits(r + 1, end);
	if (r < end && *r != ' ' && *r != ':' && *r != ')')
		return NULL;
	if (helo && FIND(r, end, ") ["))
		return NULL;
	return r;
}

/*
 * ex_server_fields - skip " I=[..]:p", " Ci=N", " U=x" after a host part;
 * each ends at a space or at the ": " that starts a reply
 */
static const char *ex_server_fields(const char *q, const char *end)
{
	const char *r;

	while (q && q < end) {
		if ((r = LIT(q, end, " I=")) || (r = LIT(q, end, " Ci=")) ||
		    (r = LIT(q, end, " U="))) {
			q = r;
			while (q < end && *q != ' ' &&
			       !(*q == ':' && q + 1 < end && q[1] == ' '))
				q++;
		} else {
			break;
		}
	}
	return q;
}

/* skip "[pid] " and a message id (1Ai79e-0000Dq-8i or the 4.97 form) */
static const char *ex_skip_ids(const char *p, const char *end)
{
	const char *q;
	int dashes;

	while (p < end && *p == '[') {
		q = sc_digits(p + 1, end);
		if (!q || q >= end || *q != ']' || q + 1 >= end || q[1] != ' ')
			break;
		p = q + 2;
	}
	q = p;
	dashes = 0;
	while (q < end && (name_char(*q) && *q != '.' && *q != '_')) {
		dashes += *q == '-';
		q++;
	}
	if (dashes == 2 && q - p >= 16 && q - p <= 26 && q < end && *q == ' ' &&
	    p[6] == '-')
		p = q + 1;
	return p;
}

/*
 * ex_reason - Exim's reason after "rejected " at p (smtp_in.c writes
 * "rejected WHAT[: message]"): WHAT is "RCPT <a> [params]", "MAIL <a>",
 * "VRFY <a>", ... with the client's command text, or fixed words ("after
 * DATA", "DATA", "connection in \"connect\" ACL"); the message is the
 * ACL's. Returns where the message starts, or NULL when there is none or
 * the client's text could hide where it starts.
 */
static const char *ex_reason(const char *p, const char *end)
{
	const char *q = p, *e;

	while (q < end && *q >= 'A' && *q <= 'Z')
		q++;
	if (q > p && q < end && *q == ' ' && q + 1 < end && q[1] == '<') {
		/* the command's address, then its parameters */
		e = scan_echo_end(q + 1, end);
		if (!e)
			return NULL;
		q = FIND(e, end, ": ");
		/* parameters are keyword=xtext: no ':' and no quotes */
		if (!q || memchr(e, '"', (size_t)(q - e)) ||
		    memchr(e, '<', (size_t)(q - e)) ||
		    !scan_echo_closed(q + 2, end) || COUNT(q + 2, end, ">: "))
			return NULL;
		return q + 2;
	}
	if ((q = LIT(p, end, "connection in \"")) ||
	    (q = LIT(p, end, "EHLO or HELO "))) {
		/* an ACL's name, or a HELO name Exim checked for syntax */
		e = q;
		q = p[0] == 'c' ? FIND(q, end, "\" ACL: ") : FIND(q, end, ": ");
		if (q && *q == '"')
			q += 5;
		else if (q && memchr(e, ' ', (size_t)(q - e)))
			return NULL;
		return LIT(q, end, ": ");
	}
	q = FIND(p, end, ": ");
	if (!q || memchr(p, '<', (size_t)(q - p)) ||
	    memchr(p, '"', (size_t)(q - p)))
		return NULL;
	return q + 2;
}

/* ex_server_trouble - a deferral of ours: lookups, expansions, callouts */
static bool ex_server_trouble(const char *why, const char *end)
{
	return FIND(why, end, "Could not complete") ||
	       FIND(why, end, "Temporary local problem") ||
	       FIND(why, end, "temporary lookup failure") ||
	       FIND(why, end, "failed to open ") ||
	       FIND(why, end, "failed to expand ") ||
	       FIND(why, end, "lookup deferred") ||
	       FIND(why, end, "Temporary internal error");
}

/* ex_verb - after the host part: "[ F=<a>] [temporarily ]rejected " */
static const char *ex_verb(const char *q, const char *end, bool *temp)
{
	const char *r;

	q = ex_server_fields(q, end);
	if ((r = LIT(q, end, " F=")))
		q = scan_echo_end(r, end);
	if ((r = LIT(q, end, " temporarily rejected "))) {
		*temp = true;
		return r;
	}
	*temp = false;
	return LIT(q, end, " rejected ");
}

static int ex_after_host(struct scan_ctx *c, const char *q, const char *end,
			 struct scan_event *ev)
{
	const char *v, *r, *re, *why;
	bool temp;

	/*
	 * Delivery attempts name the remote server with the same H= field:
	 * "H=mx.remote [ADDR]: SMTP error from remote mail server after ...",
	 * "H=mx.remote [ADDR] Connection refused". Never the client's event.
	 */
	if (LIT(q, end, ": ") || FIND(q, end, "from remote mail server") ||
	    LIT(q, end, " Connection ") || LIT(q, end, " TLS error"))
		return SCAN_NONE;
	if ((v = ex_verb(q, end, &temp))) {
		why = ex_reason(v, end);
		/* our own trouble: callouts, lookups, local problems */
		if (temp && why && ex_server_trouble(why, end))
			return SCAN_NONE;
		/* no route for a recipient: no such user; for a sender: bad */
		if (why && LIT(v, end, "RCPT ") &&
		    (LIT(why, end, "Unrouteable address") ||
		     LIT(why, end, "unrouteable address")))
			SCAN_TAG(ev, "unknown-user");
		scan_classify(ev, why, end);
		if ((r = LIT(v, end, "RCPT ")) && c->ntraps) {
			re = scan_echo_end(r, end);
			if (re)
				scan_spamtrap(c, ev, r, (size_t)(re - r));
		}
		return SCAN_EVENT;
	}
	/* fields we do not know: a refusal with no reason read */
	if (FIND(q, end, " temporarily rejected "))
		return SCAN_NONE; /* ours or the client's: cannot tell */
	if (FIND(q, end, " rejected "))
		return SCAN_EVENT;
	q = ex_server_fields(q, end);
	if (LIT(q, end, " dropped by ")) {
		SCAN_TAG(ev, "other");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

static int ex_line(struct scan_ctx *c, const struct scan_msg *m,
		   struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *r;
	bool ok;
	int64_t t;

	/* journald/syslog lines keep Exim's own stamp inside the message */
	if (end - p >= 19 && p[4] == '-' && p[10] == ' ' && sc_digit(*p)) {
		t = scan_parse_isotime(c, p, end, &q, &ok);
		if (ok && q < end && *q == ' ') {
			ev->time = t;
			p = q + 1;
		}
	}
	p = ex_skip_ids(p, end);
	if (p >= end)
		return SCAN_NONE;

	if ((q = LIT(p, end, "H="))) {
		q = ex_host(q, end, &ev->ip);
		if (!q)
			return SCAN_UNPARSED;
		return ex_after_host(c, q, end, ev);
	}
	if ((q = LIT(p, end, "SMTP protocol error in \"")) ||
	    (q = LIT(p, end, "SMTP syntax error in \""))) {
		/* a syslog cut could have removed the real host part */
		if (SCAN_CUT_RISK(m))
			return SCAN_UNPARSED;
		r = RFIND(q, end, " H=");
		if (!r)
			return SCAN_UNPARSED;
		q = ex_host(r + 3, end, &ev->ip);
		q = ex_server_fields(q, end);
		/* then Exim's words: "unrecognized command", "sender not
		 * yet given", "AUTH command used when not advertised", ... */
		if (!q || !(q = LIT(q, end, " ")) || q >= end ||
		    !((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
		      sc_digit(*q)))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "SMTP protocol synchronization error ("))) {
		r = FIND(q, end, "): rejected ");
		if (!r)
			return SCAN_UNPARSED;
		r += 12;
		if ((q = LIT(r, end, "connection from H="))) {
			q = ex_host(q, end, &ev->ip);
		} else {
			if (SCAN_CUT_RISK(m) || COUNT(p, end, " H=") != 1)
				return SCAN_UNPARSED;
			q = FIND(r, end, " H=");
			q = q ? ex_host(q + 3, end, &ev->ip) : NULL;
		}
		if (!q)
			return SCAN_UNPARSED;
		if (LIT(r, end, "connection from H=") &&
		    FIND(p, r, "without waiting for greeting"))
			SCAN_TAG(ev, "pregreet");
		else
			SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "SMTP call from "))) {
		q = ex_server_fields(ex_host(q, end, &ev->ip), end);
		if (!q)
			return SCAN_UNPARSED;
		if (!LIT(q, end, " dropped: "))
			return SCAN_NONE;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "no MAIL in SMTP connection from "))) {
		if (!ex_host(q, end, &ev->ip))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "SMTP connection from "))) {
		q = ex_server_fields(ex_host(q, end, &ev->ip), end);
		if (!q || !LIT(q, end, " closed by DROP in ACL"))
			return SCAN_NONE;
		SCAN_TAG(ev, "other");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "rejected EHLO from ")) ||
	    (q = LIT(p, end, "rejected HELO from "))) {
		q = ex_host(q, end, &ev->ip);
		if (!q)
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "bad-helo");
		return SCAN_EVENT;
	}
	/* "rejected MAIL from HOST: no HELO/EHLO given": out of order */
	if ((q = LIT(p, end, "rejected ")) && (r = sc_token(q, end)) < end &&
	    r - q <= 10 && (q = LIT(r, end, " from "))) {
		q = ex_server_fields(ex_host(q, end, &ev->ip), end);
		if (!q || !LIT(q, end, ": "))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "F="))) {
		/* local_scan / sa-exim: the sender precedes the host */
		if (!FIND(q, end, " rejected "))
			return SCAN_NONE;
		if (SCAN_CUT_RISK(m) || COUNT(p, end, " H=") != 1)
			return SCAN_UNPARSED;
		r = FIND(p, end, " H=");
		r = ex_host(r + 3, end, &ev->ip);
		if (!r)
			return SCAN_UNPARSED;
		/* "P=smtp S=N rejected by local_scan(): message" */
		r = FIND(r, end, " rejected ");
		scan_classify(ev, r ? ex_reason(r + 10, end) : NULL, end);
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "SA: Action: "))) {
		if (SCAN_CUT_RISK(m) || COUNT(q, end, "(host=") != 1)
			return SCAN_UNPARSED;
		r = FIND(q, end, "(host=") + 6;
		/* "(host=NAME [ADDR])": NAME may be "NULL" */
		r = LIT(sc_token(r, end), end, " [");
		q = r ? memchr(r, ']', (size_t)(end - r)) : NULL;
		if (!q || !scan_addr(r, (size_t)(q - r), &ev->ip) ||
		    !LIT(q, end, "])"))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "other");
		return SCAN_EVENT;
	}
	/* "NAME authenticator failed for HOST: 535 ..." */
	q = p;
	while (q < end && name_char(*q))
		q++;
	if (q > p && (q = LIT(q, end, " authenticator failed for "))) {
		if (LIT(q, end, "H="))
			q += 2; /* Exim 4.97 and later */
		q = ex_server_fields(ex_host(q, end, &ev->ip), end);
		if (q && q < end && *q == ' ')
			q++;
		q = LIT(q, end, ": ");
		if (!q)
			return SCAN_UNPARSED;
		if (q >= end || *q != '5')
			return SCAN_NONE; /* 435: our auth daemon */
		SCAN_TAG(ev, "auth");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

/*
 * Through syslog Exim writes a refusal twice, once for the main log and
 * once for the reject log (syslog_duplication, the default), at two
 * priorities that the log file no longer shows: the second of two
 * identical event lines of one process in a row is no new event.
 */
int scan_exim(struct scan_ctx *c, const struct scan_msg *m,
	      struct scan_event *ev)
{
	int r = ex_line(c, m, ev);
	uint64_t h = 14695981039346656037ULL;
	struct scan_kv *kv;
	const char *p;
	char key[16];
	size_t n;

	if (r != SCAN_EVENT || !m->pid)
		return r;
	for (p = m->p; p < m->end; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	n = (size_t)snprintf(key, sizeof(key), "ex%u", m->pid);
	kv = scan_kv_get(c, key, n);
	if (kv && kv->val == h) {
		memset(kv, 0, sizeof(*kv));
		return SCAN_NONE;
	}
	kv = scan_kv_put(c, key, n);
	if (kv)
		kv->val = h;
	return r;
}

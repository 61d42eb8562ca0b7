// SPDX-License-Identifier: GPL-2.0
/*
 * scan_opensmtpd.c - OpenSMTPD (program "smtpd" without a path).
 *
 * Since 6.6 (2018-12) the address is only on the connect line and later
 * lines carry the 16-hex-digit session id:
 *
 *	SID smtp connected address=ADDR host=NAME
 *	SID smtp failed-command command="RCPT TO:<x>" result="550 Invalid ..."
 *	SID smtp authentication user=U result=permfail
 *	SID smtp bad-input result="500 5.5.1 Invalid command: Pipelining ..."
 *	SID smtp disconnected reason=quit
 *
 * so a bounded session table (SCAN_KV_SLOTS, a colliding session evicts)
 * maps SID to ADDR; "disconnected" drops the entry. Older formats repeat
 * the address ("SID smtp failed-command address=ADDR host=..." and the
 * 2016 "SID smtp event=failed-command address=ADDR ..."): the first token
 * starting with "address=" - user= (which cannot hold a space) may come
 * before it, command= and result= always after. 5.x:
 *
 *	smtp-in: New session SID from host NAME [ADDR]
 *	smtp-in: Failed command on session SID: "CMD" => 550 ...
 *	smtp-in: Authentication failed for user U on session SID
 *	smtp-in: Closing session SID
 *
 * "local" and unparsable addresses are refused. Temporary failures of our
 * own ("421 4.3.0: Temporary Error", "Temporary failure") are no events.
 */
#include <string.h>

#include "mta/scan_int.h"

static bool is_sid(const char *p, const char *end)
{
	int i;

	if (end - p < 16)
		return false;
	for (i = 0; i < 16; i++)
		if (!sc_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'f'))
			return false;
	return true;
}

/* os_addr - "ADDR" or "[ADDR]" up to the next space (a cut line has none) */
static bool os_addr(const char *p, const char *end, struct cidr *ip)
{
	const char *e = sc_token(p, end);

	if (e >= end)
		return false;
	if (e - p >= 2 && *p == '[' && e[-1] == ']')
		return scan_addr(p + 1, (size_t)(e - p - 2), ip);
	return scan_addr(p, (size_t)(e - p), ip);
}

/*
 * os_reply - the reply after its lead (result=" or " => ") at r: the
 * server's words end where it echoes the client's address ("550 Invalid
 * recipient: <a>"). The lead must occur once in the line, or the client's
 * command text could have supplied it: then NULL (no reason, tag
 * "other"). *rend gets the end of the server's words.
 */
static const char *os_reply(const char *p, const char *end, const char *lead,
			    size_t n, const char **rend)
{
	const char *r = sc_find(p, end, lead, n), *e;

	if (!r || sc_count(p, end, lead, n) != 1)
		return NULL;
	r += n;
	e = memchr(r, '<', (size_t)(end - r));
	*rend = e ? e : end;
	return r;
}

/* os_server_fault - a failure of ours, not the client's */
static bool os_server_fault(const char *p, const char *end)
{
	return FIND(p, end, "Temporary Error") ||
	       FIND(p, end, "Temporary failure") ||
	       FIND(p, end, "temporary failure");
}

static int os_event(const char *what, const char *end, struct scan_event *ev)
{
	const char *r, *re = NULL;

	if (LIT(what, end, "failed-command")) {
		r = os_reply(what, end, " result=\"", 9, &re);
		if (r && (os_server_fault(r, re) || LIT(r, re, "421")))
			return SCAN_NONE;
		scan_classify(ev, r, re);
		return SCAN_EVENT;
	}
	if (LIT(what, end, "authentication")) {
		if (!FIND(what, end, " result=permfail"))
			return SCAN_NONE;
		SCAN_TAG(ev, "auth");
		return SCAN_EVENT;
	}
	if (LIT(what, end, "bad-input")) {
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

/*
 * os_address_field - the token starting with "address=" among those
 * before command=/result=. *n counts them: more than one means a user=
 * value held a space after all, and the caller fails closed.
 */
static const char *os_address_field(const char *p, const char *end, int *n)
{
	const char *q = p, *a = NULL;

	*n = 0;
	while (q && q < end) {
		if (LIT(q, end, "address=")) {
			if (!a)
				a = q + 8;
			(*n)++;
		}
		if (LIT(q, end, "command=") || LIT(q, end, "result="))
			break;
		q = sc_token(q, end);
		q = q < end ? q + 1 : NULL;
	}
	return a;
}

static int os_smtp_in(struct scan_ctx *c, const char *p, const char *end,
		      struct scan_event *ev)
{
	const char *q, *r, *re = NULL;
	struct scan_kv *kv;

	if ((q = LIT(p, end, "New session "))) {
		if (!is_sid(q, end) || !(r = LIT(q + 16, end, " from host ")))
			return SCAN_NONE;
		/* the bracket that ends the line; NAME is the client's DNS */
		r = RFIND(r, end, " [");
		if (!r || end[-1] != ']' ||
		    !scan_addr(r + 2, (size_t)(end - r - 3), &ev->ip))
			return SCAN_NONE;
		kv = scan_kv_put(c, q, 16);
		if (kv)
			kv->ip = ev->ip;
		return SCAN_NONE;
	}
	if ((q = LIT(p, end, "Closing session "))) {
		if (is_sid(q, end))
			scan_kv_del(c, q, 16);
		return SCAN_NONE;
	}
	if ((q = LIT(p, end, "Failed command on session "))) {
		if (!is_sid(q, end) || !LIT(q + 16, end, ": "))
			return SCAN_NONE;
		kv = scan_kv_get(c, q, 16);
		if (!kv)
			return SCAN_UNPARSED;
		r = os_reply(q, end, "\" => ", 5, &re);
		if (r && (os_server_fault(r, re) || LIT(r, re, "421")))
			return SCAN_NONE;
		ev->ip = kv->ip;
		scan_classify(ev, r, re);
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "Authentication failed for user "))) {
		r = RFIND(q, end, " on session ");
		if (!r || !is_sid(r + 12, end) || r + 28 != end)
			return SCAN_NONE;
		kv = scan_kv_get(c, r + 12, 16);
		if (!kv)
			return SCAN_UNPARSED;
		ev->ip = kv->ip;
		SCAN_TAG(ev, "auth");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

int scan_opensmtpd(struct scan_ctx *c, const struct scan_msg *m,
		   struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *what, *a;
	struct scan_kv *kv;
	struct cidr ip;
	int r, n;

	if ((q = LIT(p, end, "smtp-in: ")))
		return os_smtp_in(c, q, end, ev);
	if (!is_sid(p, end) || !(what = LIT(p + 16, end, " smtp ")))
		return SCAN_NONE;
	if (LIT(what, end, "event="))
		what += 6;
	if (LIT(what, end, "connected ")) {
		a = os_address_field(what, end, &n);
		if (!a || n != 1 || !os_addr(a, end, &ev->ip))
			return SCAN_NONE;
		kv = scan_kv_put(c, p, 16);
		if (kv)
			kv->ip = ev->ip;
		return SCAN_NONE;
	}
	if (LIT(what, end, "disconnected")) {
		scan_kv_del(c, p, 16);
		return SCAN_NONE;
	}
	r = os_event(what, end, ev);
	if (r != SCAN_EVENT)
		return r;
	/*
	 * The session's connect line is the source. Formats that repeat
	 * the address must agree with it; without a connect line the
	 * repeated address alone counts (2016-2018 logs cut mid-session).
	 */
	a = os_address_field(what, end, &n);
	if (a && (n != 1 || !os_addr(a, end, &ip)))
		return SCAN_UNPARSED;
	kv = scan_kv_get(c, p, 16);
	if (kv) {
		if (a && memcmp(&ip, &kv->ip, sizeof(ip)))
			return SCAN_UNPARSED;
		ev->ip = kv->ip;
		return SCAN_EVENT;
	}
	if (!a)
		return SCAN_UNPARSED; /* connect line not seen */
	ev->ip = ip;
	return SCAN_EVENT;
}

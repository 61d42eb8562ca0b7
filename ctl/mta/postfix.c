// SPDX-License-Identifier: GPL-2.0
/*
 * scan_postfix.c - Postfix smtpd and postscreen lines.
 *
 * smtpd (program .../smtpd), the client is NAME[ADDR] or NAME[ADDR]:PORT
 * and comes right after fixed server text, before any attacker text:
 *
 *	NOQUEUE: reject: RCPT from NAME[ADDR]: 554 5.7.1 <x>: Relay access
 *	    denied; from=<a> to=<b> proto=ESMTP helo=<h>
 *	QUEUEID: reject: DATA from NAME[ADDR]: ...   (also CONNECT, EHLO, HELO,
 *	    MAIL, VRFY, ETRN, BDAT, END-OF-MESSAGE; milter-reject:)
 *	improper command pipelining after EHLO from NAME[ADDR]: text
 *	too many errors after RCPT from NAME[ADDR]
 *	lost connection after CONNECT from NAME[ADDR]    (CONNECT, EHLO, HELO,
 *	timeout after CONNECT from NAME[ADDR]             STARTTLS, UNKNOWN)
 *	bare <LF> received after DATA from NAME[ADDR]
 *	disconnect from NAME[ADDR] ehlo=1 auth=0/1 quit=1 commands=2/3
 *	warning: NAME[ADDR]: SASL LOGIN authentication failed: text
 *	warning: non-SMTP command from NAME[ADDR]: text
 *	warning: Illegal address syntax from NAME[ADDR] in RCPT command: <a b>
 *	warning: Connection rate limit exceeded: 31 from NAME[ADDR] for service
 *	warning: hostname NAME does not resolve to address ADDR[: text]
 *	warning: ADDR: hostname NAME verification failed: text
 *	warning: ADDR: address not listed for hostname NAME
 *
 * NAME is "unknown" or a host name that Postfix checked for syntax and
 * forward confirmation: it never holds '[', ']' or a space, so the first
 * '[' after "from " opens the address. A space before it fails closed.
 *
 * postscreen (program .../postscreen), client [ADDR]:PORT:
 *
 *	DNSBL rank 3 for [ADDR]:PORT
 *	PREGREET 14 after 0.08 from [ADDR]:PORT: EHLO ylmf-pc\r\n
 *	HANGUP after 0.7 from [ADDR]:PORT in tests after SMTP handshake
 *	COMMAND TIME LIMIT|COUNT LIMIT|LENGTH LIMIT from [ADDR]:PORT after X
 *	COMMAND PIPELINING|NON-SMTP COMMAND|BARE NEWLINE from [ADDR]:PORT ...
 *	DENYLISTED|BLACKLISTED [ADDR]:PORT
 *	NOQUEUE: reject: RCPT from [ADDR]:PORT: 550 5.7.1 Service unavailable;
 *	    client [ADDR] blocked using ZONE; from=<a>, to=<b>, proto=, helo=<>
 *
 * The DNSBL rank line names no zone; postscreen's DNSBL client dnsblog
 * (program .../dnsblog) logged each zone that lists the address before it:
 *
 *	addr ADDR listed by domain ZONE as 127.0.0.2[ 127.0.0.4 ...]
 *
 * The rank line is tagged with those zones (else "dnsbl"); see dnsblog
 * below. Both lines are Postfix's own text: the client writes none of it.
 *
 * cleanup (program .../cleanup): header_checks, body_checks and milters
 * that refuse the message once its content is in. The line names the
 * client only after the rejected header or body text, which the client
 * wrote: the address is never taken from it. The queue id is joined to
 * the client that smtpd logged for it when the message began:
 *
 *	QUEUEID: client=NAME[ADDR][:PORT][, sasl_method=...]   (smtpd)
 *	QUEUEID: reject: header Subject: ... from NAME[ADDR]; from=<a>
 *	    to=<b> proto=ESMTP helo=<h>: 5.7.1 text          (also body,
 *	    content, mime-header, nested-header)
 *	QUEUEID: milter-reject: END-OF-MESSAGE from NAME[ADDR]: 5.7.1 text;
 *	    from=<a> to=<b> proto=ESMTP helo=<h>
 *
 * The join keeps the last SCAN_QIDS queue ids (a ring: the oldest goes
 * first); a queue id it no longer holds yields nothing (fail closed).
 *
 * No event: reject_warning, discard, filter, hold, redirect, proxy-reject
 * (no client field; the only address is the HELO), connect/disconnect,
 * TLS lines, lost connection after MAIL/RCPT/DATA/AUTH (legitimate
 * senders drop too; a failed AUTH is counted once, on its SASL line),
 * and refusals caused by our own state: "too many connections", "all
 * server ports busy", 4.3.x system status replies (lookup failures,
 * configuration errors, no storage).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mxwall.h"
#include "mta/scan_int.h"

/*
 * pf_client - "NAME[ADDR]" or "[ADDR]", optionally ":PORT", at p.
 * Returns the byte after it, or NULL (fail closed).
 */
static const char *pf_client(const char *p, const char *end, struct cidr *ip)
{
	const char *q = p, *a, *r;

	while (q < end && *q != '[') {
		if (*q == ' ' || *q == ']')
			return NULL;
		q++;
	}
	if (q >= end || q - p > 255)
		return NULL;
	a = q + 1;
	r = memchr(a, ']', (size_t)(end - a));
	if (!r || !scan_addr(a, (size_t)(r - a), ip))
		return NULL;
	r++;
	if (r < end && *r == ':' && r + 1 < end && sc_digit(r[1]))
		r = sc_digits(r + 1, end);
	return r;
}

/* ---- queue id -> client, for cleanup's rejections ---- */

#define QID_MAX 24 /* long queue ids are 12 to 17 characters */
#define QID_BUCKETS (2 * SCAN_QIDS)

/*
 * The ring holds the last SCAN_QIDS client= lines in the order they came;
 * each bucket chains its entries newest first. Nothing is unlinked: a link
 * carries the sequence number of the entry it points to, and an entry the
 * ring has written over since no longer has it. Since the ring overwrites
 * the oldest first and chains run newest to oldest, the chain ends there
 * (what lies beyond is older still). A taken entry keeps its place in the
 * chain with len 0.
 */
struct pf_link {
	uint32_t seq; /* 0: none */
	uint32_t i;
};

struct pf_qid {
	char id[QID_MAX];
	uint8_t len; /* 0: taken */
	uint32_t seq;
	struct pf_link next;
	struct cidr ip;
};

struct pf_qids {
	struct pf_qid ring[SCAN_QIDS];
	struct pf_link head[QID_BUCKETS];
	uint32_t pos; /* the next slot to write: the oldest */
	uint32_t seq; /* of the last entry written */
};

void scan_postfix_free(struct scan_ctx *c)
{
	free(c->qids);
	c->qids = NULL;
	free(c->dnsblog);
	c->dnsblog = NULL;
}

static uint32_t qid_hash(const char *k, size_t n)
{
	return scan_hash(k, n) % QID_BUCKETS;
}

static void qid_put(struct scan_ctx *c, const char *id, size_t n,
		    const struct cidr *ip)
{
	struct pf_qids *q = c->qids;
	struct pf_qid *e;
	uint32_t h;

	if (!q)
		q = c->qids = xcalloc(1, sizeof(*q));
	if (++q->seq == 0) {
		/* 2^32 lines later: start the numbering again, all forgotten */
		memset(q, 0, sizeof(*q));
		q->seq = 1;
	}
	e = &q->ring[q->pos];
	h = qid_hash(id, n);
	memcpy(e->id, id, n);
	e->len = (uint8_t)n;
	e->seq = q->seq;
	e->ip = *ip;
	e->next = q->head[h];
	q->head[h].seq = q->seq;
	q->head[h].i = q->pos;
	q->pos = (q->pos + 1) % SCAN_QIDS;
}

/* qid_take - the client of queue id, forgotten once used */
static bool qid_take(struct scan_ctx *c, const char *id, size_t n,
		     struct cidr *ip)
{
	struct pf_qids *q = c->qids;
	struct pf_link l;
	struct pf_qid *e;

	if (!q)
		return false;
	for (l = q->head[qid_hash(id, n)]; l.seq; l = e->next) {
		e = &q->ring[l.i];
		if (e->seq != l.seq)
			break; /* written over: the rest is older still */
		if (e->len == n && !memcmp(e->id, id, n)) {
			*ip = e->ip;
			e->len = 0;
			return true;
		}
	}
	return false;
}

/* queue_id - "QUEUEID: " at p: its length (5 to QID_MAX-1), else 0 */
static size_t queue_id(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && q - p < QID_MAX &&
	       ((*q >= '0' && *q <= '9') || (*q >= 'A' && *q <= 'Z') ||
		(*q >= 'a' && *q <= 'z')))
		q++;
	if (q - p < 5 || q - p >= QID_MAX || !LIT(q, end, ": "))
		return 0;
	return (size_t)(q - p);
}

/* pf_verb - an SMTP stage word: CONNECT, RCPT, END-OF-MESSAGE, . */
static const char *pf_verb(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && ((*q >= 'A' && *q <= 'Z') || *q == '-' || *q == '.'))
		q++;
	return q > p && q - p <= 20 ? q : NULL;
}

/* a stage after which a dropped session never tried to send mail */
static bool early_stage(const char *p, const char *e)
{
	size_t n = (size_t)(e - p);

	return (n == 7 && !memcmp(p, "CONNECT", 7)) ||
	       (n == 4 && (!memcmp(p, "EHLO", 4) || !memcmp(p, "HELO", 4))) ||
	       (n == 8 && !memcmp(p, "STARTTLS", 8)) ||
	       (n == 7 && !memcmp(p, "UNKNOWN", 7));
}

/*
 * server_state - a refusal that says our server is busy or broken: the
 * reply "NNN 4.3.x" at p, or those words in Postfix's reason [r, rend)
 * (never in the client's echo or envelope)
 */
static bool server_state(const char *p, const char *r, const char *rend)
{
	const char *d = p + 4; /* after "NNN " */

	if (p[0] == '4' && d[0] == '4' && d[1] == '.' && d[2] == '3' &&
	    d[3] == '.')
		return true;
	return FIND(r, rend, "too many connections") ||
	       FIND(r, rend, "all server ports busy") ||
	       FIND(r, rend, "Server configuration") ||
	       FIND(r, rend, "Temporary lookup failure") ||
	       FIND(r, rend, "Insufficient system storage");
}

/*
 * pf_reason - Postfix's reason inside the reply "NNN[ X.Y.Z] TEXT; from=<..."
 * at p: [*rs, return). TEXT is either Postfix's own words ("Service
 * unavailable; Client host [ADDR] blocked using ZONE", "Client host
 * rejected: ...") or "<ECHO>: KIND rejected: reason" / "<ECHO>: Relay
 * access denied", where ECHO is the client's recipient, sender or HELO:
 * the reason starts after it. The envelope Postfix appends (from=<>, to=<>,
 * helo=<>) is the client's too. A quoted ECHO may hold '>' and ": ", a
 * HELO may hold '>' unquoted, and the same text comes back in the
 * envelope: a line with ">: " anywhere but after its one echo could be
 * cut two ways and gives no reason (tag "other", which counts: a client
 * cannot talk its way into a tag that does not). NULL: no reason.
 */
static const char *pf_reason(const char *p, const char *end, const char **rs)
{
	const char *q = p + 4, *e, *r;

	/* an enhanced status code "X.Y.Z " */
	if (end - q >= 6 && sc_digit(q[0]) && q[1] == '.') {
		r = sc_token(q, end);
		if (r < end && r - q <= 12)
			q = r + 1;
	}
	if (q < end && *q == '<') {
		e = scan_echo_end(q, end);
		if (!e || !LIT(e, end, ": ") || COUNT(p, end, ">: ") != 1)
			return NULL;
		q = e + 2;
	}
	*rs = q;
	/* the first envelope field after the reason ends it */
	if (!(r = FIND(q, end, "; from=<")) && !(r = FIND(q, end, "; to=<")) &&
	    !(r = FIND(q, end, "; proto=")))
		r = end;
	return q == p + 4 || scan_echo_closed(q, r) ? r : NULL;
}

/*
 * scan_postfix_reject - after "reject: " or "milter-reject: ":
 * "STAGE from CLIENT: NNN reply; from=<...> to=<...> ...".
 */
int scan_postfix_reject(struct scan_ctx *c, const char *p, const char *end,
			struct scan_event *ev)
{
	const char *q, *reply, *rend, *rs, *to, *te;

	q = pf_verb(p, end);
	q = LIT(q, end, " from ");
	if (!q)
		return SCAN_UNPARSED;
	q = pf_client(q, end, &ev->ip);
	reply = LIT(q, end, ": ");
	if (!reply)
		return SCAN_UNPARSED;
	/* postscreen overload: no reply code */
	if (!(end - reply >= 4 && (reply[0] == '4' || reply[0] == '5') &&
	      sc_digit(reply[1]) && sc_digit(reply[2]) && reply[3] == ' '))
		return SCAN_NONE;
	rend = pf_reason(reply, end, &rs);
	if (server_state(reply, rend ? rs : reply, rend ? rend : reply))
		return SCAN_NONE;
	if (rend)
		scan_classify(ev, rs, rend);
	else
		rend = reply;
	if (c->ntraps) {
		to = FIND(rend, end, " to=<");
		if (to) {
			to += 4;
			te = memchr(to, '>', (size_t)(end - to));
			if (te)
				scan_spamtrap(c, ev, to, (size_t)(te - to + 1));
		}
	}
	return SCAN_EVENT;
}

/* after_from - "VERB[ (N bytes)] from CLIENT" at p; stage in [*v, *ve) */
static const char *after_from(const char *p, const char *end, struct cidr *ip,
			      const char **ve)
{
	const char *q = pf_verb(p, end);

	*ve = q;
	if (q && q < end && *q == ' ' && q + 1 < end && q[1] == '(') {
		q = memchr(q, ')', (size_t)(end - q));
		if (q)
			q++;
	}
	q = LIT(q, end, " from ");
	return q ? pf_client(q, end, ip) : NULL;
}

/* SASL de-duplication key: the smtpd process, one session at a time */
static size_t sasl_key(char *k, uint32_t pid)
{
	size_t n = 0;
	char d[12];
	int i = 0;

	k[n++] = 'p';
	k[n++] = 'f';
	do {
		d[i++] = (char)('0' + pid % 10);
		pid /= 10;
	} while (pid);
	while (i)
		k[n++] = d[--i];
	return n;
}

/* smtpd's anvil warnings (smtpd.c): "<kind> limit exceeded: N from ..." */
static const char *const anvil_limits[] = {
    "Connection rate limit exceeded: ",
    "Connection concurrency limit exceeded: ",
    "Message delivery request rate limit exceeded: ",
    "Recipient address rate limit exceeded: ",
    "New TLS session rate limit exceeded: ",
    "New auth rate limit exceeded: ",
};

static int pf_warning(struct scan_ctx *c, const struct scan_msg *m,
		      const char *p, const char *end, struct scan_event *ev)
{
	const char *q, *a, *r;
	struct scan_kv *kv;
	char key[16];
	size_t i;

	if ((q = LIT(p, end, "non-SMTP command from ")) ||
	    (q = LIT(p, end, "Illegal address syntax from "))) {
		if (!pf_client(q, end, &ev->ip))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "hostname "))) {
		/* hostname NAME does not resolve to address ADDR[: text] */
		q = sc_token(q, end);
		q = LIT(q, end, " does not resolve to address ");
		if (!q)
			return SCAN_NONE;
		if (SCAN_CUT_RISK(m))
			return SCAN_UNPARSED; /* the address may end the line */
		a = q;
		while (q < end && *q != ':' && *q != ' ')
			q++;
		/* an IPv6 address holds ':' - it ends at ": " or the end */
		while (q < end && *q == ':' && !(q + 1 == end || q[1] == ' ')) {
			q++;
			while (q < end && *q != ':' && *q != ' ')
				q++;
		}
		if (!scan_addr(a, (size_t)(q - a), &ev->ip))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "baddns");
		return SCAN_EVENT;
	}
	/* ADDR: hostname NAME verification failed / address not listed */
	q = p;
	while (q < end && *q != ' ')
		q++;
	if (q - p > 2 && q[-1] == ':' && q < end &&
	    (LIT(q, end, " hostname ") || LIT(q, end, " address not listed"))) {
		if (!FIND(q, end, " verification failed") &&
		    !LIT(q, end, " address not listed for hostname "))
			return SCAN_NONE;
		if (!scan_addr(p, (size_t)(q - 1 - p), &ev->ip))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "baddns");
		return SCAN_EVENT;
	}
	/*
	 * "KIND limit exceeded: N from CLIENT for service X" (anvil limits):
	 * KIND is one of smtpd's own words, matched from the start of the
	 * warning, so that no text a client chose (a SASL failure's reason)
	 * can put an address of its choice after a " limit exceeded: "
	 */
	q = NULL;
	for (i = 0; !q && i < ARRAY_SIZE(anvil_limits); i++)
		q = sc_lit(p, end, anvil_limits[i], strlen(anvil_limits[i]));
	if (q) {
		q = sc_digits(q, end);
		q = LIT(q, end, " from ");
		if (!q || !pf_client(q, end, &ev->ip))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "other");
		return SCAN_EVENT;
	}
	/* CLIENT: SASL MECH authentication failed: reason */
	r = pf_client(p, end, &ev->ip);
	q = LIT(r, end, ": SASL ");
	if (!q)
		return SCAN_NONE;
	q = sc_token(q, end);
	q = LIT(q, end, " authentication failed");
	if (!q)
		return SCAN_NONE;
	/* our auth server died: not the client's doing */
	if (FIND(q, end, "Connection lost to authentication server"))
		return SCAN_NONE;
	kv = scan_kv_put(c, key, sasl_key(key, m->pid));
	if (kv)
		kv->ip = ev->ip;
	SCAN_TAG(ev, "auth");
	return SCAN_EVENT;
}

int scan_postfix_smtpd(struct scan_ctx *c, const struct scan_msg *m,
		       struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *v, *ve;
	struct scan_kv *kv;
	char key[16];

	if (p >= end)
		return SCAN_NONE;
	/* the common lines first: they are most of a busy log */
	if ((q = LIT(p, end, "connect from ")))
		return SCAN_NONE;
	if ((q = LIT(p, end, "disconnect from "))) {
		/* a failed AUTH that no SASL line of this process told us */
		q = pf_client(q, end, &ev->ip);
		if (!q)
			return SCAN_NONE;
		if (!FIND(q, end, " auth=0/"))
			return SCAN_NONE;
		kv = scan_kv_get(c, key, sasl_key(key, m->pid));
		if (kv) {
			bool same = !memcmp(&kv->ip, &ev->ip, sizeof(ev->ip));

			memset(kv, 0, sizeof(*kv));
			if (same)
				return SCAN_NONE;
		}
		SCAN_TAG(ev, "auth");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "warning: ")))
		return pf_warning(c, m, q, end, ev);
	/* "NOQUEUE: " or "QUEUEID: " */
	if ((q = LIT(p, end, "NOQUEUE: "))) {
		p = q;
	} else {
		size_t n = queue_id(p, end);

		if (n) {
			/* QUEUEID: client=CLIENT: for cleanup's lines */
			q = LIT(p + n + 2, end, "client=");
			if (q) {
				if (pf_client(q, end, &ev->ip))
					qid_put(c, p, n, &ev->ip);
				return SCAN_NONE;
			}
			p += n + 2;
		}
	}
	if ((q = LIT(p, end, "reject: ")) ||
	    (q = LIT(p, end, "milter-reject: ")))
		return scan_postfix_reject(c, q, end, ev);
	if ((q = LIT(p, end, "improper command pipelining after ")) ||
	    (q = LIT(p, end, "too many errors after ")) ||
	    (q = LIT(p, end, "bare <LF> received after "))) {
		if (!after_from(q, end, &ev->ip, &ve))
			return SCAN_UNPARSED;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	if ((v = LIT(p, end, "lost connection after ")) ||
	    (v = LIT(p, end, "timeout after "))) {
		q = after_from(v, end, &ev->ip, &ve);
		if (!q || !ve || !early_stage(v, ve))
			return SCAN_NONE;
		SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	return SCAN_NONE;
}

int scan_postfix_cleanup(struct scan_ctx *c, const struct scan_msg *m,
			 struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *t, *te;
	size_t n = queue_id(p, end);

	if (!n)
		return SCAN_NONE;
	q = p + n + 2;
	if ((t = LIT(q, end, "reject: "))) {
		/* CLASS TEXT from CLIENT; from=<> ... helo=<h>: REPLY */
		const char *cls = t;

		t = sc_token(t, end);
		if (!t || t == cls || t - cls > 16)
			return SCAN_NONE;
		/* the reply is the administrator's text after the envelope */
		te = RFIND(t, end, ">: ");
		t = te ? te + 3 : end;
		te = end;
	} else if ((t = LIT(q, end, "milter-reject: "))) {
		/* the milter's reply comes before the envelope */
		te = FIND(t, end, "; from=<");
		if (!te)
			te = end;
		q = FIND(t, te, ": ");
		t = q ? q + 2 : te;
	} else {
		return SCAN_NONE; /* discard, hold, redirect, warning, ... */
	}
	/* "4.3.x" without a reply code here: our own state, as in smtpd */
	if (LIT(t, te, "4.3.") || (te - t >= 8 && server_state(t, t, te)))
		return SCAN_NONE;
	if (!qid_take(c, p, n, &ev->ip))
		return SCAN_UNPARSED; /* no smtpd client for it (any more) */
	SCAN_TAG(ev, "content");
	scan_classify(ev, t, te);
	return SCAN_EVENT;
}

/* ---- dnsblog's listings, for postscreen's DNSBL rank ---- */

/*
 * The last PF_LISTED "listed by domain" lines, a ring (the oldest goes
 * first). A rank line takes from it the zones that listed its address at
 * most PF_LISTED_AGE seconds before (postscreen waits seconds for the
 * answers: its greet wait, its DNSBL timeout), each listing once: one that
 * did not cross the threshold long ago names no later rank. A listing by
 * an allowlist zone (negative weight) names the rank too when the sum
 * still crossed the threshold.
 */
#define PF_LISTED 256
#define PF_LISTED_AGE 120

struct pf_listed {
	struct cidr ip;
	int64_t time;  /* 0: the line had no time stamp */
	char zone[48]; /* lower case, as scan_zone_tag writes it */
	bool used;
};

struct pf_dnsblog {
	struct pf_listed ring[PF_LISTED];
	uint32_t pos; /* the next slot to write: the oldest */
};

int scan_postfix_dnsblog(struct scan_ctx *c, const struct scan_msg *m,
			 struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *a, *q, *as;
	struct scan_event z;
	struct pf_listed *e;
	struct cidr ip;

	(void)ev;
	a = LIT(p, end, "addr ");
	q = a ? memchr(a, ' ', (size_t)(end - a)) : NULL;
	if (!q || !scan_addr(a, (size_t)(q - a), &ip))
		return SCAN_NONE;
	q = LIT(q, end, " listed by domain ");
	as = FIND(q, end, " as ");
	memset(&z, 0, sizeof(z));
	if (!as || !scan_zone_tag(&z, q, as) ||
	    strlen(z.tags) >= sizeof(e->zone))
		return SCAN_NONE;
	if (!c->dnsblog)
		c->dnsblog = xcalloc(1, sizeof(*c->dnsblog));
	e = &c->dnsblog->ring[c->dnsblog->pos];
	c->dnsblog->pos = (c->dnsblog->pos + 1) % PF_LISTED;
	e->ip = ip;
	e->time = m->time;
	memcpy(e->zone, z.tags, strlen(z.tags) + 1);
	e->used = false;
	return SCAN_NONE;
}

/* rank_zones - tag ev with the zones that listed its address; any? */
static bool rank_zones(struct scan_ctx *c, const struct scan_msg *m,
		       struct scan_event *ev)
{
	bool any = false;
	size_t i;

	if (!c->dnsblog)
		return false;
	for (i = 0; i < PF_LISTED; i++) {
		struct pf_listed *e = &c->dnsblog->ring[i];

		if (e->used || !e->zone[0] ||
		    memcmp(&e->ip, &ev->ip, sizeof(ev->ip)))
			continue;
		if (m->time && e->time &&
		    (e->time > m->time || m->time - e->time > PF_LISTED_AGE))
			continue;
		e->used = true;
		scan_tag(ev, e->zone, strlen(e->zone));
		any = true;
	}
	return any;
}

int scan_postscreen(struct scan_ctx *c, const struct scan_msg *m,
		    struct scan_event *ev)
{
	static const struct {
		const char *lead;
		uint8_t len;
		const char *tag;
	} shapes[] = {
#define S(l, t) {l, sizeof(l) - 1, t}
	    S("COMMAND TIME LIMIT from ", "protocol"),
	    S("COMMAND COUNT LIMIT from ", "protocol"),
	    S("COMMAND LENGTH LIMIT from ", "protocol"),
	    S("COMMAND PIPELINING from ", "protocol"),
	    S("NON-SMTP COMMAND from ", "protocol"),
	    S("BARE NEWLINE from ", "protocol"),
	    S("DENYLISTED ", "other"),
	    S("BLACKLISTED ", "other"),
#undef S
	};
	const char *p = m->p, *end = m->end, *q;
	size_t i;

	if (p >= end)
		return SCAN_NONE;
	if ((q = LIT(p, end, "DNSBL rank "))) {
		q = sc_digits(q, end);
		q = LIT(q, end, " for ");
		if (!q || !pf_client(q, end, &ev->ip))
			return SCAN_UNPARSED;
		if (!rank_zones(c, m, ev))
			SCAN_TAG(ev, "dnsbl");
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "PREGREET ")) || (q = LIT(p, end, "HANGUP "))) {
		bool pregreet = *p == 'P';

		if (pregreet) {
			q = sc_digits(q, end);
			q = LIT(q, end, " ");
		}
		/* "after SECONDS from " */
		q = LIT(q, end, "after ");
		while (q && q < end && (sc_digit(*q) || *q == '.'))
			q++;
		q = LIT(q, end, " from ");
		if (!q || !pf_client(q, end, &ev->ip))
			return SCAN_UNPARSED;
		if (pregreet)
			SCAN_TAG(ev, "pregreet");
		else
			SCAN_TAG(ev, "protocol");
		return SCAN_EVENT;
	}
	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		q = sc_lit(p, end, shapes[i].lead, shapes[i].len);
		if (!q)
			continue;
		if (!pf_client(q, end, &ev->ip))
			return SCAN_UNPARSED;
		scan_tag(ev, shapes[i].tag, strlen(shapes[i].tag));
		return SCAN_EVENT;
	}
	if ((q = LIT(p, end, "NOQUEUE: reject: ")))
		return scan_postfix_reject(c, q, end, ev);
	return SCAN_NONE;
}

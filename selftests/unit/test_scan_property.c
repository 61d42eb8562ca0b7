// SPDX-License-Identifier: GPL-2.0
/*
 * test_scan_property.c - a property of the log scanner, checked on
 * thousands of generated lines: whatever a client writes into the fields
 * it controls (HELO, MAIL FROM, RCPT TO, its reverse name, the AUTH user,
 * command text), a rejection line yields exactly the real client's address
 * or nothing; never another address. And the reason tags come from what
 * the MTA wrote, never from those fields: a hostile line yields the tags
 * the same line yields with harmless fields, or "other" where the
 * client's text makes the reason unreadable (a tag that counts), never a
 * tag of the client's choosing ("blocked using zen.example" in a
 * recipient, "greylist" in an address).
 *
 * For every MTA the scanner supports, line templates in the shapes the MTA
 * writes (one or two lines: OpenSMTPD and Sendmail keep state across
 * lines) have their attacker-controlled fields filled with hostile strings
 * built from fragments: addresses in every spelling (bare, bracketed, with
 * port, IPv6:, v4-mapped), brackets and parentheses, the keywords parsers
 * look for (client=, from, relay=, H=, address=, helo=, user=, ...),
 * escaped and raw control characters, escape sequences, invalid UTF-8 and
 * very long runs. Each case runs in a fresh scanner and again in one
 * long-lived scanner (cross-line state). Every template is first checked
 * with harmless fields: it must yield the real client, or the property
 * would hold vacuously.
 *
 * usage: test_scan_property [CASES_PER_TEMPLATE [SEED]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mxwall.h"
#include "mta/scan.h"
#include "test.h"
#include "watch/rdwire.h"

#define REF 1124013600 /* 2005-08-14T10:00:00Z */
#define FIELD_MAX 6000

static uint64_t rng_state = 20261123;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int rn(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

/*
 * Templates. Placeholders: {C} the client as this MTA writes it,
 * {P} its port, {S} a session or queue id, and the attacker's fields
 * {H} HELO, {F} MAIL FROM, {T} RCPT TO, {R} reverse name, {U} AUTH user.
 * A '\n' separates two lines fed in order.
 */
enum spell { SP_PLAIN, SP_SENDMAIL, SP_COURIER, SP_OPENSMTPD };

struct tmpl {
	const char *name;
	enum spell spell;
	bool v6; /* the MTA logs IPv6 clients in this shape */
	const char *text;
};

#define PF "Aug 14 09:00:00 mx postfix/smtpd[100]: "
#define PS "Aug 14 09:00:00 mx postfix/postscreen[200]: "
#define EX "2026-11-23 06:55:04 "
#define SM "Aug 14 09:00:00 mx sm-mta[300]: {S}: "
#define SMP "Aug 14 09:00:00 mx sm-mta[300]: "
#define OS "Aug 14 09:00:00 mx smtpd[400]: "

static const struct tmpl tmpls[] = {
    {"postfix relay", SP_PLAIN, true,
     PF "NOQUEUE: reject: RCPT from {R}[{C}]: 554 5.7.1 <{T}>: Relay access "
	"denied; from=<{F}> to=<{T}> proto=ESMTP helo=<{H}>"},
    {"postfix relay with port", SP_PLAIN, true,
     PF "NOQUEUE: reject: RCPT from {R}[{C}]:{P}: 554 5.7.1 <{T}>: Relay "
	"access denied; from=<{F}> to=<{T}> proto=ESMTP helo=<{H}>"},
    {"postfix bad helo", SP_PLAIN, true,
     PF "NOQUEUE: reject: EHLO from {R}[{C}]: 504 5.5.2 <{H}>: Helo command "
	"rejected: need fully-qualified hostname; proto=SMTP helo=<{H}>"},
    {"postfix unknown user", SP_PLAIN, true,
     PF "4104E3D: reject: RCPT from {R}[{C}]: 550 5.1.1 <{T}>: Recipient "
	"address rejected: User unknown in local recipient table; from=<{F}> "
	"to=<{T}> proto=ESMTP helo=<{H}>"},
    {"postfix bad sender", SP_PLAIN, true,
     PF "NOQUEUE: reject: MAIL from {R}[{C}]: 450 4.1.8 <{F}>: Sender address "
	"rejected: Domain not found; from=<{F}> proto=ESMTP helo=<{H}>"},
    {"postfix dnsbl", SP_PLAIN, true,
     PF "NOQUEUE: reject: RCPT from {R}[{C}]: 554 5.7.1 Service unavailable; "
	"Client host [{C}] blocked using zen.spamhaus.org; from=<{F}> to=<{T}> "
	"proto=ESMTP helo=<{H}>"},
    {"postfix sasl", SP_PLAIN, true,
     PF "warning: {R}[{C}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, "
	"sasl_username={U}"},
    {"postfix pipelining", SP_PLAIN, true,
     PF "improper command pipelining after EHLO from {R}[{C}]: MAIL "
	"FROM:<{F}>\\r\\nRCPT TO:<{T}>\\r\\n"},
    {"postfix non-smtp", SP_PLAIN, true,
     PF "warning: non-SMTP command from {R}[{C}]: {H}"},
    {"postfix too many errors", SP_PLAIN, true,
     PF "too many errors after RCPT from {R}[{C}]"},
    {"postscreen pregreet", SP_PLAIN, true,
     PS "PREGREET 14 after 0.08 from [{C}]:{P}: EHLO {H}\\r\\n"},
    {"postscreen pipelining", SP_PLAIN, true,
     PS "COMMAND PIPELINING from [{C}]:{P} after EHLO: {H}\\r\\n"},
    {"postscreen dnsbl reject", SP_PLAIN, true,
     PS "NOQUEUE: reject: RCPT from [{C}]:{P}: 550 5.7.1 Service unavailable; "
	"client [{C}] blocked using zen.spamhaus.org; from=<{F}>, to=<{T}>, "
	"proto=ESMTP, helo=<{H}>"},
    {"exim relay", SP_PLAIN, true,
     EX "H={R} ({H}) [{C}]:{P} I=[198.51.100.1]:25 F=<{F}> rejected RCPT "
	"<{T}>: relay not permitted"},
    {"exim unknown user", SP_PLAIN, true,
     EX "H=({H}) [{C}] F=<{F}> rejected RCPT <{T}>: Unknown user"},
    {"exim bad ehlo", SP_PLAIN, true,
     EX "rejected EHLO from [{C}]: syntactically invalid argument(s): {H}"},
    {"exim auth", SP_PLAIN, true,
     EX "dovecot_login authenticator failed for ({H}) [{C}]:{P} "
	"I=[198.51.100.1]:465: 535 Incorrect authentication data (set_id={U})"},
    {"exim call dropped", SP_PLAIN, true,
     EX "SMTP call from ({H}) [{C}]:{P} I=[198.51.100.1]:25 dropped: too many "
	"nonmail commands (last was \"{T}\")"},
    {"exim no MAIL", SP_PLAIN, true,
     EX "no MAIL in SMTP connection from {R} [{C}]:{P} I=[198.51.100.1]:25 "
	"D=21s C=EHLO,STARTTLS"},
    {"exim after DATA", SP_PLAIN, true,
     EX "1Unmew-0000ea-SE H={R} [{C}]:{P} I=[198.51.100.1]:25 F=<{F}> rejected "
	"after DATA: This message contains a virus"},
    {"sendmail relay", SP_SENDMAIL, true,
     SM "ruleset=check_rcpt, arg1=<{T}>, relay={R} [{C}], reject=550 5.7.1 "
	"<{T}>... Relaying denied. Proper authentication required."},
    {"sendmail relay may be forged", SP_SENDMAIL, true,
     SM "ruleset=check_rcpt, arg1=<{T}>, relay={R} [{C}] (may be forged), "
	"reject=550 5.7.1 <{T}>... Relaying denied."},
    {"sendmail auth", SP_SENDMAIL, true,
     SM "AUTH failure (LOGIN): authentication failure (-13) SASL(-13): "
	"authentication failure: checkpass failed, user={U}, relay={R} [{C}]"},
    {"sendmail lost input", SP_SENDMAIL, true,
     SM "lost input channel from {R} [{C}] to MTA-v4 after rcpt"},
    {"sendmail expn", SP_SENDMAIL, true, SM "{R} [{C}]: EXPN {T} [rejected]"},
    {"sendmail no MAIL", SP_SENDMAIL, true,
     SM "{R} [{C}] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA"},
    {"sendmail pending unknown user", SP_SENDMAIL, true,
     SMP "{S}: <trap@example.org>... No such user here\n" SMP
	 "{S}: from=<{F}>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, "
	 "relay={R} [{C}]"},
    {"opensmtpd failed command", SP_OPENSMTPD, false,
     OS "{S} smtp connected address={C} host={R}\n" OS
	"{S} smtp failed-command command=\"RCPT TO:<{T}>\" result=\"550 "
	"Invalid recipient: <{T}>\""},
    {"opensmtpd auth", SP_OPENSMTPD, false,
     OS "{S} smtp connected address={C} host={R}\n" OS
	"{S} smtp authentication user={U} result=permfail"},
    {"opensmtpd helo command", SP_OPENSMTPD, false,
     OS "{S} smtp connected address={C} host={R}\n" OS
	"{S} smtp failed-command command=\"HELO {H}\" result=\"501 5.5.4 "
	"Invalid argument\""},
    {"opensmtpd 2016", SP_OPENSMTPD, false,
     OS "{S} smtp event=failed-command address={C} host={R} command=\"MAIL "
	"FROM:<{F}>\" result=\"550 no\""},
    {"postgrey", SP_PLAIN, true,
     "Aug 14 09:00:00 mx postgrey[919]: action=greylist, reason=new, "
     "client_name={R}, client_address={C}, sender={F}, recipient={T}"},
    {"courier", SP_COURIER, true,
     "Aug 14 09:00:00 mx courieresmtpd: "
     "error,relay={C},ident={U},from=<{F}>,to=<{T}>: 550 User unknown."},
};

#define NTMPL ARRAY_SIZE(tmpls)

/* hostile fragments: everything a parser might anchor on */
static const char *const frags[] = {
    "203.0.113.9",
    "[203.0.113.9]",
    "[203.0.113.9]:25",
    "203.0.113.9]",
    "[203.0.113.9",
    "(203.0.113.9)",
    "<203.0.113.9>",
    "IPv6:2001:db8:bad::9",
    "[IPv6:2001:db8:bad::9]",
    "[2001:db8:bad::9]",
    "2001:db8:bad::9",
    "::ffff:203.0.113.9",
    "[::ffff:203.0.113.9]",
    "203.0.113.9:4711",
    "unknown[203.0.113.9]",
    "x.example[203.0.113.9]:25",
    "x [203.0.113.9]",
    "client=",
    "client=203.0.113.9",
    "client [203.0.113.9]",
    " from ",
    "from",
    "from=<",
    "RCPT from x[203.0.113.9]: ",
    "relay=",
    "relay=[203.0.113.9]",
    "relay=x [203.0.113.9]",
    "H=",
    "H=(x) [203.0.113.9]",
    "H=x [203.0.113.9]:25 I=[198.51.100.1]:25",
    "address=",
    "address=203.0.113.9",
    "client_address=203.0.113.9",
    "client_name=",
    "helo=<",
    "F=<",
    "I=[",
    "user=",
    "sasl_username=",
    "arg2=203.0.113.9",
    "(may be forged)",
    "NOQUEUE: reject: ",
    "rejected RCPT ",
    "blocked using zen.example",
    "\"blocked using t1.example\"@x",
    "greylist",
    "Greylisted",
    ">: Recipient address rejected: Greylisted",
    ">... greylisted ",
    ": greylisted",
    "User unknown",
    "Relay access denied",
    "Helo command rejected",
    "authentication failed",
    "dynamic",
    "listed at bl.example",
    "found in dnsbl dnsbl.example",
    " result=\"451 greylisted",
    "\" => 451 greylisted",
    ",msg=\"451 greylisted\"",
    "Client host [203.0.113.9] blocked using x; ",
    "smtp connected ",
    "connected address=203.0.113.9 host=x",
    "0000000000000bad",
    "; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
    ", reject=550 5.7.1 ",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "\"",
    "'",
    ",",
    ";",
    ":",
    " ",
    "  ",
    "=",
    "\\",
    "\\\"",
    "\\n",
    "\\r\\n",
    "#012",
    "#015",
    "\n",
    "\r",
    "\t",
    "\x1b[31m",
    "\x1b]0;x\x07",
    "\xff\xfe",
    "\xc3\x28",
    "\xe2\x82",
    "postfix/smtpd[1]: ",
    "Aug 14 09:00:00 mx postfix/smtpd[1]: ",
    "mail.example.org",
    "a@b.example",
    "x",
    "",
    "%s%n",
    "$(reboot)",
};

static void put(char *buf, size_t *n, size_t cap, const char *s, size_t len)
{
	if (*n + len >= cap)
		len = cap - 1 - *n;
	memcpy(buf + *n, s, len);
	*n += len;
	buf[*n] = '\0';
}

/* hostile - a field built from random fragments, sometimes very long */
static void hostile(char *out, size_t cap)
{
	unsigned int k, nf = 1 + rn(6), rep;
	size_t n = 0;

	out[0] = '\0';
	for (k = 0; k < nf; k++) {
		const char *f = frags[rn(ARRAY_SIZE(frags))];

		put(out, &n, cap, f, strlen(f));
	}
	switch (rn(12)) {
	case 0: /* a long run of one fragment */
		rep = 50 + rn(400);
		for (k = 0; k < rep; k++) {
			const char *f = frags[k % 3];

			put(out, &n, cap, f, strlen(f));
		}
		break;
	case 1: /* long padding, then an address */
		rep = 200 + rn(4000);
		for (k = 0; k < rep && n + 2 < cap; k++)
			put(out, &n, cap, "x", 1);
		put(out, &n, cap, "[203.0.113.9]", 13);
		break;
	}
}

/*
 * hostile_name - a reverse name: the resolver (glibc res_hnok) and the MTAs
 * accept only host-name characters in a PTR answer, so the attacker picks
 * labels, not brackets or spaces; labels that look like addresses and
 * keywords are allowed ("203.0.113.9", "client", "unknown", ...)
 */
static void hostile_name(char *out, size_t cap)
{
	static const char *const labels[] = {
	    "203.0.113.9", "203",   "0",       "113",	  "9",	 "client",
	    "from",	   "relay", "address", "unknown", "h",	 "ipv6",
	    "ffff",	   "x-y",   "mail",    "example", "org", "2001",
	    "db8",	   "bad",   "helo",    "smtp",
	};
	unsigned int k, n = 1 + rn(8);
	size_t len = 0;

	out[0] = '\0';
	for (k = 0; k < n; k++) {
		const char *l = labels[rn(ARRAY_SIZE(labels))];

		if (k)
			put(out, &len, cap, ".", 1);
		put(out, &len, cap, l, strlen(l));
	}
}

/*
 * vis_user - OpenSMTPD logs the AUTH user through strnvis(VIS_WHITE |
 * VIS_SAFE): white space and control bytes come out as octal escapes
 */
static void vis_user(char *f, size_t cap)
{
	char tmp[FIELD_MAX];
	size_t n = 0, i;

	for (i = 0; f[i] && n + 5 < sizeof(tmp); i++) {
		unsigned char c = (unsigned char)f[i];

		if (c <= ' ' || c == '\\' || c >= 0x7f)
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n,
					      "\\%03o", c);
		else
			tmp[n++] = (char)c;
	}
	tmp[n] = '\0';
	snprintf(f, cap, "%s", tmp);
}

struct vals {
	char client[96]; /* as the MTA writes it */
	char want[64];	 /* canonical text */
	char port[8];
	char sid[24];
	char f[5][FIELD_MAX]; /* H F T R U */
};

static const char fkeys[] = "HFTRU";

static void pick_client(struct vals *v, const struct tmpl *t, int i)
{
	bool v6 = t->v6 && (i & 1);
	unsigned int a = 1 + rn(254), b = 1 + rn(0xfffe);

	if (!v6) {
		snprintf(v->want, sizeof(v->want), "%s.%u",
			 rn(2) ? "192.0.2" : "198.51.100", a);
		if (t->spell == SP_COURIER)
			snprintf(v->client, sizeof(v->client), "::ffff:%s",
				 v->want);
		else
			snprintf(v->client, sizeof(v->client), "%s", v->want);
	} else {
		snprintf(v->want, sizeof(v->want), "2001:db8:c::%x:%x", a, b);
		snprintf(v->client, sizeof(v->client), "%s%s",
			 t->spell == SP_SENDMAIL ? "IPv6:" : "", v->want);
	}
	snprintf(v->port, sizeof(v->port), "%u", 1024 + rn(60000));
	snprintf(v->sid, sizeof(v->sid), "%016llx", (unsigned long long)rnd());
	if (t->spell == SP_SENDMAIL) /* a sendmail queue id */
		snprintf(v->sid, sizeof(v->sid), "s%07uk%06u", rn(10000000),
			 rn(1000000));
}

/* expand - the template with its placeholders filled; returns the length */
static size_t expand(const char *t, const struct vals *v, char *out, size_t cap)
{
	size_t n = 0;
	const char *p, *k;

	out[0] = '\0';
	for (p = t; *p; p++) {
		if (p[0] == '{' && p[1] && p[2] == '}') {
			const char *s = NULL;

			switch (p[1]) {
			case 'C':
				s = v->client;
				break;
			case 'P':
				s = v->port;
				break;
			case 'S':
				s = v->sid;
				break;
			default:
				k = strchr(fkeys, p[1]);
				if (k)
					s = v->f[k - fkeys];
			}
			if (s) {
				put(out, &n, cap, s, strlen(s));
				p += 2;
				continue;
			}
		}
		put(out, &n, cap, *p == '\n' ? "\v" : p, 1);
	}
	return n;
}

/*
 * feed - the expanded text, line by line: the template's line breaks
 * became '\v'; a newline inside a field stays inside its line (syslog and
 * the MTAs escape control characters, so a client cannot end a log line)
 * and reaches the scanner as one more hostile byte. Returns the number of
 * events, or -1 when one of them is not the real client.
 */
static char last_tags[64]; /* the tags of the last event fed */

/*
 * wire_same - the event as the watcher's parent gets it from the reader
 * (rdwire.h) is the event the scanner gave: the split changes nothing
 */
static bool wire_same(const struct scan_event *ev)
{
	struct db_pos pos = {
	    .dev = 1, .inode = 2, .offset = 300, .last_len = 80};
	struct scan_event back;
	struct rd_rec r;
	const char *why = "";

	if (rdwire_encode(ev, 0, &pos, &r) || (r.lines = 1, false) ||
	    !rdwire_check(&r, 1, &why)) {
		printf("# wire refuses %s %s: %s\n", ev->mta, ev->tags, why);
		return false;
	}
	rdwire_event(&r, &back);
	return back.time == ev->time &&
	       !memcmp(&back.ip, &ev->ip, sizeof(ev->ip)) &&
	       !strcmp(back.mta, ev->mta) && !strcmp(back.tags, ev->tags) &&
	       !memcmp(&r.pos, &pos, sizeof(pos));
}

static int feed(struct scanner *s, const char *text, size_t len,
		const char *want, char *got, size_t gotlen)
{
	struct scan_event ev;
	const char *p = text, *e, *end = text + len;
	int n = 0, bad = 0;

	got[0] = '\0';
	while (p <= end) {
		e = memchr(p, '\v', (size_t)(end - p));
		if (!e)
			e = end;
		if (scanner_feed(s, p, (size_t)(e - p), &ev) == 1) {
			char ip[CIDR_STRLEN];

			cidr_format(&ev.ip, ip, sizeof(ip));
			snprintf(last_tags, sizeof(last_tags), "%s", ev.tags);
			n++;
			if (!wire_same(&ev)) {
				snprintf(got, gotlen, "%.*s (wire)",
					 (int)(gotlen > 8 ? gotlen - 8 : 0),
					 ip);
				bad = 1;
			} else if (strcmp(ip, want)) {
				snprintf(got, gotlen, "%s", ip);
				bad = 1;
			} else if (!bad) {
				snprintf(got, gotlen, "%s", ip);
			}
		}
		p = e + 1;
	}
	return bad ? -1 : n;
}

static char line[5 * FIELD_MAX + 4096];
static size_t ncases, nyield, nnothing, nother;
static char want_tags[ARRAY_SIZE(tmpls)][64]; /* with harmless fields */

static void show(const char *line_, size_t len)
{
	size_t i;

	printf("  line: ");
	for (i = 0; i < len && i < 600; i++) {
		unsigned char c = (unsigned char)line_[i];

		if (c == '\n')
			printf("\\n");
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("%s\n", len > 600 ? " ..." : "");
}

/* sanity: each template with harmless fields yields the client */
static void test_templates_valid(void)
{
	static struct vals v;
	static const char *const benign[5] = {
	    "mail.example.org",
	    "alice@example.org",
	    "bob@example.net",
	    "host.example.net",
	    "alice",
	};
	struct scan_opts o = {NULL, 0, REF};
	char got[64];
	size_t i, len;
	int k, fam;

	for (i = 0; i < NTMPL; i++) {
		for (fam = 0; fam < (tmpls[i].v6 ? 2 : 1); fam++) {
			struct scanner *s = scanner_new(&o);
			char desc[128];

			pick_client(&v, &tmpls[i], fam);
			for (k = 0; k < 5; k++)
				snprintf(v.f[k], sizeof(v.f[k]), "%s",
					 benign[k]);
			len = expand(tmpls[i].text, &v, line, sizeof(line));
			snprintf(desc, sizeof(desc),
				 "%s (%s) yields the client", tmpls[i].name,
				 fam ? "IPv6" : "IPv4");
			last_tags[0] = '\0';
			if (feed(s, line, len, v.want, got, sizeof(got)) >= 1 &&
			    !strcmp(got, v.want)) {
				TEST_OK(desc);
				snprintf(want_tags[i], sizeof(want_tags[i]),
					 "%s", last_tags);
			} else {
				TEST_FAIL(desc, "got \"%s\", expected %s", got,
					  v.want);
				show(line, len);
			}
			scanner_free(s);
		}
	}
}

static unsigned long per_template = 300;

/* the property, over generated hostile fields */
static void test_hostile_fields(void)
{
	static struct vals v;
	struct scan_opts o = {NULL, 0, REF};
	struct scanner *shared = scanner_new(&o);
	char got[64], desc[160];
	unsigned long c;
	size_t i, len;
	int k, r1, r2, fails = 0;

	for (i = 0; i < NTMPL; i++) {
		for (c = 0; c < per_template; c++) {
			struct scanner *s = scanner_new(&o);

			pick_client(&v, &tmpls[i], (int)c);
			/* hostile in one field, or in all of them */
			for (k = 0; k < 5; k++)
				snprintf(v.f[k], sizeof(v.f[k]), "%s",
					 (const char *[]){
					     "mx.example.org", "a@example.org",
					     "b@example.net",
					     "host.example.net", "alice"}[k]);
			if (rn(3)) {
				k = (int)rn(5);
				if (k == 3)
					hostile_name(v.f[k], FIELD_MAX);
				else
					hostile(v.f[k], FIELD_MAX);
			} else {
				for (k = 0; k < 5; k++)
					hostile(v.f[k], FIELD_MAX);
				hostile_name(v.f[3], FIELD_MAX);
			}
			if (tmpls[i].spell == SP_OPENSMTPD)
				vis_user(v.f[4], FIELD_MAX);
			len = expand(tmpls[i].text, &v, line, sizeof(line));
			ncases++;
			last_tags[0] = '\0';
			r1 = feed(s, line, len, v.want, got, sizeof(got));
			scanner_free(s);
			snprintf(desc, sizeof(desc),
				 "%s case %lu: the client "
				 "or nothing",
				 tmpls[i].name, c);
			if (r1 < 0) {
				TEST_FAIL(desc, "got %s, real client %s", got,
					  v.want);
				if (++fails < 20)
					show(line, len);
				continue;
			}
			if (r1 && strcmp(last_tags, want_tags[i]) &&
			    strcmp(last_tags, "other")) {
				TEST_FAIL(desc,
					  "tags \"%s\", the MTA's are \"%s\"",
					  last_tags, want_tags[i]);
				if (++fails < 20)
					show(line, len);
				continue;
			}
			if (r1)
				nyield++;
			else
				nnothing++;
			if (r1 && !strcmp(last_tags, "other") &&
			    strcmp(want_tags[i], "other"))
				nother++;
			last_tags[0] = '\0';
			r2 = feed(shared, line, len, v.want, got, sizeof(got));
			if (r2 > 0 && strcmp(last_tags, want_tags[i]) &&
			    strcmp(last_tags, "other")) {
				TEST_FAIL(desc,
					  "long-lived scanner: tags \"%s\", "
					  "the MTA's are \"%s\"",
					  last_tags, want_tags[i]);
				if (++fails < 20)
					show(line, len);
				continue;
			}
			if (r2 < 0) {
				TEST_FAIL(desc,
					  "long-lived scanner: got %s, "
					  "real client %s",
					  got, v.want);
				if (++fails < 20)
					show(line, len);
				continue;
			}
			TEST_OK(desc);
		}
	}
	scanner_free(shared);
	printf("%zu hostile cases over %zu templates: %zu yielded the real "
	       "client (%zu of them as \"other\": reason unreadable), %zu "
	       "nothing, none another address or a tag of the client's "
	       "unless failed above\n",
	       ncases, NTMPL, nyield, nother, nnothing);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		per_template = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		rng_state = strtoull(argv[2], NULL, 10) | 1;
	TEST_RUN(test_templates_valid);
	TEST_RUN(test_hostile_fields);
	return test_finish();
}

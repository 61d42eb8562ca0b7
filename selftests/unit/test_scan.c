// SPDX-License-Identifier: GPL-2.0
/*
 * test_scan.c - the MTA log scanner: one table row per line shape and
 * reason tag for every MTA, hostile lines in which the client writes
 * another address into HELO, MAIL FROM, RCPT TO or command text (the
 * real client or nothing, never the forged one, also for every prefix of
 * the line), time stamps and year inference, cross-line state, and
 * robustness (garbage, binary, NUL, 1 MiB lines, invalid UTF-8), plus
 * every file of the fuzzer's seed corpus.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mxwall.h"
#include "mta/scan.h"
#include "test.h"

#define REF 1124013600 /* 2005-08-14T10:00:00Z, as fail2ban's tests */
#define FORGED "203.0.113.9"

struct row {
	const char *desc;
	const char *line;
	const char *ip; /* NULL: no event */
	const char *mta;
	const char *tags;
};

static const char *const traps[] = {"trap@example.org"};

static struct scanner *new_scanner(void)
{
	struct scan_opts o = {traps, 1, REF};

	return scanner_new(&o);
}

static void check_row(struct scanner *s, const struct row *r)
{
	struct scan_event ev;
	char ip[CIDR_STRLEN];
	int got = scanner_feed(s, r->line, strlen(r->line), &ev);

	if (!r->ip) {
		if (got)
			TEST_FAIL(r->desc, "event %s %s, expected none",
				  cidr_format(&ev.ip, ip, sizeof(ip)), ev.tags);
		else
			TEST_OK(r->desc);
		return;
	}
	if (!got) {
		TEST_FAIL(r->desc, "no event, expected %s", r->ip);
		return;
	}
	ASSERT_STR(cidr_format(&ev.ip, ip, sizeof(ip)), r->ip, r->desc);
	if (r->mta)
		ASSERT_STR(ev.mta, r->mta, r->desc);
	if (r->tags)
		ASSERT_STR(ev.tags, r->tags, r->desc);
	ASSERT_TRUE(ev.tags[0] != '\0', r->desc);
}

static void run_rows(const struct row *rows, size_t n)
{
	struct scanner *s = new_scanner();
	size_t i;

	for (i = 0; i < n; i++)
		check_row(s, &rows[i]);
	scanner_free(s);
}

#define PF "Aug 14 09:00:00 mx postfix/smtpd[100]: "
#define PS "Aug 14 09:00:00 mx postfix/postscreen[200]: "
#define EX "2026-11-23 06:55:04 "
#define SM "Aug 14 09:00:00 mx sm-mta[300]: s1P819mk027713: "
#define OS "Aug 14 09:00:00 mx smtpd[400]: "

static void test_postfix(void)
{
	static const struct row rows[] = {
	    {"relay",
	     PF "NOQUEUE: reject: RCPT from x.example[192.0.2.8]: 554 5.7.1 "
		"<a@example.org>: Relay access denied; from=<b@example.net> "
		"to=<a@example.org> proto=ESMTP helo=<x.example>",
	     "192.0.2.8", "postfix", "relay"},
	    {"dnsbl zone",
	     PF
	     "NOQUEUE: reject: RCPT from x.example[192.0.2.9]: 554 5.7.1 "
	     "Service unavailable; Client host [192.0.2.9] blocked using "
	     "zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.9; "
	     "from=<a@b.example> to=<c@d.example> proto=ESMTP helo=<x>",
	     "192.0.2.9", "postfix", "zen.spamhaus.org"},
	    {"bad-helo",
	     PF "NOQUEUE: reject: EHLO from x.example[192.0.2.10]: 504 5.5.2 "
		"<WIN-ABC>: Helo command rejected: need fully-qualified "
		"hostname; proto=SMTP helo=<WIN-ABC>",
	     "192.0.2.10", NULL, "bad-helo"},
	    {"baddns",
	     PF "NOQUEUE: reject: RCPT from unknown[192.0.2.11]: 450 4.7.1 "
		"Client host rejected: cannot find your reverse hostname, "
		"[192.0.2.11]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
	     "192.0.2.11", NULL, "baddns"},
	    {"unknown-user",
	     PF "4104E3D: reject: RCPT from x[192.0.2.12]: 550 5.1.1 "
		"<c@d.example>: Recipient address rejected: User unknown in "
		"local recipient table; from=<a@b> to=<c@d.example> "
		"proto=ESMTP helo=<x>",
	     "192.0.2.12", NULL, "unknown-user"},
	    {"spamtrap",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.13]: 550 5.1.1 "
		"<trap@example.org>: Recipient address rejected: User unknown; "
		"from=<a@b> to=<Trap@Example.org> proto=ESMTP helo=<x>",
	     "192.0.2.13", NULL, "unknown-user,spamtrap"},
	    {"bad-sender",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.14]: 450 4.1.8 "
		"<a@nx.example>: Sender address rejected: Domain not found; "
		"from=<a@nx.example> to=<c@d> proto=ESMTP helo=<x>",
	     "192.0.2.14", NULL, "bad-sender"},
	    {"dialup",
	     PF "NOQUEUE: reject: CONNECT from dyn-1.example[192.0.2.15]: 550 "
		"5.7.1 Client host rejected: dynamic IP space, use your "
		"provider's relay; proto=SMTP",
	     "192.0.2.15", NULL, "dialup"},
	    {"greylist",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.16]: 450 4.2.0 <c@d>: "
		"Recipient address rejected: Greylisted, see "
		"https://postgrey.example/; from=<a@b> to=<c@d> proto=ESMTP "
		"helo=<x>",
	     "192.0.2.16", NULL, "greylist"},
	    {"other",
	     PF "NOQUEUE: reject: DATA from x[192.0.2.17]: 550 5.5.3 <DATA>: "
		"Data command rejected: Multi-recipient bounce; from=<> "
		"to=<c@d> proto=ESMTP helo=<x>",
	     "192.0.2.17", NULL, "other"},
	    {"milter-reject",
	     PF
	     "1D8CC1CA0A7F: milter-reject: END-OF-MESSAGE from x[192.0.2.18]: "
	     "5.7.1 Blocked; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
	     NULL, NULL, NULL},
	    {"milter-reject code",
	     PF
	     "1D8CC1CA0A7F: milter-reject: DATA from x[192.0.2.18]: 550 5.7.1 "
	     "Command rejected; from=<a@b> to=<c@d> proto=ESMTP helo=<x>",
	     "192.0.2.18", NULL, "other"},
	    {"ipv6 client with port",
	     PF "NOQUEUE: reject: RCPT from unknown[2001:DB8:0:0::25]:4711: "
		"554 5.7.1 <c@d>: Relay access denied; from=<a@b> to=<c@d> "
		"proto=ESMTP helo=<x>",
	     "2001:db8::25", NULL, "relay"},
	    {"v4-mapped",
	     PF "lost connection after CONNECT from unknown[::ffff:192.0.2.19]",
	     "192.0.2.19", NULL, "protocol"},
	    {"pipelining",
	     PF "improper command pipelining after EHLO from "
		"unknown[2001:db8::7]: MAIL FROM:<>\\nRCPT TO:<x>",
	     "2001:db8::7", NULL, "protocol"},
	    {"too many errors",
	     PF "too many errors after RCPT from x.example[192.0.2.20]",
	     "192.0.2.20", NULL, "protocol"},
	    {"timeout after EHLO",
	     PF "timeout after EHLO from unknown[192.0.2.21]", "192.0.2.21",
	     NULL, "protocol"},
	    {"lost after DATA: none",
	     PF "lost connection after DATA (0 bytes) from unknown[192.0.2.22]",
	     NULL, NULL, NULL},
	    {"lost after AUTH: none",
	     PF "lost connection after AUTH from unknown[192.0.2.22]", NULL,
	     NULL, NULL},
	    {"bare LF",
	     PF "bare <LF> received after CONNECT from example.net[192.0.2.23]",
	     "192.0.2.23", NULL, "protocol"},
	    {"SASL",
	     PF "warning: unknown[192.0.2.24]:55729: SASL LOGIN authentication "
		"failed: UGFzc3dvcmQ6, sasl_username=admin",
	     "192.0.2.24", NULL, "auth"},
	    {"SASL dedup on disconnect",
	     "Aug 14 09:00:00 mx postfix/smtpd[100]: disconnect from "
	     "unknown[192.0.2.24] ehlo=1 auth=0/1 quit=1 commands=2/3",
	     NULL, NULL, NULL},
	    {"disconnect auth=0/1",
	     "Aug 14 09:00:00 mx postfix/smtpd[101]: disconnect from "
	     "unknown[192.0.2.25] ehlo=1 auth=0/1 quit=1 commands=2/3",
	     "192.0.2.25", NULL, "auth"},
	    {"disconnect clean",
	     PF "disconnect from unknown[192.0.2.25] ehlo=1 mail=1 rcpt=1 "
		"data=1 quit=1 commands=5",
	     NULL, NULL, NULL},
	    {"auth server died",
	     PF "warning: unknown[192.0.2.26]: SASL LOGIN authentication "
		"failed: Connection lost to authentication server",
	     NULL, NULL, NULL},
	    {"non-SMTP",
	     PF "warning: non-SMTP command from unknown[192.0.2.27]: GET / "
		"HTTP/1.1",
	     "192.0.2.27", NULL, "protocol"},
	    {"rate limit",
	     PF "warning: Connection rate limit exceeded: 31 from "
		"spam.example[192.0.2.28] for service smtp",
	     "192.0.2.28", NULL, "other"},
	    {"rate limit: concurrency",
	     PF "warning: Connection concurrency limit exceeded: 51 from "
		"unknown[192.0.2.30] for service smtp",
	     "192.0.2.30", NULL, "other"},
	    /* a SASL reason is client text: it cannot name another client */
	    {"rate limit words in a SASL failure",
	     PF "warning: unknown[192.0.2.31]: SASL LOGIN authentication "
		"failed: x limit exceeded: 1 from unknown[198.51.100.1] for",
	     "192.0.2.31", NULL, "auth"},
	    {"rate limit words early in another warning",
	     PF "warning: a limit exceeded: 1 from unknown[198.51.100.2] for "
		"service smtp",
	     NULL, NULL, NULL},
	    {"does not resolve",
	     PF "warning: hostname mail.example does not resolve to address "
		"192.0.2.29: Name or service not known",
	     "192.0.2.29", NULL, "baddns"},
	    {"does not resolve v6",
	     PF "warning: hostname mail.example does not resolve to address "
		"2001:db8::29",
	     "2001:db8::29", NULL, "baddns"},
	    {"reject_warning",
	     PF "NOQUEUE: reject_warning: RCPT from x[192.0.2.30]: 554 5.7.1 "
		"<c@d>: Relay access denied; from=<a@b> to=<c@d> proto=ESMTP "
		"helo=<x>",
	     NULL, NULL, NULL},
	    {"lookup failure",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.31]: 451 4.3.0 <c@d>: "
		"Temporary lookup failure; from=<a@b> to=<c@d> proto=ESMTP "
		"helo=<x>",
	     NULL, NULL, NULL},
	    {"unknown client",
	     PF "NOQUEUE: reject: RCPT from unknown[unknown]: 554 5.7.1 <c@d>: "
		"Relay access denied; from=<a@b> to=<c@d>",
	     NULL, NULL, NULL},
	    {"connect", PF "connect from x.example[192.0.2.32]", NULL, NULL,
	     NULL},
	    {"outbound smtp",
	     "Aug 14 09:00:00 mx postfix/smtp[5]: 1234ABCDEF: host "
	     "relay.example[192.0.2.33] said: 450 4.1.8 <a@b>: Sender address "
	     "rejected: Domain not found (in reply to RCPT TO command)",
	     NULL, NULL, NULL},
	    {"renamed service",
	     "Aug 14 09:00:00 mx postfix-smo/submission/smtpd[7]: NOQUEUE: "
	     "reject: RCPT from x[192.0.2.34]: 554 5.7.1 <c@d>: Relay access "
	     "denied; from=<a@b> to=<c@d>",
	     "192.0.2.34", NULL, "relay"},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

static void test_postscreen(void)
{
	static const struct row rows[] = {
	    {"dnsbl rank", PS "DNSBL rank 3 for [192.0.2.40]:41323",
	     "192.0.2.40", "postfix", "dnsbl"},
	    {"pregreet",
	     PS "PREGREET 14 after 0.08 from [192.0.2.41]:59415: EHLO "
		"ylmf-pc\\r\\n",
	     "192.0.2.41", NULL, "pregreet"},
	    {"hangup",
	     PS "HANGUP after 0.7 from [192.0.2.42]:48119 in tests after SMTP "
		"handshake",
	     "192.0.2.42", NULL, "protocol"},
	    {"time limit",
	     PS "COMMAND TIME LIMIT from [192.0.2.43]:3608 after CONNECT",
	     "192.0.2.43", NULL, "protocol"},
	    {"pipelining",
	     PS "COMMAND PIPELINING from [192.0.2.44]:42606 after EHLO: "
		"QUIT\\r\\n",
	     "192.0.2.44", NULL, "protocol"},
	    {"non-smtp",
	     PS "NON-SMTP COMMAND from [2001:db8::45]:45284 after CONNECT: GET "
		"/ HTTP/1.1",
	     "2001:db8::45", NULL, "protocol"},
	    {"bare newline",
	     PS "BARE NEWLINE from [192.0.2.46]:42606 after DATA", "192.0.2.46",
	     NULL, "protocol"},
	    {"denylisted", PS "DENYLISTED [192.0.2.47]:53024", "192.0.2.47",
	     NULL, "other"},
	    {"enforced reject",
	     PS "NOQUEUE: reject: RCPT from [192.0.2.48]:4984: 550 5.7.1 "
		"Service unavailable; client [192.0.2.48] blocked using "
		"b.barracudacentral.org; from=<a@b>, to=<c@d>, proto=ESMTP, "
		"helo=<e>",
	     "192.0.2.48", NULL, "b.barracudacentral.org"},
	    {"protocol error",
	     PS "NOQUEUE: reject: RCPT from [192.0.2.49]:2413: 550 5.5.1 "
		"Protocol error; from=<a@b>, to=<c@d>, proto=SMTP, helo=<x>",
	     "192.0.2.49", NULL, "protocol"},
	    {"overload",
	     PS "NOQUEUE: reject: CONNECT from [192.0.2.50]:1337: too many "
		"connections",
	     NULL, NULL, NULL},
	    {"ports busy",
	     PS "NOQUEUE: reject: CONNECT from [192.0.2.50]:1337: all server "
		"ports busy",
	     NULL, NULL, NULL},
	    {"pass", PS "PASS OLD [192.0.2.51]:53024", NULL, NULL, NULL},
	    {"connect",
	     PS "CONNECT from [192.0.2.51]:53024 to [198.51.100.1]:25", NULL,
	     NULL, NULL},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

#define DL "Aug 14 09:00:00 mx postfix/dnsblog[300]: "
#define DL_LATER "Aug 14 09:05:00 mx postfix/dnsblog[300]: "
#define PS_LATER "Aug 14 09:05:00 mx postfix/postscreen[200]: "

/*
 * postscreen's DNSBL rank names no zone: dnsblog's listings of the same
 * address just before it do (postscreen_dnsbl_action = drop logs no
 * "blocked using"), each used once, none from another address or from
 * long ago; without one the rank is tagged dnsbl
 */
static void test_postscreen_dnsblog(void)
{
	static const struct row rows[] = {
	    {"a listing is no event",
	     DL "addr 192.0.2.60 listed by domain bl.a.example as 127.0.0.2",
	     NULL, NULL, NULL},
	    {"the rank names the zone",
	     PS "DNSBL rank 1 for [192.0.2.60]:41323", "192.0.2.60", "postfix",
	     "bl.a.example"},
	    {"the listing is used up", PS "DNSBL rank 1 for [192.0.2.60]:41324",
	     "192.0.2.60", NULL, "dnsbl"},
	    {"two zones, upper case and a final dot",
	     DL "addr 2001:db8::61 listed by domain Zen.Example.ORG. as "
		"127.0.0.4 127.0.0.10",
	     NULL, NULL, NULL},
	    {"the second zone",
	     DL "addr 2001:db8::61 listed by domain bl.b.example as 127.0.0.2",
	     NULL, NULL, NULL},
	    {"another address listed meanwhile",
	     DL "addr 192.0.2.62 listed by domain other.example as 127.0.0.2",
	     NULL, NULL, NULL},
	    {"the rank names both zones, not the other address's",
	     PS "DNSBL rank 3 for [2001:db8::61]:5000", "2001:db8::61", NULL,
	     "zen.example.org,bl.b.example"},
	    {"a rank without a listing is dnsbl",
	     PS "DNSBL rank 2 for [192.0.2.63]:5000", "192.0.2.63", NULL,
	     "dnsbl"},
	    {"a listing five minutes before the rank",
	     DL "addr 192.0.2.64 listed by domain old.example as 127.0.0.2",
	     NULL, NULL, NULL},
	    {"names no later rank",
	     PS_LATER "DNSBL rank 1 for [192.0.2.64]:5000", "192.0.2.64", NULL,
	     "dnsbl"},
	    {"a listing after the rank",
	     DL_LATER "addr 192.0.2.65 listed by domain late.example as "
		      "127.0.0.2",
	     NULL, NULL, NULL},
	    {"names no earlier rank", PS "DNSBL rank 1 for [192.0.2.65]:5000",
	     "192.0.2.65", NULL, "dnsbl"},
	    {"not a zone: no dot",
	     DL "addr 192.0.2.66 listed by domain localhost as 127.0.0.2", NULL,
	     NULL, NULL},
	    {"not a zone: a space in it",
	     DL "addr 192.0.2.66 listed by domain a b.example as 127.0.0.2",
	     NULL, NULL, NULL},
	    {"not an address",
	     DL "addr 192.0.2.999 listed by domain c.example as 127.0.0.2",
	     NULL, NULL, NULL},
	    {"another dnsblog line",
	     DL "warning: dnsblog_query: lookup error for DNS query "
		"66.2.0.192.d.example: Host or domain name not found",
	     NULL, NULL, NULL},
	    {"none of them names the rank",
	     PS "DNSBL rank 1 for [192.0.2.66]:5000", "192.0.2.66", NULL,
	     "dnsbl"},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

static void test_exim(void)
{
	static const struct row rows[] = {
	    {"rejected RCPT",
	     EX "H=mx.example (helo.example) [192.0.2.51]:50213 "
		"I=[198.51.100.1]:25 F=<a@b.example> rejected RCPT "
		"<c@d.example>: relay not permitted",
	     "192.0.2.51", "exim", "relay"},
	    {"spamtrap",
	     EX "H=(x) [192.0.2.52] F=<a@b> rejected RCPT <trap@example.org>: "
		"Unknown user",
	     "192.0.2.52", NULL, "unknown-user,spamtrap"},
	    {"dnsbl",
	     EX "[2249] H=([192.0.2.53]) [192.0.2.53]:52391 "
		"I=[198.51.100.1]:25 F=<a@b> rejected RCPT <c@d>: rejected "
		"found in dnsbl zen.spamhaus.org",
	     "192.0.2.53", NULL, "zen.spamhaus.org"},
	    {"temporarily rejected greylist",
	     EX "H=(x) [192.0.2.54] F=<a@b> temporarily rejected RCPT <c@d>: "
		"greylisted",
	     "192.0.2.54", NULL, "greylist"},
	    {"callout defer: none",
	     EX "H=(x) [192.0.2.54] F=<a@b> temporarily rejected RCPT <c@d>: "
		"Could not complete recipient verify callout",
	     NULL, NULL, NULL},
	    {"sender verify note: none (the refusal has its own line)",
	     EX "H=(pc01) [192.0.2.55] sender verify fail for <a@b.example>: "
		"Unknown user",
	     NULL, NULL, NULL},
	    {"rejected MAIL: sender verify",
	     EX "H=(pc01) [192.0.2.55] rejected MAIL <a@b.example>: Sender "
		"verify failed",
	     "192.0.2.55", NULL, "bad-sender"},
	    {"rejected RCPT: unrouteable is no such user",
	     EX "H=(pc01) [192.0.2.55]:46767 I=[127.0.0.1]:2525 F=<a@b> "
		"rejected RCPT <nosuchuser@test.example>: Unrouteable address",
	     "192.0.2.55", NULL, "unknown-user"},
	    {"refusal before HELO (connect ACL)",
	     EX "H=[192.0.2.55]:57111 I=[127.0.0.1]:2525 rejected connection "
		"in \"connect\" ACL: Rejected because 192.0.2.55 is in a black "
		"list at zen.example",
	     "192.0.2.55", NULL, "zen.example"},
	    {"rejected EHLO or HELO (ACL)",
	     EX "H=(localhost) [192.0.2.55]:43313 I=[127.0.0.1]:2525 rejected "
		"EHLO or HELO localhost: Invalid HELO name (localhost)",
	     "192.0.2.55", NULL, "bad-helo"},
	    {"rejected MAIL from: no HELO",
	     EX "rejected MAIL from [192.0.2.55]:40115 I=[127.0.0.1]:2525: no "
		"HELO/EHLO given",
	     "192.0.2.55", NULL, "protocol"},
	    {"syntax error",
	     EX "SMTP syntax error in \"MAIL FROM:<x@[203.0.113.9]>\" "
		"H=(c.example) [192.0.2.55]:34445 I=[127.0.0.1]:2525 domain "
		"literals not allowed",
	     "192.0.2.55", NULL, "protocol"},
	    {"unrecognized command",
	     EX "SMTP syntax error in \"FOO H=(x) [203.0.113.9]:25\" "
		"H=(c.example) [192.0.2.55]:54049 I=[127.0.0.1]:2525 "
		"unrecognized command",
	     "192.0.2.55", NULL, "protocol"},
	    {"protocol error: sender not yet given",
	     EX "SMTP protocol error in \"RCPT TO:<v@elsewhere.example>\" "
		"H=[192.0.2.55]:40115 I=[127.0.0.1]:2525 sender not yet given",
	     "192.0.2.55", NULL, "protocol"},
	    {"our broken lookup: none",
	     EX "H=(c.example) [192.0.2.55]:60987 I=[127.0.0.1]:2525 "
		"F=<alice@test.example> temporarily rejected RCPT "
		"<lookupfail@test.example>: failed to open /etc/x for linear "
		"search: No such file or directory",
	     NULL, NULL, NULL},
	    {"auth, Exim 4.97 H= form",
	     EX "dovecot_login authenticator failed for H=(localhost) "
		"[192.0.2.55]:55330: 535 Incorrect authentication data "
		"(set_id=alice@example.com)",
	     "192.0.2.55", NULL, "auth"},
	    {"auth, Exim 4.97 H= form with name and interface",
	     EX "dovecot_login authenticator failed for H=mail.example "
		"(helo.example) [192.0.2.55]:2525 I=[192.0.2.25]:587: 535 "
		"Incorrect authentication data (set_id=x [203.0.113.9])",
	     "192.0.2.55", NULL, "auth"},
	    {"after DATA",
	     EX "1Unmew-0000ea-SE H=x.example [192.0.2.56]:32706 "
		"I=[198.51.100.1]:25 F=<a@b> rejected after DATA: This message "
		"contains a virus",
	     "192.0.2.56", NULL, "other"},
	    {"dropped by ACL",
	     EX
	     "H=[192.0.2.57]:62839 dropped by 'connect' ACL: Country is banned",
	     "192.0.2.57", NULL, "other"},
	    {"bad EHLO",
	     EX "rejected EHLO from [192.0.2.58]: syntactically invalid "
		"argument(s): x y",
	     "192.0.2.58", NULL, "bad-helo"},
	    {"call dropped",
	     EX "SMTP call from (pc01) [192.0.2.59]:3767 I=[198.51.100.1]:25 "
		"dropped: too many nonmail commands (last was \"RSET\")",
	     "192.0.2.59", NULL, "protocol"},
	    {"no MAIL",
	     EX "no MAIL in SMTP connection from x.example [192.0.2.60]:28890 "
		"I=[198.51.100.1]:25 D=21s C=EHLO,STARTTLS",
	     "192.0.2.60", NULL, "protocol"},
	    {"DROP",
	     EX "SMTP connection from (pc01) [192.0.2.61]:44884 "
		"I=[198.51.100.1]:25 closed by DROP in ACL",
	     "192.0.2.61", NULL, "other"},
	    {"connection lost: none",
	     EX "SMTP connection from (pc01) [192.0.2.61]:44884 "
		"I=[198.51.100.1]:25 lost D=1s",
	     NULL, NULL, NULL},
	    {"auth",
	     EX "dovecot_login authenticator failed for (User) "
		"[192.0.2.62]:21298 I=[198.51.100.1]:465 Ci=30416: 535 "
		"Incorrect authentication data (set_id=a@b)",
	     "192.0.2.62", NULL, "auth"},
	    {"auth 435: none",
	     EX "plain authenticator failed for (User) [192.0.2.62]: 435 "
		"Unable to authenticate at present",
	     NULL, NULL, NULL},
	    {"protocol error",
	     EX "SMTP protocol error in \"AUTH LOGIN\" H=(ylmf-pc) "
		"[192.0.2.63]:60723 I=[198.51.100.1]:587 AUTH command used "
		"when not advertised",
	     "192.0.2.63", NULL, "protocol"},
	    {"mech not supported",
	     EX "SMTP protocol error in \"AUTH LOGIN\" H=(User) "
		"[2001:db8::64]:4816 I=[198.51.100.1]:25 Ci=8003 LOGIN "
		"authentication mechanism not supported",
	     "2001:db8::64", NULL, "protocol"},
	    {"sync connection",
	     EX
	     "SMTP protocol synchronization error (input sent without waiting "
	     "for greeting): rejected connection from H=[192.0.2.65]:25936 "
	     "I=[198.51.100.1]:25 input=\"GET / HTTP/1.1\\r\\n\"",
	     "192.0.2.65", NULL, "pregreet"},
	    {"no host name: a note, none",
	     EX "no host name found for IP address 192.0.2.66", NULL, NULL,
	     NULL},
	    {"no IP address: a note, none",
	     EX "no IP address found for host x.example (during SMTP "
		"connection from [192.0.2.67]:49390 I=[198.51.100.1]:25)",
	     NULL, NULL, NULL},
	    {"outbound failure: none",
	     EX
	     "1Ai79e-0000Dq-8i ** x@remote.example R=dnslookup T=remote_smtp "
	     "H=mx.remote.example [198.51.100.7]: SMTP error from remote mail "
	     "server after RCPT TO:<x@remote.example>: 550 5.1.1 User unknown",
	     NULL, NULL, NULL},
	    {"outbound defer: none",
	     EX "1Ai79e-0000Dq-8i == x@remote.example R=dnslookup "
		"T=remote_smtp defer (-44) H=mx.remote.example [198.51.100.7]: "
		"SMTP error from remote mail server after RCPT "
		"TO:<x@remote.example>: 450 4.2.0 Greylisted",
	     NULL, NULL, NULL},
	    {"remote host error: none",
	     EX "1Ai79e-0000Dq-8i H=mx.remote.example [198.51.100.7]: SMTP "
		"error from remote mail server after RCPT "
		"TO:<x@remote.example>: 550 Message rejected here",
	     NULL, NULL, NULL},
	    {"remote host refused: none",
	     EX "1Ai79e-0000Dq-8i H=mx.remote.example [198.51.100.7] "
		"Connection refused",
	     NULL, NULL, NULL},
	    {"delivery: none",
	     EX "1Ai79e-0000Dq-8i <= a@b.example H=x.example [192.0.2.68] "
		"P=esmtp S=1234",
	     NULL, NULL, NULL},
	    {"journal",
	     "mx exim[3751842]: 2021-07-17 23:20:49 plain_server authenticator "
	     "failed for ([192.0.2.17]) [192.0.2.69]: 535 Incorrect "
	     "authentication data",
	     "192.0.2.69", NULL, "auth"},
	    {"syslog exim4",
	     "Aug 14 09:00:00 mx exim4[8003]: [8003] no MAIL in SMTP "
	     "connection from (User) [192.0.2.70]:20042 I=[198.51.100.1]:25 "
	     "D=0.349s",
	     "192.0.2.70", "exim", "protocol"},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

static void test_sendmail(void)
{
	static const struct row rows[] = {
	    {"check_rcpt relay",
	     SM "ruleset=check_rcpt, arg1=<x@example.org>, relay=host.example "
		"[192.0.2.71], reject=550 5.7.1 <x@example.org>... Relaying "
		"denied. Proper authentication required.",
	     "192.0.2.71", "sendmail", "relay"},
	    {"check_rcpt forged",
	     SM "ruleset=check_rcpt, arg1=<x@example.org>, relay=h.example "
		"[192.0.2.72] (may be forged), reject=550 5.7.1 "
		"<x@example.org>... Relaying denied. IP name possibly forged "
		"[192.0.2.72]",
	     "192.0.2.72", NULL, "relay"},
	    {"check_rcpt dnsbl",
	     SM "ruleset=check_rcpt, arg1=<x@example.org>, relay=[192.0.2.73], "
		"reject=550 5.7.1 <x@example.org>... Rejected: 192.0.2.73 "
		"listed at sbl-xbl.spamhaus.org",
	     "192.0.2.73", NULL, "sbl-xbl.spamhaus.org"},
	    {"check_rcpt spamtrap",
	     SM
	     "ruleset=check_rcpt, arg1=<trap@example.org>, relay=[192.0.2.74], "
	     "reject=550 5.1.1 <trap@example.org>... User unknown",
	     "192.0.2.74", NULL, "unknown-user,spamtrap"},
	    {"check_relay",
	     "Aug 14 09:00:00 mx sm-mta[24422]: ruleset=check_relay, "
	     "arg1=h.example, arg2=192.0.2.75, relay=h.example [192.0.2.75], "
	     "reject=421 4.3.2 Connection rate limit exceeded.",
	     "192.0.2.75", NULL, "other"},
	    {"our unreadable map: none",
	     "Aug 14 09:00:00 mx sm-mta[2070]: ruleset=check_relay, "
	     "arg1=[192.0.2.75], arg2=192.0.2.75, relay=[192.0.2.75], "
	     "reject=451 4.3.0 Temporary system failure. Please try again "
	     "later.",
	     NULL, NULL, NULL},
	    {"SYSERR: none",
	     "Aug 14 09:00:00 mx sm-mta[2070]: NOQUEUE: SYSERR(root): Cannot "
	     "open hash database /etc/mail/access.db: Invalid argument",
	     NULL, NULL, NULL},
	    {"access map refuses a sender",
	     SM
	     "ruleset=check_mail, arg1=<someone@spam.example>, "
	     "relay=[192.0.2.75], reject=550 5.7.1 <someone@spam.example>... "
	     "Access denied",
	     "192.0.2.75", NULL, "bad-sender"},
	    {"greet pause, no PTR name",
	     SM "rejecting commands from [192.0.2.75] [192.0.2.75] due to "
		"pre-greeting traffic after 0 seconds",
	     "192.0.2.75", NULL, "pregreet"},
	    {"greet pause, two different addresses: none",
	     SM "rejecting commands from [203.0.113.9] [192.0.2.75] due to "
		"pre-greeting traffic after 0 seconds",
	     NULL, NULL, NULL},
	    {"greet pause",
	     SM "rejecting commands from  [192.0.2.76] due to pre-greeting "
		"traffic after 0 seconds",
	     "192.0.2.76", NULL, "pregreet"},
	    {"EXPN", SM "h.example [192.0.2.77]: EXPN root [rejected]",
	     "192.0.2.77", NULL, "protocol"},
	    {"no MAIL",
	     SM "h.example [IPv6:2001:DB8::78] (may be forged) did not issue "
		"MAIL/EXPN/VRFY/ETRN during connection to MTA",
	     "2001:db8::78", NULL, "protocol"},
	    {"AUTH flood",
	     SM "[192.0.2.79]: possible SMTP attack: command=AUTH, count=5",
	     "192.0.2.79", NULL, "auth"},
	    {"AUTH failure",
	     SM "AUTH failure (LOGIN): authentication failure (-13) SASL(-13): "
		"authentication failure: checkpass failed, user=bob, "
		"relay=h.example [192.0.2.80] (may be forged)",
	     "192.0.2.80", NULL, "auth"},
	    {"lost input",
	     SM "lost input channel from h.example [192.0.2.81] to MTA-v4 "
		"after rcpt",
	     "192.0.2.81", NULL, "protocol"},
	    {"pending",
	     "Aug 14 09:00:00 mx sendmail[26254]: rA37ZTSC026254: "
	     "<trap@example.org>... No such user here",
	     NULL, NULL, NULL},
	    {"other pid, same qid",
	     "Aug 14 09:00:00 mx sendmail[1]: rA37ZTSC026254: from=<a@b>, "
	     "size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, "
	     "relay=h.example [192.0.2.82]",
	     NULL, NULL, NULL},
	    {"trigger",
	     "Aug 14 09:00:00 mx sendmail[26254]: rA37ZTSC026254: from=<a@b>, "
	     "size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, "
	     "relay=h.example [192.0.2.82]",
	     "192.0.2.82", NULL, "spamtrap,unknown-user"},
	    {"trigger only once",
	     "Aug 14 09:00:00 mx sendmail[26254]: rA37ZTSC026254: from=<a@b>, "
	     "size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, "
	     "relay=h.example [192.0.2.82]",
	     NULL, NULL, NULL},
	    {"outbound failure: none",
	     SM "to=<x@remote.example>, delay=00:00:01, xdelay=00:00:01, "
		"mailer=esmtp, pri=120, relay=mx.remote.example. "
		"[198.51.100.7], dsn=5.1.1, stat=User unknown",
	     NULL, NULL, NULL},
	    {"outbound sent: none",
	     SM "to=<x@remote.example>, ctladdr=<me@example.com> (1000/1000), "
		"delay=00:00:01, mailer=esmtp, relay=mx.remote.example. "
		"[198.51.100.7], dsn=2.0.0, stat=Sent (Ok)",
	     NULL, NULL, NULL},
	    {"ident fails closed",
	     SM "ruleset=check_rcpt, arg1=<x@example.org>, "
		"relay=joe@host.example [192.0.2.83], reject=550 5.7.1 "
		"<x@example.org>... Relaying denied.",
	     NULL, NULL, NULL},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

static void test_opensmtpd(void)
{
	static const struct row rows[] = {
	    {"connected",
	     OS "3a1b2c3d4e5f6a7b smtp connected address=192.0.2.90 "
		"host=mx.example",
	     NULL, NULL, NULL},
	    {"failed-command",
	     OS "3a1b2c3d4e5f6a7b smtp failed-command command=\"RCPT "
		"TO:<x@example.org>\" result=\"550 Invalid recipient: "
		"<x@example.org>\"",
	     "192.0.2.90", "opensmtpd", "unknown-user"},
	    {"auth permfail",
	     OS
	     "3a1b2c3d4e5f6a7b smtp authentication user=admin result=permfail",
	     "192.0.2.90", NULL, "auth"},
	    {"auth ok",
	     OS "3a1b2c3d4e5f6a7b smtp authentication user=admin result=ok",
	     NULL, NULL, NULL},
	    {"bad-input",
	     OS "3a1b2c3d4e5f6a7b smtp bad-input result=\"500 5.5.1 Invalid "
		"command: Pipelining not supported\"",
	     "192.0.2.90", NULL, "protocol"},
	    {"disconnected",
	     OS "3a1b2c3d4e5f6a7b smtp disconnected reason=quit", NULL, NULL,
	     NULL},
	    {"after disconnect",
	     OS "3a1b2c3d4e5f6a7b smtp failed-command command=\"DATA\" "
		"result=\"550 no\"",
	     NULL, NULL, NULL},
	    {"v6 connected",
	     OS "0000000000000001 smtp connected address=[2001:db8::91] "
		"host=<unknown>",
	     NULL, NULL, NULL},
	    {"v6 failed",
	     OS "0000000000000001 smtp failed-command command=\"AUTH LOGIN\" "
		"result=\"503 5.5.1 Invalid command: Command not supported\"",
	     "2001:db8::91", NULL, "protocol"},
	    {"bad HELO name",
	     OS "0000000000000001 smtp failed-command command=\"EHLO "
		"x.example[203.0.113.9] relay=[203.0.113.9]\" result=\"501 "
		"5.5.4 Invalid command arguments: Invalid domain name\"",
	     "2001:db8::91", NULL, "bad-helo"},
	    {"unrecognized command",
	     OS "0000000000000001 smtp failed-command command=\"FOO\" "
		"result=\"500 5.5.1 Invalid command: Command unrecognized\"",
	     "2001:db8::91", NULL, "protocol"},
	    {"sender syntax",
	     OS "0000000000000001 smtp failed-command command=\"MAIL "
		"FROM:garbage here\" result=\"553 5.1.0 Sender address syntax "
		"error\"",
	     "2001:db8::91", NULL, "protocol"},
	    {"out of order",
	     OS "0000000000000001 smtp failed-command command=\"RCPT "
		"TO:<b@test.example>\" result=\"503 5.5.1 Invalid command: "
		"Command not allowed at this point.\"",
	     "2001:db8::91", NULL, "protocol"},
	    {"2018 format",
	     OS "0000000000000002 smtp failed-command address=192.0.2.92 "
		"host=x command=\"MAIL FROM:<a@b>\" result=\"550 no\"",
	     "192.0.2.92", NULL, NULL},
	    {"2016 format",
	     OS "38dd06274cde1fd7 smtp event=failed-command address=192.0.2.93 "
		"host=x command=\"AUTH LOGIN\" result=\"503 5.5.1 Invalid "
		"command: Command not supported\"",
	     "192.0.2.93", NULL, NULL},
	    {"local",
	     OS "0000000000000003 smtp connected address=local host=mx", NULL,
	     NULL, NULL},
	    {"local failed",
	     OS "0000000000000003 smtp failed-command command=\"X\" "
		"result=\"500 no\"",
	     NULL, NULL, NULL},
	    {"5.x new session",
	     OS "smtp-in: New session 08d856b172f69c5c from host "
		"ix.example.com [192.0.2.94]",
	     NULL, NULL, NULL},
	    {"5.x failed",
	     OS "smtp-in: Failed command on session 08d856b172f69c5c: \"RCPT "
		"TO:<x@y>\" => 550 5.1.1 Invalid recipient",
	     "192.0.2.94", NULL, "unknown-user"},
	    {"5.x temporary",
	     OS "smtp-in: Failed command on session 08d856b172f69c5c: \"MAIL "
		"FROM:<x@y>  \" => 421 4.3.0: Temporary Error",
	     NULL, NULL, NULL},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

static void test_others(void)
{
	static const struct row rows[] = {
	    {"postgrey",
	     "Aug 14 09:00:00 mx postgrey[919]: action=greylist, reason=new, "
	     "client_name=r.example, client_address=192.0.2.99, sender=a@b, "
	     "recipient=c@d",
	     "192.0.2.99", "postgrey", "greylist"},
	    {"postgrey qid",
	     "Aug 14 09:00:00 mx postgrey[919]: 4104E3D: action=greylist, "
	     "reason=new, client_name=unknown, client_address=2001:db8::99, "
	     "sender=a@b, recipient=c@d",
	     "2001:db8::99", NULL, "greylist"},
	    {"postgrey pass",
	     "Aug 14 09:00:00 mx postgrey[919]: action=pass, reason=triplet "
	     "found, delay=309, client_name=r.example, "
	     "client_address=192.0.2.99",
	     NULL, NULL, NULL},
	    {"courier",
	     "Aug 14 09:00:00 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.110,ident=x,from=<a@b>,to=<c@d>: 550 "
	     "User unknown.",
	     "192.0.2.110", "courier", "unknown-user"},
	    {"courier auth",
	     "Aug 14 09:00:00 mx courieresmtpd[1]: "
	     "error,relay=::ffff:192.0.2.111,port=43632,msg=\"535 "
	     "Authentication failed.\",cmd: AUTH LOGIN x",
	     "192.0.2.111", NULL, "auth"},
	    /* real Courier's replies (selftests/mta/test_courier.sh) */
	    {"courier user <x> unknown",
	     "Dec  4 08:24:52 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.112,port=58261,from=<a@test.example>,"
	     "to=<nosuchuser@test.example>: 550 User <nosuchuser> unknown",
	     "192.0.2.112", "courier", "unknown-user"},
	    {"courier user <relaying denied> unknown",
	     "Dec  4 08:24:52 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.112,port=58261,from=<a@test.example>,"
	     "to=<\"relaying denied\"@test.example>: 550 User "
	     "<\"relaying denied\"> unknown",
	     "192.0.2.112", "courier", "unknown-user"},
	    {"courier HELO does not exist",
	     "Dec  4 08:24:53 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.113,port=58239,from=<a@test.example>: "
	     "517 HELO bad_helo!name does not exist.",
	     "192.0.2.113", "courier", "bad-helo"},
	    {"courier HELO name's words are the client's",
	     "Dec  4 08:24:53 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.113,port=58239,from=<a@test.example>: "
	     "517 HELO authentication.relaying.denied does not exist.",
	     "192.0.2.113", "courier", "bad-helo"},
	    {"courier HELO does not match",
	     "Dec  4 08:24:52 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.114,port=47705,from=<a@test.example>: "
	     "517 HELO [" FORGED "] does not match ::ffff:192.0.2.114",
	     "192.0.2.114", "courier", "bad-helo"},
	    {"courier sender rejected",
	     "Dec  4 08:24:52 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.115,port=60241,"
	     "from=<someone@spam.example>: 517 Sender rejected: "
	     "someone@spam.example",
	     "192.0.2.115", "courier", "bad-sender"},
	    {"courier command error",
	     "Dec  4 08:24:52 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.116,port=42479,msg=\"502 ESMTP "
	     "command error\",cmd: RELAYING DENIED",
	     "192.0.2.116", "courier", "protocol"},
	    {"courier's own lookup failure",
	     "Dec  4 08:50:11 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.117,port=49729,from=<a@test.example>,"
	     "to=<nosuchuser@test.example>: 450 Service temporarily "
	     "unavailable.",
	     NULL, NULL, NULL},
	    {"courier authdaemond unreachable",
	     "Dec  4 08:50:11 mx courieresmtpd: authdaemon: s_connect() "
	     "failed: Connection refused",
	     NULL, NULL, NULL},
	    {"rblsmtpd",
	     "Aug 14 09:00:00 mx rblsmtpd: 192.0.2.95 pid 19597: 451 "
	     "http://rbl.example/query?ip=192.0.2.95",
	     "192.0.2.95", "qmail", "dnsbl"},
	    {"rblsmtpd wrapped",
	     "Aug 14 09:00:00 mx qmail: 1157520813.485077 rblsmtpd: 192.0.2.96 "
	     "pid 19597 sbl-xbl.spamhaus.org: 451 http://x",
	     "192.0.2.96", NULL, "sbl-xbl.spamhaus.org"},
	    {"rblsmtpd old",
	     "Aug 14 09:00:00 mx rblsmtpd: relays.ordb.org blocked 192.0.2.97 "
	     "x.example -",
	     "192.0.2.97", NULL, "relays.ordb.org"},
	    {"badiprbl",
	     "Aug 14 09:00:00 mx qmail: 1157519909.633171 qmail-smtpd: 421 "
	     "badiprbl: ip 192.0.2.98 rbl: bl.example.com",
	     "192.0.2.98", NULL, "bl.example.com"},
	    {"unknown program",
	     "Aug 14 09:00:00 mx dovecot: auth: unknown[192.0.2.100]: SASL "
	     "LOGIN authentication failed",
	     NULL, NULL, NULL},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

/*
 * Hostile lines: the client put FORGED into what it controls. The real
 * client (or nothing) must come out, for the whole line and, unless the
 * row is marked cut, for every prefix of it (a syslog daemon that cuts
 * long lines). Rows marked cut are shapes where the client's text comes
 * before the address; a cut there can only be placed by padding the
 * line past SCAN_CUT_LEN, which the padded twins (PAD) check.
 */
struct hrow {
	const char *desc;
	const char *line;
	const char *ip;	  /* expected for the whole line, or NULL */
	const char *real; /* the real client: what a prefix may yield */
	int cut;	  /* 1: whole line only (see the PAD twins) */
};

#define PAD10 "xxxxxxxxxx"
#define PAD100 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10
#define PAD PAD100 PAD100 PAD100 PAD100 PAD100 PAD100

static const struct hrow hostile[] = {
    {"pf helo/from/to",
     PF "NOQUEUE: reject: RCPT from unknown[192.0.2.8]: 554 5.7.1 <x@[" FORGED
	"]>: Relay access denied; from=<a@[" FORGED "]> to=<x@[" FORGED
	"]> proto=ESMTP helo=<[" FORGED "]>",
     "192.0.2.8", "192.0.2.8", 0},
    {"pf rhsbl helo",
     PF "NOQUEUE: reject: RCPT from x[192.0.2.9]: 554 5.7.1 Service "
	"unavailable; Helo command [" FORGED
	"] blocked using dbl.example; from=<a@b> to=<c@d> proto=ESMTP "
	"helo=<" FORGED ">",
     "192.0.2.9", "192.0.2.9", 0},
    {"pf quoted sender",
     PF "NOQUEUE: reject: RCPT from x[192.0.2.10]: 550 5.1.1 <c@d>: Recipient "
	"address rejected: User unknown; from=<\"x from y[" FORGED
	"]: 554 client=z[" FORGED
	"]\"@b> to=<c@d> proto=ESMTP helo=<client=[" FORGED "]>",
     "192.0.2.10", "192.0.2.10", 0},
    {"pf proxy-reject",
     PF "proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject; from=<> to=<a@b> "
	"proto=SMTP helo=<" FORGED ">",
     NULL, NULL, 0},
    {"pf name with space",
     PF "NOQUEUE: reject: RCPT from evil name[" FORGED
	"]: 554 5.7.1 <c@d>: Relay access denied; from=<a@b> to=<c@d>",
     NULL, NULL, 0},
    {"pf pipelining text",
     PF "improper command pipelining after EHLO from unknown[192.0.2.11]: MAIL "
	"FROM:<a@[" FORGED "]> from x[" FORGED "]",
     "192.0.2.11", "192.0.2.11", 0},
    {"pf non-SMTP text",
     PF "warning: non-SMTP command from unknown[192.0.2.12]: GET "
	"/?from=unknown[" FORGED "] HTTP/1.1",
     "192.0.2.12", "192.0.2.12", 0},
    {"pf sasl user",
     PF "warning: unknown[192.0.2.13]: SASL LOGIN authentication failed: x, "
	"sasl_username=unknown[" FORGED "]",
     "192.0.2.13", "192.0.2.13", 0},
    {"pf cleanup header",
     "Aug 14 09:00:00 mx postfix/cleanup[5]: 4104E3D: reject: header Subject: "
     "hi from evil.example[" FORGED "]; from=<a@b> to=<c@d> proto=ESMTP "
     "helo=<x>: 5.7.1 message content rejected",
     NULL, NULL, 0},
    {"pf outbound",
     "Aug 14 09:00:00 mx postfix/smtp[5]: 4104E3D: to=<a@b>, "
     "relay=mx.example[" FORGED "]:25, status=bounced (host mx.example[" FORGED
     "] said: 554 5.7.1 Relay access denied)",
     NULL, NULL, 0},
    {"ps pregreet payload",
     PS "PREGREET 40 after 0 from [192.0.2.14]:5: EHLO [" FORGED
	"]\\r\\nfrom [" FORGED "]:1",
     "192.0.2.14", "192.0.2.14", 0},
    {"ps reject helo",
     PS "NOQUEUE: reject: RCPT from [192.0.2.15]:4984: 550 5.7.1 Service "
	"unavailable; client [192.0.2.15] blocked using zen.example; "
	"from=<a@[" FORGED "]>, to=<c@d>, proto=ESMTP, helo=<[" FORGED "]>",
     "192.0.2.15", "192.0.2.15", 0},
    {"ex helo literal",
     EX "H=([" FORGED "]) [192.0.2.51] F=<a@[" FORGED
	"]> rejected RCPT <H=x [" FORGED "]>: relay not permitted",
     "192.0.2.51", "192.0.2.51", 0},
    {"ex junk helo with space",
     EX "H=(helo [" FORGED
	"]) [192.0.2.52] F=<a@b> rejected RCPT <c@d>: relay not permitted",
     NULL, "192.0.2.52", 0},
    {"ex junk helo with parens",
     EX "H=(x) [" FORGED
	"] (y) [192.0.2.53] F=<a@b> rejected RCPT <c@d>: relay not permitted",
     NULL, "192.0.2.53", 0},
    {"ex junk helo, server fields",
     EX "H=(x) [" FORGED "]:25 I=[198.51.100.1]:25 (y) [192.0.2.53] F=<a@b> "
	"rejected RCPT <c@d>: no",
     NULL, "192.0.2.53", 0},
    {"ex quoted command",
     EX "SMTP protocol error in \"aUtH lOgIn\" H=(test) [" FORGED
	"]\" H=(roxzgj) [192.0.2.54] AUTH command used when not advertised",
     "192.0.2.54", "192.0.2.54", 1},
    {"ex quoted command with trailer",
     EX "SMTP protocol error in \"AUTH\" H=(z) [" FORGED
	"] AUTH command used when not advertised\" H=(y) [192.0.2.55] AUTH "
	"command used when not advertised",
     "192.0.2.55", "192.0.2.55", 1},
    {"ex sync next input",
     EX "SMTP protocol synchronization error (next input sent too soon: "
	"pipelining was not advertised): rejected \"RSET\" H=x.example "
	"[192.0.2.56]:1 I=[198.51.100.1]:25 next input=\"QUIT H=(a) [" FORGED
	"]\"",
     NULL, "192.0.2.56", 0},
    {"ex sync command",
     EX
     "SMTP protocol synchronization error (next input sent too soon: "
     "pipelining was not advertised): rejected \"RSET H=(a) [" FORGED
     "]\" H=x.example [192.0.2.57]:1 I=[198.51.100.1]:25 next input=\"QUIT\"",
     NULL, "192.0.2.57", 1},
    {"ex sync input",
     EX "SMTP protocol synchronization error (input sent without waiting for "
	"greeting): rejected connection from H=[192.0.2.58]:2 "
	"I=[198.51.100.1]:25 input=\"H=[" FORGED "] Host: " FORGED ":98\"",
     "192.0.2.58", "192.0.2.58", 0},
    {"ex local_scan sender",
     EX "1Ai79e-0000Dq-8i F=<\"x H=y [" FORGED
	"] P=smtp\"@b> H=real.example [192.0.2.59] P=smtp rejected by "
	"local_scan(): Rejected",
     NULL, "192.0.2.59", 1},
    {"ex sa-exim sender",
     EX "1VxHRO-000NiI-Ly SA: Action: silently tossed message: score=31.0 From "
	"<\"(host=x [" FORGED
	"])\"@b> (host=real.example [192.0.2.60]) for me@my.com",
     NULL, "192.0.2.60", 1},
    /* with a (HELO) present, a second ") [" anywhere is ambiguous */
    {"ex auth set_id",
     EX "login authenticator failed for (x) [192.0.2.61]: 535 Incorrect "
	"authentication data (set_id=x (y) [" FORGED "])",
     NULL, "192.0.2.61", 0},
    {"ex call dropped command",
     EX "SMTP call from (pc01) [192.0.2.62] dropped: too many syntax or "
	"protocol errors (last command was \"H=(x) [" FORGED "]\")",
     NULL, "192.0.2.62", 0},
    {"ex call dropped command, no HELO",
     EX "SMTP call from [192.0.2.63] dropped: too many syntax or protocol "
	"errors (last command was \"H=(x) [" FORGED "]\")",
     "192.0.2.63", "192.0.2.63", 0},
    {"sm arg1 relay",
     SM "ruleset=check_rcpt, arg1=<\"x, relay=[" FORGED
	"], reject\"@example.org>, relay=h.example [192.0.2.71], reject=550 "
	"5.7.1 <\"x, relay=[" FORGED
	"], reject\"@example.org>... Relaying denied",
     NULL, "192.0.2.71", 1},
    {"sm auth user",
     SM
     "AUTH failure (LOGIN): authentication failure (-13) SASL(-13): "
     "authentication failure: checkpass failed, user=criminal, relay=[" FORGED
     "], relay=[192.0.2.72] (may be forged)",
     "192.0.2.72", "192.0.2.72", 1},
    {"sm expn arg",
     SM "h.example [192.0.2.73]: EXPN [" FORGED "] relay=[" FORGED
	"] [rejected]",
     "192.0.2.73", "192.0.2.73", 0},
    {"sm from injection",
     "Aug 14 09:00:00 mx sendmail[9]: rA37ZTSC026299: <x@y>... No such user "
     "here",
     NULL, NULL, 0},
    {"sm from injection 2",
     "Aug 14 09:00:00 mx sendmail[9]: rA37ZTSC026299: from=<\"a, relay=[" FORGED
     "]\"@b>, size=0, class=0, nrcpts=0, proto=ESMTP, daemon=MTA, "
     "relay=h.example [192.0.2.74]",
     "192.0.2.74", "192.0.2.74", 1},
    {"sm relay name looks like addr",
     SM
     "ruleset=check_rcpt, arg1=<x@y>, relay=" FORGED
     " [192.0.2.75] (may be forged), reject=550 5.7.1 <x@y>... Relaying denied",
     "192.0.2.75", "192.0.2.75", 0},
    {"os connected",
     OS "00000000000000aa smtp connected address=192.0.2.90 host=x", NULL,
     "192.0.2.90", 0},
    {"os command address",
     OS "00000000000000aa smtp failed-command command=\"RCPT TO:<x> "
	"address=" FORGED "\" result=\"550 address=" FORGED "\"",
     "192.0.2.90", "192.0.2.90", 0},
    {"os old command address",
     OS "00000000000000ab smtp event=failed-command address=192.0.2.91 host=x "
	"command=\"AUTH address=" FORGED "\" result=\"535\"",
     "192.0.2.91", "192.0.2.91", 0},
    {"os old user address",
     OS "00000000000000ac smtp event=authentication user=address=" FORGED
	" address=192.0.2.92 host=x result=permfail",
     "192.0.2.92", "192.0.2.92", 0},
    /* OpenSMTPD escapes spaces in user= (VIS_WHITE); if one got through,
     * the session's address disagrees and the line fails closed (whole
     * line only: without the connect line it reads as the 2018 format) */
    {"os user with a space",
     OS "00000000000000aa smtp authentication user=x address=" FORGED
	" result=permfail",
     NULL, "192.0.2.90", 1},
    {"os two address fields",
     OS "00000000000000ae smtp event=authentication user=x address=" FORGED
	" address=192.0.2.93 host=x result=permfail",
     NULL, "192.0.2.93", 0},
    {"os unknown session",
     OS "00000000000000ad smtp failed-command command=\"RCPT TO:<x>\" "
	"result=\"550 no\"",
     NULL, NULL, 0},
    {"pg sender",
     "Aug 14 09:00:00 mx postgrey[1]: action=greylist, reason=new, "
     "client_name=r.example, client_address=192.0.2.99, sender=x, "
     "client_address=" FORGED ", recipient=c@d",
     "192.0.2.99", "192.0.2.99", 0},
    {"courier from",
     "Aug 14 09:00:00 mx courieresmtpd: "
     "error,relay=::ffff:192.0.2.110,from=<a,relay=::ffff:" FORGED
     ">,to=<c@d>: 550 User unknown.",
     "192.0.2.110", "192.0.2.110", 0},
    {"logger forged program in message",
     "Aug 14 09:00:00 mx dovecot[1]: postfix/smtpd[1]: NOQUEUE: reject: RCPT "
     "from x[" FORGED "]: 554 5.7.1 <c@d>: Relay access denied",
     NULL, NULL, 0},
    {"ex quoted command, padded",
     EX "SMTP protocol error in \"aUtH " PAD "\" H=(test) [" FORGED
	"] AUTH command used when not advertised\" H=(roxzgj) [192.0.2.54] "
	"AUTH command used when not advertised",
     NULL, "192.0.2.54", 0},
    {"ex sync command, padded",
     EX
     "SMTP protocol synchronization error (next input sent too soon: "
     "pipelining was not advertised): rejected \"RSET " PAD " H=(a) [" FORGED
     "]\" H=x.example [192.0.2.57]:1 I=[198.51.100.1]:25 next input=\"QUIT\"",
     NULL, "192.0.2.57", 0},
    {"ex local_scan sender, padded",
     EX "1Ai79e-0000Dq-8i F=<\"" PAD " H=y [" FORGED
	"] P=smtp rejected by local_scan()\"@b> H=real.example [192.0.2.59] "
	"P=smtp rejected by local_scan(): Rejected",
     NULL, "192.0.2.59", 0},
    {"ex sa-exim sender, padded",
     EX "1VxHRO-000NiI-Ly SA: Action: silently tossed message: score=31.0 From "
	"<\"" PAD " (host=x [" FORGED
	"]) for\"@b> (host=real.example [192.0.2.60]) for me@my.com",
     NULL, "192.0.2.60", 0},
    {"sm arg1 relay, padded",
     SM "ruleset=check_rcpt, arg1=<\"" PAD ", relay=[" FORGED
	"], reject=550 5.7.1 x\"@example.org>, relay=h.example [192.0.2.71], "
	"reject=550 5.7.1 <\"x\"@example.org>... Relaying denied",
     NULL, "192.0.2.71", 0},
    {"sm auth user, padded",
     SM "AUTH failure (LOGIN): authentication failure (-13) SASL(-13): "
	"authentication failure: checkpass failed, user=" PAD ", relay=[" FORGED
	"], relay=[192.0.2.72] (may be forged)",
     NULL, "192.0.2.72", 0},
    {"sm from injection, padded",
     "Aug 14 09:00:00 mx sendmail[9]: rA37ZTSC026299: from=<\"" PAD
     ", relay=[" FORGED "]\"@b>, size=0, class=0, nrcpts=0, proto=ESMTP, "
     "daemon=MTA, relay=h.example [192.0.2.74]",
     NULL, "192.0.2.74", 0},
};

/*
 * Reason tags come from what the MTA wrote about its decision, never from
 * the client's words it echoes (recipient, sender, HELO, AUTH name): a
 * client that names a DNSBL zone or "greylist" in its addresses keeps
 * the tag of the MTA's reason, and one whose text makes the reason
 * unreadable gets "other" (which counts), never a tag it chose. Words
 * that say the server itself is in trouble count only in the server's
 * text: a recipient "Temporary lookup failure" does not hide a refusal.
 */
static void test_client_words(void)
{
	static const struct row rows[] = {
	    {"postfix quoted recipient names a zone",
	     PF
	     "NOQUEUE: reject: RCPT from x[192.0.2.180]: 554 5.7.1 "
	     "<\"blocked using t1.example\"@x.example>: Relay access denied; "
	     "from=<a@b> to=<\"blocked using t1.example\"@x.example> "
	     "proto=ESMTP helo=<x>",
	     "192.0.2.180", "postfix", "relay"},
	    {"postfix recipient greylist7@",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.181]: 554 5.7.1 "
		"<greylist7@victim.example>: Relay access denied; from=<a@b> "
		"to=<greylist7@victim.example> proto=ESMTP helo=<x>",
	     "192.0.2.181", NULL, "relay"},
	    {"postfix HELO writes a greylisting reason",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.182]: 504 5.5.2 <x>: "
		"Recipient address rejected: Greylisted; from=<>: Helo command "
		"rejected: need fully-qualified hostname; from=<a@b> to=<c@d> "
		"proto=ESMTP helo=<x>: Recipient address rejected: Greylisted; "
		"from=<>",
	     "192.0.2.182", NULL, "other"},
	    {"postfix quoted recipient with >: inside",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.183]: 554 5.7.1 "
		"<\"a>: Recipient address rejected: Greylisted\"@x>: Relay "
		"access denied; from=<a@b> to=<\"a>: Recipient address "
		"rejected: Greylisted\"@x> proto=ESMTP helo=<x>",
	     "192.0.2.183", NULL, "other"},
	    {"postfix recipient says the lookup failed",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.184]: 554 5.7.1 "
		"<\"Temporary lookup failure\"@x>: Relay access denied; "
		"from=<a@b> to=<\"Temporary lookup failure\"@x> proto=ESMTP "
		"helo=<Insufficient system storage>",
	     "192.0.2.184", NULL, "relay"},
	    {"postfix zone after the envelope",
	     PF "NOQUEUE: reject: RCPT from x[192.0.2.185]: 554 5.7.1 Service "
		"unavailable; Client host [192.0.2.185] blocked using "
		"zen.spamhaus.org; from=<a@b> to=<c@d> proto=ESMTP "
		"helo=<x>: greylisted blocked using t2.example",
	     "192.0.2.185", NULL, "zen.spamhaus.org"},
	    {"exim sender writes a greylisting rejection",
	     EX "H=(x) [192.0.2.186] F=<\"x rejected RCPT <y>: greylisted\"@z> "
		"rejected RCPT <c@d>: relay not permitted",
	     "192.0.2.186", "exim", "relay"},
	    {"exim recipient greylist1@",
	     EX "H=(x) [192.0.2.187] F=<a@b> rejected RCPT "
		"<greylist1@victim.example>: relay not permitted",
	     "192.0.2.187", NULL, "relay"},
	    {"exim recipient closes its echo early",
	     EX "H=(x) [192.0.2.188] F=<a@b> rejected RCPT <a>: greylisted "
		"<b>: relay not permitted",
	     "192.0.2.188", NULL, "other"},
	    {"exim recipient says the callout failed",
	     EX "H=(x) [192.0.2.189] F=<a@b> temporarily rejected RCPT "
		"<\"Could not complete\"@x>: greylisted",
	     "192.0.2.189", NULL, "greylist"},
	    {"sendmail sender domain greylist",
	     SM "ruleset=check_mail, arg1=<a@greylist.example>, relay=x "
		"[192.0.2.190], reject=553 5.1.8 <a@greylist.example>... "
		"Domain of sender address a@greylist.example does not exist",
	     "192.0.2.190", "sendmail", "bad-sender"},
	    {"sendmail quoted recipient names a zone",
	     SM "ruleset=check_rcpt, arg1=<\"blocked using t3.example\"@x>, "
		"relay=x [192.0.2.191], reject=550 5.7.1 <\"blocked using "
		"t3.example\"@x>... Relaying denied",
	     "192.0.2.191", NULL, "relay"},
	    {"opensmtpd recipient greylist@",
	     OS "3a1b2c3d4e5f6a71 smtp connected address=192.0.2.192 host=x",
	     NULL, NULL, NULL},
	    {"opensmtpd recipient greylist@ (event)",
	     OS "3a1b2c3d4e5f6a71 smtp failed-command command=\"RCPT "
		"TO:<greylist@x>\" result=\"550 Invalid recipient: "
		"<greylist@x>\"",
	     "192.0.2.192", "opensmtpd", "unknown-user"},
	    {"opensmtpd recipient says temporary failure",
	     OS "3a1b2c3d4e5f6a71 smtp failed-command command=\"RCPT "
		"TO:<tf@x>\" result=\"550 Invalid recipient: <Temporary "
		"failure@x>\"",
	     "192.0.2.192", NULL, "unknown-user"},
	    {"opensmtpd command writes a result",
	     OS "3a1b2c3d4e5f6a71 smtp failed-command command=\"RCPT TO:<a "
		"result=\"451 greylisted>\" result=\"550 Invalid recipient: "
		"<a result=\"451 greylisted>\"",
	     "192.0.2.192", NULL, "other"},
	    {"courier recipient greylist@",
	     "Aug 14 09:00:00 mx courieresmtpd: "
	     "error,relay=::ffff:192.0.2.193,from=<a@b>,to=<greylist@x>: 550 "
	     "User unknown.",
	     "192.0.2.193", "courier", "unknown-user"},
	};

	run_rows(rows, ARRAY_SIZE(rows));
}

static void test_hostile(void)
{
	struct scanner *s;
	struct scan_event ev;
	char ip[CIDR_STRLEN];
	size_t i, n, len;
	bool bad;
	int got;

	s = new_scanner();
	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		/* keep cross-line pairs (same desc prefix) in order */
		got = scanner_feed(s, hostile[i].line, strlen(hostile[i].line),
				   &ev);
		if (!hostile[i].ip) {
			if (got)
				TEST_FAIL(hostile[i].desc,
					  "event %s, expected none",
					  cidr_format(&ev.ip, ip, sizeof(ip)));
			else
				TEST_OK(hostile[i].desc);
			continue;
		}
		if (!got)
			TEST_FAIL(hostile[i].desc, "no event, expected %s",
				  hostile[i].ip);
		else
			ASSERT_STR(cidr_format(&ev.ip, ip, sizeof(ip)),
				   hostile[i].ip, hostile[i].desc);
	}
	scanner_free(s);

	/* every prefix: nothing, or the real client - never FORGED */
	for (i = 0; i < ARRAY_SIZE(hostile); i++) {
		if (hostile[i].cut)
			continue;
		len = strlen(hostile[i].line);
		bad = false;
		s = new_scanner();
		for (n = 1; n <= len && !bad; n++) {
			/* the cross-line rows need their first line first */
			if (i &&
			    !strncmp(hostile[i].desc, hostile[i - 1].desc, 5))
				scanner_feed(s, hostile[i - 1].line,
					     strlen(hostile[i - 1].line), &ev);
			if (!scanner_feed(s, hostile[i].line, n, &ev))
				continue;
			cidr_format(&ev.ip, ip, sizeof(ip));
			if (!hostile[i].real || strcmp(ip, hostile[i].real)) {
				TEST_FAIL(hostile[i].desc,
					  "prefix of %zu bytes yields %s", n,
					  ip);
				bad = true;
			}
		}
		if (!bad)
			TEST_OK(hostile[i].desc);
		scanner_free(s);
	}
}

static void expect_time(struct scanner *s, const char *line, const char *iso)
{
	struct scan_event ev;
	char t[32] = "";

	if (scanner_feed(s, line, strlen(line), &ev))
		fmt_time_iso(ev.time, t, sizeof(t));
	ASSERT_STR(t, iso, line);
}

static void test_time(void)
{
	struct scan_opts o = {NULL, 0, 1767312000}; /* 2026-01-02 00:00Z */
	struct scanner *s = scanner_new(&o);
	const char *tail = " mx postfix/smtpd[1]: lost connection after "
			   "CONNECT from unknown[192.0.2.1]";
	char line[256];

	/* a December-to-January file written on January 2nd */
	snprintf(line, sizeof(line), "Dec 31 23:59:59%s", tail);
	expect_time(s, line, "2025-12-31T23:59:59Z");
	snprintf(line, sizeof(line), "Jan  1 00:00:01%s", tail);
	expect_time(s, line, "2026-01-01T00:00:01Z");
	snprintf(line, sizeof(line), "Jan 2 23:30:00%s", tail);
	expect_time(s, line, "2026-01-02T23:30:00Z"); /* within a day */
	snprintf(line, sizeof(line), "Jan  4 00:00:00%s", tail);
	expect_time(s, line, "2025-01-04T00:00:00Z"); /* later: last year */
	snprintf(line, sizeof(line), "Feb 29 10:00:00%s", tail);
	expect_time(s, line, "2024-02-29T10:00:00Z"); /* leap year */
	snprintf(line, sizeof(line), "2026-11-23T06:55:04.123456+00:00%s",
		 tail);
	expect_time(s, line, "2026-11-23T06:55:04Z");
	snprintf(line, sizeof(line), "2026-11-23T06:55:04.123+01:00%s", tail);
	expect_time(s, line, "2026-11-23T05:55:04Z");
	snprintf(line, sizeof(line), "2026-11-23T06:55:04-0530%s", tail);
	expect_time(s, line, "2026-11-23T12:25:04Z");
	snprintf(line, sizeof(line), "2026-11-23T06:55:04Z%s", tail);
	expect_time(s, line, "2026-11-23T06:55:04Z");
	expect_time(s,
		    "2026-11-23 06:55:04.123 +0100 no MAIL in SMTP connection "
		    "from [192.0.2.2] D=1s",
		    "2026-11-23T05:55:04Z");
	expect_time(s,
		    "2026-11-23 06:55:04 no MAIL in SMTP connection from "
		    "[192.0.2.2] D=1s",
		    "2026-11-23T06:55:04Z");
	/* bad dates are garbage, not events */
	snprintf(line, sizeof(line), "Feb 30 10:00:00%s", tail);
	expect_time(s, line, "");
	snprintf(line, sizeof(line), "2026-13-23T06:55:04Z%s", tail);
	expect_time(s, line, "");
	snprintf(line, sizeof(line), "Foo 23 06:55:04%s", tail);
	expect_time(s, line, "");
	/* a new reference moves the year */
	scanner_set_ref_time(s, 1124013600);
	snprintf(line, sizeof(line), "Dec 31 23:59:59%s", tail);
	expect_time(s, line, "2004-12-31T23:59:59Z");
	scanner_free(s);
}

static void test_robust(void)
{
	struct scanner *s = new_scanner();
	struct scan_event ev;
	struct scan_stats st;
	const char *good =
	    PF "too many errors after RCPT from x.example[192.0.2.20]";
	char *big;
	size_t i, j, glen = strlen(good);
	uint32_t x = 12345;
	char buf[512];
	uint64_t events = 0;

	big = malloc(1024 * 1024 + 1);
	ASSERT_TRUE(big != NULL, "malloc 1 MiB");
	if (!big)
		return;
	/* a 1 MiB line: garbage, even with a valid prefix and tail */
	memset(big, 'A', 1024 * 1024);
	ASSERT_EQ(scanner_feed(s, big, 1024 * 1024, &ev), 0, "1 MiB of A");
	memcpy(big, good, glen);
	memcpy(big + 1024 * 1024 - glen, good, glen);
	ASSERT_EQ(scanner_feed(s, big, 1024 * 1024, &ev), 0,
		  "1 MiB valid-looking");
	/* a valid line with a NUL inside */
	memcpy(buf, good, glen);
	buf[40] = '\0';
	ASSERT_EQ(scanner_feed(s, buf, glen, &ev), 0, "NUL inside");
	/* invalid UTF-8 in the client's text does not hide the client */
	snprintf(buf, sizeof(buf),
		 PF "warning: non-SMTP command from unknown[192.0.2.21]: "
		    "\xff\xfe\xc0\x80 \xed\xa0\x80");
	ASSERT_EQ(scanner_feed(s, buf, strlen(buf), &ev), 1,
		  "invalid UTF-8 tail");
	/* ... but in the prefix it is garbage */
	snprintf(buf, sizeof(buf),
		 "\xff\xfe\x80 14 09:00:00 mx postfix/smtpd[1]: x");
	ASSERT_EQ(scanner_feed(s, buf, strlen(buf), &ev), 0,
		  "invalid UTF-8 head");
	ASSERT_EQ(scanner_feed(s, "", 0, &ev), 0, "empty line");
	ASSERT_EQ(scanner_feed(s, "\r\n", 2, &ev), 0, "CRLF only");
	ASSERT_EQ(scanner_feed(s, good, glen, &ev), 1,
		  "good line after garbage");
	/* random binary lines and mutated good lines: no crash, counts add up
	 */
	for (i = 0; i < 20000; i++) {
		size_t n = (x = x * 1103515245 + 12345) % sizeof(buf);

		if (i & 1) {
			for (j = 0; j < n; j++)
				buf[j] =
				    (char)((x = x * 1103515245 + 12345) >> 16);
		} else {
			memcpy(buf, good, glen);
			n = glen;
			buf[(x >> 8) % glen] = (char)(x >> 16);
		}
		events += (uint64_t)scanner_feed(s, buf, n, &ev);
	}
	scanner_stats(s, &st);
	ASSERT_U64(st.lines, st.events + st.ignored + st.garbage,
		   "counts add up");
	ASSERT_TRUE(st.garbage >= 10000, "binary lines counted as garbage");
	ASSERT_TRUE(st.unparsed <= st.ignored, "unparsed is part of ignored");
	free(big);
	scanner_free(s);
}

/* bounded state: many sessions evict old ones and never grow memory */
static void test_bounded_state(void)
{
	struct scanner *s = new_scanner();
	struct scan_event ev;
	char line[256], ip[CIDR_STRLEN];
	int i, hits = 0;

	for (i = 0; i < 200000; i++) {
		snprintf(line, sizeof(line),
			 OS "%016x smtp connected address=10.%d.%d.%d host=x",
			 i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
		scanner_feed(s, line, strlen(line), &ev);
	}
	snprintf(line, sizeof(line), OS "%016x smtp bad-input result=\"500\"",
		 199999);
	hits = scanner_feed(s, line, strlen(line), &ev);
	ASSERT_EQ(hits, 1, "newest session still known");
	if (hits)
		ASSERT_STR(cidr_format(&ev.ip, ip, sizeof(ip)), "10.3.13.63",
			   "newest session address");
	/* an evicted session yields nothing rather than a wrong address */
	for (i = 0, hits = 0; i < 1000; i++) {
		snprintf(line, sizeof(line),
			 OS "%016x smtp bad-input result=\"500\"", i);
		if (scanner_feed(s, line, strlen(line), &ev)) {
			snprintf(line, sizeof(line), "10.%d.%d.%d",
				 (i >> 16) & 255, (i >> 8) & 255, i & 255);
			if (strcmp(cidr_format(&ev.ip, ip, sizeof(ip)), line))
				hits++;
		}
	}
	ASSERT_EQ(hits, 0, "no session yields another session's address");
	scanner_free(s);
}

#define PC "Aug 14 09:00:00 mx postfix/cleanup[500]: "

/*
 * cleanup's content rejections: joined to smtpd's client= of the queue id,
 * never taken from the header or body text (which the client wrote and
 * which comes before the client field on these lines)
 */
static void test_postfix_cleanup(void)
{
	static const struct row rows[] = {
	    {"smtpd client= is no event",
	     PF "4F1A2B3C4D: client=mail.example.net[198.51.100.20]", NULL,
	     NULL, NULL},
	    {"cleanup message-id is no event",
	     PC "4F1A2B3C4D: message-id=<x@example.net>", NULL, NULL, NULL},
	    {"header_checks REJECT: the client of the queue id",
	     PC "4F1A2B3C4D: reject: header Subject: hi from "
		"evil[" FORGED "]; from=<a@b> to=<c@d> proto=ESMTP helo=<x> "
		"from unknown[" FORGED "]; from=<a@example.net> "
		"to=<c@example.org> proto=ESMTP helo=<mail.example.net>: "
		"5.7.1 message content rejected",
	     "198.51.100.20", "postfix", "content"},
	    {"the same queue id again: used up",
	     PC "4F1A2B3C4D: reject: header Subject: x from unknown[" FORGED
		"]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no",
	     NULL, NULL, NULL},
	    {"long queue id, port and SASL fields",
	     PF "3Xr9Nm1JzLz4C: client=unknown[2001:db8::7]:4567, "
		"sasl_method=PLAIN, sasl_username=u",
	     NULL, NULL, NULL},
	    {"milter-reject at END-OF-MESSAGE",
	     PC "3Xr9Nm1JzLz4C: milter-reject: END-OF-MESSAGE from "
		"unknown[" FORGED "]: 5.7.1 Spam message rejected; "
		"from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
	     "2001:db8::7", "postfix", "content"},
	    {"body_checks REJECT with a DNSBL reason",
	     PF "ABCDE12345: client=x.example[192.0.2.44]", NULL, NULL, NULL},
	    {"body_checks reject",
	     PC "ABCDE12345: reject: body see 192.0.2.99 from x.example["
		"192.0.2.44]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 5.7.1 "
		"listed at dnsbl.example.org",
	     "192.0.2.44", "postfix", "content,dnsbl.example.org"},
	    {"unknown queue id: nothing (fail closed)",
	     PC "0000000000: reject: body x from unknown[" FORGED
		"]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no",
	     NULL, NULL, NULL},
	    {"discard is no event", PF "BBBBB11111: client=x[192.0.2.45]", NULL,
	     NULL, NULL},
	    {"discard",
	     PC "BBBBB11111: discard: header Subject: x from x[192.0.2.45]; "
		"from=<a@b> to=<c@d> proto=ESMTP helo=<h>",
	     NULL, NULL, NULL},
	    {"our own trouble is no event",
	     PF "CCCCC11111: client=x[192.0.2.46]", NULL, NULL, NULL},
	    {"milter temporary failure of our own",
	     PC "CCCCC11111: milter-reject: END-OF-MESSAGE from x[192.0.2.46]: "
		"4.3.0 Server configuration problem; from=<a@b> to=<c@d> "
		"proto=ESMTP helo=<h>",
	     NULL, NULL, NULL},
	    {"a header holding a forged client= line",
	     PC
	     "DDDDD11111: reject: header X-Note: DDDDD11111: client=x[" FORGED
	     "] from unknown[" FORGED "]; from=<a@b> to=<c@d> "
	     "proto=ESMTP helo=<h>: 5.7.1 no",
	     NULL, NULL, NULL},
	};
	struct scanner *s;
	struct scan_event ev;
	char line[256], ip[CIDR_STRLEN];
	int i, wrong = 0, got;

	run_rows(rows, ARRAY_SIZE(rows));

	/* bounded: the last SCAN_QIDS queue ids are kept, the oldest go */
	s = new_scanner();
	for (i = 0; i < 20000; i++) {
		snprintf(line, sizeof(line), PF "Q%09d: client=x[10.%d.%d.%d]",
			 i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
		scanner_feed(s, line, strlen(line), &ev);
	}
	snprintf(line, sizeof(line),
		 PC "Q%09d: reject: body x from x[" FORGED "]; from=<a@b> "
		    "to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no",
		 19999);
	got = scanner_feed(s, line, strlen(line), &ev);
	ASSERT_EQ(got, 1, "the newest queue id is joined");
	if (got)
		ASSERT_STR(cidr_format(&ev.ip, ip, sizeof(ip)), "10.0.78.31",
			   "its client");
	snprintf(line, sizeof(line),
		 PC "Q%09d: reject: body x from x[" FORGED "]; from=<a@b> "
		    "to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no",
		 20000 - 8192);
	ASSERT_EQ(scanner_feed(s, line, strlen(line), &ev), 1,
		  "the 8192nd newest is still held");
	snprintf(line, sizeof(line),
		 PC "Q%09d: reject: body x from x[" FORGED "]; from=<a@b> "
		    "to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no",
		 20000 - 8193);
	ASSERT_EQ(scanner_feed(s, line, strlen(line), &ev), 0,
		  "older ones are forgotten: nothing");
	for (i = 0; i < 20000; i += 7) {
		snprintf(line, sizeof(line),
			 PC
			 "Q%09d: reject: body x from x[" FORGED "]; "
			 "from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 5.7.1 no",
			 i);
		if (scanner_feed(s, line, strlen(line), &ev)) {
			snprintf(line, sizeof(line), "10.%d.%d.%d",
				 (i >> 16) & 255, (i >> 8) & 255, i & 255);
			if (strcmp(cidr_format(&ev.ip, ip, sizeof(ip)), line))
				wrong++;
		}
	}
	ASSERT_EQ(wrong, 0, "no queue id yields another one's client");
	scanner_free(s);
}

/* the fuzzer's seed corpus runs here too (no crash, sane events) */
static void test_fuzz_seeds(void)
{
	const char *dir = "selftests/fuzz/corpus/fuzz_scan";
	struct scanner *s;
	struct scan_event ev;
	struct dirent *de;
	char path[512], *data;
	DIR *d = opendir(dir);
	int files = 0;
	size_t n;
	FILE *f;

	if (!d) {
		TEST_FAIL("seed corpus",
			  "cannot open %s (run from the repository)", dir);
		return;
	}
	data = malloc(1 << 20);
	while ((de = readdir(d)) && data) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		n = fread(data, 1, 1 << 20, f);
		fclose(f);
		s = new_scanner();
		for (char *p = data, *e = data + n, *nl; p < e; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(e - p));
			if (!nl)
				nl = e;
			if (scanner_feed(s, p, (size_t)(nl - p), &ev) &&
			    (!ev.tags[0] || !ev.mta))
				TEST_FAIL(path, "event without tags or MTA");
		}
		scanner_free(s);
		files++;
	}
	closedir(d);
	free(data);
	ASSERT_TRUE(files >= 10, "seed corpus has files");
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	TEST_RUN(test_postfix);
	TEST_RUN(test_postscreen);
	TEST_RUN(test_postscreen_dnsblog);
	TEST_RUN(test_exim);
	TEST_RUN(test_sendmail);
	TEST_RUN(test_opensmtpd);
	TEST_RUN(test_others);
	TEST_RUN(test_client_words);
	TEST_RUN(test_hostile);
	TEST_RUN(test_time);
	TEST_RUN(test_robust);
	TEST_RUN(test_bounded_state);
	TEST_RUN(test_postfix_cleanup);
	TEST_RUN(test_fuzz_seeds);
	return test_finish();
}

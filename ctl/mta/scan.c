// SPDX-License-Identifier: GPL-2.0
/*
 * scan.c - the line dispatcher for MTA logs: time stamp, program name,
 * then the parser of that MTA (scan_<mta>.c).
 *
 * Accepted prefixes (the message is what follows them):
 *
 *	Nov 23 06:55:04 host prog[pid]: msg          classic syslog
 *	Nov 23 06:55:04 <mail.info> host prog: msg    BSD syslog priority
 *	2026-11-23T06:55:04.123456+00:00 host prog[pid]: msg   RFC 3339
 *	2026-11-23T06:55:04+0000 host prog[pid]: msg  journalctl -o short-iso
 *	host prog[pid]: msg                           journal, no time stamp
 *	2026-11-23 06:55:04 msg                       Exim's own mainlog
 *
 * Syslog stamps carry no year: it is the reference time's year (the
 * file's mtime), or the year before when the stamp would lie more than a
 * day after the reference (December lines in a file written in January).
 * Stamps without a zone are local time; RFC 3339 offsets are honoured.
 *
 * Programs are matched on the last path component, since admins rename
 * them (postfix-incoming/smtpd, postfix/submission/smtpd). Only inbound
 * SMTP components are parsed (and postfix/cleanup, whose content
 * rejections are joined to smtpd's client by queue id): postfix/smtp,
 * qmgr, local, ... name remote servers we deliver to and are never events.
 *
 * The line is never copied and never NUL-terminated: every parser works on
 * a [p, end) range with the bounds-checked helpers in scan_int.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/mxwall.h"
#include "mta/scan_int.h"

#define SECS_PER_DAY 86400

struct scanner {
	struct scan_stats st;
	struct scan_ctx ctx;
	int64_t ref_time;
	int ref_year; /* local year of ref_time */
};

static const char *const mta_name[] = {
    "postfix",	"postfix",   "postfix",	 "postfix", "exim",
    "sendmail", "opensmtpd", "postgrey", "courier", "qmail",
};

enum mta {
	MTA_NONE = -1,
	MTA_POSTFIX_SMTPD,
	MTA_POSTSCREEN,
	MTA_POSTFIX_CLEANUP,
	MTA_POSTFIX_DNSBLOG,
	MTA_EXIM,
	MTA_SENDMAIL,
	MTA_OPENSMTPD,
	MTA_POSTGREY,
	MTA_COURIER,
	MTA_QMAIL,
};

const char *const scan_known_tags[] = {
    "greylist",	  "bad-helo", "relay",	 "baddns", "unknown-user",
    "bad-sender", "protocol", "auth",	 "dnsbl",  "dialup",
    "spamtrap",	  "pregreet", "content", "other",  NULL,
};

struct scanner *scanner_new(const struct scan_opts *o)
{
	struct scanner *s = xcalloc(1, sizeof(*s));
	size_t i, j;

	if (o && o->nspamtraps) {
		s->ctx.traps = xcalloc(o->nspamtraps, sizeof(char *));
		for (i = 0; i < o->nspamtraps; i++) {
			s->ctx.traps[i] = xstrdup(o->spamtraps[i]);
			for (j = 0; s->ctx.traps[i][j]; j++)
				s->ctx.traps[i][j] = (char)tolower(
				    (unsigned char)s->ctx.traps[i][j]);
		}
		s->ctx.ntraps = o->nspamtraps;
	}
	scanner_set_ref_time(s, o ? o->ref_time : 0);
	return s;
}

void scanner_free(struct scanner *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->ctx.ntraps; i++)
		free(s->ctx.traps[i]);
	free(s->ctx.traps);
	free(s->ctx.kv);
	scan_postfix_free(&s->ctx);
	free(s);
}

void scanner_set_ref_time(struct scanner *s, int64_t t)
{
	struct tm tm;
	time_t tt;

	if (t <= 0)
		t = (int64_t)time(NULL);
	tt = (time_t)t;
	s->ref_time = t;
	if (localtime_r(&tt, &tm))
		s->ref_year = tm.tm_year + 1900;
	else
		s->ref_year = 1970;
}

void scanner_stats(const struct scanner *s, struct scan_stats *st)
{
	*st = s->st;
}

/* days_from_civil - days since 1970-01-01 of a proleptic Gregorian date */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool valid_date(int y, int mo, int d, int h, int mi, int sec)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 || y % 400 == 0)))
		return false;
	return y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 &&
	       d <= mdays[mo - 1] && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 &&
	       sec >= 0 && sec <= 60;
}

/* local_time - a local wall-clock time as unix seconds (cached per hour) */
static int64_t local_time(struct scan_ctx *s, int y, int mo, int d, int h,
			  int mi, int sec)
{
	int64_t key = (((int64_t)y * 16 + mo) * 32 + d) * 32 + h;
	struct tm tm;

	if (key != s->cache_key) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_isdst = -1;
		s->cache_base = (int64_t)mktime(&tm);
		s->cache_key = key;
	}
	return s->cache_base + mi * 60 + sec;
}

/* two and four digit fields at fixed places */
static inline int dig2(const char *p)
{
	if (!sc_digit(p[0]) || !sc_digit(p[1]))
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static inline int dig4(const char *p)
{
	int a = dig2(p), b = dig2(p + 2);

	return a < 0 || b < 0 ? -1 : a * 100 + b;
}

/* hms - "HH:MM:SS" */
static bool hms(const char *p, const char *end, int *h, int *mi, int *sec)
{
	if (end - p < 8 || p[2] != ':' || p[5] != ':')
		return false;
	*h = dig2(p);
	*mi = dig2(p + 3);
	*sec = dig2(p + 6);
	return *h >= 0 && *mi >= 0 && *sec >= 0;
}

/*
 * iso_fields - "YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|+HH:MM|+HHMM| +HHMM]".
 * Returns UTC seconds when a zone was given; without one the time is
 * local and is returned as -(t + 1) with t read as if it were UTC.
 */
static int64_t iso_fields(const char *p, const char *end, const char **next,
			  bool *ok)
{
	int y, mo, d, h, mi, sec, oh, om;
	int64_t t, off = 0;
	const char *q;

	*ok = false;
	if (end - p < 19 || p[4] != '-' || p[7] != '-' ||
	    (p[10] != 'T' && p[10] != ' '))
		return 0;
	y = dig4(p);
	mo = dig2(p + 5);
	d = dig2(p + 8);
	if (!hms(p + 11, end, &h, &mi, &sec) ||
	    !valid_date(y, mo, d, h, mi, sec))
		return 0;
	t = days_from_civil(y, (unsigned int)mo, (unsigned int)d) *
		SECS_PER_DAY +
	    h * 3600 + mi * 60 + sec;
	q = p + 19;
	if (q < end && (*q == '.' || *q == ',')) {
		q = sc_digits(q + 1, end);
		if (!q)
			return 0;
	}
	if (q < end && *q == 'Z') {
		q++;
	} else if (q < end && (*q == '+' || *q == '-') && end - q >= 5) {
		oh = dig2(q + 1);
		if (q[3] == ':' && end - q >= 6)
			om = dig2(q + 4);
		else
			om = dig2(q + 3);
		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return 0;
		off = (*q == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		q += q[3] == ':' ? 6 : 5;
		t -= off;
	} else if (end - q >= 6 && q[0] == ' ' &&
		   (q[1] == '+' || q[1] == '-') && dig4(q + 2) >= 0 &&
		   (q + 6 == end || q[6] == ' ')) {
		/* Exim with log_timezone: "2026-11-23 06:55:04 +0100" */
		oh = dig2(q + 2);
		om = dig2(q + 4);
		if (oh > 23 || om > 59)
			return 0;
		t -= (q[1] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
		q += 6;
	} else {
		*ok = true;
		*next = q;
		/* local time: the caller converts; signal with the sign bit */
		return -t - 1;
	}
	*ok = true;
	*next = q;
	return t;
}

/* iso_to_utc - turn iso_fields's local-time marker into UTC */
static int64_t iso_to_utc(struct scan_ctx *s, int64_t v)
{
	int64_t t, days, rem;
	int64_t z, era, doe, yoe, y, doy, mp, d, m;

	if (v >= 0)
		return v;
	t = -(v + 1);
	days = t / SECS_PER_DAY;
	rem = t % SECS_PER_DAY;
	/* civil_from_days */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	return local_time(s, (int)y, (int)m, (int)d, (int)(rem / 3600),
			  (int)(rem % 3600 / 60), (int)(rem % 60));
}

/* scan_parse_isotime - an ISO 8601 / RFC 3339 stamp as UTC seconds */
int64_t scan_parse_isotime(struct scan_ctx *c, const char *p, const char *end,
			   const char **next, bool *ok)
{
	int64_t v = iso_fields(p, end, next, ok);

	return *ok ? iso_to_utc(c, v) : 0;
}

static int month_of(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++)
		if (p[0] == names[i * 3] && p[1] == names[i * 3 + 1] &&
		    p[2] == names[i * 3 + 2])
			return i + 1;
	return 0;
}

/* syslog_time - "Mmm dd HH:MM:SS " / "Mmm  d ..." / "Mmm d ..." */
static bool syslog_time(struct scanner *s, const char *p, const char *end,
			const char **next, int64_t *out)
{
	int mo, d, h, mi, sec, y;
	const char *q;
	int64_t t = 0;

	if (end - p < 15 || p[3] != ' ')
		return false;
	mo = month_of(p);
	if (!mo)
		return false;
	q = p + 4;
	if (*q == ' ')
		q++;
	if (!sc_digit(*q))
		return false;
	d = *q++ - '0';
	if (q < end && sc_digit(*q))
		d = d * 10 + (*q++ - '0');
	if (q >= end || *q++ != ' ' || !hms(q, end, &h, &mi, &sec))
		return false;
	q += 8;
	if (q < end && *q == '.') { /* rsyslog high precision, classic */
		q = sc_digits(q + 1, end);
		if (!q)
			return false;
	}
	/* the latest year (Feb 29: leap year) not after the reference */
	for (y = s->ref_year; y > s->ref_year - 8; y--) {
		if (!valid_date(y, mo, d, h, mi, sec))
			continue;
		t = local_time(&s->ctx, y, mo, d, h, mi, sec);
		if (t <= s->ref_time + SECS_PER_DAY)
			break;
	}
	if (y == s->ref_year - 8)
		return false;
	*out = t;
	*next = q;
	return true;
}

/* prog_char - characters of a syslog tag (program name) */
static inline bool prog_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       sc_digit(c) || c == '/' || c == '-' || c == '_' || c == '.';
}

/*
 * header - "[host ]prog[pid]: " at p. Fills m->prog/pid and m->p.
 * Returns false when the text is not a syslog header.
 */
static bool header(const char *p, const char *end, struct scan_msg *m)
{
	const char *q, *name, *name_end, *slash;
	uint32_t pid = 0;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		name = p;
		q = p;
		while (q < end && prog_char(*q))
			q++;
		name_end = q;
		if (name_end > name && name_end - name <= 64) {
			pid = 0;
			if (q < end && *q == '[') {
				const char *r = sc_digits(q + 1, end);

				if (r && r < end && *r == ']' && r - q <= 11) {
					for (q++; q < r; q++)
						pid = pid * 10 +
						      (uint32_t)(*q - '0');
					q = r + 1;
				} else {
					q = NULL;
				}
			}
			if (q && q < end && *q == ':' &&
			    (q + 1 == end || q[1] == ' ')) {
				slash = name_end;
				while (slash > name && slash[-1] != '/')
					slash--;
				m->prog = slash;
				m->proglen = (size_t)(name_end - slash);
				m->pid = pid;
				m->p = q + 1 < end ? q + 2 : end;
				m->end = end;
				/* postfix components carry a path */
				m->prog_path = slash != name ||
					       (name_end - name >= 7 &&
						!memcmp(name, "postfix", 7));
				return true;
			}
		}
		if (pass)
			break;
		/* skip the host name and try again */
		q = memchr(p, ' ', (size_t)(end - p));
		if (!q || q == p)
			return false;
		p = q + 1;
	}
	return false;
}

#define PROG_IS(m, s)                                                          \
	((m)->proglen == sizeof(s) - 1 && !memcmp((m)->prog, s, sizeof(s) - 1))

static enum mta which_mta(const struct scan_msg *m)
{
	if (m->prog_path) {
		if (PROG_IS(m, "smtpd"))
			return MTA_POSTFIX_SMTPD;
		if (PROG_IS(m, "postscreen"))
			return MTA_POSTSCREEN;
		if (PROG_IS(m, "cleanup"))
			return MTA_POSTFIX_CLEANUP; /* content rejections */
		if (PROG_IS(m, "dnsblog"))
			return MTA_POSTFIX_DNSBLOG; /* zones, for postscreen */
		return MTA_NONE;		    /* smtp, qmgr, local, ... */
	}
	if (PROG_IS(m, "smtpd"))
		return MTA_OPENSMTPD;
	if (PROG_IS(m, "exim") || PROG_IS(m, "exim4"))
		return MTA_EXIM;
	if (PROG_IS(m, "sm-mta") || PROG_IS(m, "sendmail") ||
	    PROG_IS(m, "sm-acceptingconnections"))
		return MTA_SENDMAIL;
	if (PROG_IS(m, "postgrey"))
		return MTA_POSTGREY;
	if (PROG_IS(m, "courieresmtpd"))
		return MTA_COURIER;
	if (PROG_IS(m, "rblsmtpd") || PROG_IS(m, "qmail-smtpd") ||
	    PROG_IS(m, "qmail"))
		return MTA_QMAIL;
	return MTA_NONE;
}

/*
 * scan_line - the prefix, then the MTA's parser. Returns SCAN_* or -2 for
 * garbage (no recognisable prefix).
 */
static int scan_line(struct scanner *s, const char *p, const char *end,
		     struct scan_event *ev)
{
	struct scan_msg m;
	const char *q = NULL, *body = p;
	int64_t t = 0;
	bool ok, exim_native = false;
	enum mta mta;
	int r;

	memset(&m, 0, sizeof(m));
	if (syslog_time(s, p, end, &q, &t)) {
		body = q;
	} else if (end - p >= 19 && p[4] == '-' && sc_digit(p[0])) {
		t = scan_parse_isotime(&s->ctx, p, end, &q, &ok);
		if (!ok)
			return -2;
		exim_native = p[10] == ' ';
		body = q;
	}
	if (body != p) {
		if (body >= end || *body != ' ')
			return -2;
		body++;
		/* BSD syslog may keep the priority: "<mail.info> " */
		if (body < end && *body == '<') {
			q = memchr(body, '>', (size_t)(end - body));
			if (!q || q - body > 32 || q + 1 >= end || q[1] != ' ')
				return -2;
			body = q + 2;
		}
	}
	if (!header(body, end, &m) || (mta = which_mta(&m)) == MTA_NONE) {
		if (!exim_native) {
			/* a header we know nothing about is no garbage */
			return body != p || header(body, end, &m) ? SCAN_NONE
								  : -2;
		}
		/* Exim's mainlog: the stamp and then the message */
		memset(&m, 0, sizeof(m));
		m.p = body;
		m.end = end;
		m.prog = "exim";
		m.proglen = 4;
		mta = MTA_EXIM;
	}
	m.time = t;
	m.linelen = (size_t)(end - p);
	ev->mta = mta_name[mta];
	switch (mta) {
	case MTA_POSTFIX_SMTPD:
		r = scan_postfix_smtpd(&s->ctx, &m, ev);
		break;
	case MTA_POSTSCREEN:
		r = scan_postscreen(&s->ctx, &m, ev);
		break;
	case MTA_POSTFIX_CLEANUP:
		r = scan_postfix_cleanup(&s->ctx, &m, ev);
		break;
	case MTA_POSTFIX_DNSBLOG:
		r = scan_postfix_dnsblog(&s->ctx, &m, ev);
		break;
	case MTA_EXIM:
		r = scan_exim(&s->ctx, &m, ev);
		if (r == SCAN_EVENT && ev->time > 0)
			return r; /* Exim's own stamp inside */
		break;
	case MTA_SENDMAIL:
		r = scan_sendmail(&s->ctx, &m, ev);
		break;
	case MTA_OPENSMTPD:
		r = scan_opensmtpd(&s->ctx, &m, ev);
		break;
	case MTA_POSTGREY:
		r = scan_postgrey(&s->ctx, &m, ev);
		break;
	case MTA_COURIER:
		r = scan_courier(&s->ctx, &m, ev);
		break;
	case MTA_QMAIL:
		r = scan_qmail(&s->ctx, &m, ev);
		break;
	default:
		r = SCAN_NONE;
		break;
	}
	if (r == SCAN_EVENT)
		ev->time = t ? t : s->ref_time;
	return r;
}

int scanner_feed(struct scanner *s, const char *line, size_t len,
		 struct scan_event *ev)
{
	const char *end;
	int r;

	s->st.lines++;
	if (!line && len) {
		s->st.garbage++; /* an over-long line (lineframe.h) */
		return 0;
	}
	while (line && len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!line || len == 0) {
		s->st.ignored++;
		return 0;
	}
	/* no MTA writes NUL or lines this long: fail closed */
	if (len > SCAN_LINE_MAX || memchr(line, '\0', len)) {
		s->st.garbage++;
		return 0;
	}
	end = line + len;
	memset(ev, 0, sizeof(*ev));
	r = scan_line(s, line, end, ev);
	if (r == SCAN_EVENT) {
		if (!ev->tags[0])
			SCAN_TAG(ev, "other");
		s->st.events++;
		return 1;
	}
	if (r == -2) {
		s->st.garbage++;
	} else {
		s->st.ignored++;
		if (r == SCAN_UNPARSED)
			s->st.unparsed++;
	}
	return 0;
}

/* ---- helpers for the parsers ---- */

/*
 * scan_addr - the client address from the bytes the MTA wrote for it:
 * IPv4, IPv6, "IPv6:..." (Sendmail) and "::ffff:a.b.c.d" (becomes IPv4).
 * Refuses "unknown", "local", the unspecified address and anything that
 * does not parse strictly.
 */
bool scan_addr(const char *p, size_t n, struct cidr *out)
{
	char buf[64];
	size_t i;

	if (n >= 5 && !strncasecmp(p, "IPv6:", 5)) {
		p += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(buf))
		return false;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (!sc_digit(c) && c != '.' && c != ':' &&
		    !((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
			return false;
		buf[i] = c;
	}
	buf[n] = '\0';
	if (cidr_parse(buf, CIDR_HOST_ONLY, out, NULL, 0) != 0)
		return false;
	for (i = 0; i < 16; i++)
		if (out->addr[i])
			return true;
	return false; /* 0.0.0.0 or :: is nobody's address */
}

/* scan_tag - add a tag once; silently dropped when the list is full */
void scan_tag(struct scan_event *ev, const char *tag, size_t n)
{
	size_t have = strlen(ev->tags);
	const char *p = ev->tags;

	if (n == 0)
		return;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == n && !memcmp(p, tag, n))
			return;
		p += l + (c ? 1 : 0);
	}
	if (have + (have ? 1 : 0) + n + 1 > sizeof(ev->tags))
		return;
	if (have)
		ev->tags[have++] = ',';
	memcpy(ev->tags + have, tag, n);
	ev->tags[have + n] = '\0';
}

static inline char lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/*
 * scan_echo_end - p at the '<' of an address an MTA echoes from the
 * client ("<a@b>", "<\"x y\"@b>"): the byte after the '>' that closes it,
 * reading a quoted string as one unit, or NULL when none closes it.
 */
const char *scan_echo_end(const char *p, const char *end)
{
	bool quoted = false;

	if (!p || p >= end || *p != '<')
		return NULL;
	for (p++; p < end; p++) {
		if (quoted && *p == '\\' && p + 1 < end)
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '>')
			return p + 1;
	}
	return NULL;
}

/*
 * scan_echo_closed - no '>' in [p, end) but one closing a '<' opened in
 * it (quoted strings skipped): a reason read after an echo holds a stray
 * '>' when the client's echo went on past where it seemed to end
 * ("<a>: greylisted>: relay not permitted"), and is not to be trusted
 */
bool scan_echo_closed(const char *p, const char *end)
{
	const char *e;

	for (; p && p < end; p++) {
		if (*p == '>')
			return false;
		if (*p == '<') {
			e = scan_echo_end(p, end);
			if (!e)
				return false;
			p = e - 1;
		}
	}
	return true;
}

/*
 * A reason text in lower case with what the client may have written into
 * it blanked: quoted strings and <...> spans are echoed addresses (an MTA
 * names its reason in plain words), so "<\"blocked using x.example\"@y>"
 * in a reply gives no tag. Texts longer than the buffer are read to its
 * length: no MTA's reason is that long.
 */
struct lowered {
	const char *p; /* the text */
	size_t n;
	char buf[1024];
};

static void lowered_init(struct lowered *l, const char *p, const char *end)
{
	size_t i, n = (size_t)(end - p);
	const char *e;

	if (n > sizeof(l->buf))
		n = sizeof(l->buf);
	l->p = p;
	l->n = n;
	for (i = 0; i < n; i++)
		l->buf[i] = lc(p[i]);
	for (i = 0; i < n; i++) {
		if (l->buf[i] == '<') {
			e = scan_echo_end(p + i, p + n);
			e = e ? e : p + n;
		} else if (l->buf[i] == '"') {
			e = memchr(p + i + 1, '"', n - i - 1);
			e = e ? e + 1 : p + n;
		} else {
			continue;
		}
		memset(l->buf + i, ' ', (size_t)(e - (p + i)));
		i = (size_t)(e - p) - 1;
	}
}

/* lfind - the first place of lower-case s in the text, else NULL */
static const char *lfind(const struct lowered *l, const char *s, size_t n)
{
	const char *q;

	/* memchr() and a compare: glibc's memmem() builds a table per call */
	for (q = l->buf; (size_t)(l->buf + l->n - q) >= n; q++) {
		q = memchr(q, s[0], (size_t)(l->buf + l->n - q) - n + 1);
		if (!q)
			return NULL;
		if (!memcmp(q + 1, s + 1, n - 1))
			return l->p + (q - l->buf);
	}
	return NULL;
}
#define IFIND(l, s) lfind(l, s, sizeof(s) - 1)

static inline bool zone_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       sc_digit(c) || c == '.' || c == '-' || c == '_';
}

/*
 * scan_zone_tag - a DNSBL zone at p ("zen.spamhaus.org; ..."): a host name
 * with at least one dot, tagged in lower case. The callers read it only
 * where the MTA writes the zone it queried.
 */
bool scan_zone_tag(struct scan_event *ev, const char *p, const char *end)
{
	char z[48];
	size_t n = 0;
	bool dot = false;

	while (p < end && zone_char(*p) && n < sizeof(z) - 1) {
		dot |= *p == '.';
		z[n++] = lc(*p++);
	}
	while (n && z[n - 1] == '.') {
		n--;
	}
	if (!dot || n < 4 || (p < end && zone_char(*p)))
		return false;
	scan_tag(ev, z, n);
	return true;
}

/*
 * scan_classify - reason tags from the MTA's reason text [p, end): the
 * DNSBL zone where the text names one, else the category whose words come
 * first in the text (the MTA's own words lead: "Domain of sender address
 * greylist@x does not exist" is bad-sender). The callers pass only the
 * part of a reply the MTA wrote, after any echo of the client's text.
 */
void scan_classify(struct scan_event *ev, const char *p, const char *end)
{
	static const struct {
		const char *needle;
		uint8_t len;
		const char *tag;
	} cat[] = {
#define C(n, t) {n, sizeof(n) - 1, t}
	    C("greylist", "greylist"),
	    C("helo command rejected", "bad-helo"),
	    C("invalid helo", "bad-helo"),
	    C("invalid domain name", "bad-helo"),
	    C("relay access denied", "relay"),
	    C("relaying denied", "relay"),
	    C("relaying temporarily denied", "relay"),
	    C("relay not permitted", "relay"),
	    C("cannot find your", "baddns"),
	    C("reverse hostname", "baddns"),
	    C("reverse dns", "baddns"),
	    C("ptr record", "baddns"),
	    C("name lookup failed", "baddns"),
	    C("name possibly forged", "baddns"),
	    C("user unknown", "unknown-user"),
	    C("unknown user", "unknown-user"),
	    C("no such user", "unknown-user"),
	    C("undeliverable address", "unknown-user"),
	    C("invalid recipient", "unknown-user"),
	    C("recipient unknown", "unknown-user"),
	    C("mailbox unavailable", "unknown-user"),
	    C("sender address rejected", "bad-sender"),
	    C("sender verify fail", "bad-sender"),
	    C("domain of sender address", "bad-sender"),
	    C("sender rejected", "bad-sender"),
	    C("protocol error", "protocol"),
	    C("command unrecognized", "protocol"),
	    C("command not supported", "protocol"),
	    C("command not allowed", "protocol"),
	    C("esmtp command error", "protocol"),
	    C("already identified", "protocol"),
	    C("syntax error", "protocol"),
	    C("pipelining", "protocol"),
	    C("authentication", "auth"),
#undef C
	};
	static const char *const zone_lead[] = {
	    "blocked using ", "listed at ",	 "found in dnsbl ",
	    "black list at ", "blacklisted at ", "listed in ",
	};
	const char *q, *best = NULL;
	struct lowered l;
	size_t i, bi = 0;

	if (!p || p >= end)
		return;
	lowered_init(&l, p, end);
	for (i = 0; i < ARRAY_SIZE(zone_lead); i++) {
		q = lfind(&l, zone_lead[i], strlen(zone_lead[i]));
		if (q && scan_zone_tag(ev, q + strlen(zone_lead[i]), p + l.n))
			break;
	}
	if (i == ARRAY_SIZE(zone_lead) &&
	    (IFIND(&l, " rbl") || IFIND(&l, "blacklist") ||
	     IFIND(&l, "dnsbl") || IFIND(&l, "blocklist")))
		SCAN_TAG(ev, "dnsbl");
	if (IFIND(&l, "dynamic") || IFIND(&l, "dialup") || IFIND(&l, "dial-up"))
		SCAN_TAG(ev, "dialup");
	for (i = 0; i < ARRAY_SIZE(cat); i++) {
		q = lfind(&l, cat[i].needle, cat[i].len);
		if (q && (!best || q < best)) {
			best = q;
			bi = i;
		}
	}
	if (best)
		scan_tag(ev, cat[bi].tag, strlen(cat[bi].tag));
}

/* scan_spamtrap - tag "spamtrap" when the recipient is in the list */
void scan_spamtrap(struct scan_ctx *c, struct scan_event *ev, const char *p,
		   size_t n)
{
	size_t i, j;

	if (n && *p == '<' && p[n - 1] == '>') {
		p++;
		n -= 2;
	}
	for (i = 0; i < c->ntraps; i++) {
		if (strlen(c->traps[i]) != n)
			continue;
		for (j = 0; j < n && lc(p[j]) == c->traps[i][j]; j++)
			;
		if (j == n) {
			SCAN_TAG(ev, "spamtrap");
			return;
		}
	}
}

uint32_t scan_hash(const char *k, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (uint8_t)k[i]) * 16777619u;
	return h;
}

static size_t kv_slot(const char *k, size_t n)
{
	return scan_hash(k, n) % SCAN_KV_SLOTS;
}

struct scan_kv *scan_kv_get(struct scan_ctx *c, const char *k, size_t n)
{
	struct scan_kv *e;

	if (n == 0 || n > SCAN_KEY_MAX || !c->kv)
		return NULL;
	e = &c->kv[kv_slot(k, n)];
	if (!e->used || e->klen != n || memcmp(e->key, k, n))
		return NULL;
	return e;
}

/* scan_kv_put - the slot for k, emptied; evicts whatever held it */
struct scan_kv *scan_kv_put(struct scan_ctx *c, const char *k, size_t n)
{
	struct scan_kv *e;

	if (n == 0 || n > SCAN_KEY_MAX)
		return NULL;
	/* allocated on first use: most logs never need it */
	if (!c->kv)
		c->kv = xcalloc(SCAN_KV_SLOTS, sizeof(*c->kv));
	e = &c->kv[kv_slot(k, n)];
	memset(e, 0, sizeof(*e));
	memcpy(e->key, k, n);
	e->klen = (uint8_t)n;
	e->used = 1;
	return e;
}

void scan_kv_del(struct scan_ctx *c, const char *k, size_t n)
{
	struct scan_kv *e = scan_kv_get(c, k, n);

	if (e)
		memset(e, 0, sizeof(*e));
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * scan_int.h - what scan.c shares with the per-MTA parsers scan_*.c:
 * the parsed line prefix, cursor helpers that never read past the end of
 * the line, address validation, reason tags and the bounded key/value
 * table for cross-line state. Not for use outside the scanner.
 *
 * Every parser gets the message (the text after "prog[pid]: ") as a
 * [p, end) byte range that is not NUL-terminated and returns SCAN_EVENT,
 * SCAN_NONE or SCAN_UNPARSED (rejection-shaped, but the address was not in
 * its place: fail closed).
 */
#ifndef MXWALL_SCAN_INT_H
#define MXWALL_SCAN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mta/scan.h"

enum { SCAN_UNPARSED = -1, SCAN_NONE = 0, SCAN_EVENT = 1 };

struct scan_msg {
	const char *p, *end; /* the message text */
	const char *prog;    /* last path component of the program */
	size_t proglen;
	uint32_t pid;	/* 0 when the line has none */
	int64_t time;	/* 0 when the line carries no time stamp */
	bool prog_path; /* "postfix/smtpd": a Postfix component */
	size_t linelen; /* the whole line, prefix included */
};

/*
 * Syslog daemons cut long lines (RFC 3164: 1024 bytes; RFC 5424 receivers
 * take at least 480). In a shape where the client's text comes before the
 * client address, or where the address ends the line, a cut placed by a
 * client that pads its text can leave a forged anchor, or half an
 * address, at the end. Such shapes refuse lines this long: a padded line
 * is cut at or above it, and refused (fail closed).
 */
#define SCAN_CUT_LEN 480
#define SCAN_CUT_RISK(m) ((m)->linelen >= SCAN_CUT_LEN)

/* cross-line state: a direct-mapped table, a colliding key evicts */
#define SCAN_KV_SLOTS 4096
#define SCAN_KEY_MAX 40
struct scan_kv {
	char key[SCAN_KEY_MAX];
	uint8_t klen;
	uint8_t used;
	uint8_t flags;
	struct cidr ip;
	uint64_t val;
};

struct pf_qids;	   /* postfix.c: queue id -> client, the last SCAN_QIDS */
struct pf_dnsblog; /* postfix.c: dnsblog's last listings, for postscreen */
#define SCAN_QIDS 8192

/* what the parsers may reach in the scanner */
struct scan_ctx {
	struct scan_kv *kv;	    /* SCAN_KV_SLOTS entries, or NULL */
	struct pf_qids *qids;	    /* made on the first smtpd client= line */
	struct pf_dnsblog *dnsblog; /* made on the first dnsblog listing */
	char **traps;		    /* lower-case spamtrap addresses */
	size_t ntraps;
	int64_t cache_key; /* local-time conversion cache */
	int64_t cache_base;
};

/* scan.c: helpers */
bool scan_addr(const char *p, size_t n, struct cidr *out);
void scan_tag(struct scan_event *ev, const char *tag, size_t n);
#define SCAN_TAG(ev, lit) scan_tag(ev, lit, sizeof(lit) - 1)
void scan_classify(struct scan_event *ev, const char *p, const char *end);
const char *scan_echo_end(const char *p, const char *end);
bool scan_echo_closed(const char *p, const char *end);
bool scan_zone_tag(struct scan_event *ev, const char *p, const char *end);
void scan_spamtrap(struct scan_ctx *c, struct scan_event *ev, const char *p,
		   size_t n);
int64_t scan_parse_isotime(struct scan_ctx *c, const char *p, const char *end,
			   const char **next, bool *ok);
/* scan_hash - FNV-1a 32 of a key */
uint32_t scan_hash(const char *k, size_t n);
struct scan_kv *scan_kv_get(struct scan_ctx *c, const char *k, size_t n);
struct scan_kv *scan_kv_put(struct scan_ctx *c, const char *k, size_t n);
void scan_kv_del(struct scan_ctx *c, const char *k, size_t n);

/* the parsers */
int scan_postfix_smtpd(struct scan_ctx *c, const struct scan_msg *m,
		       struct scan_event *ev);
int scan_postscreen(struct scan_ctx *c, const struct scan_msg *m,
		    struct scan_event *ev);
int scan_postfix_cleanup(struct scan_ctx *c, const struct scan_msg *m,
			 struct scan_event *ev);
int scan_postfix_dnsblog(struct scan_ctx *c, const struct scan_msg *m,
			 struct scan_event *ev);
void scan_postfix_free(struct scan_ctx *c);
int scan_postfix_reject(struct scan_ctx *c, const char *p, const char *end,
			struct scan_event *ev);
int scan_exim(struct scan_ctx *c, const struct scan_msg *m,
	      struct scan_event *ev);
int scan_sendmail(struct scan_ctx *c, const struct scan_msg *m,
		  struct scan_event *ev);
int scan_opensmtpd(struct scan_ctx *c, const struct scan_msg *m,
		   struct scan_event *ev);
int scan_postgrey(struct scan_ctx *c, const struct scan_msg *m,
		  struct scan_event *ev);
int scan_courier(struct scan_ctx *c, const struct scan_msg *m,
		 struct scan_event *ev);
int scan_qmail(struct scan_ctx *c, const struct scan_msg *m,
	       struct scan_event *ev);

/* sc_lit - p starts with lit: the byte after it, else NULL */
static inline const char *sc_lit(const char *p, const char *end,
				 const char *lit, size_t n)
{
	if (!p || (size_t)(end - p) < n || memcmp(p, lit, n))
		return NULL;
	return p + n;
}
#define LIT(p, end, s) sc_lit(p, end, s, sizeof(s) - 1)

/* sc_find - first occurrence of s in [p, end), else NULL */
static inline const char *sc_find(const char *p, const char *end, const char *s,
				  size_t n)
{
	if (!p || p >= end)
		return NULL;
	return memmem(p, (size_t)(end - p), s, n);
}
#define FIND(p, end, s) sc_find(p, end, s, sizeof(s) - 1)

/* sc_rfind - last occurrence of s in [p, end), else NULL */
static inline const char *sc_rfind(const char *p, const char *end,
				   const char *s, size_t n)
{
	const char *q, *last = NULL;

	while ((q = sc_find(p, end, s, n))) {
		last = q;
		p = q + 1;
	}
	return last;
}
#define RFIND(p, end, s) sc_rfind(p, end, s, sizeof(s) - 1)

/* sc_count - occurrences of s in [p, end), counting up to 3 */
static inline int sc_count(const char *p, const char *end, const char *s,
			   size_t n)
{
	int k = 0;
	const char *q;

	while (k < 3 && (q = sc_find(p, end, s, n))) {
		k++;
		p = q + 1;
	}
	return k;
}
#define COUNT(p, end, s) sc_count(p, end, s, sizeof(s) - 1)

static inline bool sc_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* sc_digits - skip one or more digits; NULL when there is none */
static inline const char *sc_digits(const char *p, const char *end)
{
	const char *q = p;

	while (q && q < end && sc_digit(*q))
		q++;
	return q && q > p ? q : NULL;
}

/* sc_token - skip to the next space (or end); NULL for NULL p */
static inline const char *sc_token(const char *p, const char *end)
{
	const char *q;

	if (!p)
		return NULL;
	q = memchr(p, ' ', (size_t)(end - p));
	return q ? q : end;
}

#endif /* MXWALL_SCAN_INT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * listfile.c - the `load` format, parsed whole before anything is applied
 * (pfctl's load_addr before pfr_add_addrs; spamd-setup's "replace").
 *
 * A line is: optional blanks, a CIDR, optional blanks, optional comment
 * starting with '#' or ';'. A CR before the newline is tolerated (lists
 * fetched from the web often carry one). Anything else after the CIDR, a
 * NUL byte, or an address cidr_parse() refuses is an error naming the file
 * and line; /0 is refused as everywhere else.
 */
#include <endian.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/listfile.h"
#include "core/mxwall.h"

/*
 * lf_escape - the message with control bytes as \xNN: a line of the file
 * is quoted in errors, and an ESC in it must not reach the terminal
 */
static void lf_escape(char *s, size_t len)
{
	char tmp[1024];
	size_t i, o = 0;

	for (i = 0; s[i] && o + 5 < sizeof(tmp); i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(tmp + o, sizeof(tmp) - o,
					      "\\x%02x", ch);
		else
			tmp[o++] = (char)ch;
	}
	tmp[o] = '\0';
	snprintf(s, len, "%s", tmp);
}

static int lf_fail(char *err, size_t errlen, const char *name, size_t line,
		   const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && errlen) {
		snprintf(err, errlen, "%s:%zu: %s", name, line, msg);
		lf_escape(err, errlen);
	}
	return -EINVAL;
}

/*
 * cmp_cidr - cidr_cmp() order, on two 64-bit loads instead of memcmp: a
 * million-line list spends most of its sort time here.
 */
static int cmp_cidr(const void *pa, const void *pb)
{
	const struct cidr *a = pa, *b = pb;
	uint64_t x, y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	memcpy(&x, a->addr, 8);
	memcpy(&y, b->addr, 8);
	if (x != y)
		return be64toh(x) < be64toh(y) ? -1 : 1;
	memcpy(&x, a->addr + 8, 8);
	memcpy(&y, b->addr + 8, 8);
	if (x != y)
		return be64toh(x) < be64toh(y) ? -1 : 1;
	if (a->plen != b->plen)
		return a->plen < b->plen ? -1 : 1;
	return 0;
}

/* radix_sort_u64 - LSD radix sort on the low `bits` bits, 8 at a time */
static void radix_sort_u64(uint64_t *k, size_t n, unsigned int bits)
{
	uint64_t *tmp = xreallocarray(NULL, n, sizeof(*tmp)), *src = k,
		 *dst = tmp, *t;
	size_t count[256], i, sum, c;
	unsigned int shift;

	for (shift = 0; shift < bits; shift += 8) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(src[i] >> shift) & 0xff]++;
		for (i = 0, sum = 0; i < 256; i++) {
			c = count[i];
			count[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != k)
		memcpy(k, src, n * sizeof(*k));
	free(tmp);
}

/*
 * sort_unique - sort v in cidr_cmp() order and drop duplicates; returns
 * the new count. IPv4 entries (nearly all of a big list) sort as 40-bit
 * keys (address, prefix length) with a radix sort; a generic sort moving
 * 20-byte structs cost more than the parsing of a 1M-line list.
 */
static size_t sort_unique(struct cidr *v, size_t cnt)
{
	size_t n4 = 0, n6 = 0, i, out = 0;
	uint64_t *k4;
	uint32_t a;

	for (i = 0; i < cnt; i++)
		if (v[i].family == AF_INET)
			n4++;
	k4 = xreallocarray(NULL, n4 ? n4 : 1, sizeof(*k4));
	for (i = 0, n4 = 0; i < cnt; i++) {
		if (v[i].family == AF_INET) {
			memcpy(&a, v[i].addr, 4);
			k4[n4++] = (uint64_t)ntohl(a) << 8 | v[i].plen;
		} else {
			v[n6++] = v[i]; /* v6 entries move to the front */
		}
	}
	if (n6 > 1)
		qsort(v, n6, sizeof(*v), cmp_cidr);
	/* v4 sorts before v6: make room, then write v4 back in order */
	if (n4 && n6)
		memmove(v + n4, v, n6 * sizeof(*v));
	if (n4 > 1)
		radix_sort_u64(k4, n4, 40);
	for (i = 0; i < n4; i++) {
		if (i && k4[i] == k4[i - 1])
			continue;
		memset(&v[out], 0, sizeof(v[out]));
		v[out].family = AF_INET;
		v[out].plen = (uint8_t)(k4[i] & 0xff);
		a = htonl((uint32_t)(k4[i] >> 8));
		memcpy(v[out].addr, &a, 4);
		out++;
	}
	free(k4);
	for (i = n4; i < n4 + n6; i++) {
		if (i > n4 && !cmp_cidr(&v[i - 1], &v[i]))
			continue;
		v[out++] = v[i];
	}
	return out;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int listfile_parse(const char *name, const char *buf, size_t len,
		   struct cidr **out, size_t *n, listfile_warn_fn warn,
		   void *warn_arg, char *err, size_t errlen)
{
	struct cidr *v = NULL, c;
	size_t cnt = 0, cap = 0, lineno = 0, out_n;
	const char *p = buf, *end = buf + len, *eol, *s, *e, *tok_end;
	char tok[128], why[160], msg[384], now[CIDR_STRLEN];
	int r;

	while (p < end) {
		lineno++;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		if (memchr(p, '\0', (size_t)(eol - p))) {
			free(v);
			return lf_fail(err, errlen, name, lineno,
				       "NUL byte in the line");
		}
		/* the comment ends the line */
		for (e = p; e < eol && *e != '#' && *e != ';'; e++)
			;
		for (s = p; s < e && is_blank(*s); s++)
			;
		while (e > s && is_blank(e[-1]))
			e--;
		p = eol + 1;
		if (s == e)
			continue;
		for (tok_end = s; tok_end < e && !is_blank(*tok_end); tok_end++)
			;
		if (tok_end != e) {
			const char *t = tok_end;

			while (t < e && is_blank(*t))
				t++;
			free(v);
			return lf_fail(
			    err, errlen, name, lineno,
			    "unexpected '%.*s' after the address (one CIDR per "
			    "line; comments start with '#' or ';')",
			    (int)(e - t > 40 ? 40 : e - t), t);
		}
		if ((size_t)(tok_end - s) >= sizeof(tok)) {
			free(v);
			return lf_fail(err, errlen, name, lineno,
				       "'%.40s...': not an IP address", s);
		}
		memcpy(tok, s, (size_t)(tok_end - s));
		tok[tok_end - s] = '\0';
		r = cidr_parse(tok, 0, &c, why, sizeof(why));
		if (r < 0) {
			free(v);
			return lf_fail(err, errlen, name, lineno, "%s", why);
		}
		if (r == CIDR_MASKED && warn) {
			cidr_format(&c, now, sizeof(now));
			snprintf(msg, sizeof(msg),
				 "%s:%zu: %s has host bits set; using %s", name,
				 lineno, tok, now);
			warn(msg, warn_arg);
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[cnt++] = c;
	}
	out_n = sort_unique(v, cnt);
	*out = v;
	*n = out_n;
	return 0;
}

/*
 * read_all - the whole file into memory; a list of 1M lines is ~20 MB.
 * Bounded (LISTFILE_MAX_BYTES: -EFBIG) and text only (a NUL byte:
 * -EILSEQ), so that `load /dev/zero` or a runaway pipe stops at once.
 */
static int read_all(int fd, char **buf, size_t *len)
{
	size_t cap = 1 << 16, have = 0;
	char *b = xmalloc(cap);
	ssize_t r;

	for (;;) {
		if (have == cap) {
			if (cap >= LISTFILE_MAX_BYTES) {
				free(b);
				return -EFBIG;
			}
			cap *= 2;
			b = xreallocarray(b, cap, 1);
		}
		r = read(fd, b + have, cap - have);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			free(b);
			return (int)r;
		}
		if (r == 0)
			break;
		if (memchr(b + have, '\0', (size_t)r)) {
			free(b);
			return -EILSEQ;
		}
		have += (size_t)r;
	}
	*buf = b;
	*len = have;
	return 0;
}

int listfile_read(const char *path, struct cidr **out, size_t *n,
		  listfile_warn_fn warn, void *warn_arg, char *err,
		  size_t errlen)
{
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd, r;

	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r;
	}
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		if (fd)
			close(fd);
		snprintf(err, errlen, "%s: is a directory", name);
		return -EISDIR;
	}
	r = read_all(fd, &buf, &len);
	if (fd)
		close(fd);
	if (r == -EFBIG)
		snprintf(err, errlen,
			 "%s: longer than %d MiB: not a list mxwall loads",
			 name, LISTFILE_MAX_BYTES >> 20);
	else if (r == -EILSEQ)
		snprintf(err, errlen, "%s: a NUL byte: not a text file", name);
	else if (r)
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
	if (r) {
		lf_escape(err, errlen);
		return r;
	}
	r = listfile_parse(name, buf, len, out, n, warn, warn_arg, err, errlen);
	free(buf);
	return r;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - writing the entries as rbldnsd data, an RFC 5782 zone, the
 * `load` format or JSON (export.h says what each promises).
 *
 * rbldnsd's ip4trie/ip6trie datasets answer by longest prefix with
 * exclusions, as the filter does, so that format is one line per entry.
 * A zone file has no longest-prefix rule, only names and wildcards, and a
 * wildcard stops applying below any name that exists. So the zone is
 * built as a tree of label prefixes (octets for IPv4, nibbles for IPv6):
 * every name that exists gets a wildcard holding what covers it in the
 * filter, hosts get their own records, and an exclusion gets a marker
 * record (HINFO) that makes its name exist without listing it.
 *
 * One zone holds one family: an IPv4 name such as "*.0.2" is also an IPv6
 * nibble name, so a wildcard of one family would answer for the other.
 * IPv6 names are at least 5 labels (/20): a reader tells the families
 * apart by the label count (4 or fewer: IPv4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mxwall.h"
#include "fleet/export.h"
#include "report/table.h"

static const char *const format_names[] = {
    [EXPORT_RBLDNSD] = "rbldnsd",
    [EXPORT_ZONE] = "zone",
    [EXPORT_PLAIN] = "plain",
    [EXPORT_JSON] = "json",
};

int export_parse_format(const char *s, enum export_format *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(format_names); i++) {
		if (!strcmp(s, format_names[i])) {
			*out = (enum export_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *export_format_name(enum export_format f)
{
	return f < ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

uint32_t export_next_serial(uint32_t prev, int64_t now)
{
	uint32_t s = now > 0 && now < UINT32_MAX ? (uint32_t)now : 1;

	return prev && s <= prev ? prev + 1 : s;
}

uint32_t export_read_serial(const char *path)
{
	char line[256];
	unsigned long v;
	uint32_t serial = 0;
	FILE *f = fopen(path, "re");
	int i;

	if (!f)
		return 0;
	/* our header says "; serial N" within its first lines */
	for (i = 0; i < 8 && fgets(line, sizeof(line), f); i++) {
		if (sscanf(line, "; serial %lu", &v) == 1 && v <= UINT32_MAX) {
			serial = (uint32_t)v;
			break;
		}
	}
	fclose(f);
	return serial;
}

static bool selected(const struct mx_entry *e, enum export_select sel)
{
	if (sel == EXPORT_STATIC)
		return e->origin == MX_ORIGIN_STATIC;
	if (sel == EXPORT_DYNAMIC)
		return e->origin != MX_ORIGIN_STATIC;
	return true;
}

/* listed: the filter drops SYNs from it; else it is an exclusion */
static bool listed(const struct mx_entry *e)
{
	return e->action == MX_ACT_DROP && !e->observe;
}

static const char *a_value(const struct mx_entry *e)
{
	return e->origin == MX_ORIGIN_STATIC ? EXPORT_A_STATIC
					     : EXPORT_A_DYNAMIC;
}

/*
 * reason_text - "listed by mxwall: bad-helo, relay" from the tags, without
 * the bookkeeping ones; tags are [A-Za-z0-9._:-] so nothing needs quoting.
 */
static void reason_text(const struct mx_entry *e, char *buf, size_t len)
{
	const char *p = e->tags;
	size_t off;
	bool first = true;

	off = (size_t)snprintf(buf, len, "listed by mxwall");
	while (*p && off < len) {
		const char *t = p;
		size_t l = strcspn(p, ",");

		p += l;
		if (*p == ',')
			p++;
		if (!l || (l == 1 && t[0] == 'a') ||
		    (l == 6 && !strncmp(t, "static", 6)))
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%.*s",
					first ? ": " : ", ", (int)l, t);
		first = false;
	}
}

static void write_plain_tags(FILE *f, const struct mx_entry *e)
{
	const char *p = e->tags;
	bool first = true;

	while (*p) {
		size_t l = strcspn(p, ",");

		if (l)
			fprintf(f, "%s%.*s", first ? " ; " : ",", (int)l, p);
		first = first && !l;
		p += l;
		if (*p == ',')
			p++;
	}
	if (e->origin == MX_ORIGIN_STATIC)
		fputs(first ? " ; static" : ",static", f);
}

static void write_header(FILE *f, const struct export_opts *o, size_t n,
			 const char *comment)
{
	char when[64];

	fmt_time_iso(o->now, when, sizeof(when));
	fprintf(f, "%s mxwall export, format %s, %zu entr%s, %s%s%s\n", comment,
		export_format_name(o->format), n, n == 1 ? "y" : "ies", when,
		o->source ? ", from " : "", o->source ? o->source : "");
}

/* --- rbldnsd ----------------------------------------------------------- */

static void write_rbldnsd(FILE *f, const struct mx_entry *rows, size_t n,
			  const struct export_opts *o)
{
	static const struct {
		int family;
		const char *dataset;
	} sets[] = {
	    {AF_INET, "ip4trie:mxwall-ipv4"},
	    {AF_INET6, "ip6trie:mxwall-ipv6"},
	};
	char host[CIDR_STRLEN], txt[MX_TAGS_LEN + 64];
	size_t s, i;

	write_header(f, o, n, "#");
	for (s = 0; s < ARRAY_SIZE(sets); s++) {
		fprintf(f, "$DATASET %s @\n", sets[s].dataset);
		fprintf(f, ":%s:listed by mxwall\n", EXPORT_A_DYNAMIC);
		for (i = 0; i < n; i++) {
			const struct mx_entry *e = &rows[i];

			if (e->net.family != sets[s].family)
				continue;
			cidr_format(&e->net, host, sizeof(host));
			if (!listed(e)) {
				fprintf(f, "!%s\n", host);
				continue;
			}
			reason_text(e, txt, sizeof(txt));
			fprintf(f, "%s :%s:%s\n", host, a_value(e), txt);
		}
	}
}

/* --- zone -------------------------------------------------------------- */

/*
 * A node of the label tree: an aligned prefix (plen a multiple of 8 for
 * IPv4, of 4 for IPv6). own: the entry that ends exactly here (after
 * expansion), or NULL; cover: what the filter does for an address below
 * it that no deeper node names.
 */
struct znode {
	struct cidr net;
	const struct mx_entry *own;
	unsigned int own_len; /* the entry's real prefix length */
	const struct mx_entry *cover;
};

/* the shortest IPv6 name written: 5 nibbles, never mistaken for IPv4 */
#define ZONE_V6_MIN 20

struct ztree {
	struct znode *v;
	size_t n, cap;
};

static void zpush(struct ztree *t, const struct cidr *net,
		  const struct mx_entry *own, unsigned int own_len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 256;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n].net = *net;
	t->v[t->n].own = own;
	t->v[t->n].own_len = own_len;
	t->v[t->n].cover = NULL;
	t->n++;
}

/* by address, then shorter first: a parent sorts before its children */
static int zcmp(const void *a, const void *b)
{
	const struct znode *x = a, *y = b;
	int c = cidr_cmp(&x->net, &y->net);

	if (c)
		return c;
	/* the same name: an entry before a bare ancestor, longer entry first */
	if (!x->own != !y->own)
		return x->own ? -1 : 1;
	return (int)y->own_len - (int)x->own_len;
}

static unsigned int unit_of(const struct cidr *c)
{
	return c->family == AF_INET ? 8 : 4;
}

/* the name of an aligned prefix, relative to the zone: "100.51.198" */
static void zname(const struct cidr *c, char *buf, size_t len)
{
	unsigned int unit = unit_of(c), labels = c->plen / unit, i;
	size_t off = 0;

	buf[0] = '\0';
	for (i = labels; i-- > 0 && off < len;) {
		unsigned int v;

		if (unit == 8)
			v = c->addr[i];
		else
			v = (c->addr[i / 2] >> (i % 2 ? 0 : 4)) & 0xf;
		off += (size_t)snprintf(buf + off, len - off,
					unit == 8 ? "%s%u" : "%s%x",
					off ? "." : "", v);
	}
}

static void set_bits(struct cidr *c, unsigned int from, unsigned int nbits,
		     unsigned long v)
{
	unsigned int b;

	for (b = 0; b < nbits; b++) {
		unsigned int bit = from + b;

		if (v >> (nbits - 1 - b) & 1)
			c->addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	}
}

static void build_tree(struct ztree *t, const struct mx_entry *rows, size_t n,
		       struct export_stats *st)
{
	size_t i, k, m;

	for (i = 0; i < n; i++) {
		const struct mx_entry *e = &rows[i];
		unsigned int unit = unit_of(&e->net);
		unsigned int al = (e->net.plen + unit - 1) / unit * unit;
		unsigned int extra;

		if (e->net.family == AF_INET6 && al < ZONE_V6_MIN)
			al = ZONE_V6_MIN;
		extra = al - e->net.plen;
		if (extra && (1UL << extra) > EXPORT_MAX_EXPAND) {
			st->too_wide++;
			continue;
		}
		if (extra)
			st->expanded++;
		st->written++;
		/* an off-boundary prefix: every aligned prefix under it */
		for (k = 0; k < (1UL << extra); k++) {
			struct cidr c = e->net;

			c.plen = (uint8_t)al;
			set_bits(&c, e->net.plen, extra, k);
			zpush(t, &c, e, e->net.plen);
		}
	}
	/* the ancestors of every node, so that each existing name is known */
	m = t->n;
	for (i = 0; i < m; i++) {
		struct cidr c = t->v[i].net;
		unsigned int unit = unit_of(&c), l;

		for (l = unit; l < c.plen; l += unit) {
			struct cidr a;

			cidr_supernet(&c, l, &a);
			zpush(t, &a, NULL, 0);
		}
	}
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), zcmp);
	/* one node per name, keeping the longest real entry */
	for (i = 0, k = 0; i < t->n; i++) {
		if (k && !cidr_cmp(&t->v[k - 1].net, &t->v[i].net))
			continue;
		t->v[k++] = t->v[i];
	}
	t->n = k;
}

/* cover: own entry, else the nearest ancestor's cover (a DFS with a stack) */
static void resolve_cover(struct ztree *t)
{
	size_t *stack = xcalloc(t->n ? t->n : 1, sizeof(*stack)), depth = 0, i;

	for (i = 0; i < t->n; i++) {
		struct znode *z = &t->v[i];

		while (depth &&
		       !cidr_contains(&t->v[stack[depth - 1]].net, &z->net))
			depth--;
		z->cover = z->own  ? z->own
			   : depth ? t->v[stack[depth - 1]].cover
				   : NULL;
		stack[depth++] = i;
	}
	free(stack);
}

static void zrecord(FILE *f, const char *name, const struct mx_entry *e)
{
	char txt[MX_TAGS_LEN + 64];

	reason_text(e, txt, sizeof(txt));
	fprintf(f, "%s\tA\t%s\n%s\tTXT\t\"%s\"\n", name, a_value(e), name, txt);
}

static void write_zone(FILE *f, const struct mx_entry *rows, size_t n,
		       const struct export_opts *o, struct export_stats *st)
{
	struct ztree t = {0};
	char name[96], wild[100];
	size_t i;

	write_header(f, o, n, ";");
	fprintf(f, "; serial %u\n", o->serial);
	fprintf(f, "$ORIGIN %s.\n$TTL 300\n", o->zone);
	fprintf(f, "@\tSOA\tns.%s. hostmaster.%s. %u 3600 900 604800 300\n",
		o->zone, o->zone, o->serial);
	fprintf(f, "@\tNS\tns.%s.\n", o->zone);
	/* RFC 5782 section 5: the test entry (127.0.0.2, ::ffff:127.0.0.2)
	 * is listed, 127.0.0.1 is not */
	if (o->family == AF_INET)
		fprintf(f, "2.0.0.127\tA\t%s\n", EXPORT_A_DYNAMIC);
	else
		fprintf(f,
			"2.0.0.0.0.0.f.7.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			"0.0.0.0.0.0\tA\t%s\n",
			EXPORT_A_DYNAMIC);

	build_tree(&t, rows, n, st);
	resolve_cover(&t);
	for (i = 0; i < t.n; i++) {
		const struct znode *z = &t.v[i];
		bool full = z->net.plen == cidr_maxlen(&z->net);

		zname(&z->net, name, sizeof(name));
		if (full) {
			if (z->own && listed(z->own))
				zrecord(f, name, z->own);
			else if (z->own)
				fprintf(f, "%s\tHINFO\t\"mxwall\" \"allow\"\n",
					name);
			continue;
		}
		/* an exclusion netblock: its name exists, nothing below it
		 * falls through to a shorter wildcard */
		if (z->own && !listed(z->own))
			fprintf(f, "%s\tHINFO\t\"mxwall\" \"allow\"\n", name);
		if (z->cover && listed(z->cover)) {
			snprintf(wild, sizeof(wild), "*.%s", name);
			zrecord(f, wild, z->cover);
		}
	}
	free(t.v);
}

/* --- plain and json ---------------------------------------------------- */

static void write_plain(FILE *f, const struct mx_entry *rows, size_t n,
			const struct export_opts *o)
{
	char host[CIDR_STRLEN];
	size_t i;

	write_header(f, o, n, "#");
	for (i = 0; i < n; i++) {
		cidr_format(&rows[i].net, host, sizeof(host));
		fprintf(f, "%s%s", listed(&rows[i]) ? "" : "!", host);
		write_plain_tags(f, &rows[i]);
		fputc('\n', f);
	}
}

int export_write(FILE *f, struct mx_entry *rows, size_t n,
		 const struct export_opts *o, struct export_stats *st,
		 char *err, size_t errlen)
{
	size_t i, k;

	memset(st, 0, sizeof(*st));
	if (o->format == EXPORT_ZONE && (!o->zone || !o->zone[0])) {
		snprintf(err, errlen, "the zone format needs --zone NAME");
		return -EINVAL;
	}
	if (o->format == EXPORT_ZONE && !o->family) {
		snprintf(err, errlen,
			 "a zone holds one family: --family 4 or --family 6");
		return -EINVAL;
	}
	for (i = 0, k = 0; i < n; i++)
		if (selected(&rows[i], o->select) &&
		    (!o->family || rows[i].net.family == o->family))
			rows[k++] = rows[i];
	n = k;
	table_sort_address(rows, n);
	switch (o->format) {
	case EXPORT_RBLDNSD:
		write_rbldnsd(f, rows, n, o);
		break;
	case EXPORT_ZONE:
		write_zone(f, rows, n, o, st);
		return 0;
	case EXPORT_PLAIN:
		write_plain(f, rows, n, o);
		break;
	case EXPORT_JSON:
		table_print_json(f, rows, n);
		break;
	}
	st->written = n;
	return 0;
}

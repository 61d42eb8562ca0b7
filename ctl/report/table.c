// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - the top/report table, the JSON entry objects and aggregation.
 *
 * The text table is the report's format (mxwall(8) "The table of top,
 * list and report"): an address column at least TABLE_HOST_WIDTH wide
 * and widened for the longest entry (a full IPv6 netblock never pushes
 * the numbers out of line), packets right aligned, bytes in report units,
 * then the tags in brackets. Printing is deterministic: the same rows give
 * the same bytes, which the golden files
 * in selftests/golden/ hold us to.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "report/table.h"

/* append_tag - " [tag]" (no leading space at the start), truncating safely */
static void append_tag(char *buf, size_t len, size_t *off, const char *tag,
		       size_t taglen)
{
	int n;

	if (*off >= len)
		return;
	n = snprintf(buf + *off, len - *off, "%s[%.*s]", *off ? " " : "",
		     (int)taglen, tag);
	if (n < 0)
		return;
	*off += (size_t)n;
	if (*off >= len)
		*off = len - 1;
}

/* next_tag - walk a comma list: *p at the start of a tag; returns its length */
static size_t next_tag(const char **p)
{
	const char *s = *p, *comma;
	size_t l;

	comma = strchr(s, ',');
	l = comma ? (size_t)(comma - s) : strlen(s);
	*p = comma ? comma + 1 : s + l;
	return l;
}

static bool is_tag(const char *t, size_t l, const char *name)
{
	return strlen(name) == l && !strncmp(t, name, l);
}

void table_tags(const struct mx_entry *e, char *buf, size_t len)
{
	const char *p = e->tags, *t;
	size_t off = 0, l;

	if (!len)
		return;
	buf[0] = '\0';
	if (mx_tags_has(e->tags, "a"))
		append_tag(buf, len, &off, "a", 1);
	while (*p) {
		t = p;
		l = next_tag(&p);
		if (!l || is_tag(t, l, "a") || is_tag(t, l, "static") ||
		    is_tag(t, l, "allow") || is_tag(t, l, "observe"))
			continue;
		append_tag(buf, len, &off, t, l);
	}
	if (e->origin == MX_ORIGIN_STATIC)
		append_tag(buf, len, &off, "static", 6);
	if (e->action == MX_ACT_ALLOW)
		append_tag(buf, len, &off, "allow", 5);
	else if (e->observe)
		append_tag(buf, len, &off, "observe", 7);
}

void table_print(FILE *f, const struct mx_entry *rows, size_t n)
{
	char host[CIDR_STRLEN], bytes[32], tags[MX_TAGS_LEN * 2 + 32];
	char pkts[32];
	int hw = TABLE_HOST_WIDTH, pw = 10, l;
	size_t i;

	for (i = 0; i < n; i++) {
		l = (int)strlen(cidr_format(&rows[i].net, host, sizeof(host)));
		if (l > hw)
			hw = l;
		l = snprintf(pkts, sizeof(pkts), "%llu",
			     (unsigned long long)rows[i].packets);
		if (l > pw)
			pw = l;
	}
	fprintf(f, "%-*s %*s %7s  %s\n", hw, "Host/Mask", pw, "Packets",
		"Bytes", "Tags");
	for (i = 0; i < n; i++) {
		cidr_format(&rows[i].net, host, sizeof(host));
		fmt_bytes(rows[i].bytes, bytes, sizeof(bytes));
		table_tags(&rows[i], tags, sizeof(tags));
		fprintf(f, "%-*s %*llu %7s", hw, host, pw,
			(unsigned long long)rows[i].packets, bytes);
		if (tags[0])
			fprintf(f, "  %s", tags);
		fputc('\n', f);
	}
}

void entry_json_keys(FILE *f, const struct mx_entry *e)
{
	char host[CIDR_STRLEN], tag[MX_TAGS_LEN], src[MX_TAGS_LEN];
	const char *p = e->tags, *t;
	bool first = true;
	size_t l;

	mx_entry_source(e, src, sizeof(src));
	fputs("\"entry\":", f);
	json_str(f, cidr_format(&e->net, host, sizeof(host)));
	fputs(",\"action\":", f);
	json_str(f, mx_action_name(e));
	fprintf(f, ",\"packets\":%llu,\"bytes\":%llu,\"tags\":[",
		(unsigned long long)e->packets, (unsigned long long)e->bytes);
	if (mx_tags_has(e->tags, "a")) {
		json_str(f, "a");
		first = false;
	}
	while (*p) {
		t = p;
		l = next_tag(&p);
		if (!l || is_tag(t, l, "a") || is_tag(t, l, "static") ||
		    is_tag(t, l, "allow") || is_tag(t, l, "observe") ||
		    is_tag(t, l, src))
			continue;
		snprintf(tag, sizeof(tag), "%.*s", (int)l, t);
		if (!first)
			fputc(',', f);
		json_str(f, tag);
		first = false;
	}
	fputs("],\"origin\":", f);
	json_str(f, e->origin == MX_ORIGIN_STATIC ? "static" : "dynamic");
	fputs(",\"source\":", f);
	json_str(f, src);
	fputs(",\"added\":", f);
	json_time(f, e->added);
	fputs(",\"expires\":", f);
	json_time(f, e->expires);
	fputs(",\"last_hit\":", f);
	json_time(f, e->last_hit);
}

void entry_json(FILE *f, const struct mx_entry *e)
{
	fputc('{', f);
	entry_json_keys(f, e);
	fputc('}', f);
}

void table_print_json(FILE *f, const struct mx_entry *rows, size_t n)
{
	size_t i;

	if (!n) {
		fputs("[]\n", f);
		return;
	}
	fputs("[\n", f);
	for (i = 0; i < n; i++) {
		fputs("  ", f);
		entry_json(f, &rows[i]);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("]\n", f);
}

static int cmp_address(const void *a, const void *b)
{
	const struct mx_entry *x = a, *y = b;

	return cidr_cmp(&x->net, &y->net);
}

void table_sort_packets(struct mx_entry *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof(*rows), mx_entry_cmp_packets);
}

void table_sort_address(struct mx_entry *rows, size_t n)
{
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_address);
}

/* merge_into - fold src into dst, both already on the same netblock */
static void merge_into(struct mx_entry *dst, const struct mx_entry *src)
{
	const char *p = src->tags, *t;
	char tag[MX_TAGS_LEN];
	size_t l;

	dst->packets += src->packets;
	dst->bytes += src->bytes;
	if (src->origin != MX_ORIGIN_STATIC)
		dst->origin = MX_ORIGIN_DYNAMIC;
	if (src->action != MX_ACT_ALLOW)
		dst->action = MX_ACT_DROP;
	if (!src->observe)
		dst->observe = false;
	if (src->added && (!dst->added || src->added < dst->added))
		dst->added = src->added;
	if (!src->expires || !dst->expires)
		dst->expires = 0;
	else if (src->expires > dst->expires)
		dst->expires = src->expires;
	if (src->last_hit > dst->last_hit)
		dst->last_hit = src->last_hit;
	while (*p) {
		t = p;
		l = next_tag(&p);
		if (!l)
			continue;
		snprintf(tag, sizeof(tag), "%.*s", (int)l, t);
		/* XXX: a tag that does not fit is dropped from the sum row */
		mx_tags_add(dst->tags, sizeof(dst->tags), tag);
	}
}

size_t table_aggregate(struct mx_entry *rows, size_t n, unsigned int v4len,
		       unsigned int v6len)
{
	struct cidr sup;
	unsigned int len;
	size_t i, out;

	for (i = 0; i < n; i++) {
		len = rows[i].net.family == AF_INET ? v4len : v6len;
		if (!len || len >= rows[i].net.plen)
			continue;
		cidr_supernet(&rows[i].net, len, &sup);
		rows[i].net = sup;
	}
	table_sort_address(rows, n);
	if (!n)
		return 0;
	for (i = 1, out = 0; i < n; i++) {
		if (!cidr_cmp(&rows[out].net, &rows[i].net)) {
			merge_into(&rows[out], &rows[i]);
			continue;
		}
		rows[++out] = rows[i];
	}
	return out + 1;
}

int table_parse_by(const char *s, unsigned int *v4len, unsigned int *v6len)
{
	if (!strcmp(s, "/24")) {
		*v4len = 24;
		*v6len = 48;
	} else if (!strcmp(s, "/16")) {
		*v4len = 16;
		*v6len = 32;
	} else if (!strcmp(s, "/48")) {
		*v4len = 0;
		*v6len = 48;
	} else {
		return -EINVAL;
	}
	return 0;
}

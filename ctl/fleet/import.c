// SPDX-License-Identifier: GPL-2.0
/*
 * import.c - the readers behind `load --format` and the watcher's peer
 * files (import.h says what they promise). Every reader turns a line into
 * zero or one entry through add(); the common tail sorts, folds and
 * checks the result.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/mxwall.h"
#include "fleet/export.h"
#include "fleet/import.h"

static const char *const format_names[] = {
    [IMPORT_PLAIN] = "plain",
    [IMPORT_RBLDNSD] = "rbldnsd",
    [IMPORT_ZONE] = "zone",
    [IMPORT_DROP_JSON] = "drop-json",
};

int import_parse_format(const char *s, enum import_format *out)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(format_names); i++) {
		if (!strcmp(s, format_names[i])) {
			*out = (enum import_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

struct reader {
	const char *name;
	size_t lineno;
	long declared;	  /* "N entries" in an mxwall export header; -1 none */
	size_t addresses; /* address lines read */
	struct mx_entry *v;
	size_t n, cap;
	char *err;
	size_t errlen;
};

static int fail(struct reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct reader *r, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* the message may quote input: nothing that moves a terminal */
	for (p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(r->err, r->errlen, "%s:%zu: %s", r->name, r->lineno, msg);
	return -EINVAL;
}

static bool tag_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-';
}

/*
 * add_tags - the well-formed tags of a comma (or space) separated list:
 * 1..32 characters of [A-Za-z0-9._:-]; anything else is not a tag and is
 * left out. `static` marks the core list; `a` is kept.
 */
static void add_tags(struct mx_entry *e, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j;
		char tag[40];

		while (i < len && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
			i++;
		for (j = i;
		     j < len && s[j] != ',' && s[j] != ' ' && s[j] != '\t'; j++)
			;
		if (j > i && j - i <= 32) {
			size_t k;
			bool ok = true;

			for (k = i; k < j; k++)
				ok = ok && tag_char((unsigned char)s[k]);
			snprintf(tag, sizeof(tag), "%.*s", (int)(j - i), s + i);
			if (ok && !strcmp(tag, "static"))
				e->origin = MX_ORIGIN_STATIC;
			else if (ok)
				mx_tags_add(e->tags, sizeof(e->tags), tag);
		}
		i = j;
	}
}

static struct mx_entry *add(struct reader *r, const struct cidr *net,
			    bool exclusion)
{
	struct mx_entry *e;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	e = &r->v[r->n++];
	r->addresses++;
	memset(e, 0, sizeof(*e));
	e->net = *net;
	e->action = exclusion ? MX_ACT_ALLOW : MX_ACT_DROP;
	e->origin = MX_ORIGIN_DYNAMIC;
	return e;
}

/* a CIDR word; host bits under the mask are an error here, not a warning:
 * a peer's list that says 10.1.2.3/8 is not what its author meant */
static int parse_net(struct reader *r, const char *word, struct cidr *net)
{
	char why[120];
	int rc = cidr_parse(word, 0, net, why, sizeof(why));

	if (rc < 0)
		return fail(r, "%s", why);
	if (rc == CIDR_MASKED)
		return fail(r, "'%.60s': host bits set under the mask", word);
	return 0;
}

/* next line of buf as a NUL-terminated copy in line; false at the end */
static bool next_line(const char **p, const char *end, char *line, size_t size,
		      bool *too_long)
{
	const char *nl;
	size_t l;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	l = (size_t)((nl ? nl : end) - *p);
	*too_long = l >= size;
	if (*too_long)
		l = 0;
	memcpy(line, *p, l);
	line[l] = '\0';
	if (l && line[l - 1] == '\r')
		line[l - 1] = '\0';
	*p = nl ? nl + 1 : end;
	return true;
}

static char *skip_space(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static char *word_end(char *s)
{
	while (*s && *s != ' ' && *s != '\t' && *s != ';' && *s != '#')
		s++;
	return s;
}

/* --- plain: "[!]CIDR [; tag,tag]" (the load format, FireHOL netsets) ---- */

static int parse_plain_line(struct reader *r, char *line)
{
	char *s = skip_space(line), *end, save;
	bool excl = false;
	struct mx_entry *e;
	struct cidr net;

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '!') {
		excl = true;
		s++;
	}
	end = word_end(s);
	save = *end;
	*end = '\0';
	if (parse_net(r, s, &net))
		return -EINVAL;
	*end = save;
	s = skip_space(end);
	if (*s && *s != ';' && *s != '#')
		return fail(r, "unexpected text after the address: '%.40s'", s);
	e = add(r, &net, excl);
	if (*s == ';')
		add_tags(e, s + 1, strlen(s + 1));
	return 0;
}

/* --- rbldnsd: $DATASET sections of ip4/ip6 sets and tries ------------- */

enum rbl_section { RBL_NONE, RBL_IP, RBL_OTHER };

/* "listed by mxwall: a, b" (our own TXT) -> tags a, b */
static void tags_from_txt(struct mx_entry *e, const char *txt)
{
	static const char mine[] = "listed by mxwall: ";

	if (!strncmp(txt, mine, sizeof(mine) - 1))
		add_tags(e, txt + sizeof(mine) - 1,
			 strlen(txt + sizeof(mine) - 1));
}

static int parse_rbldnsd_line(struct reader *r, char *line,
			      enum rbl_section *sec)
{
	char *s = skip_space(line), *end, *value;
	bool excl = false;
	struct mx_entry *e;
	struct cidr net;

	if (!*s || *s == '#' || *s == ';')
		return 0;
	if (*s == '$') {
		char type[32];

		if (strncmp(s, "$DATASET", 8))
			return 0; /* $SOA, $NS, $TTL, $=: not entries */
		if (sscanf(s + 8, " %31[^: \t]", type) != 1)
			return fail(r, "$DATASET without a type");
		*sec = !strcmp(type, "ip4trie") || !strcmp(type, "ip4set") ||
			       !strcmp(type, "ip4tset") ||
			       !strcmp(type, "ip6trie") ||
			       !strcmp(type, "ip6tset")
			   ? RBL_IP
			   : RBL_OTHER;
		return 0;
	}
	if (*sec == RBL_OTHER || *s == ':')
		return 0; /* another dataset's data, or a default value */
	if (*s == '!') {
		excl = true;
		s++;
	}
	end = s;
	while (*end && *end != ' ' && *end != '\t' && *end != ';' &&
	       *end != '#')
		end++;
	value = *end ? end + 1 : end;
	*end = '\0';
	if (parse_net(r, s, &net))
		return -EINVAL;
	e = add(r, &net, excl);
	value = skip_space(value);
	if (excl || !*value || *value == '#' || *value == ';')
		return 0;
	if (*value == ':') {
		char *txt = strchr(value + 1, ':');

		if (!strncmp(value + 1, EXPORT_A_STATIC,
			     strlen(EXPORT_A_STATIC)))
			e->origin = MX_ORIGIN_STATIC;
		if (txt)
			tags_from_txt(e, txt + 1);
	} else {
		tags_from_txt(e, value);
	}
	return 0;
}

/* --- zone: RFC 5782 names under $ORIGIN -------------------------------- */

struct zone_state {
	char origin[256];
	int paren; /* inside a ( ... ) record */
};

/* strip the origin (absolute names) and a trailing dot */
static int relative_name(struct reader *r, struct zone_state *z, char *name)
{
	size_t l = strlen(name), ol = strlen(z->origin);

	if (!strcmp(name, "@"))
		return 1; /* the apex: no address */
	if (l && name[l - 1] == '.') {
		if (!ol || l < ol + 1 || strcasecmp(name + l - ol, z->origin) ||
		    name[l - ol - 1] != '.')
			return fail(r, "'%.60s' is outside the zone", name);
		name[l - ol - 1] = '\0';
	}
	return 0;
}

/*
 * name_to_net - "7.2.0.192" -> 192.0.2.7; "*.100.51.198" and "100.51.198"
 * -> 198.51.100.0/24 (*wild tells which); 5 or more labels are IPv6
 * nibbles. 1: not an address name (left alone), -EINVAL: a malformed one.
 */
static int name_to_net(struct reader *r, const char *name, struct cidr *net,
		       bool *wildp)
{
	const char *labels[40];
	char copy[256], *save = NULL, *t;
	size_t nl = 0, i;
	bool wild = false;

	snprintf(copy, sizeof(copy), "%s", name);
	for (t = strtok_r(copy, ".", &save); t;
	     t = strtok_r(NULL, ".", &save)) {
		if (nl == ARRAY_SIZE(labels))
			return fail(r, "'%.60s' has too many labels", name);
		labels[nl++] = t;
	}
	if (nl && !strcmp(labels[0], "*")) {
		wild = true;
		memmove(labels, labels + 1, --nl * sizeof(labels[0]));
	}
	memset(net, 0, sizeof(*net));
	if (!nl)
		return 1;
	if (nl <= 4) {
		net->family = AF_INET;
		for (i = 0; i < nl; i++) {
			uint64_t v;

			if (parse_u64(labels[nl - 1 - i], 0, 255, &v) ||
			    (labels[nl - 1 - i][0] == '0' &&
			     labels[nl - 1 - i][1]))
				return 1;
			net->addr[i] = (uint8_t)v;
		}
		net->plen = (uint8_t)(8 * nl);
		*wildp = wild;
		return wild && nl == 4 ? 1 : 0;
	}
	if (nl > 32 || (wild && nl == 32))
		return 1;
	*wildp = wild;
	net->family = AF_INET6;
	for (i = 0; i < nl; i++) {
		const char *lab = labels[nl - 1 - i];
		int v;

		if (strlen(lab) != 1 || !isxdigit((unsigned char)lab[0]))
			return 1;
		v = isdigit((unsigned char)lab[0])
			? lab[0] - '0'
			: tolower((unsigned char)lab[0]) - 'a' + 10;
		net->addr[i / 2] |= (uint8_t)(i % 2 ? v : v << 4);
	}
	net->plen = (uint8_t)(4 * nl);
	return 0;
}

/* the RFC 5782 test entries, never real listings */
static bool is_test_entry(const struct cidr *c)
{
	static const uint8_t v6[16] = {0, 0, 0,	   0,	 0,   0, 0, 0,
				       0, 0, 0xff, 0xff, 127, 0, 0, 2};

	if (c->family == AF_INET)
		return c->plen == 32 && c->addr[0] == 127 && c->addr[3] == 2 &&
		       !c->addr[1] && !c->addr[2];
	return c->plen == 128 && !memcmp(c->addr, v6, 16);
}

static struct mx_entry *find_last(struct reader *r, const struct cidr *net)
{
	size_t i;

	/* a name's records are adjacent in any zone we read */
	for (i = r->n; i-- > 0 && r->n - i <= 4;)
		if (!cidr_cmp(&r->v[i].net, net))
			return &r->v[i];
	return NULL;
}

static int parse_zone_line(struct reader *r, char *line, struct zone_state *z)
{
	char *tok[8], *save = NULL, *t, *q;
	size_t nt = 0, i;
	struct mx_entry *e;
	struct cidr net;
	bool wild = false;
	int rc;

	/* comments; quoted text keeps its ';' */
	for (q = line; *q; q++) {
		if (*q == '"')
			for (q++; *q && *q != '"'; q++)
				;
		if (!*q)
			break;
		if (*q == ';') {
			*q = '\0';
			break;
		}
	}
	if (z->paren) {
		z->paren = !strchr(line, ')');
		return 0;
	}
	if (strchr(line, '(') && !strchr(line, ')'))
		z->paren = 1;
	if (line[0] == '$') {
		char word[16], arg[256];

		if (sscanf(line, "%15s %255s", word, arg) == 2 &&
		    !strcmp(word, "$ORIGIN")) {
			size_t l = strlen(arg);

			if (l && arg[l - 1] == '.')
				arg[--l] = '\0';
			snprintf(z->origin, sizeof(z->origin), "%s", arg);
		}
		return 0;
	}
	if (line[0] == ' ' || line[0] == '\t')
		return 0; /* continues the previous name: not one we write */
	for (t = strtok_r(line, " \t", &save); t && nt < ARRAY_SIZE(tok);
	     t = strtok_r(NULL, " \t", &save))
		tok[nt++] = t;
	if (nt < 3)
		return nt ? fail(r, "a record needs a name, a type and data")
			  : 0;
	/* name [ttl] [class] type data */
	for (i = 1; i < nt - 1; i++)
		if (!isdigit((unsigned char)tok[i][0]) &&
		    strcasecmp(tok[i], "IN"))
			break;
	if (i >= nt - 1)
		return fail(r, "a record needs a type and data");
	rc = relative_name(r, z, tok[0]);
	if (rc)
		return rc < 0 ? rc : 0;
	rc = name_to_net(r, tok[0], &net, &wild);
	if (rc)
		return rc < 0 ? rc : 0;
	if (is_test_entry(&net))
		return 0;
	/* a netblock lists through its wildcard; its own name only exists
	 * (an exclusion marker, or an empty non-terminal) */
	if (!wild && net.plen != cidr_maxlen(&net) &&
	    strcasecmp(tok[i], "HINFO"))
		return 0;
	e = find_last(r, &net);
	if (!strcasecmp(tok[i], "A")) {
		struct cidr a;

		if (parse_net(r, tok[i + 1], &a) || a.family != AF_INET ||
		    a.addr[0] != 127)
			return fail(r,
				    "'%.40s': an A value of a list is "
				    "127.0.0.0/8",
				    tok[i + 1]);
		if (!e)
			e = add(r, &net, false);
		e->action = MX_ACT_DROP;
		if (!strcmp(tok[i + 1], EXPORT_A_STATIC))
			e->origin = MX_ORIGIN_STATIC;
	} else if (!strcasecmp(tok[i], "TXT")) {
		char txt[256];
		size_t off = 0, k;

		/* the rest of the line, quotes off */
		for (k = i + 1; k < nt && off < sizeof(txt) - 1; k++)
			off += (size_t)snprintf(txt + off, sizeof(txt) - off,
						"%s%s", k > i + 1 ? " " : "",
						tok[k]);
		for (q = txt; *q; q++)
			if (*q == '"')
				memmove(q, q + 1, strlen(q)), q--;
		if (!e)
			e = add(r, &net, false);
		tags_from_txt(e, txt);
	} else if (!strcasecmp(tok[i], "HINFO")) {
		if (!e)
			e = add(r, &net, true);
		e->action = MX_ACT_ALLOW;
	}
	return 0;
}

/* --- Spamhaus DROP JSON: one object per line -------------------------- */

static int parse_drop_json_line(struct reader *r, char *line)
{
	struct json_object *o, *v;
	struct mx_entry *e;
	struct cidr net;
	int rc = 0;

	if (!*skip_space(line))
		return 0;
	o = json_tokener_parse(line);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return fail(r, "not a JSON object");
	}
	if (json_object_object_get_ex(o, "type", &v)) {
		json_object_put(o); /* the metadata line closing the file */
		return 0;
	}
	if (!json_object_object_get_ex(o, "cidr", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(o);
		return fail(r, "an object without a \"cidr\" string");
	}
	rc = parse_net(r, json_object_get_string(v), &net);
	if (!rc) {
		e = add(r, &net, false);
		if (json_object_object_get_ex(o, "sblid", &v) &&
		    json_object_is_type(v, json_type_string))
			add_tags(e, json_object_get_string(v),
				 strlen(json_object_get_string(v)));
	}
	json_object_put(o);
	return rc;
}

/* "# mxwall export, format plain, 8 entries, ..." (fleet/export.c) */
static void header_count(struct reader *r, const char *line)
{
	long n;

	if (sscanf(line, "# mxwall export, format %*[a-z], %ld entr", &n) ==
		1 &&
	    n >= 0)
		r->declared = n;
}

/* --- the common tail --------------------------------------------------- */

static int cmp_net_then_len(const void *a, const void *b)
{
	return cidr_cmp(&((const struct mx_entry *)a)->net,
			&((const struct mx_entry *)b)->net);
}

static bool same_meaning(const struct mx_entry *a, const struct mx_entry *b)
{
	return a->action == b->action && a->origin == b->origin &&
	       !strcmp(a->tags, b->tags);
}

/*
 * sort, one entry per CIDR (the first read wins); with fold, drop an entry
 * that says what its cover says (a zone's wildcards below a netblock)
 */
static void settle(struct reader *r, bool fold)
{
	size_t *stack, depth = 0, i, k;

	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), cmp_net_then_len);
	for (i = 0, k = 0; i < r->n; i++) {
		if (k && !cidr_cmp(&r->v[k - 1].net, &r->v[i].net))
			continue;
		r->v[k++] = r->v[i];
	}
	r->n = k;
	if (!fold)
		return;
	stack = xcalloc(r->n ? r->n : 1, sizeof(*stack));
	for (i = 0, k = 0; i < r->n; i++) {
		while (depth && !cidr_contains(&r->v[stack[depth - 1]].net,
					       &r->v[i].net))
			depth--;
		if (depth && same_meaning(&r->v[stack[depth - 1]], &r->v[i]))
			continue; /* says what its cover says */
		r->v[k] = r->v[i];
		stack[depth++] = k++;
	}
	r->n = k;
	free(stack);
}

static int parse_all(enum import_format fmt, const char *name, const char *buf,
		     size_t len, struct mx_entry **out, size_t *n, bool *marked,
		     char *err, size_t errlen)
{
	struct reader r = {
	    .name = name, .err = err, .errlen = errlen, .declared = -1};
	struct zone_state z = {.origin = ""};
	enum rbl_section sec = RBL_NONE;
	const char *p = buf, *end = buf + len;
	char line[4096];
	bool too_long;
	int rc = 0;

	if (memchr(buf, '\0', len)) {
		snprintf(err, errlen, "%s: a NUL byte: not a text list", name);
		return -EINVAL;
	}
	while (!rc && next_line(&p, end, line, sizeof(line), &too_long)) {
		r.lineno++;
		if (too_long) {
			rc = fail(&r, "line longer than %zu bytes",
				  sizeof(line) - 1);
			break;
		}
		if (r.lineno == 1)
			header_count(&r, line);
		switch (fmt) {
		case IMPORT_PLAIN:
			rc = parse_plain_line(&r, line);
			break;
		case IMPORT_RBLDNSD:
			rc = parse_rbldnsd_line(&r, line, &sec);
			break;
		case IMPORT_ZONE:
			rc = parse_zone_line(&r, line, &z);
			break;
		case IMPORT_DROP_JSON:
			rc = parse_drop_json_line(&r, line);
			break;
		}
	}
	/* our own export says how many entries follow: a file cut at a
	 * line boundary parses, but is not what the peer wrote */
	if (!rc && r.declared >= 0 && fmt != IMPORT_ZONE &&
	    (size_t)r.declared != r.addresses)
		rc = fail(&r,
			  "truncated: the header says %ld entries, %zu "
			  "were read",
			  r.declared, r.addresses);
	if (rc) {
		free(r.v);
		return rc;
	}
	settle(&r, fmt == IMPORT_ZONE);
	*out = r.v;
	*n = r.n;
	if (marked)
		*marked = r.declared >= 0;
	return 0;
}

int import_parse(enum import_format fmt, const char *name, const char *buf,
		 size_t len, struct mx_entry **out, size_t *n, char *err,
		 size_t errlen)
{
	return parse_all(fmt, name, buf, len, out, n, NULL, err, errlen);
}

int import_read(enum import_format fmt, const char *path, struct mx_entry **out,
		size_t *n, bool *marked, char *err, size_t errlen)
{
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	size_t len = 0, cap = 0;
	char *buf = NULL;
	struct stat st;
	ssize_t got;
	int fd, rc = 0;

	fd =
	    strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY) : 0;
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", name, strerror(-rc));
		return rc;
	}
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: is a directory", name);
		rc = -EISDIR;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= IMPORT_MAX_BYTES) {
				snprintf(err, errlen,
					 "%s: larger than %u MiB: not read",
					 name, IMPORT_MAX_BYTES >> 20);
				rc = -EFBIG;
				goto out;
			}
			cap = cap ? cap * 2 : 65536;
			buf = xreallocarray(buf, cap + 1, 1);
		}
		got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: %s", name, strerror(-rc));
			goto out;
		}
		if (!got)
			break;
		len += (size_t)got;
	}
	rc = parse_all(fmt, name, buf ? buf : "", len, out, n, marked, err,
		       errlen);
out:
	if (fd > 0)
		close(fd);
	free(buf);
	return rc;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - the mxwall.conf parser: one typed table of keys with their
 * defaults and bounds (the way Postfix's CONFIG_*_TABLE and xdp-tools'
 * DEFINE_OPTION do it), `key = value` lines, `#` comments, repeated list
 * keys that add, and per-tag rules `threshold.TAG` and `window.TAG`.
 *
 * Promise: config_load() either fills *out completely or returns an error
 * naming FILE:LINE and leaves *out at defaults; a scalar key given twice
 * is an error (the second would silently win otherwise).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"

enum conf_type {
	CT_STR,	     /* char * */
	CT_STRLIST,  /* char ** + count */
	CT_BOOL,     /* bool */
	CT_U64,	     /* uint64_t within [min, max] */
	CT_DURATION, /* uint64_t seconds within [min, max] */
	CT_PORTS,    /* ports[] + nports */
	CT_CIDRLIST, /* struct cidr * + count */
	CT_BACKEND,  /* enum mx_backend_kind */
	CT_MODE,     /* enum mx_attach_mode */
	CT_FALLBACK, /* bool: journal | none */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;	   /* offset of the value in struct mx_config */
	size_t count_off;  /* lists: offset of the count */
	const char *def;   /* default as text, NULL: none/empty */
	uint64_t min, max; /* bounds of numbers and durations */
};

#define OFF(f) offsetof(struct mx_config, f)
#define DAY_SECS (60ULL * 60 * 24)
#define YEAR_SECS (365 * DAY_SECS)

static const struct conf_key keys[] = {
    {"log", CT_STRLIST, OFF(logs), OFF(nlogs), NULL, 0, 0},
    {"log_fallback", CT_FALLBACK, OFF(log_fallback_journal), 0, "none", 0, 0},
    {"journal_match", CT_STRLIST, OFF(journal_match), OFF(njournal_match), NULL,
     0, 0},
    {"journal_directory", CT_STR, OFF(journal_directory), 0, NULL, 0, 0},
    {"backend", CT_BACKEND, OFF(backend), 0, "auto", 0, 0},
    {"interface", CT_STRLIST, OFF(ifaces), OFF(nifaces), NULL, 0, 0},
    {"mode", CT_MODE, OFF(mode), 0, "auto", 0, 0},
    {"ports", CT_PORTS, OFF(ports), OFF(nports), "25", 0, 0},
    {"observe", CT_BOOL, OFF(observe), 0, "no", 0, 0},
    {"threshold", CT_U64, OFF(threshold), 0, "10", 1, 1000000},
    {"window", CT_DURATION, OFF(window), 0, "1h", 1, YEAR_SECS},
    {"ttl", CT_DURATION, OFF(ttl), 0, "0", 0, 10 * YEAR_SECS},
    {"allow", CT_CIDRLIST, OFF(allow), OFF(nallow), NULL, 0, 0},
    {"spamtrap", CT_STRLIST, OFF(spamtraps), OFF(nspamtraps), NULL, 0, 0},
    {"require_seen", CT_BOOL, OFF(require_seen), 0, "yes", 0, 0},
    {"seen_max_age", CT_DURATION, OFF(seen_max_age), 0, "1h", 1, 30 * DAY_SECS},
    {"escalate", CT_U64, OFF(escalate), 0, "0", 0, 65536},
    {"max_promotions_per_hour", CT_U64, OFF(max_promotions_per_hour), 0, "500",
     1, 10000000},
    {"recidive_window", CT_DURATION, OFF(recidive_window), 0, "30d", 0,
     10 * YEAR_SECS},
    {"recidive_factor", CT_U64, OFF(recidive_factor), 0, "2", 1, 100},
    {"max_ttl", CT_DURATION, OFF(max_ttl), 0, "90d", 1, 10 * YEAR_SECS},
    {"idle_expire", CT_DURATION, OFF(idle_expire), 0, "14d", 0, 10 * YEAR_SECS},
    {"db", CT_STR, OFF(db), 0, NULL, 0, 0},
    {"blocklist", CT_STR, OFF(blocklist), 0, MX_BLOCKLIST_DEFAULT, 0, 0},
    {"report_mail_to", CT_STR, OFF(report_mail_to), 0, NULL, 0, 0},
    {"report_top", CT_U64, OFF(report_top), 0, "20", 1, 100000},
    {"report_dir", CT_STR, OFF(report_dir), 0, NULL, 0, 0},
    {"sendmail", CT_STR, OFF(sendmail), 0, "/usr/sbin/sendmail", 0, 0},
    {"syslog", CT_BOOL, OFF(syslog), 0, "no", 0, 0},
    {"commit_interval", CT_U64, OFF(commit_interval_ms), 0, "200", 1, 60000},
    {"export", CT_STR, OFF(export_path), 0, NULL, 0, 0},
    {"export_format", CT_STR, OFF(export_format), 0, "rbldnsd", 0, 0},
    {"export_zone", CT_STR, OFF(export_zone), 0, NULL, 0, 0},
    {"export_family", CT_U64, OFF(export_family), 0, "4", 4, 6},
    {"import", CT_STRLIST, OFF(imports), OFF(nimports), NULL, 0, 0},
    {"import_max_age", CT_DURATION, OFF(import_max_age), 0, "1d", 60,
     10 * YEAR_SECS},
    {"import_max", CT_U64, OFF(import_max), 0, "100000", 1, 10000000},
    {"crowdsec_url", CT_STR, OFF(crowdsec_url), 0, NULL, 0, 0},
    {"crowdsec_api_key", CT_STR, OFF(crowdsec_api_key), 0, NULL, 0, 0},
    {"crowdsec_api_key_file", CT_STR, OFF(crowdsec_api_key_file), 0, NULL, 0,
     0},
    {"crowdsec_poll", CT_DURATION, OFF(crowdsec_poll), 0, "10s", 1, 3600},
    {"crowdsec_machine_id", CT_STR, OFF(crowdsec_machine_id), 0, NULL, 0, 0},
    {"crowdsec_password_file", CT_STR, OFF(crowdsec_password_file), 0, NULL, 0,
     0},
    {"crowdsec_max", CT_U64, OFF(crowdsec_max), 0, "100000", 1, 10000000},
};

const char *const config_key_names[] = {
    "log",
    "log_fallback",
    "journal_match",
    "journal_directory",
    "backend",
    "interface",
    "mode",
    "ports",
    "observe",
    "threshold",
    "window",
    "threshold.TAG",
    "window.TAG",
    "ttl",
    "allow",
    "spamtrap",
    "require_seen",
    "seen_max_age",
    "escalate",
    "max_promotions_per_hour",
    "recidive_window",
    "recidive_factor",
    "max_ttl",
    "idle_expire",
    "db",
    "blocklist",
    "report_mail_to",
    "report_top",
    "report_dir",
    "sendmail",
    "syslog",
    "commit_interval",
    "export",
    "export_format",
    "export_zone",
    "export_family",
    "import",
    "import_max_age",
    "import_max",
    "crowdsec_url",
    "crowdsec_api_key",
    "crowdsec_api_key_file",
    "crowdsec_poll",
    "crowdsec_machine_id",
    "crowdsec_password_file",
    "crowdsec_max",
    NULL,
};

#define FIELD(c, off, type) ((type *)((char *)(c) + (off)))

static void strlist_add(char ***list, size_t *n, const char *s)
{
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = xstrdup(s);
}

static bool word_in(const char *w, size_t len, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == len && !strncmp(w, *set, len))
			return true;
	return false;
}

/*
 * check_fleet - the values of the fleet keys that are more than a string:
 * export_format and export_family from their sets, export_zone a domain
 * name, import = NAME FILE [FORMAT] with a unique NAME and a full path.
 */
static int check_fleet(const struct mx_config *c, const char *key,
		       const char *v, char *why, size_t whylen)
{
	static const char *const exports[] = {"rbldnsd", "zone", "plain",
					      "json", NULL};
	static const char *const imports[] = {"plain", "rbldnsd", "zone",
					      "drop-json", NULL};
	char name[32], path[4096], fmt[16], extra[2];
	size_t i, l;
	int n;

	if (!strcmp(key, "export_format") && !word_in(v, strlen(v), exports)) {
		snprintf(why, whylen,
			 "'%s' is not rbldnsd, zone, plain or json", v);
		return -EINVAL;
	}
	if (!strcmp(key, "export_family") && strcmp(v, "4") && strcmp(v, "6")) {
		snprintf(why, whylen, "'%s' is not 4 or 6", v);
		return -EINVAL;
	}
	if (!strcmp(key, "export_zone")) {
		for (i = 0, l = 0; v[i]; i++, l++) {
			if (v[i] == '.' && l)
				l = (size_t)-1;
			else if (!isalnum((unsigned char)v[i]) && v[i] != '-' &&
				 v[i] != '_')
				break;
		}
		if (v[i] || !l || i > 200) {
			snprintf(why, whylen, "'%s' is not a domain name", v);
			return -EINVAL;
		}
	}
	if (!strcmp(key, "crowdsec_url") && strncmp(v, "http://", 7) &&
	    strncmp(v, "https://", 8)) {
		snprintf(why, whylen,
			 "'%.100s' is not an http:// or https:// URL", v);
		return -EINVAL;
	}
	if (strcmp(key, "import"))
		return 0;
	fmt[0] = '\0';
	n = sscanf(v, "%31s %4095s %15s %1s", name, path, fmt, extra);
	if (n < 2 || n > 3) {
		snprintf(why, whylen, "'%s' is not NAME FILE [FORMAT]", v);
		return -EINVAL;
	}
	for (i = 0; name[i]; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.')
			break;
	if (name[i] || i > 24) {
		snprintf(why, whylen,
			 "peer name '%s': 1 to 24 of [A-Za-z0-9._-]", name);
		return -EINVAL;
	}
	if (path[0] != '/') {
		snprintf(why, whylen, "'%.100s' is not a full path", path);
		return -EINVAL;
	}
	if (n == 3 && !word_in(fmt, strlen(fmt), imports)) {
		snprintf(why, whylen,
			 "'%s' is not plain, rbldnsd, zone or drop-json", fmt);
		return -EINVAL;
	}
	for (i = 0; i < c->nimports; i++) {
		l = strcspn(c->imports[i], " \t");
		if (l == strlen(name) && !strncmp(c->imports[i], name, l)) {
			snprintf(why, whylen, "peer '%s' given twice", name);
			return -EINVAL;
		}
	}
	return 0;
}

/* set_value - parse one value for key k into c; words for what is wrong */
/*
 * unit_missing - a duration in the file says its unit: "window = 10" could
 * mean seconds, minutes or days, and a wrong guess changes who is blocked.
 * "0" needs none.
 */
static int unit_missing(const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v);

	if (!len || !isdigit((unsigned char)v[len - 1]) || !strcmp(v, "0"))
		return 0;
	snprintf(why, whylen, "'%s' needs a unit: %ss, %sm, %sh, %sd or %sw", v,
		 v, v, v, v, v);
	return -EINVAL;
}

static int set_value(struct mx_config *c, const struct conf_key *k,
		     const char *v, char *why, size_t whylen)
{
	uint64_t u;
	bool b;
	int err;

	err = check_fleet(c, k->name, v, why, whylen);
	if (err)
		return err;
	switch (k->type) {
	case CT_STR:
		if (!*v) {
			snprintf(why, whylen, "empty value");
			return -EINVAL;
		}
		free(*FIELD(c, k->off, char *));
		*FIELD(c, k->off, char *) = xstrdup(v);
		return 0;
	case CT_STRLIST:
		if (!*v) {
			snprintf(why, whylen, "empty value");
			return -EINVAL;
		}
		if (k->off == OFF(journal_match) &&
		    config_journal_terms(v, NULL, NULL, why, whylen))
			return -EINVAL;
		strlist_add(FIELD(c, k->off, char **),
			    FIELD(c, k->count_off, size_t), v);
		return 0;
	case CT_BOOL:
		if (!parse_bool(v, &b)) {
			snprintf(why, whylen, "'%s' is not yes or no", v);
			return -EINVAL;
		}
		*FIELD(c, k->off, bool) = b;
		return 0;
	case CT_U64:
		err = parse_u64(v, k->min, k->max, &u);
		if (err) {
			snprintf(why, whylen,
				 "'%s' is not a number from %llu to %llu", v,
				 (unsigned long long)k->min,
				 (unsigned long long)k->max);
			return -EINVAL;
		}
		*FIELD(c, k->off, uint64_t) = u;
		return 0;
	case CT_DURATION:
		err = unit_missing(v, why, whylen);
		if (err)
			return err;
		err = parse_duration(v, &u);
		if (err) {
			snprintf(why, whylen,
				 "'%s' is not a duration (a number with s, m, "
				 "h, d or w)",
				 v);
			return -EINVAL;
		}
		if (u < k->min || u > k->max) {
			snprintf(why, whylen,
				 "%s is out of range (%llus to %llus)", v,
				 (unsigned long long)k->min,
				 (unsigned long long)k->max);
			return -EINVAL;
		}
		*FIELD(c, k->off, uint64_t) = u;
		return 0;
	case CT_PORTS:
		err = parse_ports(v, c->ports, MX_PORTS_MAX, &c->nports);
		if (err) {
			snprintf(why, whylen,
				 "'%s' is not a list of at most %d distinct "
				 "ports 1-65535",
				 v, MX_PORTS_MAX);
			return -EINVAL;
		}
		return 0;
	case CT_CIDRLIST: {
		struct cidr **list = FIELD(c, k->off, struct cidr *);
		size_t *n = FIELD(c, k->count_off, size_t);
		struct cidr net;
		char cerr[128] = "";

		err = cidr_parse(v, 0, &net, cerr, sizeof(cerr));
		if (err < 0) {
			snprintf(why, whylen, "'%s': %s", v,
				 *cerr ? cerr : "not an address or CIDR");
			return -EINVAL;
		}
		if (err == CIDR_MASKED) {
			char fixed[CIDR_STRLEN];

			/* a typo in a /len must not widen what is spared */
			snprintf(why, whylen,
				 "'%s' has host bits set (did you mean %s?)", v,
				 cidr_format(&net, fixed, sizeof(fixed)));
			return -EINVAL;
		}
		*list = xreallocarray(*list, *n + 1, sizeof(**list));
		(*list)[(*n)++] = net;
		return 0;
	}
	case CT_BACKEND:
		if (!strcmp(v, "auto"))
			*FIELD(c, k->off, enum mx_backend_kind) =
			    MX_BACKEND_AUTO;
		else if (!strcmp(v, "xdp"))
			*FIELD(c, k->off, enum mx_backend_kind) =
			    MX_BACKEND_XDP;
		else if (!strcmp(v, "nft"))
			*FIELD(c, k->off, enum mx_backend_kind) =
			    MX_BACKEND_NFT;
		else {
			snprintf(why, whylen, "'%s': expected auto, xdp or nft",
				 v);
			return -EINVAL;
		}
		return 0;
	case CT_FALLBACK:
		if (strcmp(v, "journal") && strcmp(v, "none")) {
			snprintf(why, whylen, "'%s': expected journal or none",
				 v);
			return -EINVAL;
		}
		*FIELD(c, k->off, bool) = !strcmp(v, "journal");
		return 0;
	case CT_MODE:
		if (!strcmp(v, "auto"))
			*FIELD(c, k->off, enum mx_attach_mode) = MX_MODE_AUTO;
		else if (!strcmp(v, "native"))
			*FIELD(c, k->off, enum mx_attach_mode) = MX_MODE_NATIVE;
		else if (!strcmp(v, "generic"))
			*FIELD(c, k->off, enum mx_attach_mode) =
			    MX_MODE_GENERIC;
		else {
			snprintf(why, whylen,
				 "'%s': expected auto, native or generic", v);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(why, whylen, "internal: key type");
	return -EINVAL;
}

static struct mx_tag_rule *rule_get(struct mx_config *c, const char *tag)
{
	struct mx_tag_rule *r;
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].tag, tag))
			return &c->rules[i];
	c->rules = xreallocarray(c->rules, c->nrules + 1, sizeof(*c->rules));
	r = &c->rules[c->nrules++];
	memset(r, 0, sizeof(*r));
	snprintf(r->tag, sizeof(r->tag), "%s", tag);
	return r;
}

const struct mx_tag_rule *config_rule(const struct mx_config *c,
				      const char *tag)
{
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].tag, tag))
			return &c->rules[i];
	return NULL;
}

/* valid_tag - what `scan` can emit: letters, digits, '.', '-', '_' */
static bool valid_tag(const char *t)
{
	size_t n = strlen(t);

	if (!n || n >= CONF_TAG_LEN)
		return false;
	for (; *t; t++)
		if (!(*t >= 'a' && *t <= 'z') && !(*t >= 'A' && *t <= 'Z') &&
		    !(*t >= '0' && *t <= '9') && *t != '.' && *t != '-' &&
		    *t != '_')
			return false;
	return true;
}

void config_free(struct mx_config *c)
{
	size_t i;

	for (i = 0; i < c->nlogs; i++)
		free(c->logs[i]);
	free(c->logs);
	for (i = 0; i < c->njournal_match; i++)
		free(c->journal_match[i]);
	free(c->journal_match);
	free(c->journal_directory);
	free(c->file);
	free(c->where);
	for (i = 0; i < c->nifaces; i++)
		free(c->ifaces[i]);
	free(c->ifaces);
	for (i = 0; i < c->nspamtraps; i++)
		free(c->spamtraps[i]);
	free(c->spamtraps);
	free(c->allow);
	free(c->rules);
	free(c->db);
	free(c->blocklist);
	free(c->report_mail_to);
	free(c->report_dir);
	free(c->sendmail);
	free(c->export_path);
	free(c->export_format);
	free(c->export_zone);
	for (i = 0; i < c->nimports; i++)
		free(c->imports[i]);
	free(c->imports);
	free(c->crowdsec_url);
	free(c->crowdsec_api_key);
	free(c->crowdsec_api_key_file);
	free(c->crowdsec_machine_id);
	free(c->crowdsec_password_file);
	memset(c, 0, sizeof(*c));
}

void config_defaults(struct mx_config *c)
{
	struct mx_tag_rule *r;
	char why[160];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].def &&
		    set_value(c, &keys[i], keys[i].def, why, sizeof(why)))
			log_panic("config default of %s: %s", keys[i].name,
				  why);
	/* greylisting is recorded but does not count (mxwall.conf(5)) */
	r = rule_get(c, "greylist");
	r->threshold = 0;
	r->has_threshold = true;
	r->window = c->window;
}

static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* where_add - key's value number idx came from line */
static void where_add(struct mx_config *c, const char *key, size_t idx,
		      unsigned int line)
{
	struct mx_conf_where *w;

	c->where = xreallocarray(c->where, c->nwhere + 1, sizeof(*c->where));
	w = &c->where[c->nwhere++];
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->idx = idx;
	w->line = line;
}

unsigned int config_line(const struct mx_config *c, const char *key, size_t idx)
{
	size_t i;

	for (i = 0; i < c->nwhere; i++)
		if (c->where[i].idx == idx && !strcmp(c->where[i].key, key))
			return c->where[i].line;
	return 0;
}

/* parse_line - one non-empty, comment-stripped line */
static int parse_line(struct mx_config *c, char *line, unsigned int lineno,
		      bool *given, char *why, size_t whylen)
{
	char *eq = strchr(line, '='), *key, *val;
	const struct conf_key *k = NULL;
	size_t i;

	if (!eq) {
		snprintf(why, whylen, "expected 'key = value'");
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	if (!*key) {
		snprintf(why, whylen, "missing key before '='");
		return -EINVAL;
	}
	if (!strncmp(key, "threshold.", 10) || !strncmp(key, "window.", 7)) {
		bool is_thr = key[0] == 't';
		const char *tag = key + (is_thr ? 10 : 7);
		struct mx_tag_rule *r;
		uint64_t u;

		if (!valid_tag(tag)) {
			snprintf(why, whylen, "%s: '%s' is not a reason tag",
				 key, tag);
			return -EINVAL;
		}
		if (!config_rule(c, tag) && c->nrules >= CONF_RULES_MAX) {
			snprintf(why, whylen,
				 "%s: more than %d reason tags with a rule",
				 key, CONF_RULES_MAX);
			return -EINVAL;
		}
		r = rule_get(c, tag);
		if (is_thr ? r->in_file_threshold : r->in_file_window) {
			snprintf(why, whylen, "%s given twice", key);
			return -EINVAL;
		}
		if (is_thr)
			r->in_file_threshold = true;
		else
			r->in_file_window = true;
		if (is_thr) {
			if (parse_u64(val, 0, 1000000, &u)) {
				snprintf(why, whylen,
					 "%s: '%s' is not a number from 0 to "
					 "1000000",
					 key, val);
				return -EINVAL;
			}
			r->threshold = u;
			r->has_threshold = true;
		} else {
			if (unit_missing(val, why, whylen)) {
				char tmp[256];

				snprintf(tmp, sizeof(tmp), "%s: %s", key, why);
				snprintf(why, whylen, "%s", tmp);
				return -EINVAL;
			}
			if (parse_duration(val, &u) || u == 0 ||
			    u > YEAR_SECS) {
				snprintf(why, whylen,
					 "%s: '%s' is not a duration from 1s "
					 "to 1 year",
					 key, val);
				return -EINVAL;
			}
			r->window = u;
			r->has_window = true;
		}
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!strcmp(keys[i].name, key)) {
			k = &keys[i];
			break;
		}
	}
	if (!k) {
		snprintf(why, whylen, "unknown key '%s'", key);
		return -EINVAL;
	}
	if (k->type != CT_STRLIST && k->type != CT_CIDRLIST) {
		if (given[i]) {
			snprintf(why, whylen, "%s given twice", key);
			return -EINVAL;
		}
		given[i] = true;
	}
	if (set_value(c, k, val, why, whylen)) {
		size_t n = strlen(why);

		/* prefix the key: "threshold: 'x' is not a number" */
		if (n + strlen(key) + 3 < whylen) {
			memmove(why + strlen(key) + 2, why, n + 1);
			memcpy(why, key, strlen(key));
			why[strlen(key)] = ':';
			why[strlen(key) + 1] = ' ';
		}
		return -EINVAL;
	}
	if (k->type == CT_PORTS)
		c->ports_set = true;
	where_add(c, k->name,
		  k->count_off ? *FIELD(c, k->count_off, size_t) - 1 : 0,
		  lineno);
	return 0;
}

/* parse_text - every line; each bad one to fn (stop at the first if
 * !keep_going); returns how many were bad */
static int parse_text(const char *name, const char *text, struct mx_config *out,
		      bool keep_going, void (*fn)(void *, const char *),
		      void *arg)
{
	bool given[ARRAY_SIZE(keys)] = {false};
	char why[256], msg[512], *buf, *line, *next, *hash;
	unsigned int lineno = 0;
	int bad = 0, rc;
	size_t i;

	config_defaults(out);
	out->file = xstrdup(name);
	buf = xstrdup(text);
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		/*
		 * '#' starts a comment at the start of a line or after a
		 * blank: "spamtrap = a#b@example.org" keeps its address
		 */
		for (hash = line; (hash = strchr(hash, '#')); hash++)
			if (hash == line || hash[-1] == ' ' ||
			    hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		line = trim(line);
		if (!*line)
			continue;
		if (strlen(line) > 4000) {
			snprintf(why, sizeof(why), "line too long");
			rc = -EINVAL;
		} else {
			rc = parse_line(out, line, lineno, given, why,
					sizeof(why));
		}
		if (rc) {
			snprintf(msg, sizeof(msg), "%s:%u: %s", name, lineno,
				 why);
			fn(arg, msg);
			bad++;
			if (!keep_going)
				break;
		}
	}
	free(buf);
	/* rules take the global values where they give none */
	for (i = 0; i < out->nrules; i++) {
		if (!out->rules[i].has_threshold)
			out->rules[i].threshold = out->threshold;
		if (!out->rules[i].has_window)
			out->rules[i].window = out->window;
	}
	return bad;
}

struct first_err {
	char *buf;
	size_t len;
};

static void first_err(void *arg, const char *msg)
{
	struct first_err *f = arg;

	snprintf(f->buf, f->len, "%s", msg);
}

int config_parse_string(const char *name, const char *text,
			struct mx_config *out, char *err, size_t errlen)
{
	struct first_err f = {err, errlen};

	if (parse_text(name, text, out, false, first_err, &f)) {
		config_free(out);
		config_defaults(out);
		return -EINVAL;
	}
	return 0;
}

/* read_text - the whole file, NUL-terminated; NULL with err */
static char *read_text(const char *path, int *rcp, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		*rcp = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > 16 * 1024 * 1024) {
				fclose(f);
				free(text);
				snprintf(err, errlen, "%s: file too large",
					 path);
				*rcp = -EFBIG;
				return NULL;
			}
			text = xreallocarray(text, cap, 1);
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		*rcp = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		*rcp = -EINVAL;
		return NULL;
	}
	*rcp = 0;
	return text;
}

int config_load(const char *path, struct mx_config *out, char *err,
		size_t errlen)
{
	char *text;
	int rc;

	text = read_text(path, &rc, err, errlen);
	if (!text) {
		config_defaults(out);
		return rc;
	}
	rc = config_parse_string(path, text, out, err, errlen);
	free(text);
	return rc;
}

int config_check(const char *path, struct mx_config *out,
		 void (*fn)(void *arg, const char *msg), void *arg)
{
	char err[512];
	char *text;
	int rc, bad;

	text = read_text(path, &rc, err, sizeof(err));
	if (!text) {
		config_defaults(out);
		fn(arg, err);
		return 1;
	}
	bad = parse_text(path, text, out, true, fn, arg);
	free(text);
	return bad;
}

int config_db_path(const struct mx_config *c, const char *state_dir, char *buf,
		   size_t len)
{
	if (c->db) {
		if ((size_t)snprintf(buf, len, "%s", c->db) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	return path_join(buf, len, state_dir, "mxwall.db");
}

uint64_t config_max_window(const struct mx_config *c)
{
	uint64_t w = c->window;
	size_t i;

	for (i = 0; i < c->nrules; i++)
		if (c->rules[i].window > w)
			w = c->rules[i].window;
	return w;
}

static bool field_is_name(const char *p, size_t n)
{
	size_t i;

	if (!n || n > 64 || (p[0] >= '0' && p[0] <= '9'))
		return false;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
			return false;
	return true;
}

int config_journal_terms(const char *match,
			 int (*fn)(void *, const char *, size_t), void *arg,
			 char *err, size_t errlen)
{
	const char *p = match, *q, *eq;
	int rc;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return 0;
		q = p;
		while (*q && *q != ' ' && *q != '\t')
			q++;
		if (!(q - p == 1 && *p == '+')) {
			eq = memchr(p, '=', (size_t)(q - p));
			if (!eq || !field_is_name(p, (size_t)(eq - p))) {
				snprintf(
				    err, errlen,
				    "'%.*s' is not FIELD=VALUE (FIELD in "
				    "capitals, "
				    "e.g. _SYSTEMD_UNIT=postfix@-.service)",
				    (int)(q - p), p);
				return -EINVAL;
			}
		}
		if (fn) {
			rc = fn(arg, p, (size_t)(q - p));
			if (rc) {
				snprintf(err, errlen, "'%.*s': %s",
					 (int)(q - p), p, strerror(-rc));
				return rc;
			}
		}
		p = q;
	}
}

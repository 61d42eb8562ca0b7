/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - mxwall.conf, the configuration of `mxwall watch`, read also
 * by `report` and `metrics` (report_mail_to, report_top, db, ...).
 *
 * Format (mxwall.conf(5)): `key = value` lines, `#` comments, repeated
 * keys add to lists, durations are a number with s, m, h, d or w, and
 * `threshold.TAG` / `window.TAG` set a rule per reason tag. Every key has a
 * typed entry in one table (config.c) with its default and bounds. An
 * unknown key, a bad value or a bad line is an error naming FILE:LINE.
 *
 * Callers: watch/, report.c, metrics.c. The struct is plain data: after
 * config_load() everything in it is owned by it and freed by config_free().
 */
#ifndef MXWALL_CONFIG_H
#define MXWALL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"
#include "core/mxwall.h"

#define CONF_TAG_LEN 64
/* distinct tags with a threshold.TAG or window.TAG rule (greylist
 * included): each gets a bit of its own in the watcher */
#define CONF_RULES_MAX 40

/* a rule for one reason tag: threshold.TAG and/or window.TAG */
struct mx_tag_rule {
	char tag[CONF_TAG_LEN];
	uint64_t threshold; /* 0: events with only this tag never count */
	uint64_t window;    /* seconds */
	bool has_threshold; /* threshold.TAG given (else the global one) */
	bool has_window;    /* window.TAG given (else the global one) */
	bool in_file_threshold, in_file_window; /* given by this file */
};

/* where a key's value was given: for FILE:LINE in checks */
struct mx_conf_where {
	char key[32];
	size_t idx;	   /* which value of a list key */
	unsigned int line; /* 1-based */
};

struct mx_config {
	char **logs; /* log = PATH, repeatable; "-" is stdin, "journal" the
		      * systemd journal */
	size_t nlogs;
	char **journal_match; /* journal_match = FIELD=VALUE ..., repeatable */
	size_t njournal_match;
	char *journal_directory;      /* NULL: the system journal */
	bool log_fallback_journal;    /* log_fallback = journal */
	enum mx_backend_kind backend; /* backend = auto|xdp|nft */
	char **ifaces;		      /* interface = NAME, repeatable */
	size_t nifaces;
	enum mx_attach_mode mode;     /* mode = auto|native|generic */
	uint16_t ports[MX_PORTS_MAX]; /* ports = 25, 465, 587 */
	size_t nports;
	bool ports_set;		   /* ports given in the file */
	bool observe;		   /* observe = no: global observe mode */
	uint64_t threshold;	   /* threshold = 10 */
	uint64_t window;	   /* window = 1h (seconds) */
	struct mx_tag_rule *rules; /* threshold.TAG, window.TAG */
	size_t nrules;
	uint64_t ttl;	    /* ttl = 0: until the weekly reset */
	struct cidr *allow; /* allow = CIDR, repeatable */
	size_t nallow;
	char **spamtraps; /* spamtrap = ADDR, repeatable */
	size_t nspamtraps;
	bool require_seen;     /* require_seen = yes */
	uint64_t seen_max_age; /* 1h: a handshake older does not vouch */
	uint64_t escalate;     /* escalate = 0: hosts per /24 (/48) */
	uint64_t max_promotions_per_hour; /* 500 */
	uint64_t recidive_window;	  /* 30d */
	uint64_t recidive_factor;	  /* 2 */
	uint64_t max_ttl;		  /* 90d */
	uint64_t idle_expire;		  /* 14d; 0 off */
	char *db;		     /* db = PATH; NULL: $state_dir/mxwall.db */
	char *blocklist;	     /* blocklist = /etc/mxwall/blocklist */
	char *report_mail_to;	     /* NULL: do not mail */
	uint64_t report_top;	     /* 20 */
	char *report_dir;	     /* NULL: $state_dir/reports */
	char *sendmail;		     /* /usr/sbin/sendmail */
	bool syslog;		     /* syslog = no: log to stderr */
	uint64_t commit_interval_ms; /* commit_interval = 200 (ms) */
	char *file;		     /* the file read, for FILE:LINE */
	struct mx_conf_where *where;
	size_t nwhere;
	/* fleets (docs/fleet.md) */
	char *export_path;	/* export = FILE: kept fresh by watch */
	char *export_format;	/* export_format = rbldnsd */
	char *export_zone;	/* export_zone = NAME (zone format) */
	uint64_t export_family; /* export_family = 4 (zone format) */
	char **imports;		/* import = NAME FILE [FORMAT] */
	size_t nimports;
	uint64_t import_max_age; /* import_max_age = 1d */
	uint64_t import_max;	 /* import_max = 100000 entries a peer */
	/* CrowdSec's Local API (docs/fleet.md) */
	char *crowdsec_url;	      /* crowdsec_url = http://127.0.0.1:8080 */
	char *crowdsec_api_key;	      /* the bouncer's key, or: */
	char *crowdsec_api_key_file;  /* a file holding it */
	uint64_t crowdsec_poll;	      /* crowdsec_poll = 10s */
	char *crowdsec_machine_id;    /* publish promotions as this machine */
	char *crowdsec_password_file; /* its password */
	uint64_t crowdsec_max;	      /* crowdsec_max = 100000 entries */
};

/* config_defaults - every key at its default; lists empty */
void config_defaults(struct mx_config *c);
/*
 * config_load - defaults, then the file. On error returns -EINVAL (or
 * -errno when the file cannot be read), writes "FILE:LINE: what is wrong"
 * into err and leaves *out freed and at defaults.
 */
int config_load(const char *path, struct mx_config *out, char *err,
		size_t errlen);
/* config_parse_string - the same on text in memory, name used in errors */
int config_parse_string(const char *name, const char *text,
			struct mx_config *out, char *err, size_t errlen);
void config_free(struct mx_config *c);
/*
 * config_check - parse the whole file and report every bad line to fn
 * ("FILE:LINE: what is wrong", in file order); returns how many. *out is
 * filled as far as it goes (bad lines skipped).
 */
int config_check(const char *path, struct mx_config *out,
		 void (*fn)(void *arg, const char *msg), void *arg);
/* config_line - the line key's idx-th value was given on; 0: default */
unsigned int config_line(const struct mx_config *c, const char *key,
			 size_t idx);

/* config_rule - the rule for tag, or NULL */
const struct mx_tag_rule *config_rule(const struct mx_config *c,
				      const char *tag);
/* config_db_path - c->db or $state_dir/mxwall.db into buf */
int config_db_path(const struct mx_config *c, const char *state_dir, char *buf,
		   size_t len);
/* config_max_window - the longest window of any rule, in seconds */
uint64_t config_max_window(const struct mx_config *c);
/* config_keys - NULL-terminated list of every key, for docs checks */
extern const char *const config_key_names[];

/*
 * config_journal_terms - check a journal_match value ("FIELD=value" terms
 * and "+") and call fn for every term (fn may be NULL): 0, or -EINVAL
 * with the bad term in err, or fn's error
 */
int config_journal_terms(const char *match,
			 int (*fn)(void *, const char *, size_t), void *arg,
			 char *err, size_t errlen);

#endif /* MXWALL_CONFIG_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * crowdsec.h - CrowdSec's Local API (LAPI), both ways: as a bouncer that
 * streams the ban decisions (/v1/decisions/stream), and as a machine that
 * logs in (/v1/watchers/login) and pushes alerts with decisions
 * (/v1/alerts). HTTP through libcurl (TLS verified unless the URL is
 * plain http on loopback, as the LAPI listens by default), JSON through
 * json-c. docs/fleet.md shows the setup.
 *
 * A batch of decisions is checked whole before anything is handed on:
 * a body that is not JSON, not the stream's object, or over
 * CS_MAX_BODY bytes fails the batch (-EBADMSG, -EFBIG) and nothing of it
 * is applied. Within a good batch, a decision mxwall does not enforce
 * (another type than ban, a scope other than Ip or Range, a value that is
 * no CIDR, /0, an unreadable duration) is skipped and counted.
 *
 * Callers: watch/crowdsec.c.
 */
#ifndef MXWALL_CROWDSEC_H
#define MXWALL_CROWDSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cidr.h"

#define CS_MAX_BODY (64u << 20)
#define CS_TAG_LEN 33

struct cs_decision {
	int64_t id;
	struct cidr net;
	int64_t duration;     /* seconds left */
	char tag[CS_TAG_LEN]; /* the scenario as a tag: [A-Za-z0-9._:-] */
	char origin[32];      /* "cscli", "crowdsec", "mxwall", ... */
};

struct cs_batch {
	struct cs_decision *add; /* "new" */
	size_t nadd;
	struct cs_decision *del; /* "deleted" */
	size_t ndel;
	size_t skipped; /* decisions mxwall does not enforce */
};

void cs_batch_free(struct cs_batch *b);

/*
 * cs_parse_stream - the body of /v1/decisions/stream into b. 0, or
 * -EBADMSG with the reason in err (nothing in b).
 */
int cs_parse_stream(const char *body, size_t len, struct cs_batch *b, char *err,
		    size_t errlen);

/* cs_parse_duration - Go's "3h59m58.248s", "-5s" -> whole seconds */
int cs_parse_duration(const char *s, int64_t *secs);

/* cs_scenario_tag - a scenario as a tag: "crowdsecurity/ssh-bf" ->
 * "crowdsecurity:ssh-bf"; other characters become '-', at most 32 */
void cs_scenario_tag(const char *scenario, char *tag, size_t len);

struct cs_client;

/* cs_new - a client of the LAPI at url ("http://127.0.0.1:8080") */
struct cs_client *cs_new(const char *url);
void cs_free(struct cs_client *c);

/* cs_stream - one poll as a bouncer; startup: the whole current set */
int cs_stream(struct cs_client *c, const char *api_key, bool startup,
	      struct cs_batch *b, char *err, size_t errlen);

/* an alert with one ban decision, as the publisher sends it */
struct cs_alert {
	struct cidr net;
	const char *scenario; /* "mxwall/smtp-rejections" */
	const char *message;  /* "mxwall: 203.0.113.7 promoted: relay" */
	uint64_t events;      /* the rejections behind it */
	int64_t start, stop;  /* unix seconds */
	int64_t duration;     /* seconds of the ban */
};

/*
 * cs_push - log in as machine_id (again when the token is about to
 * expire or was refused) and post the alerts. 0, or -errno with err set.
 */
int cs_push(struct cs_client *c, const char *machine_id, const char *password,
	    const struct cs_alert *a, size_t n, int64_t now, char *err,
	    size_t errlen);

#endif /* MXWALL_CROWDSEC_H */

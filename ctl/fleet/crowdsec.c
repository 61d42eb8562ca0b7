// SPDX-License-Identifier: GPL-2.0
/*
 * crowdsec.c - the Local API client behind crowdsec.h: libcurl for HTTP
 * (certificates verified as libcurl does by default, bounded reads and
 * times), json-c for JSON, and the checks that keep a bad batch out.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "core/mxwall.h"
#include "fleet/crowdsec.h"

#define CS_CONNECT_SECS 3L
#define CS_TOTAL_SECS 10L

struct cs_client {
	CURL *curl;
	char url[512];
	char token[2048];
	int64_t token_until;
};

void cs_batch_free(struct cs_batch *b)
{
	free(b->add);
	free(b->del);
	memset(b, 0, sizeof(*b));
}

int cs_parse_duration(const char *s, int64_t *secs)
{
	double total = 0;
	bool neg = false, any = false;
	const char *p = s;

	if (*p == '-') {
		neg = true;
		p++;
	}
	while (*p) {
		char *end;
		double v = strtod(p, &end);

		if (end == p || v < 0)
			return -EINVAL;
		p = end;
		if (!strncmp(p, "ms", 2)) {
			v /= 1000;
			p += 2;
		} else if (!strncmp(p, "us", 2) || !strncmp(p, "µs", 3)) {
			v = 0;
			p += *p == 'u' ? 2 : 3;
		} else if (!strncmp(p, "ns", 2)) {
			v = 0;
			p += 2;
		} else if (*p == 'h') {
			v *= 3600;
			p++;
		} else if (*p == 'm') {
			v *= 60;
			p++;
		} else if (*p == 's') {
			p++;
		} else {
			return -EINVAL;
		}
		total += v;
		any = true;
		if (total > 1e10)
			return -ERANGE;
	}
	if (!any)
		return -EINVAL;
	*secs = (int64_t)total * (neg ? -1 : 1);
	return 0;
}

void cs_scenario_tag(const char *scenario, char *tag, size_t len)
{
	size_t i, o = 0;

	for (i = 0; scenario[i] && o + 1 < len && o < 32; i++) {
		unsigned char ch = (unsigned char)scenario[i];

		if (isalnum(ch) || ch == '.' || ch == '_' || ch == '-')
			tag[o++] = (char)ch;
		else if (ch == '/' || ch == ':')
			tag[o++] = ':';
		else if (o && tag[o - 1] != '-')
			tag[o++] = '-';
	}
	while (o && tag[o - 1] == '-')
		o--;
	tag[o] = '\0';
	if (!o)
		snprintf(tag, len, "crowdsec-decision");
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * one decision: -EBADMSG when it is no decision at all (the batch goes),
 * 1 when it is one mxwall does not enforce (skipped), 0 when taken
 */
static int parse_decision(struct json_object *o, struct cs_decision *d,
			  bool deleted, char *err, size_t errlen)
{
	const char *type, *scope, *value, *dur, *scen, *origin;
	struct json_object *id;
	char why[120];
	int rc;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "a decision that is not an object");
		return -EBADMSG;
	}
	type = jstr(o, "type");
	scope = jstr(o, "scope");
	value = jstr(o, "value");
	dur = jstr(o, "duration");
	scen = jstr(o, "scenario");
	origin = jstr(o, "origin");
	if (!type || !scope || !value ||
	    !json_object_object_get_ex(o, "id", &id) ||
	    !json_object_is_type(id, json_type_int)) {
		snprintf(err, errlen,
			 "a decision without id, type, scope or value");
		return -EBADMSG;
	}
	memset(d, 0, sizeof(*d));
	d->id = json_object_get_int64(id);
	snprintf(d->origin, sizeof(d->origin), "%s", origin ? origin : "");
	cs_scenario_tag(scen ? scen : "", d->tag, sizeof(d->tag));
	if (strcasecmp(type, "ban"))
		return 1;
	if (strcasecmp(scope, "ip") && strcasecmp(scope, "range"))
		return 1; /* Country, AS, Username, ... */
	rc = cidr_parse(value, 0, &d->net, why, sizeof(why));
	if (rc < 0 || rc == CIDR_MASKED)
		return 1; /* not an address, /0, host bits: not enforced */
	if (!strcasecmp(scope, "ip") && !cidr_is_host(&d->net))
		return 1;
	if (deleted)
		return 0;
	if (!dur || cs_parse_duration(dur, &d->duration) || d->duration <= 0)
		return 1;
	return 0;
}

static int parse_list(struct json_object *root, const char *key, bool deleted,
		      struct cs_decision **out, size_t *n, size_t *skipped,
		      char *err, size_t errlen)
{
	struct json_object *arr;
	size_t i, len;

	if (!json_object_object_get_ex(root, key, &arr) ||
	    json_object_is_type(arr, json_type_null))
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "\"%s\" is not a list", key);
		return -EBADMSG;
	}
	len = json_object_array_length(arr);
	*out = xcalloc(len + 1, sizeof(**out));
	for (i = 0; i < len; i++) {
		int rc = parse_decision(json_object_array_get_idx(arr, i),
					&(*out)[*n], deleted, err, errlen);

		if (rc < 0)
			return rc;
		if (rc > 0)
			(*skipped)++;
		else
			(*n)++;
	}
	return 0;
}

int cs_parse_stream(const char *body, size_t len, struct cs_batch *b, char *err,
		    size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root;
	int rc;

	memset(b, 0, sizeof(*b));
	if (!tok)
		log_fatal("out of memory");
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) < len) {
		snprintf(err, errlen, "the answer is not JSON (%s)",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(root);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(root, json_type_object)) {
		snprintf(err, errlen, "the answer is not the stream's object");
		json_object_put(root);
		return -EBADMSG;
	}
	rc = parse_list(root, "new", false, &b->add, &b->nadd, &b->skipped, err,
			errlen);
	if (!rc)
		rc = parse_list(root, "deleted", true, &b->del, &b->ndel,
				&b->skipped, err, errlen);
	json_object_put(root);
	if (rc)
		cs_batch_free(b);
	return rc;
}

/* --- HTTP ------------------------------------------------------------- */

struct body {
	char *p;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > CS_MAX_BODY) {
		b->too_big = true;
		return 0; /* libcurl stops the transfer */
	}
	b->p = xreallocarray(b->p, b->len + n + 1, 1);
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

struct cs_client *cs_new(const char *url)
{
	static bool inited;
	struct cs_client *c;
	size_t l;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			return NULL;
		inited = true;
	}
	c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return NULL;
	}
	snprintf(c->url, sizeof(c->url), "%s", url);
	l = strlen(c->url);
	while (l && c->url[l - 1] == '/')
		c->url[--l] = '\0';
	return c;
}

void cs_free(struct cs_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free(c);
}

/*
 * request - method on url+path with headers and body; the answer in *out
 * (the caller frees). 0 and *status, or -errno with err.
 */
static int request(struct cs_client *c, const char *path,
		   struct curl_slist *headers, const char *post,
		   struct body *out, long *status, char *err, size_t errlen)
{
	char url[1024];
	CURLcode rc;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "%s%s", c->url, path);
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, CS_CONNECT_SECS);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, CS_TOTAL_SECS);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "mxwall/" MXWALL_VERSION);
	if (post)
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, post);
	rc = curl_easy_perform(c->curl);
	if (out->too_big) {
		snprintf(err, errlen, "%s: the answer is over %u MiB", url,
			 CS_MAX_BODY >> 20);
		free(out->p);
		out->p = NULL;
		return -EFBIG;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s: %s", url, curl_easy_strerror(rc));
		free(out->p);
		out->p = NULL;
		return -EHOSTUNREACH;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

int cs_stream(struct cs_client *c, const char *api_key, bool startup,
	      struct cs_batch *b, char *err, size_t errlen)
{
	struct curl_slist *h = NULL;
	char hdr[512];
	struct body out;
	long status = 0;
	int rc;

	memset(b, 0, sizeof(*b));
	snprintf(hdr, sizeof(hdr), "X-Api-Key: %s", api_key);
	h = curl_slist_append(h, hdr);
	rc = request(c,
		     startup ? "/v1/decisions/stream?startup=true"
			     : "/v1/decisions/stream?startup=false",
		     h, NULL, &out, &status, err, errlen);
	curl_slist_free_all(h);
	if (rc)
		return rc;
	if (status != 200) {
		snprintf(err, errlen, "%s: HTTP %ld%s", c->url, status,
			 status == 403 ? " (the bouncer key is not valid)"
				       : "");
		free(out.p);
		return status == 403 ? -EACCES : -EPROTO;
	}
	rc = cs_parse_stream(out.p ? out.p : "", out.len, b, err, errlen);
	free(out.p);
	return rc;
}

static int login(struct cs_client *c, const char *machine_id,
		 const char *password, int64_t now, char *err, size_t errlen)
{
	struct curl_slist *h = NULL;
	struct json_object *req, *arr, *ans;
	struct body out;
	const char *tok;
	long status = 0;
	int rc;

	req = json_object_new_object();
	arr = json_object_new_array();
	json_object_array_add(arr,
			      json_object_new_string("mxwall/smtp-rejections"));
	json_object_object_add(req, "machine_id",
			       json_object_new_string(machine_id));
	json_object_object_add(req, "password",
			       json_object_new_string(password));
	json_object_object_add(req, "scenarios", arr);
	h = curl_slist_append(h, "Content-Type: application/json");
	rc =
	    request(c, "/v1/watchers/login", h,
		    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
		    &out, &status, err, errlen);
	curl_slist_free_all(h);
	json_object_put(req);
	if (rc)
		return rc;
	if (status != 200) {
		snprintf(err, errlen, "%s: login as %s: HTTP %ld", c->url,
			 machine_id, status);
		free(out.p);
		return -EACCES;
	}
	ans = json_tokener_parse(out.p ? out.p : "");
	free(out.p);
	tok = ans ? jstr(ans, "token") : NULL;
	if (!tok || strlen(tok) >= sizeof(c->token)) {
		snprintf(err, errlen, "%s: login: no token in the answer",
			 c->url);
		json_object_put(ans);
		return -EBADMSG;
	}
	snprintf(c->token, sizeof(c->token), "%s", tok);
	/* LAPI tokens last an hour; log in again well before */
	c->token_until = now + 45 * 60;
	json_object_put(ans);
	return 0;
}

static void iso(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *alerts_json(const struct cs_alert *a, size_t n)
{
	struct json_object *arr = json_object_new_array();
	char *s;
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *al = json_object_new_object();
		struct json_object *src = json_object_new_object();
		struct json_object *decs = json_object_new_array();
		struct json_object *d = json_object_new_object();
		char net[CIDR_STRLEN], t0[32], t1[32], dur[32];
		const char *scope = cidr_is_host(&a[i].net) ? "Ip" : "Range";

		cidr_format(&a[i].net, net, sizeof(net));
		iso(a[i].start, t0, sizeof(t0));
		iso(a[i].stop, t1, sizeof(t1));
		snprintf(dur, sizeof(dur), "%llds", (long long)a[i].duration);
		json_object_object_add(al, "scenario",
				       json_object_new_string(a[i].scenario));
		json_object_object_add(al, "scenario_hash",
				       json_object_new_string(""));
		json_object_object_add(al, "scenario_version",
				       json_object_new_string(""));
		json_object_object_add(al, "message",
				       json_object_new_string(a[i].message));
		json_object_object_add(
		    al, "events_count",
		    json_object_new_int64((int64_t)a[i].events));
		json_object_object_add(al, "start_at",
				       json_object_new_string(t0));
		json_object_object_add(al, "stop_at",
				       json_object_new_string(t1));
		json_object_object_add(al, "capacity", json_object_new_int(0));
		json_object_object_add(al, "leakspeed",
				       json_object_new_string("0"));
		json_object_object_add(al, "simulated",
				       json_object_new_boolean(0));
		json_object_object_add(al, "events", json_object_new_array());
		json_object_object_add(src, "scope",
				       json_object_new_string(scope));
		json_object_object_add(src, "value",
				       json_object_new_string(net));
		if (!strcmp(scope, "Ip"))
			json_object_object_add(src, "ip",
					       json_object_new_string(net));
		else
			json_object_object_add(src, "range",
					       json_object_new_string(net));
		json_object_object_add(al, "source", src);
		json_object_object_add(d, "duration",
				       json_object_new_string(dur));
		json_object_object_add(d, "type",
				       json_object_new_string("ban"));
		json_object_object_add(d, "scope",
				       json_object_new_string(scope));
		json_object_object_add(d, "value", json_object_new_string(net));
		json_object_object_add(d, "origin",
				       json_object_new_string("mxwall"));
		json_object_object_add(d, "scenario",
				       json_object_new_string(a[i].scenario));
		json_object_array_add(decs, d);
		json_object_object_add(al, "decisions", decs);
		json_object_array_add(arr, al);
	}
	s = xstrdup(
	    json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return s;
}

int cs_push(struct cs_client *c, const char *machine_id, const char *password,
	    const struct cs_alert *a, size_t n, int64_t now, char *err,
	    size_t errlen)
{
	struct curl_slist *h = NULL;
	char hdr[2100], *body;
	struct body out;
	long status = 0;
	int rc, tries;

	if (!n)
		return 0;
	body = alerts_json(a, n);
	for (tries = 0; tries < 2; tries++) {
		if (!c->token[0] || now >= c->token_until) {
			rc = login(c, machine_id, password, now, err, errlen);
			if (rc)
				break;
		}
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s",
			 c->token);
		h = curl_slist_append(NULL, hdr);
		h = curl_slist_append(h, "Content-Type: application/json");
		rc = request(c, "/v1/alerts", h, body, &out, &status, err,
			     errlen);
		curl_slist_free_all(h);
		free(out.p);
		if (rc)
			break;
		if (status == 200 || status == 201)
			break;
		if (status == 401 && !tries) {
			c->token[0] = '\0'; /* expired: log in again */
			continue;
		}
		snprintf(err, errlen, "%s: alerts: HTTP %ld", c->url, status);
		rc = -EPROTO;
		break;
	}
	free(body);
	return rc;
}

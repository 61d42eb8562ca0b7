// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c - owns the promotion policy of `mxwall watch`: thresholds and
 * windows (global and threshold.TAG / window.TAG), the recidive ttl, the
 * hourly promotion cap, the addresses never blocked and idle_expire, as
 * pure functions of their arguments (the clock is one of them). What
 * they decide is described in mxwall.conf(5) and mxwall(8) "watch".
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mxwall.h"
#include "watch/policy.h"

uint64_t policy_rule_hits(const struct src_event *ev, size_t n, int64_t since,
			  uint64_t mask, uint64_t *tags)
{
	uint64_t hits = 0;
	size_t i;

	for (i = n; i-- > 0;) {
		if (ev[i].time < since)
			break;
		if (ev[i].tags & mask) {
			hits++;
			*tags |= ev[i].tags;
		}
	}
	return hits;
}

bool policy_over_threshold(const struct mx_config *cfg,
			   const struct src_event *ev, size_t n,
			   uint64_t counting, const int *rule_bit, int64_t now,
			   struct policy_verdict *v)
{
	const struct mx_tag_rule *r;
	size_t i;

	memset(v, 0, sizeof(*v));
	v->hits = policy_rule_hits(ev, n, now - (int64_t)cfg->window, counting,
				   &v->tags);
	v->window = cfg->window;
	v->threshold = cfg->threshold;
	if (v->hits >= cfg->threshold)
		return true;
	for (i = 0; i < cfg->nrules; i++) {
		r = &cfg->rules[i];
		if (!r->threshold)
			continue;
		v->rules_seen = i + 1;
		v->tags = 0;
		v->hits =
		    rule_bit[i] < 0
			? 0
			: policy_rule_hits(ev, n, now - (int64_t)r->window,
					   1ULL << rule_bit[i], &v->tags);
		if (v->hits >= r->threshold) {
			v->window = r->window;
			v->threshold = r->threshold;
			return true;
		}
	}
	v->hits = 0;
	return false;
}

uint64_t policy_ttl(const struct mx_config *cfg, const struct db_entry *prev,
		    int64_t now, uint64_t *level)
{
	uint64_t ttl = cfg->ttl, len;

	*level = 0;
	if (!cfg->recidive_window || !prev || !prev->removed ||
	    now - prev->removed > (int64_t)cfg->recidive_window ||
	    !strcmp(prev->removal, "unblocked") ||
	    !strcmp(prev->removal, "pardoned"))
		return ttl;
	len = (uint64_t)((prev->expires ? prev->expires : prev->removed) -
			 prev->added);
	if (len < ttl)
		len = ttl;
	if (!len)
		len = 1;
	ttl = len * cfg->recidive_factor;
	if (ttl > cfg->max_ttl || ttl / cfg->recidive_factor != len)
		ttl = cfg->max_ttl;
	*level = prev->level + 1;
	return ttl;
}

void policy_cap_prune(int64_t *times, size_t *n, int64_t now)
{
	size_t i, k = 0;

	if (!*n || times[0] > now - POLICY_HOUR_SECS)
		return;
	for (i = 0; i < *n; i++)
		if (times[i] > now - POLICY_HOUR_SECS)
			times[k++] = times[i];
	*n = k;
}

bool policy_cap_full(const struct mx_config *cfg, size_t n)
{
	return n >= cfg->max_promotions_per_hour;
}

void policy_guard_init(struct policy_guard *g)
{
	char err[64];

	memset(g, 0, sizeof(*g));
	cidr_parse("127.0.0.0/8", 0, &g->loop[0], err, sizeof(err));
	cidr_parse("::1", 0, &g->loop[1], err, sizeof(err));
}

const char *policy_protected(const struct mx_config *cfg,
			     const struct policy_guard *g,
			     const struct cidr *net)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(g->loop); i++)
		if (cidr_contains(&g->loop[i], net) ||
		    cidr_contains(net, &g->loop[i]))
			return "loopback";
	for (i = 0; i < g->nown; i++)
		if (cidr_contains(net, &g->own[i]))
			return "an address of this machine";
	for (i = 0; i < cfg->nallow; i++)
		if (cidr_contains(&cfg->allow[i], net) ||
		    cidr_contains(net, &cfg->allow[i]))
			return "in the allowlist";
	return NULL;
}

bool policy_seen_fresh(const struct mx_config *cfg, int64_t when, int64_t now)
{
	return now - when <= (int64_t)cfg->seen_max_age;
}

bool policy_idle(const struct mx_config *cfg, int64_t last, int64_t now)
{
	return cfg->idle_expire && now - last >= (int64_t)cfg->idle_expire;
}

void policy_fmt_dur(uint64_t s, char *buf, size_t len)
{
	if (s == 0)
		snprintf(buf, len, "0 (until the weekly reset)");
	else if (s % (7 * 86400) == 0)
		snprintf(buf, len, "%lluw",
			 (unsigned long long)(s / (7 * 86400)));
	else if (s % 86400 == 0)
		snprintf(buf, len, "%llud", (unsigned long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(s / 60));
	else
		snprintf(buf, len, "%llus", (unsigned long long)s);
}

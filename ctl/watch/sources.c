// SPDX-License-Identifier: GPL-2.0
/*
 * sources.c - owns what `mxwall watch` knows of each source: the reason
 * tags interned as bits, the sources in a hash with their windows of
 * rejection events, the bound under a flood (least recently used sources
 * forgotten first, a budget of events), the machine's own addresses, and
 * event(): one rejection recorded, counted and handed to consider().
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/mxwall.h"
#include "watch/watch_int.h"

/* str_copy - snprintf(dst, len, "%s", src) without printf, per line */
static void str_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- tags ---- */

/*
 * Each distinct reason tag has a bit of its own, the tags with a rule
 * (threshold.TAG / window.TAG, greylist's included) always: they are
 * interned first, and the config allows no more than CONF_RULES_MAX of
 * them; then the scanner's fixed words (relay, auth, ...). Tags beyond the
 * table all lack a rule, so they share the last bit, TAG_SPILL, under the one
 * rule they have in common: the global one, which counts. No tag ever takes
 * over another tag's rule (before, the 64th and later tags shared a bit with
 * whatever tag held it, a greylist rule included).
 */
#define TAG_SPILL (TAGS_MAX - 1)
_Static_assert(CONF_RULES_MAX + 16 < TAG_SPILL, "every rule tag needs a bit");

/* tag_find - tag's bit, -1 if it has none */
static int tag_find(const struct watch *w, const char *tag, size_t len)
{
	size_t i;

	for (i = 0; i < w->ntags; i++)
		if (strlen(w->tag_names[i]) == len &&
		    !memcmp(w->tag_names[i], tag, len))
			return (int)i;
	return -1;
}

static int tag_add(struct watch *w, const char *tag, size_t len)
{
	w->tag_names[w->ntags] = xmalloc(len + 1);
	memcpy(w->tag_names[w->ntags], tag, len);
	w->tag_names[w->ntags][len] = '\0';
	return (int)w->ntags++;
}

int tag_bit(struct watch *w, const char *tag, size_t len)
{
	int bit = tag_find(w, tag, len);

	if (bit >= 0)
		return bit;
	if (w->ntags == TAG_SPILL)
		return TAG_SPILL; /* not a rule's tag: those are all in */
	return tag_add(w, tag, len);
}

uint64_t tags_mask(struct watch *w, const char *tags)
{
	uint64_t m = 0;
	const char *p = tags, *c;

	while (*p) {
		c = strchr(p, ',');
		if (!c)
			c = p + strlen(p);
		if (c > p)
			m |= 1ULL << tag_bit(w, p, (size_t)(c - p));
		p = *c ? c + 1 : c;
	}
	return m;
}

/* remap - the bits of every event held, old bit i becoming map[i] */
static void remap(struct watch *w, const int *map)
{
	struct source *s;
	uint64_t m, o;
	size_t b, i;
	int k;

	for (b = 0; w->bucket && b < SRC_BUCKETS; b++) {
		for (s = w->bucket[b]; s; s = s->next) {
			for (i = 0; i < s->n; i++) {
				o = s->ev[i].tags;
				m = 0;
				for (k = 0; k < TAGS_MAX; k++)
					if (o & (1ULL << k))
						m |= 1ULL << map[k];
				s->ev[i].tags = m;
			}
		}
	}
}

/*
 * tags_intern_rules - the tags of the rules first, then the other tags
 * known so far while there is room (the rest spill); events held keep
 * their tags under the new bits. Run with every (new) configuration.
 */
static void tags_intern_rules(struct watch *w)
{
	char *old[TAGS_MAX];
	size_t nold = w->ntags, i;
	int map[TAGS_MAX], bit;
	bool moved = false;

	memcpy(old, w->tag_names, sizeof(old));
	w->ntags = 0;
	for (i = 0; i < w->cfg.nrules; i++)
		if (tag_find(w, w->cfg.rules[i].tag,
			     strlen(w->cfg.rules[i].tag)) < 0)
			tag_add(w, w->cfg.rules[i].tag,
				strlen(w->cfg.rules[i].tag));
	/* the scanner's own words next: only DNSBL zones can spill */
	for (i = 0; scan_known_tags[i]; i++)
		tag_bit(w, scan_known_tags[i], strlen(scan_known_tags[i]));
	for (i = 0; i < TAGS_MAX; i++)
		map[i] = TAG_SPILL;
	for (i = 0; i < nold; i++) {
		bit = tag_bit(w, old[i], strlen(old[i]));
		map[i] = bit;
		moved |= bit != (int)i;
		free(old[i]);
	}
	if (moved)
		remap(w, map);
}

/*
 * counting_update - which tags count, from the rules (threshold 0: not),
 * and the bit of each rule's tag
 */
void counting_update(struct watch *w)
{
	const struct mx_tag_rule *r;
	size_t i;

	w->counting = 1ULL << TAG_SPILL; /* no rule: the global one counts */
	for (i = 0; i < w->ntags; i++) {
		r = config_rule(&w->cfg, w->tag_names[i]);
		if (!r || r->threshold > 0)
			w->counting |= 1ULL << i;
	}
	w->counted_ntags = w->ntags;
	free(w->rule_bit);
	w->rule_bit =
	    xcalloc(w->cfg.nrules ? w->cfg.nrules : 1, sizeof(*w->rule_bit));
	for (i = 0; i < w->cfg.nrules; i++)
		w->rule_bit[i] = tag_find(w, w->cfg.rules[i].tag,
					  strlen(w->cfg.rules[i].tag));
}

void tags_configure(struct watch *w)
{
	tags_intern_rules(w);
	counting_update(w);
}

void mask_names(struct watch *w, uint64_t m, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < w->ntags; i++)
		if (m & (1ULL << i))
			mx_tags_add(buf, len, w->tag_names[i]);
	if (m & (1ULL << TAG_SPILL))
		mx_tags_add(buf, len, "other");
}

/* ---- sources ---- */

static uint32_t src_hash(const struct cidr *c)
{
	uint32_t h = 2166136261U;
	size_t i;

	for (i = 0; i < 16; i++)
		h = (h ^ c->addr[i]) * 16777619U;
	return (h ^ c->family) & (SRC_BUCKETS - 1);
}

static bool src_eq(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->plen == b->plen &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void lru_unlink(struct watch *w, struct source *s)
{
	if (s->older)
		s->older->newer = s->newer;
	else
		w->lru_old = s->newer;
	if (s->newer)
		s->newer->older = s->older;
	else
		w->lru_new = s->older;
	s->older = s->newer = NULL;
	w->nlru--;
}

static void lru_append(struct watch *w, struct source *s)
{
	s->older = w->lru_new;
	s->newer = NULL;
	if (w->lru_new)
		w->lru_new->newer = s;
	else
		w->lru_old = s;
	w->lru_new = s;
	w->nlru++;
}

/* lru_touch - s had an event: the most recently used */
static void lru_touch(struct watch *w, struct source *s)
{
	if (s->blocked || w->lru_new == s)
		return;
	lru_unlink(w, s);
	lru_append(w, s);
}

/* src_set_blocked - blocked sources leave the LRU list (never forgotten) */
void src_set_blocked(struct watch *w, struct source *s, bool blocked)
{
	if (s->blocked == blocked)
		return;
	s->blocked = blocked;
	if (blocked)
		lru_unlink(w, s); /* and its window stops growing */
	else
		lru_append(w, s);
}

/* src_drop - unhash, unlist and free s */
static void src_drop(struct watch *w, struct source *s)
{
	struct source **pp = &w->bucket[src_hash(&s->ip)];

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	if (!s->blocked)
		lru_unlink(w, s);
	w->ev_total -= s->cap;
	w->nsources--;
	free(s->ev);
	free(s);
}

/* src_forget_oldest - the flood's price: forget the least recent source */
static void src_forget_oldest(struct watch *w, const struct source *keep)
{
	struct source *s = w->lru_old;

	if (!s || s == keep)
		return;
	src_drop(w, s);
	w->src_forgotten++;
	w->src_forgotten_all++;
	if (w->now - w->forgot_logged >= 60) {
		log_warn(
		    "flood: tracking at most %u sources and %u events: forgot "
		    "%llu sources whose last rejection is the oldest",
		    SRC_TRACK_MAX, SRC_EV_BUDGET,
		    (unsigned long long)w->src_forgotten);
		w->src_forgotten = 0;
		w->forgot_logged = w->now;
	}
}

struct source *src_get(struct watch *w, const struct cidr *ip, bool create)
{
	uint32_t h = src_hash(ip);
	struct source *s;

	for (s = w->bucket[h]; s; s = s->next)
		if (src_eq(&s->ip, ip))
			return s;
	if (!create)
		return NULL;
	if (w->nlru >= SRC_TRACK_MAX)
		src_forget_oldest(w, NULL);
	s = xcalloc(1, sizeof(*s));
	s->ip = *ip;
	s->next = w->bucket[h];
	w->bucket[h] = s;
	w->nsources++;
	lru_append(w, s);
	return s;
}

void src_free_all(struct watch *w)
{
	struct source *s, *n;
	size_t i;

	for (i = 0; i < SRC_BUCKETS; i++) {
		for (s = w->bucket[i]; s; s = n) {
			n = s->next;
			free(s->ev);
			free(s);
		}
		w->bucket[i] = NULL;
	}
	w->nsources = 0;
	w->nlru = 0;
	w->ev_total = 0;
	w->lru_old = w->lru_new = NULL;
}

/* src_gc - drop sources with nothing in any window and no entry */
void src_gc(struct watch *w)
{
	int64_t horizon = w->now - (int64_t)config_max_window(&w->cfg);
	struct source **pp, *s;
	size_t i;

	for (i = 0; i < SRC_BUCKETS; i++) {
		for (pp = &w->bucket[i]; (s = *pp);) {
			if (!s->blocked &&
			    (!s->n || s->ev[s->n - 1].time < horizon)) {
				*pp = s->next;
				lru_unlink(w, s);
				w->ev_total -= s->cap;
				free(s->ev);
				free(s);
				w->nsources--;
			} else {
				pp = &s->next;
			}
		}
	}
}

/*
 * src_room - make room for one more event in s's window: drop events
 * older than horizon (they count in no window), grow within the budget
 * (forgetting the least recent sources), else drop s's oldest event.
 */
static void src_room(struct watch *w, struct source *s, int64_t horizon)
{
	size_t k = 0, cap;

	if (s->n < s->cap)
		return;
	while (k < s->n && s->ev[k].time < horizon)
		k++;
	if (k) {
		memmove(s->ev, s->ev + k, (s->n - k) * sizeof(*s->ev));
		s->n -= k;
		return;
	}
	cap = s->cap ? s->cap * 2 : 8;
	while (cap <= SRC_EVENTS_MAX &&
	       w->ev_total + cap - s->cap > SRC_EV_BUDGET && w->lru_old &&
	       w->lru_old != s)
		src_forget_oldest(w, s);
	if (cap <= SRC_EVENTS_MAX &&
	    w->ev_total + cap - s->cap <= SRC_EV_BUDGET) {
		s->ev = xreallocarray(s->ev, cap, sizeof(*s->ev));
		w->ev_total += cap - s->cap;
		s->cap = cap;
		return;
	}
	memmove(s->ev, s->ev + 1, (s->n - 1) * sizeof(*s->ev));
	s->n--;
}

/* ---- protection ---- */

void own_addrs_load(struct watch *w)
{
	struct ifaddrs *ifa, *i;

	free(w->own);
	w->own = NULL;
	w->nown = 0;
	w->guard.own = NULL;
	w->guard.nown = 0;
	if (getifaddrs(&ifa)) {
		log_warn("cannot list this machine's addresses: %s",
			 strerror(errno));
		return;
	}
	for (i = ifa; i; i = i->ifa_next) {
		struct cidr c;

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			cidr_from_addr(
			    &c, AF_INET,
			    &((struct sockaddr_in *)i->ifa_addr)->sin_addr);
		else if (i->ifa_addr->sa_family == AF_INET6)
			cidr_from_addr(
			    &c, AF_INET6,
			    &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr);
		else
			continue;
		w->own = xreallocarray(w->own, w->nown + 1, sizeof(*w->own));
		w->own[w->nown++] = c;
	}
	freeifaddrs(ifa);
	w->guard.own = w->own;
	w->guard.nown = w->nown;
}

/* protected - why net is never blocked, or NULL (policy_protected) */
const char *protected(struct watch *w, const struct cidr *net)
{
	return policy_protected(&w->cfg, &w->guard, net);
}

/*
 * event - one rejection: record it, count it, maybe promote. replay:
 * from the database at start, not recorded again.
 */
void event(struct watch *w, int64_t t, const struct cidr *ip, const char *mta,
	   const char *tags, bool replay)
{
	struct source *s;
	uint64_t m;
	int64_t horizon = w->now - (int64_t)config_max_window(&w->cfg);

	w->events++;
	if (!replay) {
		struct db_event ev = {.time = t};

		ev.file = w->line_file;
		ev.line = w->line_no;

		cidr_format(ip, ev.ip, sizeof(ev.ip));
		str_copy(ev.mta, sizeof(ev.mta), mta);
		str_copy(ev.tags, sizeof(ev.tags), tags);
		if (db_begin(w->db) || db_event_add(w->db, &ev))
			log_warn("database: %s", db_errmsg(w->db));
		mark_dirty(w);
	}
	if (t > w->now)
		t = w->now; /* a clock ahead of ours counts as now */
	if (t < horizon)
		return; /* older than any window: counts for nothing */
	if (protected(w, ip))
		return;
	m = tags_mask(w, tags);
	if (w->ntags != w->counted_ntags)
		counting_update(w); /* a new tag: does it count? */
	s = src_get(w, ip, true);
	if (s->blocked)
		return; /* its window starts again when it leaves */
	lru_touch(w, s);
	src_room(w, s, horizon);
	/* keep time order even when logs interleave */
	{
		size_t i = s->n;

		while (i > 0 && s->ev[i - 1].time > t) {
			s->ev[i] = s->ev[i - 1];
			i--;
		}
		s->ev[i].time = t;
		s->ev[i].tags = m;
		s->n++;
	}
	consider(w, s);
}

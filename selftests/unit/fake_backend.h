/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fake_backend.h - an in-memory backend for the report tests: entries with
 * counters and global counters, kept in a shared anonymous mapping so that
 * a forked child that "crashes" half-way leaves its changes visible to the
 * parent, as the pinned maps of the real backend would.
 * Used by test_report.c and test_report_reset.c.
 */
#ifndef MXWALL_FAKE_BACKEND_H
#define MXWALL_FAKE_BACKEND_H

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/backend.h"

#define FAKE_MAX 64

struct fake_state {
	struct mx_entry e[FAKE_MAX];
	size_t n;
	struct mx_counters counters;
	int applies; /* apply() calls, to see a clear happen */
	int zeroes;  /* zero_counters() calls */
};

static int fake_status(struct backend *be, struct mx_status *st)
{
	struct fake_state *s = be->priv;
	size_t i;

	memset(st, 0, sizeof(*st));
	st->backend = "fake";
	st->counters = s->counters;
	for (i = 0; i < s->n; i++) {
		if (s->e[i].origin == MX_ORIGIN_STATIC)
			st->entries_static++;
		else
			st->entries_dynamic++;
	}
	st->capacity = FAKE_MAX;
	return 0;
}

static int fake_dump(struct backend *be, struct mx_entry **out, size_t *n)
{
	struct fake_state *s = be->priv;

	*out = xcalloc(s->n + 1, sizeof(**out));
	memcpy(*out, s->e, s->n * sizeof(**out));
	*n = s->n;
	return 0;
}

static int fake_apply(struct backend *be, const struct mx_entry *add,
		      size_t nadd, const struct cidr *del, size_t ndel)
{
	struct fake_state *s = be->priv;
	size_t i, k;

	s->applies++;
	for (k = 0; k < ndel; k++)
		for (i = 0; i < s->n; i++)
			if (!cidr_cmp(&s->e[i].net, &del[k])) {
				s->e[i] = s->e[--s->n];
				break;
			}
	for (k = 0; k < nadd; k++) {
		if (s->n == FAKE_MAX)
			return -ENOSPC;
		s->e[s->n++] = add[k];
	}
	return 0;
}

static int fake_zero(struct backend *be, const struct cidr *nets, size_t n)
{
	struct fake_state *s = be->priv;
	size_t i, k;

	s->zeroes++;
	for (i = 0; i < s->n; i++)
		for (k = 0; k < n || (n == 0 && k == 0); k++)
			if (n == 0 || !cidr_cmp(&s->e[i].net, &nets[k])) {
				s->e[i].packets = 0;
				s->e[i].bytes = 0;
			}
	return 0;
}

static const struct backend_ops fake_ops = {
    .name = "fake",
    .status = fake_status,
    .apply = fake_apply,
    .dump = fake_dump,
    .zero_counters = fake_zero,
};

/* fake_open - a backend over a fresh shared state */
static inline struct fake_state *fake_open(struct backend *be)
{
	struct fake_state *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (s == MAP_FAILED)
		abort();
	memset(s, 0, sizeof(*s));
	memset(be, 0, sizeof(*be));
	be->ops = &fake_ops;
	be->priv = s;
	be->lock_fd = -1;
	return s;
}

static inline void fake_close(struct backend *be)
{
	munmap(be->priv, sizeof(struct fake_state));
	be->priv = NULL;
}

/* fake_add - one entry: "203.0.113.7", drop, origin, tags, counters */
static inline void fake_add(struct fake_state *s, const char *net,
			    enum mx_origin origin, const char *tags,
			    uint64_t packets, uint64_t bytes)
{
	struct mx_entry *e = &s->e[s->n++];
	char err[128];

	memset(e, 0, sizeof(*e));
	if (cidr_parse(net, 0, &e->net, err, sizeof(err)) < 0)
		abort();
	e->action = MX_ACT_DROP;
	e->origin = (uint8_t)origin;
	snprintf(e->tags, sizeof(e->tags), "%s", tags);
	e->packets = packets;
	e->bytes = bytes;
}

/* fake_find - the entry for net, or NULL */
static inline struct mx_entry *fake_find(struct fake_state *s, const char *net)
{
	struct cidr c;
	char err[128];
	size_t i;

	if (cidr_parse(net, 0, &c, err, sizeof(err)) < 0)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (!cidr_cmp(&s->e[i].net, &c))
			return &s->e[i];
	return NULL;
}

#endif /* MXWALL_FAKE_BACKEND_H */

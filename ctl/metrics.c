// SPDX-License-Identifier: GPL-2.0
/*
 * metrics.c - "mxwall metrics": the data path's counters, the entries by
 * origin, the controller's promotions and expiries, the top entries' drops
 * and the controller's lag behind each log, in Prometheus text format.
 *
 * With --out FILE the text is written atomically (temp file in the same
 * directory, fsync, rename), so node_exporter's textfile collector never
 * reads half a file; the file should end in ".prom".
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "metrics.h"
#include "mxwall.h"

void metrics_label(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP mxwall_%s %s\n# TYPE mxwall_%s %s\n", name, help,
		name, type);
}

static void scalar(FILE *f, const char *name, const char *type,
		   const char *help, uint64_t v)
{
	family(f, name, type, help);
	fprintf(f, "mxwall_%s %llu\n", name, (unsigned long long)v);
}

void metrics_format(FILE *f, const struct metrics_input *in)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} ctr[] = {
		{ "packets_seen_total", "Packets the data path looked at.",
		  offsetof(struct mx_counters, seen) },
		{ "smtp_syn_total", "SMTP SYNs seen.",
		  offsetof(struct mx_counters, syn) },
		{ "dropped_total", "SMTP SYNs dropped from blocked sources.",
		  offsetof(struct mx_counters, dropped) },
		{ "allowed_total", "SMTP SYNs passed by an allow exception.",
		  offsetof(struct mx_counters, allowed) },
		{ "observed_total",
		  "SMTP SYNs that would have been dropped (observe mode).",
		  offsetof(struct mx_counters, observed) },
		{ "passed_total", "Packets passed.",
		  offsetof(struct mx_counters, passed) },
		{ "malformed_total",
		  "Packets passed because a header did not fit the frame.",
		  offsetof(struct mx_counters, malformed) },
	};
	const struct mx_status *st = in->st;
	char host[CIDR_STRLEN];
	size_t i;

	if (st) {
		for (i = 0; i < ARRAY_SIZE(ctr); i++)
			scalar(f, ctr[i].name, "counter", ctr[i].help,
			       *(const uint64_t *)((const char *)&st->counters +
						   ctr[i].off));
		family(f, "entries", "gauge",
		       "Entries in the filter by origin.");
		fprintf(f, "mxwall_entries{origin=\"static\"} %zu\n",
			st->entries_static);
		fprintf(f, "mxwall_entries{origin=\"dynamic\"} %zu\n",
			st->entries_dynamic);
		scalar(f, "entries_capacity", "gauge",
		       "Entries the tables can hold.", st->capacity);
		scalar(f, "interfaces_attached", "gauge",
		       "Interfaces the filter is attached to.", st->nifaces);
	}
	if (in->have_db) {
		scalar(f, "promotions_total", "counter",
		       "Sources the controller promoted into the filter.",
		       in->promotions);
		scalar(f, "expiries_total", "counter",
		       "Dynamic entries that expired or left idle.",
		       in->expiries);
	}
	if (in->ntop) {
		family(f, "entry_packets_total", "counter",
		       "SMTP SYNs matched by an entry (the top entries by packets).");
		for (i = 0; i < in->ntop; i++) {
			fputs("mxwall_entry_packets_total{entry=", f);
			metrics_label(f, cidr_format(&in->top[i].net, host,
						     sizeof(host)));
			fprintf(f, ",action=\"%s\"} %llu\n",
				mx_action_name(&in->top[i]),
				(unsigned long long)in->top[i].packets);
		}
		family(f, "entry_bytes_total", "counter",
		       "IP bytes matched by an entry (the top entries by packets).");
		for (i = 0; i < in->ntop; i++) {
			fputs("mxwall_entry_bytes_total{entry=", f);
			metrics_label(f, cidr_format(&in->top[i].net, host,
						     sizeof(host)));
			fprintf(f, ",action=\"%s\"} %llu\n",
				mx_action_name(&in->top[i]),
				(unsigned long long)in->top[i].bytes);
		}
	}
	if (in->nlag) {
		family(f, "log_lag_seconds", "gauge",
		       "Seconds the controller is behind a log (age of its oldest unread line).");
		for (i = 0; i < in->nlag; i++) {
			fputs("mxwall_log_lag_seconds{log=", f);
			metrics_label(f, in->lag[i].log);
			fprintf(f, "} %.3f\n", in->lag[i].seconds);
		}
		family(f, "log_lag_bytes", "gauge",
		       "Bytes of a log the controller has not read yet.");
		for (i = 0; i < in->nlag; i++) {
			fputs("mxwall_log_lag_bytes{log=", f);
			metrics_label(f, in->lag[i].log);
			fprintf(f, "} %llu\n",
				(unsigned long long)in->lag[i].bytes);
		}
	}
}

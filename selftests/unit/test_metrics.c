// SPDX-License-Identifier: GPL-2.0
/*
 * test_metrics.c - the Prometheus text of "mxwall metrics": every family
 * has HELP and TYPE before its samples, names carry the mxwall_ prefix,
 * label values are escaped, and absent sources leave their families out.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "report/metrics.h"
#include "core/mxwall.h"
#include "test.h"

static char *render(const struct metrics_input *in)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	metrics_format(f, in);
	fclose(f);
	return buf;
}

static void host(struct mx_entry *e, const char *s)
{
	char err[128];

	memset(e, 0, sizeof(*e));
	cidr_parse(s, 0, &e->net, err, sizeof(err));
	e->action = MX_ACT_DROP;
	e->origin = MX_ORIGIN_DYNAMIC;
}

/*
 * check_format - every sample line names a family announced by a TYPE line
 * before it, every TYPE follows its HELP, every name starts with mxwall_.
 */
static void check_format(const char *text)
{
	char types[64][64];
	int ntypes = 0, bad = 0, samples = 0, i;
	char *copy = xstrdup(text), *line, *save = NULL, name[64];
	const char *last_help = "";

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "# HELP ", 7)) {
			last_help = line + 7;
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			sscanf(line + 7, "%63s", name);
			if (strncmp(last_help, name, strlen(name)) ||
			    strncmp(name, "mxwall_", 7))
				bad++;
			if (ntypes < 64)
				snprintf(types[ntypes++], 64, "%s", name);
			continue;
		}
		samples++;
		sscanf(line, "%63[^{ ]", name);
		for (i = 0; i < ntypes; i++)
			if (!strcmp(types[i], name))
				break;
		if (i == ntypes) {
			bad++;
			printf("  sample without TYPE: %s\n", line);
		}
	}
	free(copy);
	ASSERT_EQ(bad, 0, "HELP/TYPE before every sample, mxwall_ prefix");
	ASSERT_TRUE(samples > 0, "has samples");
}

static void test_full(void)
{
	struct mx_status st = {0};
	struct mx_entry top[2];
	struct metrics_lag lag[2] = {
	    {"/var/log/mail.log", 0, 0},
	    {"/var/log/odd \"name\"\\x", 12.5, 4096},
	};
	struct metrics_input in = {
	    .st = &st,
	    .have_db = true,
	    .promotions = 17,
	    .expiries = 4,
	    .top = top,
	    .ntop = 2,
	    .lag = lag,
	    .nlag = 2,
	};
	char *out;

	st.counters.seen = 1000;
	st.counters.syn = 700;
	st.counters.dropped = 600;
	st.entries_static = 3;
	st.entries_dynamic = 12;
	st.capacity = 1048576;
	st.nifaces = 1;
	st.backend = "xdp";
	st.ifaces[0].mode = MX_MODE_NATIVE;
	in.controller_up = true;
	host(&top[0], "203.0.113.7");
	top[0].packets = 7768;
	top[0].bytes = 364544;
	host(&top[1], "2001:db8::/48");
	top[1].packets = 10;
	top[1].bytes = 800;
	top[1].observe = true;
	out = render(&in);
	check_format(out);
	ASSERT_TRUE(strstr(out, "# HELP mxwall_dropped_total SMTP SYNs dropped "
				"from blocked sources.\n"
				"# TYPE mxwall_dropped_total counter\n"
				"mxwall_dropped_total 600\n") != NULL,
		    "dropped counter with HELP and TYPE");
	ASSERT_TRUE(strstr(out, "mxwall_smtp_syn_total 700\n") != NULL, "syn");
	ASSERT_TRUE(strstr(out,
			   "mxwall_entries{origin=\"static\"} 3\n"
			   "mxwall_entries{origin=\"dynamic\"} 12\n") != NULL,
		    "entries by origin");
	ASSERT_TRUE(strstr(out, "# TYPE mxwall_backend_info gauge\n"
				"mxwall_backend_info{backend=\"xdp\","
				"mode=\"native\"} 1\n") != NULL,
		    "backend_info: xdp native");
	ASSERT_TRUE(strstr(out, "# TYPE mxwall_controller_up gauge\n"
				"mxwall_controller_up 1\n") != NULL,
		    "controller_up 1");
	ASSERT_TRUE(strstr(out, "mxwall_promotions_total 17\n") != NULL,
		    "promotions");
	ASSERT_TRUE(strstr(out, "mxwall_expiries_total 4\n") != NULL,
		    "expiries");
	ASSERT_TRUE(strstr(out, "mxwall_entry_packets_total{entry=\"203.0.113."
				"7\",action=\"drop\"} 7768\n") != NULL,
		    "per-entry packets, host without /32");
	ASSERT_TRUE(strstr(out, "mxwall_entry_bytes_total{entry=\"2001:db8::/"
				"48\",action=\"observe\"} 800\n") != NULL,
		    "per-entry bytes, v6 netblock, observe");
	ASSERT_TRUE(
	    strstr(
		out,
		"mxwall_log_lag_seconds{log=\"/var/log/mail.log\"} 0.000\n") !=
		NULL,
	    "lag of a log read to its end");
	ASSERT_TRUE(strstr(out, "mxwall_log_lag_seconds{log=\"/var/log/odd "
				"\\\"name\\\"\\\\x\"} 12.500\n") != NULL,
		    "label value escaped");
	ASSERT_TRUE(
	    strstr(out,
		   "mxwall_log_lag_bytes{log=\"/var/log/mail.log\"} 0\n") !=
		NULL,
	    "lag bytes");
	ASSERT_TRUE(out[strlen(out) - 1] == '\n', "ends in a newline");
	free(out);
}

static void test_partial(void)
{
	struct mx_status st = {0};
	struct metrics_input in = {.st = &st};
	char *out = render(&in);

	check_format(out);
	ASSERT_TRUE(strstr(out, "mxwall_promotions_total") == NULL,
		    "no database: no promotions family");
	ASSERT_TRUE(strstr(out, "mxwall_log_lag") == NULL,
		    "no positions: no lag family");
	ASSERT_TRUE(strstr(out, "mxwall_entry_packets_total") == NULL,
		    "no entries: no per-entry family");
	ASSERT_TRUE(strstr(out, "mxwall_dropped_total 0\n") != NULL,
		    "zero counters are printed");
	ASSERT_TRUE(strstr(out, "mxwall_controller_up 0\n") != NULL,
		    "controller_up 0");
	ASSERT_TRUE(strstr(out, "mxwall_backend_info{backend=\"unknown\","
				"mode=\"detached\"} 1\n") != NULL,
		    "backend_info: detached");
	free(out);
}

int main(void)
{
	TEST_RUN(test_full);
	TEST_RUN(test_partial);
	return test_finish();
}

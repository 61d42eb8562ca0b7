// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_iface.c - attach, detach and status: where the filter runs and what
 * state it is in.
 *
 * attach with the backend left to auto tries XDP first; when XDP cannot
 * attach to the interface here and nothing is attached through XDP yet,
 * the backend's front door (backend_attach) falls back to the nftables
 * backend, says so on stderr and records the reason, which `status` shows.
 * An attach that fails leaves the configuration as it was, and state it
 * created itself is removed again.
 *
 * When the backend changes (--backend, or the fallback) while the other
 * backend still holds state, attach moves it across: the new backend is
 * attached, takes every entry with its metadata (and the old port set and
 * observe mode unless given), is attached to the old one's other
 * interfaces too, and only then is the old backend detached and removed,
 * so that no SYN from a blocked source gets through in between. Counters
 * start again from zero on the new backend (neither kernel interface can
 * preset them).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/wire.h"
#include "cmd/cli.h"
#include "cmd/cmdline.h"
#include "cmd/commands.h"
#include "core/mxwall.h"

static const char *mode_name(enum mx_attach_mode m)
{
	switch (m) {
	case MX_MODE_NATIVE:
		return "native";
	case MX_MODE_GENERIC:
		return "generic";
	default:
		return "auto";
	}
}

/* has_iface - is ifname in the status list */
static bool has_iface(const struct mx_status *st, const char *ifname)
{
	size_t i;

	for (i = 0; i < st->nifaces; i++)
		if (!strcmp(st->ifaces[i].name, ifname))
			return true;
	return false;
}

/*
 * say_attached - which backend and mode the interface runs with now. An
 * upgrade replaces the program in place and keeps the mode the interface
 * was attached in: say so when another one was asked for.
 */
static void say_attached(const char *cmd, struct backend *be,
			 const char *ifname, enum mx_attach_mode want)
{
	enum mx_attach_mode got = MX_MODE_AUTO;
	struct mx_status st;
	size_t i;

	memset(&st, 0, sizeof(st));
	if (!be->ops->status(be, &st))
		for (i = 0; i < st.nifaces; i++)
			if (!strcmp(st.ifaces[i].name, ifname))
				got = st.ifaces[i].mode;
	if (want != MX_MODE_AUTO && got != MX_MODE_AUTO && got != want)
		log_warn(
		    "%s: %s stays in %s mode (detach first to change the mode)",
		    cmd, ifname, mode_name(got));
	if (be->ops == &backend_nft_ops)
		log_info("%s: %s: nft backend (table netdev mxwall, ingress "
			 "hook)",
			 cmd, ifname);
	else
		log_info("%s: %s: %s backend, %s mode", cmd, ifname,
			 be->ops->name, mode_name(got));
}

/*
 * move_from_other - see the head of this file. be is attached to ifname;
 * on failure the caller takes it off again, and the old backend is as it
 * was.
 */
static int move_from_other(const char *cmd, struct backend *be,
			   const char *ifname, enum mx_attach_mode mode,
			   bool keep_cfg)
{
	struct backend other;
	struct mx_status ost;
	struct mx_entry *rows = NULL;
	size_t n = 0, i, j, nmore = 0;
	const char *more[MX_IFACES_MAX];
	int err;

	if (backend_open_other(be, &other))
		return 0; /* the other backend has nothing here */
	memset(&ost, 0, sizeof(ost));
	err = other.ops->status(&other, &ost);
	if (err ||
	    (!ost.nifaces && !ost.entries_static && !ost.entries_dynamic))
		goto out;
	err = other.ops->dump(&other, &rows, &n);
	if (err) {
		log_err("%s: cannot read the entries of the %s backend: %s",
			cmd, other.ops->name, backend_strerror(err));
		goto out;
	}
	if (!keep_cfg && ost.cfg.nports) {
		err = be->ops->set_config(be, &ost.cfg);
		if (err)
			goto out;
	}
	err = backend_apply(be, rows, n, NULL, 0);
	if (err) {
		log_err("%s: cannot move %zu entries to the %s backend: %s",
			cmd, n, be->ops->name, backend_strerror(err));
		goto out;
	}
	for (i = 0; i < ost.nifaces; i++) {
		if (!strcmp(ost.ifaces[i].name, ifname))
			continue;
		err = be->ops->attach(be, ost.ifaces[i].name, mode);
		if (err) {
			log_err("%s: cannot attach the %s backend to %s: %s",
				cmd, be->ops->name, ost.ifaces[i].name,
				backend_strerror(err));
			for (j = 0; j < nmore; j++)
				be->ops->detach(be, more[j]);
			goto out;
		}
		more[nmore++] = ost.ifaces[i].name;
	}
	/* the new filter is in place everywhere: now the old one goes */
	for (i = 0; i < ost.nifaces; i++) {
		int e = other.ops->detach(&other, ost.ifaces[i].name);

		if (e)
			log_warn("%s: cannot detach the %s backend from %s: %s",
				 cmd, other.ops->name, ost.ifaces[i].name,
				 backend_strerror(e));
	}
	if (other.ops->destroy(&other))
		log_warn("%s: cannot remove the state of the %s backend", cmd,
			 other.ops->name);
	log_info("%s: moved %zu entries from the %s backend to %s (counters "
		 "start from zero)",
		 cmd, n, other.ops->name, be->ops->name);
out:
	free(rows);
	backend_close(&other);
	return err;
}

int cmd_attach(int argc, char **argv)
{
	const char *cmd = argv[0];
	enum mx_attach_mode mode = MX_MODE_AUTO;
	struct mx_dp_config cfg, old;
	struct mx_status st;
	uint16_t ports[MX_PORTS_MAX];
	size_t nports = 0;
	bool observe = false, set_observe = false, had_old = false;
	bool fresh;
	const char *ifname;
	struct backend be;
	int c, err, rc;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "native"))
				mode = MX_MODE_NATIVE;
			else if (!strcmp(optarg, "generic"))
				mode = MX_MODE_GENERIC;
			else if (!strcmp(optarg, "auto"))
				mode = MX_MODE_AUTO;
			else
				log_usage("%s: --mode %s: expected native, "
					  "generic or auto",
					  cmd, optarg);
			break;
		case 'o':
			set_observe = true;
			observe = true;
			if (optarg && !parse_bool(optarg, &observe))
				log_usage(
				    "%s: --observe=%s: expected yes or no", cmd,
				    optarg);
			break;
		case 'p':
			if (parse_ports(optarg, ports, MX_PORTS_MAX, &nports))
				log_usage(
				    "%s: --ports %s: expected up to %d "
				    "distinct ports 1-65535, comma separated",
				    cmd, optarg, MX_PORTS_MAX);
			break;
		}
	}
	if (optind >= argc)
		log_usage("%s: missing IFACE (see 'mxwall %s --help')", cmd,
			  cmd);
	if (argc - optind > 1)
		log_usage("%s: %s: unexpected argument (one IFACE at a time)",
			  cmd, argv[optind + 1]);
	ifname = argv[optind];
	if (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname)) {
		log_err("%s: %s: no such interface", cmd, ifname);
		return EXIT_RUNTIME;
	}

	rc = cmd_open(cmd, &be, BE_CREATE | BE_LOCK);
	if (rc)
		return rc;
	memset(&st, 0, sizeof(st));
	err = be.ops->status(&be, &st);
	if (err) {
		log_err("%s: cannot read the state: %s", cmd,
			backend_strerror(err));
		backend_close(&be);
		return EXIT_RUNTIME;
	}
	/* nothing attached and no entries: this attach made the state */
	fresh = st.nifaces == 0 && st.entries_static + st.entries_dynamic == 0;
	old = st.cfg;
	had_old = !fresh;
	cfg = fresh || !old.nports
		  ? (struct mx_dp_config){.ports = {25}, .nports = 1}
		  : old;
	if (!fresh)
		cfg.observe = old.observe;
	if (nports) {
		memcpy(cfg.ports, ports, sizeof(ports));
		cfg.nports = nports;
	}
	if (set_observe)
		cfg.observe = observe;

	/* the front door falls back to nft when XDP cannot attach here */
	err = backend_attach(&be, BE_CREATE | BE_LOCK, cmd, ifname, mode, &cfg,
			     &fresh, &old);
	had_old = !fresh;
	if (err) {
		log_err("%s: %s: %s", cmd, ifname, backend_strerror(err));
		backend_close(&be);
		return EXIT_RUNTIME;
	}
	err = move_from_other(cmd, &be, ifname, mode,
			      nports || set_observe || !fresh);
	if (err) {
		be.ops->detach(&be, ifname);
		if (fresh)
			be.ops->destroy(&be);
		else if (had_old)
			be.ops->set_config(&be, &old);
		backend_close(&be);
		return EXIT_RUNTIME;
	}
	err = backend_record(&be);
	if (err)
		log_warn("%s: cannot record the backend in %s: %s", cmd,
			 be.state_dir, strerror(-err));
	err = wire_follow(&be);
	if (err)
		log_warn("%s: cannot attach the record of SMTP handshakes: %s; "
			 "the watcher promotes no source while require_seen = "
			 "yes",
			 cmd, backend_strerror(err));
	say_attached(cmd, &be, ifname, mode);
	backend_close(&be);
	return EXIT_OK;
}

int cmd_detach(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct mx_status st;
	struct backend be;
	bool all = false;
	const char *ifname = NULL;
	size_t i;
	int c, err, rc = EXIT_OK;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		}
	}
	if (all && optind < argc)
		log_usage("%s: %s: unexpected argument with --all", cmd,
			  argv[optind]);
	if (!all && optind >= argc)
		log_usage("%s: missing IFACE or --all (see 'mxwall %s --help')",
			  cmd, cmd);
	if (argc - optind > 1)
		log_usage("%s: %s: unexpected argument (one IFACE at a time)",
			  cmd, argv[optind + 1]);
	if (!all)
		ifname = argv[optind];

	rc = cmd_open(cmd, &be, BE_LOCK);
	if (rc)
		return rc;
	memset(&st, 0, sizeof(st));
	err = be.ops->status(&be, &st);
	if (err) {
		log_err("%s: cannot read the state: %s", cmd,
			backend_strerror(err));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (ifname && !has_iface(&st, ifname)) {
		log_err("%s: %s: mxwall is not attached there", cmd, ifname);
		rc = EXIT_RUNTIME;
		goto out;
	}
	for (i = 0; i < st.nifaces; i++) {
		if (ifname && strcmp(st.ifaces[i].name, ifname))
			continue;
		err = be.ops->detach(&be, st.ifaces[i].name);
		if (err) {
			log_err("%s: %s: %s", cmd, st.ifaces[i].name,
				backend_strerror(err));
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	/* the last interface gone and nothing listed: leave no trace */
	memset(&st, 0, sizeof(st));
	if (!be.ops->status(&be, &st) && st.nifaces == 0 &&
	    st.entries_static + st.entries_dynamic == 0) {
		wire_remove(be.pin_dir);
		err = be.ops->destroy(&be);
		if (err) {
			log_err("%s: detached, but cannot remove the state: %s",
				cmd, backend_strerror(err));
			rc = EXIT_RUNTIME;
		}
	}
out:
	backend_close(&be);
	return rc;
}

/* the record of SMTP handshakes that require_seen asks (wire.h) */
struct hs_status {
	bool present, attached;
	size_t sources;
};

/*
 * crowdsec_state - what the running watcher last wrote of the Local API
 * (watch/crowdsec.c): "ok, ..." or "unreachable since ..."; "" if none
 */
static void crowdsec_state(const char *state_dir, long pid, char *buf,
			   size_t len)
{
	char path[4096];
	FILE *f;

	buf[0] = '\0';
	if (!pid || path_join(path, sizeof(path), state_dir, "crowdsec.status"))
		return;
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void status_json(const struct mx_status *st, const char *why, long pid,
			const struct hs_status *hs, const char *cs)
{
	const struct mx_counters *k = &st->counters;
	size_t i;

	printf("{\"backend\":");
	json_str(stdout, st->backend ? st->backend : "?");
	printf(",\"why\":");
	json_str(stdout, why);
	printf(",\"interfaces\":[");
	for (i = 0; i < st->nifaces; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, st->ifaces[i].name);
		printf(",\"ifindex\":%d,\"mode\":", st->ifaces[i].ifindex);
		/* auto: the backend has no XDP mode to tell (nft) */
		if (st->ifaces[i].mode == MX_MODE_AUTO)
			printf("null}");
		else
			printf("\"%s\"}", mode_name(st->ifaces[i].mode));
	}
	printf("],\"ports\":[");
	for (i = 0; i < st->cfg.nports; i++)
		printf("%s%u", i ? "," : "", st->cfg.ports[i]);
	printf("],\"observe\":%s", st->cfg.observe ? "true" : "false");
	printf(",\"entries\":{\"static\":%zu,\"dynamic\":%zu,\"capacity\":%zu}",
	       st->entries_static, st->entries_dynamic, st->capacity);
	printf(",\"counters\":{\"seen\":%llu,\"syn\":%llu,\"dropped\":%llu,"
	       "\"allowed\":%llu,\"observed\":%llu,\"passed\":%llu,"
	       "\"malformed\":%llu}",
	       (unsigned long long)k->seen, (unsigned long long)k->syn,
	       (unsigned long long)k->dropped, (unsigned long long)k->allowed,
	       (unsigned long long)k->observed, (unsigned long long)k->passed,
	       (unsigned long long)k->malformed);
	if (hs->present)
		printf(",\"handshakes\":{\"attached\":%s,\"sources\":%zu}",
		       hs->attached ? "true" : "false", hs->sources);
	else
		printf(",\"handshakes\":null");
	if (pid)
		printf(",\"controller\":{\"running\":true,\"pid\":%ld}", pid);
	else
		printf(",\"controller\":{\"running\":false,\"pid\":null}");
	printf(",\"crowdsec\":");
	if (cs[0])
		json_str(stdout, cs);
	else
		printf("null");
	printf("}\n");
}

static void status_text(const struct mx_status *st, const char *why, long pid,
			const struct hs_status *hs, const char *cs)
{
	const struct mx_counters *k = &st->counters;
	char a[32], b[32], c2[32], d[32];
	size_t i;

	printf("backend:    %s (%s)\n", st->backend ? st->backend : "?", why);
	printf("interfaces: ");
	if (!st->nifaces)
		printf("none (run 'mxwall attach IFACE')");
	for (i = 0; i < st->nifaces; i++) {
		printf("%s%s", i ? ", " : "", st->ifaces[i].name);
		if (st->ifaces[i].mode != MX_MODE_AUTO)
			printf(" (%s)", mode_name(st->ifaces[i].mode));
	}
	printf("\nports:      ");
	for (i = 0; i < st->cfg.nports; i++)
		printf("%s%u", i ? ", " : "", st->cfg.ports[i]);
	printf("\nobserve:    %s\n",
	       st->cfg.observe ? "on (counting only, nothing is dropped)"
			       : "off");
	fmt_thousands(st->entries_static, a, sizeof(a));
	fmt_thousands(st->entries_dynamic, b, sizeof(b));
	if (st->capacity) {
		fmt_thousands(st->capacity, c2, sizeof(c2));
		printf("entries:    %s static, %s dynamic (capacity %s)\n", a,
		       b, c2);
	} else {
		printf(
		    "entries:    %s static, %s dynamic (no fixed capacity)\n",
		    a, b);
	}
	fmt_thousands(k->seen, a, sizeof(a));
	fmt_thousands(k->syn, b, sizeof(b));
	fmt_thousands(k->dropped, c2, sizeof(c2));
	fmt_thousands(k->allowed, d, sizeof(d));
	printf("packets:    %s seen, %s SMTP SYNs, %s dropped, %s allowed by "
	       "exception\n",
	       a, b, c2, d);
	fmt_thousands(k->observed, a, sizeof(a));
	fmt_thousands(k->passed, b, sizeof(b));
	fmt_thousands(k->malformed, c2, sizeof(c2));
	printf("            %s observed, %s passed, %s malformed\n", a, b, c2);
	fmt_thousands(hs->sources, a, sizeof(a));
	if (!hs->present)
		printf("handshakes: no record (run 'mxwall attach IFACE'; "
		       "with require_seen nothing is promoted)\n");
	else
		printf("handshakes: %s sources recorded%s\n", a,
		       hs->attached ? ""
				    : " (not attached: recording nothing)");
	if (pid)
		printf("controller: running (pid %ld)\n", pid);
	else
		printf("controller: not running\n");
	if (cs[0])
		printf("crowdsec:   %s\n", cs);
}

int cmd_status(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct hs_status hs = {false, false, 0};
	char cs[512];
	struct mx_status st;
	struct backend be;
	bool json = false;
	int c, err, rc;
	long pid;

	while ((c = cli_getopt(argc, argv)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		}
	}
	if (optind < argc)
		log_usage("%s: %s: unexpected argument", cmd, argv[optind]);
	rc = cmd_open(cmd, &be, 0);
	if (rc)
		return rc;
	memset(&st, 0, sizeof(st));
	err = be.ops->status(&be, &st);
	if (err) {
		log_err("%s: %s", cmd, backend_strerror(err));
		backend_close(&be);
		return EXIT_RUNTIME;
	}
	if (!st.backend)
		st.backend = be.ops->name;
	pid = mx_controller_pid(be.state_dir);
	hs.present = !wire_status(be.pin_dir, &hs.attached, &hs.sources);
	crowdsec_state(be.state_dir, pid, cs, sizeof(cs));
	if (json)
		status_json(&st, st.why[0] ? st.why : be.why, pid, &hs, cs);
	else
		status_text(&st, st.why[0] ? st.why : be.why, pid, &hs, cs);
	backend_close(&be);
	return EXIT_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * test_pktfuzz.c - packet fuzzing of the XDP program through
 * BPF_PROG_TEST_RUN, judged by an independent reference model
 * (selftests/lib/refmodel.c, written from the data path's rules:
 * mxwall(8) DESCRIPTION, docs/architecture.md).
 *
 * The table holds hosts, netblocks of many lengths, allow exceptions and
 * observe entries for both families, written with the real backend_xdp
 * apply() into a pin directory of our own (/sys/fs/bpf/mxwall-test-*,
 * removed at the end, also on failure or a signal). Frames:
 *  - a sweep: valid SMTP SYNs of several shapes (VLAN, QinQ, IPv4 options,
 *    IPv6 extension chains), each byte mutated to several values, and each
 *    truncated at every length and padded;
 *  - random well-formed frames (random VLAN tags, IHL, fragments, IPv6
 *    extension chains, TCP options, flags, ports, sources in and just
 *    outside the entries), the same with random byte mutations or cut at a
 *    random length, and random bytes behind a random ethertype.
 * After every frame: the XDP action, every global counter, and the packets
 * and bytes of every entry must be what the model says. A disagreement fails
 * and the frame is written as a hex reproducer to build/pktfuzz-fail-SEED-N.hex
 * (replay it with
 * --replay FILE). The run has three phases with different port sets,
 * observe modes and tables (entries added and removed in between).
 *
 * usage: prog_test_pktfuzz [-n PACKETS] [-t SECONDS] [-s SEED]
 *                          [--replay FILE]
 * Default: 200000 packets with a fixed seed (the bounded run of make
 * check); selftests/fuzz/run_pkt.sh runs it for longer with a fresh seed.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include "test.h"
#include "refmodel.h"
#include "../prog/xdp_harness.h"

#define FRAME_MAX 1600
#define SAVE_MAX 20   /* reproducers written per run */
#define REPORT_MAX 50 /* disagreements printed per run */

static struct xh H;
static volatile sig_atomic_t stop;

/* ---- the table ---- */

struct tent {
	const char *net;
	int action;
	bool observe;
	int phase_add; /* added before this phase (0, 1, 2) */
	int phase_del; /* removed before this phase, 0 never */
};

static const struct tent tents[] = {
    {"10.0.0.0/8", RM_ACT_DROP, false, 0, 0},
    {"10.1.0.0/16", RM_ACT_ALLOW, false, 0, 0},
    {"10.1.2.0/24", RM_ACT_DROP, false, 0, 0},
    {"10.1.2.128/25", RM_ACT_DROP, true, 0, 0},
    {"10.1.2.200", RM_ACT_ALLOW, false, 0, 2},
    {"10.1.2.201", RM_ACT_DROP, false, 0, 0},
    {"172.16.0.0/12", RM_ACT_DROP, false, 0, 0},
    {"172.20.0.0/14", RM_ACT_ALLOW, false, 0, 0},
    {"172.20.5.0/23", RM_ACT_DROP, false, 0, 0},
    {"100.64.0.0/10", RM_ACT_DROP, true, 0, 0},
    {"192.0.2.1", RM_ACT_DROP, false, 0, 0},
    {"192.0.2.2", RM_ACT_DROP, true, 0, 0},
    {"192.0.2.3", RM_ACT_ALLOW, false, 0, 0},
    {"198.51.100.0/24", RM_ACT_DROP, false, 0, 0},
    {"198.51.100.77", RM_ACT_ALLOW, false, 0, 0},
    {"198.51.100.64/27", RM_ACT_ALLOW, false, 1, 0},
    {"203.0.113.4/30", RM_ACT_DROP, false, 0, 0},
    {"203.0.113.6/31", RM_ACT_ALLOW, false, 0, 0},
    {"203.0.113.128/28", RM_ACT_DROP, false, 0, 1},
    {"1.0.0.0/9", RM_ACT_DROP, false, 1, 0},
    {"255.255.255.255", RM_ACT_DROP, false, 0, 0},
    {"0.0.0.1", RM_ACT_DROP, false, 0, 0},
    {"2001:db8::/32", RM_ACT_DROP, false, 0, 0},
    {"2001:db8:1::/48", RM_ACT_ALLOW, false, 0, 0},
    {"2001:db8:1:2::/64", RM_ACT_DROP, false, 0, 0},
    {"2001:db8:1:2::1", RM_ACT_ALLOW, false, 0, 0},
    {"2001:db8:1:2:8000::/65", RM_ACT_DROP, true, 0, 0},
    {"2001:db8:ff00::/40", RM_ACT_DROP, false, 0, 0},
    {"2001:db8:ff00::/127", RM_ACT_ALLOW, false, 0, 0},
    {"2001:db8:abcd::/100", RM_ACT_DROP, false, 0, 0},
    {"2001:db8:abcd::1:0/112", RM_ACT_ALLOW, false, 0, 0},
    {"2400:cb00::/32", RM_ACT_DROP, false, 0, 0},
    {"2400:cb00:2048:1::c629:d7a2", RM_ACT_DROP, false, 0, 0},
    {"2400:cb00:2048:1::c629:d7a3", RM_ACT_DROP, true, 0, 2},
    {"64:ff9b::/96", RM_ACT_DROP, false, 0, 0},
    {"2a00::/12", RM_ACT_DROP, false, 1, 0}, /* summary off */
    {"2a00:1450::/32", RM_ACT_ALLOW, false, 1, 0},
    {"fe80::/10", RM_ACT_DROP, true, 2, 0},
};

#define NT ARRAY_SIZE(tents)

/* per phase: port set and global observe mode */
static const struct {
	uint16_t ports[4];
	size_t nports;
	bool observe;
} phases[3] = {
    {{25, 465, 587}, 3, false},
    {{25, 2525}, 2, true},
    {{25}, 1, false},
};

static struct rm_entry ments[NT]; /* family 0 while absent */
static struct rm_table mtab;
static int phase = -1;

/* model totals, compared with the program's after every frame */
static struct mx_counters mstat;
static uint64_t mpk[NT], mby[NT];

/* the program's maps, read directly (layouts: mxwall_shared.h) */
static int stats_fd = -1;
static struct mx_bkt4 *t4_map;
static struct mx_bkt6 *t6_map;
static struct mx_cline4 *c4_map;
static struct mx_cline6 *c6_map;
static struct mx_meta *meta_map;
static struct mx_xb4 *x4_map; /* the host index, its counters and logs */
static struct mx_ctr *xc4_map;
static struct mx_xlog *xl_map;
static size_t t4_len, t6_len, c4_len, c6_len, meta_len, x4_len, xc4_len, xl_len;
static unsigned int ncpus, cap, nb4, nb6, nx4;
/* where each present entry is: its bucket and slot in its family's table */
static uint32_t bkt[NT], slot[NT];

static uint64_t seed, npackets, nfail, nsaved;
static uint64_t nclass[RM_NCLASS], nfrag;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- random numbers: xorshift64* ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static unsigned int rn(unsigned int n)
{
	return n ? (unsigned int)(rnd() % n) : 0;
}

static bool chance(unsigned int pct)
{
	return rn(100) < pct;
}

/* ---- the program's side ---- */

static size_t round_page(size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (n + page - 1) / page * page;
}

static void *map_mmap(struct bpf_map *m, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, bpf_map__fd(m), 0);

	return p == MAP_FAILED ? NULL : p;
}

static int maps_open(void)
{
	struct mx_cfg cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(H.cfg_fd, &zero, &cfg))
		return -errno;
	cap = cfg.cap;
	ncpus = cfg.ncpus;
	nb4 = cfg.nb4;
	nb6 = cfg.nb6;
	stats_fd = bpf_map__fd(H.skel->maps.mx_stats);
	t4_len = round_page(sizeof(struct mx_bkt4) * (size_t)nb4);
	t6_len = round_page(sizeof(struct mx_bkt6) * (size_t)nb6);
	c4_len = round_page(sizeof(struct mx_cline4) * (size_t)nb4 * ncpus);
	c6_len = round_page(sizeof(struct mx_cline6) * (size_t)nb6 * ncpus);
	meta_len = round_page(sizeof(struct mx_meta) * (size_t)cap);
	t4_map = map_mmap(H.skel->maps.mx_t4, t4_len);
	t6_map = map_mmap(H.skel->maps.mx_t6, t6_len);
	c4_map = map_mmap(H.skel->maps.mx_c4, c4_len);
	c6_map = map_mmap(H.skel->maps.mx_c6, c6_len);
	meta_map = map_mmap(H.skel->maps.mx_meta, meta_len);
	nx4 = mx_nx4(nb4);
	x4_len = round_page(sizeof(struct mx_xb4) * (size_t)nx4);
	xc4_len = round_page(sizeof(struct mx_ctr) * (size_t)nx4 *
			     MX_X4_STRIDE * ncpus);
	xl_len = round_page(sizeof(struct mx_xlog) * (size_t)ncpus);
	x4_map = map_mmap(H.skel->maps.mx_x4, x4_len);
	xc4_map = map_mmap(H.skel->maps.mx_xc4, xc4_len);
	xl_map = map_mmap(H.skel->maps.mx_xl, xl_len);
	if (!t4_map || !t6_map || !c4_map || !c6_map || !meta_map || !x4_map ||
	    !xc4_map || !xl_map)
		return -errno;
	return 0;
}

static void maps_close(void)
{
	if (t4_map)
		munmap(t4_map, t4_len);
	if (t6_map)
		munmap(t6_map, t6_len);
	if (c4_map)
		munmap(c4_map, c4_len);
	if (c6_map)
		munmap(c6_map, c6_len);
	if (x4_map)
		munmap(x4_map, x4_len);
	if (xc4_map)
		munmap(xc4_map, xc4_len);
	if (xl_map)
		munmap(xl_map, xl_len);
	x4_map = NULL;
	xc4_map = NULL;
	xl_map = NULL;
	if (meta_map)
		munmap(meta_map, meta_len);
}

/* find_slot4, find_slot6 - entry i in its table, the program's way */
static int find_slot4(unsigned int i)
{
	__u32 a, b[2], k, j;

	memcpy(&a, ments[i].addr, 4);
	a = ntohl(a);
	b[0] = mx_t4_b1(a, ments[i].plen, nb4 - 1);
	b[1] = mx_t4_b2(a, ments[i].plen, nb4 - 1);
	for (k = 0; k < 2; k++) {
		for (j = 0; j < MX_T4_SLOTS; j++) {
			__u64 key = t4_map[b[k]].s[j].key;

			if ((__u32)key == a && MX_E_PLEN((__u32)(key >> 32)) ==
						   (__u32)ments[i].plen) {
				bkt[i] = b[k];
				slot[i] = j;
				return 0;
			}
		}
	}
	return -ENOENT;
}

static int find_slot6(unsigned int i)
{
	__u64 hi, lo, h;
	__u32 b[2], k, j;

	memcpy(&hi, ments[i].addr, 8);
	memcpy(&lo, ments[i].addr + 8, 8);
	h = mx_h6(hi, lo, ments[i].plen);
	b[0] = mx_t6_b1(h, nb6 - 1);
	b[1] = mx_t6_b2(h, nb6 - 1);
	for (k = 0; k < 2; k++) {
		for (j = 0; j < MX_T6_SLOTS; j++) {
			const struct mx_slot6 *s = &t6_map[b[k]].s[j];

			if (MX_E_PLEN(s->flags) == (__u32)ments[i].plen &&
			    s->hi == hi && s->lo == lo) {
				bkt[i] = b[k];
				slot[i] = j;
				return 0;
			}
		}
	}
	return -ENOENT;
}

/*
 * find_ids - where every present entry is: in mx_meta (the controller's
 * record) and in its table, found as the program finds it
 */
static int find_ids(void)
{
	unsigned int i, id;

	for (i = 0; i < NT; i++) {
		if (!ments[i].family)
			continue;
		for (id = 0; id < cap; id++) {
			const struct mx_meta *m = &meta_map[id];
			int fam = ments[i].family == 4 ? AF_INET : AF_INET6;

			if (m->family == fam && m->plen == ments[i].plen &&
			    !memcmp(m->addr, ments[i].addr,
				    fam == AF_INET ? 4 : 16))
				break;
		}
		if (id == cap) {
			printf("FAIL - entry %s is not in mx_meta\n",
			       tents[i].net);
			return -ENOENT;
		}
		if (ments[i].family == 4 ? find_slot4(i) : find_slot6(i)) {
			printf("FAIL - entry %s is not in its table\n",
			       tents[i].net);
			return -ENOENT;
		}
	}
	return 0;
}

static int read_stats(struct mx_counters *c)
{
	struct mx_stats s[ncpus];
	__u32 zero = 0;
	unsigned int i;

	if (bpf_map_lookup_elem(stats_fd, &zero, s))
		return -errno;
	memset(c, 0, sizeof(*c));
	for (i = 0; i < ncpus; i++) {
		c->seen += s[i].seen;
		c->syn += s[i].syn;
		c->dropped += s[i].dropped;
		c->allowed += s[i].allowed;
		c->observed += s[i].observed;
		c->passed += s[i].passed;
		c->malformed += s[i].malformed;
	}
	return 0;
}

/* entry_xctr - add what the host index counted for entry i: its index
 * slot's counters and its hits still in the CPUs' logs */
static void entry_xctr(unsigned int i, uint64_t *pk, uint64_t *by)
{
	__u32 a, b[2], s, c, k, n;
	int found = -1;

	if (ments[i].family != 4 || ments[i].plen != 32)
		return;
	memcpy(&a, ments[i].addr, 4);
	a = ntohl(a);
	b[0] = mx_x4_b1(a, nx4);
	b[1] = mx_x4_b2(a, nx4);
	for (k = 0; k < 2 && found < 0; k++)
		for (s = 0; s < MX_X4_SLOTS; s++)
			if (x4_map[b[k]].k[s] == a) {
				found = (int)(b[k] * MX_X4_STRIDE + s);
				break;
			}
	if (found < 0)
		return;
	for (c = 0; c < ncpus; c++) {
		const struct mx_ctr *x =
		    &xc4_map[((size_t)c * nx4) * MX_X4_STRIDE + (size_t)found];

		*pk += mx_ctr_packets(x);
		*by += mx_ctr_bytes(x);
		n = xl_map[c].n;
		for (k = 0; k < n && k < MX_XLOG; k++)
			if (xl_map[c].slot[k] == (__u32)found &&
			    xl_map[c].key[k] == a) {
				*pk += 1;
				*by += xl_map[c].len[k];
			}
	}
}

static void entry_ctr(unsigned int i, uint64_t *pk, uint64_t *by)
{
	unsigned int c;

	*pk = 0;
	*by = 0;
	for (c = 0; c < ncpus; c++) {
		const struct mx_ctr *x =
		    ments[i].family == 4
			? &c4_map[(size_t)c * nb4 + bkt[i]].c[slot[i]]
			: &c6_map[(size_t)c * nb6 + bkt[i]].c[slot[i]];

		*pk += mx_ctr_packets(x);
		*by += mx_ctr_bytes(x);
	}
	entry_xctr(i, pk, by);
}

/* ---- phases ---- */

static int tent_parse(unsigned int i, struct mx_entry *e)
{
	if (xh_entry(e, tents[i].net,
		     tents[i].action == RM_ACT_DROP ? MX_ACT_DROP
						    : MX_ACT_ALLOW,
		     tents[i].observe, "fuzz"))
		return -EINVAL;
	return 0;
}

static bool wanted(size_t i, int p)
{
	return tents[i].phase_add <= p &&
	       (!tents[i].phase_del || tents[i].phase_del > p);
}

/*
 * phase_enter - bring the table to what phase p wants (entries added and
 * removed, from any phase to any other) and set its config
 */
static int phase_enter(int p)
{
	struct mx_entry add[NT], tmp;
	struct cidr del[NT];
	struct mx_dp_config dc;
	size_t nadd = 0, ndel = 0, i;
	int err;

	for (i = 0; i < NT; i++) {
		bool present = ments[i].family != 0;

		if (wanted(i, p) && !present) {
			if (tent_parse((unsigned int)i, &add[nadd]))
				return -EINVAL;
			nadd++;
		} else if (!wanted(i, p) && present) {
			if (tent_parse((unsigned int)i, &tmp))
				return -EINVAL;
			del[ndel++] = tmp.net;
		}
	}
	err = H.be.ops->apply(&H.be, add, nadd, del, ndel);
	if (err) {
		printf("FAIL - phase %d: apply: %s\n", p, strerror(-err));
		return err;
	}
	memset(&dc, 0, sizeof(dc));
	for (i = 0; i < phases[p].nports; i++)
		dc.ports[i] = phases[p].ports[i];
	dc.nports = phases[p].nports;
	dc.observe = phases[p].observe;
	err = H.be.ops->set_config(&H.be, &dc);
	if (err) {
		printf("FAIL - phase %d: set_config: %s\n", p, strerror(-err));
		return err;
	}
	/* the model's view */
	for (i = 0; i < NT; i++) {
		struct mx_entry e;

		if (!wanted(i, p)) {
			if (ments[i].family) {
				mpk[i] = 0; /* its counters went with it */
				mby[i] = 0;
			}
			memset(&ments[i], 0, sizeof(ments[i]));
			continue;
		}
		if (ments[i].family)
			continue; /* kept, with its counters */
		mpk[i] = 0;	  /* a new entry starts from zero */
		mby[i] = 0;
		tent_parse((unsigned int)i, &e);
		ments[i].family = e.net.family == AF_INET ? 4 : 6;
		ments[i].plen = e.net.plen;
		memcpy(ments[i].addr, e.net.addr, 16);
		ments[i].action = tents[i].action;
		ments[i].observe = tents[i].observe;
	}
	mtab.e = ments;
	mtab.n = NT;
	memcpy(mtab.ports, phases[p].ports, sizeof(phases[p].ports));
	mtab.nports = phases[p].nports;
	mtab.observe = phases[p].observe;
	mtab.ext_max = MX_V6_EXT_MAX;
	phase = p;
	return find_ids();
}

/* ---- reproducers ---- */

static void save_repro(const uint8_t *f, size_t len, const char *what,
		       const struct rm_result *r, __u32 ret)
{
	char path[256];
	const char *dir = getenv("PKTFUZZ_OUT");
	FILE *out;
	size_t i;

	if (nsaved >= SAVE_MAX)
		return;
	snprintf(path, sizeof(path), "%s/pktfuzz-fail-%llu-%llu.hex",
		 dir ? dir : "build", (unsigned long long)seed,
		 (unsigned long long)npackets);
	out = fopen(path, "w");
	if (!out) {
		printf("  (cannot write %s: %s)\n", path, strerror(errno));
		return;
	}
	nsaved++;
	fprintf(out, "# mxwall packet fuzz reproducer: %s\n", what);
	fprintf(out, "# seed %llu packet %llu\n", (unsigned long long)seed,
		(unsigned long long)npackets);
	fprintf(out, "# model: %s (%s), entry %s; program: %s\n",
		rm_class_name[r->cls], r->why,
		r->entry >= 0 ? tents[r->entry].net : "none",
		ret == XDP_DROP	  ? "XDP_DROP"
		: ret == XDP_PASS ? "XDP_PASS"
				  : "other");
	fprintf(out, "phase %d\n", phase);
	for (i = 0; i < len; i++)
		fprintf(out, "%02x%s", f[i], (i + 1) % 16 ? " " : "\n");
	fprintf(out, "\n");
	fclose(out);
	printf("  reproducer: %s (replay: %s --replay %s)\n", path,
	       "build/asan/prog_test_pktfuzz", path);
}

static void hexline(const uint8_t *f, size_t len)
{
	size_t i;

	printf("  frame (%zu bytes):", len);
	for (i = 0; i < len && i < 128; i++)
		printf("%s%02x", i % 32 ? " " : "\n    ", f[i]);
	printf("%s\n", len > 128 ? " ..." : "");
}

/* ---- one frame ---- */

#define CMP(field)                                                             \
	do {                                                                   \
		if (now.field != mstat.field) {                                \
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), \
				 " " #field " %llu (model %llu)",              \
				 (unsigned long long)now.field,                \
				 (unsigned long long)mstat.field);             \
		}                                                              \
	} while (0)

/* check_frame - run one frame; 0 if the program agrees with the model */
static int check_frame(const uint8_t *f, size_t len, const char *kind)
{
	struct rm_result r;
	struct mx_counters now;
	char bad[1024] = "";
	__u32 ret = 0;
	unsigned int i;
	int err;

	if (len < ETH_HLEN) /* BPF_PROG_TEST_RUN refuses these */
		return 0;
	npackets++;
	rm_classify(&mtab, f, len, &r);
	nclass[r.cls]++;
	nfrag += r.frag;
	err = xh_run(H.prog_fd, f, len, 1, &ret, NULL);
	if (err) {
		printf("FAIL - test run of a %zu-byte frame: %s\n", len,
		       strerror(-err));
		nfail++;
		return -1;
	}
	/* the model's counters */
	mstat.seen++;
	if (r.cls >= RM_MISS && !r.frag)
		mstat.syn++;
	mstat.dropped += r.cls == RM_DROP;
	mstat.allowed += r.cls == RM_ALLOW;
	mstat.observed += r.cls == RM_OBSERVE;
	mstat.passed += r.cls != RM_DROP;
	mstat.malformed += r.cls == RM_MALFORMED;
	if (r.entry >= 0) {
		mpk[r.entry]++;
		mby[r.entry] += r.iplen;
	}

	if (ret != (r.cls == RM_DROP ? XDP_DROP : XDP_PASS))
		snprintf(bad, sizeof(bad), " action %s, model says %s",
			 ret == XDP_DROP   ? "XDP_DROP"
			 : ret == XDP_PASS ? "XDP_PASS"
					   : "other",
			 rm_class_name[r.cls]);
	if (read_stats(&now)) {
		snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
			 " cannot read mx_stats");
	} else {
		CMP(seen);
		CMP(syn);
		CMP(dropped);
		CMP(allowed);
		CMP(observed);
		CMP(passed);
		CMP(malformed);
	}
	for (i = 0; i < NT; i++) {
		uint64_t pk, by;

		if (!ments[i].family)
			continue;
		entry_ctr(i, &pk, &by);
		if (pk != mpk[i] || by != mby[i])
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad),
				 " entry %s: %llu packets %llu bytes (model "
				 "%llu, %llu)",
				 tents[i].net, (unsigned long long)pk,
				 (unsigned long long)by,
				 (unsigned long long)mpk[i],
				 (unsigned long long)mby[i]);
	}
	if (!bad[0])
		return 0;

	nfail++;
	if (nfail <= REPORT_MAX) {
		printf("FAIL - %s frame #%llu (phase %d, model: %s: %s):%s\n",
		       kind, (unsigned long long)npackets, phase,
		       rm_class_name[r.cls], r.why, bad);
		hexline(f, len);
		save_repro(f, len, kind, &r, ret);
	}
	/* start again from the program's figures, so one bug reports once */
	if (!read_stats(&now))
		mstat = now;
	for (i = 0; i < NT; i++)
		if (ments[i].family)
			entry_ctr(i, &mpk[i], &mby[i]);
	return -1;
}

/* ---- frame builder ---- */

static void put16b(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* pick_src - a source in, at the edge of, or outside the table */
static void pick_src(int family, uint8_t *a)
{
	size_t alen = family == 4 ? 4 : 16;
	unsigned int i, k, tries;
	const struct tent *t;
	struct mx_entry e;
	int plen, b;

	fill(a, alen);
	if (chance(15))
		return;
	if (family == 6 && chance(5)) { /* v4-mapped */
		memset(a, 0, 10);
		a[10] = a[11] = 0xff;
		return;
	}
	for (tries = 0; tries < 64; tries++) {
		i = rn(NT);
		t = &tents[i];
		if (!ments[i].family && !chance(20))
			continue;
		if (tent_parse(i, &e) ||
		    (e.net.family == AF_INET ? 4 : 6) != family)
			continue;
		plen = e.net.plen;
		/* keep the network bits, random host bits */
		for (k = 0; k < alen; k++) {
			int bits = plen - (int)k * 8;
			uint8_t m = bits >= 8	? 0xff
				    : bits <= 0 ? 0
						: (uint8_t)(0xff << (8 - bits));

			a[k] = (uint8_t)((e.net.addr[k] & m) | (a[k] & ~m));
		}
		if (chance(20)) { /* just outside: flip a net bit */
			b = plen - 1 -
			    (int)rn(plen < 3 ? (unsigned int)plen : 3);
			a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		} else if (chance(10)) { /* the edges of the block */
			for (k = (unsigned int)plen; k < alen * 8; k++) {
				if (chance(50))
					a[k / 8] |= (uint8_t)(0x80 >> (k % 8));
				else
					a[k / 8] &=
					    (uint8_t) ~(0x80 >> (k % 8));
			}
		}
		(void)t;
		return;
	}
}

static const uint16_t any_ports[] = {25, 465, 587, 2525,  24,
				     26, 80,  0,   65535, 6400};

/*
 * build - a random frame that is mostly well formed: returns its length.
 * family 0: random; smtp: a valid SMTP SYN to a port of the current phase
 */
static size_t build(uint8_t *f, int family, bool smtp)
{
	size_t off = 12, l3, l4, iplen, i;
	unsigned int nvlan, nh_off, proto;
	int fam = family ? family : (chance(50) ? 4 : 6);
	bool first_frag = false;
	uint8_t src[16];

	fill(f, 12);
	nvlan = chance(60) ? 0 : chance(85) ? 1 + rn(2) : 3;
	if (smtp && nvlan > 2)
		nvlan = 2;
	for (i = 0; i < nvlan; i++) {
		put16b(f + off, chance(50) ? 0x8100 : 0x88a8);
		put16b(f + off + 2, rn(4096));
		off += 4;
	}
	put16b(f + off, fam == 4 ? 0x0800 : 0x86dd);
	off += 2;
	l3 = off;
	proto = smtp || chance(85) ? 6 : (chance(50) ? 17 : rn(256));
	pick_src(fam, src);
	if (fam == 4) {
		unsigned int ihl = chance(70) ? 5 : 5 + rn(11);

		f[off] = (uint8_t)(0x40 | ihl);
		f[off + 1] = (uint8_t)rnd();
		put16b(f + off + 4, rn(65536));
		if (!smtp && chance(10))
			put16b(f + off + 6, 1 + rn(0x1fff)); /* later frag */
		else
			put16b(f + off + 6, chance(20)	 ? 0x2000
					    : chance(50) ? 0x4000
							 : 0);
		first_frag = (f[off + 6] << 8 | f[off + 7]) == 0x2000;
		f[off + 8] = (uint8_t)rnd();
		f[off + 9] = (uint8_t)proto;
		fill(f + off + 10, 2);
		memcpy(f + off + 12, src, 4);
		fill(f + off + 16, 4);
		fill(f + off + 20, (ihl - 5) * 4);
		off += ihl * 4;
	} else {
		static const uint8_t exts[] = {0, 43, 44, 51, 60, 135};
		unsigned int next = chance(50) ? 0 : 1 + rn(smtp ? 8 : 11);

		f[off] = (uint8_t)(0x60 | rn(16));
		fill(f + off + 1, 3);
		f[off + 7] = (uint8_t)rnd();
		memcpy(f + off + 8, src, 16);
		fill(f + off + 24, 16);
		nh_off = (unsigned int)off + 6;
		off += 40;
		for (i = 0; i < next && off < 1200; i++) {
			uint8_t t = exts[rn(sizeof(exts))];
			unsigned int hl;

			if (!smtp && chance(3))
				t = chance(50) ? 50 : 59;
			f[nh_off] = t;
			nh_off = (unsigned int)off;
			fill(f + off, 2);
			if (t == 44) {
				fill(f + off + 1, 7);
				put16b(f + off + 2, (!smtp && chance(15)
							 ? (1 + rn(8191)) << 3
							 : 0) |
							rn(2));
				if ((f[off + 2] << 8 | f[off + 3]) == 1)
					first_frag = true;
				hl = 8;
			} else if (t == 51) {
				f[off + 1] = (uint8_t)(1 + rn(4));
				hl = (f[off + 1] + 2u) * 4;
				fill(f + off + 2, hl - 2);
			} else if (t == 50 || t == 59) {
				hl = 8;
				fill(f + off + 2, 6);
			} else {
				f[off + 1] = (uint8_t)rn(4);
				hl = (f[off + 1] + 1u) * 8;
				fill(f + off + 2, hl - 2);
			}
			off += hl;
			if (t == 50 || t == 59)
				break;
		}
		f[nh_off] = (uint8_t)proto;
	}
	l4 = off;
	if (proto == 6) {
		unsigned int doff = chance(60) ? 5 : 5 + rn(11);
		unsigned int flags;

		put16b(f + off, rn(65536));
		if (smtp)
			put16b(
			    f + off + 2,
			    phases[phase]
				.ports[rn((unsigned int)phases[phase].nports)]);
		else
			put16b(f + off + 2,
			       any_ports[rn(ARRAY_SIZE(any_ports))]);
		fill(f + off + 4, 8);
		flags = smtp	     ? (0x02 | (rn(256) & ~0x10u))
			: chance(60) ? 0x02
				     : rn(256);
		if (smtp && chance(70))
			flags = 0x02;
		f[off + 12] = (uint8_t)(doff << 4 | rn(16));
		f[off + 13] = (uint8_t)flags;
		fill(f + off + 14, 6);
		fill(f + off + 20, (doff - 5) * 4);
		off += doff * 4;
	} else {
		fill(f + off, 8);
		off += 8;
	}
	i = chance(70) ? 0 : rn(64);
	fill(f + off, i);
	off += i;
	iplen = off - l3;
	(void)l4;
	/* a first fragment cut short: the rest of its headers (in the frame
	 * as padding) would come in the next fragment (RFC 1858) */
	if (first_frag && !smtp && chance(30))
		iplen = (fam == 4 ? (size_t)(f[l3] & 0xf) * 4 : 40) +
			rn((unsigned int)(l4 - l3) + 24);
	if (iplen > off - l3)
		iplen = off - l3;
	if (fam == 4)
		put16b(f + l3 + 2, (unsigned int)iplen);
	else
		put16b(f + l3 + 4, (unsigned int)(iplen - 40));
	if (chance(10)) { /* Ethernet padding behind the datagram */
		i = 1 + rn(32);
		fill(f + off, i);
		off += i;
	}
	return off;
}

/* mutate - a few random byte changes, biased to the headers */
static void mutate(uint8_t *f, size_t len)
{
	unsigned int n = 1 + rn(chance(70) ? 2 : 8), k;
	size_t pos;

	for (k = 0; k < n; k++) {
		pos = chance(80) ? rn(len < 100 ? (unsigned int)len : 100)
				 : rn((unsigned int)len);
		switch (rn(5)) {
		case 0:
			f[pos] = (uint8_t)rnd();
			break;
		case 1:
			f[pos] ^= (uint8_t)(1 << rn(8));
			break;
		case 2:
			f[pos] = 0;
			break;
		case 3:
			f[pos] = 0xff;
			break;
		default:
			f[pos] += (uint8_t)(chance(50) ? 1 : -1);
		}
	}
}

/* ---- the runs ---- */

/*
 * sweep - valid SMTP SYNs of several shapes, every byte mutated to five
 * values, every truncation and a few paddings
 */
static void sweep(void)
{
	static const struct pkt_opts shapes[] = {
	    {.family = 4, .src = "192.0.2.1"},
	    {.family = 4,
	     .src = "10.1.2.200",
	     .nvlan = 1,
	     .ipopt = 8,
	     .tcpopt = 12},
	    {.family = 4,
	     .src = "10.1.2.130",
	     .nvlan = 2,
	     .vlan_proto = ETH_P_8021AD,
	     .frag = 1},
	    {.family = 4,
	     .src = "203.0.113.5",
	     .tcpopt = 40,
	     .ipopt = 40,
	     .payload = 7},
	    {.family = 6, .src = "2001:db8:1:2::1"},
	    {.family = 6,
	     .src = "2001:db8:1:2::2",
	     .nvlan = 1,
	     .next = {0, 60, 43},
	     .nnext = 3,
	     .tcpopt = 8},
	    {.family = 6,
	     .src = "2001:db8:1:2:8000::9",
	     .nvlan = 2,
	     .next = {0, 44, 51, 60, 60, 43},
	     .nnext = 6,
	     .frag = 1},
	    {.family = 6,
	     .src = "2001:db8:abcd::1:5",
	     .next = {0, 60, 43, 60, 60, 43, 60, 44},
	     .nnext = 8},
	    {.family = 6, .src = "2400:cb00:2048:1::c629:d7a2", .payload = 3},
	};
	uint8_t f[FRAME_MAX];
	struct pkt p;
	size_t s, i, n;
	unsigned int v;
	uint8_t vals[5];

	for (s = 0; s < ARRAY_SIZE(shapes) && !stop; s++) {
		if (pkt_build(&p, &shapes[s])) {
			printf("FAIL - sweep shape %zu does not build\n", s);
			nfail++;
			continue;
		}
		check_frame(p.buf, p.len, "sweep base");
		for (i = 0; i < p.len; i++) {
			vals[0] = p.buf[i] ^ 0x01;
			vals[1] = p.buf[i] ^ 0x80;
			vals[2] = 0x00;
			vals[3] = 0xff;
			vals[4] = (uint8_t)rnd();
			for (v = 0; v < 5; v++) {
				memcpy(f, p.buf, p.len);
				f[i] = vals[v];
				check_frame(f, p.len, "sweep byte");
			}
		}
		for (n = ETH_HLEN; n < p.len; n++)
			check_frame(p.buf, n, "sweep truncated");
		for (n = 1; n <= 8; n++) {
			memcpy(f, p.buf, p.len);
			memset(f + p.len, 0xa5, n);
			check_frame(f, p.len + n, "sweep padded");
		}
	}
}

static void random_run(uint64_t count, double seconds)
{
	uint8_t f[FRAME_MAX];
	struct timespec t0, t;
	uint64_t k, per_phase;
	size_t len;
	int p;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	per_phase = count / 3 + 1;
	for (k = 0; !stop; k++) {
		if (seconds > 0) {
			if (!(k & 1023)) {
				clock_gettime(CLOCK_MONOTONIC, &t);
				if ((double)(t.tv_sec - t0.tv_sec) +
					(t.tv_nsec - t0.tv_nsec) / 1e9 >=
				    seconds)
					break;
			}
			p = (int)((k >> 16) % 3); /* cycle the phases */
		} else {
			if (k >= count)
				break;
			p = (int)(k / per_phase);
		}
		if (p != phase && phase_enter(p)) {
			nfail++;
			return;
		}
		switch (rn(10)) {
		case 0:
		case 1:
		case 2: /* a valid SMTP SYN */
			len = build(f, 0, true);
			check_frame(f, len, "valid SYN");
			break;
		case 3: /* anything well formed */
			len = build(f, 0, false);
			check_frame(f, len, "random frame");
			break;
		case 4:
		case 5:
		case 6: /* mutated */
			len = build(f, 0, chance(70));
			mutate(f, len);
			check_frame(f, len, "mutated frame");
			break;
		case 7: /* cut or stretched */
			len = build(f, 0, chance(70));
			if (chance(80)) {
				len =
				    ETH_HLEN + rn((unsigned int)len - ETH_HLEN);
			} else {
				size_t more = 1 + rn(64);

				fill(f + len, more);
				len += more;
			}
			check_frame(f, len, "cut frame");
			break;
		default: /* random bytes behind an ethertype */
			len = ETH_HLEN + rn(200);
			fill(f, len);
			switch (rn(5)) {
			case 0:
				put16b(f + 12, 0x0800);
				f[14] = (uint8_t)(0x40 | (f[14] & 0xf));
				break;
			case 1:
				put16b(f + 12, 0x86dd);
				f[14] = (uint8_t)(0x60 | (f[14] & 0xf));
				break;
			case 2:
				put16b(f + 12, 0x8100);
				if (len > 18)
					put16b(f + 16,
					       chance(50) ? 0x0800 : 0x86dd);
				break;
			case 3:
				put16b(f + 12, 0x88a8);
				break;
			}
			check_frame(f, len, "random bytes");
		}
	}
}

/* final_check - the figures users see (status, dump) equal the model's */
static void final_check(void)
{
	struct mx_entry *rows = NULL;
	struct mx_status st;
	size_t n = 0, i, k;
	int err;

	memset(&st, 0, sizeof(st));
	err = H.be.ops->status(&H.be, &st);
	if (err) {
		printf("FAIL - status(): %s\n", strerror(-err));
		nfail++;
	} else if (memcmp(&st.counters, &mstat, sizeof(mstat))) {
		printf("FAIL - status() counters differ from the model "
		       "(dropped %llu vs %llu, passed %llu vs %llu)\n",
		       (unsigned long long)st.counters.dropped,
		       (unsigned long long)mstat.dropped,
		       (unsigned long long)st.counters.passed,
		       (unsigned long long)mstat.passed);
		nfail++;
	}
	if (H.be.ops->dump(&H.be, &rows, &n)) {
		printf("FAIL - dump() failed\n");
		nfail++;
		return;
	}
	for (i = 0; i < NT; i++) {
		struct mx_entry e;

		if (!ments[i].family)
			continue;
		tent_parse((unsigned int)i, &e);
		for (k = 0; k < n; k++)
			if (!cidr_cmp(&rows[k].net, &e.net))
				break;
		if (k == n || rows[k].packets != mpk[i] ||
		    rows[k].bytes != mby[i]) {
			printf(
			    "FAIL - dump() of %s: %llu packets %llu bytes, "
			    "model %llu %llu\n",
			    tents[i].net,
			    k == n ? 0ULL : (unsigned long long)rows[k].packets,
			    k == n ? 0ULL : (unsigned long long)rows[k].bytes,
			    (unsigned long long)mpk[i],
			    (unsigned long long)mby[i]);
			nfail++;
		}
	}
	free(rows);
}

/* ---- replay ---- */

static int replay(const char *path)
{
	uint8_t f[FRAME_MAX];
	char line[512], *s, *e;
	size_t len = 0;
	int p = 0;
	FILE *in = fopen(path, "r");

	if (!in) {
		printf("FAIL - %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), in)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "phase %d", &p) == 1)
			continue;
		for (s = line; *s; s = e) {
			unsigned long b = strtoul(s, &e, 16);

			if (e == s)
				break;
			if (len < sizeof(f))
				f[len++] = (uint8_t)b;
		}
	}
	fclose(in);
	if (p < 0 || p > 2)
		p = 0;
	if (phase_enter(p))
		return -1;
	printf("replaying %zu bytes in phase %d\n", len, p);
	hexline(f, len);
	return check_frame(f, len, "replayed");
}

static void usage(void)
{
	printf("usage: prog_test_pktfuzz [-n PACKETS] [-t SECONDS] [-s SEED] "
	       "[--replay FILE]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"packets", required_argument, NULL, 'n'},
	    {"seconds", required_argument, NULL, 't'},
	    {"seed", required_argument, NULL, 's'},
	    {"replay", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	uint64_t count = 200000;
	const char *rpath = NULL;
	double seconds = 0;
	struct timespec t0, t1;
	int c, rc;

	seed = 20261123;
	while ((c = getopt_long(argc, argv, "n:t:s:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			count = strtoull(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'r':
			rpath = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (geteuid()) {
		printf("FAIL - needs root (BPF_PROG_TEST_RUN, bpffs)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	rng_state = seed ? seed : 1;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, on_signal);
	if (xh_setup(&H, 1024) || maps_open()) {
		maps_close();
		xh_teardown(&H);
		printf("FAIL - cannot set up the XDP test table\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (rpath) {
		rc = replay(rpath);
		maps_close();
		xh_teardown(&H);
		printf("%d passed, %d failed\n", rc ? 0 : 1, rc ? 1 : 0);
		return rc ? 1 : 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	test_current = "pktfuzz";
	if (phase_enter(0) == 0) {
		sweep();
		printf("sweep: %llu frames, %llu disagreements\n",
		       (unsigned long long)npackets, (unsigned long long)nfail);
		random_run(count, seconds);
		final_check();
	} else {
		nfail++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("seed %llu: %llu frames in %.1f s, %llu disagreements%s\n",
	       (unsigned long long)seed, (unsigned long long)npackets,
	       (double)(t1.tv_sec - t0.tv_sec) +
		   (t1.tv_nsec - t0.tv_nsec) / 1e9,
	       (unsigned long long)nfail, stop ? " (interrupted)" : "");
	for (c = 0; c < RM_NCLASS; c++)
		printf("%s%s %llu", c ? ", " : "by verdict: ", rm_class_name[c],
		       (unsigned long long)nclass[c]);
	printf("; TCP fragments taken from listed sources %llu\n",
	       (unsigned long long)nfrag);
	maps_close();
	xh_teardown(&H);
	if (stop)
		nfail++;
	printf("%llu passed, %llu failed\n",
	       (unsigned long long)(npackets > nfail ? npackets - nfail : 0),
	       (unsigned long long)nfail);
	return nfail ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * test_apply.c - the XDP backend's incremental apply(): after many single
 * additions and deletions (from two backend instances on the same pins,
 * as two processes would), every verdict of the program is that of the
 * reference model (selftests/lib/refmodel.c) over the entries the test
 * keeps itself, the dump lists exactly those entries, and a full rebuild
 * of the summaries gives the same verdicts. Named cases: a delete then a
 * re-add of another host in the same /24, a netblock added after its
 * hosts, a netblock removed while hosts inside remain, short IPv6
 * netblocks; a deleted entry's summary bit stays set (stale) until a
 * rebuild clears it; a wrong id bitmap in mx_ctl never costs an entry.
 * Also: two consecutive dumps give identical last_hit.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <time.h>

#include "backend/xdp_int.h"
#include "test.h"
#include "../lib/badchange.h"
#include "../prog/xdp_harness.h"
#include "../lib/refmodel.h"

static struct xh H;
static struct backend B2; /* a second instance on the same pins */

#define MAXE 4096

/* the entries as the test believes they are */
static struct rm_entry model[MAXE];
static size_t nmodel;

static __u32 rnd_state = 12345;

static __u32 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void to_rm(const struct cidr *c, int action, bool observe,
		  struct rm_entry *r)
{
	memset(r, 0, sizeof(*r));
	r->family = c->family == AF_INET ? 4 : 6;
	r->plen = c->plen;
	memcpy(r->addr, c->addr, 16);
	r->action = action == MX_ACT_ALLOW ? RM_ACT_ALLOW : RM_ACT_DROP;
	r->observe = observe;
}

static int model_find(const struct cidr *c)
{
	int fam = c->family == AF_INET ? 4 : 6;
	size_t i;

	for (i = 0; i < nmodel; i++)
		if (model[i].family == fam && model[i].plen == c->plen &&
		    !memcmp(model[i].addr, c->addr, 16))
			return (int)i;
	return -1;
}

/* add1 - one entry by one apply() of be; the model follows on success */
static int add1(struct backend *be, const char *net, int action, bool observe)
{
	struct mx_entry e;
	int err, k;

	if (xh_entry(&e, net, action, observe, "t"))
		return -EINVAL;
	err = be->ops->apply(be, &e, 1, NULL, 0);
	if (err)
		return err;
	k = model_find(&e.net);
	if (k < 0)
		k = (int)nmodel++;
	to_rm(&e.net, action, observe, &model[k]);
	return 0;
}

static int del1(struct backend *be, const char *net)
{
	struct mx_entry e;
	int err, k;

	if (xh_entry(&e, net, MX_ACT_DROP, false, ""))
		return -EINVAL;
	err = be->ops->apply(be, NULL, 0, &e.net, 1);
	if (err)
		return err;
	k = model_find(&e.net);
	if (k >= 0)
		model[k] = model[--nmodel];
	return 0;
}

static int stats_fd = -1;

static void read_stats(struct mx_stats *out)
{
	struct mx_stats s[512];
	__u32 zero = 0;
	int i, n = libbpf_num_possible_cpus();

	memset(out, 0, sizeof(*out));
	if (n > 512 || bpf_map_lookup_elem(stats_fd, &zero, s))
		return;
	for (i = 0; i < n; i++) {
		out->dropped += s[i].dropped;
		out->allowed += s[i].allowed;
		out->observed += s[i].observed;
		out->syn += s[i].syn;
	}
}

/* verdict - what the program did with a SYN to port 25 from src */
static enum rm_class verdict(int family, const __u8 *src)
{
	struct pkt_opts o = {.family = family};
	struct mx_stats a, b;
	char txt[INET6_ADDRSTRLEN];
	struct pkt p;
	__u32 ret = 0;

	inet_ntop(family == 4 ? AF_INET : AF_INET6, src, txt, sizeof(txt));
	o.src = txt;
	if (pkt_build(&p, &o))
		return RM_NCLASS;
	read_stats(&a);
	if (xh_run(H.prog_fd, p.buf, p.len, 1, &ret, NULL))
		return RM_NCLASS;
	read_stats(&b);
	if (b.syn - a.syn != 1)
		return RM_NCLASS;
	if (b.dropped - a.dropped == 1 && ret == XDP_DROP)
		return RM_DROP;
	if (ret != XDP_PASS)
		return RM_NCLASS;
	if (b.allowed - a.allowed == 1)
		return RM_ALLOW;
	if (b.observed - a.observed == 1)
		return RM_OBSERVE;
	return RM_MISS;
}

static enum rm_class expect(int family, const __u8 *src)
{
	struct rm_table t = {.e = model, .n = nmodel};
	int k = rm_lookup(&t, family, src);

	if (k < 0)
		return RM_MISS;
	if (model[k].action == RM_ACT_ALLOW)
		return RM_ALLOW;
	return model[k].observe ? RM_OBSERVE : RM_DROP;
}

/* check_src - one named verdict */
static void check_src(const char *desc, const char *src, enum rm_class want)
{
	__u8 a[16] = {0};
	int fam = strchr(src, ':') ? 6 : 4;
	enum rm_class got;

	inet_pton(fam == 4 ? AF_INET : AF_INET6, src, a);
	got = verdict(fam, a);
	if (got == want && expect(fam, a) == want)
		TEST_OK(desc);
	else
		TEST_FAIL(desc, "%s: program %s, model %s, expected %s", src,
			  got < RM_NCLASS ? rm_class_name[got] : "?",
			  rm_class_name[expect(fam, a)], rm_class_name[want]);
}

/* probes: addresses in and around every entry the test ever made */
#define MAXP 30000
static __u8 probe[MAXP][16];
static int probe_fam[MAXP];
static size_t nprobe;
static enum rm_class got_before[MAXP];

static void probe_add(int fam, const __u8 *a)
{
	if (nprobe >= MAXP)
		return;
	probe_fam[nprobe] = fam;
	memcpy(probe[nprobe], a, 16);
	nprobe++;
}

/* probe_entry - the first, second and last address of an entry */
static void probe_entry(const struct rm_entry *e)
{
	__u8 a[16];
	int bytes = e->family == 4 ? 4 : 16, i, bit;

	memcpy(a, e->addr, 16);
	probe_add(e->family, a);
	a[bytes - 1] ^= 1;
	probe_add(e->family, a);
	memcpy(a, e->addr, 16);
	for (bit = e->plen; bit < bytes * 8; bit++)
		a[bit / 8] |= (__u8)(0x80 >> (bit % 8));
	probe_add(e->family, a);
	/* a neighbour just outside */
	for (i = bytes - 1; i >= 0 && ++a[i] == 0; i--)
		;
	probe_add(e->family, a);
}

/*
 * check_all - every probe: the program agrees with the model; with
 * save, remember what it said; with cmp, also agree with what it said
 * before. One assertion, the first few mismatches printed.
 */
static void check_all(const char *desc, bool save, bool cmp)
{
	size_t i, bad = 0;
	enum rm_class got, want;
	char txt[INET6_ADDRSTRLEN];

	for (i = 0; i < nprobe; i++) {
		got = verdict(probe_fam[i], probe[i]);
		want = expect(probe_fam[i], probe[i]);
		if (got != want || (cmp && got != got_before[i])) {
			if (bad++ < 5) {
				inet_ntop(probe_fam[i] == 4 ? AF_INET
							    : AF_INET6,
					  probe[i], txt, sizeof(txt));
				printf("  %s: %s: program %s, model %s%s\n",
				       desc, txt,
				       got < RM_NCLASS ? rm_class_name[got]
						       : "?",
				       rm_class_name[want],
				       cmp ? " (differs from before)" : "");
			}
		}
		if (save)
			got_before[i] = got;
	}
	if (bad)
		TEST_FAIL(desc, "%zu of %zu verdicts wrong", bad, nprobe);
	else
		TEST_OK(desc);
}

/* check_dump - the backend lists exactly the model's entries */
static void check_dump(const char *desc)
{
	struct mx_entry *v = NULL;
	struct rm_entry r;
	size_t n = 0, i, bad = 0;
	int k;

	if (H.be.ops->dump(&H.be, &v, &n)) {
		TEST_FAIL(desc, "dump failed");
		return;
	}
	for (i = 0; i < n; i++) {
		k = model_find(&v[i].net);
		to_rm(&v[i].net, v[i].action, v[i].observe, &r);
		if (k < 0 || memcmp(&r, &model[k], sizeof(r)))
			bad++;
	}
	free(v);
	if (n != nmodel || bad)
		TEST_FAIL(desc,
			  "%zu entries (%zu unlike the model), model has "
			  "%zu",
			  n, bad, nmodel);
	else
		TEST_OK(desc);
}

static int pinned_fd(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", H.pin_dir, name);
	return bpf_obj_get(path);
}

/* bm4_bit - the /24 summary bit of a v4 address as published */
static int bm4_bit(const char *addr)
{
	struct in_addr ia;
	__u32 bit, word;
	__u64 w = 0;
	int fd = pinned_fd(MX_MAP_BM4);

	inet_pton(AF_INET, addr, &ia);
	bit = mx_bm4_bit(ntohl(ia.s_addr));
	word = bit / 64;
	if (fd < 0 || bpf_map_lookup_elem(fd, &word, &w))
		w = 0;
	if (fd >= 0)
		close(fd);
	return (int)((w >> (bit & 63)) & 1);
}

/* full_rebuild - mark an apply() as died half-way: the next one repairs */
static int full_rebuild(void)
{
	struct mx_cfg cfg;
	__u32 zero = 0;
	int err;

	bpf_map_lookup_elem(H.cfg_fd, &zero, &cfg);
	cfg.flags |= MX_CFG_DIRTY;
	bpf_map_update_elem(H.cfg_fd, &zero, &cfg, BPF_ANY);
	log_set_level(MX_LOG_ERR + 1);
	err = H.be.ops->apply(&H.be, NULL, 0, NULL, 0);
	log_set_level(MX_LOG_INFO);
	return err;
}

static void test_named(void)
{
	/* an entry elsewhere, so that no delete below empties the table */
	ASSERT_EQ(add1(&H.be, "10.250.0.1", MX_ACT_DROP, false), 0, "anchor");
	/* delete, then another host of the same /24 */
	ASSERT_EQ(add1(&H.be, "10.1.1.5", MX_ACT_DROP, false), 0, "add");
	check_src("a single host drops", "10.1.1.5", RM_DROP);
	ASSERT_EQ(del1(&H.be, "10.1.1.5"), 0, "delete");
	check_src("the deleted host passes", "10.1.1.5", RM_MISS);
	ASSERT_EQ(bm4_bit("10.1.1.5"), 1,
		  "its /24 summary bit stays set (stale) after the delete");
	ASSERT_EQ(add1(&B2, "10.1.1.9", MX_ACT_DROP, false), 0,
		  "add another host of the /24 (second instance)");
	check_src("the new host drops", "10.1.1.9", RM_DROP);
	check_src("the old host still passes", "10.1.1.5", RM_MISS);

	/* a netblock after its hosts */
	ASSERT_EQ(add1(&H.be, "10.2.0.1", MX_ACT_DROP, false), 0, "host");
	ASSERT_EQ(add1(&H.be, "10.2.3.4", MX_ACT_ALLOW, false), 0, "allow");
	ASSERT_EQ(add1(&B2, "10.2.0.0/16", MX_ACT_DROP, false), 0,
		  "the netblock after them");
	check_src("netblock added after hosts: a host", "10.2.0.1", RM_DROP);
	check_src("netblock added after hosts: the allow", "10.2.3.4",
		  RM_ALLOW);
	check_src("netblock added after hosts: another /24", "10.2.200.7",
		  RM_DROP);
	check_src("netblock added after hosts: outside", "10.3.0.1", RM_MISS);

	/* the netblock removed, hosts inside remain */
	ASSERT_EQ(del1(&H.be, "10.2.0.0/16"), 0, "remove the netblock");
	check_src("netblock removed: a host inside drops", "10.2.0.1", RM_DROP);
	check_src("netblock removed: the allow", "10.2.3.4", RM_ALLOW);
	check_src("netblock removed: the rest passes", "10.2.200.7", RM_MISS);
	check_src("netblock removed: the host's /24 neighbour passes",
		  "10.2.0.2", RM_MISS);

	/* IPv6: a /48 after a host, short netblocks, removals */
	ASSERT_EQ(add1(&H.be, "2001:db8:5::1", MX_ACT_DROP, false), 0,
		  "v6 host");
	ASSERT_EQ(add1(&B2, "2001:db8:5::/48", MX_ACT_DROP, true), 0,
		  "v6 /48 in observe");
	check_src("v6 host under an observed /48 drops", "2001:db8:5::1",
		  RM_DROP);
	check_src("v6 /48 observes", "2001:db8:5:1::1", RM_OBSERVE);
	ASSERT_EQ(add1(&H.be, "2001:dc0::/28", MX_ACT_DROP, false), 0,
		  "v6 /28 (many summary bits)");
	check_src("v6 /28 drops", "2001:dcf:1234::1", RM_DROP);
	ASSERT_EQ(add1(&H.be, "3000::/12", MX_ACT_DROP, false), 0,
		  "v6 /12 (summary off)");
	check_src("v6 /12 drops", "3001:2::1", RM_DROP);
	ASSERT_EQ(del1(&B2, "3000::/12"), 0, "remove the /12");
	check_src("v6 /12 removed", "3001:2::1", RM_MISS);
	ASSERT_EQ(del1(&H.be, "2001:db8:5::/48"), 0, "remove the /48");
	check_src("v6 /48 removed, the host stays", "2001:db8:5::1", RM_DROP);
	check_src("v6 /48 removed, the rest passes", "2001:db8:5:1::1",
		  RM_MISS);
	check_dump("dump after the named cases");
}

static void random_net(char *buf, size_t len)
{
	static const int pl4[] = {32, 32, 32, 32, 31, 30, 28,
				  26, 24, 24, 22, 20, 16};
	static const int pl6[] = {128, 128, 128, 64, 56, 48, 40, 32, 24};
	__u32 r = rnd();
	int plen;

	if (r % 5) {
		struct in_addr a;
		/* 10.64.0-7.x */
		__u32 h = 0x0a400000U | (rnd() & 0x7ff);

		plen = pl4[rnd() % (sizeof(pl4) / sizeof(pl4[0]))];
		if (plen <= 16)
			h = 0x0a400000U;
		h &= plen == 32 ? ~0U : ~(0xffffffffU >> plen);
		a.s_addr = htonl(h);
		snprintf(buf, len, "%s/%d", inet_ntoa(a), plen);
	} else {
		__u8 a[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x77};
		struct cidr c;
		char err[64];

		a[7] = (__u8)(rnd() % 4);
		a[15] = (__u8)(rnd() % 32);
		plen = pl6[rnd() % (sizeof(pl6) / sizeof(pl6[0]))];
		inet_ntop(AF_INET6, a, buf, len);
		snprintf(buf + strlen(buf), len - strlen(buf), "/%d", plen);
		/* host bits cleared by the parser */
		if (cidr_parse(buf, 0, &c, err, sizeof(err)) >= 0)
			cidr_format(&c, buf, len);
	}
}

static void test_random(void)
{
	char net[64], txt[INET6_ADDRSTRLEN + 8];
	size_t i, bad_ops = 0, k;
	struct backend *be;
	int err;

	for (i = 0; i < 3000; i++) {
		be = i % 3 ? &H.be : &B2;
		if (nmodel && rnd() % 100 < 45) {
			k = rnd() % nmodel;
			inet_ntop(model[k].family == 4 ? AF_INET : AF_INET6,
				  model[k].addr, txt, sizeof(txt));
			snprintf(net, sizeof(net), "%s/%d", txt, model[k].plen);
			probe_entry(&model[k]);
			err = del1(be, net);
		} else {
			random_net(net, sizeof(net));
			err = add1(be, net,
				   rnd() % 4 ? MX_ACT_DROP : MX_ACT_ALLOW,
				   rnd() % 10 == 0);
		}
		if (err && bad_ops++ < 3)
			printf("  op %zu on %s: %s\n", i, net, strerror(-err));
	}
	ASSERT_EQ(bad_ops, 0,
		  "3000 single adds and deletes from two "
		  "instances succeed");
	for (k = 0; k < nmodel; k++)
		probe_entry(&model[k]);
	/* random sources in the pool */
	for (i = 0; i < 2000; i++) {
		__u8 a[16] = {10, 64, (__u8)(rnd() % 8), (__u8)rnd()};

		probe_add(4, a);
	}
	check_dump("dump after the random changes");
	check_all("every verdict after the random changes", true, false);
	ASSERT_EQ(full_rebuild(), 0, "full rebuild");
	check_all("the same verdicts after a full rebuild", false, true);
	check_dump("dump after the rebuild");
	for (k = 0, i = 0; k < nmodel; k++) {
		if (model[k].family != 4 || model[k].plen < 24)
			continue;
		inet_ntop(AF_INET, model[k].addr, txt, sizeof(txt));
		i += !bm4_bit(txt);
	}
	ASSERT_EQ(i, 0, "the rebuild keeps every /24 bit an entry needs");
}

/* a stale bit goes with a rebuild; a wrong id bitmap costs no entry */
static void test_ctl(void)
{
	__u32 i, words;
	__u64 v;
	struct bpf_map_info info;
	__u32 ilen = sizeof(info);
	int fd;

	ASSERT_EQ(add1(&H.be, "10.99.9.9", MX_ACT_DROP, false), 0, "add");
	ASSERT_EQ(del1(&H.be, "10.99.9.9"), 0, "delete");
	ASSERT_EQ(bm4_bit("10.99.9.9"), 1, "the stale bit is there");
	ASSERT_EQ(full_rebuild(), 0, "full rebuild");
	ASSERT_EQ(bm4_bit("10.99.9.9"), 0, "the rebuild cleared it");

	fd = pinned_fd("mx_ctl");
	ASSERT_TRUE(fd >= 0, "mx_ctl is pinned");
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(fd, &info, &ilen);
	words = info.max_entries;
	/* every id looks free: adds must still not take a used one */
	for (i = 8, v = 0; i < words; i++)
		bpf_map_update_elem(fd, &i, &v, BPF_ANY);
	for (i = 0; i < 40; i++) {
		char net[32];

		snprintf(net, sizeof(net), "10.98.%u.1", i);
		if (add1(&H.be, net, MX_ACT_DROP, false))
			break;
	}
	ASSERT_EQ(i, 40, "adds with an id bitmap saying all free");
	check_dump("no entry lost to a wrong free bit");
	check_all("verdicts after a wrong free bit", false, false);
	/* every id looks used: adds still find room (the full path) */
	for (i = 8, v = ~0ULL; i < words; i++)
		bpf_map_update_elem(fd, &i, &v, BPF_ANY);
	ASSERT_EQ(add1(&H.be, "10.97.0.1", MX_ACT_DROP, false), 0,
		  "an add with an id bitmap saying all used");
	check_src("and it drops", "10.97.0.1", RM_DROP);
	check_dump("dump after a wrong used bit");
	close(fd);
}

/* two consecutive dumps give the same last_hit */
static void test_last_hit(void)
{
	struct mx_entry *v1 = NULL, *v2 = NULL;
	size_t n1 = 0, n2 = 0, i, round, diff = 0, hits = 0;

	ASSERT_EQ(add1(&H.be, "10.96.0.1", MX_ACT_DROP, false), 0, "add");
	check_src("a hit to stamp", "10.96.0.1", RM_DROP);
	for (round = 0; round < 200; round++) {
		H.be.ops->dump(&H.be, &v1, &n1);
		B2.ops->dump(&B2, &v2, &n2);
		for (i = 0; i < n1 && i < n2; i++) {
			if (v1[i].last_hit != v2[i].last_hit)
				diff++;
			hits += v1[i].last_hit != 0;
		}
		if (n1 != n2)
			diff++;
		free(v1);
		free(v2);
		v1 = v2 = NULL;
	}
	ASSERT_TRUE(hits >= 200, "entries with a last_hit");
	ASSERT_EQ(diff, 0,
		  "200 pairs of consecutive dumps: identical "
		  "last_hit");
}

/*
 * a corrupt tagset index in the pinned metadata (the pins outlive the
 * process that wrote them) must not make the controller write out of
 * bounds: the tag set sweep and the dump ignore it
 */
static void test_corrupt_tagset(void)
{
	struct xdp_priv *p = H.be.priv;
	struct mx_entry *v = NULL;
	size_t n = 0, i;
	__u16 saved;
	__u32 id;

	ASSERT_EQ(add1(&H.be, "10.97.0.1", MX_ACT_DROP, false), 0, "add");
	for (id = 0; id < p->cfg.cap; id++)
		if (p->meta[id].family == AF_INET &&
		    !memcmp(p->meta[id].addr, "\x0a\x61\x00\x01", 4))
			break;
	ASSERT_TRUE(id < p->cfg.cap, "the entry's metadata");
	if (id == p->cfg.cap)
		return;
	saved = p->meta[id].tagset;
	p->meta[id].tagset = 0xffff;
	xdp_tagsets_gc(p, NULL, 0);
	ASSERT_EQ(H.be.ops->dump(&H.be, &v, &n), 0, "dump");
	for (i = 0; i < n; i++)
		if (!strcmp(cidr_format(&v[i].net, (char[CIDR_STRLEN]){0},
					CIDR_STRLEN),
			    "10.97.0.1"))
			ASSERT_STR(v[i].tags, "",
				   "a tagset past the table: no tags");
	free(v);
	p->meta[id].tagset = saved;
}

static void on_signal(int sig)
{
	if (B2.priv)
		B2.ops->close(&B2);
	xh_teardown(&H);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* the front door's list of bad changes: refused whole, -EINVAL, as the
 * other backend refuses them (selftests/lib/badchange.h) */
static void test_bad_changes(void)
{
	struct mx_entry *d0 = NULL, *d1 = NULL;
	struct badchange v[16];
	size_t n = bad_changes(v), i, n0 = 0, n1 = 0;
	int err;

	ASSERT_EQ(H.be.ops->dump(&H.be, &d0, &n0), 0, "dump before");
	for (i = 0; i < n; i++) {
		err = v[i].is_del
			  ? H.be.ops->apply(&H.be, NULL, 0, &v[i].add.net, 1)
			  : H.be.ops->apply(&H.be, &v[i].add, 1, NULL, 0);
		ASSERT_EQ(err, -EINVAL, v[i].desc);
	}
	ASSERT_EQ(H.be.ops->dump(&H.be, &d1, &n1), 0, "dump after");
	ASSERT_EQ(n1, n0, "nothing added or taken");
	free(d0);
	free(d1);
}

int main(void)
{
	if (!xh_start(&H, 4096, on_signal))
		return 1;
	B2.ops = &backend_xdp_ops;
	B2.pin_dir = H.pin_dir;
	B2.state_dir = H.state_dir;
	B2.lock_fd = -1;
	stats_fd = pinned_fd(MX_MAP_STATS);
	if (B2.ops->open(&B2, false) || stats_fd < 0) {
		xh_teardown(&H);
		printf("FAIL - cannot open the table a second time\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	TEST_RUN(test_named);
	TEST_RUN(test_random);
	TEST_RUN(test_ctl);
	TEST_RUN(test_last_hit);
	TEST_RUN(test_corrupt_tagset);
	TEST_RUN(test_bad_changes);
	close(stats_fd);
	B2.ops->close(&B2);
	xh_teardown(&H);
	return test_finish();
}

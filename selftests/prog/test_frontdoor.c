// SPDX-License-Identifier: GPL-2.0
/*
 * test_frontdoor.c - the front door's check (backend_check_change()) on
 * the ways into both real backends that do not pass backend_apply(): the
 * XDP backend (a throw-away pin directory) and the nftables backend (a
 * network namespace of its own), side by side.
 *  - backend_apply_journaled() refuses every change of
 *    selftests/lib/badchange.h, mixed with a good entry, with -EINVAL, the
 *    same error from both backends: nothing changes, no journal is left.
 *  - A journal left by an interrupted change is finished by the next
 *    open (a good one), and one whose change fails the check (written by
 *    no mxwall: a bad entry or deletion) is removed by that open without
 *    touching the entries, on either backend, rather than failing every
 *    open until removed by hand.
 * Needs root.
 */
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include "backend/backend.h"
#include "test.h"
#include "../lib/badchange.h"
#include "../prog/xdp_harness.h"

static struct xh H;	 /* the XDP backend */
static struct backend N; /* the nftables backend */
static char nft_state[64] = "/tmp/mxwall-test-nft-XXXXXX";
static char nft_pins[160]; /* never made: nft holds no pins */

static struct badchange bad[16];
static size_t nbad;
static struct mx_entry good4, good6, good6b;

static void make_entries(void)
{
	xh_entry(&good4, "192.0.2.0/24", MX_ACT_DROP, false, "t");
	xh_entry(&good6, "2001:db8::/32", MX_ACT_DROP, false, "t");
	xh_entry(&good6b, "2001:db8:1::/48", MX_ACT_ALLOW, false, "");
	nbad = bad_changes(bad);
}

static size_t count(struct backend *be)
{
	struct mx_entry *rows = NULL;
	size_t n = 0;

	if (be->ops->dump(be, &rows, &n))
		n = (size_t)-1;
	free(rows);
	return n;
}

static bool has_journal(const struct backend *be)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/journal", be->state_dir);
	return !access(path, F_OK);
}

/* refused - backend_apply_journaled() refuses bad change i on be */
static int refused(struct backend *be, size_t i, size_t before)
{
	struct mx_entry two[2] = {good6, bad[i].add};
	struct cidr del[2] = {good4.net, bad[i].add.net};
	char d[160];
	int err;

	err = bad[i].is_del ? backend_apply_journaled(be, NULL, 0, del, 2)
			    : backend_apply_journaled(be, two, 2, NULL, 0);
	snprintf(d, sizeof(d), "%s: %s", be->ops->name, bad[i].desc);
	ASSERT_EQ(err, -EINVAL, d);
	ASSERT_TRUE(!has_journal(be), "no journal left");
	ASSERT_EQ(count(be), before, "nothing changed");
	return err;
}

static void test_journaled(void)
{
	size_t i, nx, nn;

	ASSERT_EQ(backend_apply(&H.be, &good4, 1, NULL, 0), 0, "xdp: good");
	ASSERT_EQ(backend_apply(&N, &good4, 1, NULL, 0), 0, "nft: good");
	nx = count(&H.be);
	nn = count(&N);
	ASSERT_EQ(nx, 1, "xdp: one entry");
	ASSERT_EQ(nn, 1, "nft: one entry");
	for (i = 0; i < nbad; i++)
		ASSERT_EQ(refused(&H.be, i, nx), refused(&N, i, nn),
			  "the same error from both backends");
}

/* write_journal - a journal as backend_apply_journaled() lays it out */
static int write_journal(const struct backend *be, const struct mx_entry *add,
			 uint64_t nadd, const struct cidr *del, uint64_t ndel)
{
	struct {
		char magic[8];
		uint32_t entry_size, cidr_size;
		uint64_t nadd, ndel;
	} h = {"MXWJRN1", sizeof(*add), sizeof(*del), nadd, ndel};
	char path[256];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/journal", be->state_dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ok = fwrite(&h, sizeof(h), 1, f) == 1 &&
	     (!nadd || fwrite(add, sizeof(*add), nadd, f) == nadd) &&
	     (!ndel || fwrite(del, sizeof(*del), ndel, f) == ndel);
	return fclose(f) || !ok ? -EIO : 0;
}

/* replay - open be's state again, which finishes (or drops) its journal */
static int replay(const struct backend *be, enum mx_backend_kind kind)
{
	struct backend_opts o = {.pin_dir = be->pin_dir,
				 .state_dir = be->state_dir,
				 .kind = kind,
				 .kind_given = true};
	struct backend b;
	int err = backend_open(&b, &o, 0);

	if (!err)
		backend_close(&b);
	return err;
}

static void journal_case(struct backend *be, enum mx_backend_kind kind)
{
	struct mx_entry two[2] = {good6, good6b};
	struct cidr del[2] = {good6.net, good6b.net};
	size_t before = count(be), i;
	char d[160];

	snprintf(d, sizeof(d), "%s: a good journal", be->ops->name);
	ASSERT_EQ(write_journal(be, two, 2, NULL, 0), 0, d);
	ASSERT_EQ(replay(be, kind), 0, d);
	ASSERT_TRUE(!has_journal(be), "is removed");
	ASSERT_EQ(count(be), before + 2, "once finished");
	ASSERT_EQ(backend_apply_journaled(be, NULL, 0, del, 2), 0,
		  "and taken back");
	for (i = 0; i < nbad; i++) {
		snprintf(d, sizeof(d), "%s: a journal with %s", be->ops->name,
			 bad[i].desc);
		two[1] = bad[i].add;
		del[1] = bad[i].add.net;
		/* a good entry beside it: the journal goes whole */
		ASSERT_EQ(bad[i].is_del ? write_journal(be, NULL, 0, del, 2)
					: write_journal(be, two, 2, NULL, 0),
			  0, d);
		ASSERT_EQ(replay(be, kind), 0, d);
		ASSERT_TRUE(!has_journal(be), "is removed");
		ASSERT_EQ(count(be), before, "and changes nothing");
	}
}

static void test_journal(void)
{
	journal_case(&H.be, MX_BACKEND_XDP);
	journal_case(&N, MX_BACKEND_NFT);
}

static void cleanup(void)
{
	char path[256];

	/* the lock files the reopening took, a journal a failure left */
	snprintf(path, sizeof(path), "%s/lock", nft_state);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock", H.state_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/journal", nft_state);
	unlink(path);
	snprintf(path, sizeof(path), "%s/journal", H.state_dir);
	unlink(path);
	if (N.priv) {
		N.ops->destroy(&N);
		N.ops->close(&N);
	}
	rmdir(nft_state);
	xh_teardown(&H);
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(void)
{
	if (unshare(CLONE_NEWNET)) {
		printf("FAIL - a network namespace of its own: %s (needs "
		       "root)\n",
		       strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (!xh_start(&H, 1024, on_signal))
		return 1;
	memset(&N, 0, sizeof(N));
	N.ops = &backend_nft_ops;
	N.lock_fd = -1;
	N.pin_lock_fd = -1;
	snprintf(nft_pins, sizeof(nft_pins), "%s-nft", H.pin_dir);
	N.pin_dir = nft_pins;
	N.state_dir = nft_state;
	if (mkdir_p(H.state_dir, 0700) || !mkdtemp(nft_state) ||
	    N.ops->open(&N, true)) {
		printf("FAIL - cannot set up the state directories and the "
		       "nftables table\n");
		printf("0 passed, 1 failed\n");
		cleanup();
		return 1;
	}
	make_entries();
	TEST_RUN(test_journaled);
	TEST_RUN(test_journal);
	cleanup();
	return test_finish();
}

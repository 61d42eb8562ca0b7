// SPDX-License-Identifier: GPL-2.0
/*
 * test_front.c - the backend front door's check of a change
 * (backend_check_change, backend_apply): one rule for both backends. Every
 * change of selftests/lib/badchange.h is refused with -EINVAL before any
 * backend sees it; a well-formed one goes through. That each backend's own
 * apply() refuses the same list is in test_nft_ops.c and
 * selftests/prog/test_apply.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "badchange.h"
#include "fake_backend.h"
#include "test.h"

static void test_bad(void)
{
	struct badchange v[16];
	struct fake_state *s;
	struct backend be;
	size_t n = bad_changes(v), i;
	int err;

	s = fake_open(&be);
	for (i = 0; i < n; i++) {
		err = v[i].is_del
			  ? backend_check_change(NULL, 0, &v[i].add.net, 1)
			  : backend_check_change(&v[i].add, 1, NULL, 0);
		ASSERT_EQ(err, -EINVAL, v[i].desc);
		err = v[i].is_del
			  ? backend_apply(&be, NULL, 0, &v[i].add.net, 1)
			  : backend_apply(&be, &v[i].add, 1, NULL, 0);
		ASSERT_EQ(err, -EINVAL, v[i].desc);
	}
	ASSERT_EQ(s->applies, 0, "no bad change reached the backend");
	ASSERT_TRUE(n >= 10, "the list has every kind");
}

static void test_good(void)
{
	struct badchange v[16];
	struct fake_state *s;
	struct backend be;
	struct mx_entry e;
	struct cidr c;

	bad_changes(v);
	e = v[0].add;
	e.net = bad_net4("192.0.2.0", 24);
	s = fake_open(&be);
	ASSERT_EQ(backend_check_change(&e, 1, NULL, 0), 0, "a good addition");
	ASSERT_EQ(backend_apply(&be, &e, 1, NULL, 0), 0, "goes through");
	ASSERT_EQ(s->applies, 1, "to the backend");
	c = bad_net4("198.51.100.7", 32);
	ASSERT_EQ(backend_check_change(NULL, 0, &c, 1), 0, "a good deletion");
	/* a change that mixes a good and a bad entry is refused whole */
	ASSERT_EQ(backend_apply(&be, NULL, 0, NULL, 0), 0, "an empty change");
	{
		struct mx_entry two[2] = {e, v[0].add};

		ASSERT_EQ(backend_apply(&be, two, 2, NULL, 0), -EINVAL,
			  "one bad entry refuses the change whole");
	}
}

int main(void)
{
	TEST_RUN(test_bad);
	TEST_RUN(test_good);
	return test_finish();
}

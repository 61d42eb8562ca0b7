// SPDX-License-Identifier: GPL-2.0
/*
 * testhook.c - $MXWALL_TEST_HOOKS, parsed once (testhook.h says what each
 * hook does). Test-only: production code asks mx_test_hook() and nothing
 * else reads the variable.
 */
#include <stdlib.h>
#include <string.h>

#include "core/mxwall.h"
#include "core/testhook.h"

#define HOOKS_MAX 16

static const char *const known[] = {"fake_now", "force_xdp_fail",
				    "capacity", "crash_after",
				    "reader",	"reader_inline"};

static struct {
	bool parsed;
	char *buf; /* a copy of the variable, cut at ',' and '=' */
	const char *name[HOOKS_MAX], *value[HOOKS_MAX];
	size_t n;
} hooks;

static bool is_known(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(known[i], name))
			return true;
	return false;
}

static void parse(void)
{
	const char *env = secure_getenv(MX_TEST_HOOKS_ENV);
	char *p, *next, *eq;

	hooks.parsed = true;
	if (!env || !*env)
		return;
	hooks.buf = xstrdup(env);
	for (p = hooks.buf; p; p = next) {
		next = strchr(p, ',');
		if (next)
			*next++ = '\0';
		if (!*p)
			continue;
		eq = strchr(p, '=');
		if (eq)
			*eq++ = '\0';
		if (!is_known(p)) {
			log_warn("%s: %s: no such test hook", MX_TEST_HOOKS_ENV,
				 p);
			continue;
		}
		if (hooks.n == HOOKS_MAX)
			break;
		hooks.name[hooks.n] = p;
		hooks.value[hooks.n++] = eq ? eq : "";
	}
}

const char *mx_test_hook(const char *name)
{
	size_t i;

	if (!hooks.parsed)
		parse();
	/* the last one given wins, as "$MXWALL_TEST_HOOKS,name=v" means */
	for (i = hooks.n; i-- > 0;)
		if (!strcmp(hooks.name[i], name))
			return hooks.value[i];
	return NULL;
}

bool mx_test_hook_is(const char *name, const char *value)
{
	const char *v = mx_test_hook(name);

	return v && !strcmp(v, value);
}

void mx_test_hooks_reset(void)
{
	free(hooks.buf);
	memset(&hooks, 0, sizeof(hooks));
}

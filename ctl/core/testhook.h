/* SPDX-License-Identifier: GPL-2.0 */
/*
 * testhook.h - the one way the test suite reaches into mxwall, and the only
 * one: the environment variable MXWALL_TEST_HOOKS, a comma list of hooks,
 * each "name" or "name=value" (a value holds no comma), read once with
 * secure_getenv (a set-id mxwall ignores it). Test-only: nothing a user
 * relies on is ever read through it (docs/architecture.md, "Test hooks").
 *
 *   fake_now=SECS|/PATH  the clock (mx_now): unix seconds, or a file
 *                        holding them, read again on every call
 *   force_xdp_fail       every XDP attach fails as "not possible here"
 *                        (the front door's fallback to nftables)
 *   capacity=N[/MAX]     the XDP tables made with room for N IPv4
 *                        entries (N/8 IPv6), growing to at most MAX
 *   crash_after=STEP     report --reset kills itself after a step:
 *                        pending, archive or clear
 *   reader=HOW           the watcher's first log reader misbehaves:
 *                        open, exec, bpf (a forbidden system call) or
 *                        record (a malformed record)
 *   reader_inline        the watcher parses its logs itself, without the
 *                        reader process (tests and `make bench` only)
 *
 * An unknown name is warned about once and otherwise ignored.
 */
#ifndef MXWALL_TESTHOOK_H
#define MXWALL_TESTHOOK_H

#include <stdbool.h>

#define MX_TEST_HOOKS_ENV "MXWALL_TEST_HOOKS"

/* mx_test_hook - the value of hook name ("" without one), or NULL unset */
const char *mx_test_hook(const char *name);
/* mx_test_hook_is - hook name is set to value */
bool mx_test_hook_is(const char *name, const char *value);
/* mx_test_hooks_reset - read the environment again (unit tests) */
void mx_test_hooks_reset(void);

#endif /* MXWALL_TESTHOOK_H */

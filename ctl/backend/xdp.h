/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend_xdp.h - what the XDP backend offers besides backend_xdp_ops:
 * loading the program over the pinned maps of an open backend, for the
 * BPF_PROG_TEST_RUN tests and the benchmark (selftests/prog, bench).
 */
#ifndef MXWALL_BACKEND_XDP_H
#define MXWALL_BACKEND_XDP_H

#include "backend/backend.h"

struct mxwall_bpf;

/*
 * backend_xdp_load - open and load the XDP program (build/mxwall.skel.h)
 * reusing the pins of be, which must be open on the xdp backend. The
 * skeleton is the caller's to destroy (mxwall_bpf__destroy); the pinned
 * maps stay.
 */
int backend_xdp_load(struct backend *be, struct mxwall_bpf **out);

/* ensure_bpffs - mount bpffs at /sys/fs/bpf when pin_dir lies there and it
 * is not mounted (also for the handshake record, wire.c) */
int ensure_bpffs(const char *pin_dir);

#endif /* MXWALL_BACKEND_XDP_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_clock.c - the XDP program's clock from userspace. The program stamps
 * last hits and checks expiry times in jiffies (bpf/mxwall_shared.h,
 * MX_TS_SHIFT), which userspace cannot read: bpf/clock.bpf.c, run with
 * BPF_PROG_TEST_RUN, says jiffies and CLOCK_MONOTONIC of one moment. When
 * a pin directory is made, two such readings 50 ms apart give the tick
 * rate (rounded to the rates kernels are built with) and the second one
 * the moment both clocks are counted from; they are kept in mx_cfg. The
 * kernel advances jiffies from the monotonic clock, so the pair holds for
 * as long as the pins live. This file owns the readings and the
 * calibration; the conversions are in xdp_table.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "backend/backend.h"
#include "clock.skel.h"
#include "mxwall_shared.h"
#include "backend/xdp_int.h"

/*
 * xdp_clock_read - jiffies and CLOCK_MONOTONIC ns of one moment. The tiny
 * program is loaded once a process (about a millisecond) and kept.
 */
int xdp_clock_read(__u64 *jiffies, __u64 *mono_ns)
{
	static struct clock_bpf *skel;
	__u8 in[64] = {0}, out[64];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in,
		    .data_size_in = sizeof(in), .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	int err;

	if (!skel) {
		skel = clock_bpf__open_and_load();
		if (!skel)
			return -errno;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.mxwall_clock),
				     &o);
	if (err)
		return -errno;
	if (o.retval != XDP_PASS || o.data_size_out < 16)
		return -EIO;
	memcpy(jiffies, out, 8);
	memcpy(mono_ns, out + 8, 8);
	return 0;
}

/* the tick rates kernels are built with (CONFIG_HZ) */
static const __u32 rates[] = {100, 250, 300, 1000, 24,	 32,  48,
			      64,  128, 256, 512,  1024, 1200};

/* xdp_clock_calibrate - the program's clock for a new pin directory */
int xdp_clock_calibrate(struct mx_cfg *cfg)
{
	struct timespec pause = {0, 50 * 1000 * 1000};
	__u64 j1, t1, j2, t2;
	double hz, best = 0;
	size_t i;
	int err;

	err = xdp_clock_read(&j1, &t1);
	if (err)
		return err;
	nanosleep(&pause, NULL);
	err = xdp_clock_read(&j2, &t2);
	if (err)
		return err;
	if (t2 <= t1 || j2 <= j1)
		return -EIO;
	hz = (double)(j2 - j1) * 1e9 / (double)(t2 - t1);
	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		if (!best || (rates[i] > hz ? rates[i] - hz : hz - rates[i]) <
				 (best > hz ? best - hz : hz - best))
			best = rates[i];
	/* a rate far from every known one: take the measurement */
	cfg->hz = (best > hz ? best - hz : hz - best) < hz / 10
		      ? (__u32)best
		      : (__u32)(hz + 0.5);
	cfg->j0 = j2;
	cfg->t0 = t2;
	return 0;
}

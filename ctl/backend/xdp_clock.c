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
 * as long as the pins live. This file owns the readings, the calibration
 * and the conversions between time stamps and unix time.
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

/*
 * ---- clocks: the program's time stamps (jiffies, MX_TS_SHIFT; measured
 * by xdp_clock.c) and unix time ----
 */

/*
 * xdp_clock_offset - unix time minus CLOCK_MONOTONIC (the clock of
 * bpf_ktime_get_coarse_ns()), in whole seconds, rounded. The difference of
 * the two clocks only moves when the wall clock is stepped, but reading
 * them costs a few hundred ns between the two calls: at ns precision a
 * stamp near a second boundary would come out one second apart in two
 * reads. Rounded to the second, the offset is the same in every read
 * (unless its fraction sits within a microsecond of one half), so
 * every dump and every process gives the same last_hit for the same
 * stamp; the price is up to half a second of error in an absolute value
 * printed in seconds anyway.
 */
__s64 xdp_clock_offset(void)
{
	struct timespec mono, real;
	int64_t fake;
	__s64 ns;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (!mx_fake_now(&fake))
		/* the tests' clock: expiry times are relative to it */
		return fake - mono.tv_sec;
	clock_gettime(CLOCK_REALTIME, &real);
	ns = ((__s64)real.tv_sec - mono.tv_sec) * 1000000000LL +
	     (real.tv_nsec - mono.tv_nsec);
	return (ns + 500000000LL) / 1000000000LL;
}

/* mono_of_jiffies, jiffies_of_mono - through mx_cfg's hz, j0 and t0 */
static __s64 mono_of_jiffies(const struct mx_cfg *c, __u64 j)
{
	__s64 d = (__s64)(j - c->j0), hz = c->hz ? c->hz : 1;

	return (__s64)c->t0 + d / hz * 1000000000LL +
	       d % hz * 1000000000LL / hz;
}

static __s64 jiffies_of_mono(const struct mx_cfg *c, __s64 ns)
{
	__s64 d = ns - (__s64)c->t0, hz = c->hz ? c->hz : 1;

	return (__s64)c->j0 + d / 1000000000LL * hz +
	       d % 1000000000LL * hz / 1000000000LL;
}

/*
 * xdp_ts_of_unix - the program's time stamp at which an entry expiring at
 * unix time t is gone (rounded up: never early); 0 for no expiry, 1 (the
 * past) for a time gone by.
 */
__u32 xdp_ts_of_unix(const struct xdp_priv *p, __s64 t)
{
	__s64 j;
	__u64 ts;

	if (!t)
		return 0;
	j = jiffies_of_mono(&p->cfg, (t - p->clock_off) * 1000000000LL);
	if (j <= 0)
		return 1;
	ts = ((__u64)j + (1ULL << MX_TS_SHIFT) - 1) >> MX_TS_SHIFT;
	if (ts > UINT32_MAX)
		return UINT32_MAX;
	return ts ? (__u32)ts : 1;
}

/* xdp_unix_of_ts - a time stamp of the program as unix seconds; 0 never */
__s64 xdp_unix_of_ts(const struct xdp_priv *p, __u32 ts)
{
	__s64 ns;

	if (!ts)
		return 0;
	ns = mono_of_jiffies(&p->cfg, (__u64)ts << MX_TS_SHIFT);
	return (ns >= 0 ? ns / 1000000000LL : 0) + p->clock_off;
}

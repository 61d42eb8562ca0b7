// SPDX-License-Identifier: GPL-2.0
/*
 * clock.bpf.c - the clock of the XDP program, read from userspace. The
 * filter stamps last hits and checks expiry times in jiffies (a load of
 * jiffies_64, where bpf_ktime_get_coarse_ns() costs a timekeeper read of
 * ~15 ns per packet on this machine: docs/performance.md). Userspace has
 * no jiffies; the controller runs this program with BPF_PROG_TEST_RUN and
 * it writes bpf_jiffies64() and bpf_ktime_get_coarse_ns() (CLOCK_MONOTONIC)
 * of the same moment into the first 16 bytes of the frame it is given
 * (ctl/backend/xdp_clock.c turns the pair into the conversion).
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int mxwall_clock(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 *out = data;

	if ((void *)(out + 2) > end)
		return XDP_ABORTED;
	out[0] = bpf_jiffies64();
	out[1] = bpf_ktime_get_coarse_ns();
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * mxbench.bpf.c - helper programs for the benchmark (selftests/bench):
 *  - bench_empty: the floor, an XDP program that drops everything;
 *  - bench_flood: a wrapper that gives every run a different IPv4 source
 *    (walking nsrc sources) and tail-calls the program under test in
 *    slot 0 of bench_jmp, so a random-source flood can be measured with
 *    BPF_PROG_TEST_RUN; the empty program is measured through the same
 *    wrapper, so the wrapper's own cost is in both figures;
 *    (v6 set: IPv6 frames, bytes 4..7 of the source, as the table's
 *    IPv6 entries are made);
 *  - bench_gen: the same source walk, then out of interface gen_ifindex
 *    (XDP_REDIRECT), a packet generator when run with live frames
 *    (BPF_F_TEST_XDP_LIVE_FRAMES) into one end of a veth pair.
 * Never attached to an interface.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_jmp SEC(".maps");

__u32 seq;	   /* runs so far */
__u32 nsrc;	   /* distinct sources walked (set before use) */
__u32 base;	   /* first index: listed (0) or unlisted */
__u32 gen_ifindex; /* where bench_gen sends */
__u32 v6;	   /* IPv6 frames: the walk writes bytes 4..7 of the source */

#define SADDR_OFF 26  /* Ethernet + 12: the IPv4 source */
#define SADDR6_OFF 26 /* Ethernet + 8 + 4: bytes 4..7 of the IPv6 source */

/* bench_mix - a bijection on 32 bits (the table's hosts are mix(i)) */
static __always_inline __u32 bench_mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

SEC("xdp")
int bench_empty(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* next_source - write the next source of the walk into the frame */
static __always_inline int next_source(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *p = data + (v6 ? SADDR6_OFF : SADDR_OFF);
	__u32 i, a;

	if ((void *)(p + 4) > end || !nsrc)
		return -1;
	i = seq++;
	a = bench_mix(base + i % nsrc);
	/* network order */
	p[0] = a >> 24;
	p[1] = a >> 16;
	p[2] = a >> 8;
	p[3] = a;
	return 0;
}

SEC("xdp")
int bench_flood(struct xdp_md *ctx)
{
	if (next_source(ctx))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &bench_jmp, 0);
	return XDP_ABORTED;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	if (next_source(ctx))
		return XDP_ABORTED;
	return bpf_redirect(gen_ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";

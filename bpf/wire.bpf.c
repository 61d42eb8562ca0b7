// SPDX-License-Identifier: GPL-2.0
/*
 * wire.bpf.c - the record of completed SMTP handshakes (wire_shared.h):
 * on the inet_sock_set_state tracepoint, a TCP socket going from SYN_RECV
 * to ESTABLISHED (the server side of a handshake the kernel completed) on
 * a configured local port, in the configured network namespace, notes its
 * remote address and the time.
 *
 * Promises: nothing is recorded for a SYN alone, a refused or half-open
 * connection, an outgoing connection or another port; an IPv4 client of a
 * dual-stack socket is recorded as IPv4. The kernel's types are read with
 * CO-RE (the few fields below, relocated against the running kernel's
 * BTF), so no vmlinux.h is needed.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/in6.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "wire_shared.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_RECV 3
#define AF_INET 2
#define AF_INET6 10

/* the kernel's types, only the fields read; CO-RE finds them by name */
struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	__be32 skc_daddr;
	unsigned short skc_family;
	__u16 skc_num;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mx_wire_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} wire_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MX_WIRE_ENTRIES);
	__type(key, struct mx_wire_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} wire_seen SEC(".maps");

static __always_inline int port_match(const struct mx_wire_cfg *cfg, __u16 p)
{
	int i;

#pragma unroll
	for (i = 0; i < MX_WIRE_PORTS_MAX; i++) {
		if (i >= cfg->nports)
			break;
		if (cfg->ports[i] == p)
			return 1;
	}
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(mxwall_wire, struct sock *sk, int oldstate, int newstate)
{
	struct mx_wire_key k = {};
	const struct mx_wire_cfg *cfg;
	struct in6_addr a6;
	__u32 zero = 0;
	__u64 now;

	if (oldstate != TCP_SYN_RECV || newstate != TCP_ESTABLISHED)
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	cfg = bpf_map_lookup_elem(&wire_cfg, &zero);
	if (!cfg || cfg->magic != MX_WIRE_MAGIC ||
	    cfg->layout != MX_WIRE_LAYOUT)
		return 0;
	if (!port_match(cfg, BPF_CORE_READ(sk, __sk_common.skc_num)))
		return 0;
	if (cfg->netns &&
	    BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum) != cfg->netns)
		return 0;

	switch (BPF_CORE_READ(sk, __sk_common.skc_family)) {
	case AF_INET:
		k.family = MX_WIRE_V4;
		*(__be32 *)k.addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		break;
	case AF_INET6:
		BPF_CORE_READ_INTO(&a6, sk, __sk_common.skc_v6_daddr);
		if (!a6.in6_u.u6_addr32[0] && !a6.in6_u.u6_addr32[1] &&
		    a6.in6_u.u6_addr32[2] == bpf_htonl(0xffff)) {
			/* an IPv4 client of a dual-stack socket */
			k.family = MX_WIRE_V4;
			*(__be32 *)k.addr = a6.in6_u.u6_addr32[3];
		} else {
			k.family = MX_WIRE_V6;
			__builtin_memcpy(k.addr, &a6, 16);
		}
		break;
	default:
		return 0;
	}
	now = bpf_ktime_get_boot_ns();
	bpf_map_update_elem(&wire_seen, &k, &now, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

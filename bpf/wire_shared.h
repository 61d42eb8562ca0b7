/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wire_shared.h - the record of completed SMTP handshakes: the one header
 * the tracing program (bpf/wire.bpf.c) and the controller
 * (ctl/backend/wire.c, selftests) both include.
 *
 * The watcher promotes a source only when the kernel completed a TCP
 * handshake from it to one of the SMTP ports (require_seen): a SYN alone
 * proves nothing, its source address is the sender's to choose. The
 * program runs on the inet_sock_set_state tracepoint, so the record exists
 * whichever filter backend (XDP or nft) is in use, and notes the remote
 * address of every passive SYN_RECV -> ESTABLISHED change of a TCP socket
 * on a configured port, in the network namespace given in the config.
 *
 * Records are keyed by the full address (no hash to collide with) in an
 * LRU hash, so the oldest sources go first when it is full; the value is
 * the bpf_ktime_get_boot_ns() of the latest handshake (the controller
 * honours an age limit, seen_max_age).
 *
 * Pins (in the pin directory, beside the XDP backend's, names starting
 * with MX_WIRE_PREFIX, which the XDP backend leaves alone): the two maps by
 * name and the tracing link as MX_WIRE_LINK. The record is soft state: a
 * layout change (MX_WIRE_LAYOUT) makes it again from empty.
 */
#ifndef MXWALL_WIRE_SHARED_H
#define MXWALL_WIRE_SHARED_H

#include <linux/types.h>

#define MX_WIRE_LAYOUT 1
#define MX_WIRE_MAGIC 0x6d787768U /* "mxwh" */

/* every pin of the wire record starts with this */
#define MX_WIRE_PREFIX "wire_"
#define MX_WIRE_MAP_CFG "wire_cfg"   /* array[1] of struct mx_wire_cfg */
#define MX_WIRE_MAP_SEEN "wire_seen" /* LRU hash mx_wire_key -> __u64 */
#define MX_WIRE_LINK "wire_link"     /* the tracing link */

/* sources remembered; about 100 bytes each in the kernel */
#define MX_WIRE_ENTRIES (128U * 1024)
#define MX_WIRE_PORTS_MAX 8

struct mx_wire_cfg {
	__u32 magic;  /* MX_WIRE_MAGIC; anything else: record nothing */
	__u32 layout; /* MX_WIRE_LAYOUT */
	__u32 netns;  /* inode of the network namespace; 0: every one */
	__u32 nports;
	__u16 ports[MX_WIRE_PORTS_MAX]; /* local SMTP ports, host order */
};

/* struct mx_wire_key.family */
#define MX_WIRE_V4 4
#define MX_WIRE_V6 6

struct mx_wire_key {
	__u32 family;  /* MX_WIRE_V4 or MX_WIRE_V6 */
	__u8 addr[16]; /* network order; IPv4 in the first 4 bytes, rest 0 */
};

#endif /* MXWALL_WIRE_SHARED_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * refmodel.h - a userspace reference model of the mxwall data path, written
 * from the data path's rules (mxwall(8), docs/architecture.md; not from bpf/):
 * given a frame and the table, it says what the XDP program must do with it and
 * which counters move. Used by selftests/prog/test_pktfuzz.c to judge random
 * and mutated frames.
 *
 * The model's reading of the contract:
 *  - Ethernet, then at most two 802.1Q/802.1ad tags; any other ethertype
 *    after them (a third tag included) is not ours: pass.
 *  - A frame whose ethertype says IPv4/IPv6 but whose version field, IHL,
 *    declared length or a declared header does not fit, is malformed.
 *  - IPv4: any IHL >= 5; a fragment with a non-zero offset carries no TCP
 *    header: pass, unless the fragment rule below takes it. IPv6: the extension
 * headers Linux walks before TCP (hop-by-hop, routing, fragment, AH,
 * destination options, mobility) are skipped, up to ext_max of them; a longer
 * chain cannot be classified and is malformed. A later fragment: pass, unless
 * the fragment rule takes it. ESP, no-next and any other next header: not TCP,
 * pass.
 *  - TCP: the header with its options (data offset >= 5) must fit in the
 *    frame and in the declared IP length, else malformed.
 *  - An SMTP SYN is SYN set, ACK clear, destination port in the set. Its
 *    source is looked up by longest prefix over the entries of its family;
 *    `allow` passes (counted), `drop` drops unless observe (global or per
 *    entry) makes it pass (counted). Entry counters add one packet and the
 *    declared IP length in bytes.
 *  - Fragments (RFC 1858): an IPv4 fragment with a non-zero offset of a
 *    TCP datagram, an IPv6 fragment with a non-zero offset whatever its
 *    next header (reassembly takes the first fragment's), and a first
 *    fragment (more fragments follow) without the whole header chain and
 *    TCP header (options included) inside its declared length, cannot
 *    prove they are not an SMTP SYN. From a source with an entry, such a
 *    fragment counts to the longest entry (packets, IP bytes) and is
 *    dropped, allowed or observed as a SYN would be, without counting as
 *    an SMTP SYN; from an unlisted source it
 *    keeps the class it has on its face.
 */
#ifndef MXWALL_REFMODEL_H
#define MXWALL_REFMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rm_class {
	RM_PASS,      /* not an SMTP SYN, well formed as far as it matters */
	RM_MALFORMED, /* a declared header does not fit: pass, count */
	RM_MISS,      /* SMTP SYN, no entry */
	RM_ALLOW,     /* SMTP SYN, longest match is allow */
	RM_OBSERVE,   /* SMTP SYN, drop entry in observe mode: pass */
	RM_DROP,      /* SMTP SYN, drop entry */
	RM_NCLASS
};

#define RM_ACT_DROP 1
#define RM_ACT_ALLOW 2

struct rm_entry {
	int family; /* 4 or 6 */
	int plen;
	uint8_t addr[16]; /* network order, host bits clear */
	int action;	  /* RM_ACT_* */
	bool observe;
};

struct rm_table {
	const struct rm_entry *e;
	size_t n;
	uint16_t ports[8]; /* host order */
	size_t nports;
	bool observe; /* global observe mode */
	int ext_max;  /* IPv6 extension headers walked (>= 6) */
};

struct rm_result {
	enum rm_class cls;
	int entry;	 /* index into the table, -1 none */
	uint32_t iplen;	 /* declared IP length (bytes counted) */
	int family;	 /* of an SMTP SYN: 4 or 6 */
	uint8_t src[16]; /* its source, network order */
	bool frag;	 /* a fragment taken for a possible SYN: not a "syn" */
	const char *why; /* the rule that decided, for reproducers */
};

extern const char *const rm_class_name[RM_NCLASS];

/* rm_classify - the verdict of the data path for one frame */
void rm_classify(const struct rm_table *t, const uint8_t *f, size_t len,
		 struct rm_result *r);

/* rm_lookup - index of the longest-prefix entry for src, or -1 */
int rm_lookup(const struct rm_table *t, int family, const uint8_t *src);

/* rm_in_prefix - does addr lie in addr/plen of net (bytes, network order) */
bool rm_in_prefix(const uint8_t *addr, const uint8_t *net, int plen);

#endif /* MXWALL_REFMODEL_H */

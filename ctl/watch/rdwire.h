/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rdwire.h - what the log reader (an unprivileged, seccomp-confined child
 * of `mxwall watch`, reader_proc.c) tells its parent: fixed-size typed records,
 * never log text. The parent decodes each record with rdwire_decode(),
 * which checks every field (a reader that parsed hostile text may be the
 * attacker's now) and rebuilds the scan_event the watcher consumes.
 *
 * The reader sends records in SOCK_SEQPACKET messages of 1 to RD_BATCH
 * records: a message arrives whole or not at all, so a killed reader
 * leaves a prefix of what it wrote, never half a record.
 * Callers: reader.c, reader_proc.c; selftests/unit/test_rdwire.c.
 */
#ifndef MXWALL_RDWIRE_H
#define MXWALL_RDWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/db.h"
#include "mta/scan.h"

/* records of the reader */
enum rd_type {
	RD_EVENT = 1, /* an event; pos: just past its line (pos.line: its
		       * number); lines; kind: the name it was read in */
	RD_POS,	      /* pos: just past the last line read; lines */
	RD_READY,     /* the first pass over every file is done */
	RD_EOF,	      /* every source is stdin and it ended */
	RD_OPEN,      /* please open file's name kind (enum rd_name) */
	RD_STAT,      /* please stat file's path */
	RD_WATCH,     /* please watch file's directory (inotify) */
	RD_MIDLINE,   /* stopping inside a line of file (stdin) */
	RD_TYPE_MAX = RD_MIDLINE,
};

/* the names of a log the reader may ask for: the log and its rotations */
enum rd_name {
	RD_NAME_LOG,
	RD_NAME_0,    /* NAME.0 */
	RD_NAME_1,    /* NAME.1 */
	RD_NAME_1_GZ, /* NAME.1.gz */
	RD_NAME_0_GZ, /* NAME.0.gz */
	RD_NAME_MAX = RD_NAME_0_GZ,
};
extern const char *const rd_name_suffix[RD_NAME_MAX + 1];

#define RD_TAGS 12	/* tag ids per event: 64 bytes hold no more */
#define RD_TAG_ZONE 255 /* the tag is the DNSBL zone in zone[] */
#define RD_ZONE_LEN 48
#define RD_BATCH 256 /* records per message at most */

struct rd_rec {
	uint8_t type;	      /* enum rd_type */
	uint8_t family;	      /* RD_EVENT: AF_INET or AF_INET6 */
	uint8_t mta;	      /* RD_EVENT: index in rd_mta_names */
	uint8_t kind;	      /* RD_OPEN: enum rd_name */
	uint16_t file;	      /* index of the log in the reader's list */
	uint8_t tag[RD_TAGS]; /* 1-based index in rd_tag_names, RD_TAG_ZONE;
			       * in order, 0 after the last */
	uint8_t pad[6];
	int64_t time;	  /* RD_EVENT: unix seconds */
	uint8_t addr[16]; /* RD_EVENT: network order, v4 in addr[0..3] */
	char
	    zone[RD_ZONE_LEN]; /* RD_EVENT: lower-case DNSBL zone, NUL-padded */
	struct db_pos pos;     /* RD_EVENT, RD_POS */
	uint64_t lines;	       /* RD_POS: lines read since the last RD_POS */
};
_Static_assert(sizeof(struct rd_rec) == 152, "rd_rec has no hidden padding");

extern const char *const rd_mta_names[];
extern const size_t rd_nmta;
extern const char *const rd_tag_names[];
extern const size_t rd_ntags;

/*
 * rdwire_encode - an event of the scanner as a record (reader side).
 * -EINVAL when it cannot be said in ids (a tag or MTA the tables lack):
 * a bug the property test catches.
 */
int rdwire_encode(const struct scan_event *ev, uint16_t file,
		  const struct db_pos *pos, struct rd_rec *r);

/*
 * rdwire_check - is r well-formed for a reader that follows nfiles logs
 * (parent side): a known type, file below nfiles, every field in its
 * range, padding zero; an event's address a canonical host entry, its
 * tags known ids (a zone a DNSBL name), its time within years 1970-9999
 * (a day either side for time zones), its position sane. why says what
 * was wrong (static).
 */
bool rdwire_check(const struct rd_rec *r, size_t nfiles, const char **why);

/*
 * rdwire_event - the scan_event of a checked RD_EVENT record (parent
 * side); ev->mta points to a static string.
 */
void rdwire_event(const struct rd_rec *r, struct scan_event *ev);

#endif /* MXWALL_RDWIRE_H */

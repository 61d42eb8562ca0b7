/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wire.h - the record of completed SMTP handshakes (bpf/wire.bpf.c,
 * bpf/wire_shared.h), apart from the filter backends: `attach` and `watch`
 * keep it attached whichever backend filters, `detach` removes it with
 * the last trace of the filter, and the watcher asks it before it
 * promotes a source (require_seen).
 */
#ifndef MXWALL_WIRE_H
#define MXWALL_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cidr.h"

/*
 * wire_ensure - load the recorder over the pins in pin_dir (making them
 * when missing, or again from empty when their layout is another), set
 * the port set and the calling process's network namespace, and attach
 * it; an attached older program is replaced in place, with no moment
 * without one, and the record is kept.
 */
int wire_ensure(const char *pin_dir, const uint16_t *ports, size_t nports);

struct backend;
/* wire_follow - wire_ensure with the port set of the open filter be */
int wire_follow(struct backend *be);

/* wire_remove - detach the recorder and remove its pins (and pin_dir if
 * that leaves it empty); nothing there is not an error */
int wire_remove(const char *pin_dir);

/*
 * wire_status - is the recorder attached (its link pinned), and how many
 * sources does the record hold; -ENXIO: no record in pin_dir
 */
int wire_status(const char *pin_dir, bool *attached, size_t *sources);

/*
 * A reader of the record that follows the pins: when they are made again
 * (a detach and attach, an upgrade, a backend switch) it opens the new
 * ones at its next lookup, so a running watcher needs no restart.
 */
struct wire_reader {
	const char *pin_dir;
	int fd;	   /* the map, or -1 */
	ino_t ino; /* of its pin when opened */
};

void wire_reader_init(struct wire_reader *r, const char *pin_dir);
void wire_reader_close(struct wire_reader *r);
/*
 * wire_lookup - when the kernel last completed a handshake from host to
 * an SMTP port (unix seconds). -ENOENT: none recorded; -ENXIO: there is
 * no record in pin_dir (not attached); other -errno: cannot read it.
 */
int wire_lookup(struct wire_reader *r, const struct cidr *host, int64_t *when);

#endif /* MXWALL_WIRE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * rdwire.c - the reader's records, encoded by the reader and checked
 * field by field by the parent (rdwire.h). The parent never sees text of
 * the log: an address is 16 bytes and a family, an MTA and each tag are
 * an index into a table here, and the one free-form tag, a DNSBL zone,
 * must be what scan_zone_tag() can write (lower-case host name letters
 * with a dot).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/cidr.h"
#include "core/mxwall.h"
#include "watch/rdwire.h"

const char *const rd_name_suffix[RD_NAME_MAX + 1] = {
    [RD_NAME_LOG] = "",	      [RD_NAME_0] = ".0",	[RD_NAME_1] = ".1",
    [RD_NAME_1_GZ] = ".1.gz", [RD_NAME_0_GZ] = ".0.gz",
};

/* every MTA name of scan.c's mta_name[] */
const char *const rd_mta_names[] = {
    "postfix", "exim", "sendmail", "opensmtpd", "postgrey", "courier", "qmail",
};
const size_t rd_nmta = ARRAY_SIZE(rd_mta_names);

/*
 * every fixed tag the scanners write (SCAN_TAG, scan_classify's and
 * postfix.c's tables); test_rdwire finds them in ctl/mta/ and fails on
 * one missing here. New ones go at the end (the ids are the wire's).
 */
const char *const rd_tag_names[] = {
    "auth",  "bad-helo", "bad-sender",	 "baddns",   "dialup",
    "dnsbl", "greylist", "other",	 "pregreet", "protocol",
    "relay", "spamtrap", "unknown-user", "content",
};
const size_t rd_ntags = ARRAY_SIZE(rd_tag_names);

/* the most a follower delivers as one line, and then some (follow.c) */
#define RD_LINE_MAX (1024 * 1024)
/* lines in one record: far more than a follower reads between two */
#define RD_LINES_MAX (1ULL << 32)
/* 1970-01-01 and 9999-12-31 23:59:59 UTC, a day either side */
#define RD_TIME_MIN (-86400LL)
#define RD_TIME_MAX (253402300799LL + 86400LL)

static bool zone_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '-' || c == '_';
}

static int tag_id(const char *t, size_t n)
{
	size_t i;

	for (i = 0; i < rd_ntags; i++)
		if (strlen(rd_tag_names[i]) == n &&
		    !memcmp(rd_tag_names[i], t, n))
			return (int)i + 1;
	return 0;
}

int rdwire_encode(const struct scan_event *ev, uint16_t file,
		  const struct db_pos *pos, struct rd_rec *r)
{
	const char *p = ev->tags;
	size_t i, k = 0;

	memset(r, 0, sizeof(*r));
	r->type = RD_EVENT;
	r->file = file;
	r->time = ev->time;
	r->family = ev->ip.family;
	memcpy(r->addr, ev->ip.addr, sizeof(r->addr));
	r->pos = *pos;
	for (i = 0; i < rd_nmta; i++)
		if (!strcmp(ev->mta, rd_mta_names[i]))
			break;
	if (i == rd_nmta)
		return -EINVAL;
	r->mta = (uint8_t)i;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		int id = tag_id(p, n);

		if (k == RD_TAGS)
			return -EINVAL;
		if (id) {
			r->tag[k++] = (uint8_t)id;
		} else if (!r->zone[0] && n < RD_ZONE_LEN &&
			   memchr(p, '.', n)) {
			memcpy(r->zone, p, n);
			r->tag[k++] = RD_TAG_ZONE;
		} else {
			return -EINVAL;
		}
		p += n + (c ? 1 : 0);
	}
	return k ? 0 : -EINVAL;
}

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

static bool check_zone(const char *z)
{
	size_t n = strnlen(z, RD_ZONE_LEN);
	size_t i;

	/* scan_zone_tag: at least 4 characters, a dot, no trailing dot */
	if (n < 4 || n == RD_ZONE_LEN || z[n - 1] == '.' || !memchr(z, '.', n))
		return false;
	for (i = 0; i < n; i++)
		if (!zone_char(z[i]))
			return false;
	return zero(z + n, RD_ZONE_LEN - n);
}

static bool check_event(const struct rd_rec *r, const char **why)
{
	uint64_t seen = 0;
	size_t k;

	if (r->time < RD_TIME_MIN || r->time > RD_TIME_MAX) {
		*why = "event time out of range";
		return false;
	}
	if (r->mta >= rd_nmta) {
		*why = "unknown MTA id";
		return false;
	}
	if (r->kind > RD_NAME_MAX) {
		*why = "unknown name kind";
		return false;
	}
	if (!r->lines || r->lines > RD_LINES_MAX) {
		*why = "event outside the lines read";
		return false;
	}
	if (r->family != AF_INET && r->family != AF_INET6) {
		*why = "unknown address family";
		return false;
	}
	if (r->family == AF_INET && !zero(r->addr + 4, 12)) {
		*why = "IPv4 address with bytes past the fourth";
		return false;
	}
	/*
	 * canonical: cidr_parse() makes an IPv4-mapped IPv6 address IPv4;
	 * every other 16 bytes are an IPv6 host as they are
	 */
	if (r->family == AF_INET6 && zero(r->addr, 10) && r->addr[10] == 0xff &&
	    r->addr[11] == 0xff) {
		*why = "address not in canonical form";
		return false;
	}
	for (k = 0; k < RD_TAGS && r->tag[k]; k++) {
		uint8_t t = r->tag[k];

		if (t == RD_TAG_ZONE) {
			if (seen & 1) {
				*why = "two zone tags";
				return false;
			}
			seen |= 1;
		} else if (t > rd_ntags || (seen >> t & 1)) {
			*why = t > rd_ntags ? "unknown tag id" : "repeated tag";
			return false;
		} else {
			seen |= 1ULL << t;
		}
	}
	if (!k) {
		*why = "event without a tag";
		return false;
	}
	if (!zero(r->tag + k, RD_TAGS - k)) {
		*why = "tag id after the end of the tags";
		return false;
	}
	if ((seen & 1) ? !check_zone(r->zone)
		       : !zero(r->zone, sizeof(r->zone))) {
		*why = "zone not a DNSBL name";
		return false;
	}
	return true;
}

static bool check_pos(const struct db_pos *p, const char **why)
{
	if (p->last_len > p->offset || p->last_len > RD_LINE_MAX) {
		*why = "position with an impossible last line";
		return false;
	}
	if (p->line > p->offset) {
		*why = "position after more lines than bytes";
		return false;
	}
	if (p->offset > (uint64_t)INT64_MAX) {
		*why = "position past any file";
		return false;
	}
	return true;
}

bool rdwire_check(const struct rd_rec *r, size_t nfiles, const char **why)
{
	static const char *none;

	if (!why)
		why = &none;
	if (r->type < RD_EVENT || r->type > RD_TYPE_MAX) {
		*why = "unknown record type";
		return false;
	}
	if (r->file >= nfiles) {
		*why = "file id out of range";
		return false;
	}
	if (!zero(r->pad, sizeof(r->pad))) {
		*why = "padding not zero";
		return false;
	}
	if (r->type == RD_EVENT)
		return check_event(r, why) && check_pos(&r->pos, why);
	/* the others: only their own fields may be set */
	if (r->family || r->mta || r->time || !zero(r->tag, sizeof(r->tag)) ||
	    !zero(r->addr, sizeof(r->addr)) ||
	    !zero(r->zone, sizeof(r->zone))) {
		*why = "event fields in another record";
		return false;
	}
	if (r->type != RD_OPEN && r->kind) {
		*why = "name kind outside an open request";
		return false;
	}
	if (r->type == RD_OPEN && r->kind > RD_NAME_MAX) {
		*why = "unknown name kind";
		return false;
	}
	if (r->type == RD_POS) {
		if (r->lines > RD_LINES_MAX) {
			*why = "more lines than a reader reads at once";
			return false;
		}
		return check_pos(&r->pos, why);
	}
	if (r->lines || !zero(&r->pos, sizeof(r->pos))) {
		*why = "position in a record without one";
		return false;
	}
	return true;
}

void rdwire_event(const struct rd_rec *r, struct scan_event *ev)
{
	size_t k, have = 0;

	memset(ev, 0, sizeof(*ev));
	ev->time = r->time;
	cidr_from_addr(&ev->ip, r->family, r->addr);
	ev->mta = rd_mta_names[r->mta];
	for (k = 0; k < RD_TAGS && r->tag[k]; k++) {
		const char *t = r->tag[k] == RD_TAG_ZONE
				    ? r->zone
				    : rd_tag_names[r->tag[k] - 1];
		size_t n = strnlen(t, RD_ZONE_LEN);

		if (have + (have ? 1 : 0) + n + 1 > sizeof(ev->tags))
			break; /* the scanner's list was no longer than this */
		if (have)
			ev->tags[have++] = ',';
		memcpy(ev->tags + have, t, n);
		have += n;
		ev->tags[have] = '\0';
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * scan_postgrey.c - postgrey, the greylisting policy server for Postfix.
 *
 *	[QID: ]action=greylist, reason=new, client_name=NAME,
 *	    client_address=ADDR, sender=a, recipient=b
 *
 * Fields come in the fixed order client_name, client_address, sender,
 * recipient (mylog_action()); client_name is Postfix's verified name or
 * "unknown" (no ", "), so the first ", client_address=" is the client.
 * action=pass lines are no events. Tag: greylist (recorded, not counted
 * for promotion by default).
 */
#include <string.h>

#include "mta/scan_int.h"

int scan_postgrey(struct scan_ctx *c, const struct scan_msg *m,
		  struct scan_event *ev)
{
	const char *p = m->p, *end = m->end, *q, *a;

	(void)c;
	q = p;
	while (q < end && q - p < 24 && *q != ' ' && *q != ':' && *q != '=')
		q++;
	if (q < end && *q == ':' && LIT(q, end, ": "))
		p = q + 2;
	if (!LIT(p, end, "action=greylist, "))
		return SCAN_NONE;
	q = FIND(p, end, ", client_address=");
	if (!q)
		return SCAN_UNPARSED;
	q += 17;
	/* a ',' ends the address; without one the line may be cut */
	a = memchr(q, ',', (size_t)(end - q));
	if (!a)
		return SCAN_UNPARSED;
	if (!scan_addr(q, (size_t)(a - q), &ev->ip))
		return SCAN_UNPARSED;
	SCAN_TAG(ev, "greylist");
	return SCAN_EVENT;
}

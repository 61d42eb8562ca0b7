/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mail.h - hand a text message to the local MTA with `sendmail -t -i`.
 *
 * The message gets From, To, Subject, Date, Message-ID, MIME-Version and
 * Content-Type headers; sendmail -t takes the recipients from To. Header
 * values are refused if they carry CR or LF (no header injection from a
 * configured address or a host name). A sendmail that cannot be started,
 * dies, or exits non-zero is an error: the caller decides what it means.
 * Callers: reset.c.
 */
#ifndef MXWALL_MAIL_H
#define MXWALL_MAIL_H

#include <stddef.h>

#define MAIL_SENDMAIL_DEFAULT "/usr/sbin/sendmail"

/*
 * mail_find_sendmail - the program to run: prog when it is set and not the
 * default; otherwise the first executable "sendmail" on $PATH, then
 * /usr/sbin/sendmail and /usr/lib/sendmail. -ENOENT when there is none.
 */
int mail_find_sendmail(const char *prog, char *buf, size_t len);
/*
 * mail_send - headers plus body (text, lines ending in \n) through sendmail
 * -t -i. Returns 0, or -errno with what went wrong in err ("sendmail
 * exited with status 75").
 */
int mail_send(const char *sendmail, const char *to, const char *subject,
	      const char *body, char *err, size_t errlen);

#endif /* MXWALL_MAIL_H */

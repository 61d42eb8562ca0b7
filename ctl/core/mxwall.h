/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mxwall.h - what every part of the controller shares: exit codes, the
 * defaults of the global options, the severity ladder, the fatal-on-OOM
 * allocators and the typed parsers for numbers and durations.
 *
 * Conventions: below main(), functions return 0 or -errno (NULL with errno
 * for pointers) and leave the message to the command handler, which logs it
 * once in words a user can act on.
 */
#ifndef MXWALL_H
#define MXWALL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MXWALL_VERSION "0.1.0"

/* Exit status of every command (mxwall(8) "EXIT STATUS"). */
#define EXIT_OK 0
#define EXIT_RUNTIME 1 /* the command was right, the world was not */
#define EXIT_USAGE 2   /* bad argument: one line naming it */

#define MX_PIN_DIR_DEFAULT "/sys/fs/bpf/mxwall"
#define MX_STATE_DIR_DEFAULT "/var/lib/mxwall"
#define MX_CONF_DEFAULT "/etc/mxwall/mxwall.conf"
#define MX_BLOCKLIST_DEFAULT "/etc/mxwall/blocklist"

/* how XDP is attached (attach --mode, mode = in mxwall.conf) */
enum mx_attach_mode {
	MX_MODE_AUTO = 0,
	MX_MODE_NATIVE,
	MX_MODE_GENERIC,
};

#define MX_PORTS_MAX 8 /* SMTP ports in the filter's port set */

enum mx_backend_kind {
	MX_BACKEND_AUTO = 0,
	MX_BACKEND_XDP,
	MX_BACKEND_NFT,
};

/* log.c - the severity ladder; one place decides stderr or syslog. */
enum mx_log_level { MX_LOG_DEBUG, MX_LOG_INFO, MX_LOG_WARN, MX_LOG_ERR };
void log_init(const char *progname);
void log_use_syslog(bool on);
void log_set_level(enum mx_log_level lvl);
/* log_set_verbose - -v given n times: debug messages, libbpf's too */
void log_set_verbose(int n);
void log_msg(enum mx_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum mx_log_level lvl, const char *fmt, va_list ap);
#define log_debug(...) log_msg(MX_LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(MX_LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(MX_LOG_WARN, __VA_ARGS__)
#define log_err(...) log_msg(MX_LOG_ERR, __VA_ARGS__)
/* fatal: bad configuration or startup failure, exit 1 */
void log_fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* panic: a broken invariant, abort */
void log_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* usage error: one line naming the bad argument, exit 2 */
void log_usage(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* libbpf's messages, routed through log_vmsg one level down */
void log_libbpf_quiet(bool quiet);

/* util.c - allocators that either succeed or do not return */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);

/*
 * util.c - typed parsers. Each returns 0 or -EINVAL/-ERANGE and never
 * accepts trailing garbage, signs or empty strings.
 */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* "90", "90s", "15m", "2h", "30d", "1w" -> seconds; "0" allowed */
int parse_duration(const char *s, uint64_t *secs);
/* "25,465, 587" -> ports[]; at most max entries, each 1..65535, no repeats */
int parse_ports(const char *s, uint16_t *ports, size_t max, size_t *n);
bool parse_bool(const char *s, bool *out);

/* util.c - formatting */
/* bytes as in the report: exact below 100000, then K, M, G (base 1024) */
void fmt_bytes(uint64_t v, char *buf, size_t len);
/* unix seconds -> "2026-11-23T06:55:04Z" (UTC); 0 -> "" */
void fmt_time_iso(int64_t t, char *buf, size_t len);
/* JSON string with quotes, escaping everything below 0x20, '"', '\\' */
void json_str(FILE *f, const char *s);
/* json_time - fmt_time_iso() as a JSON string; null for t <= 0 */
void json_time(FILE *f, int64_t t);
/* 123456 -> "123,456" */
void fmt_thousands(uint64_t v, char *buf, size_t len);
/* a share as stats and report print it: "60%", "7.4%", "8%", "0.05%"; "-"
 * when whole is 0 */
void fmt_pct(uint64_t part, uint64_t whole, char *buf, size_t len);

/* paths: $dir/$name into buf; -ENAMETOOLONG when it does not fit */
int path_join(char *buf, size_t len, const char *dir, const char *name);
/* mkdir -p with mode, for state and pin directories */
int mkdir_p(const char *path, unsigned int mode);
/* write_all - the whole buffer, across EINTR and short writes; -errno */
int write_all(int fd, const void *data, size_t len);
/*
 * write a file atomically: an unnamed temp file in the same directory,
 * fsync, rename; never follows a link planted at a predictable name. A
 * character device or FIFO at path is written in place, never replaced.
 */
int write_file_atomic(const char *path, const void *data, size_t len,
		      unsigned int mode);
/*
 * a directory mxwall writes into as root: owned by root (or the caller) and
 * not writable by group or others. 0, -errno, or -EPERM/-ENOTDIR with a
 * sentence for the user in why.
 */
int dir_check_private(const char *dir, char *why, size_t len);
/* mkdir_p, then dir_check_private; why says what went wrong */
int mkdir_private(const char *dir, unsigned int mode, char *why, size_t len);

/*
 * mx_now - unix seconds; the test hook fake_now (core/testhook.h: unix
 * seconds, or the path of a file holding them, read on every call)
 * replaces the clock, so that tests move time without sleeping
 */
int64_t mx_now(void);
/* mx_fake_now - the hook's time; -ENOENT without it, -EINVAL unreadable */
int mx_fake_now(int64_t *now);

/* mx_controller_pid - the running `mxwall watch` of state_dir (its
 * watch.pid, alive and an mxwall), or 0 */
long mx_controller_pid(const char *state_dir);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* MXWALL_H */

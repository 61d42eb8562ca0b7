#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# journal_export.py - turn syslog lines into the Journal Export Format
# (https://systemd.io/JOURNAL_EXPORT_FORMATS/) with the fields journald
# itself would add for a daemon logging through /dev/log, for
# systemd-journal-remote to write real journal files from:
#
#   STAMP HOST IDENT[PID]: MESSAGE   (syslog "Mmm dd hh:mm:ss" or ISO stamp)
#
# becomes an entry with __REALTIME_TIMESTAMP (from STAMP), _HOSTNAME,
# __MONOTONIC_TIMESTAMP (the host's CLOCK_MONOTONIC now, as journald
# stamps receipt), SYSLOG_IDENTIFIER, SYSLOG_PID, _PID, MESSAGE,
# _TRANSPORT=syslog and the
# trusted fields _UID, _GID, _COMM (IDENT after its last '/', as the
# kernel names postfix/smtpd's process "smtpd"), _EXE and _SYSTEMD_UNIT.
#
# usage: journal_export.py [--uid N] [--gid N] [--unit UNIT] [--comm NAME]
#                          [--exe PATH] [--follow FILE]
#   lines from stdin, or from FILE as it grows (--follow; until killed);
#   one entry per line on stdout, flushed as written.
import argparse
import calendar
import datetime
import os
import re
import sys
import time

BOOT_ID = "5e4f7b0c1a2d4e6f8091a2b3c4d5e6f7"
MACHINE_ID = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SYSLOG = re.compile(r"^([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) ([^\[: ]+)(?:\[(\d+)\])?: ?(.*)$")
ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)? (\S+) ([^\[: ]+)(?:\[(\d+)\])?: ?(.*)$")
MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1)}
mono = [0]


def parse(line):
    m = SYSLOG.match(line)
    if m:
        mon, day, hh, mi, ss, host, ident, pid, msg = m.groups()
        now = time.gmtime()
        t = calendar.timegm((now.tm_year, MONTHS[mon], int(day), int(hh), int(mi), int(ss)))
        if t > time.time() + 86400:   # December's lines read in January
            t = calendar.timegm((now.tm_year - 1, MONTHS[mon], int(day), int(hh), int(mi), int(ss)))
        return t * 1000000, host, ident, pid, msg
    m = ISO.match(line)
    if m:
        stamp, frac, zone, host, ident, pid, msg = m.groups()
        d = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S")
        off = 0
        if zone and zone != "Z":
            z = zone.replace(":", "")
            off = (int(z[1:3]) * 3600 + int(z[3:5]) * 60) * (1 if z[0] == "+" else -1)
        t = calendar.timegm(d.timetuple()) - off
        us = int((frac or "0")[:6].ljust(6, "0"))
        return t * 1000000 + us, host, ident, pid, msg
    return None


def entry(a, line):
    p = parse(line)
    if not p:
        return ""
    usec, host, ident, pid, msg = p
    # journald stamps CLOCK_MONOTONIC at receipt: increasing across
    # every writer, which is how sd-journal orders one boot's entries
    mono[0] = max(mono[0] + 1, time.monotonic_ns() // 1000)
    comm = a.comm or ident.rsplit("/", 1)[-1][:15]
    exe = a.exe or ("/usr/lib/postfix/sbin/" + comm if ident.startswith("postfix") else "/usr/sbin/" + comm)
    pid = pid or "1"
    f = [
        ("__REALTIME_TIMESTAMP", str(usec)),
        ("__MONOTONIC_TIMESTAMP", str(mono[0])),
        ("_BOOT_ID", BOOT_ID),
        ("_MACHINE_ID", MACHINE_ID),
        ("_HOSTNAME", host),
        ("_TRANSPORT", "syslog"),
        ("PRIORITY", "6"),
        ("SYSLOG_FACILITY", "2"),
        ("SYSLOG_IDENTIFIER", ident),
        ("SYSLOG_PID", pid),
        ("_PID", pid),
        ("_UID", str(a.uid)),
        ("_GID", str(a.gid)),
        ("_COMM", comm),
        ("_EXE", exe),
        ("_CMDLINE", comm),
        ("_SYSTEMD_UNIT", a.unit),
        ("_SYSTEMD_SLICE", "system.slice" if a.unit.endswith(".service") else "user-1000.slice"),
        ("MESSAGE", msg),
    ]
    return "".join("%s=%s\n" % kv for kv in f) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uid", type=int, default=102)
    ap.add_argument("--gid", type=int, default=105)
    ap.add_argument("--unit", default="postfix@-.service")
    ap.add_argument("--comm")
    ap.add_argument("--exe")
    ap.add_argument("--follow")
    a = ap.parse_args()
    out = sys.stdout
    if not a.follow:
        for line in sys.stdin:
            out.write(entry(a, line.rstrip("\n")))
            out.flush()
        return
    while not os.path.exists(a.follow):
        time.sleep(0.05)
    with open(a.follow) as f:
        buf = ""
        while True:
            chunk = f.readline()
            if not chunk:
                time.sleep(0.05)
                continue
            buf += chunk
            if not buf.endswith("\n"):
                continue
            out.write(entry(a, buf.rstrip("\n")))
            out.flush()
            buf = ""


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, KeyboardInterrupt):
        pass

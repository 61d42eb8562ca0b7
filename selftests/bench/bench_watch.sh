#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_watch.sh - the controller's speed, end to end through a real log
# file and the XDP backend's pinned maps (own pin dir, nothing attached):
#  - latency: from appending the line that crosses the threshold to the
#    entry being in the filter, median and max over 100 trials (target
#    < 100 ms). The watcher commits a promotion right after the map update,
#    so "committed in the database" is seen no earlier than "in the map";
#    the numbers are an upper bound. The 100 entries are then checked in
#    the map with `mxwall list`.
#  - ingest: events per second from lines appended in bulk to all of them
#    committed (events and read position).
#  - promotion: events per second when every fifth line promotes a source.
set -u
cd "$(dirname "$0")/../.." || exit 2
[ "$(id -u)" = 0 ] || { echo "bench_watch: needs root"; exit 1; }
[ -x build/mxwall ] || { echo "bench_watch: build/mxwall missing"; exit 1; }
D=$(mktemp -d /tmp/mxwall-bench-watch.XXXXXX)
cp build/mxwall "$D/mxwall"
export MXWALL_PIN_DIR=/sys/fs/bpf/mxwall-bench-$$
export MXWALL_STATE_DIR=$D/state
WPID=
cleanup() {
	[ -n "$WPID" ] && kill -9 "$WPID" 2>/dev/null && wait "$WPID" 2>/dev/null
	rm -rf "$MXWALL_PIN_DIR" "$D"
}
trap cleanup EXIT

python3 - "$D" <<'PY'
import os, sqlite3, statistics, subprocess, sys, time

d = sys.argv[1]
mx = os.path.join(d, "mxwall")
log = os.path.join(d, "mail.log")
conf = os.path.join(d, "mxwall.conf")
dbp = os.path.join(d, "state", "mxwall.db")
open(log, "w").close()
with open(conf, "w") as f:
    f.write("log = %s\nthreshold = 3\nrequire_seen = no\n"
            "max_promotions_per_hour = 10000000\nblocklist = %s/none\n" % (log, d))

def line(ip):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return ("%s.000000+00:00 mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from "
            "unknown[%s]: 554 5.7.1 <x@example.org>: Relay access denied; "
            "from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h>\n" % (t, ip))

err = open(os.path.join(d, "watch.err"), "w")
w = subprocess.Popen([mx, "watch", "--config", conf], stderr=err)
with open(os.path.join(d, "pid"), "w") as f:
    f.write(str(w.pid))
for _ in range(400):
    if "following" in open(os.path.join(d, "watch.err")).read():
        break
    time.sleep(0.05)
else:
    print("bench_watch: watcher did not start"); sys.exit(1)
db = sqlite3.connect(dbp, timeout=5)

def q(sql):
    return db.execute(sql).fetchone()[0]

def wait_for(sql, want, limit=120):
    t0 = time.monotonic()
    while q(sql) < want:
        if time.monotonic() - t0 > limit:
            return False
        time.sleep(0.0005)
    return True

# latency: 2 lines (below threshold 3), wait until committed, then the 3rd
lat = []
fd = os.open(log, os.O_WRONLY | os.O_APPEND)
for i in range(100):
    ip = "10.200.%d.%d" % (i // 250, i % 250 + 1)
    os.write(fd, (line(ip) * 2).encode())
    if not wait_for("SELECT count(*) FROM events", 3 * i + 2):
        print("bench_watch: events not committed"); sys.exit(1)
    t0 = time.monotonic()
    os.write(fd, line(ip).encode())
    if not wait_for("SELECT count(*) FROM entries WHERE cidr = '%s'" % ip, 1, 10):
        print("bench_watch: %s not promoted" % ip); sys.exit(1)
    lat.append((time.monotonic() - t0) * 1000)
listed = subprocess.run([mx, "list"], capture_output=True, text=True).stdout
inmap = sum(1 for i in range(100)
            if ("10.200.%d.%d " % (i // 250, i % 250 + 1)) in listed)
print("latency append->filter (100 trials): median %.1f ms, max %.1f ms, "
      "p90 %.1f ms (target < 100 ms); %d/100 entries in the map"
      % (statistics.median(lat), max(lat), sorted(lat)[89], inmap))

# ingest: N events, no promotion (each source 2 lines, threshold 3)
N = 100000
base = q("SELECT count(*) FROM events")
buf = "".join(line("10.%d.%d.%d" % (101 + k // 65000, (k // 250) % 256, k % 250 + 1)) * 2
              for k in range(N // 2))
t0 = time.monotonic()
os.write(fd, buf.encode())
wait_for("SELECT count(*) FROM events", base + N, 300)
dt = time.monotonic() - t0
print("ingest: %d events in %.2f s = %.0f events/s (committed with positions)"
      % (N, dt, N / dt))

# promotion: every source crosses the threshold (3 lines each)
P = 5000
base = q("SELECT count(*) FROM events")
basep = q("SELECT count(*) FROM entries")
buf = "".join(line("10.150.%d.%d" % (k // 250, k % 250 + 1)) * 3 for k in range(P))
t0 = time.monotonic()
os.write(fd, buf.encode())
wait_for("SELECT count(*) FROM entries", basep + P, 600)
dt = time.monotonic() - t0
print("promotion: %d events -> %d promotions in %.2f s = %.0f events/s, %.0f promotions/s"
      % (3 * P, P, dt, 3 * P / dt, P / dt))
w.terminate()
w.wait()
PY
rc=$?
WPID=
exit $rc

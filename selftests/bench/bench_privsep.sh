#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench_privsep.sh - what the privilege separation of `mxwall watch` costs
# (mxwall(8) SECURITY): lines per second read, parsed and committed by the
# split watcher (an unprivileged reader process under seccomp sending
# records to the watcher) against the same binary parsing in its own
# process (the test hook MXWALL_TEST_HOOKS=reader_inline), side by side in one run: rounds
# alternate between the two, each on a fresh state directory, and the
# median of each is compared. Two logs: every line a rejection (the worst
# case: one record per line), and one rejection in ten lines among
# deliveries and connects (closer to a real MTA log).
#
# A round: the watcher follows an empty log ("following"), N lines are
# appended in one write, and the clock stops when the committed read
# position reaches the end of the log. Target: the split costs under 10%.
# A benchmark measures: the ratio is reported, never failed on; it exits
# non-zero only when a round breaks (a watcher that does not start or does
# not read everything).
#
# usage: selftests/bench/bench_privsep.sh [LINES [ROUNDS]]   (root: BPF maps)
set -u
cd "$(dirname "$0")/../.." || exit 2
N=${1:-200000}
ROUNDS=${2:-3}
[ "$(id -u)" = 0 ] || { echo "bench_privsep: needs root (BPF maps)"; exit 1; }
[ -x build/mxwall ] || { echo "bench_privsep: build/mxwall not built"; exit 1; }
D=$(mktemp -d /tmp/mxwall-bench-privsep.XXXXXX)
cp build/mxwall "$D/mxwall"
export MXWALL_PIN_DIR=/sys/fs/bpf/mxwall-bench-privsep-$$
export MXWALL_TEST_HOOKS=${MXWALL_TEST_HOOKS:+$MXWALL_TEST_HOOKS,}capacity=65536
cleanup() {
	[ -e "$D/pid" ] && kill -9 "$(cat "$D/pid")" 2>/dev/null
	rm -rf "$MXWALL_PIN_DIR" "$D"
}
trap cleanup EXIT

python3 - "$D" "$N" "$ROUNDS" <<'PY'
import os, sqlite3, statistics, subprocess, sys, time

d, N, ROUNDS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mx = os.path.join(d, "mxwall")
T = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

def reject(k):
    return ("%s.000000+00:00 mx postfix/smtpd[4242]: NOQUEUE: reject: RCPT from "
            "unknown[10.%d.%d.%d]: 554 5.7.1 <x@example.org>: Relay access denied; "
            "from=<a@b.example> to=<x@example.org> proto=ESMTP helo=<h>\n"
            % (T, 100 + k // 65000, (k // 250) % 256, k % 250 + 1))

def other(k):
    if k % 2:
        return ("%s.000000+00:00 mx postfix/smtp[4243]: 4Bq%07X: to=<u%d@example.net>, "
                "relay=mx.example.net[192.0.2.7]:25, delay=0.4, delays=0.1/0/0.1/0.2, "
                "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4BqZ)\n" % (T, k, k))
    return ("%s.000000+00:00 mx postfix/smtpd[4244]: connect from "
            "host%d.example.com[198.51.100.%d]\n" % (T, k, k % 250 + 1))

logs = {
    "every line a rejection": "".join(reject(k) for k in range(N)).encode(),
    "one rejection in ten": "".join(reject(k) if k % 10 == 0 else other(k)
                                    for k in range(N)).encode(),
}

def one_round(name, data, inline):
    run = os.path.join(d, "r")
    subprocess.run(["rm", "-rf", run])
    os.makedirs(run)
    log = os.path.join(run, "mail.log")
    conf = os.path.join(run, "mxwall.conf")
    open(log, "w").close()
    with open(conf, "w") as f:
        f.write("log = %s\nthreshold = 1000000\nrequire_seen = no\n"
                "commit_interval = 50\nblocklist = %s/none\n" % (log, run))
    env = dict(os.environ, MXWALL_STATE_DIR=os.path.join(run, "state"))
    # the hooks exported above (capacity), and the reader inline or not
    hooks = [h for h in os.environ.get("MXWALL_TEST_HOOKS", "").split(",")
             if h and h != "reader_inline"]
    if inline:
        hooks.append("reader_inline")
    env["MXWALL_TEST_HOOKS"] = ",".join(hooks)
    errp = os.path.join(run, "watch.err")
    w = subprocess.Popen([mx, "watch", "--config", conf], env=env,
                         stderr=open(errp, "w"))
    with open(os.path.join(d, "pid"), "w") as f:
        f.write(str(w.pid))
    for _ in range(400):
        if "following" in open(errp).read():
            break
        time.sleep(0.02)
    else:
        print("bench_privsep: watcher did not start: " + open(errp).read())
        sys.exit(1)
    db = sqlite3.connect(os.path.join(run, "state", "mxwall.db"), timeout=5)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    t0 = time.monotonic()
    os.write(fd, data)
    os.close(fd)
    while True:
        r = db.execute("SELECT offset FROM positions").fetchone()
        if r and r[0] >= len(data):
            break
        if time.monotonic() - t0 > 300:
            print("bench_privsep: %s did not read everything" % name)
            sys.exit(1)
        time.sleep(0.002)
    dt = time.monotonic() - t0
    db.close()
    w.terminate()
    w.wait()
    os.unlink(os.path.join(d, "pid"))
    return N / dt

print("%d lines per round, %d rounds each, alternating (%s)" %
      (N, ROUNDS, os.uname().release))
for name, data in logs.items():
    split, inline = [], []
    for i in range(ROUNDS):
        # alternate which goes first, so that drift hits both alike
        for mode in ((False, True) if i % 2 == 0 else (True, False)):
            (inline if mode else split).append(one_round(name, data, mode))
    ms, mi = statistics.median(split), statistics.median(inline)
    print("%-24s in one process %8.0f lines/s, split %8.0f lines/s: "
          "the split costs %+.1f%% (target under 10%%)"
          % (name + ":", mi, ms, (mi - ms) / mi * 100))
    print("%-24s rounds: one process %s; split %s" % ("",
          " ".join("%.0f" % x for x in inline), " ".join("%.0f" % x for x in split)))
PY

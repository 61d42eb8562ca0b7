# SPDX-License-Identifier: GPL-2.0
#
# corpus_check.py - run `mxwall scan --json` over the third-party MTA log
# corpus (selftests/scan/corpus: data of other projects, licences in
# its README.md, fail2ban/LICENSE-NOTE.md and other/NOTE.md) and check every
# annotated line:
#
#   - an annotated hostile line (fail2ban match in any mode, sshguard
#     match, grok client_ip on an inbound line) must yield exactly its
#     host, unless selftests/scan/corpus-exclusions.txt says "skip" with
#     a reason;
#   - a line fail2ban must not match, a non-inbound grok line, a line
#     without a client yields nothing, unless the exclusions say
#     "report=IP" (we count it, with a reason) - and then exactly IP;
#   - no line ever yields a wrong host, and no grok other_ip (a remote
#     server we deliver to) is ever reported;
#   - syslog lines get fail2ban's year (file mtime = its TEST_NOW).
#
# Prints a score per MTA and "N passed, N failed".
import collections
import ipaddress
import json
import os
import subprocess
import sys
import tempfile

TEST_NOW = 1124013600  # fail2ban's tests fix "now" at 2005-08-14 10:00 UTC
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "selftests", "scan", "corpus")
MXWALL = os.environ.get("MXWALL", os.path.join(ROOT, "build", "mxwall"))
EXCL = os.path.join(ROOT, "selftests", "scan", "corpus-exclusions.txt")

passed = 0
failed = 0


def fail(msg):
    global failed
    failed += 1
    print("FAIL - " + msg)


def ok():
    global passed
    passed += 1


def canon(ip):
    a = ipaddress.ip_address(ip)
    if a.version == 6 and a.ipv4_mapped:
        a = a.ipv4_mapped
    return str(a)


def die(msg):
    print("ERROR: " + msg)
    print("0 passed, 1 failed")
    sys.exit(1)


def load_exclusions():
    """KEY<TAB>skip|report=IP<TAB>reason; KEY = file:lineno, file or mta:NAME"""
    ex = {}
    with open(EXCL) as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or not parts[2].strip():
                die("%s:%d: expected KEY<TAB>ACTION<TAB>REASON" % (EXCL, n))
            key, action, reason = parts
            if action != "skip" and not action.startswith("report="):
                die("%s:%d: action must be skip or report=IP" % (EXCL, n))
            ex[key] = (action, reason, n)
    return ex


PREFIX_PROG = {"exim": "exim", "sendmail": "sm-mta", "postfix": "postfix/smtpd",
               "opensmtpd": "smtpd", "qmail": "qmail", "courier": "courieresmtpd"}


def has_stamp(line):
    if len(line) > 15 and line[:3].isalpha() and line[3] == " " and line[6] == " " or \
            len(line) > 15 and line[:3].isalpha() and line[3] == " " and line[5] == " ":
        return True
    return len(line) > 19 and line[:4].isdigit() and line[4] == "-"


def run_scan(lines):
    """feed lines as one file; return {lineno: [event, ...]}"""
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False,
                                     encoding="utf-8", errors="surrogateescape") as f:
        for l in lines:
            f.write(l + "\n")
        path = f.name
    try:
        os.utime(path, (TEST_NOW, TEST_NOW))
        env = dict(os.environ, TZ="UTC")
        p = subprocess.run([MXWALL, "scan", "--json", path], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            die("mxwall scan exited %d: %s" % (p.returncode, p.stderr.decode()))
        out = collections.defaultdict(list)
        for l in p.stdout.decode().splitlines():
            ev = json.loads(l)
            out[ev["line"]].append(ev)
        return out
    finally:
        os.unlink(path)


def main():
    if not os.path.isdir(CORPUS):
        die("corpus not found at %s" % CORPUS)
    if not os.access(MXWALL, os.X_OK):
        die("%s not built (run make)" % MXWALL)
    ex = load_exclusions()
    used = set()
    score = collections.defaultdict(lambda: [0, 0])  # mta -> [matched, expected]
    skipped = collections.Counter()  # mta -> annotated hostile lines excluded

    recs = []
    hosts = {}  # the same text flagged in another fail2ban mode names the host
    with open(os.path.join(CORPUS, "expected.jsonl")) as f:
        raw = [json.loads(l) for l in f]
    for d in raw:
        if d["host"]:
            hosts[(d["file"], d["line"])] = d["host"]
    for d in raw:
        if True:
            d["key"] = "%s:%d" % (d["file"], d["lineno"])
            d["feed"] = d["line"]
            host = d["host"] or hosts.get((d["file"], d["line"]))
            d["want"] = canon(host) if d["match_any_mode"] and host else None
            d["never"] = None
            recs.append(d)
    with open(os.path.join(CORPUS, "other", "expected-other.jsonl")) as f:
        for l in f:
            d = json.loads(l)
            line = d["line"]
            if d["source"] == "sshguard":
                d["key"] = "%s:%d" % (d["file"], d["lineno"])
                d["want"] = canon(d["host"]) if d.get("match") and d.get("host") else None
                d["never"] = None
                if not has_stamp(line):
                    line = "Aug 14 09:00:00 mx %s[1]: %s" % (PREFIX_PROG[d["mta"]], line)
                d["time_norm"] = None
            else:
                d["key"] = d["file"]
                d["want"] = canon(d["client_ip"]) if d.get("client_ip") else None
                d["never"] = canon(d["other_ip"]) if d.get("other_ip") else None
                prog = d.get("program") or "postfix/smtpd"
                line = "Aug 14 09:00:00 mx %s[1]: %s" % (prog, line)
                d["time_norm"] = None
            d["feed"] = line
            recs.append(d)

    # one scanner run per source file, lines in file order (cross-line state)
    byfile = collections.OrderedDict()
    for d in recs:
        byfile.setdefault(d["file"], []).append(d)
    for fname, group in byfile.items():
        res = run_scan([d["feed"] for d in group])
        for i, d in enumerate(group, 1):
            d["got"] = res.get(i, [])

    for d in recs:
        mta = d.get("mta") or "postfix"
        key = d["key"]
        e = ex.get(key) or ex.get(d["file"]) or ex.get("mta:" + mta)
        for k in (key, d["file"], "mta:" + mta):
            if k in ex:
                used.add(k)
                break
        got = d["got"]
        ips = [g["ip"] for g in got]
        desc = "%s: %s" % (key, d["line"][:120])
        if len(got) > 1:
            fail("%s: %d events for one line" % (desc, len(got)))
            continue
        if d["never"] and d["never"] in ips:
            fail("%s: reported remote server %s" % (desc, d["never"]))
            continue
        want = d["want"]
        if e and e[0].startswith("report="):
            want = canon(e[0][7:])
        if want:
            if e and e[0] == "skip":
                skipped[mta] += 1
                if ips and ips != [want]:
                    fail("%s: excluded line yields wrong host %s (want %s)" % (desc, ips, want))
                else:
                    ok()
                continue
            score[mta][1] += 1
            if ips == [want]:
                score[mta][0] += 1
                ok()
                tn = d.get("time_norm")
                if tn:
                    import datetime
                    t = datetime.datetime.strptime(tn, "%Y-%m-%dT%H:%M:%S")
                    exp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if got[0]["time"] != exp:
                        fail("%s: time %s, expected %s" % (desc, got[0]["time"], exp))
                    else:
                        ok()
                if not got[0]["tags"]:
                    fail("%s: empty tags" % desc)
            elif ips:
                fail("%s: yields %s, expected %s" % (desc, ips, want))
            else:
                fail("%s: yields nothing, expected %s (add it to the exclusions with a reason if intended)" % (desc, want))
        else:
            if ips:
                fail("%s: yields %s but no event expected" % (desc, ips))
            else:
                ok()

    for k, (action, reason, n) in ex.items():
        if k not in used:
            fail("%s:%d: exclusion %s matches no corpus line" % (EXCL, n, k))

    print("corpus score (lines yielding the annotated host / annotated hostile lines not excluded):")
    for mta in sorted(set(score) | set(skipped)):
        m, e = score[mta]
        print("  %-10s %3d/%3d   (%d more excluded)" % (mta, m, e, skipped[mta]))
    nskip = sum(1 for v in ex.values() if v[0] == "skip")
    nrep = sum(1 for v in ex.values() if v[0] != "skip")
    print("  exclusions: %d skip, %d report" % (nskip, nrep))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


main()

# SPDX-License-Identifier: GPL-2.0
#
# gen_postfix_log.py - write a realistic Postfix mail log of N lines to
# stdout for bench_scan.sh: accepted mail (postscreen, smtpd connect,
# client=, cleanup, qmgr, smtp/lmtp delivery, disconnect) mixed with what
# a busy MX sees from bots (postscreen DNSBL/PREGREET/HANGUP, RBL, HELO,
# relay and unknown-user rejects, SASL failures, lost connections,
# outbound deferrals that must not count). Deterministic (fixed seed).
#
# usage: python3 gen_postfix_log.py N > FILE
import random
import sys

n = int(sys.argv[1])
rnd = random.Random(42)
out = sys.stdout
months = ["Nov"]
lines = 0
t = 0


def stamp():
    global t
    t += rnd.randint(0, 2)
    s = t % 86400
    d = 1 + (t // 86400) % 28
    return "Nov %2d %02d:%02d:%02d" % (d, s // 3600, s // 60 % 60, s % 60)


def emit(prog, pid, msg):
    global lines
    out.write("%s mx1 postfix/%s[%d]: %s\n" % (stamp(), prog, pid, msg))
    lines += 1


def ip():
    if rnd.random() < 0.1:
        return "2001:db8:%x:%x::%x" % (rnd.randint(0, 65535), rnd.randint(0, 65535), rnd.randint(1, 65535))
    return "%d.%d.%d.%d" % (rnd.randint(1, 223), rnd.randint(0, 255), rnd.randint(0, 255), rnd.randint(1, 254))


def qid():
    return "%X" % rnd.randint(0x10000000, 0xFFFFFFFFF)


def name():
    return rnd.choice(["unknown", "mail.example.com", "mx%d.example.net" % rnd.randint(1, 99),
                       "host-%d.dyn.example.org" % rnd.randint(1, 9999)])


zones = ["zen.spamhaus.org", "b.barracudacentral.org", "bl.spamcop.net"]
while lines < n:
    r = rnd.random()
    pid = rnd.randint(1000, 60000)
    a = ip()
    h = name()
    port = rnd.randint(1024, 65535)
    if r < 0.40:  # accepted message, full path
        emit("postscreen", pid, "CONNECT from [%s]:%d to [192.0.2.1]:25" % (a, port))
        emit("postscreen", pid, "PASS OLD [%s]:%d" % (a, port))
        emit("smtpd", pid + 1, "connect from %s[%s]" % (h, a))
        q = qid()
        emit("smtpd", pid + 1, "%s: client=%s[%s]" % (q, h, a))
        emit("cleanup", pid + 2, "%s: message-id=<%d@%s>" % (q, rnd.randint(1, 10**9), h))
        emit("qmgr", 900, "%s: from=<user%d@example.org>, size=%d, nrcpt=1 (queue active)" % (q, rnd.randint(1, 999), rnd.randint(500, 90000)))
        emit("lmtp", pid + 3, "%s: to=<rcpt%d@example.com>, relay=mail.example.com[private/dovecot-lmtp], delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)" % (q, rnd.randint(1, 500)))
        emit("qmgr", 900, "%s: removed" % q)
        emit("smtpd", pid + 1, "disconnect from %s[%s] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7" % (h, a))
    elif r < 0.52:  # outbound mail, remote servers (never events)
        q = qid()
        emit("pickup", pid, "%s: uid=1000 from=<me>" % q)
        emit("qmgr", 900, "%s: from=<me@example.com>, size=1234, nrcpt=1 (queue active)" % q)
        if rnd.random() < 0.3:
            emit("smtp", pid + 1, "%s: host mx.remote.example[%s] said: 450 4.7.1 <x@remote.example>: Recipient address rejected: Greylisted (in reply to RCPT TO command)" % (q, a))
        emit("smtp", pid + 1, "%s: to=<x@remote.example>, relay=mx.remote.example[%s]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %s)" % (q, a, qid()))
        emit("qmgr", 900, "%s: removed" % q)
    elif r < 0.64:  # postscreen bot
        emit("postscreen", pid, "CONNECT from [%s]:%d to [192.0.2.1]:25" % (a, port))
        k = rnd.random()
        if k < 0.4:
            emit("postscreen", pid, "DNSBL rank %d for [%s]:%d" % (rnd.randint(1, 6), a, port))
            emit("postscreen", pid, "NOQUEUE: reject: RCPT from [%s]:%d: 550 5.7.1 Service unavailable; client [%s] blocked using %s; from=<a@b.example>, to=<c@example.com>, proto=ESMTP, helo=<x>" % (a, port, a, rnd.choice(zones)))
        elif k < 0.7:
            emit("postscreen", pid, "PREGREET 11 after 0.2 from [%s]:%d: EHLO user\\r\\n" % (a, port))
        else:
            emit("postscreen", pid, "HANGUP after 2.1 from [%s]:%d in tests after SMTP handshake" % (a, port))
        emit("postscreen", pid, "DISCONNECT [%s]:%d" % (a, port))
    elif r < 0.84:  # smtpd rejects
        emit("smtpd", pid, "connect from %s[%s]" % (h, a))
        k = rnd.random()
        if k < 0.3:
            emit("smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 554 5.7.1 Service unavailable; Client host [%s] blocked using %s; https://example/q?ip=%s; from=<s@spam.example> to=<u@example.com> proto=ESMTP helo=<%s>" % (h, a, a, rnd.choice(zones), a, h))
        elif k < 0.5:
            emit("smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 550 5.1.1 <nouser%d@example.com>: Recipient address rejected: User unknown in virtual mailbox table; from=<s@spam.example> to=<nouser@example.com> proto=ESMTP helo=<%s>" % (h, a, rnd.randint(1, 999), h))
        elif k < 0.65:
            emit("smtpd", pid, "NOQUEUE: reject: RCPT from %s[%s]: 554 5.7.1 <x@other.example>: Relay access denied; from=<s@spam.example> to=<x@other.example> proto=SMTP helo=<[%s]>" % (h, a, a))
        elif k < 0.8:
            emit("smtpd", pid, "NOQUEUE: reject: EHLO from %s[%s]: 504 5.5.2 <WIN-X>: Helo command rejected: need fully-qualified hostname; proto=SMTP helo=<WIN-X>" % (h, a))
        else:
            emit("smtpd", pid, "NOQUEUE: reject: RCPT from unknown[%s]: 450 4.7.25 Client host rejected: cannot find your hostname, [%s]; from=<s@spam.example> to=<u@example.com> proto=ESMTP helo=<x>" % (a, a))
        emit("smtpd", pid, "disconnect from %s[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4" % (h, a))
    elif r < 0.92:  # SASL brute force on submission
        emit("submission/smtpd", pid, "connect from unknown[%s]" % a)
        emit("submission/smtpd", pid, "warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6" % a)
        emit("submission/smtpd", pid, "lost connection after AUTH from unknown[%s]" % a)
        emit("submission/smtpd", pid, "disconnect from unknown[%s] ehlo=1 auth=0/1 commands=1/2" % a)
    elif r < 0.97:  # scanners
        emit("smtpd", pid, "connect from unknown[%s]" % a)
        emit("smtpd", pid, "lost connection after CONNECT from unknown[%s]" % a)
        emit("smtpd", pid, "disconnect from unknown[%s] commands=0/0" % a)
    else:
        emit("anvil", 800, "statistics: max connection rate 3/60s for (smtp:%s) at Nov  1 00:00:00" % a)
        emit("smtpd", pid, "warning: hostname %s does not resolve to address %s: Name or service not known" % (h, a))

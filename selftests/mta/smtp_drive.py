#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""smtp_drive.py - one SMTP client misbehaviour against a real MTA.

usage: smtp_drive.py HOST PORT SOURCE SCENARIO [DOMAIN]

Connects from SOURCE (a loopback address of its own per scenario, so the
log's events can be told apart) and plays SCENARIO; DOMAIN is the MTA's
local domain (default test.example) with users alice and bob. Replies are
read but not asserted: the test checks what the MTA logged. Written-in
addresses use 203.0.113.0/24 and 198.51.100.0/24, which must never be
reported. Prints the conversation to stdout for the test's log.
"""
import base64
import socket
import sys
import time

FORGED = "203.0.113.9"


class Session:
    def __init__(self, host, port, src, greet=True):
        self.s = socket.create_connection((host, port), timeout=10,
                                          source_address=(src, 0))
        self.f = self.s.makefile("rb")
        if greet:
            self.reply()

    def reply(self):
        """one (multi-line) reply; '' when the server closed"""
        out = []
        try:
            while True:
                ln = self.f.readline()
                if not ln:
                    break
                ln = ln.decode("latin-1").rstrip("\r\n")
                out.append(ln)
                print("<- " + ln)
                if len(ln) < 4 or ln[3] != "-":
                    break
        except (socket.timeout, ConnectionError):
            pass
        return out[-1] if out else ""

    def raw(self, data):
        try:
            self.s.sendall(data.encode("latin-1"))
        except (BrokenPipeError, ConnectionError):
            return False
        return True

    def cmd(self, line):
        print("-> " + line)
        if not self.raw(line + "\r\n"):
            return ""
        return self.reply()

    def close(self):
        try:
            self.cmd("QUIT")
        finally:
            self.s.close()


def b64(s):
    return base64.b64encode(s.encode("latin-1")).decode()


def mail(c, frm, rcpts, data=True, helo="client.test.example"):
    c.cmd("EHLO " + helo)
    r = c.cmd("MAIL FROM:<%s>" % frm)
    ok = False
    for t in rcpts:
        if c.cmd("RCPT TO:<%s>" % t).startswith("25"):
            ok = True
    if data and ok and c.cmd("DATA").startswith("354"):
        c.raw("From: <%s>\r\nTo: <%s>\r\nSubject: test\r\n\r\nhello\r\n"
              % (frm, rcpts[0]))
        c.cmd(".")
    return r


def run(host, port, src, name, dom):
    me, you = "alice@" + dom, "bob@" + dom
    if name == "pregreet":
        c = Session(host, port, src, greet=False)
        print("-> EHLO (before the greeting)")
        c.raw("EHLO early.example\r\n")
        time.sleep(0.2)
        c.raw("MAIL FROM:<%s>\r\n" % me)
        c.reply()
        c.reply()
        c.s.close()
        return
    c = Session(host, port, src)
    if name == "clean":
        mail(c, me, [you])
    elif name == "clean-auth":
        c.cmd("EHLO client.test.example")
        c.cmd("AUTH PLAIN " + b64("\0alice\0secret"))
        c.cmd("MAIL FROM:<%s>" % me)
        c.cmd("RCPT TO:<bob@elsewhere.example>")
        c.cmd("RSET")
    elif name == "unknown-user":
        mail(c, me, ["nosuchuser@" + dom])
    elif name == "relay":
        mail(c, me, ["victim@elsewhere.example"])
    elif name == "relay-greylist-rcpt":
        mail(c, me, ["greylist1@victim.example",
                                        "\"blocked using t1.example\"@victim.example"])
    elif name == "bad-helo":
        c.cmd("EHLO localhost")
    elif name == "invalid-helo":
        c.cmd("EHLO bad_helo!name")
        c.cmd("HELO a b c")
    elif name == "bad-helo-mail":
        mail(c, me, [you], helo="localhost")
    elif name == "invalid-helo-mail":
        mail(c, me, [you], helo="bad_helo!name")
    elif name == "bad-sender":
        mail(c, "someone@nx.invalid", [you])
    elif name == "blocked-sender":
        mail(c, "someone@spam.example", [you])
    elif name == "auth":
        c.cmd("EHLO client.test.example")
        c.cmd("AUTH PLAIN " + b64("\0alice\0wrong"))
    elif name == "auth-login":
        c.cmd("EHLO client.test.example")
        c.cmd("AUTH LOGIN")
        c.cmd(b64("alice"))
        c.cmd(b64("wrong"))
    elif name == "unknown-commands":
        c.cmd("EHLO client.test.example")
        for w in ("FOO", "BAR x", "BAZ", "QUUX", "XYZZY"):
            if not c.cmd(w):
                break
    elif name == "syntax":
        c.cmd("EHLO client.test.example")
        c.cmd("MAIL FROM:garbage here")
        c.cmd("RCPT TO:<%s>" % you)
        c.cmd("MAIL FROM:<<<")
    elif name == "no-mail":
        c.cmd("EHLO client.test.example")
    elif name == "forged-helo":
        mail(c, me, ["victim@elsewhere.example"], helo="[%s]" % FORGED)
    elif name == "forged-helo-name":
        c.cmd("EHLO x.example[%s] relay=[%s] H=[%s]" % (FORGED, FORGED, FORGED))
        c.cmd("EHLO unknown[%s]" % FORGED)
        c.cmd("MAIL FROM:<%s>" % me)
        c.cmd("RCPT TO:<v@elsewhere.example>")
    elif name == "forged-mail":
        mail(c, "x@[%s]" % FORGED, ["victim@elsewhere.example"])
        c.cmd("RSET")
        mail(c, "\"H=[%s] relay=[%s]\"@x.example" % (FORGED, FORGED),
             ["nosuchuser@" + dom])
    elif name == "forged-rcpt":
        mail(c, me, ["\"from x[%s] relay=[%s]\"@elsewhere.example"
                     % (FORGED, FORGED), "a@[%s]" % FORGED])
    elif name == "forged-auth":
        c.cmd("EHLO client.test.example")
        c.cmd("AUTH PLAIN " + b64("\0[%s] relay=[%s]\0wrong" % (FORGED, FORGED)))
        c.cmd("AUTH LOGIN")
        c.cmd(b64("user=x, relay=[%s]" % FORGED))
        c.cmd(b64("wrong"))
    elif name == "greylist":
        mail(c, me, ["grey@" + dom])
    elif name == "tempfail":
        mail(c, me, ["lookupfail@" + dom])
    elif name == "connect-only":
        pass
    else:
        sys.exit("unknown scenario " + name)
    c.close()


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    try:
        run(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4],
            sys.argv[5] if len(sys.argv) > 5 else "test.example")
    except (OSError, socket.timeout) as e:
        print("connection: %s" % e)

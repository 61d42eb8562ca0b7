#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dnsq.py SERVER PORT NAME TYPE - one DNS query over UDP, as a DNSBL
client makes it; prints the rcode, then one line per answer of TYPE
(A: the address, TXT: the text). Exit 0 when an answer came back at all.
Only what the fleet tests need: A and TXT, no recursion, no EDNS."""
import random
import socket
import struct
import sys

TYPES = {"A": 1, "TXT": 16, "SOA": 6}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED"}


def encode(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def main():
    server, port, name, qtype = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    qid = random.randrange(65536)
    query = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 0) + encode(name) + \
        struct.pack(">HH", TYPES[qtype], 1)
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(2)
    for _ in range(3):
        s.sendto(query, (server, port))
        try:
            msg, _ = s.recvfrom(4096)
        except socket.timeout:
            continue
        if struct.unpack(">H", msg[:2])[0] == qid:
            break
    else:
        print("TIMEOUT")
        return 1
    flags, qd, an = struct.unpack(">HHH", msg[2:8])
    print(RCODES.get(flags & 0xF, str(flags & 0xF)))
    off = 12
    for _ in range(qd):
        off = skip_name(msg, off) + 4
    for _ in range(an):
        off = skip_name(msg, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        off += rdlen
        if rtype != TYPES[qtype]:
            continue
        if rtype == 1:
            print(socket.inet_ntoa(rdata))
        elif rtype == 16:
            i, parts = 0, []
            while i < len(rdata):
                parts.append(rdata[i + 1:i + 1 + rdata[i]].decode(errors="replace"))
                i += 1 + rdata[i]
            print("".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

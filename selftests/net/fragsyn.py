#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# fragsyn.py - send one TCP SYN to DST:PORT from SRC cut into IP fragments
# (RFC 1858 shapes) and say whether a SYN-ACK came back: prints "synack" or
# "none". Run in the client namespace; the frames leave IFACE with the
# kernel's Ethernet header (AF_PACKET, SOCK_DGRAM) to the peer's MAC, so
# the client's own stack does not reassemble or refragment them.
#
# usage: fragsyn.py IFACE PEER_MAC SRC DST PORT SHAPE
#   SHAPE tiny:  the first fragment holds 8 bytes of TCP (ports only)
#         spill: the first fragment holds 24 of the 40-byte TCP header
#                (flags in, options spill into the second)
#         whole: not fragmented (a plain SYN, to check the path)
import os
import random
import select
import socket
import struct
import sys
import time

ETH_P_IP, ETH_P_IPV6, ETH_P_ALL = 0x0800, 0x86DD, 0x0003


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_syn(src, dst, sport, dport, v6):
    # MSS, SACK permitted, timestamps, NOP, window scale: 20 option bytes
    opts = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" +
            struct.pack("!BBII", 8, 10, 12345, 0) + b"\x01" +
            struct.pack("!BBB", 3, 3, 7))
    hdr = struct.pack("!HHIIBBHHH", sport, dport, random.getrandbits(32), 0,
                      (5 + len(opts) // 4) << 4, 0x02, 64240, 0, 0) + opts
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(hdr), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(hdr))
    c = csum(pseudo + hdr)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:]


def frags4(src, dst, tcp, cut):
    ident = random.getrandbits(16)
    out = []
    for off, part, more in ((0, tcp[:cut], 1), (cut, tcp[cut:], 0)):
        if cut >= len(tcp):
            part, more = tcp, 0
        h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(part), ident,
                        (more << 13) | (off // 8), 64, 6, 0, src, dst)
        h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
        out.append(h + part)
        if not more:
            break
    return out


def frags6(src, dst, tcp, cut):
    ident = random.getrandbits(32)
    out = []
    if cut >= len(tcp):
        return [struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, src,
                            dst) + tcp]
    for off, part, more in ((0, tcp[:cut], 1), (cut, tcp[cut:], 0)):
        fh = struct.pack("!BBHI", 6, 0, off | more, ident)
        out.append(struct.pack("!IHBB16s16s", 6 << 28, len(fh) + len(part),
                               44, 64, src, dst) + fh + part)
    return out


def main():
    ifname, mac, src, dst, port, shape = sys.argv[1:7]
    v6 = ":" in dst
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    s_b, d_b = socket.inet_pton(fam, src), socket.inet_pton(fam, dst)
    sport = random.randint(20000, 60000)
    tcp = tcp_syn(s_b, d_b, sport, int(port), v6)
    cut = {"tiny": 8, "spill": 24, "whole": len(tcp)}[shape]
    pkts = (frags6 if v6 else frags4)(s_b, d_b, tcp, cut)
    proto = ETH_P_IPV6 if v6 else ETH_P_IP
    macb = bytes.fromhex(mac.replace(":", ""))

    rx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                       socket.htons(proto))
    rx.bind((ifname, proto))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                       socket.htons(proto))
    for p in pkts:
        tx.sendto(p, (ifname, proto, 0, 0, macb))
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        r, _, _ = select.select([rx], [], [], end - time.monotonic())
        if not r:
            break
        data, addr = rx.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        if v6:
            if len(data) < 60 or data[6] != 6 or data[8:24] != d_b:
                continue
            t = data[40:]
        else:
            ihl = (data[0] & 0xF) * 4
            if len(data) < ihl + 20 or data[9] != 6 or data[12:16] != d_b:
                continue
            t = data[ihl:]
        sp, dp = struct.unpack("!HH", t[:4])
        if sp == int(port) and dp == sport and t[13] & 0x12 == 0x12:
            print("synack")
            return 0
    print("none")
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A minimal IPFIX collector for tests: listen on 127.0.0.1 (UDP or TCP),
write the port it got to PORTFILE, and store every IPFIX message received
in a pcap as an Ethernet/IPv4/UDP frame to port 4739, so that tshark's
own IPFIX dissector decodes it (over TCP, the stream is cut into messages
by the length in each message header). Runs until SIGTERM or SIGINT;
over TCP, OUT.pcap.eof appears each time the exporter closes.

tcp-stall: a collector that accepts and never reads, with the smallest
receive buffer the kernel allows; OUT.pcap.accepted appears (holding the
count) at each connection accepted, and it stores nothing.

Usage: ipfix-listen.py udp|tcp|tcp-stall PORTFILE OUT.pcap"""
import signal
import socket
import struct
import sys


def frame(payload):
    udp = struct.pack("!HHHH", 40000, 4739, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
    return b"\0" * 12 + b"\x08\x00" + ip + udp


def main():
    proto, portfile, out = sys.argv[1:4]
    f = open(out, "wb")
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
    f.flush()
    n = [0]

    def store(msg):
        fr = frame(msg)
        f.write(struct.pack("<IIII", n[0], 0, len(fr), len(fr)) + fr)
        f.flush()
        n[0] += 1

    def stop(*_):
        f.close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    if proto == "tcp-stall":
        # Before listen(): the accepted sockets inherit it (and the
        # window it advertises).
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    if proto == "udp":
        # Room for a whole burst of intervals: the exporter does not wait.
        try:
            s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("127.0.0.1", 0))
    if proto != "udp":
        s.listen(4)
    with open(portfile + ".tmp", "w") as p:
        p.write(f"{s.getsockname()[1]}\n")
    import os
    os.rename(portfile + ".tmp", portfile)
    if proto == "udp":
        while True:
            store(s.recv(65535))
    if proto == "tcp-stall":
        held = []
        while True:
            c, _ = s.accept()
            held.append(c)  # open, never read
            with open(out + ".accepted.tmp", "w") as a:
                a.write(f"{len(held)}\n")
            os.rename(out + ".accepted.tmp", out + ".accepted")
    while True:
        c, _ = s.accept()
        buf = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while len(buf) >= 4:
                ln = struct.unpack("!H", buf[2:4])[0]
                if ln < 16 or len(buf) < ln:
                    break
                store(buf[:ln])
                buf = buf[ln:]
        c.close()
        open(out + ".eof", "w").close()  # the exporter has closed


if __name__ == "__main__":
    main()

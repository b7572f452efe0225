#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent flowtuple oracle: tshark decodes, this script aggregates.

Reads a pcap/pcapng with tshark (IP reassembly off) and prints the flowtuple
rows flowcap would write for it, as `flowcap-read --format csv` prints them
but without the header, sorted in `LC_ALL=C sort` order:

    interval_start,class,src_ip,dst_ip,src_port,dst_port,protocol,ttl,
    tcp_flags,ip_len,packets

It shares no code with flowcap's parser: every header field comes from
tshark's dissectors, so a disagreement points at one of the two decoders.
It deliberately does not reproduce flowcap's drop counters: frames without
an IP layer produce no row, and nothing here counts them.

With --innermost (flowcap --decap): the innermost IP header instead,
reached through the tunnels flowcap opens as tshark dissects them: IP
directly in IP, GRE (carrying IP, or Ethernet), VXLAN, Geneve and GTP-U;
not through a fragment, not through anything else tshark opens (Teredo,
PPP in GRE, ERSPAN, ...); more than 4 tunnels: no row (flowcap counts
tunnel_deep). ICMP errors end the walk: the headers they quote are
payload.

Semantics (doc/testing.md has the long form):
- the outermost IPv4/IPv6 header, after whatever link layers tshark peels
  (VLAN, QinQ, MPLS, PPPoE, ...); inner headers of tunnels and of ICMP
  errors are ignored;
- IPv6: protocol is the upper layer after Hop-by-Hop, Routing, Fragment
  and Destination Options headers; ip_len = payload length + 40;
- ports: TCP/UDP/SCTP ports, ICMP/ICMPv6 type and code, otherwise 0; a
  non-first fragment has ports 0, flags 0 and class `other`;
- class: TCP with SYN+ACK or RST, ICMP types 0,3,4,5,11,12,14,16,18 and
  ICMPv6 types 1-4,129 are backscatter; other ICMP/ICMPv6 is icmpreq;
  everything else is other;
- intervals as Corsaro: seconds truncated, the first interval starts at
  the first packet's second (rounded down to a multiple of the interval
  unless --no-align), a packet newer than the interval end opens the
  interval that contains it, an older packet counts in the current one;
  intervals without packets produce no rows.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile

FIELDS = [
    "frame.time_epoch",
    "frame.protocols",
    "ip.src", "ip.dst", "ip.proto", "ip.ttl", "ip.len", "ip.frag_offset",
    "ip.flags.mf",
    "ipv6.src", "ipv6.dst", "ipv6.nxt", "ipv6.hlim", "ipv6.plen",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt",
    "ipv6.fraghdr.offset", "ipv6.dstopts.nxt",
    "tcp.srcport", "tcp.dstport", "tcp.flags",
    "udp.srcport", "udp.dstport",
    "sctp.srcport", "sctp.dstport",
    "icmp.type", "icmp.code",
    "icmpv6.type", "icmpv6.code",
]
F = {name: i for i, name in enumerate(FIELDS)}

# Preferences that keep tshark's decode to one frame at a time: no IP
# reassembly (a reassembled datagram would show the first fragment's L4 on
# the last fragment), no TCP reassembly or analysis (speed only).
PREFS = [
    "ip.defragment:FALSE",
    "ipv6.defragment:FALSE",
    "tcp.desegment_tcp_streams:FALSE",
    "tcp.analyze_sequence_numbers:FALSE",
    "tcp.calculate_timestamps:FALSE",
    "udp.process_info:FALSE",
]

ICMP_BACKSCATTER = {0, 3, 4, 5, 11, 12, 14, 16, 18}
ICMP6_BACKSCATTER = {1, 2, 3, 4, 129}
TCP_SYN, TCP_RST, TCP_ACK = 0x02, 0x04, 0x10

# IPv6 extension headers walked to find the upper-layer protocol, with the
# tshark field holding each one's next-header byte.
IP6_EXT = {
    0: "ipv6.hopopts.nxt",
    43: "ipv6.routing.nxt",
    44: "ipv6.fraghdr.nxt",
    60: "ipv6.dstopts.nxt",
}


# The occurrence of each field family the key is read from: 0 for the
# outermost headers; set per frame by --innermost (see innermost()).
OCC = {}


def first(v, fam=None):
    """Occurrence OCC[fam] (the first by default) of a multi-occurrence
    field ('' if absent)."""
    n = OCC.get(fam, 0)
    if n == 0:
        i = v.find(",")
        return v if i < 0 else v[:i]
    occ = v.split(",")
    return occ[n] if n < len(occ) else ""


# Layers tshark puts between two IP headers of a tunnel flowcap opens,
# with link-layer shims (ethertype, vlan, mpls, ...) left out.
TUNNEL_PATHS = {(), ("gre",), ("gre", "eth"), ("udp", "vxlan", "eth"),
                ("udp", "geneve", "eth"), ("udp", "geneve"), ("udp", "gtp")}
SHIMS = {"ethertype", "vlan", "ieee8021ad", "mpls", "pwethheuristic",
         "pwethcw", "pweth"}
MAX_TUNNELS = 4


def innermost(cols):
    """Point OCC at the innermost IP header flowcap --decap reaches.
    Returns its family (4, 6), 0 without IP, or -1 when the tunnels nest
    deeper than flowcap opens."""
    toks = cols[F["frame.protocols"]].split(":")
    for stop in ("icmp", "icmpv6"):
        if stop in toks:
            toks = toks[:toks.index(stop)]
    ips = [i for i, t in enumerate(toks) if t in ("ip", "ipv6")]
    OCC.clear()
    if not ips:
        return 0
    mf = cols[F["ip.flags.mf"]].split(",")
    fo = cols[F["ip.frag_offset"]].split(",")
    cur, depth = ips[0], 0
    for nxt in ips[1:]:
        between = tuple(t for t in toks[cur + 1:nxt]
                        if t not in SHIMS and not t.startswith("ipv6."))
        if between not in TUNNEL_PATHS:
            break
        # a fragment is not opened (IPv4 MF or offset; IPv6 fragment hdr)
        if toks[cur] == "ip":
            k = toks[:cur].count("ip")
            if (k < len(mf) and num(mf[k])) or (k < len(fo) and num(fo[k])):
                break
        elif "ipv6.fraghdr" in toks[cur + 1:nxt]:
            break
        depth += 1
        cur = nxt
    if depth > MAX_TUNNELS:
        return -1
    before = toks[:cur]
    for fam in ("ip", "ipv6", "tcp", "udp", "sctp", "icmp", "icmpv6",
                "ipv6.hopopts", "ipv6.routing", "ipv6.fraghdr",
                "ipv6.dstopts"):
        OCC[fam] = before.count(fam)
    fam = 4 if toks[cur] == "ip" else 6
    # A layer tshark calls IP without an address is no IP header (a bad
    # version): no row, as flowcap counts it bad_version.
    if first(cols[F["ip.src" if fam == 4 else "ipv6.src"]],
             "ip" if fam == 4 else "ipv6") == "":
        return 0
    return fam


def num(v):
    """Integer of a decimal or 0x field value; '' counts as 0."""
    if not v:
        return 0
    return int(v, 0)


def ip6_text(a):
    """RFC 5952 text of an IPv6 address, as the C library's inet_ntop
    writes it (flowcap-read's format): lower case, the longest run of zero
    groups (the first of equal runs, never a single group) as '::', and
    IPv4-mapped/-compatible addresses in mixed notation (::ffff:192.0.2.1).
    Python's ipaddress differs on that last point before Python 3.13."""
    return socket.inet_ntop(socket.AF_INET6,
                            socket.inet_pton(socket.AF_INET6, a))


def outer_family(protocols):
    """4 or 6 for the first IP layer in frame.protocols, else 0."""
    for p in protocols.split(":"):
        if p == "ip":
            return 4
        if p == "ipv6":
            return 6
    return 0


def l4(cols, proto, fragment):
    """(src_port, dst_port, tcp_flags, class) of the outermost L4."""
    if fragment:
        return 0, 0, 0, "other"
    if proto == 6:
        flags = num(first(cols[F["tcp.flags"]], "tcp")) & 0xff
        cls = "other"
        if (flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) or \
                flags & TCP_RST:
            cls = "backscatter"
        return (num(first(cols[F["tcp.srcport"]], "tcp")),
                num(first(cols[F["tcp.dstport"]], "tcp")), flags, cls)
    if proto == 17:
        return (num(first(cols[F["udp.srcport"]], "udp")),
                num(first(cols[F["udp.dstport"]], "udp")), 0, "other")
    if proto == 132:
        return (num(first(cols[F["sctp.srcport"]], "sctp")),
                num(first(cols[F["sctp.dstport"]], "sctp")), 0, "other")
    if proto == 1:
        t = num(first(cols[F["icmp.type"]], "icmp"))
        c = num(first(cols[F["icmp.code"]], "icmp"))
        return t, c, 0, ("backscatter" if t in ICMP_BACKSCATTER
                         else "icmpreq")
    if proto == 58:
        t = num(first(cols[F["icmpv6.type"]], "icmpv6"))
        c = num(first(cols[F["icmpv6.code"]], "icmpv6"))
        return t, c, 0, ("backscatter" if t in ICMP6_BACKSCATTER
                         else "icmpreq")
    return 0, 0, 0, "other"


def key_v4(cols):
    proto = num(first(cols[F["ip.proto"]], "ip"))
    fragment = num(first(cols[F["ip.frag_offset"]], "ip")) > 0
    sp, dp, flags, cls = l4(cols, proto, fragment)
    return (cls, first(cols[F["ip.src"]], "ip"), first(cols[F["ip.dst"]], "ip"),
            sp, dp, proto, num(first(cols[F["ip.ttl"]], "ip")), flags,
            num(first(cols[F["ip.len"]], "ip")))


def key_v6(cols):
    # Walk the outermost header's extension chain. Each extension field
    # lists its occurrences in decode order, so the n-th header of a type
    # in the outer chain is its n-th occurrence (inner headers come later).
    proto = num(first(cols[F["ipv6.nxt"]], "ipv6"))
    seen = {}
    fragment = False
    frag_offsets = cols[F["ipv6.fraghdr.offset"]].split(",")
    for _ in range(16):
        name = IP6_EXT.get(proto)
        if name is None:
            break
        occ = cols[F[name]].split(",")
        k = seen.get(proto, 0)
        # the headers of this kind in the layers before come first
        n = k + OCC.get(name.rsplit(".", 1)[0], 0)
        if n >= len(occ) or occ[n] == "":
            break
        if proto == 44 and n < len(frag_offsets) and num(frag_offsets[n]):
            fragment = True
        seen[proto] = k + 1
        proto = num(occ[n])
    sp, dp, flags, cls = l4(cols, proto, fragment)
    src = ip6_text(first(cols[F["ipv6.src"]], "ipv6"))
    dst = ip6_text(first(cols[F["ipv6.dst"]], "ipv6"))
    return (cls, src, dst, sp, dp, proto, num(first(cols[F["ipv6.hlim"]], "ipv6")),
            flags, num(first(cols[F["ipv6.plen"]], "ipv6")) + 40)


def tshark_lines(path):
    cmd = ["tshark", "-n", "-r", path, "-T", "fields",
           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,"]
    for p in PREFS:
        cmd += ["-o", p]
    for f in FIELDS:
        cmd += ["-e", f]
    env = dict(os.environ, LC_ALL="C")
    # stderr goes to a file: dissector warnings on odd payloads can exceed
    # a pipe's buffer and would block tshark while we read stdout.
    with tempfile.TemporaryFile() as errf:
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                    stderr=errf, env=env, bufsize=1 << 20)
        except FileNotFoundError:
            sys.exit("tshark-oracle: tshark not found; install it with: "
                     "apt-get install tshark")
        for line in proc.stdout:
            yield line.decode("utf-8", "replace").rstrip("\n")
        if proc.wait() != 0:
            errf.seek(0)
            err = errf.read().decode("utf-8", "replace")
            sys.exit("tshark-oracle: tshark failed on %s (exit %d):\n%s"
                     % (path, proc.returncode, err.strip()))


def main():
    ap = argparse.ArgumentParser(
        description="Flowtuple rows of a pcap, decoded by tshark.")
    ap.add_argument("--interval", type=int, default=60,
                    help="interval length in seconds (default 60)")
    ap.add_argument("--no-align", action="store_true",
                    help="start intervals at the first packet's second "
                    "instead of a multiple of the interval")
    ap.add_argument("--innermost", action="store_true",
                    help="the innermost IP header of the tunnels flowcap "
                    "--decap opens, not the outermost")
    ap.add_argument("pcap")
    a = ap.parse_args()
    if a.interval < 1:
        ap.error("--interval must be >= 1 second")
    if not os.path.exists(a.pcap):
        ap.error("no such file: %s" % a.pcap)

    counts = {}
    start = None
    end = None
    ivl = a.interval
    for line in tshark_lines(a.pcap):
        cols = line.split("\t")
        if len(cols) < len(FIELDS):
            continue
        if a.innermost:
            fam = innermost(cols)
        else:
            fam = outer_family(cols[F["frame.protocols"]])
        if fam <= 0:
            continue
        ts = cols[F["frame.time_epoch"]]
        sec = int(ts.split(".", 1)[0])
        if start is None:
            start = sec - sec % ivl if not a.no_align else sec
            end = start + ivl - 1
        elif sec > end:
            start += (sec - start) // ivl * ivl
            end = start + ivl - 1
        key = (start,) + (key_v4(cols) if fam == 4 else key_v6(cols))
        counts[key] = counts.get(key, 0) + 1

    rows = ["%d,%s,%s,%s,%d,%d,%d,%d,%d,%d,%d" % (k + (n,))
            for k, n in counts.items()]
    rows.sort()
    out = sys.stdout
    out.write("".join(r + "\n" for r in rows))


if __name__ == "__main__":
    main()

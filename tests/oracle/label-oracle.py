#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent payload-label oracle: tshark decodes, Python's re matches.

Prints, for the TCP and UDP packets of a trace, the packets per
(src_ip, dst_ip, src_port, dst_port, protocol, label) that a flowcap run
with --classify RULES gives, as CSV lines sorted in `LC_ALL=C sort` order:

    src_ip,dst_ip,src_port,dst_port,protocol,label,packets

The payload is tshark's tcp.payload / udp.payload (IP and TCP reassembly
off), cut to --bytes (flowcap's --classify-bytes); the label is the first
rule of the file (LABEL PROTO PORTS /PATTERN/FLAGS) whose protocol and
ports apply and whose pattern re.search finds in the payload (flags i, s,
m as re.I, re.S, re.M). It shares no code with flowcap: the rules file is
parsed here again. Packets with more than one IP header (tunnels) or an
ICMP layer (errors quoting a header) are left out, and so is what flowcap
would key on them: the caller compares labelled rows only (--labelled).

With --innermost (flowcap --decap --classify): the innermost IP header of
a tunnel and the TCP or UDP layer after it, with its payload, each taken
as the occurrence of its field that belongs to that layer (by the order
of tshark's frame.protocols); ICMP packets are still left out. For
generated tunnels (flowcap-gen --tunnel), whose kinds flowcap opens.
"""

import argparse
import re
import subprocess
import sys

PROTOS = {"tcp": {6}, "udp": {17}, "sctp": {132}, "icmp": {1},
          "icmp6": {58}, "any": {6, 17, 132, 1, 58}}


def parse_rules(path):
    rules = []
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.rstrip("\r\n")
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            label, proto, ports, rest = s.split(None, 3)
            i, j = rest.index("/"), rest.rindex("/")
            pat, flags = rest[i + 1:j], rest[j + 1:].strip()
            fl = 0
            for c in flags:
                fl |= {"i": re.I, "s": re.S, "m": re.M}[c]
            protos = set(PROTOS[proto])
            ranges = None
            if ports != "any":
                protos &= {6, 17, 132}
                ranges = []
                for item in ports.split(","):
                    lo, _, hi = item.partition("-")
                    ranges.append((int(lo), int(hi or lo)))
            rules.append((label, protos, ranges,
                          re.compile(pat.encode("latin-1"), fl)))
    return rules


def label_of(rules, proto, sport, dport, payload):
    if not payload:
        return ""
    for label, protos, ranges, rx in rules:
        if proto not in protos:
            continue
        if ranges is not None and not any(
                lo <= sport <= hi or lo <= dport <= hi for lo, hi in ranges):
            continue
        if rx.search(payload):
            return label
    return ""


def innermost(d):
    """The fields of the innermost IP layer and the TCP/UDP layer after
    it, each as a single occurrence; None for a packet to leave out."""
    toks = d["frame.protocols"].split(":")
    if "icmp" in toks or "icmpv6" in toks:
        return None
    ips = [i for i, t in enumerate(toks) if t in ("ip", "ipv6")]
    if not ips:
        return None
    li = ips[-1]
    fam = toks[li]
    l4 = [i for i in range(li + 1, len(toks)) if toks[i] in ("tcp", "udp")]
    if not l4:
        return None

    def occ(field, n):
        vals = d[field].split("|") if d[field] else []
        return vals[n] if n < len(vals) else ""

    out = dict.fromkeys(d, "")
    ni = toks[:li].count(fam)
    for f in ("src", "dst"):
        key = ("ip." if fam == "ip" else "ipv6.") + f
        out[key] = occ(key, ni)
    proto = toks[l4[0]]
    nl = toks[:l4[0]].count(proto)
    for f in ("srcport", "dstport", "payload"):
        out[proto + "." + f] = occ(proto + "." + f, nl)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("rules")
    ap.add_argument("--bytes", type=int, default=512)
    ap.add_argument("--labelled", action="store_true",
                    help="print only rows with a label")
    ap.add_argument("--innermost", action="store_true",
                    help="the innermost packet of tunnels (--decap)")
    a = ap.parse_args()
    rules = parse_rules(a.rules)
    fields = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport",
              "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.payload",
              "udp.payload", "icmp.type", "icmpv6.type", "frame.protocols"]
    cmd = ["tshark", "-n", "-r", a.pcap, "-T", "fields", "-E",
           "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|",
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
           "-o", "tcp.desegment_tcp_streams:FALSE",
           "-o", "tcp.analyze_sequence_numbers:FALSE"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    for line in out.splitlines():
        v = line.split("\t")
        v += [""] * (len(fields) - len(v))
        d = dict(zip(fields, v))
        if a.innermost:
            d = innermost(d)
            if d is None:
                continue
        src = d["ip.src"] or d["ipv6.src"]
        dst = d["ip.dst"] or d["ipv6.dst"]
        if not src or "|" in src or (d["ip.src"] and d["ipv6.src"]):
            continue
        if d["icmp.type"] or d["icmpv6.type"]:
            continue
        if d["tcp.srcport"]:
            proto, sp, dp, pl = 6, d["tcp.srcport"], d["tcp.dstport"], \
                d["tcp.payload"]
        elif d["udp.srcport"]:
            proto, sp, dp, pl = 17, d["udp.srcport"], d["udp.dstport"], \
                d["udp.payload"]
        else:
            continue
        if "|" in sp:
            continue
        sp, dp = int(sp), int(dp)
        payload = bytes.fromhex(pl.replace(":", ""))[:a.bytes]
        label = label_of(rules, proto, sp, dp, payload)
        if a.labelled and not label:
            continue
        k = (src, dst, sp, dp, proto, label)
        rows[k] = rows.get(k, 0) + 1
    lines = ["%s,%s,%d,%d,%d,%s,%d" % (k + (n,)) for k, n in rows.items()]
    sys.stdout.write("".join(sorted(l + "\n" for l in lines)))


if __name__ == "__main__":
    main()

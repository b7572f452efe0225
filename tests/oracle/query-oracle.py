#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Independent model of flowcap-read's queries, over its plain CSV dump.

Reads the rows that `flowcap-read --format csv FILES` prints (one record a
row) and answers the same question a query asks of the files: a filter
(a Python expression over the row, written by the test next to the
flowcap-read expression it stands for, so the two are not the same
parser), a grouping with prefixes, exact distinct counts, re-intervaling,
a time range, top N by a column with ties broken by the group fields, and
Crypto-PAn anonymisation (AES-128 from the Python `cryptography` package).
The label and vlan columns (files written with --classify, --key-vlan) are
fields like the others: a label by its name (the dump's text), a dump
without the column reads as an empty label and VLAN 0.
Prints CSV with the columns flowcap-read prints.
"""

import argparse
import csv
import ipaddress
import sys

CLASSES = ["backscatter", "icmpreq", "other"]
ALL = ["class", "src_ip", "dst_ip", "src_port", "dst_port", "protocol",
       "ttl", "tcp_flags", "ip_len"]


class Pan:
    """Crypto-PAn: bit i = addr bit i XOR msb(AES(addr[:i] + pad[i:]))."""

    def __init__(self, key):
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        self.enc = Cipher(algorithms.AES(key[:16]), modes.ECB()).encryptor()
        self.pad = int.from_bytes(self.enc.update(key[16:]), "big")
        self.cache = {}

    def map(self, a):
        if a in self.cache:
            return self.cache[a]
        nbits = 32 if a.version == 4 else 128
        x = int(a) << (128 - nbits)  # left-aligned in 128 bits
        otp = 0
        for pos in range(nbits):
            keep = ((1 << pos) - 1) << (128 - pos) if pos else 0
            blk = (x & keep) | (self.pad & ~keep & ((1 << 128) - 1))
            out = self.enc.update(blk.to_bytes(16, "big"))
            otp = (otp << 1) | (out[0] >> 7)
        r = ipaddress.ip_address(int(a) ^ otp) if a.version == 6 else \
            ipaddress.IPv4Address(int(a) ^ otp)
        self.cache[a] = r
        return r


def load_key(path):
    b = open(path, "rb").read()
    if len(b) == 32:
        return b
    return bytes.fromhex(b.decode().strip())


def parse_group(spec):
    out = []
    for f in spec.split(","):
        parts = f.split("/")
        name = parts[0]
        if len(parts) == 1:
            out.append((name, None, None))
        elif len(parts) == 2:
            n = int(parts[1])
            out.append((name, min(n, 32), n))
        else:
            out.append((name, int(parts[1]), int(parts[2])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--filter", default="True",
                    help="Python expression over r (dict of the row)")
    ap.add_argument("--group-by")
    ap.add_argument("--count-distinct", action="append", default=[])
    ap.add_argument("--top", type=int, default=0)
    ap.add_argument("--order")
    ap.add_argument("--interval", default="own")
    ap.add_argument("--from", dest="tfrom", type=int, default=0)
    ap.add_argument("--to", type=int, default=2 ** 64)
    ap.add_argument("--anonymize")
    ap.add_argument("csv")
    a = ap.parse_args()

    pan = Pan(load_key(a.anonymize)) if a.anonymize else None
    with open(a.csv) as f:
        header = next(csv.reader(f))
    group = parse_group(a.group_by) if a.group_by else \
        [(f, None, None) for f in ALL + [c for c in ("label", "vlan")
                                         if c in header]]
    pred = eval("lambda r: " + a.filter)
    order = a.order or ("packets" if a.top else None)

    agg = {}
    with open(a.csv) as f:
        for row in csv.DictReader(f):
            t = int(row["interval_start"])
            if not (a.tfrom <= t < a.to):
                continue
            r = {k: row[k] for k in row}
            for k in ["src_port", "dst_port", "protocol", "ttl", "tcp_flags",
                      "ip_len", "packets"]:
                r[k] = int(r[k])
            r["label"] = row.get("label") or ""
            r["vlan"] = int(row.get("vlan") or 0)
            r["src"] = ipaddress.ip_address(row["src_ip"])
            r["dst"] = ipaddress.ip_address(row["dst_ip"])
            r["fam"] = r["src"].version
            if not pred(r):
                continue
            if pan:
                r["src"] = pan.map(r["src"])
                r["dst"] = pan.map(r["dst"])
                r["src_ip"] = str(r["src"])
                r["dst_ip"] = str(r["dst"])
            if a.interval == "all":
                ot = None
            elif a.interval == "own":
                ot = t
            else:
                ot = t - t % int(a.interval)
            key = [ot]
            for name, p4, p6 in group:
                if name in ("src_ip", "dst_ip"):
                    addr = r["src" if name == "src_ip" else "dst"]
                    if p4 is None:
                        key.append((addr.version, int(addr), r[name]))
                    else:
                        p = p4 if addr.version == 4 else p6
                        net = ipaddress.ip_network((addr, p), strict=False)
                        key.append((addr.version, int(net.network_address),
                                    str(net)))
                elif name == "class":
                    key.append((CLASSES.index(r["class"]), r["class"]))
                else:
                    key.append((r[name], str(r[name])))
            key = tuple(key)
            g = agg.setdefault(key, [0, 0] + [set() for _ in a.count_distinct])
            g[0] += 1
            g[1] += r["packets"]
            for i, d in enumerate(a.count_distinct):
                g[2 + i].add(r[d] if d not in ("src_ip", "dst_ip")
                             else (r["fam"], r[d]))

    def col(g):
        if order == "records":
            return g[0]
        if order == "packets":
            return g[1]
        if order and order.startswith("distinct_"):
            return len(g[2 + a.count_distinct.index(order[9:])])
        return 0

    items = sorted(agg.items(), key=lambda kv: (
        kv[0][0] if kv[0][0] is not None else 0, -col(kv[1]),
        [x[:-1] for x in kv[0][1:]]))
    if a.top:
        kept, last, n = [], object(), 0
        for k, g in items:
            if k[0] != last:
                last, n = k[0], 0
            if n < a.top:
                kept.append((k, g))
            n += 1
        items = kept

    w = csv.writer(sys.stdout, lineterminator="\n")
    head = ([] if a.interval == "all" else ["interval_start"]) + \
        [n for n, _, _ in group] + ["records", "packets"] + \
        ["distinct_" + d for d in a.count_distinct]
    w.writerow(head)
    for k, g in items:
        row = ([] if a.interval == "all" else [k[0]]) + \
            [x[-1] for x in k[1:]] + [g[0], g[1]] + \
            [len(s) for s in g[2:]]
        w.writerow(row)


main()

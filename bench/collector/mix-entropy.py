#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Lower estimate of the information in one interval's records.

Reads flowcap-read CSV (one interval) and prints, per column, the bits a
lossless coder needs at least for the records of flowcap-gen's mixes,
whose fields are drawn independently per flow:

- low-cardinality columns (class, protocol, ttl, tcp_flags, ip_len,
  packets): their empirical entropy;
- ports: the entropy of "which well-known port, or a random one", plus
  the bits of the random value (16 for destinations, log2(64512) for
  ephemeral sources), since every random port is drawn uniformly;
- destination address: 24 bits (flowcap-gen derives an IPv4 address from
  24 random bits);
- source address: records are sorted by it, so a set of n sources out of
  2^24 costs log2(C(2^24, n)) / n ~ log2(2^24 / n) + 1.44 bits each.

Correlated columns (class, protocol, flags) are summed, so the total is a
little high for them; the five random fields alone are a hard floor.

usage: mix-entropy.py FILE.csv    (flowcap-read FILE.ft.zst > FILE.csv)
"""
import collections
import csv
import math
import sys


def entropy(vals):
    n = len(vals)
    return -sum(c / n * math.log2(c / n)
                for c in collections.Counter(vals).values())


def port_bits(vals, random_bits):
    """Well-known ports repeat; random ones appear a few times at most."""
    n = len(vals)
    cnt = collections.Counter(vals)
    common = {v for v, c in cnt.items() if c > n / 1000}
    sym = [v if v in common else "random" for v in vals]
    frac = sum(1 for v in vals if v not in common) / n
    return entropy(sym) + frac * random_bits


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{sys.argv[1]}: no records")
    n = len(rows)
    bits = {}
    for col in ("class", "protocol", "ttl", "tcp_flags", "ip_len",
                "packets"):
        bits[col] = entropy([r[col] for r in rows])
    bits["src_port"] = port_bits([r["src_port"] for r in rows],
                                 math.log2(64512))
    bits["dst_port"] = port_bits([r["dst_port"] for r in rows], 16)
    bits["dst_ip"] = 24.0
    bits["src_ip"] = math.log2(2 ** 24 / n) + 1.44
    for col, b in bits.items():
        print(f"{col:10s} {b:6.2f} bits")
    total = sum(bits.values())
    floor = sum(bits[c] for c in ("src_port", "dst_port", "dst_ip",
                                  "src_ip", "ttl"))
    print(f"{n} records: about {total / 8:.2f} bytes/record of information"
          f" ({floor / 8:.2f} in the five independent random fields alone)")


if __name__ == "__main__":
    main()

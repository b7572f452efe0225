#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Compare what an IPFIX collector received with flowcap's files.

  ipfix-compare.py tshark CAPTURE.pcap FLOWCAP-READ OUTDIR DOMAIN MIN-TEMPLATE-SETS
      decode CAPTURE with tshark's IPFIX (cflow) dissector and compare every
      field of every record with flowcap-read --format csv (and the
      interval ends of flowcap-read --stats): addresses, ports, protocol,
      TTL, TCP flags, IP length, packets, start/end in seconds and in
      milliseconds, and the label (flowcapLabel, PEN 32473 element 1: the
      CSV's label column; none where that is empty); the observation
      domain of every message; at least MIN-TEMPLATE-SETS template sets
      (re-sent over UDP).
  ipfix-compare.py nfdump NFCAPD-DIR FLOWCAP-READ OUTDIR
      read nfcapd's files with nfdump and compare records, packets,
      addresses, ports (TCP/UDP) and protocols (nfdump 1.7.1 keeps no TTL
      and no IP length).
Exit 0 when equal; 1 with the differences."""
import collections
import glob
import ipaddress
import re
import subprocess
import sys
import xml.etree.ElementTree as ET


def expected(fcread, outdir):
    files = sorted(glob.glob(outdir + "/*.ft.zst"))
    ends = {}
    st = subprocess.run([fcread, "--stats"] + files, capture_output=True,
                        text=True, check=True).stdout
    for m in re.finditer(r"^interval=\d+ start=(\d+) end=(\d+)", st, re.M):
        ends[int(m.group(1))] = int(m.group(2))
    csv = subprocess.run([fcread, "--format", "csv"] + files,
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in csv.splitlines()[1:]:
        c = line.split(",")
        (start, _cls, sa, da, sp, dp, pr, ttl, fl, ln, pk) = c[:11]
        label = c[11] if len(c) > 11 else ""
        start = int(start)
        rows.append(dict(start=start, end=ends[start],
                         sa=str(ipaddress.ip_address(sa)),
                         da=str(ipaddress.ip_address(da)), sp=int(sp),
                         dp=int(dp), pr=int(pr), ttl=int(ttl), fl=int(fl),
                         ln=int(ln), pk=int(pk), label=label))
    return rows


def report(name, got, want):
    g, w = collections.Counter(got), collections.Counter(want)
    if g == w:
        print(f"ok   {name}: {sum(w.values())} records, every field equal")
        return 0
    print(f"FAIL {name}: {sum(g.values())} records received, "
          f"{sum(w.values())} in the files")
    for k, n in list((w - g).items())[:5]:
        print(f"     missing   {n} x {k}")
    for k, n in list((g - w).items())[:5]:
        print(f"     unexpected {n} x {k}")
    return 1


def tshark(cap, fcread, outdir, domain, min_tmpl):
    xml = subprocess.run(["tshark", "-r", cap, "-d", "udp.port==4739,cflow",
                          "-T", "pdml"], capture_output=True, check=True).stdout
    root = ET.fromstring(xml)
    got, doms, tmpl, labelled = [], set(), 0, 0
    for f in root.iter("field"):
        n = f.get("name")
        if n == "cflow.od_id":
            doms.add(int(f.get("show")))
        if n == "cflow.template_id" and f.get("show") == "256":
            tmpl += 1  # one per template set
        if not (f.get("show") or "").startswith("Flow "):
            continue
        r = {"label": ""}
        for c in f.iter("field"):
            cn, v, raw = c.get("name"), c.get("show"), c.get("value")
            if cn == "cflow.enterprise_private_entry":
                # tshark knows no flowcap elements: it names the PEN and
                # element id and gives the raw value, here the string.
                sn = c.get("showname") or ""
                if "(Example Enterprise Number for Documentation Use) " \
                        "Type 1:" not in sn:
                    r["label"] = "?unexpected element: " + sn
                else:
                    r["label"] = bytes.fromhex(raw).decode()
                    labelled += 1
            elif cn in ("cflow.abstimestart", "cflow.abstimeend"):
                t = int(raw, 16)  # raw: seconds (4 bytes) or ms (8 bytes)
                key = ("start" if cn.endswith("start") else "end") + \
                    ("_ms" if len(raw) == 16 else "_s")
                r[key] = t
            elif cn in ("cflow.srcaddr", "cflow.srcaddrv6"):
                r["sa"] = str(ipaddress.ip_address(v))
            elif cn in ("cflow.dstaddr", "cflow.dstaddrv6"):
                r["da"] = str(ipaddress.ip_address(v))
            elif cn == "cflow.srcport":
                r["sp"] = int(v)
            elif cn == "cflow.dstport":
                r["dp"] = int(v)
            elif cn == "cflow.protocol":
                r["pr"] = int(v)
            elif cn == "cflow.ip_ttl":
                r["ttl"] = int(v)
            elif cn == "cflow.tcpflags":
                r["fl"] = int(v, 16)
            elif cn == "cflow.ip_total_length":
                r["ln"] = int(v)
            elif cn == "cflow.packets":
                r["pk"] = int(v)
        got.append(tuple(r.get(k) for k in ("start_s", "end_s", "start_ms",
                   "end_ms", "sa", "da", "sp", "dp", "pr", "ttl", "fl", "ln",
                   "pk", "label")))
    want = [(e["start"], e["end"], e["start"] * 1000, e["end"] * 1000 + 999,
             e["sa"], e["da"], e["sp"], e["dp"], e["pr"], e["ttl"], e["fl"],
             e["ln"], e["pk"], e["label"]) for e in expected(fcread, outdir)]
    fail = report("tshark decodes what the files hold", got, want)
    if labelled:
        print(f"ok   {labelled} records carry flowcapLabel, each the "
              "file's label")
    if doms == {int(domain)}:
        print(f"ok   observation domain {domain} in every message")
    else:
        print(f"FAIL observation domains {sorted(doms)}, want {domain}")
        fail = 1
    if tmpl >= int(min_tmpl):
        print(f"ok   templates sent {tmpl} time(s) (>= {min_tmpl})")
    else:
        print(f"FAIL templates sent {tmpl} time(s), want >= {min_tmpl}")
        fail = 1
    return fail


PROTO = {"ICMP": 1, "IGMP": 2, "TCP": 6, "UDP": 17, "ICMP6": 58,
         "EIGRP": 88, "GRE": 47, "ESP": 50, "IPv6": 41, "PIM": 103,
         "SCTP": 132}


def nfdump(d, fcread, outdir):
    out = subprocess.run(["nfdump", "-R", d, "-q", "-o", "csv"],
                         capture_output=True, text=True, check=True).stdout
    got = []
    for line in out.splitlines():
        c = line.split(",")
        if len(c) < 13 or not c[0][:1].isdigit():
            continue
        pr = PROTO.get(c[7].strip(), None)
        if pr is None:
            pr = int(c[7])
        ports = (int(c[5]), int(c[6])) if pr in (6, 17) else None
        got.append((str(ipaddress.ip_address(c[3])),
                    str(ipaddress.ip_address(c[4])), ports, pr, int(c[11])))
    want = [(e["sa"], e["da"], (e["sp"], e["dp"]) if e["pr"] in (6, 17)
             else None, e["pr"], e["pk"]) for e in expected(fcread, outdir)]
    return report("nfcapd/nfdump received what the files hold", got, want)


if __name__ == "__main__":
    if sys.argv[1] == "tshark":
        sys.exit(tshark(*sys.argv[2:7]))
    sys.exit(nfdump(*sys.argv[2:5]))

#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Ask a DPDK telemetry socket (protocol v2) some commands and print the
answers as one JSON object {command: answer}. The client is our own few
lines, as dpdk-telemetry.py speaks it: connect (SOCK_SEQPACKET), read the
greeting, then one message per command and one answer per message.

Usage: telemetry-query.py SOCKET COMMAND...
Exit status 1 when the socket cannot be reached (the caller polls)."""
import json
import socket
import sys


def main():
    path, cmds = sys.argv[1], sys.argv[2:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.connect(path)
    except OSError as e:
        print(f"telemetry-query: {path}: {e}", file=sys.stderr)
        return 1
    hello = json.loads(s.recv(16384).decode())
    out = {}
    for c in cmds:
        s.send(c.encode())
        reply = json.loads(s.recv(hello["max_output_len"]).decode())
        out[c] = reply.get(c)
    s.close()
    json.dump(out, sys.stdout, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap's loss so far, for the pktgen scripts' LOSS_CMD: reads flowcap's
# last per-second stats line (flowcap --stats, on stderr) from LOG, or from
# standard input, and prints two numbers: the packets that reached
# flowcap's ports (the line's final rx, NIC drops included) and the packets
# left out of every record: those lost (NIC drops, tbl_full, no_table)
# plus those rejected (frames without a flowtuple: not IP, truncated),
# which generated traffic never has. flowcap's exit summary gives the same
# received, and lost + rejected. Both count from flowcap's start; the
# scripts take differences.
#
# usage: flowcap-loss.sh [LOG]
#   LOSS_CMD="bench/pktgen/flowcap-loss.sh /var/log/flowcap.err"
#   LOSS_CMD="ssh capture-host journalctl -u flowcap -n 20 -o cat | bench/pktgen/flowcap-loss.sh"
# exit: 0 printed, 1 no stats line found (flowcap without --stats, or LOG
# is not flowcap's stderr), 2 bad usage.
set -eu

if [ $# -gt 1 ]; then
	echo "usage: flowcap-loss.sh [LOG]" >&2
	exit 2
fi
if [ $# -eq 1 ] && [ ! -r "$1" ]; then
	echo "flowcap-loss.sh: cannot read $1: give flowcap's stderr, written with --stats" >&2
	exit 2
fi
# The last line that carries every field (a line being written may be cut).
line=$(cat "$@" | grep -E '^flowcap: .*\| intervals [0-9]+ lost [0-9]+ \| rx [0-9]+ lost [0-9]+ rejected [0-9]+$' | tail -n 1)
if [ -z "$line" ]; then
	echo "flowcap-loss.sh: no stats line in ${1:-standard input}: run flowcap with --stats and give its stderr" >&2
	exit 1
fi
# "... | rx N lost N rejected N"
echo "$line" | awk '{ printf "%.0f %.0f\n", $(NF - 4), $(NF - 2) + $NF }'

#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bytes on disk: every real trace of the shared set (and the generator's
# default mix) written by flowcap --read (60 s intervals, zstd level 3) and
# by nfpcapd (nfdump 1.7.1: uncompressed, LZO -z, LZ4 -y; 1.7.1 has no
# zstd, and its usage lists -j for bzip2 but refuses it). Prints records, bytes per record and bytes per packet of
# input for flowcap, and bytes per packet for each nfpcapd variant.
#
# usage: bench/size/run.sh
# env:   BUILD (default: build-bench next to this repo), PCAPS (default:
#        $FC_SHARED/pcaps/real/*.pcap, FC_SHARED default ../shared next
#        to the repo's parent, i.e. /work/shared), WORK (/tmp/flowcap-size)
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build-bench}
FC_SHARED=${FC_SHARED:-/work/shared}
WORK=${WORK:-/tmp/flowcap-size}
flowcap=$BUILD/app/flowcap/flowcap
reader=$BUILD/app/flowcap-read/flowcap-read
gen=$BUILD/app/flowcap-gen/flowcap-gen
for b in "$flowcap" "$reader" "$gen"; do
	[ -x "$b" ] || { echo "run.sh: $b is missing: meson setup $BUILD -Dbuildtype=release && ninja -C $BUILD" >&2; exit 1; }
done
have_nf=1
command -v nfpcapd >/dev/null || { have_nf=0; echo "run.sh: nfpcapd not installed (apt-get install nfdump): its columns are left out" >&2; }

mkdir -p "$WORK"
dm=$WORK/default-mix.pcap
[ -s "$dm" ] || "$gen" -q -o "$dm" || exit 1
PCAPS=${PCAPS:-"$FC_SHARED/pcaps/real/*.pcap"}

bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

echo "| trace | packets | records | flowcap bytes | B/record | B/packet | nfpcapd B/packet: plain | LZO | LZ4 |"
echo "|---|---|---|---|---|---|---|---|---|"
for p in $PCAPS "$dm"; do
	o=$WORK/fc; rm -rf "$o"; mkdir -p "$o"
	"$flowcap" --read "$p" --out "$o" --interval 60 --no-stats >/dev/null 2>&1 || { echo "| $(basename "$p") | flowcap failed |"; continue; }
	fb=$(bytes "$o")
	read -r pk rec < <("$reader" --stats "$o"/*.ft.zst | awk -F'[ =]' '
		/^interval=/ { for (i = 1; i < NF; i++) { if ($i == "rx_pkts") p += $(i + 1); if ($i == "records") r += $(i + 1) } }
		END { print p + 0, r + 0 }')
	nf=""
	for opt in "" -z -y; do
		if [ $have_nf = 1 ]; then
			n=$WORK/nf; rm -rf "$n"; mkdir -p "$n"
			nfpcapd -r "$p" -w "$n" -t 60 $opt >/dev/null 2>&1
			nb=$(bytes "$n")
			nf="$nf | $(awk -v b="$nb" -v p="$pk" 'BEGIN {printf "%.2f", p ? b / p : 0}')"
		else
			nf="$nf | -"
		fi
	done
	awk -v t="$(basename "$p")" -v p="$pk" -v r="$rec" -v b="$fb" -v nf="$nf" 'BEGIN {
		printf "| %s | %d | %d | %d | %.2f | %.2f%s |\n", t, p, r, b, r ? b / r : 0, p ? b / p : 0, nf }'
done
rm -rf "$WORK/fc" "$WORK/nf"

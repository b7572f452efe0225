#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# quickstart.sh demo   install, build, generate a demo trace, capture it
#                      through DPDK with flowcap, show the result
# quickstart.sh test   install, build, run the whole test suite; ends with
#                      "N passed, M failed, K skipped" and fails unless
#                      M = 0 and K = 0 (FLOWCAP_ALLOW_SKIP=1 accepts
#                      skipped tests on a machine that cannot run them all,
#                      e.g. without network namespaces: doc/testing.md)
#
# Both are idempotent: run them as often as you like (as root, for the
# package installation; everything else runs from the source tree).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
# FLOWCAP_BUILD: another build directory (the tests of this script use it).
build="${FLOWCAP_BUILD:-$here/build}"
cmd=${1:-}

case "$cmd" in
demo|test) ;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac

sh "$here/dpdk-scripts/install-deps.sh"

if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure "$build" "$here" >/dev/null
else
	meson setup "$build" "$here" >/dev/null
fi
ninja -C "$build" >/dev/null
echo "quickstart: built flowcap, flowcap-read and flowcap-gen in $build"

if [ "$cmd" = test ]; then
	set +e
	meson test -C "$build" --print-errorlogs --num-processes 1 \
		>"$build/test-output.txt" 2>&1
	rc=$?
	set -e
	# shellcheck source=dpdk-scripts/test-summary.sh disable=SC1091
	. "$here/dpdk-scripts/test-summary.sh"
	fc_test_summary quickstart "$build" "$rc"
	exit $?
fi

demo="${FLOWCAP_DEMO_DIR:-/tmp/flowcap-demo}"
rm -rf "$demo"
mkdir -p "$demo/out"
echo
echo "== 1. A synthetic trace: 300000 packets, 20000 flows, 3 minutes of"
echo "      traffic (IPv4/IPv6, VLAN, TCP/UDP/ICMP incl. backscatter)."
"$build/app/flowcap-gen/flowcap-gen" --packets 300000 --flows 20000 \
	--seed 42 --rate 1700 --start 1700000000 -o "$demo/demo.pcap"
ls -l "$demo/demo.pcap"
echo
echo "== 2. flowcap captures it through DPDK: the pcap is replayed by the"
echo "      net_pcap virtual device (no NIC, no hugepages needed), one"
echo "      worker counts flowtuples, the collector writes one file per"
echo "      60-second interval."
ncpu=$(nproc)
"$build/app/flowcap/flowcap" --no-huge --no-shconf -m 512 --no-pci --no-telemetry \
	--lcores "(0-2)@(0-$((ncpu - 1)))" --log-level=lib.eal:error \
	--vdev "net_pcap0,rx_pcap=$demo/demo.pcap" -- \
	--interval 60 --out "$demo/out" --name demo --idle-exit 2
echo
echo "== 3. The files (they appear atomically, one per interval):"
ls -l "$demo/out"
echo
echo "== 4. What each interval counted (flowcap-read --stats):"
"$build/app/flowcap-read/flowcap-read" --stats "$demo"/out/*.ft.zst
echo
echo "== 5. The first flowtuples, as CSV (flowcap-read --format csv):"
"$build/app/flowcap-read/flowcap-read" --format csv "$demo"/out/*.ft.zst | head -n 12
echo
echo "Done. Read everything with:"
echo "  $build/app/flowcap-read/flowcap-read $demo/out/*.ft.zst | less"

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# quickstart.sh demo   install, build, generate a demo trace, capture it
#                      through DPDK with flowcap, show the result
# quickstart.sh test   install, build, run the whole test suite
#
# Both are idempotent: run them as often as you like (as root, for the
# package installation; everything else runs from the source tree).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build"
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
	# Keep the per-test lines and the failures; the full log is in the
	# build directory.
	grep -E '^ *[0-9]+/[0-9]+ ' "$build/test-output.txt" || true
	if [ $rc -ne 0 ]; then
		sed -n '/^--- /,$p' "$build/test-output.txt" | tail -n 200
	fi
	ok=$(sed -n 's/^Ok: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
	fail=$(sed -n 's/^Fail: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
	to=$(sed -n 's/^Timeout: *\([0-9]*\).*/\1/p' "$build/test-output.txt")
	fail=$(( ${fail:-0} + ${to:-0} ))
	echo "${ok:-0} passed, ${fail} failed"
	[ $rc -eq 0 ] && [ "${ok:-0}" -gt 0 ]
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

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
	log="$build/meson-logs/testlog.txt"
	# One line per test: "N/M suite / name  STATUS  time".
	sed '/^Summary of Failures:/,$d' "$build/test-output.txt" |
		grep -E '^ *[0-9]+/[0-9]+ ' || true
	# The section of meson's log of one test: from its header
	# ("==== K/N ====") to the next one.
	section() {
		if [ -f "$log" ]; then
			awk -v t="$1" '
				/^=+ [0-9]+\/[0-9]+ =+$/ {
					if (keep) { print buf; keep = 0; exit }
					buf = $0; keep = 0; next }
				{ buf = buf "\n" $0 }
				index($0, "test:") == 1 {
					n = $0; sub(/^test: */, "", n)
					if (n == t) keep = 1 }
				END { if (keep) print buf }' "$log"
		else
			echo "(no $log)"
		fi
	}
	# Tests by status, each once (meson repeats failures in its
	# "Summary of Failures").
	named() {
		sed -n "s/^ *[0-9]*\/[0-9]* \(.*[^ ]\) *\($1\) .*/\1/p" \
			"$build/test-output.txt" | awk '!seen[$0]++'
	}
	failed=$(named 'FAIL\|TIMEOUT\|UNEXPECTEDPASS\|ERROR')
	if [ -n "$failed" ]; then
		echo
		echo "quickstart: why they failed (the end of each failing test's log):"
		echo "$failed" | while IFS= read -r t; do
			echo
			echo "=== $t"
			section "$t" | tail -n 60
		done
	fi
	# A skipped test says why in its "SKIP ..." lines (tests/integration/lib.sh).
	skipped=$(named SKIP)
	if [ -n "$skipped" ]; then
		echo
		echo "quickstart: skipped, and why:"
		echo "$skipped" | while IFS= read -r t; do
			why=$(section "$t" | sed -n 's/^SKIP //p' | head -n 5)
			echo "  $t: ${why:-(no reason given)}"
		done
	fi
	count() { sed -n "s/^$1: *\([0-9]*\).*/\1/p" "$build/test-output.txt" | tail -n 1; }
	ok=$(count Ok)
	xfail=$(count "Expected Fail")
	fail=$(count Fail)
	xpass=$(count "Unexpected Pass")
	skip=$(count Skipped)
	to=$(count Timeout)
	passed=$(( ${ok:-0} + ${xfail:-0} ))
	nfail=$(( ${fail:-0} + ${xpass:-0} + ${to:-0} ))
	if [ "$nfail" -eq 0 ] && [ $rc -ne 0 ]; then
		# meson itself failed (no test ran, or a build error): that is
		# a failure too, never a pass.
		nfail=1
		echo "quickstart: meson test exited $rc:"
		tail -n 20 "$build/test-output.txt"
	fi
	echo
	echo "quickstart: meson's output is in $build/test-output.txt, every test's full log in $log"
	# A skip is never a pass: this machine did not run that test. It
	# fails the run unless the machine is known not to be able to.
	skipok=1
	if [ "${skip:-0}" -gt 0 ] && [ "${FLOWCAP_ALLOW_SKIP:-0}" != 1 ]; then
		skipok=0
		echo "quickstart: ${skip} test(s) skipped: give this machine what they need, or set FLOWCAP_ALLOW_SKIP=1 to accept it (doc/testing.md)"
	fi
	echo "$passed passed, $nfail failed, ${skip:-0} skipped"
	[ "$nfail" -eq 0 ] && [ "$passed" -gt 0 ] && [ "$skipok" -eq 1 ]
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

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# sanitize.sh [BUILD_DIR]   build with AddressSanitizer and
#                           UndefinedBehaviorSanitizer, run the whole test
#                           suite there, and fail on any sanitizer report
#
# BUILD_DIR defaults to build-asan (or $FC_ASAN_BUILD) in the source tree.
# It is configured with -Db_sanitize=address,undefined -Db_lundef=false
# (the sanitizer runtimes resolve symbols at load time, so "no undefined
# symbols" cannot be asked of the linker). Every unit and integration test
# then runs against the instrumented binaries: every pcap of
# ../shared/pcaps through flowcap --read and, Ethernet ones, through
# DPDK's net_pcap; the fuzz corpora through the fuzz targets; hostile
# result files through flowcap-read.
#
# Sanitizer settings (see doc/reliability.md):
#  - every report goes to a file under BUILD_DIR/sanitizer-reports/
#    (log_path), whoever ran the binary, so a report from a program whose
#    exit status a test ignores (the reader in a pipeline) is still seen;
#    this script fails if any report file exists at the end;
#  - a report makes the program exit with status 86 (exitcode), which no
#    test accepts as a normal failure (they accept 0, 1 or 2);
#  - UBSan stops at the first report (halt_on_error) with a stack trace;
#  - LeakSanitizer stays on, with no suppression: flowcap frees its
#    tables at exit, and the EAL, net_pcap and rte_cfgfile need none.
# Ends with a line "N passed, M failed, K skipped" and exit status 0 only
# when every test passed, none was skipped (FLOWCAP_ALLOW_SKIP=1 accepts
# skips on a machine that cannot run every test: doc/testing.md) and no
# report was written.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${FC_ASAN_BUILD:-$here/build-asan}}
case "$build" in
/*) ;;
*) build="$PWD/$build" ;;
esac
case "${1:-}" in
-h|--help)
	sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'
	exit 0 ;;
esac

opts="-Db_sanitize=address,undefined -Db_lundef=false"
# shellcheck disable=SC2086
if [ -f "$build/build.ninja" ]; then
	meson setup --reconfigure $opts "$build" "$here" >/dev/null
else
	meson setup $opts "$build" "$here" >/dev/null
fi
ninja -C "$build" >/dev/null
echo "sanitize: built with ASan and UBSan in $build"

reports="$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
ASAN_OPTIONS="log_path=$reports/asan:exitcode=86:abort_on_error=0:detect_leaks=1:check_initialization_order=1:strict_string_checks=1:detect_stack_use_after_return=1"
UBSAN_OPTIONS="log_path=$reports/ubsan:exitcode=86:halt_on_error=1:print_stacktrace=1"
export ASAN_OPTIONS UBSAN_OPTIONS

start=$(date +%s)
set +e
# Instrumented binaries are 2-4 times slower: timeouts x3.
meson test -C "$build" --print-errorlogs --num-processes 1 \
	--timeout-multiplier 3 >"$build/test-output.txt" 2>&1
rc=$?
set -e
end=$(date +%s)
nrep=$(find "$reports" -type f | wc -l)
if [ "$nrep" -gt 0 ]; then
	echo "sanitize: $nrep sanitizer report(s) in $reports:"
	for f in "$reports"/*; do
		echo "--- $f"
		head -n 40 "$f"
	done
fi
echo "sanitize: $((end - start)) s of tests, $nrep sanitizer report(s)"
# shellcheck source=dpdk-scripts/test-summary.sh disable=SC1091
. "$here/dpdk-scripts/test-summary.sh"
fc_test_summary sanitize "$build" "$rc" "$nrep"

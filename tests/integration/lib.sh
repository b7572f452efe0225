# SPDX-License-Identifier: BSD-3-Clause
# Shared helpers for the integration tests (sourced, not run).
# Environment from meson: FC_BUILD (build dir), FC_SRC, FC_SHARED.
set -eu

: "${FC_BUILD:?run through meson test}"
: "${FC_SHARED:=$FC_SRC/../shared}"
FLOWCAP="$FC_BUILD/app/flowcap/flowcap"
FCREAD="$FC_BUILD/app/flowcap-read/flowcap-read"
FCGEN="$FC_BUILD/app/flowcap-gen/flowcap-gen"
ORACLE="$FC_SRC/tests/oracle/tshark-oracle.py"
NCPU=$(nproc)
TMP=$(mktemp -d /tmp/fc-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# A signal (meson's timeout sends SIGTERM) exits through the EXIT trap,
# which a test that starts processes or mounts extends to undo them.
trap 'exit 1' INT TERM HUP
# What a test creates outside itself ($TMP, network namespaces: note) is
# listed here; t_zz_leftovers.sh, the suite's last test, fails if any of
# it, or a mount or process under it, is still there.
FC_RESOURCES="$FC_BUILD/fc-test-resources.list"
note() { echo "$*" >>"$FC_RESOURCES"; }
note dir "$TMP"
PASS=0
FAIL=0
SKIP=0

ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }
# skip WHAT: a case this machine cannot run, and why (e.g. "NIC drops:
# cannot create a network namespace: ..."). Only for what a machine may
# really lack (root, network namespaces); a tool that install-deps.sh
# installs is `bad` when missing. A test with a skipped case and no
# failure ends with exit status 77, which meson reports as SKIP, and
# quickstart.sh and sanitize.sh fail on (doc/testing.md).
skip() { SKIP=$((SKIP + 1)); echo "SKIP $*"; }

# poll SECS CMD...: run CMD every 0.1 s until it succeeds (status 0) or
# SECS seconds pass (status 1). The way to wait for something to happen.
poll() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.1
	done
}

# EAL options for N workers on this machine's CPUs, no hugepages.
eal() {
	n=$1
	echo "--no-huge --no-shconf -m 512 --no-pci --no-telemetry" \
		"--log-level=lib.eal:error --lcores=(0-$((n + 1)))@(0-$((NCPU - 1)))"
}

# Rows of every file in a directory, CSV without header, sorted.
rows() {
	set -- "$1"/*.ft.zst
	[ -e "$1" ] || return 0
	"$FCREAD" --format csv "$@" | tail -n +2 | LC_ALL=C sort
}

# Compare two sorted row files; print a short diff on mismatch.
same_rows() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff "$1" "$2" | head -n 10
	return 1
}

# Expected rows of a real trace, with the documented exceptions applied
# (tests/integration/oracle-exceptions.txt).
expected_rows() {
	name=$1
	grep -v '^#' "$FC_SRC/tests/integration/oracle-exceptions.txt" |
		awk -F'|' -v t="$name" '$1 == t {print $2 "|" $3}' >"$TMP/exc.$name"
	awk -v exc="$TMP/exc.$name" '
		BEGIN { while ((getline l < exc) > 0) {
			split(l, a, "|"); s[a[1]] = a[2] } }
		($0 in s) { print s[$0]; next } { print }' \
		"$FC_SHARED/expected/oracle-aligned60/$name.csv" |
		LC_ALL=C sort
}

# The end of every test: its own summary line, then exit 1 on a failure,
# 77 (meson's "skipped") when a case was skipped, 0 otherwise.
finish() {
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ] || exit 1
	[ "$SKIP" -eq 0 ] || exit 77
	exit 0
}

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
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL $*"; }

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

finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

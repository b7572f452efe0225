# SPDX-License-Identifier: BSD-3-Clause
#
# The end of a test run, shared by quickstart.sh test and sanitize.sh
# (sourced, not run): one line per test, the end of each failing test's
# log, why each skipped test skipped, and the summary line
# "N passed, M failed, K skipped".
#
#   fc_test_summary NAME BUILD RC [BAD]
#
# NAME prefixes the script's own lines; BUILD is the build directory whose
# test-output.txt holds meson test's output; RC is meson test's exit
# status; BAD, when not 0, fails the run whatever the tests said (the
# sanitizer reports). Returns 0 only when no test failed, at least one
# passed, none was skipped (FLOWCAP_ALLOW_SKIP=1 accepts skips on a machine
# that cannot run every test: doc/testing.md) and BAD is 0.

fc_test_summary() {
	_n=$1
	_out="$2/test-output.txt"
	_log="$2/meson-logs/testlog.txt"
	_rc=$3
	_bad=${4:-0}
	# One line per test: "N/M suite / name  STATUS  time".
	sed '/^Summary of Failures:/,$d' "$_out" |
		grep -E '^ *[0-9]+/[0-9]+ ' || true
	# Tests by status, each once (meson repeats failures in its
	# "Summary of Failures").
	_failed=$(_fc_named "$_out" 'FAIL\|TIMEOUT\|UNEXPECTEDPASS\|ERROR')
	if [ -n "$_failed" ]; then
		echo
		echo "$_n: why they failed (the end of each failing test's log):"
		echo "$_failed" | while IFS= read -r _t; do
			echo
			echo "=== $_t"
			_fc_section "$_log" "$_t" | tail -n 60
		done
	fi
	# A skipped test says why in its "SKIP ..." lines (tests/integration/lib.sh).
	_skipped=$(_fc_named "$_out" SKIP)
	if [ -n "$_skipped" ]; then
		echo
		echo "$_n: skipped, and why:"
		echo "$_skipped" | while IFS= read -r _t; do
			_why=$(_fc_section "$_log" "$_t" | sed -n 's/^SKIP //p' | head -n 5)
			echo "  $_t: ${_why:-(no reason given)}"
		done
	fi
	_ok=$(_fc_count "$_out" Ok)
	_xfail=$(_fc_count "$_out" "Expected Fail")
	_fail=$(_fc_count "$_out" Fail)
	_xpass=$(_fc_count "$_out" "Unexpected Pass")
	_skip=$(_fc_count "$_out" Skipped)
	_to=$(_fc_count "$_out" Timeout)
	_passed=$(( ${_ok:-0} + ${_xfail:-0} ))
	_nfail=$(( ${_fail:-0} + ${_xpass:-0} + ${_to:-0} ))
	_skip=${_skip:-0}
	if [ "$_nfail" -eq 0 ] && [ "$_rc" -ne 0 ] && [ "$_bad" -eq 0 ]; then
		# meson itself failed (no test ran, or a build error): that is
		# a failure too, never a pass.
		_nfail=1
		echo "$_n: meson test exited $_rc:"
		tail -n 20 "$_out"
	fi
	echo
	echo "$_n: meson's output is in $_out, every test's full log in $_log"
	# A skip is never a pass: this machine did not run that test. It
	# fails the run unless the machine is known not to be able to.
	_skipok=1
	if [ "$_skip" -gt 0 ] && [ "${FLOWCAP_ALLOW_SKIP:-0}" != 1 ]; then
		_skipok=0
		echo "$_n: ${_skip} test(s) skipped: give this machine what they need, or set FLOWCAP_ALLOW_SKIP=1 to accept it (doc/testing.md)"
	fi
	echo "$_passed passed, $_nfail failed, $_skip skipped"
	[ "$_nfail" -eq 0 ] && [ "$_passed" -gt 0 ] && [ "$_skipok" -eq 1 ] &&
		[ "$_bad" -eq 0 ]
}

# The section of meson's log of one test: from its header ("==== K/N ====")
# to the next one.
_fc_section() {
	if [ -f "$1" ]; then
		awk -v t="$2" '
			/^=+ [0-9]+\/[0-9]+ =+$/ {
				if (keep) { print buf; keep = 0; exit }
				buf = $0; keep = 0; next }
			{ buf = buf "\n" $0 }
			index($0, "test:") == 1 {
				n = $0; sub(/^test: */, "", n)
				if (n == t) keep = 1 }
			END { if (keep) print buf }' "$1"
	else
		echo "(no $1)"
	fi
}

_fc_named() {
	sed -n "s/^ *[0-9]*\/[0-9]* \(.*[^ ]\) *\($2\) .*/\1/p" "$1" |
		awk '!seen[$0]++'
}

_fc_count() {
	sed -n "s/^$2: *\([0-9]*\).*/\1/p" "$1" | tail -n 1
}

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap's log lines go through rte_log under its own log types: the EAL
# option --log-level sets them as for any DPDK component; under systemd
# (JOURNAL_STREAM naming the output) every line carries its syslog
# priority for journald. And the systemd unit passes systemd-analyze
# verify, in a root holding what it runs (a unit with a mistake does not).
# The shipped defaults drop root (--user flowcap): systemd-sysusers and
# systemd-tmpfiles, applied to an empty root, make that user, its group
# (the files' --file-group) and the --out directory, owned by it; the unit
# has no StateDirectory= (systemd would chown it back to root).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

T=$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap
# trace DIR [EAL options]: --read T into DIR, stdout and stderr apart.
trace() {
	d=$1
	shift
	mkdir -p "$TMP/$d"
	# shellcheck disable=SC2046
	"$FLOWCAP" $(eal 1) "$@" -- --read "$T" --out "$TMP/$d" \
		>"$TMP/$d.out" 2>"$TMP/$d.err" || bad "$d: exit $?: $(tail -n 2 "$TMP/$d.err")"
}

# --- 1. log types and levels ---
trace plain
trace debug --log-level=flowcap.collector:debug
if grep -q "^flowcap: collector: interval 0 (start [0-9]*): 1 table(s), [0-9]* records" "$TMP/debug.out" &&
	! grep -q "collector: interval" "$TMP/plain.out"; then
	ok "--log-level=flowcap.collector:debug shows the collector's debug lines; they are off by default"
else
	bad "collector debug lines: $(grep -c collector "$TMP/debug.out") with, $(grep -c collector "$TMP/plain.out") without"
fi
trace quiet '--log-level=flowcap.*:warning'
if grep -q "^flowcap: wrote " "$TMP/plain.out" && ! grep -q "wrote " "$TMP/quiet.out" &&
	grep -q "^flowcap: conservation OK" "$TMP/quiet.out"; then
	ok "--log-level=flowcap.*:warning hides the info lines, not the summary"
else
	bad "flowcap.*:warning: $(grep -c wrote "$TMP/quiet.out") 'wrote' lines"
fi

# --- 2. journal priorities ---
# JOURNAL_STREAM=DEV:INODE of the file stdout and stderr go to, as systemd
# sets it for a service whose output is the journal.
mkdir -p "$TMP/j"
: >"$TMP/j.log"
js=$(stat -c '%d:%i' "$TMP/j.log")
JOURNAL_STREAM=$js "$FLOWCAP" --read "$T" --out "$TMP/j" >>"$TMP/j.log" 2>&1 ||
	bad "journal run: exit $?"
mkdir -p "$TMP/j2"
JOURNAL_STREAM=$js "$FLOWCAP" --read "$T" --out "$TMP/j2" --test-fail-dirsync \
	>>"$TMP/j.log" 2>&1 || true
JOURNAL_STREAM=$js "$FLOWCAP" --read "$T" --out "$TMP/j" --bogus \
	>>"$TMP/j.log" 2>&1 || true
if grep -q '^<6>flowcap: wrote ' "$TMP/j.log"; then
	ok "journal: information at priority 6 (info)"
else
	bad "journal: no '<6>flowcap: wrote' line: $(head -n 3 "$TMP/j.log")"
fi
if grep -q '^<4>flowcap: wrote .*directory' "$TMP/j.log"; then
	ok "journal: a problem at priority 4 (warning)"
else
	bad "journal: no '<4>' warning line: $(grep -i sync "$TMP/j.log")"
fi
if grep -q "^<3>flowcap: unknown or incomplete option '--bogus'" "$TMP/j.log"; then
	ok "journal: an error on stderr at priority 3 (err)"
else
	bad "journal: no '<3>' error line: $(grep bogus "$TMP/j.log")"
fi
trace nojournal
if ! grep -q '^<[0-9]>' "$TMP/plain.out" "$TMP/plain.err"; then
	ok "without the journal: no priority prefixes"
else
	bad "priority prefixes outside the journal"
fi

# --- 3. the systemd unit ---
if ! command -v systemd-analyze >/dev/null; then
	bad "systemd-analyze missing (Debian's systemd package)"
	finish
fi
# A root with what the unit runs, where the unit says it is.
R=$TMP/root
mkdir -p "$R/usr/local/bin" "$R/usr/local/lib/flowcap" "$R/etc/systemd/system" \
	"$R/lib/systemd"
cp -a /lib/systemd/system "$R/lib/systemd/"
cp "$FLOWCAP" "$R/usr/local/bin/flowcap"
cp "$FC_SRC/dpdk-scripts/hugepages.sh" "$FC_SRC/dpdk-scripts/bind-nics.sh" \
	"$R/usr/local/lib/flowcap/"
cp "$FC_SRC/dpdk-scripts/flowcap.service" "$R/etc/systemd/system/"
if systemd-analyze --root="$R" verify flowcap.service >"$TMP/verify.out" 2>&1 &&
	[ ! -s "$TMP/verify.out" ]; then
	ok "systemd-analyze verify: the unit is clean"
else
	bad "systemd-analyze verify: $(head -n 5 "$TMP/verify.out")"
fi
sed 's/^NoNewPrivileges=yes/NoNewPrivileges=yes\nProtectSytem=full/' \
	"$FC_SRC/dpdk-scripts/flowcap.service" >"$R/etc/systemd/system/flowcap.service"
systemd-analyze --root="$R" verify flowcap.service >"$TMP/verify2.out" 2>&1 || true
if grep -q "Unknown key 'ProtectSytem'" "$TMP/verify2.out"; then
	ok "systemd-analyze verify: a misspelt setting is caught"
else
	bad "systemd-analyze verify did not catch a misspelt setting"
fi
# The hardening the unit promises is in force as systemd reads it.
cp "$FC_SRC/dpdk-scripts/flowcap.service" "$R/etc/systemd/system/"
systemd-analyze --offline=true --root="$R" security flowcap.service \
	>"$TMP/sec.out" 2>&1 || true
for s in NoNewPrivileges ProtectHome PrivateTmp CapabilityBoundingSet \
	RestrictAddressFamilies ProtectKernelModules; do
	if grep -E "^[^ ]*✓ +$s=" "$TMP/sec.out" >/dev/null ||
		grep -E "✓ $s" "$TMP/sec.out" >/dev/null; then
		n=$((${n:-0} + 1))
	else
		bad "systemd-analyze security: $s not in force: $(grep "$s" "$TMP/sec.out" | head -n 2)"
	fi
done
# ProtectSystem=full (not strict: DPDK writes /sys and /dev/hugepages).
if grep -q "✗ ProtectSystem= .*very limited write access" "$TMP/sec.out"; then
	n=$((${n:-0} + 1))
else
	bad "systemd-analyze security: ProtectSystem=full not in force"
fi
if [ "${n:-0}" -eq 7 ]; then
	ok "systemd-analyze security: the 7 settings checked are in force ($(grep 'Overall exposure' "$TMP/sec.out" | sed 's/^ *//'))"
fi

# --- 4. the shipped defaults drop root ---
S=$FC_SRC/dpdk-scripts
ARGS=$(sed -n 's/^FLOWCAP_ARGS="\(.*\)"$/\1/p' "$S/flowcap.default")
# optval NAME: the value of option NAME in the defaults' FLOWCAP_ARGS.
optval() {
	echo "$ARGS" | awk -v o="$1" '{ for (i = 1; i < NF; i++) if ($i == o) { print $(i + 1); exit } }'
}
USER_=$(optval --user)
OUT=$(optval --out)
FGROUP=$(optval --file-group)
if [ "$USER_" = flowcap ] && [ "$OUT" = /var/lib/flowcap ]; then
	ok "defaults: FLOWCAP_ARGS drops root (--user $USER_, --out $OUT)"
else
	bad "defaults: FLOWCAP_ARGS lacks --user flowcap or --out /var/lib/flowcap: $ARGS"
fi
if grep -q '^StateDirectory' "$S/flowcap.service"; then
	bad "unit: StateDirectory= would give $OUT back to root at each start"
else
	ok "unit: no StateDirectory= (the directory is tmpfiles.d's)"
fi
# Parsed by systemd's own tools (which say a missing group but exit 0):
# nothing but what it would create and write.
sysusers_clean() { # FILE: rc 0 and only "Creating ..." / "Would write ..."
	systemd-sysusers --dry-run --root="$TMP/dry" "$1" >"$TMP/su.out" 2>&1 &&
		! grep -v -e '^Creating ' -e '^Would write ' "$TMP/su.out" | grep -q .
}
if sysusers_clean "$S/flowcap.sysusers" &&
	grep -q "^Creating user '$USER_' " "$TMP/su.out"; then
	ok "systemd-sysusers --dry-run: flowcap.sysusers creates user $USER_, nothing else said"
else
	bad "systemd-sysusers --dry-run flowcap.sysusers: $(tr '\n' ';' <"$TMP/su.out")"
fi
sed 's/^u flowcap -:flowcap /u flowcap -:nosuchgroup /' "$S/flowcap.sysusers" >"$TMP/bad.sysusers"
if sysusers_clean "$TMP/bad.sysusers"; then
	bad "systemd-sysusers took a user of a group that does not exist"
else
	ok "systemd-sysusers check: a user of a missing group is caught ($(grep -v -e '^Creating ' -e '^Would write ' "$TMP/su.out" | head -n 1))"
fi
# Applied to an empty root, as on a fresh server at install.
SR=$TMP/sysroot
mkdir -p "$SR/etc"
if [ "$(id -u)" -ne 0 ]; then
	skip "sysusers and tmpfiles applied to a root: needs root for the chown"
elif systemd-sysusers --root="$SR" "$S/flowcap.sysusers" >"$TMP/su3.out" 2>&1 &&
	systemd-tmpfiles --root="$SR" --create "$S/flowcap.tmpfiles" >"$TMP/tf.out" 2>&1; then
	pw=$(grep "^$USER_:" "$SR/etc/passwd")
	uid=$(echo "$pw" | cut -d: -f3)
	gid=$(echo "$pw" | cut -d: -f4)
	fgid=$(grep "^$FGROUP:" "$SR/etc/group" | cut -d: -f3)
	st=$(stat -c '%u %g %a' "$SR$OUT" 2>/dev/null)
	if [ -n "$uid" ] && [ "$uid" -ne 0 ] &&
		[ "$(echo "$pw" | cut -d: -f6-7)" = "$OUT:/usr/sbin/nologin" ] &&
		[ "$gid" = "$fgid" ] && [ "$st" = "$uid $gid 750" ]; then
		ok "sysusers + tmpfiles: user $USER_ (uid $uid, no login), its group the --file-group $FGROUP, $OUT $st"
	else
		bad "sysusers + tmpfiles: passwd '$pw', group $FGROUP=$fgid, $OUT: '$st'"
	fi
else
	bad "sysusers + tmpfiles in a root: $(cat "$TMP/su3.out" "$TMP/tf.out")"
fi
finish

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap's output files and directory: one writer per directory (a
# second flowcap is refused and the first loses nothing), file names checked
# before the run (length limits, hidden or control characters), the real
# cause of a failed write, a driver config that is not a regular file, and
# the options that shape a file (--zstd-level, --file-group, --file-mode)
# take effect.
. "$(dirname "$0")/lib.sh"
T="$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap"
APID=
MNT=
cleanup() {
	exec 3>&- 2>/dev/null || true
	if [ -n "$APID" ]; then kill "$APID" 2>/dev/null || true; fi
	if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT

has_tmp() { ls "$1"/*.tmp >/dev/null 2>&1; }

# expect STATUS PATTERN ARGS...: flowcap exits STATUS within 20 s and says
# PATTERN.
expect() {
	want=$1 pat=$2
	shift 2
	set +e
	timeout 20 "$FLOWCAP" "$@" >"$TMP/out.txt" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq "$want" ] && grep -q -- "$pat" "$TMP/out.txt"; then
		ok "$(printf '%s' "flowcap $*" | tr '\n\t' '??' | cut -c1-150): exit $rc, says '$pat'"
	else
		bad "flowcap $*: exit $rc (want $want), output:"
		head -5 "$TMP/out.txt"
	fi
}

# --zstd-level reaches the writer: level 19 gives a smaller file than
# level 1, with the same records.
for l in 1 19; do
	mkdir -p "$TMP/z$l"
	"$FLOWCAP" --read "$T" --out "$TMP/z$l" --zstd-level "$l" \
		--interval 86400 >"$TMP/z$l.log" 2>&1 || true
done
s1=$(cat "$TMP"/z1/*.ft.zst | wc -c)
s19=$(cat "$TMP"/z19/*.ft.zst | wc -c)
rows "$TMP/z1" >"$TMP/z1.csv"
rows "$TMP/z19" >"$TMP/z19.csv"
if [ "$s19" -lt "$s1" ] && [ -s "$TMP/z1.csv" ] &&
	same_rows "$TMP/z1.csv" "$TMP/z19.csv"; then
	ok "--zstd-level 1: $s1 bytes, 19: $s19 bytes, same records"
else
	bad "--zstd-level: level 1 $s1 bytes, level 19 $s19 bytes"
fi

# --- One directory, one writer. A is a trace read from a pipe that stays
# open, so it is mid-file (a .tmp in the directory) while B starts.
mkdir -p "$TMP/one"
mkfifo "$TMP/fifo"
"$FLOWCAP" --read - --out "$TMP/one" --interval 1 --rotate 1000 \
	<"$TMP/fifo" >"$TMP/a.log" 2>&1 &
APID=$!
exec 3>"$TMP/fifo"
cat "$T" >&3
if poll 30 has_tmp "$TMP/one"; then
	expect 2 "in use by another flowcap: held by pid $APID" \
		--read "$T" --out "$TMP/one"
	# shellcheck disable=SC2046
	expect 2 "stop that run or pass another --out" $(eal 1) \
		--vdev net_null0 -- --out "$TMP/one" --idle-exit 1
else
	bad "one writer: the first run never had a .tmp"; tail -5 "$TMP/a.log"
fi
exec 3>&-
set +e
wait "$APID"
rc=$?
set -e
APID=
n=$(ls "$TMP/one" | wc -l)
if [ "$rc" -eq 0 ] && grep -q " 0 intervals lost" "$TMP/a.log" &&
	[ "$n" -eq 1 ] && ls "$TMP"/one/*.ft.zst >/dev/null 2>&1 &&
	"$FCREAD" --verify "$TMP"/one/*.ft.zst >/dev/null 2>&1; then
	ok "one writer: the running flowcap completed its file (no LOST, no .incomplete, no -1 copy)"
else
	bad "one writer: first run exit $rc, directory: $(ls "$TMP/one" | tr '\n' ' ')"
	tail -5 "$TMP/a.log"
fi
# The lock dies with its holder: a later run takes the directory.
expect 0 "conservation OK" --read "$T" --out "$TMP/one" --name later

# --- File names the file system would refuse, refused before the run.
mkdir -p "$TMP/names"
long=$(printf '%0250d' 0)
expect 2 "NAME_MAX" --read "$T" --out "$TMP/names" --name "m$long"
expect 2 "NAME_MAX" --read "$T" --out "$TMP/names" --template "%N.$long.%s"
# A directory of 4060 bytes exists, but no file name fits in it.
deep=$TMP/deep
while [ $((${#deep} + 201)) -le 4060 ]; do
	deep=$deep/$(printf '%0200d' 0)
done
deep=$deep/$(printf "%0$((4060 - ${#deep} - 1))d" 0)
mkdir -p "$deep"
expect 2 "PATH_MAX" --read "$T" --out "$deep"
expect 2 "starts with '.'" --read "$T" --out "$TMP/names" --name .. --template %N
expect 2 "starts with '.'" --read "$T" --out "$TMP/names" --name .m --template '%N.%s'
expect 2 "may not contain a control character" --read "$T" --out "$TMP/names" --name "$(printf 'a\nb')"
expect 2 "may not contain a control character" --read "$T" --out "$TMP/names" --name "$(printf 'a\tb')"
expect 2 "may not contain a space" --read "$T" --out "$TMP/names" --name "a b"
expect 2 "may not contain '='" --read "$T" --out "$TMP/names" --name "rx=1"
expect 2 "control character" --read "$T" --out "$TMP/names" --template "$(printf '%%N\n%%s')"
if [ -z "$(ls -A "$TMP/names")" ]; then
	ok "refused names wrote nothing (no hidden file, no lock)"
else
	bad "refused names left: $(ls -A "$TMP/names" | tr '\n' ' ')"
fi

# --- --driver-config: only a regular file; never spins or blocks.
mkfifo "$TMP/drv.fifo"
# (Checked before the EAL starts; --read refuses --driver-config.)
expect 2 "is not a regular file (a character device)" \
	--out "$TMP/names" --driver-config /dev/zero
expect 2 "is not a regular file (a FIFO)" --out "$TMP/names" \
	--driver-config "$TMP/drv.fifo"
expect 2 "is not a regular file (a directory)" \
	--out "$TMP/names" --driver-config "$TMP"

# --- A write that fails says why. The file system turns read-only under
# a running flowcap (after its start-up checks): every interval is LOST
# with the system's own words, not a generic "input/output error".
mkdir -p "$TMP/ro"
if mount -t tmpfs -o size=4m tmpfs "$TMP/ro" 2>/dev/null; then
	MNT=$TMP/ro
	# Full first: the interval is LOST for want of space, and says so.
	dd if=/dev/zero of="$TMP/ro/filler" bs=4k 2>/dev/null || true
	set +e
	"$FLOWCAP" --read "$T" --out "$TMP/ro" >"$TMP/full.log" 2>&1
	rc=$?
	set -e
	rm -f "$TMP/ro/filler"
	if [ "$rc" -eq 1 ] &&
		grep -q "$TMP/ro/.*: no space left on device.* LOST" "$TMP/full.log"; then
		ok "full file system: LOST with 'no space left on device', exit 1"
	else
		bad "full file system: exit $rc"; tail -5 "$TMP/full.log"
	fi
	"$FLOWCAP" --read - --out "$TMP/ro" <"$TMP/fifo" >"$TMP/ro.log" 2>&1 &
	APID=$!
	exec 3>"$TMP/fifo"
	if poll 30 grep -q "collector" "$TMP/ro.log" &&
		mount -o remount,ro "$TMP/ro"; then
		cat "$T" >&3
	fi
	exec 3>&-
	set +e
	wait "$APID"
	rc=$?
	set -e
	APID=
	if [ "$rc" -eq 1 ] &&
		grep -q "LOST: cannot write $TMP/ro/.*: Read-only file system" "$TMP/ro.log" &&
		! grep -q "input/output error" "$TMP/ro.log"; then
		ok "read-only file system mid-run: LOST with 'Read-only file system', exit 1"
	else
		bad "read-only file system mid-run: exit $rc"; tail -5 "$TMP/ro.log"
	fi
	umount "$TMP/ro"
	MNT=
else
	bad "read-only file system: cannot mount a tmpfs (needs root)"
fi

# A directory fsync that fails: the file is complete, and the warning says
# the system's reason too.
mkdir -p "$TMP/dsync"
"$FLOWCAP" --read "$T" --out "$TMP/dsync" --test-fail-dirsync \
	>"$TMP/dsync.log" 2>&1 || true
if grep -q "could not be synced (its name may not survive a power loss) (Input/output error)" "$TMP/dsync.log"; then
	ok "failed directory fsync: the warning gives the reason (Input/output error)"
else
	bad "failed directory fsync: no reason given"; grep "synced" "$TMP/dsync.log"
fi

# --- --file-group and --file-mode: every file has them; bad ones refused.
mkdir -p "$TMP/perm"
"$FLOWCAP" --read "$T" --out "$TMP/perm" --interval 1 --file-group adm \
	--file-mode 0604 >"$TMP/perm.log" 2>&1 || true
gid=$(getent group daemon | cut -d: -f3)
"$FLOWCAP" --read "$T" --out "$TMP/perm" --interval 1 --name num \
	--file-group "$gid" >>"$TMP/perm.log" 2>&1 || true
a=$(stat -c '%G %a' "$TMP"/perm/flowcap.*.ft.zst | sort -u)
b=$(stat -c '%G %a' "$TMP"/perm/num.*.ft.zst | sort -u)
n=$(ls "$TMP"/perm/flowcap.*.ft.zst | wc -l)
if [ "$a" = "adm 604" ] && [ "$b" = "daemon 640" ] && [ "$n" -gt 1 ]; then
	ok "--file-group adm --file-mode 0604: all $n files 'adm 604'; --file-group $gid: 'daemon 640'"
else
	bad "--file-group/--file-mode: got '$a' and '$b' ($n files)"; tail -3 "$TMP/perm.log"
fi
expect 2 "no such group" --read "$T" --out "$TMP/perm" --file-group no-such-group-fc
expect 2 "never executable" --read "$T" --out "$TMP/perm" --file-mode 0750
expect 2 "never executable" --read "$T" --out "$TMP/perm" --file-mode 0200
expect 2 "never executable" --read "$T" --out "$TMP/perm" --file-mode rw
expect 2 "is not a member of it" --read "$T" --out "$TMP/perm" --user nobody \
	--file-group adm
# Root without CAP_CHOWN (the capability bounding set of a unit that does
# not keep it) cannot give files to a group it is not in: refused at start.
set +e
setpriv --bounding-set -chown "$FLOWCAP" --read "$T" --out "$TMP/perm" \
	--name nochown --file-group daemon >"$TMP/nochown.log" 2>&1
rc=$?
set -e
if [ "$rc" -eq 2 ] && grep -q "cannot give files in .* Operation not permitted; .* CAP_CHOWN" "$TMP/nochown.log" &&
	! ls "$TMP"/perm/nochown* >/dev/null 2>&1; then
	ok "--file-group without CAP_CHOWN: refused at start, exit 2"
else
	bad "--file-group without CAP_CHOWN: exit $rc"; tail -3 "$TMP/nochown.log"
fi

finish

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Trace input (--read) as users give it: a capture split by tcpdump -C and
# passed in glob or reverse order (read in time order, same rows as the
# whole trace, nothing late), inputs that overlap in time (said once per
# pair), the same file twice (refused), standard input among files,
# gzip/zstd/xz-compressed traces from files and pipes (same rows as the
# plain trace), truncated compressed traces (reported, packets before the
# cut counted), and options that mean nothing with --read (refused, exit 2).
. "$(dirname "$0")/lib.sh"
R="$FC_SHARED/pcaps/real"

# Run flowcap on a trace with default EAL options; $1 is the output
# directory (created), the rest flowcap's options. Log in $1.log.
run() {
	o=$1
	shift
	mkdir -p "$o"
	set +e
	"$FLOWCAP" "$@" --interval 1 --out "$o" >"$o.log" 2>&1
	rc=$?
	set -e
}

# Every record of a run's files, as flowcap-read prints them.
csv() {
	"$FCREAD" --format csv "$1"/*.ft.zst
}

# --- a trace split by tcpdump -C: part, part1, ..., part12. A shell glob
# gives part, part1, part10, part11, part12, part2, ...
"$FCGEN" -q -n 150000 -f 2000 --size 64 --rate 10000 -o "$TMP/whole.pcap"
mkdir -p "$TMP/split"
# -Z root: tcpdump writes as root into the test's private directory.
tcpdump -Z root -r "$TMP/whole.pcap" -w "$TMP/split/part" -C 1 2>/dev/null
nparts=$(ls "$TMP/split" | wc -l)
run "$TMP/ref" --read "$TMP/whole.pcap"
ref_rc=$rc
csv "$TMP/ref" >"$TMP/ref.csv"
glob=""
rev=""
for p in "$TMP"/split/part*; do
	glob="$glob --read $p"
	rev="--read $p $rev"
done
# shellcheck disable=SC2086
run "$TMP/glob" $glob
glob_rc=$rc
# shellcheck disable=SC2086
run "$TMP/rev" $rev
if [ "$nparts" -gt 10 ] && [ "$ref_rc" -eq 0 ] && [ "$glob_rc" -eq 0 ] &&
	[ "$rc" -eq 0 ] && [ -s "$TMP/ref.csv" ] &&
	csv "$TMP/glob" | cmp -s - "$TMP/ref.csv" &&
	csv "$TMP/rev" | cmp -s - "$TMP/ref.csv" &&
	! grep -q "late" "$TMP/glob.log" "$TMP/rev.log" &&
	grep -q "summary: 150000 packets received" "$TMP/rev.log" &&
	grep -q "read in the time order of their first packets" "$TMP/rev.log" &&
	! grep -q "overlap" "$TMP/glob.log" "$TMP/rev.log"; then
	ok "$nparts tcpdump -C parts in glob and reverse order: the whole trace's rows, late 0"
else
	bad "split trace: $nparts parts, exit $ref_rc/$glob_rc/$rc"
	grep -h "late\|summary\|cannot" "$TMP/glob.log" "$TMP/rev.log" | head -6
fi

# --- standard input among the files: ordered by its first packet too.
set -- "$TMP"/split/part*
args=""
for p in "$@"; do
	[ "$p" = "$TMP/split/part5" ] && continue
	args="--read $p $args"
done
mkdir -p "$TMP/stdin"
set +e
# shellcheck disable=SC2086
"$FLOWCAP" --read - $args --interval 1 --out "$TMP/stdin" \
	<"$TMP/split/part5" >"$TMP/stdin.log" 2>&1
rc=$?
set -e
if [ "$rc" -eq 0 ] && csv "$TMP/stdin" | cmp -s - "$TMP/ref.csv" &&
	! grep -q "late" "$TMP/stdin.log"; then
	ok "standard input (part5 of $nparts) put in its place by its first packet"
else
	bad "standard input among files: exit $rc"; tail -3 "$TMP/stdin.log"
fi

# --- inputs that overlap in time: said once per pair, on stderr; their
# older packets are late (and counted).
for c in a b c; do
	cp "$R/tcpreplay-test-mix.pcap" "$TMP/copy-$c.pcap"
done
mkdir -p "$TMP/ovl"
set +e
"$FLOWCAP" --read "$TMP/copy-a.pcap" --read "$TMP/copy-b.pcap" \
	--read "$TMP/copy-c.pcap" --interval 1 --out "$TMP/ovl" \
	>"$TMP/ovl.out" 2>"$TMP/ovl.err"
rc=$?
set -e
n=$(grep -c "overlap in time" "$TMP/ovl.err" || true)
if [ "$rc" -eq 0 ] && [ "$n" -eq 3 ] &&
	grep -q "'$TMP/copy-b.pcap' starts at 2010-07-07 .* before the newest packet of '$TMP/copy-a.pcap'" "$TMP/ovl.err" &&
	grep -q "'$TMP/copy-c.pcap' starts at .* of '$TMP/copy-b.pcap'" "$TMP/ovl.err" &&
	grep -q "late" "$TMP/ovl.out" && grep -q "conservation OK" "$TMP/ovl.out" &&
	! grep -q "not as given" "$TMP/ovl.out"; then
	ok "3 overlapping inputs: $n overlap notes (one per pair), late counted; equal first times keep their order"
else
	bad "overlapping inputs: exit $rc, $n notes"; head -5 "$TMP/ovl.err"
fi
# Inputs that do not overlap say nothing (checked above with the parts).

# --- the same file twice would count it twice: refused, exit 2; also
# through a hard link, and '-' twice.
ln "$TMP/copy-a.pcap" "$TMP/link-a.pcap"
fails=""
for second in "$TMP/copy-a.pcap" "$TMP/link-a.pcap"; do
	set +e
	"$FLOWCAP" --read "$TMP/copy-a.pcap" --read "$second" \
		--out "$TMP" >"$TMP/dup.log" 2>&1
	rc=$?
	set -e
	[ "$rc" -eq 2 ] && grep -q "same file as --read '$TMP/copy-a.pcap'" "$TMP/dup.log" ||
		fails="$fails $second:$rc"
done
set +e
"$FLOWCAP" --read - --read - --out "$TMP" </dev/null >"$TMP/dup.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] && grep -q "given twice" "$TMP/dup.log" || fails="$fails stdin:$rc"
if [ -z "$fails" ] && ! ls "$TMP"/*.ft.zst >/dev/null 2>&1; then
	ok "the same input twice (path, hard link, '-') refused with exit 2"
else
	bad "same input twice:$fails"; cat "$TMP/dup.log"
fi

# --- compressed traces: gzip, zstd and xz, told by their bytes (the names
# here say nothing), from a file and from a pipe: the plain trace's rows.
for t in tcpreplay-test-mix pcapplusplus-example-tcp-mix; do
	run "$TMP/z-$t" --read "$R/$t.pcap"
	csv "$TMP/z-$t" >"$TMP/z-$t.csv"
	fails=""
	for z in "gzip -c" "zstd -q -c" "xz -c"; do
		k=${z%% *}
		$z "$R/$t.pcap" >"$TMP/$t.$k.trace"
		run "$TMP/z-$t-$k" --read "$TMP/$t.$k.trace"
		{ [ "$rc" -eq 0 ] && csv "$TMP/z-$t-$k" | cmp -s - "$TMP/z-$t.csv"; } ||
			fails="$fails $k:$rc"
		mkdir -p "$TMP/zp-$t-$k"
		set +e
		$z "$R/$t.pcap" | "$FLOWCAP" --read - --interval 1 \
			--out "$TMP/zp-$t-$k" >"$TMP/zp-$t-$k.log" 2>&1
		rc=$?
		set -e
		{ [ "$rc" -eq 0 ] && csv "$TMP/zp-$t-$k" | cmp -s - "$TMP/z-$t.csv"; } ||
			fails="$fails $k-pipe:$rc"
	done
	if [ -z "$fails" ] && [ -s "$TMP/z-$t.csv" ]; then
		ok "$t: gzip, zstd, xz (file and pipe) give the plain trace's rows"
	else
		bad "$t compressed:$fails"; tail -2 "$TMP"/z-"$t"-*.log
	fi
done

# --- a compressed trace cut short: the packets before the cut are
# counted, the cut is reported with the file's name, exit 1.
t=pcapplusplus-example-tcp-mix
fails=""
for k in gzip zstd xz; do
	len=$(wc -c <"$TMP/$t.$k.trace")
	head -c $((len / 2)) "$TMP/$t.$k.trace" >"$TMP/cut.$k"
	run "$TMP/cut-$k" --read "$TMP/cut.$k"
	n=$(sed -n 's/.*summary: \([0-9]*\) packets received.*/\1/p' "$TMP/cut-$k.log")
	{ [ "$rc" -eq 1 ] && [ "${n:-0}" -gt 0 ] && [ "$n" -lt 4631 ] &&
		grep -q "'$TMP/cut.$k'.*$k input: the compressed file ends inside a member or frame: it is truncated" "$TMP/cut-$k.log" &&
		grep -q "conservation OK" "$TMP/cut-$k.log"; } ||
		fails="$fails $k:$rc:${n:-none}"
done
if [ -z "$fails" ]; then
	ok "compressed traces cut in half: reported as truncated with the name, packets before the cut counted, exit 1"
else
	bad "truncated compressed traces:$fails"; tail -3 "$TMP"/cut-*.log
fi

# --- options that name ports or devices mean nothing with --read:
# refused with a message, exit 2, before anything is written.
T="$R/tcpreplay-test-mix.pcap"
mkdir -p "$TMP/conf"
printf '[port]\nburst = 32\n' >"$TMP/drv.ini"
fails=""
check_refused() {
	want=$1
	shift
	set +e
	"$FLOWCAP" "$@" >"$TMP/conf.log" 2>&1
	rc=$?
	set -e
	{ [ "$rc" -eq 2 ] && grep -q -- "$want" "$TMP/conf.log" &&
		! ls "$TMP"/conf/*.ft.zst >/dev/null 2>&1; } ||
		{ fails="$fails [$*]:$rc"; tail -2 "$TMP/conf.log"; }
}
check_refused "--ports selects DPDK ports" --read "$T" --ports 0 --out "$TMP/conf"
check_refused "--driver-config selects DPDK ports" --read "$T" \
	--driver-config "$TMP/drv.ini" --out "$TMP/conf"
# shellcheck disable=SC2046
check_refused "EAL option --vdev names a device" $(eal 1) \
	--vdev "net_pcap0,rx_pcap=$T" -- --read "$T" --out "$TMP/conf"
# shellcheck disable=SC2046
check_refused "EAL option --vdev=net_null0 names a device" $(eal 1) \
	--vdev=net_null0 -- --read "$T" --out "$TMP/conf"
# shellcheck disable=SC2046
check_refused "EAL option -a names a device" $(eal 1) -a 0000:00:00.0 \
	-- --read "$T" --out "$TMP/conf"
# --workers with EAL options: N of the worker lcores they give; more
# than they give is refused.
# shellcheck disable=SC2046
check_refused "--workers 2 needs 4 lcores" $(eal 1) \
	-- --read "$T" --workers 2 --out "$TMP/conf"
set +e
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 2) -- --read "$T" --workers 2 --out "$TMP/conf" \
	>"$TMP/conf2.log" 2>&1
rc=$?
set -e
if [ -z "$fails" ] && [ "$rc" -eq 0 ] && grep -q "2 worker(s)" "$TMP/conf2.log"; then
	ok "--ports, --driver-config, --vdev, -a and more --workers than lcores refused with --read (exit 2); --workers 2 on 4 lcores runs 2"
else
	bad "options with --read:$fails; --workers 2 on 4 lcores: exit $rc"
	tail -2 "$TMP/conf2.log"
fi
finish

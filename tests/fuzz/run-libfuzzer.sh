#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the fuzz targets with clang's libFuzzer, ASan and UBSan, and run
# one of them. Usage:
#   tests/fuzz/run-libfuzzer.sh TARGET [RUNS] [extra libFuzzer flags]
# TARGET: parse | ftfile | template | trace | drvcfg | query (flowcap-read's
# --filter). RUNS: executions (default
# 1000000; -1 runs until stopped).
#
# The working corpus and any crash files are kept in $FC_FUZZ_OUT
# (default build-fuzz/). It is seeded on first use: parse from the packets
# of ../shared/pcaps, ftfile from files flowcap writes, template from a
# list of templates, drvcfg from drivers-config/*.ini. The hand-picked
# corpus committed in tests/fuzz/corpus/TARGET is read as a second, read-only
# corpus directory. A long parser run, then merging what it found into the
# committed corpus (keep it small: it is replayed by every test run):
#   tests/fuzz/run-libfuzzer.sh parse 100000000 -jobs=1
#   tests/fuzz/run-libfuzzer.sh parse 0 -merge=1 tests/fuzz/corpus/parse
# (the extra directory after -merge=1 is merged INTO the committed one.)
#
# Environment: FC_BUILD, the meson build dir holding mkcorpus and flowcap
# (default build/); FC_SHARED (default ../shared); CC (default clang);
# FC_FUZZ_SAN, the sanitizers (default address,undefined). The ftfile
# target runs at about 1,500 exec/s under ASan (every file with records
# makes the reader allocate its 16 MiB column buffer, and ASan maps and
# poisons the shadow of each large allocation) and about 15,000 without:
# run long campaigns with FC_FUZZ_SAN=undefined, then replay the corpus
# they grew through the ASan build (-runs=0 replays and exits).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: run-libfuzzer.sh parse|ftfile|template|drvcfg [RUNS] [flags]}
runs=${2:-1000000}
if [ $# -ge 2 ]; then shift 2; else shift 1; fi
out="${FC_FUZZ_OUT:-$here/build-fuzz}"
build="${FC_BUILD:-$here/build}"
shared="${FC_SHARED:-$here/../shared}"
cc="${CC:-clang}"
corpus="$out/corpus-$target"
committed="$here/tests/fuzz/corpus/$target"
mkdir -p "$corpus"

L="$here/lib"
inc="-I$L/common -I$L/tuple -I$L/parse -I$L/flowtable -I$L/interval -I$L/ftfile -I$L/trace"
san="${FC_FUZZ_SAN:-address,undefined}"
cflags="-g -O1 -fsanitize=fuzzer,$san -fno-sanitize-recover=undefined -msse4.2 -D_GNU_SOURCE"
maxlen=4096
case "$target" in
parse) srcs="$L/parse/fc_parse.c $L/tuple/fc_tuple.c $L/tuple/fc_counter.c"; libs="" ;;
ftfile)
	srcs="$L/ftfile/fc_ftfile.c $L/tuple/fc_tuple.c $L/tuple/fc_counter.c"; libs="-lzstd"
	# Real files of a few intervals are 1-3 KB; leave room to grow.
	maxlen=16384 ;;
template) srcs="$L/interval/fc_interval.c $L/ftfile/fc_ftdir.c"; libs="" ;;
trace)
	srcs="$L/trace/fc_trace.c $L/trace/fc_pcapng.c $L/parse/fc_parse.c $L/tuple/fc_tuple.c $L/tuple/fc_counter.c"
	libs="-lpcap"
	maxlen=65536 ;;
drvcfg)
	pkg-config --exists libdpdk ||
		{ echo "run-libfuzzer.sh: drvcfg needs DPDK (pkg-config libdpdk)" >&2; exit 1; }
	srcs="$here/app/flowcap/fc_drvcfg.c"
	inc="$inc -I$here/app/flowcap $(pkg-config --cflags libdpdk)"
	libs="$(pkg-config --libs libdpdk)"
	maxlen=2048 ;;
query)
	srcs="$here/app/flowcap-read/filter.c $L/tuple/fc_tuple.c $L/tuple/fc_counter.c"
	inc="$inc -I$here/app/flowcap-read"; libs="" ;;
*) echo "run-libfuzzer.sh: unknown target '$target' (parse, ftfile, template, trace, drvcfg, query)" >&2; exit 2 ;;
esac
exe="fuzz_$target"
[ "$san" = address,undefined ] || exe="fuzz_$target-$(echo "$san" | tr , -)"
# shellcheck disable=SC2086
"$cc" $cflags $inc "$here/tests/fuzz/fuzz_$target.c" $srcs $libs \
	-o "$out/$exe"

seed() {
	[ -z "$(ls -A "$corpus")" ] || return 0
	case "$target" in
	parse)
		[ -x "$build/tests/fuzz/mkcorpus" ] ||
			{ echo "build the project first (ninja -C $build)" >&2; exit 1; }
		"$build/tests/fuzz/mkcorpus" "$corpus" \
			"$shared"/pcaps/edge/* "$shared"/pcaps/real/tcpreplay-test-mix.pcap \
			"$shared"/pcaps/real/many-protocols-vlan-ipv6-llc.pcap ;;
	ftfile)
		[ -x "$build/app/flowcap/flowcap" ] ||
			{ echo "build the project first (ninja -C $build)" >&2; exit 1; }
		t=$(mktemp -d)
		for p in tcpreplay-test-mix many-protocols-vlan-ipv6-llc; do
			mkdir "$t/$p"
			"$build/app/flowcap/flowcap" --no-huge --no-shconf -m 512 \
				--no-pci --no-telemetry --log-level=lib.eal:error \
				"--lcores=(0-2)@(0-$(($(nproc) - 1)))" \
				-- --read "$shared/pcaps/real/$p.pcap" --interval 1 \
				--rotate 3 --out "$t/$p" --name fz >/dev/null 2>&1
			for f in "$t/$p"/*.ft.zst; do
				[ "$(wc -c <"$f")" -le "$maxlen" ] &&
					cp "$f" "$corpus/$p-$(basename "$f")"
			done
		done
		rm -rf "$t" ;;
	template)
		i=0
		for tm in '%N.%s.%P.ft.zst' '%Y/%m' '%' '%%%' '%c%x%X' '%q' '.x' \
			'abc' '%N-%Y%m%d-%H%M%S.%P' '%F_%T' '%s%s%s%s' '%E' '%Oy'; do
			printf '\377\377\377\377\377\377\377\377%s' "$tm" >"$corpus/t$i"
			i=$((i + 1))
		done ;;
	drvcfg)
		cp "$here"/drivers-config/*.ini "$corpus/" ;;
	query)
		cp "$here"/tests/fuzz/corpus/query/* "$corpus/" ;;
	trace)
		for p in "$shared"/pcaps/edge/*; do
			[ "$(wc -c <"$p")" -le "$maxlen" ] && cp "$p" "$corpus/"
		done ;;
	esac
}
seed

dirs="$corpus"
[ -d "$committed" ] && dirs="$dirs $committed"
dict=""
[ -f "$here/tests/fuzz/$target.dict" ] && dict="-dict=$here/tests/fuzz/$target.dict"
cd "$out"
# shellcheck disable=SC2086
exec "./$exe" -runs="$runs" -max_len="$maxlen" -print_final_stats=1 \
	$dict "$@" $dirs

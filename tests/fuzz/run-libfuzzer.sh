#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the fuzz targets with clang's libFuzzer, ASan and UBSan, and run
# one of them. Usage:
#   tests/fuzz/run-libfuzzer.sh TARGET [RUNS] [extra libFuzzer flags]
# TARGET: parse | ftfile | template. RUNS: executions (default 1000000).
# The corpus (seeded from ../shared/pcaps and generated traces) and any
# crash files are kept in build-fuzz/. Example, a long parser run:
#   tests/fuzz/run-libfuzzer.sh parse 100000000 -jobs=2
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: run-libfuzzer.sh parse|ftfile|template [RUNS]}
runs=${2:-1000000}
[ $# -ge 2 ] && shift 2 || shift 1
out="${FC_FUZZ_OUT:-$here/build-fuzz}"
shared="${FC_SHARED:-$here/../shared}"
mkdir -p "$out/corpus-$target"

L="$here/lib"
inc="-I$L/common -I$L/tuple -I$L/parse -I$L/flowtable -I$L/interval -I$L/ftfile -I$L/trace"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -msse4.2 -D_GNU_SOURCE"
case "$target" in
parse) srcs="$L/parse/fc_parse.c $L/tuple/fc_tuple.c"; libs="" ;;
ftfile) srcs="$L/ftfile/fc_ftfile.c $L/tuple/fc_tuple.c"; libs="-lzstd" ;;
template) srcs="$L/interval/fc_interval.c"; libs="" ;;
*) echo "run-libfuzzer.sh: unknown target '$target' (parse, ftfile, template)" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
clang $cflags $inc "$here/tests/fuzz/fuzz_$target.c" $srcs $libs \
	-o "$out/fuzz_$target"

if [ "$target" = parse ] && [ -z "$(ls -A "$out/corpus-parse")" ]; then
	[ -x "$here/build/tests/fuzz/mkcorpus" ] ||
		{ echo "build the project first (ninja -C build)" >&2; exit 1; }
	"$here/build/tests/fuzz/mkcorpus" "$out/corpus-parse" \
		"$shared"/pcaps/edge/* "$shared"/pcaps/real/tcpreplay-test-mix.pcap \
		"$shared"/pcaps/real/many-protocols-vlan-ipv6-llc.pcap
fi
cd "$out"
exec "./fuzz_$target" -runs="$runs" -max_len=4096 -print_final_stats=1 \
	"$@" "corpus-$target"

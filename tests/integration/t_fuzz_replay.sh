#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The fuzz targets' corpora replayed as ordinary tests: every packet of
# ../shared/pcaps (edge and a few real traces) through the parser target;
# files flowcap writes, cut at many lengths and with flipped bytes,
# through the file reader target; a set of templates through the template
# target; the shipped driver configs and broken variants of them through
# the driver-config target. Then the small corpora of interesting inputs
# kept from libFuzzer runs (tests/fuzz/corpus/TARGET, see
# tests/fuzz/run-libfuzzer.sh). A crash or sanitizer report fails the test.
. "$(dirname "$0")/lib.sh"
F="$FC_BUILD/tests/fuzz"

mkdir -p "$TMP/parse" "$TMP/ftfile" "$TMP/template" "$TMP/drvcfg"
"$F/mkcorpus" "$TMP/parse" "$FC_SHARED"/pcaps/edge/* \
	"$FC_SHARED"/pcaps/real/tcpreplay-test-mix.pcap \
	"$FC_SHARED"/pcaps/real/many-protocols-vlan-ipv6-llc.pcap \
	"$FC_SHARED"/pcaps/real/gnutella-lan-mix.pcap >/dev/null
# Every prefix of every seed, too: truncation at each layer.
for s in "$TMP"/parse/tcpreplay-test-mix.pcap-*; do
	len=$(wc -c <"$s")
	i=1
	while [ "$i" -lt "$len" ] && [ "$i" -le 120 ]; do
		head -c "$i" "$s" >"$s.cut$i"
		i=$((i + 1))
	done
done
if "$F/fuzz_parse_replay" "$TMP/parse" >"$TMP/p.log" 2>&1; then
	ok "parser: $(cat "$TMP/p.log")"
else
	bad "parser replay"; tail -20 "$TMP/p.log"
fi

out="$TMP/ftout"
mkdir -p "$out"
# shellcheck disable=SC2046
"$FLOWCAP" $(eal 1) -- --read "$FC_SHARED/pcaps/real/tcpreplay-test-mix.pcap" \
	--interval 1 --rotate 3 --out "$out" --name fz >/dev/null 2>&1
for f in "$out"/*.ft.zst; do
	b=$(basename "$f")
	cp "$f" "$TMP/ftfile/$b"
	len=$(wc -c <"$f")
	step=$((len / 40 + 1))
	i=0
	while [ "$i" -lt "$len" ]; do
		head -c "$i" "$f" >"$TMP/ftfile/$b.cut$i"
		# one byte flipped at offset i
		python3 -c "import sys; d=bytearray(open(sys.argv[1],'rb').read()); d[int(sys.argv[2])]^=0x41; open(sys.argv[3],'wb').write(d)" \
			"$f" "$i" "$TMP/ftfile/$b.flip$i"
		i=$((i + step))
	done
done
if "$F/fuzz_ftfile_replay" "$TMP/ftfile" >"$TMP/f.log" 2>&1; then
	ok "file reader: $(cat "$TMP/f.log")"
else
	bad "file reader replay"; tail -20 "$TMP/f.log"
fi

i=0
for t in '%N.%s.%P.ft.zst' '%Y/%m' '%' '%%%' '%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N%N' '%c%x%X' '%q' '.x' 'abc'; do
	printf '\377\377\377\377\377\377\377\377%s' "$t" >"$TMP/template/t$i"
	i=$((i + 1))
done
if "$F/fuzz_template_replay" "$TMP/template" >"$TMP/t.log" 2>&1; then
	ok "templates: $(cat "$TMP/t.log")"
else
	bad "template replay"; tail -20 "$TMP/t.log"
fi

# Driver configs: the shipped ones, each cut at every line and with every
# line doubled (duplicate keys), and a few hand-made hostile ones.
for f in "$FC_SRC"/drivers-config/*.ini; do
	b=$(basename "$f")
	cp "$f" "$TMP/drvcfg/$b"
	n=$(wc -l <"$f")
	i=1
	while [ "$i" -le "$n" ]; do
		head -n "$i" "$f" >"$TMP/drvcfg/$b.head$i"
		sed "${i}p" "$f" >"$TMP/drvcfg/$b.dup$i"
		i=$((i + 1))
	done
done
printf '' >"$TMP/drvcfg/empty"
printf '[port]\nrx_desc = 99999999999999999999999\n' >"$TMP/drvcfg/big"
printf '[port]\nrss_key = 0x%0200d\n' 0 >"$TMP/drvcfg/longkey"
printf '[port]\ndevargs = a\\#b\n' >"$TMP/drvcfg/escaped"
printf '[port]\n%0300d = 1\n' 0 >"$TMP/drvcfg/longname"
printf '[port\n' >"$TMP/drvcfg/nobracket"
printf '[port]\nburst = 512\nrx_desc = 64\n' >"$TMP/drvcfg/combined"
head -c 3000 /dev/zero | tr '\0' '[' >"$TMP/drvcfg/brackets"
if "$F/fuzz_drvcfg_replay" "$TMP/drvcfg" >"$TMP/d.log" 2>&1; then
	ok "driver configs: $(cat "$TMP/d.log")"
else
	bad "driver-config replay"; tail -20 "$TMP/d.log"
fi

# flowcap-read filters: hostile ones made here (deep nesting, long
# chains, every byte value), then the kept corpus below.
mkdir -p "$TMP/query"
python3 - "$TMP/query" <<'PY'
import os, sys
d = sys.argv[1]
cases = ["(" * 5000 + "proto tcp" + ")" * 5000, "not " * 5000 + "ipv4",
         " and ".join(["proto tcp"] * 3000), " or ".join(["port 1"] * 3000),
         "net " + "1" * 3000, "flags " + "S" * 3000, "\xff\xfe(", "port <=>= 1",
         "src", "src ip", "ip ::ffff:1.2.3.4", "net ::/0 and net 0.0.0.0/0",
         "proto 256", "packets 18446744073709551616", "ttl > -1", ")", "()"]
cases += [bytes([b]).decode("latin-1") + " proto tcp" for b in range(1, 256)]
for i, c in enumerate(cases):
    open(os.path.join(d, "h%d" % i), "wb").write(c.encode("latin-1"))
PY
if "$F/fuzz_query_replay" "$TMP/query" >"$TMP/fl.log" 2>&1; then
	ok "flowcap-read filters: $(cat "$TMP/fl.log")"
else
	bad "flowcap-read filter replay"; tail -20 "$TMP/fl.log"
fi

# The corpora kept from libFuzzer runs. The filter target also runs each
# expression on a real trace's frames against libpcap's own matcher.
export FC_FUZZ_PCAP="$FC_SHARED/pcaps/real/many-protocols-vlan-ipv6-llc.pcap"
for t in parse ftfile template drvcfg trace classify filter query; do
	c="$FC_SRC/tests/fuzz/corpus/$t"
	[ -d "$c" ] || continue
	if "$F/fuzz_${t}_replay" "$c" >"$TMP/c.log" 2>&1; then
		ok "kept corpus $t: $(cat "$TMP/c.log")"
	else
		bad "kept corpus $t"; tail -20 "$TMP/c.log"
	fi
done
# Every capture of ../shared/pcaps/edge, whole and cut short, through the
# trace input target; and some of them compressed.
mkdir -p "$TMP/trace"
for p in "$FC_SHARED"/pcaps/edge/*; do
	b=$(basename "$p")
	len=$(wc -c <"$p")
	[ "$len" -le 200000 ] || continue
	cp "$p" "$TMP/trace/$b"
	head -c $((len / 2)) "$p" >"$TMP/trace/$b.half"
	head -c $((len - 3)) "$p" >"$TMP/trace/$b.cut3"
done
# Compressed: a few captures through gzip, zstd and xz, whole and cut.
for p in "$FC_SHARED"/pcaps/edge/format-*; do
	b=$(basename "$p")
	gzip -c "$p" >"$TMP/trace/$b.gz"
	zstd -q -c "$p" >"$TMP/trace/$b.zst"
	xz -c "$p" >"$TMP/trace/$b.xz"
	for z in gz zst xz; do
		len=$(wc -c <"$TMP/trace/$b.$z")
		head -c $((len / 2)) "$TMP/trace/$b.$z" >"$TMP/trace/$b.$z.half"
		head -c $((len - 3)) "$TMP/trace/$b.$z" >"$TMP/trace/$b.$z.cut3"
	done
done
# In the background only to learn its PID: the target must leave no file
# behind (it once left /tmp/fc-fuzz-trace.PID).
"$F/fuzz_trace_replay" "$TMP/trace" >"$TMP/tr.log" 2>&1 &
pid=$!
if wait "$pid"; then
	ok "trace input: $(cat "$TMP/tr.log")"
else
	bad "trace input replay"; tail -20 "$TMP/tr.log"
fi
if [ -e "/tmp/fc-fuzz-trace.$pid" ]; then
	bad "trace input target left /tmp/fc-fuzz-trace.$pid behind"
	rm -f "/tmp/fc-fuzz-trace.$pid"
else
	ok "trace input target left no file behind"
fi
finish

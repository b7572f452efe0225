#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# `meson install` gives a working system install. Into a DESTDIR (a mktemp
# directory): every file where README.md ("Installing") says; programs
# that answer --version with the project version (flowcap without the
# EAL); man pages groff reads without a warning; a unit whose paths are
# installed files; headers that compile alone and name nothing of DPDK or
# of the modules not installed; a shared library that exports only the
# API of those headers, all of it. Then ft-top (app/examples/ft-top.c) is
# built against the installed libflowcap-ft.pc, shared and static, and run
# on a file the installed flowcap wrote: its table must equal the one
# computed from flowcap-read's CSV, and the file must name the flowcap
# version that wrote it.
. "$(dirname "$0")/lib.sh"

for t in meson pkg-config groff python3 nm readelf; do
	command -v $t >/dev/null ||
		{ echo "$t needed (dpdk-scripts/install-deps.sh installs it)"; exit 1; }
done
CC=${CC:-cc}

# The configured directories, from the build itself.
meson introspect "$FC_BUILD" --buildoptions >"$TMP/opts.json"
meson introspect "$FC_BUILD" --projectinfo >"$TMP/proj.json"
opt() {
	python3 -c 'import json, os, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print(os.path.join(o["prefix"], o[sys.argv[2]]))' "$TMP/opts.json" "$1"
}
PREFIX=$(opt prefix)
BINDIR=$(opt bindir)
LIBDIR=$(opt libdir)
INCDIR=$(opt includedir)/flowcap
MANDIR=$(opt mandir)
ETCDIR=$(opt sysconfdir)
DATADIR=$(opt datadir)
VERSION=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$TMP/proj.json")

D="$TMP/root"
if meson install -C "$FC_BUILD" --destdir "$D" --no-rebuild --quiet \
	>"$TMP/install.log" 2>&1; then
	ok "meson install --destdir"
else
	bad "meson install --destdir"
	sed 's/^/     | /' "$TMP/install.log" | tail -n 20
	finish
fi

# --- every file in its place ----------------------------------------------
UNIT=$(find "$D" -path '*/systemd/system/flowcap.service')
for f in "$BINDIR/flowcap" "$BINDIR/flowcap-read" "$BINDIR/flowcap-gen" \
	"$PREFIX/lib/flowcap/hugepages.sh" "$PREFIX/lib/flowcap/bind-nics.sh"; do
	if [ -f "$D$f" ] && [ -x "$D$f" ]; then ok "program $f"; else bad "no program $f"; fi
done
for f in "$MANDIR/man8/flowcap.8" "$MANDIR/man1/flowcap-read.1" \
	"$MANDIR/man1/flowcap-gen.1" "$MANDIR/man5/flowcap-file.5" \
	"$ETCDIR/default/flowcap" \
	"$INCDIR/fc_ftfile.h" "$INCDIR/fc_ftdir.h" "$INCDIR/fc_tuple.h" \
	"$INCDIR/fc_common.h" "$LIBDIR/libflowcap-ft.a" \
	"$LIBDIR/libflowcap-ft.so" "$LIBDIR/libflowcap-ft.so.0" \
	"$LIBDIR/pkgconfig/libflowcap-ft.pc" \
	"$DATADIR/doc/flowcap/operations.md" \
	"$DATADIR/doc/flowcap/file-format.md" \
	"$DATADIR/flowcap/drivers-config/i40e-xl710.ini" \
	"$DATADIR/flowcap/flowcap-alerts.yml"; do
	if [ -f "$D$f" ]; then ok "file $f"; else bad "no file $f"; fi
done
if [ -n "$UNIT" ] && [ -f "$UNIT" ]; then
	ok "unit ${UNIT#"$D"}"
else
	bad "no systemd unit flowcap.service"
	UNIT=/dev/null
fi
# The unit's companions: the user it drops to and its output directory,
# where systemd-sysusers and systemd-tmpfiles look.
for kind in sysusers tmpfiles; do
	f=$(find "$D" -path "*/$kind.d/flowcap.conf")
	if [ -n "$f" ] && cmp -s "$f" "$FC_SRC/dpdk-scripts/flowcap.$kind"; then
		ok "$kind.d file ${f#"$D"}"
	else
		bad "no $kind.d/flowcap.conf installed"
	fi
done
# Nothing but what is listed above (and the .so's full version).
find "$D" -type f | sed "s|^$D||" | LC_ALL=C sort >"$TMP/files"
n=$(wc -l <"$TMP/files")
echo "     installed $n files:"
sed 's/^/     | /' "$TMP/files"
if grep -E '/(tests?|bench|examples?)/|\.(o|c)$|/fc_(flowtable|merge|parse|count|interval|gen|trace|pcapng|tracez)\.h$' "$TMP/files"; then
	bad "test, benchmark, example or internal files installed"
else
	ok "no test, benchmark, example or internal module file installed"
fi

# --- programs --------------------------------------------------------------
for p in flowcap flowcap-read flowcap-gen; do
	out=$("$D$BINDIR/$p" --version 2>&1) || true
	case "$out" in
	"$p $VERSION" | "$p $VERSION (git "*")")
		# One line: flowcap's must not have started the EAL.
		if [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then
			ok "$p --version: $out"
		else
			bad "$p --version printed more than its version: $out"
		fi ;;
	*) bad "$p --version: '$out' (want '$p $VERSION[ (git ...)]')" ;;
	esac
done
for s in hugepages.sh bind-nics.sh; do
	if "$D$PREFIX/lib/flowcap/$s" --help >/dev/null 2>&1; then
		ok "$s --help"
	else
		bad "$s --help"
	fi
done

# --- man pages ---------------------------------------------------------------
for m in man8/flowcap.8 man1/flowcap-read.1 man1/flowcap-gen.1 man5/flowcap-file.5; do
	f="$D$MANDIR/$m"
	[ -f "$f" ] || continue
	name=$(basename "$m" | sed 's/\.[0-9]$//' | tr a-z A-Z)
	sec=${m##*.}
	if groff -man -z -ww "$f" >"$TMP/groff.out" 2>&1 && ! grep -q . "$TMP/groff.out" &&
		grep -q "^\.TH $name $sec .*\"flowcap $VERSION\"" "$f" &&
		grep -q '^\.SH NAME' "$f" && ! grep -q '@[A-Z]*@' "$f"; then
		ok "man page $m (groff -man -ww, .TH $name $sec, flowcap $VERSION)"
	else
		bad "man page $m"
		sed 's/^/     | /' "$TMP/groff.out" | head -n 10
	fi
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man --warnings -l "$f" 2>"$TMP/man.err" >/dev/null
		if grep -q . "$TMP/man.err"; then
			bad "man --warnings -l $m"
			sed 's/^/     | /' "$TMP/man.err" | head -n 10
		else
			ok "man --warnings -l $m"
		fi
	else
		bad "man --warnings -l $m: man not installed (install-deps.sh installs man-db)"
	fi
done

# --- the unit names installed files ------------------------------------------
for k in ExecStart EnvironmentFile; do
	v=$(sed -n "s/^$k=-\{0,1\}\([^ ]*\).*/\1/p" "$UNIT" | head -n 1)
	if [ -n "$v" ] && [ -f "$D$v" ]; then
		ok "unit $k=$v is installed"
	else
		bad "unit $k='$v' is not an installed file"
	fi
done
v=$(sed -n 's/^ExecStartPre=+\(\/[^ ]*hugepages\.sh\).*/\1/p' "$UNIT")
if [ -n "$v" ] && [ -x "$D$v" ]; then ok "unit ExecStartPre $v is installed"; else bad "unit ExecStartPre '$v'"; fi
v=$(sed -n 's/^Documentation=file:\/\/\(.*\)/\1/p' "$UNIT")
if [ -n "$v" ] && [ -f "$D$v" ]; then ok "unit Documentation=$v is installed"; else bad "unit Documentation '$v'"; fi

# --- headers: self-contained, nothing of DPDK or of internal modules ---------
for h in "$D$INCDIR"/*.h; do
	b=$(basename "$h")
	printf '#include <%s>\n#include <%s>\n' "$b" "$b" >"$TMP/inc.c"
	if $CC -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$D$INCDIR" \
		"$TMP/inc.c" 2>"$TMP/cc.err"; then
		ok "header $b compiles alone, twice"
	else
		bad "header $b does not compile alone"
		sed 's/^/     | /' "$TMP/cc.err" | head -n 10
	fi
	for i in $(sed -n 's/^#include "\(.*\)"/\1/p' "$h"); do
		[ -f "$D$INCDIR/$i" ] || bad "header $b includes $i, which is not installed"
	done
done
if grep -n -E 'rte_|<urcu|fc_app\.h|fc_flowtable\.h|fc_parse\.h' "$D$INCDIR"/*.h; then
	bad "installed headers name DPDK or internal modules"
else
	ok "installed headers name neither DPDK nor internal modules"
fi

# --- the shared library exports the headers' API and nothing else ------------
SO="$D$LIBDIR/libflowcap-ft.so"
nm -D --defined-only "$SO" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
	sed 's/@.*//' | LC_ALL=C sort -u >"$TMP/exported"
python3 - "$D$INCDIR" >"$TMP/declared" <<'EOF'
import glob, re, sys
names = set()
for h in glob.glob(sys.argv[1] + '/*.h'):
    t = re.sub(r'/\*.*?\*/', '', open(h).read(), flags=re.S)
    # Only what is outside braces: declarations, not the bodies of the
    # static inline functions (nor struct or enum members).
    out, depth = [], 0
    for c in t:
        depth += c == '{'
        if depth == 0:
            out.append(c)
        depth -= c == '}'
    t = ''.join(out)
    for m in re.finditer(r"\b(fc_\w+)\s*\(([^;()]*)\)\s*;", t):
        names.add(m.group(1))
print('\n'.join(sorted(names)))
EOF
if grep -v -E '^fc_(ft_|ftkey_|ip_)' "$TMP/exported"; then
	bad "libflowcap-ft.so exports symbols outside fc_ft_*, fc_ftkey_*, fc_ip_*"
else
	ok "libflowcap-ft.so exports only fc_ft_*, fc_ftkey_*, fc_ip_* ($(wc -l <"$TMP/exported") symbols)"
fi
if [ "$(wc -l <"$TMP/declared")" -gt 20 ] && LC_ALL=C comm -23 "$TMP/declared" "$TMP/exported" | grep .; then
	bad "functions declared in the installed headers but not exported (above)"
elif [ "$(wc -l <"$TMP/declared")" -le 20 ]; then
	bad "found only $(wc -l <"$TMP/declared") declarations in the headers"
else
	ok "every function the headers declare is exported"
fi
if readelf -d "$SO" | grep -q 'SONAME.*libflowcap-ft\.so\.0'; then
	ok "SONAME libflowcap-ft.so.0"
else
	bad "SONAME of libflowcap-ft.so"; readelf -d "$SO" | grep SONAME
fi

# --- a program built against the installed library ---------------------------
# PKG_CONFIG_SYSROOT_DIR puts the DESTDIR before the .pc's -I and -L paths,
# as for a cross sysroot; nothing of the build tree is on any path.
export PKG_CONFIG_PATH="$D$LIBDIR/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$D"
SRC="$FC_SRC/app/examples/ft-top.c"
cp "$SRC" "$TMP/ft-top.c"
if pkg-config --exists --print-errors libflowcap-ft 2>"$TMP/pc.err"; then
	ok "pkg-config libflowcap-ft $(pkg-config --modversion libflowcap-ft)"
else
	bad "pkg-config libflowcap-ft"; sed 's/^/     | /' "$TMP/pc.err"
fi
[ "$(pkg-config --modversion libflowcap-ft 2>/dev/null)" = "$VERSION" ] ||
	bad "libflowcap-ft.pc version is not $VERSION"
# A sanitizer build (dpdk-scripts/sanitize.sh) installs an instrumented
# library: a program linked with it needs the same runtime, and cannot be
# linked fully static (the sanitizer runtimes are shared); there the
# static case links the archive and checks that only it is static.
san=$(python3 -c 'import json, sys
o = [x for x in json.load(open(sys.argv[1])) if x["name"] == "b_sanitize"]
print(o[0]["value"] if o else "none")' "$TMP/opts.json")
SAN=""
[ "$san" = none ] || [ -z "$san" ] || SAN="-fsanitize=$san"
# shellcheck disable=SC2046,SC2086
if (cd "$TMP" && $CC -std=c11 -Wall -Werror $SAN -o ft-top-shared ft-top.c \
	$(pkg-config --cflags --libs libflowcap-ft)) 2>"$TMP/cc.err"; then
	ok "ft-top builds with pkg-config --cflags --libs libflowcap-ft"
else
	bad "ft-top does not build against the installed library"
	sed 's/^/     | /' "$TMP/cc.err" | head -n 10
fi
if [ -z "$SAN" ]; then
	STATIC="-static"
	STLIBS=$(pkg-config --static --libs libflowcap-ft)
else
	STATIC=""
	STLIBS=$(pkg-config --static --libs libflowcap-ft |
		sed 's/-lflowcap-ft/-l:libflowcap-ft.a/')
fi
# shellcheck disable=SC2046,SC2086
if (cd "$TMP" && $CC -std=c11 -Wall -Werror $SAN $STATIC -o ft-top-static \
	ft-top.c $(pkg-config --static --cflags libflowcap-ft) $STLIBS) \
	2>"$TMP/cc.err"; then
	ok "ft-top builds -static with pkg-config --static"
else
	bad "ft-top does not build statically against the installed library"
	sed 's/^/     | /' "$TMP/cc.err" | head -n 10
fi
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
if [ -x "$TMP/ft-top-shared" ] &&
	LD_LIBRARY_PATH="$D$LIBDIR" ldd "$TMP/ft-top-shared" | grep -q "$D$LIBDIR/libflowcap-ft.so.0"; then
	ok "ft-top-shared loads the installed libflowcap-ft.so.0"
else
	bad "ft-top-shared does not load the installed libflowcap-ft.so.0"
fi
if [ -z "$SAN" ] && [ -x "$TMP/ft-top-static" ] &&
	! readelf -d "$TMP/ft-top-static" 2>/dev/null | grep -q NEEDED; then
	ok "ft-top-static needs no shared library"
elif [ -n "$SAN" ] && [ -x "$TMP/ft-top-static" ] &&
	! readelf -d "$TMP/ft-top-static" 2>/dev/null | grep -q "libflowcap-ft"; then
	ok "ft-top-static links libflowcap-ft.a (sanitizer build: its runtimes stay shared)"
else
	bad "ft-top-static is not static"
fi

# The installed programs write a file; ft-top's table must equal the one
# computed from flowcap-read's CSV.
"$D$BINDIR/flowcap-gen" -q -n 20000 -f 700 --ipv6 0.2 -o "$TMP/t.pcap"
mkdir "$TMP/ft"
if "$D$BINDIR/flowcap" --read "$TMP/t.pcap" --out "$TMP/ft" --rotate 1000 \
	--no-stats >"$TMP/fc.log" 2>&1; then
	ok "installed flowcap --read wrote $(ls "$TMP/ft" | grep -c '\.ft\.zst$') file(s)"
else
	bad "installed flowcap --read"; tail -n 5 "$TMP/fc.log"
fi
"$D$BINDIR/flowcap-read" --format csv "$TMP/ft" |
	awk -F, 'NR > 1 { p[$3] += $11; r[$3]++ }
		END { for (s in p) print s, p[s], r[s] }' | LC_ALL=C sort >"$TMP/want.top"
[ "$(wc -l <"$TMP/want.top")" -gt 100 ] || bad "only $(wc -l <"$TMP/want.top") sources in the file"
for k in shared static; do
	LD_LIBRARY_PATH="$D$LIBDIR" "$TMP/ft-top-$k" -n 1000000 "$TMP"/ft/*.ft.zst 2>&1 |
		tail -n +2 | awk '{ print $1, $2, $3 }' | LC_ALL=C sort >"$TMP/got.top"
	if [ -s "$TMP/got.top" ] && same_rows "$TMP/want.top" "$TMP/got.top"; then
		ok "ft-top ($k) equals flowcap-read: $(wc -l <"$TMP/got.top") sources"
	else
		bad "ft-top ($k) differs from flowcap-read"
	fi
done
w=$("$D$BINDIR/flowcap-read" --stats "$TMP"/ft/*.ft.zst | head -n 1 |
	sed -n 's/.* writer=\([^ ]*\).*/\1/p')
case "$w" in
"flowcap/$VERSION" | "flowcap/$VERSION+"*) ok "the file names its writer: $w" ;;
*) bad "the file's writer is '$w', not flowcap/$VERSION[+git]" ;;
esac

finish

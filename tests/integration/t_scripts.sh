#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The operations scripts (dpdk-scripts/) and the systemd unit, on a machine
# that may have no NIC, no IOMMU and no hugepages. Nothing here binds a
# device, loads a module or reserves memory: dpdk-devbind.py and modprobe
# are replaced by stubs that record their calls and fail, binding is
# exercised in --dry-run or against a fake sysfs tree, and hugepages only
# through status and --dry-run.
# shellcheck disable=SC2086,SC2016 # $STUBENV, $FAKE: command prefixes
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

S="$FC_SRC/dpdk-scripts"
HP="$S/hugepages.sh"
BN="$S/bind-nics.sh"

# Stubs first in PATH: a real dpdk-devbind.py or modprobe never runs in
# the binding checks below.
mkdir -p "$TMP/stub"
for t in dpdk-devbind.py modprobe; do
	cat >"$TMP/stub/$t" <<EOF
#!/bin/sh
echo "\$(basename "\$0") \$*" >>"$TMP/stub/calls"
exit 99
EOF
	chmod +x "$TMP/stub/$t"
done
: >"$TMP/stub/calls"
STUBENV="env PATH=$TMP/stub:$PATH DPDK_DEVBIND=$TMP/stub/dpdk-devbind.py FLOWCAP_BIND_STATE=$TMP/bind.state"

# run NAME EXPECTED_RC PATTERN CMD...: rc must match, output must match the
# (grep -E) pattern, unless the pattern is empty.
run() {
	name=$1 want=$2 pat=$3
	shift 3
	set +e
	"$@" >"$TMP/out" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne "$want" ]; then
		bad "$name: exit $rc, expected $want"
		sed 's/^/     | /' "$TMP/out" | head -n 15
	elif [ -n "$pat" ] && ! grep -Eq -- "$pat" "$TMP/out"; then
		bad "$name: output lacks /$pat/"
		sed 's/^/     | /' "$TMP/out" | head -n 15
	else
		ok "$name"
	fi
}

# --- 1. syntax and lint ------------------------------------------------
for f in "$S"/*.sh; do
	case "$(head -n 1 "$f")" in
	*bash*) sh_="bash" ;;
	*) sh_="sh" ;;
	esac
	if $sh_ -n "$f" 2>"$TMP/err"; then
		ok "$sh_ -n $(basename "$f")"
	else
		bad "$sh_ -n $(basename "$f"): $(head -n 3 "$TMP/err")"
	fi
done
for f in "$HP" "$BN"; do
	if [ -x "$f" ]; then ok "$(basename "$f") is executable"; else bad "$(basename "$f") is not executable"; fi
done
# The lint's tool comes with the others.
if sed -n '/^PKGS="/,/"$/p' "$S/install-deps.sh" | tr -s ' "' '\n' | grep -qx shellcheck; then
	ok "install-deps.sh installs shellcheck"
else
	bad "install-deps.sh does not install shellcheck (the lint below needs it)"
fi
# Every script, linted: install-deps.sh installs shellcheck, so its
# absence is a broken set-up, not a reason to pass without linting.
if command -v shellcheck >/dev/null 2>&1; then
	for f in "$S"/*.sh; do
		if shellcheck -s sh "$f" >"$TMP/out" 2>&1; then
			ok "shellcheck $(basename "$f")"
		else
			bad "shellcheck $(basename "$f")"
			head -n 20 "$TMP/out"
		fi
	done
else
	bad "shellcheck not installed: run dpdk-scripts/install-deps.sh (it installs shellcheck)"
fi

# --- 2. help and usage -------------------------------------------------
run "hugepages.sh --help" 0 'setup \[SIZE\].*--node' "$HP" --help
run "hugepages.sh --help mentions --no-huge" 0 'no-huge .*-m 1024' "$HP" --help
run "bind-nics.sh --help" 0 'enable_unsafe|mlx5|restore' "$BN" --help
run "hugepages.sh without command: usage, exit 2" 2 'Usage' "$HP"
run "bind-nics.sh unknown command: exit 2" 2 "unknown command" "$BN" frobnicate
run "hugepages.sh bad size: exit 2" 2 "is not a size" "$HP" setup 12Q --dry-run
run "hugepages.sh bad pagesize: exit 2" 2 "choose 2M or 1G" "$HP" setup 2G --pagesize 4M --dry-run
run "bind-nics.sh bad driver: exit 2" 2 "choose vfio-pci or uio_pci_generic" \
	$STUBENV "$BN" bind 0000:3b:00.0 --driver e1000

# --- 3. hugepages: read-only paths -------------------------------------
run "hugepages.sh status" 0 'Hugepages \(node, page size' "$HP" status
run "hugepages.sh setup --dry-run" 0 'dry run: nothing changed' "$HP" setup 2G --dry-run
run "hugepages.sh 1536M uses 2M pages" 0 '768 x 2M' "$HP" setup 1536M --dry-run
run "hugepages.sh --node 999: no such node" 1 'node 999 does not exist' "$HP" setup 2G --node 999 --dry-run
if grep -qw pdpe1gb /proc/cpuinfo && [ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ]; then
	run "hugepages.sh 4G prefers 1G pages" 0 '4 x 1G' "$HP" setup 4G --dry-run
else
	run "hugepages.sh 4G without pdpe1gb: 2M pages" 0 '2048 x 2M' "$HP" setup 4G --dry-run
fi

# --- 4. bind-nics on this machine --------------------------------------
if command -v dpdk-devbind.py >/dev/null 2>&1; then
	# The real tool, read-only: works with or without NICs.
	run "bind-nics.sh list" 0 'IOMMU: ' env FLOWCAP_BIND_STATE="$TMP/bind.state" "$BN" list
else
	echo "note: dpdk-devbind.py not installed; 'list' checked for its error"
	run "bind-nics.sh list without dpdk-devbind.py" 1 'apt-get install dpdk' \
		env PATH=/nonexistent DPDK_DEVBIND=dpdk-devbind.py "$BN" list
fi
run "bind-nics.sh bind 0000:ff:1f.7 fails clearly" 1 \
	'0000:ff:1f.7: no such PCI device' $STUBENV "$BN" bind 0000:ff:1f.7
run "bind-nics.sh bind garbage fails clearly" 1 'is not a PCI address' \
	$STUBENV "$BN" bind eth0:x
# The interface carrying the default route, if it is a PCI device, must be
# refused (dry run and stubs: nothing could happen even if it were not).
dev=$(ip route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}' || true)
pci=""
if [ -n "$dev" ] && [ -e "/sys/class/net/$dev/device" ]; then
	pci=$(basename "$(readlink -f "/sys/class/net/$dev/device")")
	case "$pci" in
	*:*:*.*) ;;
	*) # virtio: the PCI device is the parent of virtioN
		pci=$(basename "$(dirname "$(readlink -f "/sys/class/net/$dev/device")")") ;;
	esac
fi
case "$pci" in
[0-9a-f]*:*:*.*)
	run "bind-nics.sh refuses $dev ($pci), the default route" 1 \
		"is interface $dev and it is up.*DEFAULT ROUTE" \
		$STUBENV "$BN" bind "$pci" --dry-run
	run "bind-nics.sh unbind refuses $dev too" 1 "is interface $dev" \
		$STUBENV "$BN" unbind "$pci" --dry-run
	;;
*) echo "note: default route not on a PCI NIC here; in-use refusal checked on the fake tree only" ;;
esac

# --- 5. bind-nics on a fake sysfs tree ----------------------------------
F="$TMP/sys"
mkpci() { # addr vendor class driver
	d="$F/bus/pci/devices/$1"
	mkdir -p "$d" "$F/bus/pci/drivers/$4"
	echo "$2" >"$d/vendor"
	echo "$3" >"$d/class"
	ln -s "../../drivers/$4" "$d/driver"
}
mkdir -p "$F/kernel/iommu_groups"
mkpci 0000:3b:00.0 0x8086 0x020000 i40e
mkpci 0000:af:00.0 0x15b3 0x020000 mlx5_core
mkpci 0000:00:17.0 0x8086 0x010601 ahci
FAKE="$STUBENV FLOWCAP_SYSFS=$F"
run "mlx5 (15b3) is not bound, and says why" 0 'vendor 15b3\): not bound.*mlx5_core' \
	$FAKE "$BN" bind 0000:af:00.0
run "not a network controller: refused" 1 'not a network controller' \
	$FAKE "$BN" bind 00:17.0 --dry-run
run "no IOMMU: refused with the kernel options" 1 'intel_iommu=on iommu=pt.*' \
	$FAKE "$BN" bind 3b:00.0 --dry-run
run "no IOMMU: the unsafe alternative is labelled" 1 'UNSAFE alternative' \
	$FAKE "$BN" bind 3b:00.0 --dry-run
run "no IOMMU: names vfio enable_unsafe_noiommu_mode" 1 'modprobe vfio enable_unsafe_noiommu_mode=1' \
	$FAKE "$BN" bind 3b:00.0 --dry-run
mkdir -p "$F/kernel/iommu_groups/42" "$F/bus/pci/drivers/vfio-pci"
run "IOMMU on: dry run prints the dpdk-devbind.py command" 0 \
	'would run: .*dpdk-devbind.py -b vfio-pci 0000:3b:00.0' \
	$FAKE "$BN" bind 3b:00.0 af:00.0 --dry-run
if [ "$(id -u)" -eq 0 ]; then
	run "dpdk-devbind.py failing: bind fails" 1 'failed' $FAKE "$BN" bind 3b:00.0
	if [ -s "$TMP/bind.state" ]; then
		bad "a failed bind left a stale entry: $(cat "$TMP/bind.state")"
	else
		ok "a failed bind remembers nothing"
	fi
else
	echo "note: not root; the non-dry bind path is not exercised"
fi
echo "0000:3b:00.0 ixgbe" >"$TMP/bind.state"
run "restore rebinds the remembered driver" 0 \
	'would run: .*dpdk-devbind.py -b ixgbe 0000:3b:00.0' \
	$FAKE "$BN" restore --dry-run
echo "0000:3b:00.0 i40e" >"$TMP/bind.state"
run "restore: already on its driver" 0 'already on i40e' $FAKE "$BN" restore --dry-run
# Every stub call must be one the non-dry bind above made, nothing else.
if grep -v -- '-b vfio-pci 0000:3b:00.0$' "$TMP/stub/calls" | grep -q .; then
	bad "unexpected dpdk-devbind.py/modprobe calls: $(cat "$TMP/stub/calls")"
else
	ok "no unexpected dpdk-devbind.py/modprobe call"
fi

# --- 6. quickstart.sh test: its report ----------------------------------
# meson, ninja and dpkg-query are stubs: meson test prints what meson 1.0
# prints for one test passed, one failed and one skipped, and writes its
# log. The report must count the three apart, show why the failure
# failed (its log), say where the full log is, and fail.
Q="$TMP/qs"
mkdir -p "$Q/bin" "$Q/build"
: >"$Q/build/build.ninja"
printf '#!/bin/sh\necho "install ok installed"\n' >"$Q/bin/dpkg-query"
printf '#!/bin/sh\nexit 0\n' >"$Q/bin/ninja"
cat >"$Q/bin/meson" <<'STUB'
#!/bin/sh
[ "$1" = test ] || exit 0
b=$3
mkdir -p "$b/meson-logs"
if [ "$QS_CASE" = fail ]; then
	cat <<'OUT'
1/3 flowcap:unit / unit-a               OK              0.10s
2/3 flowcap:integration / t_b           FAIL            1.20s   exit status 1
>>> FC_BUILD=/x /usr/bin/sh /x/t_b.sh
――――――――――――――――――――――――――――――――――――― ✀  ―――――――――――――――――――――――――――――――――――――
stdout:
ok   first check
FAIL the reason it failed: widget 7 != 8
1 passed, 1 failed
――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――――
3/3 flowcap:integration / t_c           SKIP            0.10s   exit status 77

Summary of Failures:

2/3 flowcap:integration / t_b FAIL            1.20s   exit status 1

Ok:                 1
Expected Fail:      0
Fail:               1
Unexpected Pass:    0
Skipped:            1
Timeout:            0
OUT
	cat >"$b/meson-logs/testlog.txt" <<'OUT'
Log of Meson test suite run on 2026-01-01T00:00:00

==================================== 1/3 =====================================
test:         flowcap:unit / unit-a
result:       exit status 0
==================================== 2/3 =====================================
test:         flowcap:integration / t_b
result:       exit status 1
----------------------------------- stdout -----------------------------------
ok   first check
FAIL the reason it failed: widget 7 != 8
1 passed, 1 failed
==============================================================================
==================================== 3/3 =====================================
test:         flowcap:integration / t_c
result:       exit status 77
OUT
	exit 1
fi
cat <<'OUT'
1/2 flowcap:unit / unit-a               OK              0.10s
2/2 flowcap:integration / t_c           SKIP            0.10s   exit status 77

Ok:                 1
Expected Fail:      0
Fail:               0
Unexpected Pass:    0
Skipped:            1
Timeout:            0
OUT
cat >"$b/meson-logs/testlog.txt" <<'OUT'
Log of Meson test suite run on 2026-01-01T00:00:00

==================================== 1/2 =====================================
test:         flowcap:unit / unit-a
result:       exit status 0
==================================== 2/2 =====================================
test:         flowcap:integration / t_c
result:       exit status 77
----------------------------------- stdout -----------------------------------
ok   first check
SKIP NIC drops: cannot create a network namespace
1 passed, 0 failed, 1 skipped
==============================================================================
OUT
STUB
chmod +x "$Q/bin/dpkg-query" "$Q/bin/ninja" "$Q/bin/meson"
QS="env -u FLOWCAP_ALLOW_SKIP PATH=$Q/bin:$PATH FLOWCAP_BUILD=$Q/build"
run "quickstart.sh test, a failure: counted apart from the skip" 1 \
	'^1 passed, 1 failed, 1 skipped$' $QS QS_CASE=fail sh "$S/quickstart.sh" test
if [ "$(grep -c "^FAIL the reason it failed: widget 7 != 8$" "$TMP/out")" -eq 1 ] &&
	grep -q "=== flowcap:integration / t_b$" "$TMP/out" &&
	grep -q "every test's full log in $Q/build/meson-logs/testlog.txt" "$TMP/out" &&
	! grep -q "=== flowcap:integration / t_c" "$TMP/out"; then
	ok "quickstart.sh test, a failure: its log is shown, and where the full log is"
else
	bad "quickstart.sh test, a failure: no reason or no log path shown"
	sed 's/^/     | /' "$TMP/out" | tail -n 15
fi
run "quickstart.sh test, all pass but one skipped: exit 1, skip not counted as passed" 1 \
	'^1 passed, 0 failed, 1 skipped$' $QS QS_CASE=ok sh "$S/quickstart.sh" test
if grep -q "^  flowcap:integration / t_c: NIC drops: cannot create a network namespace$" "$TMP/out" &&
	grep -q "FLOWCAP_ALLOW_SKIP=1" "$TMP/out" &&
	[ "$(tail -n 1 "$TMP/out")" = "1 passed, 0 failed, 1 skipped" ]; then
	ok "quickstart.sh test, a skip: the test and its reason named, the allowance said, the summary last"
else
	bad "quickstart.sh test, a skip: no reason or no allowance shown"
	sed 's/^/     | /' "$TMP/out" | tail -n 15
fi
run "quickstart.sh test, one skipped, FLOWCAP_ALLOW_SKIP=1: exit 0" 0 \
	'^1 passed, 0 failed, 1 skipped$' $QS QS_CASE=ok FLOWCAP_ALLOW_SKIP=1 sh "$S/quickstart.sh" test

# --- 7. systemd unit and its environment file ---------------------------
unit="$S/flowcap.service"
for v in $(grep -o '\$FLOWCAP_[A-Z_]*' "$unit" | sort -u | tr -d '$'); do
	if grep -q "^$v=" "$S/flowcap.default"; then
		ok "flowcap.default sets $v"
	else
		bad "flowcap.default does not set $v (used by the unit)"
	fi
done
if grep -v -e '^#' -e '^$' -e '^[A-Z_]*="[^"]*"$' "$S/flowcap.default" | grep -q .; then
	bad "flowcap.default has lines that are not VAR=\"value\""
else
	ok "flowcap.default syntax"
fi
for k in 'KillSignal=SIGINT' 'LimitMEMLOCK=infinity' 'Restart=on-failure' \
	'EnvironmentFile=/etc/default/flowcap' 'ExecStart=/usr/local/bin/flowcap ' \
	'ExecStartPre=+/usr/local/lib/flowcap/hugepages.sh setup'; do
	if grep -q "^$k" "$unit"; then ok "unit: $k"; else bad "unit lacks $k"; fi
done
if command -v systemd-analyze >/dev/null 2>&1; then
	# verify wants the executables to exist: point them at this tree.
	bin="$FC_BUILD/app/flowcap/flowcap"
	[ -x "$bin" ] || bin=/bin/true
	mkdir -p "$TMP/unit"
	sed -e "s|/usr/local/lib/flowcap/|$S/|g" \
		-e "s|/usr/local/bin/flowcap|$bin|g" \
		-e "s|^EnvironmentFile=.*|EnvironmentFile=$S/flowcap.default|" \
		"$unit" >"$TMP/unit/flowcap.service"
	set +e
	systemd-analyze verify "$TMP/unit/flowcap.service" >"$TMP/out" 2>&1
	rc=$?
	set -e
	# verify exits 0 on unknown keys; any message is a finding.
	if [ $rc -eq 0 ] && ! grep -q . "$TMP/out"; then
		ok "systemd-analyze verify flowcap.service"
	else
		bad "systemd-analyze verify flowcap.service (exit $rc)"
		sed 's/^/     | /' "$TMP/out" | head -n 20
	fi
else
	skip "systemd-analyze verify flowcap.service: systemd-analyze not installed (a machine without systemd)"
fi

finish

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Bind NICs to a DPDK-capable kernel driver (vfio-pci, uio_pci_generic) and
# back, around DPDK's dpdk-devbind.py, with the checks that keep a server
# reachable: IOMMU on, driver loadable, never the interface you are logged
# in through (unless --force), never an mlx5 NIC (bifurcated: it stays on
# mlx5_core), never a device that is not a network controller. The original
# driver of every device it binds is remembered so `restore` can give it
# back. It does not reserve hugepages (see hugepages.sh).
set -eu

prog=$(basename "$0")
DEVBIND=${DPDK_DEVBIND:-dpdk-devbind.py}
# Overridable for tests: a fake sysfs tree, a scratch state file.
SYS=${FLOWCAP_SYSFS:-/sys}
STATE=${FLOWCAP_BIND_STATE:-/run/flowcap/bind-nics.state}

usage() {
	cat <<EOF
Usage: $prog list
       $prog bind PCI... [--driver vfio-pci|uio_pci_generic] [--force] [--dry-run]
       $prog unbind PCI... [--force] [--dry-run]
       $prog restore [PCI...] [--dry-run]
       $prog --help

Give NICs to DPDK (flowcap) and back, through dpdk-devbind.py.

  list      network devices, their drivers, the IOMMU state and what this
            script remembers (no root needed)
  bind      bind the devices to vfio-pci (default) or uio_pci_generic,
            remembering their current driver
  unbind    detach the devices from their driver (no driver at all)
  restore   give the devices (default: every device bound by this script)
            back to the driver they had before

PCI is domain:bus:slot.func (0000:3b:00.0) or bus:slot.func (3b:00.0).

Checks before anything is changed (any failure: exit 1, nothing done):
  - root;
  - the device exists and is a network controller;
  - vfio-pci: the IOMMU is on (/sys/kernel/iommu_groups is not empty);
  - the driver module loads (modprobe);
  - the device's interface is not up with addresses or routes, i.e. not the
    one you may be logged in through. --force overrides this, and only this.
NVIDIA/Mellanox ConnectX (vendor 15b3, mlx5) are never bound: DPDK's mlx5
driver works through the kernel's mlx5_core, so the device stays where it
is; name it to flowcap with the EAL option -a PCI.

  --dry-run   run every check and print the dpdk-devbind.py command, change
              nothing (no root needed)

Original drivers are kept in $STATE (cleared at reboot,
when every device is back on its kernel driver anyway).

Examples:
  $prog list
  sudo $prog bind 0000:3b:00.0 0000:3b:00.1
  sudo $prog restore
EOF
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage_err() {
	echo "$prog: $*" >&2
	echo "Try '$prog --help'." >&2
	exit 2
}

need_devbind() {
	command -v "$DEVBIND" >/dev/null 2>&1 ||
		die "$DEVBIND not found; install DPDK's tools: apt-get install dpdk"
}

# 3b:00.0 -> 0000:3b:00.0; anything else is refused.
norm_pci() {
	p=$(echo "$1" | tr 'A-F' 'a-f')
	case "$p" in
	[0-9a-f][0-9a-f][0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-1][0-9a-f].[0-7]) echo "$p" ;;
	[0-9a-f][0-9a-f]:[0-1][0-9a-f].[0-7]) echo "0000:$p" ;;
	*) return 1 ;;
	esac
}

dev_dir() {
	echo "$SYS/bus/pci/devices/$1"
}

# Current driver of a device, or "none".
cur_driver() {
	d=$(dev_dir "$1")/driver
	if [ -e "$d" ]; then
		basename "$(readlink "$d")"
	else
		echo none
	fi
}

# Kernel interfaces of a device (eth0 ...), one per line. Most drivers put
# them in the device's net/; virtio-pci one level down (virtio0/net/).
dev_ifaces() {
	for n in "$(dev_dir "$1")"/net/* "$(dev_dir "$1")"/*/net/*; do
		[ -e "$n" ] && echo "${n##*/}"
	done
	return 0
}

iommu_on() {
	[ -n "$(ls -A "$SYS/kernel/iommu_groups" 2>/dev/null)" ]
}

noiommu_on() {
	[ "$(cat "$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode" 2>/dev/null)" = "Y" ]
}

iommu_help() {
	cat >&2 <<EOF
$prog: the IOMMU is off ($SYS/kernel/iommu_groups is empty): vfio-pci
cannot give a device to a user-space program safely without it.
  Turn it on: enable VT-d (Intel) or AMD-Vi/IOMMU in the BIOS, then add to
  the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub,
  update-grub, reboot):
      Intel:  intel_iommu=on iommu=pt
      AMD:    amd_iommu=on iommu=pt      (on by default on recent kernels)
  (iommu=pt keeps the kernel's own devices on the fast pass-through path.)
  UNSAFE alternative, for machines without an IOMMU (some VMs): vfio's
  no-IOMMU mode. The device can then DMA anywhere in memory and a bug in
  the program can corrupt the kernel; it also taints the kernel:
      modprobe vfio enable_unsafe_noiommu_mode=1
      $prog bind PCI...
  or --driver uio_pci_generic (same lack of protection, no MSI-X).
  A NIC on mlx5 (ConnectX) needs none of this: it stays on mlx5_core.
EOF
}

# The interface is in use when it is up and has an address or a route.
# Prints why, returns 0 when in use.
iface_in_use() {
	ifc=$1
	[ -r "$SYS/class/net/$ifc/operstate" ] || return 1
	flags=$(cat "$SYS/class/net/$ifc/flags" 2>/dev/null || echo 0x0)
	[ $((flags & 1)) -eq 1 ] || return 1
	command -v ip >/dev/null 2>&1 || {
		echo "it is up (install iproute2 to check its addresses and routes)"
		return 0
	}
	addrs=$(ip -o addr show dev "$ifc" 2>/dev/null |
		awk '$3 == "inet" || ($3 == "inet6" && $4 !~ /^fe80/) {printf "%s ", $4}')
	routes=$({
		ip route show dev "$ifc"
		ip -6 route show dev "$ifc" | grep -v '^fe80'
	} 2>/dev/null || true)
	nroutes=$(printf '%s\n' "$routes" | grep -c . || true)
	[ -n "$addrs" ] || [ "$nroutes" -gt 0 ] || return 1
	why="it is up"
	[ -z "$addrs" ] || why="$why with address(es) ${addrs% }"
	[ "$nroutes" -eq 0 ] ||
		why="$why and $nroutes route(s) ($(printf '%s\n' "$routes" | head -n 1 | cut -d' ' -f1-3) ...)"
	if printf '%s\n' "$routes" | grep -q '^default'; then
		why="$why; it carries the DEFAULT ROUTE"
	fi
	echo "$why"
	return 0
}

remember() {
	# $1 pci, $2 original driver; the first binding is the one kept.
	if [ -f "$STATE" ] && awk -v p="$1" '$1 == p {f = 1} END {exit !f}' "$STATE"; then
		return 0
	fi
	mkdir -p "$(dirname "$STATE")"
	echo "$1 $2" >>"$STATE"
}

forget() {
	[ -f "$STATE" ] || return 0
	awk -v p="$1" '$1 != p' "$STATE" >"$STATE.new"
	mv "$STATE.new" "$STATE"
}

remembered() {
	[ -f "$STATE" ] || return 0
	awk -v p="$1" '$1 == p {print $2; exit}' "$STATE"
}

# Is the module for a driver loaded or loadable? Loads it unless dry.
load_driver() {
	drv=$1 dry=$2
	[ -d "$SYS/bus/pci/drivers/$drv" ] && return 0
	command -v modprobe >/dev/null 2>&1 ||
		die "driver $drv is not loaded and modprobe is not available (install kmod); load it with: modprobe $drv"
	if [ "$dry" -eq 1 ]; then
		modprobe -n -q "$drv" 2>/dev/null ||
			die "module $drv cannot be loaded (modprobe -n $drv fails): is it built for this kernel ($(uname -r))? Debian: apt-get install linux-image-$(uname -r)"
		return 0
	fi
	modprobe "$drv" 2>/dev/null ||
		die "modprobe $drv failed: the module is missing for this kernel ($(uname -r)) or loading is forbidden (Secure Boot lockdown, modules_disabled)"
	[ -d "$SYS/bus/pci/drivers/$drv" ] ||
		die "modprobe $drv succeeded but $SYS/bus/pci/drivers/$drv is missing"
}

# Checks shared by bind and unbind. Prints the accepted PCI addresses on
# stdout, mlx5 notes on stderr; dies on the first problem.
check_devices() {
	force=$1
	shift
	for a in "$@"; do
		pci=$(norm_pci "$a") ||
			die "'$a' is not a PCI address; write 0000:3b:00.0 or 3b:00.0 (see: $prog list)"
		dir=$(dev_dir "$pci")
		[ -d "$dir" ] ||
			die "$pci: no such PCI device on this machine; the network devices are listed by: $prog list"
		class=$(cat "$dir/class" 2>/dev/null || echo 0x000000)
		case "$class" in
		0x02*) ;;
		*) die "$pci is not a network controller (PCI class $class); refusing to touch it" ;;
		esac
		vendor=$(cat "$dir/vendor" 2>/dev/null || echo 0x0000)
		drv=$(cur_driver "$pci")
		if [ "$vendor" = "0x15b3" ]; then
			echo "$prog: $pci is an NVIDIA/Mellanox NIC (vendor 15b3): not bound. DPDK's mlx5 driver is bifurcated: the device stays on the kernel's mlx5_core (now: $drv) and flowcap reaches it through rdma-core; pass it with the EAL option -a $pci (see drivers-config/mlx5-connectx.ini)." >&2
			if [ "$drv" != "mlx5_core" ]; then
				echo "$prog: $pci is not on mlx5_core: give it back with: $prog restore $pci (or: $DEVBIND -b mlx5_core $pci)" >&2
			fi
			continue
		fi
		for ifc in $(dev_ifaces "$pci"); do
			if why=$(iface_in_use "$ifc"); then
				if [ "$force" -eq 1 ]; then
					echo "$prog: WARNING: $pci ($ifc): $why; going on because of --force" >&2
				else
					die "$pci is interface $ifc and $why. Taking it from the kernel cuts this machine off that network (if you are logged in through it, your session is lost). Take it down first (ip link set $ifc down) or pass --force."
				fi
			fi
		done
		echo "$pci"
	done
}

run() {
	if [ "$dry" -eq 1 ]; then
		echo "$prog: would run: $*"
	else
		echo "$prog: $*"
		"$@"
	fi
}

cmd_bind() {
	driver=vfio-pci force=0 dry=0 devs=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--driver)
			[ $# -ge 2 ] || usage_err "--driver needs vfio-pci or uio_pci_generic"
			driver=$2
			shift 2
			;;
		--driver=*) driver=${1#--driver=}; shift ;;
		--force) force=1; shift ;;
		--dry-run) dry=1; shift ;;
		-h | --help) usage; exit 0 ;;
		-*) usage_err "bind: unknown option '$1'" ;;
		*) devs="$devs $1"; shift ;;
		esac
	done
	case "$driver" in
	vfio-pci | uio_pci_generic) ;;
	igb_uio) die "igb_uio is out of tree and deprecated; use vfio-pci (or uio_pci_generic)" ;;
	*) usage_err "--driver '$driver': choose vfio-pci or uio_pci_generic" ;;
	esac
	[ -n "$devs" ] || usage_err "bind: name at least one PCI device (see: $prog list)"

	# shellcheck disable=SC2086 # devs is a list of words by design
	ok=$(check_devices "$force" $devs)
	if [ -z "$ok" ]; then
		echo "$prog: nothing to bind"
		return 0
	fi
	[ "$dry" -eq 1 ] || [ "$(id -u)" -eq 0 ] ||
		die "binding needs root: run it with sudo"
	if [ "$driver" = vfio-pci ] && ! iommu_on; then
		if noiommu_on; then
			echo "$prog: WARNING: no IOMMU; vfio runs in UNSAFE no-IOMMU mode (enable_unsafe_noiommu_mode=Y): the devices can DMA anywhere in memory" >&2
		else
			iommu_help
			exit 1
		fi
	fi
	if [ "$driver" = uio_pci_generic ]; then
		echo "$prog: WARNING: uio_pci_generic gives no DMA isolation and no MSI-X interrupts; prefer vfio-pci with the IOMMU on" >&2
	fi
	need_devbind
	load_driver "$driver" "$dry"

	todo=""
	for pci in $ok; do
		drv=$(cur_driver "$pci")
		if [ "$drv" = "$driver" ]; then
			echo "$prog: $pci is already on $driver"
			continue
		fi
		todo="$todo $pci"
	done
	[ -n "$todo" ] || return 0
	for pci in $todo; do
		if [ "$dry" -eq 0 ]; then
			remember "$pci" "$(cur_driver "$pci")"
		fi
	done
	# dpdk-devbind.py has its own in-use check (any route): it stays on
	# as a second guard unless --force was given.
	fflag=""
	[ "$force" -eq 0 ] || fflag=--force
	# shellcheck disable=SC2086
	if ! run "$DEVBIND" $fflag -b "$driver" $todo; then
		# Keep only what actually moved, so restore stays truthful.
		for pci in $todo; do
			[ "$(cur_driver "$pci")" != "$(remembered "$pci")" ] ||
				forget "$pci"
		done
		die "$DEVBIND failed (see its message above and: $prog list)"
	fi
	[ "$dry" -eq 0 ] || { echo "$prog: dry run: nothing changed"; return 0; }
	for pci in $todo; do
		now=$(cur_driver "$pci")
		[ "$now" = "$driver" ] ||
			die "$pci is on '$now' after binding, not $driver; see dmesg"
		echo "$prog: $pci bound to $driver (was $(remembered "$pci"); '$prog restore $pci' gives it back)"
	done
}

cmd_unbind() {
	force=0 dry=0 devs=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--force) force=1; shift ;;
		--dry-run) dry=1; shift ;;
		-h | --help) usage; exit 0 ;;
		-*) usage_err "unbind: unknown option '$1'" ;;
		*) devs="$devs $1"; shift ;;
		esac
	done
	[ -n "$devs" ] || usage_err "unbind: name at least one PCI device"
	# shellcheck disable=SC2086
	ok=$(check_devices "$force" $devs)
	[ -n "$ok" ] || return 0
	[ "$dry" -eq 1 ] || [ "$(id -u)" -eq 0 ] ||
		die "unbinding needs root: run it with sudo"
	need_devbind
	for pci in $ok; do
		drv=$(cur_driver "$pci")
		if [ "$drv" = none ]; then
			echo "$prog: $pci has no driver already"
			continue
		fi
		[ "$dry" -eq 1 ] || remember "$pci" "$drv"
		if [ "$force" -eq 1 ]; then
			run "$DEVBIND" --force -u "$pci" || die "$DEVBIND -u $pci failed"
		else
			run "$DEVBIND" -u "$pci" || die "$DEVBIND -u $pci failed"
		fi
	done
}

cmd_restore() {
	dry=0 devs=""
	while [ $# -gt 0 ]; do
		case "$1" in
		--dry-run) dry=1; shift ;;
		-h | --help) usage; exit 0 ;;
		-*) usage_err "restore: unknown option '$1'" ;;
		*)
			p=$(norm_pci "$1") || usage_err "'$1' is not a PCI address"
			devs="$devs $p"
			shift
			;;
		esac
	done
	if [ -z "$devs" ]; then
		[ -s "$STATE" ] || { echo "$prog: nothing to restore ($STATE is empty)"; return 0; }
		devs=$(awk '{print $1}' "$STATE")
	fi
	[ "$dry" -eq 1 ] || [ "$(id -u)" -eq 0 ] ||
		die "restoring needs root: run it with sudo"
	need_devbind
	rc=0
	for pci in $devs; do
		orig=$(remembered "$pci")
		if [ -z "$orig" ]; then
			echo "$prog: $pci: no original driver remembered (bind it with $DEVBIND -b DRIVER $pci)" >&2
			rc=1
			continue
		fi
		[ -d "$(dev_dir "$pci")" ] || {
			echo "$prog: $pci: no such PCI device any more" >&2
			rc=1
			continue
		}
		if [ "$(cur_driver "$pci")" = "$orig" ]; then
			echo "$prog: $pci is already on $orig"
		elif [ "$orig" = none ]; then
			run "$DEVBIND" -u "$pci" || { rc=1; continue; }
		else
			run "$DEVBIND" -b "$orig" "$pci" || { rc=1; continue; }
		fi
		[ "$dry" -eq 1 ] || forget "$pci"
	done
	return $rc
}

cmd_list() {
	[ $# -eq 0 ] || usage_err "list takes no arguments"
	need_devbind
	"$DEVBIND" --status-dev net || die "$DEVBIND --status-dev net failed"
	echo
	if iommu_on; then
		# shellcheck disable=SC2046 # counting the words is the point
		set -- $(cd "$SYS/kernel/iommu_groups" && echo *)
		echo "IOMMU: on ($# groups): vfio-pci can be used"
	elif noiommu_on; then
		echo "IOMMU: off; vfio UNSAFE no-IOMMU mode is enabled"
	else
		echo "IOMMU: off: vfio-pci cannot bind devices (see '$prog --help' and doc/operations.md)"
	fi
	n=0
	for dir in "$SYS"/bus/pci/devices/*; do
		[ -e "$dir" ] || continue
		case "$(cat "$dir/class" 2>/dev/null)" in 0x02*) ;; *) continue ;; esac
		n=$((n + 1))
		if [ "$(cat "$dir/vendor" 2>/dev/null)" = "0x15b3" ]; then
			echo "mlx5: ${dir##*/} is NVIDIA/Mellanox: use it as it is (mlx5_core), with -a ${dir##*/}"
		fi
	done
	[ $n -gt 0 ] || echo "No PCI network device on this machine: use DPDK virtual devices (--vdev net_pcap0,rx_pcap=FILE) or flowcap --read FILE"
	if [ -s "$STATE" ]; then
		echo "Bound by $prog (original driver; '$prog restore' gives them back):"
		sed 's/^/  /' "$STATE"
	fi
}

[ $# -gt 0 ] || { usage >&2; exit 2; }
cmd=$1
shift
case "$cmd" in
list | status) cmd_list "$@" ;;
bind) cmd_bind "$@" ;;
unbind) cmd_unbind "$@" ;;
restore) cmd_restore "$@" ;;
-h | --help | help) usage ;;
*) usage_err "unknown command '$cmd'" ;;
esac

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Reserve, show and release hugepages for flowcap, around DPDK's
# dpdk-hugepages.py. Prefers 1G pages when the CPU has them and the size is
# whole gigabytes, never shrinks a reservation made at boot, mounts hugetlbfs
# for the page size used, and explains what to do when the kernel cannot
# find the memory. It does not touch NICs (see bind-nics.sh).
set -eu

prog=$(basename "$0")
HUGEPAGES_PY=${DPDK_HUGEPAGES:-dpdk-hugepages.py}
SYS=/sys

usage() {
	cat <<EOF
Usage: $prog setup [SIZE] [--node N] [--pagesize 2M|1G] [--dry-run]
       $prog status
       $prog clear [--force]
       $prog --help

Hugepages for flowcap (DPDK), through dpdk-hugepages.py.

  setup [SIZE]   reserve SIZE (default 2G; suffix M or G) of hugepages and
                 mount hugetlbfs (/dev/hugepages) for that page size.
                 1G pages when the CPU supports them (pdpe1gb) and SIZE is
                 a multiple of 1G, else 2M pages. Without --node, SIZE is
                 reserved on EVERY NUMA node (as dpdk-hugepages.py does);
                 with --node N on node N only: use the node of the NIC
                 (cat /sys/bus/pci/devices/PCI/numa_node).
                 A reservation already as large (e.g. made at boot) is
                 kept as it is; nothing is ever shrunk.
      --pagesize   force 2M or 1G pages
      --dry-run    print what would be done, change nothing
  status         pages reserved/free per node and size, mounts, CPU support
                 (no root needed)
  clear          release all hugepages; refuses while a process holds
                 some (a running flowcap) unless --force

setup and clear need root. Exit status: 0 done, 1 error, 2 bad usage.

flowcap also runs without hugepages, slower, for tests and laptops:
  flowcap --no-huge --no-shconf -m 1024 ... -- ...

Examples:
  $prog setup 4G --node 0     # 4 x 1G pages on node 0 (if supported)
  $prog setup 1536M           # 768 x 2M pages on each node
  $prog status
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

need_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "$1 needs root (it writes /sys and mounts hugetlbfs): run it with sudo"
}

need_py() {
	command -v "$HUGEPAGES_PY" >/dev/null 2>&1 ||
		die "$HUGEPAGES_PY not found; install DPDK's tools: apt-get install dpdk"
}

# SIZE (512M, 2G, 1048576K) -> kB on stdout.
size_kb() {
	s=$1
	num=${s%[KkMmGg]}
	unit=${s#"$num"}
	case "$num" in
	'' | *[!0-9]*) return 1 ;;
	esac
	[ ${#num} -le 9 ] || return 1
	case "$unit" in
	K | k) echo "$num" ;;
	M | m) echo $((num * 1024)) ;;
	G | g) echo $((num * 1048576)) ;;
	*) return 1 ;;
	esac
}

# kB -> "2M" / "1G" / "N kB" for messages.
fmt_kb() {
	if [ $(($1 % 1048576)) -eq 0 ]; then
		echo "$(($1 / 1048576))G"
	elif [ $(($1 % 1024)) -eq 0 ]; then
		echo "$(($1 / 1024))M"
	else
		echo "${1}K"
	fi
}

cpu_has_1g() {
	grep -qw pdpe1gb /proc/cpuinfo 2>/dev/null &&
		[ -d "$SYS/kernel/mm/hugepages/hugepages-1048576kB" ]
}

# NUMA nodes with hugepage counters, one per line ("0", "1", ...).
nodes() {
	found=0
	for d in "$SYS"/devices/system/node/node[0-9]*; do
		[ -d "$d/hugepages" ] || continue
		echo "${d##*/node}"
		found=1
	done
	# No NUMA information: one pool, reported as node "-".
	[ $found -eq 1 ] || echo "-"
}

# nr_hugepages of page size $1 (kB) on node $2 ("-" = system-wide).
nr_pages() {
	if [ "$2" = "-" ]; then
		f="$SYS/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages"
	else
		f="$SYS/devices/system/node/node$2/hugepages/hugepages-$1kB/nr_hugepages"
	fi
	if [ -r "$f" ]; then cat "$f"; else echo 0; fi
}

meminfo() {
	awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo
}

# Mount point of a hugetlbfs for page size $1 (kB), if any. A mount without
# a pagesize option uses the default hugepage size.
mount_for() {
	def=$(meminfo Hugepagesize)
	awk -v want="$1" -v def="$def" '$3 == "hugetlbfs" {
		ps = def
		n = split($4, o, ",")
		for (i = 1; i <= n; i++)
			if (o[i] ~ /^pagesize=/) {
				v = substr(o[i], 10)
				u = substr(v, length(v))
				v = v + 0
				if (u == "M") v *= 1024
				else if (u == "G") v *= 1048576
				else if (u == "K") v = v
				else v = v / 1024
				ps = v
			}
		if (ps == want) { print $2; exit }
	}' /proc/mounts
}

shortfall_help() {
	# $1 pagesize kB, $2 pages wanted per node, $3 size text
	ps=$(fmt_kb "$1")
	cat >&2 <<EOF

The kernel could not find enough free physically contiguous memory for
$ps pages: memory is fragmented (or in use). What to do:

  now:    free and compact memory, then retry:
            sync; echo 3 > /proc/sys/vm/drop_caches
            echo 1 > /proc/sys/vm/compact_memory
            $prog setup $3
  better: reserve the pages at boot, before memory fragments. Add to the
          kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub,
          then update-grub and reboot), for example:
            default_hugepagesz=$ps hugepagesz=$ps hugepages=$2
          (1G pages can only be reserved reliably this way; recent kernels
          also take per-node counts: hugepages=0:$2,1:$2)
  or:     ask for less, or for 2M pages (--pagesize 2M).

flowcap also runs without hugepages (--no-huge -m 1024), for tests only.
EOF
}

cmd_setup() {
	size=2G node="" force_ps="" dry=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--node)
			[ $# -ge 2 ] || usage_err "--node needs a NUMA node number"
			node=$2
			shift 2
			;;
		--node=*) node=${1#--node=}; shift ;;
		--pagesize)
			[ $# -ge 2 ] || usage_err "--pagesize needs 2M or 1G"
			force_ps=$2
			shift 2
			;;
		--pagesize=*) force_ps=${1#--pagesize=}; shift ;;
		--dry-run) dry=1; shift ;;
		-h | --help) usage; exit 0 ;;
		-*) usage_err "setup: unknown option '$1'" ;;
		*) size=$1; shift ;;
		esac
	done
	kb=$(size_kb "$size") ||
		usage_err "SIZE '$size' is not a size; write e.g. 512M, 2G, 16G"
	[ "$kb" -gt 0 ] || usage_err "SIZE must be larger than 0"

	if [ -n "$node" ]; then
		case "$node" in
		'' | *[!0-9]*) usage_err "--node '$node' is not a node number" ;;
		esac
		[ -d "$SYS/devices/system/node/node$node/hugepages" ] ||
			die "NUMA node $node does not exist here (nodes: $(nodes | tr '\n' ' '))"
	fi

	case "$force_ps" in
	"") if [ $((kb % 1048576)) -eq 0 ] && cpu_has_1g; then
			ps_kb=1048576
			why="1G pages: the CPU supports them (pdpe1gb) and $size is whole gigabytes"
		else
			ps_kb=2048
			if cpu_has_1g; then
				why="2M pages: $size is not a multiple of 1G"
			else
				why="2M pages: this CPU or kernel has no 1G pages (pdpe1gb)"
			fi
		fi ;;
	2M | 2m | 2048K | 2048k) ps_kb=2048; why="2M pages (--pagesize)" ;;
	1G | 1g | 1024M | 1024m)
		cpu_has_1g || die "--pagesize 1G: this CPU or kernel has no 1G pages (no pdpe1gb flag or no $SYS/kernel/mm/hugepages/hugepages-1048576kB); use 2M"
		ps_kb=1048576
		why="1G pages (--pagesize)" ;;
	*) usage_err "--pagesize '$force_ps': choose 2M or 1G" ;;
	esac
	[ $((kb % ps_kb)) -eq 0 ] ||
		usage_err "SIZE $size is not a multiple of the page size $(fmt_kb "$ps_kb")"
	pages=$((kb / ps_kb))
	ps=$(fmt_kb "$ps_kb")

	if [ -n "$node" ]; then targets=$node; else targets=$(nodes); fi
	where="on node(s) $(echo "$targets" | paste -sd, -)"
	[ "$targets" != "-" ] || where="(no NUMA information: system-wide)"
	echo "$prog: $size = $pages x $ps $where; $why"

	if [ $dry -eq 1 ]; then
		for n in $targets; do
			have=$(nr_pages "$ps_kb" "$n")
			if [ "$have" -ge "$pages" ]; then
				echo "$prog: node $n: $have x $ps already reserved: kept"
			elif [ "$n" = "-" ]; then
				echo "$prog: would run: $HUGEPAGES_PY -p $ps -r $size"
			else
				echo "$prog: would run: $HUGEPAGES_PY -p $ps -n $n -r $size"
			fi
		done
		mp=$(mount_for "$ps_kb")
		if [ -n "$mp" ]; then
			echo "$prog: hugetlbfs for $ps pages already mounted on $mp"
		else
			echo "$prog: would mount hugetlbfs (pagesize=$ps) on /dev/hugepages"
		fi
		echo "$prog: dry run: nothing changed"
		return 0
	fi

	need_root "setup"
	need_py
	short=0
	for n in $targets; do
		have=$(nr_pages "$ps_kb" "$n")
		if [ "$have" -ge "$pages" ]; then
			echo "$prog: node $n: $have x $ps already reserved: kept"
			continue
		fi
		if [ "$n" = "-" ]; then
			"$HUGEPAGES_PY" -p "$ps" -r "$size" || true
		else
			"$HUGEPAGES_PY" -p "$ps" -n "$n" -r "$size" || true
		fi
		got=$(nr_pages "$ps_kb" "$n")
		if [ "$got" -lt "$pages" ]; then
			echo "$prog: node $n: only $got of the $pages x $ps pages asked for could be reserved" >&2
			short=1
		else
			echo "$prog: node $n: $got x $ps reserved"
		fi
	done

	mp=$(mount_for "$ps_kb")
	if [ -z "$mp" ]; then
		mp=/dev/hugepages
		# /dev/hugepages may already hold a mount of the other size.
		if awk -v d="$mp" '$2 == d {f = 1} END {exit !f}' /proc/mounts; then
			mp=/dev/hugepages-$ps
		fi
		mkdir -p "$mp"
		"$HUGEPAGES_PY" -p "$ps" -m -d "$mp" ||
			die "mounting hugetlbfs on $mp failed"
		[ -n "$(mount_for "$ps_kb")" ] ||
			die "hugetlbfs (pagesize=$ps) is not mounted on $mp; mount it by hand: mount -t hugetlbfs -o pagesize=$ps nodev $mp"
		echo "$prog: hugetlbfs (pagesize=$ps) mounted on $mp"
	else
		echo "$prog: hugetlbfs (pagesize=$ps) mounted on $mp"
	fi

	if [ $short -eq 1 ]; then
		shortfall_help "$ps_kb" "$pages" "$size"
		exit 1
	fi
}

cmd_status() {
	[ $# -eq 0 ] || usage_err "status takes no arguments"
	echo "Hugepages (node, page size: reserved / free):"
	any=0
	for d in "$SYS"/kernel/mm/hugepages/hugepages-*kB; do
		[ -d "$d" ] || continue
		pkb=${d##*hugepages-}
		pkb=${pkb%kB}
		for n in $(nodes); do
			if [ "$n" = "-" ]; then
				f=$d
			else
				f=$SYS/devices/system/node/node$n/hugepages/hugepages-${pkb}kB
			fi
			[ -r "$f/nr_hugepages" ] || continue
			nr=$(cat "$f/nr_hugepages")
			fr=$(cat "$f/free_hugepages" 2>/dev/null || echo "?")
			printf '  node %s  %-4s  %6s / %s\n' "$n" "$(fmt_kb "$pkb")" "$nr" "$fr"
			[ "$nr" -eq 0 ] || any=1
		done
	done
	if cpu_has_1g; then
		echo "1G pages: supported by this CPU (pdpe1gb)"
	else
		echo "1G pages: not supported here (no pdpe1gb or no kernel support); 2M only"
	fi
	mounts=$(awk '$3 == "hugetlbfs" {print "  " $2 " (" $4 ")"}' /proc/mounts)
	if [ -n "$mounts" ]; then
		echo "hugetlbfs mounted on:"
		echo "$mounts"
	else
		echo "hugetlbfs: not mounted ($prog setup mounts it)"
	fi
	if [ $any -eq 0 ]; then
		echo "No hugepages reserved. Reserve some with: sudo $prog setup 2G"
		echo "(flowcap also runs without them, for tests: --no-huge -m 1024)"
	fi
}

# Processes that map hugepage memory (DPDK's rtemap_* files).
hugepage_users() {
	for p in /proc/[0-9]*; do
		if grep -qs -e 'rtemap_' -e '/dev/hugepages' "$p/maps" 2>/dev/null; then
			echo "${p#/proc/} ($(cat "$p/comm" 2>/dev/null || echo '?'))"
		fi
	done
}

cmd_clear() {
	force=0
	while [ $# -gt 0 ]; do
		case "$1" in
		--force) force=1; shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage_err "clear: unknown argument '$1'" ;;
		esac
	done
	need_root "clear"
	need_py
	total=$(meminfo HugePages_Total)
	free=$(meminfo HugePages_Free)
	if [ "${total:-0}" -ne "${free:-0}" ] && [ $force -eq 0 ]; then
		users=$(hugepage_users | tr '\n' ' ')
		die "$((total - free)) hugepages are in use${users:+ by: $users}; stop flowcap (systemctl stop flowcap) first, or pass --force (pages in use are only released when their process exits)"
	fi
	"$HUGEPAGES_PY" -c || die "$HUGEPAGES_PY -c failed"
	echo "$prog: hugepages released"
}

[ $# -gt 0 ] || { usage >&2; exit 2; }
cmd=$1
shift
case "$cmd" in
setup) cmd_setup "$@" ;;
status) cmd_status "$@" ;;
clear) cmd_clear "$@" ;;
-h | --help | help) usage ;;
*) usage_err "unknown command '$cmd'" ;;
esac

#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The suite's last test (priority in tests/meson.build): nothing the
# tests before it created is left on the machine. Every test lists its
# $TMP and its network namespaces in $FC_BUILD/fc-test-resources.list
# (lib.sh `note`); each must be gone, with no mount under it and no
# process whose command line names it. The list is emptied at the end,
# so each run checks its own tests.
. "$(dirname "$0")/lib.sh"
list=$FC_RESOURCES

n=0
if [ -f "$list" ]; then
	while read -r kind name; do
		[ "$name" != "$TMP" ] || continue
		n=$((n + 1))
		case "$kind" in
		dir)
			[ ! -e "$name" ] || bad "left behind: directory $name"
			if awk -v d="$name" 'index($2, d) == 1' /proc/mounts | grep -q .; then
				bad "left behind: a mount under $name"
			fi
			for c in /proc/[0-9]*/cmdline; do
				if tr '\0' ' ' <"$c" 2>/dev/null | grep -qF "$name/"; then
					p=${c#/proc/}
					bad "left behind: process ${p%/cmdline} ($(tr '\0' ' ' <"$c" | cut -c1-100))"
				fi
			done
			;;
		netns)
			if ip netns list 2>/dev/null | grep -q "^$name\( \|$\)"; then
				bad "left behind: network namespace $name"
			fi
			;;
		*)
			bad "unknown entry in $list: $kind $name" ;;
		esac
	done <"$list"
fi
[ "$FAIL" -gt 0 ] || ok "$n resource(s) the tests created are gone (directories, mounts and processes under them, network namespaces)"
: >"$list"
finish

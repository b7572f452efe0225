#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Install every Debian package flowcap needs to build, test and run.
# Idempotent: packages already present are left as they are.
set -eu

PKGS="build-essential meson ninja-build pkg-config python3
dpdk dpdk-dev libdpdk-dev libzstd-dev zstd liburcu-dev libhyperscan-dev
libpcap-dev zlib1g-dev liblzma-dev libfixbuf-dev libcriterion-dev tshark tcpreplay tcpdump clang iproute2
xz-utils groff-base man-db shellcheck prometheus nfdump systemd
clickhouse-server clickhouse-client libcurl4-openssl-dev curl
libssl-dev python3-cryptography"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run this script as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

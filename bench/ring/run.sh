#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# flowcap's own cycles per packet behind a net_ring port (bench-ring):
# 100k flows uniform and 1M flows Zipf 1.1, 64-byte and IMIX frames,
# the worker's parse and count on mbufs a near-free source hands over.
# No hugepages or NIC needed (--no-huge, about 300 MB).
#
# usage: bench/ring/run.sh
# env:   BUILD (default: build-bench next to this repo, a release build),
#        PACKETS (2M a pass), RUNS (5 passes, median), EAL (the EAL
#        options; default "--no-huge -m 512 --no-pci -l 0")
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$src/build-bench}
bin=$BUILD/bench/ring/bench-ring
[ -x "$bin" ] || { echo "run.sh: $bin is missing: meson setup $BUILD -Dbuildtype=release && ninja -C $BUILD (it needs librte_net_ring, from libdpdk-dev)" >&2; exit 1; }
EAL=${EAL:-"--no-huge -m 512 --no-pci -l 0"}
# shellcheck disable=SC2086 # EAL is a list of options
exec "$bin" $EAL --log-level=error --no-telemetry -- -n "${PACKETS:-2M}" -r "${RUNS:-5}"

-- SPDX-License-Identifier: BSD-3-Clause
--
-- IMIX (64/570/1518 bytes, 7:4:1) with realistic flows: replays a pcap
-- made by flowcap-gen (pktgen's range mode has no IMIX), searching the
-- zero-loss rate. Make the pcap and start pktgen with it on the port:
--   flowcap-gen -n 1M -f 100k --size imix -o /tmp/imix.pcap
--   pktgen -l 0-4 -n 4 -- -P -m "[1:2-3].0" -s 0:/tmp/imix.pcap \
--       -f bench/pktgen/imix.lua
-- env: PORT (0), STEP_SECS (10), LOSS_CMD

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

pktgen.set_range(C.port, "off")
C.no_random()
pktgen.pcap(C.port, "on")
C.zero_loss("imix pcap")
C.log("imix: done")

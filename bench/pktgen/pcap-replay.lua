-- SPDX-License-Identifier: BSD-3-Clause
--
-- Replay any pcap (a real trace, or flowcap-gen output) at a sweep of
-- rates, or search the zero-loss rate with LOSS_CMD.
--   pktgen -l 0-4 -n 4 -- -P -m "[1:2-3].0" -s 0:/path/trace.pcap \
--       -f bench/pktgen/pcap-replay.lua
-- env: PORT (0), STEP_SECS (10), LOSS_CMD, RATES ("10,25,50,75,100" %)

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

pktgen.set_range(C.port, "off")
C.no_random()
pktgen.pcap(C.port, "on")
if C.loss_cmd then
	C.zero_loss("pcap replay")
else
	local list = os.getenv("RATES") or "10,25,50,75,100"
	for r in list:gmatch("[%d.]+") do
		local tx = C.run_step(tonumber(r), C.step_secs)
		C.log("pcap replay: rate %s%% sent %d (%.2f Mpps)", r, tx,
			tx / C.step_secs / 1e6)
	end
end
C.log("pcap-replay: done")

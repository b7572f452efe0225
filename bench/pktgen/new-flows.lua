-- SPDX-License-Identifier: BSD-3-Clause
--
-- New flows per second: 64-byte UDP whose 5-tuple changes on every
-- packet over a range far larger than one interval's packets (16M source
-- addresses x 1000 ports), so every packet is a new flowtuple key until
-- the table fills; the rate steps set the new-flow rate. Table full
-- shows up as tbl_full in flowcap's counters, not as NIC loss.
--   pktgen -l 0-4 -n 4 -- -P -m "[1:2-3].0" -f bench/pktgen/new-flows.lua
-- env: PORT (0), STEP_SECS (10), LOSS_CMD, RATES ("1,5,10,25,50,100" %)

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

C.range_flows(16000000 * 1000, 64)
local list = os.getenv("RATES") or "1,5,10,25,50,100"
for r in list:gmatch("[%d.]+") do
	local tx, drops = C.run_step(tonumber(r), C.step_secs)
	C.log("new flows: rate %s%% -> %.2f M new flows/s, sent %d, flowcap drops %s",
		r, tx / C.step_secs / 1e6, tx, drops and tostring(drops) or "n/a")
end
C.log("new-flows: done")

-- SPDX-License-Identifier: BSD-3-Clause
--
-- New flows per second: 64-byte UDP whose source address and port are
-- drawn at random in every packet (2^48 tuples), so every packet is a new
-- flowtuple key until the table fills; the rate steps set the new-flow
-- rate. Table full shows up as tbl_full in flowcap's counters, not as NIC
-- loss. Needs pktgen 24.10 or later (random bitfields in every packet,
-- common.lua); refuses to run on an older one.
--   pktgen -l 0-4 -n 4 -- -P -m "[1:2-3].0" -f bench/pktgen/new-flows.lua
-- env: PORT (0), STEP_SECS (10), LOSS_CMD, RATES ("1,5,10,25,50,100" %)

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

if not C.random_ok() then
	C.log("new-flows: not run: needs pktgen 24.10 or later (random bitfields " ..
		"in every packet); pktgen %s resends the same %d packets of a range",
		C.pktgen_version_str(), C.RANGE_MAX)
	return
end
C.random_flows(1 << 48, 64)
local list = os.getenv("RATES") or "1,5,10,25,50,100"
for r in list:gmatch("[%d.]+") do
	local tx, drops = C.run_step(tonumber(r), C.step_secs)
	C.log("new flows: rate %s%% -> %.2f M new flows/s, sent %d, flowcap drops %s",
		r, tx / C.step_secs / 1e6, tx, drops and tostring(drops) or "n/a")
end
C.log("new-flows: done")

-- SPDX-License-Identifier: BSD-3-Clause
--
-- 64-byte UDP traffic, sweeping the number of concurrent flows (distinct
-- flowtuple keys per interval) from 1k to 20M. Up to 49152 flows the
-- exact count comes from pktgen's range mode; beyond, from random
-- bitfields (rounded up to a power of two), which need pktgen 24.10 or
-- later: with an older pktgen those steps are skipped, saying so (see
-- common.lua). At each step the zero-loss rate is searched (LOSS_CMD,
-- see common.lua) or, without it, the port is driven at line rate for
-- STEP_SECS.
--   pktgen -l 0-4 -n 4 -- -P -m "[1:2-3].0" -f bench/pktgen/range-flows.lua
-- env: PORT (0), STEP_SECS (10), LOSS_CMD, FLOWS ("1000,10000,...")

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local C = dofile(dir .. "common.lua")

local list = os.getenv("FLOWS") or
	"1000,10000,100000,1000000,5000000,10000000,20000000"
for f in list:gmatch("%d+") do
	local flows, why = C.flows(tonumber(f), 64)
	if flows then
		C.zero_loss(string.format("64B %d flows", flows))
	else
		C.log("64B %s flows: skipped: %s", f, why)
	end
end
C.log("range-flows: done")

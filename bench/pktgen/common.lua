-- SPDX-License-Identifier: BSD-3-Clause
--
-- Helpers for the flowcap pktgen-dpdk scripts: step runner, port stats,
-- and the zero-loss rate search. Loss is measured on the flowcap side:
-- set LOSS_CMD to a shell command that prints two numbers, flowcap's
-- cumulative received packets and cumulative drops (imissed + rx_nombuf
-- + internal drop counters), e.g. a script reading flowcap's --stats
-- line on the capture host. Without LOSS_CMD the scripts only send and
-- print what they sent; read flowcap's summary for the loss.

local M = {}

M.port = os.getenv("PORT") or "0"
M.step_secs = tonumber(os.getenv("STEP_SECS") or "10")
M.loss_cmd = os.getenv("LOSS_CMD")

function M.log(fmt, ...)
	io.write(string.format(fmt, ...) .. "\n")
	io.flush()
end

-- flowcap's counters via LOSS_CMD: rx, drops (nil if not configured).
function M.flowcap_counters()
	if not M.loss_cmd then
		return nil, nil
	end
	local f = io.popen(M.loss_cmd)
	if not f then
		return nil, nil
	end
	local out = f:read("*a") or ""
	f:close()
	local rx, drops = out:match("(%d+)%s+(%d+)")
	return tonumber(rx), tonumber(drops)
end

function M.tx_packets()
	local st = pktgen.portStats(M.port, "port")[tonumber(M.port)]
	return st and st.opackets or 0
end

-- Send at rate_pct (percent of line rate) for secs; return packets sent
-- and flowcap's drops during the step (nil without LOSS_CMD).
function M.run_step(rate_pct, secs)
	pktgen.set(M.port, "rate", rate_pct)
	local rx0, d0 = M.flowcap_counters()
	local tx0 = M.tx_packets()
	pktgen.start(M.port)
	pktgen.delay(secs * 1000)
	pktgen.stop(M.port)
	pktgen.delay(1000) -- let the last packets land
	local tx = M.tx_packets() - tx0
	local rx1, d1 = M.flowcap_counters()
	local drops = nil
	if d0 and d1 then
		drops = d1 - d0
	end
	return tx, drops
end

-- Zero-loss search: the highest rate (percent) at which flowcap drops
-- nothing over a step, to within `resolution` percent.
function M.zero_loss(label, resolution)
	resolution = resolution or 0.5
	local lo, hi, best = 0.0, 100.0, 0.0
	if not M.loss_cmd then
		local tx = M.run_step(100, M.step_secs)
		M.log("%s: 100%% rate, sent %d packets (%.2f Mpps); set LOSS_CMD for the zero-loss search",
			label, tx, tx / M.step_secs / 1e6)
		return nil
	end
	while hi - lo > resolution do
		local mid = (lo + hi) / 2
		local tx, drops = M.run_step(mid, M.step_secs)
		M.log("%s: rate %.2f%% sent %d (%.2f Mpps) flowcap drops %d",
			label, mid, tx, tx / M.step_secs / 1e6, drops)
		if drops == 0 then
			lo, best = mid, tx / M.step_secs
		else
			hi = mid
		end
	end
	M.log("%s: zero-loss %.2f Mpps (rate %.2f%%)", label, best / 1e6, lo)
	return best
end

-- 64-byte UDP range traffic over `flows` distinct 5-tuples: source
-- addresses x 1000 source ports (the rest fixed).
function M.range_flows(flows, size)
	local p = M.port
	local ports = 1000
	if flows < ports then
		ports = flows
	end
	local hosts = math.floor((flows + ports - 1) / ports)
	pktgen.set_proto(p, "udp")
	pktgen.set(p, "size", size or 64)
	pktgen.range.pkt_size(p, "start", size or 64)
	pktgen.range.pkt_size(p, "min", size or 64)
	pktgen.range.pkt_size(p, "max", size or 64)
	pktgen.range.pkt_size(p, "inc", 0)
	pktgen.range.src_ip(p, "start", "10.0.0.1")
	pktgen.range.src_ip(p, "min", "10.0.0.1")
	pktgen.range.src_ip(p, "max", M.ip_add("10.0.0.1", hosts - 1))
	pktgen.range.src_ip(p, "inc", "0.0.0.1")
	pktgen.range.dst_ip(p, "start", "192.168.0.1")
	pktgen.range.dst_ip(p, "inc", "0.0.0.0")
	pktgen.range.src_port(p, "start", 1024)
	pktgen.range.src_port(p, "min", 1024)
	pktgen.range.src_port(p, "max", 1024 + ports - 1)
	pktgen.range.src_port(p, "inc", 1)
	pktgen.range.dst_port(p, "start", 80)
	pktgen.range.dst_port(p, "inc", 0)
	pktgen.set_range(p, "on")
	return hosts * ports
end

function M.ip_add(ip, n)
	local a, b, c, d = ip:match("(%d+)%.(%d+)%.(%d+)%.(%d+)")
	local v = ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d) + n
	return string.format("%d.%d.%d.%d", math.floor(v / 16777216) % 256,
		math.floor(v / 65536) % 256, math.floor(v / 256) % 256, v % 256)
end

return M

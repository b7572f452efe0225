-- SPDX-License-Identifier: BSD-3-Clause
--
-- Helpers for the flowcap pktgen-dpdk scripts: step runner, port stats,
-- and the zero-loss rate search. Loss is measured on the flowcap side:
-- set LOSS_CMD to a shell command that prints two numbers, flowcap's
-- cumulative received packets and cumulative drops (imissed + rx_nombuf
-- + ierrors + internal drop counters), e.g. bench/pktgen/flowcap-loss.sh
-- reading flowcap's --stats output on the capture host. Without LOSS_CMD
-- the scripts only send and print what they sent; read flowcap's summary
-- for the loss.

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
	if not rx then
		-- A search on no figures would be a search on nothing.
		error(string.format("LOSS_CMD (%s) printed %q, not \"received drops\": " ..
			"check the command on the capture host (flowcap must run with --stats)",
			M.loss_cmd, out:sub(1, 200)))
	end
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
	-- Let the last packets land, and flowcap print a stats line (once a
	-- second) that counts them.
	pktgen.delay(2000)
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

-- pktgen builds the packets of a stream once, in the mbufs of its pool,
-- and sends those same mbufs again and again: a range stream carries at
-- most as many flows as its pool has mbufs (49152 in pktgen 23.03-24.x,
-- per TX queue). Its random bitfields are rewritten in every packet sent
-- only from pktgen 24.10 on (before, its fast path skips them).
M.RANGE_MAX = 49152

-- pktgen's version: "23.03.0" (from "Pktgen 23.03.0"), or "unknown".
function M.pktgen_version_str()
	local v = pktgen.info and pktgen.info.Pktgen_Version or ""
	return tostring(v):match("(%d+%.%d+[%.%d]*)") or "unknown"
end

-- The same as a number, 23.03 for "23.03.0" (0 if unknown).
function M.pktgen_version()
	local y, m = M.pktgen_version_str():match("(%d+)%.(%d+)")
	if not y then
		return 0
	end
	return tonumber(y) + tonumber(m) / 100
end

function M.random_ok()
	return M.pktgen_version() >= 24.10
end

-- Range mode, exact: source addresses x source ports (the rest fixed);
-- returns the number of flows. pktgen steps every range field on every
-- packet, each wrapping on its own, so the (address, port) pairs repeat
-- after lcm(addresses, ports) packets: the port count is a prime (1009)
-- and the address count no multiple of it, so that every pair comes up.
function M.range_flows(flows, size)
	local p = M.port
	local ports = 1009
	if flows < ports then
		ports = flows
	end
	local hosts = (flows + ports - 1) // ports
	if hosts > 1 and hosts % ports == 0 then
		hosts = hosts + 1
	end
	M.no_random()
	pktgen.set_proto(p, "udp")
	pktgen.set(p, "size", size)
	pktgen.range.pkt_size(p, "start", size)
	pktgen.range.pkt_size(p, "min", size)
	pktgen.range.pkt_size(p, "max", size)
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

-- Random bitfields (pktgen 24.10 or later): the low bits of the UDP
-- source port, then of the source address, drawn anew in every packet;
-- flows rounded up to a power of two (returned). A step of many packets
-- reaches every one of them. Offsets (untagged Ethernet, IPv4): source
-- address 26, source port 34.
function M.random_flows(flows, size)
	local p = M.port
	local bits = 0
	while (1 << bits) < flows do
		bits = bits + 1
	end
	if bits > 48 then
		error(string.format("%d flows: at most 2^48 (16 source port and 32 address bits)", flows))
	end
	pktgen.set_range(p, "off")
	pktgen.set_type(p, "ipv4")
	pktgen.set_proto(p, "udp")
	pktgen.set(p, "size", size)
	pktgen.set_ipaddr(p, "src", "10.0.0.1/8")
	pktgen.set_ipaddr(p, "dst", "192.168.0.1")
	pktgen.set(p, "sport", 1024)
	pktgen.set(p, "dport", 80)
	local pbits = bits < 16 and bits or 16
	local abits = bits - pbits
	-- Slot 0: the source port's low pbits (the destination port kept).
	pktgen.rnd(p, 0, 34, string.rep(".", 16 - pbits) ..
		string.rep("X", pbits) .. string.rep(".", 16))
	-- Slot 1: the source address's low abits, if any.
	if abits > 0 then
		pktgen.rnd(p, 1, 26, string.rep(".", 32 - abits) ..
			string.rep("X", abits))
	else
		pktgen.rnd(p, 1, 26, "off")
	end
	return 1 << bits
end

-- UDP traffic over `flows` concurrent flows: range mode when its pool
-- holds them (exact count), else random bitfields. Returns the number
-- of flows, or nil and why not (random bitfields on an older pktgen).
function M.flows(flows, size)
	size = size or 64
	local ports = flows < 1009 and flows or 1009
	local hosts = (flows + ports - 1) // ports
	if hosts > 1 and hosts % ports == 0 then
		hosts = hosts + 1
	end
	if hosts * ports <= M.RANGE_MAX then
		return M.range_flows(flows, size)
	end
	if not M.random_ok() then
		return nil, string.format("more than %d flows need pktgen 24.10 or later " ..
			"(random bitfields in every packet); pktgen %s sends each range " ..
			"packet from a pool of %d", M.RANGE_MAX, M.pktgen_version_str(),
			M.RANGE_MAX)
	end
	return M.random_flows(flows, size)
end

function M.ip_add(ip, n)
	local a, b, c, d = ip:match("(%d+)%.(%d+)%.(%d+)%.(%d+)")
	local v = ((tonumber(a) * 256 + tonumber(b)) * 256 + tonumber(c)) * 256 + tonumber(d) + n
	return string.format("%d.%d.%d.%d", v // 16777216 % 256,
		v // 65536 % 256, v // 256 % 256, v % 256)
end

-- Random bitfields off (a pcap's frames are sent as they are).
function M.no_random()
	pktgen.rnd(M.port, 0, 34, "off")
	pktgen.rnd(M.port, 1, 26, "off")
end

return M

-- SPDX-License-Identifier: BSD-3-Clause
--
-- flowcap's tables on one ClickHouse server (18.16 and later; doc/clickhouse.md
-- gives the variant for current servers and the sharded one, cluster.sql).
-- Apply with: clickhouse-client --database DB --multiquery < flowtuple.sql
--
-- flowtuple: one row per record of a flowtuple file. Addresses are
-- FixedString(16): IPv6 as is, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d),
-- readable with IPv6NumToString. load_id names the interval load the row
-- belongs to; a row counts only once its load_id is in flowtuple_intervals
-- (doc/clickhouse.md, "Exactly once"). label is the payload label of a
-- file written with --classify ('' otherwise), vlan the outermost VLAN ID
-- of one written with --key-vlan (0 otherwise).
-- Ordered by time first (every operator query has a time range), then
-- monitor (one box's data together), then the low-cardinality dimensions
-- that dashboards filter and group on (class, protocol, dst_port), then
-- the source address: "backscatter to port 23 in this hour" reads one
-- contiguous range of the index.
CREATE TABLE IF NOT EXISTS flowtuple
(
    monitor String,
    interval_start DateTime,
    interval_len UInt32,
    class Enum8('backscatter' = 0, 'icmpreq' = 1, 'other' = 2),
    src_ip FixedString(16),
    dst_ip FixedString(16),
    src_port UInt16,
    dst_port UInt16,
    protocol UInt8,
    ttl UInt8,
    tcp_flags UInt8,
    ip_len UInt32,
    packets UInt64,
    label String,
    vlan UInt16,
    load_id UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(interval_start)
ORDER BY (interval_start, monitor, class, protocol, dst_port, src_ip);

-- flowtuple_intervals: one row per interval loaded, written after all its
-- records are stored (the ledger of loads), with the interval's whole
-- accounting: every counter of lib/tuple/fc_counter.h under its name.
-- Conservation: rx_pkts = rec_pkts + not_ip + trunc_l2 + trunc_l3 +
-- bad_version + bad_hdrlen + bad_linktype + too_deep + tunnel_deep + tbl_full
-- + no_table + nic_imissed + nic_nombuf + nic_ierrors + bad_time + filtered (late is
-- informational: those packets are in records), and rec_pkts is the sum
-- of packets of the interval's rows.
CREATE TABLE IF NOT EXISTS flowtuple_intervals
(
    monitor String,
    interval_start DateTime,
    interval_end DateTime,
    interval_len UInt32,
    interval_index UInt32,
    flags UInt32,
    rx_pkts UInt64,
    rec_pkts UInt64,
    n_records UInt64,
    not_ip UInt64,
    trunc_l2 UInt64,
    trunc_l3 UInt64,
    bad_version UInt64,
    bad_hdrlen UInt64,
    bad_linktype UInt64,
    too_deep UInt64,
    tunnel_deep UInt64,
    tbl_full UInt64,
    no_table UInt64,
    nic_imissed UInt64,
    nic_nombuf UInt64,
    nic_ierrors UInt64,
    bad_time UInt64,
    filtered UInt64,
    late UInt64,
    load_id UInt64,
    source String,
    loaded_at DateTime
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(interval_start)
ORDER BY (monitor, interval_start, load_id);

-- flowtuple_hourly: packets and records per hour, monitor, class,
-- protocol and destination port, summed as rows arrive (dashboards).
CREATE TABLE IF NOT EXISTS flowtuple_hourly
(
    hour DateTime,
    monitor String,
    class Enum8('backscatter' = 0, 'icmpreq' = 1, 'other' = 2),
    protocol UInt8,
    dst_port UInt16,
    packets UInt64,
    records UInt64
)
ENGINE = SummingMergeTree((packets, records))
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, monitor, class, protocol, dst_port);

CREATE MATERIALIZED VIEW IF NOT EXISTS flowtuple_hourly_mv TO flowtuple_hourly
AS SELECT
    toStartOfHour(interval_start) AS hour,
    monitor, class, protocol, dst_port,
    sum(packets) AS packets,
    count() AS records
FROM flowtuple
GROUP BY hour, monitor, class, protocol, dst_port;

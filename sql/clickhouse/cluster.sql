-- SPDX-License-Identifier: BSD-3-Clause
--
-- flowcap's tables on a cluster of shards (ClickHouse 18.16 and later):
-- run it on every server of the cluster named 'flowcap' in their
-- remote_servers configuration (doc/clickhouse.md, "Deployment").
-- Apply with: clickhouse-client --database DB --multiquery < cluster.sql
--
-- flowtuple_local holds each shard's rows (columns and order as in
-- flowtuple.sql; with replicas, ReplicatedMergeTree, doc/clickhouse.md).
-- flowtuple is a Distributed table over the shards, sharded by a hash of
-- the source address: one source's rows stay on one shard, so "distinct
-- sources" and per-source top lists add up across shards. flowcap writes
-- to flowtuple (synchronously: insert_distributed_sync=1, so a loaded
-- interval is stored on its shards before it enters the ledger) and
-- reads through it. The ledger, flowtuple_intervals, is an ordinary table
-- on the server flowcap writes to: one writer per monitor.
CREATE TABLE IF NOT EXISTS flowtuple_local
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

CREATE TABLE IF NOT EXISTS flowtuple AS flowtuple_local
ENGINE = Distributed(flowcap, currentDatabase(), flowtuple_local,
                     cityHash64(src_ip));

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

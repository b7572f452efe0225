/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one list of per-interval accounting counters: their ids (stored in
 * files) and their stable short names. The parser's failure statuses, the
 * workers' drop counts, the files, the reader and the stats line all take
 * ids and names from here.
 */
#ifndef FC_COUNTER_H
#define FC_COUNTER_H

/**
 * Named counters of one interval. Ids 1..15 are also the parse statuses
 * (enum fc_parse_status takes its values from here), so a parse reason is
 * its counter. Ids are stored in files:
 * append, never renumber. Every counter except the informational ones
 * (FC_CTR_INFO_FIRST and above) is a packet that was received but is in no
 * record: rx_pkts = rec_pkts + sum of the drop counters.
 */
enum fc_ft_counter {
	FC_CTR_NOT_IP = 1,
	FC_CTR_TRUNC_L2 = 2,
	FC_CTR_TRUNC_L3 = 3,
	FC_CTR_BAD_VERSION = 4,
	FC_CTR_BAD_HDRLEN = 5,
	FC_CTR_BAD_LINKTYPE = 6,
	FC_CTR_TOO_DEEP = 7,
	FC_CTR_TUNNEL_DEEP = 8,  /**< --decap: tunnels nested too deep */
	FC_CTR_TBL_FULL = 16,    /**< key not stored: flow table full */
	FC_CTR_NO_TABLE = 17,    /**< collector behind, no free table */
	FC_CTR_NIC_IMISSED = 18, /**< NIC dropped: RX ring full */
	FC_CTR_NIC_NOMBUF = 19,  /**< NIC dropped: mempool empty */
	FC_CTR_NIC_IERRORS = 20, /**< NIC dropped: bad frames */
	FC_CTR_BAD_TIME = 21,    /**< lone timestamp beyond --max-jump */
	FC_CTR_FILTERED = 22,    /**< refused by the capture filter */
	FC_CTR_INFO_FIRST = 32,  /**< from here on: informational only */
	FC_CTR_LATE = 32,        /**< older than the interval; in records */
	FC_CTR_MAX = 40
};

/**
 * Stable short name of a counter id ("not_ip", "tbl_full", ...), or NULL.
 * Thread safety: any thread; pure function (a static table).
 */
const char *fc_ft_counter_name(unsigned id);

#endif /* FC_COUNTER_H */

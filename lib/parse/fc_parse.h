/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser: turns the bytes of one captured frame into a flowtuple key,
 * or into a named reason why it yields none. It walks the link layer (by
 * pcap DLT), VLAN/QinQ tags, MPLS label stacks, PPPoE sessions, then the
 * outermost IPv4/IPv6 header (IPv6 extension headers up to the upper-layer
 * protocol) and the first bytes of TCP/UDP/SCTP/ICMP/ICMPv6. It never reads
 * past the captured length. It does not decapsulate tunnels, reassemble
 * fragments or look at payload, and it has no DPDK dependency, so it can be
 * unit-tested and fuzzed on plain buffers.
 */
#ifndef FC_PARSE_H
#define FC_PARSE_H

#include <stdint.h>

#include "fc_tuple.h"

/*
 * Link types, as returned by pcap_datalink() (DLT_ values, which for these
 * are the LINKTYPE_ values of the file, except LINKTYPE_RAW 101 which
 * libpcap reports as DLT_RAW 12 on Linux; both are accepted).
 */
#define FC_DLT_NULL 0      /**< BSD loopback, 4-byte host-order AF */
#define FC_DLT_EN10MB 1    /**< Ethernet */
#define FC_DLT_PPP 9       /**< PPP (address/control optional) */
#define FC_DLT_RAW 12      /**< raw IPv4/IPv6 (Linux DLT_RAW) */
#define FC_DLT_RAW_OLD 14  /**< raw IP (OpenBSD numbering) */
#define FC_DLT_RAW_LT 101  /**< LINKTYPE_RAW */
#define FC_DLT_LOOP 108    /**< OpenBSD loopback, 4-byte network-order AF */
#define FC_DLT_LINUX_SLL 113
#define FC_DLT_IPV4 228
#define FC_DLT_IPV6 229
#define FC_DLT_LINUX_SLL2 276

/**
 * Outcome of parsing one packet. FC_PARSE_OK means the key was filled; every
 * other value is the named reason a packet yields no tuple, and is used as
 * an index into per-reason drop counters. The numbering is stored in files:
 * append new reasons, never renumber.
 */
enum fc_parse_status {
	FC_PARSE_OK = 0,
	FC_PARSE_NOT_IP,        /**< ARP, LLC, LLDP, non-IP MPLS/PPP payload... */
	FC_PARSE_TRUNC_L2,      /**< frame ends inside the link layer/tags/labels */
	FC_PARSE_TRUNC_L3,      /**< frame ends inside the IP header or ext chain */
	FC_PARSE_BAD_VERSION,   /**< IP version field does not match the type */
	FC_PARSE_BAD_HDRLEN,    /**< IPv4 IHL < 5, or ext header length absurd */
	FC_PARSE_BAD_LINKTYPE,  /**< capture link type not supported */
	FC_PARSE_TOO_DEEP,      /**< more tags/labels/ext headers than the limit */
	FC_PARSE_STATUS_COUNT
};

/** Stable short name of a status ("ok", "not_ip", "trunc_l2", ...). */
const char *fc_parse_status_name(unsigned st);

/**
 * Parse one frame.
 *
 * @param p       first byte of the frame (link-layer header included)
 * @param caplen  number of captured bytes available at p
 * @param dlt     link type (FC_DLT_*)
 * @param key     filled completely (padding zeroed) on FC_PARSE_OK;
 *                unspecified otherwise
 * @return FC_PARSE_OK or the reason the packet yields no tuple.
 *
 * Hot path. Thread safety: pure function, reentrant.
 */
enum fc_parse_status fc_parse_pkt(const uint8_t *p, uint32_t caplen,
				  uint32_t dlt, struct fc_ftkey *key);

/** Nonzero if dlt is a link type fc_parse_pkt understands. */
int fc_parse_dlt_supported(uint32_t dlt);

#endif /* FC_PARSE_H */

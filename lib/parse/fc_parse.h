/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser: turns the bytes of one captured frame into a flowtuple key,
 * or into a named reason why it yields none. It walks the link layer (by
 * pcap DLT), VLAN/QinQ tags, MPLS label stacks, PPPoE sessions, then the
 * outermost IPv4/IPv6 header (IPv6 extension headers up to the upper-layer
 * protocol) and the first bytes of TCP/UDP/SCTP/ICMP/ICMPv6. It never reads
 * past the captured length. fc_parse_pkt keeps the outermost IP header;
 * fc_parse_pkt_decap (flowcap --decap) opens tunnels down to the innermost
 * one. It does not reassemble fragments or look at payload, and it has no
 * DPDK dependency, so it can be unit-tested and fuzzed on plain buffers.
 *
 * Thread safety: every function is pure (it reads the frame and constant
 * tables, and writes only the caller's key): any thread, any number at
 * once.
 */
#ifndef FC_PARSE_H
#define FC_PARSE_H

#include <stdint.h>
#include <string.h>

#include "fc_common.h"
#include "fc_counter.h"
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
	FC_PARSE_NOT_IP = FC_CTR_NOT_IP, /**< ARP, LLC, LLDP, non-IP MPLS/PPP payload... */
	FC_PARSE_TRUNC_L2 = FC_CTR_TRUNC_L2, /**< frame ends inside the link layer/tags/labels */
	FC_PARSE_TRUNC_L3 = FC_CTR_TRUNC_L3, /**< frame ends inside the IP header or ext chain */
	FC_PARSE_BAD_VERSION = FC_CTR_BAD_VERSION, /**< IP version field does not match the type */
	FC_PARSE_BAD_HDRLEN = FC_CTR_BAD_HDRLEN, /**< IPv4 IHL < 5, or ext header length absurd */
	FC_PARSE_BAD_LINKTYPE = FC_CTR_BAD_LINKTYPE, /**< capture link type not supported */
	FC_PARSE_TOO_DEEP = FC_CTR_TOO_DEEP, /**< more tags/labels/ext headers than the limit */
	FC_PARSE_TUNNEL_DEEP = FC_CTR_TUNNEL_DEEP, /**< decap: tunnels nested deeper than FC_PARSE_MAX_TUNNELS */
	FC_PARSE_STATUS_COUNT
};
/* Every failure status is a drop counter, below the table's own. */
_Static_assert((int)FC_PARSE_STATUS_COUNT <= (int)FC_CTR_TBL_FULL,
	       "parse statuses overlap the other drop counters");

/**
 * Stable short name of a status: "ok", else its counter's name
 * (fc_ft_counter_name: "not_ip", "trunc_l2", ...); "unknown" out of range.
 * Thread safety: any thread; pure function (a static table).
 */
const char *fc_parse_status_name(unsigned st);

/**
 * Parse one frame: the general walk (every link type, tag, label and
 * extension header). fc_parse_pkt() below tries the common case first and
 * falls back to this. Hot path (its slow side).
 * Thread safety: any thread; pure function, reentrant.
 */
enum fc_parse_status fc_parse_pkt_full(const uint8_t *p, uint32_t caplen,
				       uint32_t dlt, struct fc_ftkey *key);

/** Where a parsed frame's L4 header lies, and its outermost VLAN tag. */
struct fc_parse_loc {
	const uint8_t *l4; /**< L4 header (NULL: none, or a non-first
			        fragment) */
	uint32_t l4len;    /**< its bytes captured and inside the IP
			        payload (padding excluded) */
	uint16_t vlan;     /**< outermost 802.1Q/802.1ad VLAN ID, 0 if none */
	uint8_t tagged;    /**< a tag was seen */
};

/**
 * fc_parse_pkt_full that also says where the L4 header is and the
 * outermost VLAN ID (fills loc completely). With FC_PARSE_DECAP in dlt:
 * fc_parse_pkt_decap's key, and the L4 header of that innermost packet.
 * For the optional key fields (payload label, VLAN): not the common
 * path.
 * Thread safety: any thread; pure function, reentrant.
 */
enum fc_parse_status fc_parse_pkt_loc(const uint8_t *p, uint32_t caplen,
				      uint32_t dlt, struct fc_ftkey *key,
				      struct fc_parse_loc *loc);

/*
 * Fast path: Ethernet, at most one 802.1Q tag, IPv4 without options and
 * not a non-first fragment, or IPv6 without extension headers, carrying
 * TCP or UDP whose header (TCP: up to the flags byte) is both captured and
 * inside the IP payload. Most packets of most links are this; it fills the
 * key with a handful of loads and stores. Anything else returns -1 and
 * takes the full walk, which gives the same key for these packets (the
 * unit tests and the fuzz target compare both). Hot path.
 * Thread safety: any thread; pure function, reentrant.
 */
static inline int fc_parse_fast(const uint8_t *p, uint32_t caplen,
				struct fc_ftkey *key)
{
	uint32_t off = 14, need;
	uint16_t et;
	uint8_t proto;

	if (caplen < 14 + 20 + 4)
		return -1;
	et = fc_be16(p + 12);
	if (et == 0x8100) {
		et = fc_be16(p + 16);
		off = 18;
	}
	memset(key, 0, sizeof(*key));
	if (et == 0x0800) {
		const uint8_t *ip = p + off;
		uint32_t tot = fc_be16(ip + 2);

		if (ip[0] != 0x45 || (fc_be16(ip + 6) & 0x1fff) != 0)
			return -1;
		proto = ip[9];
		need = proto == 6 ? 14 : 4;
		if ((proto != 6 && proto != 17) || tot < 20 + need ||
		    caplen < off + 20 + need)
			return -1;
		memcpy(key->src_ip, ip + 12, 4);
		memcpy(key->dst_ip, ip + 16, 4);
		key->ip_len = tot;
		key->ttl = ip[8];
		key->family = 4;
		off += 20;
	} else if (et == 0x86dd) {
		const uint8_t *ip = p + off;
		uint32_t plen = fc_be16(ip + 4);

		proto = ip[6];
		need = proto == 6 ? 14 : 4;
		if ((ip[0] >> 4) != 6 || (proto != 6 && proto != 17) ||
		    plen < need || caplen < off + 40 + need)
			return -1;
		memcpy(key->src_ip, ip + 8, 16);
		memcpy(key->dst_ip, ip + 24, 16);
		key->ip_len = plen + 40;
		key->ttl = ip[7];
		key->family = 6;
		off += 40;
	} else {
		return -1;
	}
	key->proto = proto;
	key->src_port = fc_be16(p + off);
	key->dst_port = fc_be16(p + off + 2);
	key->cls = FC_FT_CLASS_OTHER;
	if (proto == 6) {
		uint8_t f = p[off + 13];

		key->tcp_flags = f;
		/* RST, or SYN and ACK */
		if ((f & 0x04) || (f & 0x12) == 0x12)
			key->cls = FC_FT_CLASS_BACKSCATTER;
	}
	return 0;
}

/* The third compact word without protocol and TTL, by fc_parse_fast4's
 * index: 0-255 for TCP with those flags (f << 16, backscatter for RST or
 * SYN+ACK, else other), and UDP at 0 (no flags, other: TCP's word for
 * flags 0), 256 + t for ICMP type t (backscatter for replies and errors,
 * else icmpreq). Family 4 in all. */
extern const uint64_t fc_parse_l4word[256 + 256];

/* What fc_parse_fast4 does with an IPv4 protocol number below
 * FC_PARSE_FAST4_PROTOS: need, the L4 bytes the total length and the
 * capture must hold (0: not taken: only TCP, UDP and ICMP are); the
 * index of fc_parse_l4word is (l4[at] & mask) | icmp << 8 (TCP's flags
 * byte, 0 for UDP, the ICMP type + 256); icmp: ports are ICMP's type and
 * code. */
struct fc_parse_proto4 {
	uint8_t need;
	uint8_t at;
	uint8_t mask;
	uint8_t icmp;
};

#define FC_PARSE_FAST4_PROTOS 18
extern const struct fc_parse_proto4 fc_parse_proto4[FC_PARSE_FAST4_PROTOS];

/*
 * The IPv4 half of the fast path, straight to the compact form the flow
 * table stores (struct fc_ftkey4, hash included): no 48-byte key is
 * written and read back. It takes the IPv4 packets fc_parse_fast takes,
 * and ICMP too (the most common IPv4 packets that path leaves to the full
 * walk), and gives the same key (the unit tests and the fuzz target compare
 * it with fc_parse_pkt followed by fc_ftkey4_make). Returns 0 when c is
 * filled, -1 otherwise: the caller then takes fc_parse_pkt. Past the
 * branches that leave the fast path (each rare, so predicted), nothing
 * depends on the packet's contents: the tag, the protocol (TCP, UDP or
 * ICMP: ports or type and code, TCP flags or none) are all selected
 * without a branch. Traffic
 * mixes them packet by packet, and a mispredicted branch costs about as
 * much as this whole function (the branches on ICMP and on TCP that GCC
 * made of an earlier version missed 0.40 times a packet of the
 * generator's default mix in callgrind's branch simulation). Hot path.
 * fc_parse_fast4_pl also says whether the packet's IP total length leaves
 * room for L4 payload after the L4 header (*pl nonzero; the TCP data
 * offset read from the same line as the flags): what --classify needs to
 * skip a packet without payload for a handful of instructions. With
 * fc_parse_fast4 the compiler drops that part.
 * Thread safety: any thread; pure function, reentrant (fc_parse_l4word is
 * constant).
 */
static inline __attribute__((always_inline)) int
fc_parse_fast4_pl(const uint8_t *p, uint32_t caplen, struct fc_ftkey4 *c,
		  uint32_t *pl)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const struct fc_parse_proto4 *pi;
	uint32_t off, tot, idx, l4w, ports, icmp, m_icmp, need;
	uint16_t et, frag, ttl_proto;
	uint64_t w0;
	const uint8_t *ip, *l4;
	uint8_t proto;

	if (caplen < 14 + 20 + 4)
		return -1;
	/* Raw little-endian loads, compared with byte-swapped constants. */
	memcpy(&et, p + 12, 2);
	off = 14 + 4 * (et == 0x0081);
	memcpy(&et, p + off - 2, 2);
	if (et != 0x0008)
		return -1;
	ip = p + off;
	/* The other ways to leave the fast path, each its own branch: all
	 * are rare, so each is predicted, and a compare and a jump cost
	 * fewer instructions than folding the conditions into one. Version
	 * 4 without options, not a non-first fragment; */
	if (ip[0] != 0x45)
		return -1;
	memcpy(&frag, ip + 6, 2);
	if (frag & 0xff1f)
		return -1;
	/* TCP, UDP or ICMP (what each needs from one small table, not from
	 * compares); */
	proto = ip[9];
	if (proto >= FC_PARSE_FAST4_PROTOS)
		return -1;
	pi = &fc_parse_proto4[proto];
	need = pi->need;
	if (need == 0)
		return -1;
	/* a total length and a capture that hold the first 4 bytes of the
	 * L4 header (TCP: up to its flags byte). */
	tot = fc_be16(ip + 2);
	if (tot < 20 + need || caplen < off + 20 + need)
		return -1;
	l4 = ip + 20;
	memcpy(&w0, ip + 12, 8); /* src, dst: the first compact word */
	memcpy(&ttl_proto, ip + 8, 2);   /* ttl | proto << 8 */
	/* Nothing below branches on the protocol: each field is read
	 * whatever the protocol (within the bound above) and the right one
	 * kept by a mask. Masks, not choices: the compiler turns a choice
	 * into a branch when it can (when one side is a load or a
	 * constant). Ports: TCP's and UDP's (src << 16 | dst, host order),
	 * or ICMP's type and code. */
	m_icmp = 0u - pi->icmp;
	memcpy(&l4w, l4, 4);
	ports = __builtin_bswap32(l4w);
	ports = ports >> 16 | ports << 16;
	icmp = l4[0] | (uint32_t)l4[1] << 16;
	ports ^= (ports ^ icmp) & m_icmp;
	/* The index of the third word: TCP's flags byte (read only when
	 * captured), 0 for UDP, 256 + the type for ICMP. */
	idx = (l4[pi->at] & pi->mask) | (uint32_t)pi->icmp << 8;
	c->w[0] = w0;
	c->w[1] = ports | (uint64_t)tot << 32;
	c->w[2] = (uint16_t)(ttl_proto >> 8 | ttl_proto << 8) |
		  fc_parse_l4word[idx];
	c->hash = fc_ftkey4_hash(c->w[0], c->w[1], c->w[2]);
	if (pl != NULL) {
		/* TCP: data offset (captured: see the bound above); UDP
		 * and ICMP: 8 bytes. */
		uint32_t hl = (uint32_t)(l4[12 * (proto == 6)] >> 4) * 4;

		hl = proto == 6 ? hl : 8;

		*pl = tot > 20 + hl;
	}
	return 0;
#else
	struct fc_ftkey k;

	if (fc_parse_fast(p, caplen, &k) != 0 || k.family != 4)
		return -1;
	fc_ftkey4_make(c, &k);
	if (pl != NULL)
		*pl = 1; /* not known here: the caller looks */
	return 0;
#endif
}

static inline __attribute__((always_inline)) int
fc_parse_fast4(const uint8_t *p, uint32_t caplen, struct fc_ftkey4 *c)
{
	return fc_parse_fast4_pl(p, caplen, c, NULL);
}

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
 * Hot path. Thread safety: any thread; pure function, reentrant.
 */
static inline enum fc_parse_status fc_parse_pkt(const uint8_t *p,
						uint32_t caplen, uint32_t dlt,
						struct fc_ftkey *key)
{
	if (FC_LIKELY(dlt == FC_DLT_EN10MB) &&
	    FC_LIKELY(fc_parse_fast(p, caplen, key) == 0))
		return FC_PARSE_OK;
	return fc_parse_pkt_full(p, caplen, dlt, key);
}

/**
 * Or-ed into the link type given to fc_parse_pkt (fc_parse_pkt_full): the
 * frame is parsed by fc_parse_pkt_decap. No link type has this bit, so the
 * fast paths decline such frames and the full walk hands them over from
 * its cold default case: the default path (no --decap) runs exactly the
 * instructions it ran before tunnels existed.
 */
#define FC_PARSE_DECAP (1u << 31)

/** Tunnels fc_parse_pkt_decap opens, one inside the other, at most. */
#define FC_PARSE_MAX_TUNNELS 4

/**
 * Parse one frame and open its tunnels: the key of the innermost IP
 * header. Tunnels opened: IP-in-IP (IPv4 or IPv6 in IPv4 or IPv6: 4in4,
 * 6in4, 4in6, 6in6), GRE version 0 (with checksum, key and sequence
 * number; IPv4, IPv6 or Ethernet inside), VXLAN (UDP destination port
 * 4789), Geneve (6081; options skipped) and GTP-U G-PDUs (2152; extension
 * headers skipped). An inner Ethernet frame is walked as an outer one
 * (tags, labels). A tunnel whose header is cut short, a fragment, or an
 * inner frame that is not IP leaves the key of the last IP header
 * reached. More than FC_PARSE_MAX_TUNNELS tunnels: FC_PARSE_TUNNEL_DEEP.
 * Frames without a tunnel give what fc_parse_pkt gives. Not on the
 * default path: the worker calls it only with --decap.
 * Thread safety: any thread; pure function, reentrant.
 */
enum fc_parse_status fc_parse_pkt_decap(const uint8_t *p, uint32_t caplen,
					uint32_t dlt, struct fc_ftkey *key);

/**
 * Nonzero if dlt is a link type fc_parse_pkt understands.
 * Thread safety: any thread; pure function.
 */
int fc_parse_dlt_supported(uint32_t dlt);

#endif /* FC_PARSE_H */

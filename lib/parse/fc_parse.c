/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser: link layer (by DLT) -> ethertype walk (VLAN/QinQ and
 * vendor tags, MPLS label stacks and Ethernet pseudowires, PPPoE sessions,
 * FabricPath, NSH) -> outermost IPv4/IPv6 header (IPv6 extension chain up
 * to the upper-layer protocol) -> first bytes of TCP/UDP/SCTP/ICMP/ICMPv6
 * -> one flowtuple key and its class. Every read is preceded by a check of
 * the bytes left in the capture, so a frame cut anywhere yields either a key
 * with the fields it could see or a named reason. It does not decapsulate
 * IP tunnels (GRE, IP-in-IP, VXLAN, GTP, Teredo are recorded as their outer
 * header), reassemble fragments, validate checksums or look at payload, and
 * it never allocates or prints: it runs once per packet on the hot path.
 */
#include <stdint.h>
#include <string.h>

#include "fc_common.h"
#include "fc_parse.h"

/*
 * Walk limits. Real traffic carries at most two or three VLAN tags, a
 * handful of MPLS labels and two or three IPv6 extension headers; anything
 * deeper is either an attack on the parser or garbage, and is counted as
 * too_deep rather than walked.
 */
#define FC_PARSE_MAX_TAGS 8
#define FC_PARSE_MAX_LABELS 16
#define FC_PARSE_MAX_EXTHDRS 16

#define ETH_HLEN 14
#define SLL_HLEN 16
#define SLL2_HLEN 20
#define PPPOE_HLEN 6

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8
#define ET_QINQ_OLD 0x9100
#define ET_MPLS_UC 0x8847
#define ET_MPLS_MC 0x8848
#define ET_PPPOE_SESS 0x8864
#define ET_FABRICPATH 0x8903 /* Cisco FabricPath */
#define ET_CISCO_MD 0x8909   /* Cisco MetaData (SGT) */
#define ET_VNTAG 0x8926      /* Cisco VN-Tag */
#define ET_ETAG 0x893f       /* IEEE 802.1BR E-Tag */
#define ET_NSH 0x894f        /* Network Service Header, RFC 8300 */

#define NSH_NP_IPV4 1
#define NSH_NP_IPV6 2
#define NSH_NP_ETH 3
#define NSH_NP_NSH 4
#define NSH_NP_MPLS 5

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly */
#define BSD_AF_INET6_DARWIN 30  /* macOS, iOS */

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60
#define PROTO_SCTP 132

#define TCP_RST 0x04
#define TCP_SYN 0x02
#define TCP_ACK 0x10

const char *fc_parse_status_name(unsigned st)
{
	if (st == FC_PARSE_OK)
		return "ok";
	if (st >= FC_PARSE_STATUS_COUNT)
		return "unknown";
	return fc_ft_counter_name(st);
}

int fc_parse_dlt_supported(uint32_t dlt)
{
	switch (dlt) {
	case FC_DLT_NULL:
	case FC_DLT_EN10MB:
	case FC_DLT_PPP:
	case FC_DLT_RAW:
	case FC_DLT_RAW_OLD:
	case FC_DLT_RAW_LT:
	case FC_DLT_LOOP:
	case FC_DLT_LINUX_SLL:
	case FC_DLT_IPV4:
	case FC_DLT_IPV6:
	case FC_DLT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

/*
 * ICMP types that answer or report on something another host sent (echo
 * reply, unreachable, source quench, redirect, time exceeded, parameter
 * problem, timestamp/info/mask replies): what a telescope sees as
 * backscatter. Bit n set = type n.
 */
#define ICMP4_BACKSCATTER_TYPES                                               \
	((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 11) |        \
	 (1u << 12) | (1u << 14) | (1u << 16) | (1u << 18))

/* fc_parse_l4word (see fc_parse.h): TCP flags f (UDP at f = 0), then ICMP
 * type t. */
#define L4WORD_TCP(f)                                                          \
	((uint64_t)(f) << 16 | 4u << 24 |                                  \
	 (uint64_t)((((f) & TCP_RST) ||                                     \
		     ((f) & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) ?   \
			    FC_FT_CLASS_BACKSCATTER :                       \
			    FC_FT_CLASS_OTHER)                              \
		 << 32)
#define L4WORD_ICMP(t)                                                         \
	(4u << 24 |                                                        \
	 (uint64_t)(((t) < 32 && (ICMP4_BACKSCATTER_TYPES >> ((t) & 31) & 1)) ? \
			    FC_FT_CLASS_BACKSCATTER :                       \
			    FC_FT_CLASS_ICMPREQ)                            \
		 << 32)
#define EACH_4(m, f) m(f), m((f) + 1), m((f) + 2), m((f) + 3)
#define EACH_16(m, f) EACH_4(m, f), EACH_4(m, (f) + 4), EACH_4(m, (f) + 8), EACH_4(m, (f) + 12)
#define EACH_64(m, f)                                                          \
	EACH_16(m, f), EACH_16(m, (f) + 16), EACH_16(m, (f) + 32), EACH_16(m, (f) + 48)
#define EACH_BYTE(m) EACH_64(m, 0), EACH_64(m, 64), EACH_64(m, 128), EACH_64(m, 192)

const uint64_t fc_parse_l4word[256 + 256] = {
	EACH_BYTE(L4WORD_TCP),
	EACH_BYTE(L4WORD_ICMP),
};

/* UDP takes TCP's word for flags 0: no flags, class other. */
_Static_assert(L4WORD_TCP(0) == (4u << 24 | (uint64_t)FC_FT_CLASS_OTHER << 32),
	       "UDP's compact word is TCP's with no flags");

/* fc_parse_proto4 (see fc_parse.h): TCP up to its flags byte, whose
 * index it is; UDP's ports, index 0; ICMP's type and code, index 256 +
 * the type. Every other protocol: need 0, not taken. */
const struct fc_parse_proto4 fc_parse_proto4[FC_PARSE_FAST4_PROTOS] = {
	[PROTO_ICMP] = {.need = 4, .at = 0, .mask = 0xff, .icmp = 1},
	[PROTO_TCP] = {.need = 14, .at = 13, .mask = 0xff, .icmp = 0},
	[PROTO_UDP] = {.need = 4, .at = 0, .mask = 0, .icmp = 0},
};

/*
 * L4 fields and class, chosen by protocol number whatever the IP version
 * (as tshark does). l4 points at the upper-layer header, rem is what the
 * capture holds of it (possibly 0). Fields that are not captured stay 0 and
 * the class stays "other".
 */
static inline void parse_l4(const uint8_t *l4, uint32_t rem,
			    struct fc_ftkey *key, struct fc_parse_loc *pl)
{
	if (pl != NULL) {
		pl->l4 = l4;
		pl->l4len = rem;
	}
	switch (key->proto) {
	case PROTO_TCP:
		if (rem >= 4) {
			key->src_port = fc_be16(l4);
			key->dst_port = fc_be16(l4 + 2);
		}
		if (rem >= 14) {
			uint8_t f = l4[13];

			key->tcp_flags = f;
			if ((f & TCP_RST) ||
			    (f & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
				key->cls = FC_FT_CLASS_BACKSCATTER;
		}
		break;
	case PROTO_UDP:
	case PROTO_SCTP:
		if (rem >= 4) {
			key->src_port = fc_be16(l4);
			key->dst_port = fc_be16(l4 + 2);
		}
		break;
	case PROTO_ICMP:
		if (rem >= 1) {
			uint8_t t = l4[0];

			key->src_port = t;
			key->cls = (t < 32 && (ICMP4_BACKSCATTER_TYPES >> t & 1))
					   ? FC_FT_CLASS_BACKSCATTER
					   : FC_FT_CLASS_ICMPREQ;
		}
		if (rem >= 2)
			key->dst_port = l4[1];
		break;
	case PROTO_ICMPV6:
		if (rem >= 1) {
			uint8_t t = l4[0];

			key->src_port = t;
			/* errors 1..4 and echo reply */
			key->cls = ((t >= 1 && t <= 4) || t == 129)
					   ? FC_FT_CLASS_BACKSCATTER
					   : FC_FT_CLASS_ICMPREQ;
		}
		if (rem >= 2)
			key->dst_port = l4[1];
		break;
	default:
		break;
	}
}

/*
 * IPv4 at ip, rem bytes captured. The L4 header lies inside the IP payload:
 * bytes past the total length (Ethernet padding) are not read as ports or
 * flags. A total length of 0 (TSO/BIG TCP captures) bounds nothing. The
 * field itself is recorded as is.
 */
static inline enum fc_parse_status parse_ipv4(const uint8_t *ip, uint32_t rem,
					      struct fc_ftkey *key,
					      struct fc_parse_loc *pl)
{
	uint32_t hlen;

	if (rem < 1)
		return FC_PARSE_TRUNC_L3;
	if ((ip[0] >> 4) != 4)
		return FC_PARSE_BAD_VERSION;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20)
		return FC_PARSE_BAD_HDRLEN;
	if (rem < hlen)
		return FC_PARSE_TRUNC_L3;

	memset(key, 0, sizeof(*key));
	memcpy(key->src_ip, ip + 12, 4);
	memcpy(key->dst_ip, ip + 16, 4);
	key->ip_len = fc_be16(ip + 2);
	key->ttl = ip[8];
	key->proto = ip[9];
	key->family = 4;
	key->cls = FC_FT_CLASS_OTHER;
	/* A non-first fragment carries no L4 header: its first bytes are
	 * payload, so ports, flags and ICMP type stay 0 and the class is
	 * other, as in Corsaro. */
	if ((fc_be16(ip + 6) & 0x1fff) == 0) {
		uint32_t l4 = rem - hlen;

		if (key->ip_len != 0)
			l4 = key->ip_len <= hlen ? 0 :
					     FC_MIN(l4, key->ip_len - hlen);
		parse_l4(ip + hlen, l4, key, pl);
	}
	return FC_PARSE_OK;
}

/* IPv6 at ip, rem bytes captured. */
static inline enum fc_parse_status parse_ipv6(const uint8_t *ip, uint32_t rem,
					      struct fc_ftkey *key,
					      struct fc_parse_loc *pl)
{
	const uint8_t *h;
	uint8_t nh;
	int nonfirst = 0;

	if (rem < 1)
		return FC_PARSE_TRUNC_L3;
	if ((ip[0] >> 4) != 6)
		return FC_PARSE_BAD_VERSION;
	if (rem < 40)
		return FC_PARSE_TRUNC_L3;

	nh = ip[6];
	h = ip + 40;
	rem -= 40;
	/* Headers past the payload length are padding; 0 (jumbogram, TSO)
	 * bounds nothing. */
	if (fc_be16(ip + 4) != 0 && fc_be16(ip + 4) < rem)
		rem = fc_be16(ip + 4);
	/*
	 * Walk the extension chain to the upper-layer protocol. A header
	 * cut by the capture is skipped as far as the capture goes (rem
	 * becomes 0): its next-header byte is known, so if that is the
	 * upper layer the packet keeps its tuple with ports 0, and if it is
	 * another extension header the walk ends in trunc_l3.
	 */
	for (unsigned n = 0;; n++) {
		uint32_t len;

		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (rem < 2)
				return FC_PARSE_TRUNC_L3;
			len = ((uint32_t)h[1] + 1) * 8;
			break;
		case PROTO_AH:
			if (rem < 2)
				return FC_PARSE_TRUNC_L3;
			len = ((uint32_t)h[1] + 2) * 4;
			break;
		case PROTO_FRAGMENT:
			/* next header and offset are all we need */
			if (rem < 4)
				return FC_PARSE_TRUNC_L3;
			len = 8;
			/* non-first fragment: no L4 header; the recorded
			 * protocol is the fragment header's next header */
			if ((fc_be16(h + 2) & 0xfff8) != 0)
				nonfirst = 1;
			break;
		default:
			/* upper layer, ESP (50), no next header (59),
			 * mobility (135) or unknown: final */
			goto final;
		}
		if (n >= FC_PARSE_MAX_EXTHDRS)
			return FC_PARSE_TOO_DEEP;
		nh = h[0];
		if (nonfirst)
			goto final;
		if (len > rem)
			len = rem;
		h += len;
		rem -= len;
	}

final:
	memset(key, 0, sizeof(*key));
	memcpy(key->src_ip, ip + 8, 16);
	memcpy(key->dst_ip, ip + 24, 16);
	key->ip_len = (uint32_t)fc_be16(ip + 4) + 40;
	key->ttl = ip[7];
	key->proto = nh;
	key->family = 6;
	key->cls = FC_FT_CLASS_OTHER;
	if (!nonfirst)
		parse_l4(h, rem, key, pl);
	return FC_PARSE_OK;
}

/* Raw IP: the version nibble decides. */
static inline enum fc_parse_status parse_ip_any(const uint8_t *ip,
						uint32_t rem,
						struct fc_ftkey *key,
						struct fc_parse_loc *pl)
{
	if (rem < 1)
		return FC_PARSE_TRUNC_L3;
	switch (ip[0] >> 4) {
	case 4:
		return parse_ipv4(ip, rem, key, pl);
	case 6:
		return parse_ipv6(ip, rem, key, pl);
	default:
		return FC_PARSE_BAD_VERSION;
	}
}

/*
 * Where the walk met an IP header (off, from p; ver 4 or 6, or 0 when the
 * version nibble decides): filled instead of a key when the tunnel walk
 * (fc_parse_pkt_decap) asks. The ordinary parse passes no location, and
 * at_ip then parses the header at once.
 */
struct l3_loc {
	uint32_t off;
	unsigned ver;
	uint16_t vlan;  /**< outermost 802.1Q/802.1ad VLAN ID met, 0 if none */
	uint8_t tagged; /**< a tag was met */
};

static inline enum fc_parse_status at_ip(const uint8_t *p, uint32_t off,
					 uint32_t caplen, unsigned ver,
					 struct fc_ftkey *key,
					 struct l3_loc *loc)
{
	if (loc != NULL) {
		loc->off = off;
		loc->ver = ver;
		return FC_PARSE_OK;
	}
	switch (ver) {
	case 4:
		return parse_ipv4(p + off, caplen - off, key, NULL);
	case 6:
		return parse_ipv6(p + off, caplen - off, key, NULL);
	default:
		return parse_ip_any(p + off, caplen - off, key, NULL);
	}
}

/* Ethertypes that may start an Ethernet frame inside an MPLS pseudowire. */
static inline int pw_ethertype_plausible(uint16_t et)
{
	switch (et) {
	case ET_IPV4:
	case ET_IPV6:
	case ET_VLAN:
	case ET_QINQ:
	case ET_QINQ_OLD:
	case ET_MPLS_UC:
	case ET_MPLS_MC:
	case ET_PPPOE_SESS:
		return 1;
	default:
		return 0;
	}
}

/*
 * From an ethertype whose field ends at offset off, through L2 shims (VLAN
 * tags, vendor tags, service headers), MPLS label stacks and PPPoE sessions
 * to the IP header. Also serves SLL/SLL2, whose protocol field is an
 * ethertype. Encapsulated Ethernet (pseudowire, FabricPath, NSH) is walked
 * to its first IP header, which is then the outermost one.
 *
 * Bounds: at most FC_PARSE_MAX_TAGS shims and FC_PARSE_MAX_LABELS labels in
 * all; every step consumes at least 4 bytes, so the walk ends either way.
 */
static inline enum fc_parse_status parse_ethertype(const uint8_t *p,
						   uint32_t off,
						   uint32_t caplen,
						   uint16_t et,
						   struct fc_ftkey *key,
						   struct l3_loc *loc)
{
	unsigned tags = 0, labels = 0;
	uint32_t rem, len;

	for (;;) {
		rem = caplen - off;
		switch (et) {
		case ET_IPV4:
			return at_ip(p, off, caplen, 4, key, loc);
		case ET_IPV6:
			return at_ip(p, off, caplen, 6, key, loc);
		case ET_VLAN:
		case ET_QINQ:
		case ET_QINQ_OLD:
			len = 4; /* TCI, ethertype */
			if (loc != NULL && !loc->tagged && rem >= 2) {
				loc->tagged = 1;
				loc->vlan = fc_be16(p + off) & 0x0fff;
			}
			break;
		case ET_VNTAG:
			len = 6; /* 4-byte tag, ethertype */
			break;
		case ET_ETAG:
		case ET_CISCO_MD:
			len = 8; /* 6-byte tag, ethertype */
			break;
		case ET_FABRICPATH:
			len = 16; /* FTag/TTL, inner DA, SA, ethertype */
			break;
		case ET_MPLS_UC:
		case ET_MPLS_MC:
			for (;;) {
				if (++labels > FC_PARSE_MAX_LABELS)
					return FC_PARSE_TOO_DEEP;
				if (caplen - off < 4)
					return FC_PARSE_TRUNC_L2;
				off += 4;
				if (p[off - 2] & 0x01) /* bottom of stack */
					break;
			}
			/*
			 * MPLS does not say what it carries: look at the
			 * first nibble, as every MPLS-aware tool does. 4 and
			 * 6 are IP. 0 starts a pseudowire control word (RFC
			 * 4385), normally followed by an Ethernet frame
			 * (RFC 4448); 1 is an associated channel (OAM).
			 * Anything else may be an Ethernet pseudowire
			 * without control word. The Ethernet readings are
			 * taken only if they lead to an ethertype we walk.
			 */
			rem = caplen - off;
			if (rem < 1)
				return FC_PARSE_TRUNC_L2;
			switch (p[off] >> 4) {
			case 4:
				return at_ip(p, off, caplen, 4, key, loc);
			case 6:
				return at_ip(p, off, caplen, 6, key, loc);
			case 1:
				return FC_PARSE_NOT_IP;
			case 0:
				if (rem < 4 + ETH_HLEN)
					return FC_PARSE_TRUNC_L2;
				if (pw_ethertype_plausible(
					    fc_be16(p + off + 4 + 12))) {
					off += 4;
					rem -= 4;
				}
				break;
			default:
				break;
			}
			if (rem < ETH_HLEN)
				return FC_PARSE_TRUNC_L2;
			et = fc_be16(p + off + 12);
			if (!pw_ethertype_plausible(et))
				return FC_PARSE_NOT_IP;
			if (++tags > FC_PARSE_MAX_TAGS)
				return FC_PARSE_TOO_DEEP;
			off += ETH_HLEN;
			continue;
		case ET_PPPOE_SESS:
			if (rem < PPPOE_HLEN + 2)
				return FC_PARSE_TRUNC_L2;
			switch (fc_be16(p + off + PPPOE_HLEN)) {
			case PPP_IPV4:
				return at_ip(p, off + PPPOE_HLEN + 2, caplen,
					     4, key, loc);
			case PPP_IPV6:
				return at_ip(p, off + PPPOE_HLEN + 2, caplen,
					     6, key, loc);
			default:
				return FC_PARSE_NOT_IP;
			}
		case ET_NSH:
			/* RFC 8300: length in 4-byte words (6 bits) in the
			 * second byte, next protocol in the fourth */
			if (rem < 4)
				return FC_PARSE_TRUNC_L2;
			len = (uint32_t)(p[off + 1] & 0x3f) * 4;
			if (len < 8)
				return FC_PARSE_NOT_IP;
			if (rem < len)
				return FC_PARSE_TRUNC_L2;
			switch (p[off + 3]) {
			case NSH_NP_IPV4:
				return at_ip(p, off + len, caplen, 4, key, loc);
			case NSH_NP_IPV6:
				return at_ip(p, off + len, caplen, 6, key, loc);
			case NSH_NP_ETH:
				if (rem - len < ETH_HLEN)
					return FC_PARSE_TRUNC_L2;
				et = fc_be16(p + off + len + 12);
				len += ETH_HLEN;
				break;
			case NSH_NP_NSH:
				et = ET_NSH;
				break;
			case NSH_NP_MPLS:
				et = ET_MPLS_UC;
				break;
			default:
				return FC_PARSE_NOT_IP;
			}
			if (++tags > FC_PARSE_MAX_TAGS)
				return FC_PARSE_TOO_DEEP;
			off += len;
			continue;
		default:
			/* ARP, LLDP, 802.3 length field (LLC), ... */
			return FC_PARSE_NOT_IP;
		}
		/* a shim of len bytes ending in the next ethertype */
		if (++tags > FC_PARSE_MAX_TAGS)
			return FC_PARSE_TOO_DEEP;
		if (rem < len)
			return FC_PARSE_TRUNC_L2;
		et = fc_be16(p + off + len - 2);
		off += len;
	}
}

/*
 * PPP (DLT 9): optional ff 03 address/control, then a 1- or 2-byte
 * protocol (RFC 1661: a first byte with its low bit set is the whole,
 * compressed, field).
 */
static inline enum fc_parse_status parse_ppp(const uint8_t *p, uint32_t caplen,
					     struct fc_ftkey *key,
					     struct l3_loc *loc)
{
	uint32_t off = 0;
	uint16_t proto;

	if (caplen >= 1 && p[0] == 0xff) {
		if (caplen < 2)
			return FC_PARSE_TRUNC_L2;
		if (p[1] == 0x03)
			off = 2;
	}
	if (caplen - off < 1)
		return FC_PARSE_TRUNC_L2;
	if (p[off] & 0x01) {
		proto = p[off];
		off += 1;
	} else {
		if (caplen - off < 2)
			return FC_PARSE_TRUNC_L2;
		proto = fc_be16(p + off);
		off += 2;
	}
	switch (proto) {
	case PPP_IPV4:
		return at_ip(p, off, caplen, 4, key, loc);
	case PPP_IPV6:
		return at_ip(p, off, caplen, 6, key, loc);
	default:
		return FC_PARSE_NOT_IP;
	}
}

/* BSD loopback address family -> IP version; p points at the 4-byte AF. */
static inline enum fc_parse_status parse_af(const uint8_t *p, uint32_t caplen,
					    uint32_t af, struct fc_ftkey *key,
					    struct l3_loc *loc)
{
	switch (af) {
	case BSD_AF_INET:
		return at_ip(p, 4, caplen, 4, key, loc);
	case BSD_AF_INET6_BSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return at_ip(p, 4, caplen, 6, key, loc);
	default:
		return FC_PARSE_NOT_IP;
	}
}

/* The link layer by DLT, then at_ip: a key, or (loc) where IP starts. */
static inline enum fc_parse_status parse_frame(const uint8_t *p,
					       uint32_t caplen, uint32_t dlt,
					       struct fc_ftkey *key,
					       struct l3_loc *loc)
{
	uint32_t af;

	switch (dlt) {
	case FC_DLT_EN10MB:
		if (FC_UNLIKELY(caplen < ETH_HLEN))
			return FC_PARSE_TRUNC_L2;
		return parse_ethertype(p, ETH_HLEN, caplen, fc_be16(p + 12),
				       key, loc);
	case FC_DLT_RAW:
	case FC_DLT_RAW_OLD:
	case FC_DLT_RAW_LT:
		return at_ip(p, 0, caplen, 0, key, loc);
	case FC_DLT_IPV4:
		return at_ip(p, 0, caplen, 4, key, loc);
	case FC_DLT_IPV6:
		return at_ip(p, 0, caplen, 6, key, loc);
	case FC_DLT_LINUX_SLL:
		if (caplen < SLL_HLEN)
			return FC_PARSE_TRUNC_L2;
		return parse_ethertype(p, SLL_HLEN, caplen, fc_be16(p + 14),
				       key, loc);
	case FC_DLT_LINUX_SLL2:
		if (caplen < SLL2_HLEN)
			return FC_PARSE_TRUNC_L2;
		return parse_ethertype(p, SLL2_HLEN, caplen, fc_be16(p), key,
				       loc);
	case FC_DLT_NULL:
		if (caplen < 4)
			return FC_PARSE_TRUNC_L2;
		/* host order of the capturing machine, which may not be
		 * ours: the values are small, so one reading is < 256 and
		 * the other is not */
		af = fc_le32(p);
		if (af > 0xff)
			af = fc_be32(p);
		return parse_af(p, caplen, af, key, loc);
	case FC_DLT_LOOP:
		if (caplen < 4)
			return FC_PARSE_TRUNC_L2;
		return parse_af(p, caplen, fc_be32(p), key, loc);
	case FC_DLT_PPP:
		return parse_ppp(p, caplen, key, loc);
	default:
		if (loc == NULL && (dlt & FC_PARSE_DECAP))
			return fc_parse_pkt_decap(p, caplen,
						  dlt & ~FC_PARSE_DECAP, key);
		return FC_PARSE_BAD_LINKTYPE;
	}
}

enum fc_parse_status fc_parse_pkt_full(const uint8_t *p, uint32_t caplen,
				       uint32_t dlt, struct fc_ftkey *key)
{
	return parse_frame(p, caplen, dlt, key, NULL);
}

static enum fc_parse_status decap_walk(const uint8_t *p, uint32_t caplen,
				       uint32_t dlt, struct fc_ftkey *key,
				       struct l3_loc *last, uint32_t *last_end);

/*
 * The walk to the IP header (locate mode, which also notes the outermost
 * VLAN tag), then the IP header parsed with the L4 location noted: the
 * same statuses and key as fc_parse_pkt_full. With FC_PARSE_DECAP the key
 * is the innermost one (fc_parse_pkt_decap), the L4 location that of the
 * innermost packet (the payload --classify scans is the one of the packet
 * the key names) and the VLAN the outermost frame's.
 */
enum fc_parse_status fc_parse_pkt_loc(const uint8_t *p, uint32_t caplen,
				      uint32_t dlt, struct fc_ftkey *key,
				      struct fc_parse_loc *loc)
{
	struct l3_loc l3 = {0};
	enum fc_parse_status st;

	memset(loc, 0, sizeof(*loc));
	if (dlt & FC_PARSE_DECAP) {
		struct l3_loc in;
		struct fc_ftkey outer;
		uint32_t end;

		st = decap_walk(p, caplen, dlt & ~FC_PARSE_DECAP, key, &in,
				&end);
		if (st != FC_PARSE_OK)
			return st;
		/* The key's IP header parsed again, its L4 header noted:
		 * the payload is the innermost packet's. The VLAN is the
		 * outermost frame's. */
		switch (in.ver) {
		case 4:
			st = parse_ipv4(p + in.off, end - in.off, key, loc);
			break;
		case 6:
			st = parse_ipv6(p + in.off, end - in.off, key, loc);
			break;
		default:
			st = parse_ip_any(p + in.off, end - in.off, key, loc);
			break;
		}
		if (parse_frame(p, caplen, dlt & ~FC_PARSE_DECAP, &outer,
				&l3) == FC_PARSE_OK) {
			loc->vlan = l3.vlan;
			loc->tagged = l3.tagged;
		}
		return st;
	}
	st = parse_frame(p, caplen, dlt, key, &l3);
	if (st != FC_PARSE_OK)
		return st;
	loc->vlan = l3.vlan;
	loc->tagged = l3.tagged;
	switch (l3.ver) {
	case 4:
		return parse_ipv4(p + l3.off, caplen - l3.off, key, loc);
	case 6:
		return parse_ipv6(p + l3.off, caplen - l3.off, key, loc);
	default:
		return parse_ip_any(p + l3.off, caplen - l3.off, key, loc);
	}
}

/* ---- tunnels (fc_parse_pkt_decap) --------------------------------------- */

#define FC_PARSE_MAX_GTP_EXT 8

#define PROTO_IPIP 4
#define PROTO_IPV6 41
#define PROTO_GRE 47

#define UDP_VXLAN 4789
#define UDP_GENEVE 6081
#define UDP_GTPU 2152

#define ET_TEB 0x6558 /* transparent Ethernet bridging: Ethernet inside */

/*
 * The payload of the IP header at loc (what follows its options or its
 * extension chain): [*poff, *pend) of p, bounded by the capture (end) and
 * by the header's own length, so that padding is never read as a tunnel.
 * Fragments carry no whole tunnel header: they are not looked into.
 * Returns 0 when there is a payload to look into, -1 otherwise.
 */
static inline int ip_payload(const uint8_t *p, uint32_t end,
			     const struct l3_loc *loc, uint32_t *poff,
			     uint32_t *pend)
{
	const uint8_t *ip = p + loc->off;
	uint32_t rem = end - loc->off, len;

	if (loc->ver == 4) {
		uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4, tot = fc_be16(ip + 2);

		if ((fc_be16(ip + 6) & 0x3fff) != 0) /* MF or an offset */
			return -1;
		if (tot != 0 && tot < rem)
			rem = tot;
		if (rem < hlen)
			return -1;
		*poff = loc->off + hlen;
		*pend = loc->off + rem;
		return 0;
	}
	/* IPv6: the extension chain, as parse_ipv6 walks it. */
	uint8_t nh = ip[6];
	uint32_t o = 40, plen = fc_be16(ip + 4);

	if (plen != 0 && plen + 40 < rem)
		rem = plen + 40;
	for (unsigned n = 0; n < FC_PARSE_MAX_EXTHDRS; n++) {
		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (rem - o < 2)
				return -1;
			len = ((uint32_t)ip[o + 1] + 1) * 8;
			break;
		case PROTO_AH:
			if (rem - o < 2)
				return -1;
			len = ((uint32_t)ip[o + 1] + 2) * 4;
			break;
		case PROTO_FRAGMENT:
			return -1;
		default:
			*poff = loc->off + o;
			*pend = loc->off + rem;
			return 0;
		}
		if (len > rem - o)
			return -1;
		nh = ip[o];
		o += len;
	}
	return -1;
}

/* An Ethernet frame at off (inside a tunnel): walk it to its IP header. */
static inline int inner_eth(const uint8_t *p, uint32_t off, uint32_t end,
			    struct l3_loc *in)
{
	struct fc_ftkey unused;

	if (end - off < ETH_HLEN)
		return -1;
	return parse_ethertype(p, off + ETH_HLEN, end, fc_be16(p + off + 12),
			       &unused, in) == FC_PARSE_OK ? 0 : -1;
}

/* What an ethertype-like protocol field says comes next, at off. */
static inline int inner_by_type(const uint8_t *p, uint32_t off, uint32_t end,
				uint16_t type, struct l3_loc *in)
{
	switch (type) {
	case ET_IPV4:
		in->ver = 4;
		break;
	case ET_IPV6:
		in->ver = 6;
		break;
	case ET_TEB:
		return inner_eth(p, off, end, in);
	default:
		return -1;
	}
	in->off = off;
	return 0;
}

/* GTP-U (3GPP TS 29.281) G-PDU at off: its header, then an IP packet. */
static inline int inner_gtpu(const uint8_t *p, uint32_t off, uint32_t end,
			     struct l3_loc *in)
{
	const uint8_t *g = p + off;
	uint32_t hl = 8;

	if (end - off < 8 || (g[0] >> 5) != 1 || !(g[0] & 0x10) ||
	    g[1] != 0xff)
		return -1;
	if (g[0] & 0x07) {
		/* sequence number, N-PDU number, next extension type */
		uint8_t next;

		if (end - off < 12)
			return -1;
		hl = 12;
		next = g[11];
		for (unsigned n = 0; next != 0; n++) {
			uint32_t elen;

			if (n >= FC_PARSE_MAX_GTP_EXT || end - off < hl + 1)
				return -1;
			elen = (uint32_t)g[hl] * 4;
			if (elen == 0 || end - off < hl + elen)
				return -1;
			next = g[hl + elen - 1];
			hl += elen;
		}
	}
	if (end - off <= hl)
		return -1;
	in->off = off + hl;
	in->ver = g[hl] >> 4;
	return in->ver == 4 || in->ver == 6 ? 0 : -1;
}

/*
 * Is the packet whose IP header is at loc (key: its fields) a tunnel we
 * open? Then *in is where the inner IP header starts and *inend where
 * the outer packet ends. Returns 0 for a tunnel, -1 otherwise.
 */
static inline int tunnel_inner(const uint8_t *p, uint32_t end,
			       const struct l3_loc *loc,
			       const struct fc_ftkey *key, struct l3_loc *in,
			       uint32_t *inend)
{
	uint32_t off, pend;

	if (ip_payload(p, end, loc, &off, &pend) != 0)
		return -1;
	*inend = pend;
	switch (key->proto) {
	case PROTO_IPIP:
		in->off = off;
		in->ver = 4;
		return 0;
	case PROTO_IPV6:
		in->off = off;
		in->ver = 6;
		return 0;
	case PROTO_GRE: {
		/* RFC 2784/2890: C, K and S add 4 bytes each; version 0
		 * only (version 1 is PPTP's, carrying PPP), no RFC 1701
		 * routing. */
		uint16_t fl;
		uint32_t hl = 4;

		if (pend - off < 4)
			return -1;
		fl = fc_be16(p + off);
		if ((fl & 0x0007) != 0 || (fl & 0x4000) != 0)
			return -1;
		hl += (fl & 0x8000 ? 4 : 0) + (fl & 0x2000 ? 4 : 0) +
		      (fl & 0x1000 ? 4 : 0);
		if (pend - off < hl)
			return -1;
		return inner_by_type(p, off + hl, pend, fc_be16(p + off + 2),
				     in);
	}
	case PROTO_UDP:
		if (pend - off < 8)
			return -1;
		off += 8;
		switch (key->dst_port) {
		case UDP_VXLAN: /* RFC 7348: 8 bytes, then Ethernet */
			if (pend - off < 8)
				return -1;
			return inner_eth(p, off + 8, pend, in);
		case UDP_GENEVE: { /* RFC 8926: 8 bytes + options */
			uint32_t hl;

			if (pend - off < 8 || (p[off] >> 6) != 0)
				return -1;
			hl = 8 + (uint32_t)(p[off] & 0x3f) * 4;
			if (pend - off < hl)
				return -1;
			return inner_by_type(p, off + hl, pend,
					     fc_be16(p + off + 2), in);
		}
		case UDP_GTPU:
			return inner_gtpu(p, off, pend, in);
		default:
			return -1;
		}
	default:
		return -1;
	}
}

/* The tunnel walk of fc_parse_pkt_decap; on FC_PARSE_OK also where the
 * IP header the key comes from starts (*last: its offset and version) and
 * where its packet ends (*last_end). */
static enum fc_parse_status decap_walk(const uint8_t *p, uint32_t caplen,
				       uint32_t dlt, struct fc_ftkey *key,
				       struct l3_loc *last, uint32_t *last_end)
{
	struct l3_loc loc, in;
	struct fc_ftkey inner;
	uint32_t end = caplen, inend;
	enum fc_parse_status st = parse_frame(p, caplen, dlt, key, &loc);

	if (st != FC_PARSE_OK)
		return st;
	st = at_ip(p, loc.off, end, loc.ver, key, NULL);
	if (st != FC_PARSE_OK)
		return st;
	if (loc.ver == 0)
		loc.ver = p[loc.off] >> 4;
	/* Each round opens one tunnel; what cannot be opened (a header
	 * cut short, an inner frame that is not IP) leaves the key of the
	 * last IP header reached. */
	for (unsigned depth = 1;; depth++) {
		if (tunnel_inner(p, end, &loc, key, &in, &inend) != 0 ||
		    at_ip(p, in.off, inend, in.ver, &inner, NULL) !=
			    FC_PARSE_OK) {
			*last = loc;
			*last_end = end;
			return FC_PARSE_OK;
		}
		if (depth > FC_PARSE_MAX_TUNNELS)
			return FC_PARSE_TUNNEL_DEEP;
		*key = inner;
		loc = in;
		end = inend;
	}
}

enum fc_parse_status fc_parse_pkt_decap(const uint8_t *p, uint32_t caplen,
					uint32_t dlt, struct fc_ftkey *key)
{
	struct l3_loc last;
	uint32_t end;

	return decap_walk(p, caplen, dlt, key, &last, &end);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the packet parser, on frames built byte by byte: every link
 * type, tags, labels, PPPoE, IPv4 options and fragments, IPv6 extension
 * chains, L4 fields, classes, and truncation at every byte of a few frames
 * (each parse gets an exact-size heap copy, so an overread trips ASan).
 */
#include <criterion/criterion.h>
#include <pcap/pcap.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_parse.h"

struct pkt {
	uint8_t b[1024];
	uint32_t n;
};

static void put(struct pkt *k, const void *d, uint32_t n)
{
	cr_assert_leq(k->n + n, sizeof(k->b));
	memcpy(k->b + k->n, d, n);
	k->n += n;
}

static void put8(struct pkt *k, uint8_t v)
{
	put(k, &v, 1);
}

static void put16(struct pkt *k, uint16_t v)
{
	put8(k, (uint8_t)(v >> 8));
	put8(k, (uint8_t)v);
}

static void put32(struct pkt *k, uint32_t v)
{
	put16(k, (uint16_t)(v >> 16));
	put16(k, (uint16_t)v);
}

static void zeros(struct pkt *k, uint32_t n)
{
	while (n--)
		put8(k, 0);
}

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xaa};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xbb};
static const uint8_t v4_src[4] = {192, 0, 2, 1};
static const uint8_t v4_dst[4] = {198, 51, 100, 2};
static const uint8_t v6_src[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6_dst[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0xab,
				   [15] = 2};

static void eth(struct pkt *k, uint16_t et)
{
	put(k, mac_a, 6);
	put(k, mac_b, 6);
	put16(k, et);
}

static void tag(struct pkt *k, uint16_t tci, uint16_t next)
{
	put16(k, tci);
	put16(k, next);
}

static void mpls(struct pkt *k, uint32_t label, int bos)
{
	put32(k, label << 12 | (bos ? 0x100u : 0) | 64);
}

/* IPv4 header, ihl words (options are NOPs), TTL 64. */
static void ipv4(struct pkt *k, uint8_t proto, unsigned ihl, uint16_t frag,
		 uint16_t tot)
{
	put8(k, (uint8_t)(0x40 | ihl));
	put8(k, 0);
	put16(k, tot);
	put16(k, 0x1234);
	put16(k, frag);
	put8(k, 64);
	put8(k, proto);
	put16(k, 0);
	put(k, v4_src, 4);
	put(k, v4_dst, 4);
	for (unsigned i = 5; i < ihl; i++)
		put32(k, 0x01010101);
}

static void ipv6(struct pkt *k, uint8_t nh, uint16_t plen)
{
	put32(k, 0x60000000);
	put16(k, plen);
	put8(k, nh);
	put8(k, 63);
	put(k, v6_src, 16);
	put(k, v6_dst, 16);
}

/* Generic extension header of (units + 1) * 8 bytes. */
static void ext6(struct pkt *k, uint8_t nh, uint8_t units)
{
	put8(k, nh);
	put8(k, units);
	zeros(k, 6u + 8u * units);
}

static void frag6(struct pkt *k, uint8_t nh, uint16_t offset8, int more)
{
	put8(k, nh);
	put8(k, 0);
	put16(k, (uint16_t)(offset8 << 3 | (more ? 1 : 0)));
	put32(k, 0xabcd);
}

static void tcp(struct pkt *k, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(k, sport);
	put16(k, dport);
	put32(k, 1);
	put32(k, 0);
	put8(k, 0x50);
	put8(k, flags);
	put16(k, 1024);
	put32(k, 0);
}

static void udp(struct pkt *k, uint16_t sport, uint16_t dport)
{
	put16(k, sport);
	put16(k, dport);
	put16(k, 8);
	put16(k, 0);
}

static void icmp(struct pkt *k, uint8_t type, uint8_t code)
{
	put8(k, type);
	put8(k, code);
	zeros(k, 6);
}

/* Parse an exact-size heap copy of the first caplen bytes; the key is
 * poisoned first so that unwritten bytes show. */
static enum fc_parse_status parse_n(const struct pkt *k, uint32_t caplen,
				    uint32_t dlt, struct fc_ftkey *key)
{
	uint8_t *c = malloc(caplen ? caplen : 1);
	enum fc_parse_status st;

	cr_assert_not_null(c);
	memcpy(c, k->b, caplen);
	memset(key, 0xa5, sizeof(*key));
	st = fc_parse_pkt(c, caplen, dlt, key);
	free(c);
	cr_assert_lt((unsigned)st, FC_PARSE_STATUS_COUNT);
	if (st == FC_PARSE_OK) {
		cr_assert(key->family == 4 || key->family == 6);
		cr_assert_lt(key->cls, FC_FT_CLASS_COUNT);
		cr_assert_eq(key->ext[0] | key->ext[1] | key->ext[2], 0);
	}
	return st;
}

static enum fc_parse_status parse(const struct pkt *k, uint32_t dlt,
				  struct fc_ftkey *key)
{
	return parse_n(k, k->n, dlt, key);
}

static void assert_v4_addrs(const struct fc_ftkey *key)
{
	static const uint8_t z[12];

	cr_assert_eq(key->family, 4);
	cr_assert_arr_eq(key->src_ip, v4_src, 4);
	cr_assert_arr_eq(key->dst_ip, v4_dst, 4);
	cr_assert_arr_eq(key->src_ip + 4, z, 12);
	cr_assert_arr_eq(key->dst_ip + 4, z, 12);
}

static void assert_v6_addrs(const struct fc_ftkey *key)
{
	cr_assert_eq(key->family, 6);
	cr_assert_arr_eq(key->src_ip, v6_src, 16);
	cr_assert_arr_eq(key->dst_ip, v6_dst, 16);
}

/* Ethernet/IPv4/TCP SYN+ACK, the reference frame of several tests. */
static void eth_v4_tcp(struct pkt *k, uint8_t flags)
{
	memset(k, 0, sizeof(*k));
	eth(k, 0x0800);
	ipv4(k, 6, 5, 0, 40);
	tcp(k, 443, 40000, flags);
}

Test(parse, ipv4_tcp_fills_every_byte_of_the_key)
{
	struct pkt k;
	struct fc_ftkey key, want;

	eth_v4_tcp(&k, 0x12);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	memset(&want, 0, sizeof(want));
	memcpy(want.src_ip, v4_src, 4);
	memcpy(want.dst_ip, v4_dst, 4);
	want.src_port = 443;
	want.dst_port = 40000;
	want.ip_len = 40;
	want.proto = 6;
	want.ttl = 64;
	want.tcp_flags = 0x12;
	want.family = 4;
	want.cls = FC_FT_CLASS_BACKSCATTER;
	cr_assert(fc_ftkey_eq(&key, &want));
}

Test(parse, ipv6_udp_fills_every_byte_of_the_key)
{
	struct pkt k = {0};
	struct fc_ftkey key, want;

	eth(&k, 0x86dd);
	ipv6(&k, 17, 8);
	udp(&k, 53, 5353);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	memset(&want, 0, sizeof(want));
	memcpy(want.src_ip, v6_src, 16);
	memcpy(want.dst_ip, v6_dst, 16);
	want.src_port = 53;
	want.dst_port = 5353;
	want.ip_len = 48;
	want.proto = 17;
	want.ttl = 63;
	want.family = 6;
	want.cls = FC_FT_CLASS_OTHER;
	cr_assert(fc_ftkey_eq(&key, &want));
}

Test(parse, status_names_are_stable)
{
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_OK), "ok");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_NOT_IP), "not_ip");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_TRUNC_L2), "trunc_l2");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_TRUNC_L3), "trunc_l3");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_BAD_VERSION),
			 "bad_version");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_BAD_HDRLEN),
			 "bad_hdrlen");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_BAD_LINKTYPE),
			 "bad_linktype");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_TOO_DEEP), "too_deep");
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_STATUS_COUNT),
			 "unknown");
	cr_assert_str_eq(fc_parse_status_name(~0u), "unknown");
}

Test(parse, supported_link_types)
{
	static const uint32_t yes[] = {0, 1, 9, 12, 14, 101, 108, 113, 228,
				       229, 276};
	static const uint32_t no[] = {2, 10, 50, 105, 127, 147, 192, 1000};
	struct pkt k;
	struct fc_ftkey key;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(fc_parse_dlt_supported(yes[i]), "dlt %u", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		cr_assert_not(fc_parse_dlt_supported(no[i]), "dlt %u", no[i]);
		eth_v4_tcp(&k, 0);
		cr_assert_eq(parse(&k, no[i], &key), FC_PARSE_BAD_LINKTYPE);
	}
}

Test(parse, raw_ip_link_types_go_by_version_nibble)
{
	static const uint32_t raw[] = {FC_DLT_RAW, FC_DLT_RAW_OLD,
				       FC_DLT_RAW_LT};
	struct pkt k4 = {0}, k6 = {0}, kx = {0};
	struct fc_ftkey key;

	ipv4(&k4, 17, 5, 0, 28);
	udp(&k4, 1, 2);
	ipv6(&k6, 17, 8);
	udp(&k6, 3, 4);
	ipv4(&kx, 17, 5, 0, 28);
	kx.b[0] = 0x55;
	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(parse(&k4, raw[i], &key), FC_PARSE_OK);
		assert_v4_addrs(&key);
		cr_assert_eq(key.dst_port, 2);
		cr_assert_eq(parse(&k6, raw[i], &key), FC_PARSE_OK);
		assert_v6_addrs(&key);
		cr_assert_eq(key.dst_port, 4);
		cr_assert_eq(parse(&kx, raw[i], &key), FC_PARSE_BAD_VERSION);
		cr_assert_eq(parse_n(&k4, 0, raw[i], &key), FC_PARSE_TRUNC_L3);
	}
	cr_assert_eq(parse(&k4, FC_DLT_IPV4, &key), FC_PARSE_OK);
	cr_assert_eq(parse(&k6, FC_DLT_IPV6, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 3);
	cr_assert_eq(parse(&k6, FC_DLT_IPV4, &key), FC_PARSE_BAD_VERSION);
	cr_assert_eq(parse(&k4, FC_DLT_IPV6, &key), FC_PARSE_BAD_VERSION);
}

Test(parse, linux_sll_and_sll2)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	/* SLL: packet type, ARPHRD, addr len, 8-byte addr, protocol */
	put16(&k, 0);
	put16(&k, 1);
	put16(&k, 6);
	put(&k, mac_a, 6);
	zeros(&k, 2);
	put16(&k, 0x86dd);
	ipv6(&k, 6, 20);
	tcp(&k, 22, 50000, 0x10);
	cr_assert_eq(parse(&k, FC_DLT_LINUX_SLL, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);
	cr_assert_eq(key.src_port, 22);
	cr_assert_eq(key.tcp_flags, 0x10);
	cr_assert_eq(parse_n(&k, 15, FC_DLT_LINUX_SLL, &key),
		     FC_PARSE_TRUNC_L2);
	k.b[14] = 0x08;
	k.b[15] = 0x06; /* ARP */
	cr_assert_eq(parse(&k, FC_DLT_LINUX_SLL, &key), FC_PARSE_NOT_IP);

	/* SLL2: protocol, reserved, ifindex, ARPHRD, type, addr len, addr */
	memset(&k, 0, sizeof(k));
	put16(&k, 0x0800);
	put16(&k, 0);
	put32(&k, 3);
	put16(&k, 1);
	put8(&k, 0);
	put8(&k, 6);
	put(&k, mac_a, 6);
	zeros(&k, 2);
	ipv4(&k, 17, 5, 0, 28);
	udp(&k, 123, 123);
	cr_assert_eq(parse(&k, FC_DLT_LINUX_SLL2, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.src_port, 123);
	cr_assert_eq(parse_n(&k, 19, FC_DLT_LINUX_SLL2, &key),
		     FC_PARSE_TRUNC_L2);
	cr_assert_eq(parse_n(&k, 20, FC_DLT_LINUX_SLL2, &key),
		     FC_PARSE_TRUNC_L3);
}

Test(parse, bsd_null_accepts_both_byte_orders_and_all_inet6_values)
{
	static const uint32_t af6[] = {24, 28, 30};
	struct pkt k = {0};
	struct fc_ftkey key;

	/* little-endian capturing host */
	put8(&k, 2);
	zeros(&k, 3);
	ipv4(&k, 1, 5, 0, 28);
	icmp(&k, 8, 0);
	cr_assert_eq(parse(&k, FC_DLT_NULL, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.cls, FC_FT_CLASS_ICMPREQ);
	/* big-endian capturing host */
	k.b[0] = 0;
	k.b[3] = 2;
	cr_assert_eq(parse(&k, FC_DLT_NULL, &key), FC_PARSE_OK);
	/* DLT_LOOP is network order */
	cr_assert_eq(parse(&k, FC_DLT_LOOP, &key), FC_PARSE_OK);
	k.b[0] = 2;
	k.b[3] = 0;
	cr_assert_eq(parse(&k, FC_DLT_LOOP, &key), FC_PARSE_NOT_IP);
	cr_assert_eq(parse_n(&k, 3, FC_DLT_NULL, &key), FC_PARSE_TRUNC_L2);
	cr_assert_eq(parse_n(&k, 3, FC_DLT_LOOP, &key), FC_PARSE_TRUNC_L2);

	for (size_t i = 0; i < 3; i++) {
		memset(&k, 0, sizeof(k));
		put8(&k, (uint8_t)af6[i]);
		zeros(&k, 3);
		ipv6(&k, 58, 8);
		icmp(&k, 129, 0);
		cr_assert_eq(parse(&k, FC_DLT_NULL, &key), FC_PARSE_OK);
		assert_v6_addrs(&key);
		cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
		k.b[0] = 0;
		k.b[3] = (uint8_t)af6[i];
		cr_assert_eq(parse(&k, FC_DLT_NULL, &key), FC_PARSE_OK);
		cr_assert_eq(parse(&k, FC_DLT_LOOP, &key), FC_PARSE_OK);
	}
	k.b[3] = 7; /* AF_IMPLINK or so: not IP */
	cr_assert_eq(parse(&k, FC_DLT_NULL, &key), FC_PARSE_NOT_IP);
}

Test(parse, ppp_address_control_and_protocol_compression)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	put16(&k, 0xff03);
	put16(&k, 0x0021);
	ipv4(&k, 17, 5, 0, 28);
	udp(&k, 1701, 1701);
	cr_assert_eq(parse(&k, FC_DLT_PPP, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.src_port, 1701);
	cr_assert_eq(parse_n(&k, 3, FC_DLT_PPP, &key), FC_PARSE_TRUNC_L2);
	cr_assert_eq(parse_n(&k, 4, FC_DLT_PPP, &key), FC_PARSE_TRUNC_L3);

	/* no address/control */
	memset(&k, 0, sizeof(k));
	put16(&k, 0x0057);
	ipv6(&k, 17, 8);
	udp(&k, 9, 10);
	cr_assert_eq(parse(&k, FC_DLT_PPP, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);

	/* compressed 1-byte protocol, with and without ff 03 */
	memset(&k, 0, sizeof(k));
	put8(&k, 0x21);
	ipv4(&k, 6, 5, 0, 40);
	tcp(&k, 1, 2, 0x04);
	cr_assert_eq(parse(&k, FC_DLT_PPP, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
	memset(&k, 0, sizeof(k));
	put16(&k, 0xff03);
	put8(&k, 0x57);
	ipv6(&k, 59, 0);
	cr_assert_eq(parse(&k, FC_DLT_PPP, &key), FC_PARSE_OK);
	cr_assert_eq(key.proto, 59);

	/* LCP */
	memset(&k, 0, sizeof(k));
	put16(&k, 0xff03);
	put16(&k, 0xc021);
	zeros(&k, 8);
	cr_assert_eq(parse(&k, FC_DLT_PPP, &key), FC_PARSE_NOT_IP);
	cr_assert_eq(parse_n(&k, 0, FC_DLT_PPP, &key), FC_PARSE_TRUNC_L2);
}

Test(parse, vlan_and_qinq_tags_stack)
{
	static const uint16_t tpids[] = {0x8100, 0x88a8, 0x9100};
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x88a8);
	tag(&k, 100, 0x8100);
	tag(&k, 200, 0x9100);
	tag(&k, 300, 0x0800);
	ipv4(&k, 6, 5, 0, 40);
	tcp(&k, 80, 1025, 0x02);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.src_port, 80);
	cr_assert_eq(key.tcp_flags, 0x02);
	cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	for (uint32_t n = 14; n < 26; n++)
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L2, "caplen %u", n);
	cr_assert_eq(parse_n(&k, 26, FC_DLT_EN10MB, &key), FC_PARSE_TRUNC_L3);

	/* 8 tags are walked, the 9th is too deep */
	for (unsigned ntags = 8; ntags <= 9; ntags++) {
		memset(&k, 0, sizeof(k));
		eth(&k, 0x8100);
		for (unsigned i = 0; i < ntags; i++)
			tag(&k, (uint16_t)i,
			    i + 1 < ntags ? tpids[i % 3] : 0x86dd);
		ipv6(&k, 17, 8);
		udp(&k, 1, 2);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key),
			     ntags <= 8 ? FC_PARSE_OK : FC_PARSE_TOO_DEEP);
	}

	/* tagged ARP */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8100);
	tag(&k, 5, 0x0806);
	zeros(&k, 28);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
}

Test(parse, llc_arp_and_unknown_ethertypes_are_not_ip)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x0026); /* 802.3 length: LLC (STP) */
	put8(&k, 0x42);
	put8(&k, 0x42);
	put8(&k, 0x03);
	zeros(&k, 35);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	k.b[12] = 0x05;
	k.b[13] = 0xff;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	k.b[12] = 0x08;
	k.b[13] = 0x06; /* ARP */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	k.b[12] = 0x88;
	k.b[13] = 0xcc; /* LLDP */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	k.b[12] = 0x88;
	k.b[13] = 0x63; /* PPPoE discovery */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	for (uint32_t n = 0; n < 14; n++)
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L2);
}

Test(parse, mpls_label_stack_to_ip)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x8847);
	mpls(&k, 16, 0);
	mpls(&k, 17, 0);
	mpls(&k, 18, 1);
	ipv4(&k, 17, 5, 0, 28);
	udp(&k, 4789, 4789);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.dst_port, 4789);
	for (uint32_t n = 14; n <= 26; n++)
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L2, "caplen %u", n);
	cr_assert_eq(parse_n(&k, 27, FC_DLT_EN10MB, &key), FC_PARSE_TRUNC_L3);

	/* multicast MPLS over VLAN, IPv6 payload */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8100);
	tag(&k, 7, 0x8848);
	mpls(&k, 2, 1);
	ipv6(&k, 6, 20);
	tcp(&k, 179, 30000, 0x18);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);
	cr_assert_eq(key.src_port, 179);

	/* 16 labels are walked, 17 are too deep */
	for (unsigned nl = 16; nl <= 17; nl++) {
		memset(&k, 0, sizeof(k));
		eth(&k, 0x8847);
		for (unsigned i = 0; i < nl; i++)
			mpls(&k, 100 + i, i + 1 == nl);
		ipv4(&k, 17, 5, 0, 28);
		udp(&k, 1, 2);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key),
			     nl <= 16 ? FC_PARSE_OK : FC_PARSE_TOO_DEEP);
	}

	/* G-ACh / OAM (nibble 1) and an unplausible payload */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8847);
	mpls(&k, 13, 1);
	put32(&k, 0x10000007);
	zeros(&k, 20);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	k.b[18] = 0x20;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
}

Test(parse, mpls_ethernet_pseudowire)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	/* with control word: labels, CW, Ethernet, VLAN, IPv4 */
	eth(&k, 0x8847);
	mpls(&k, 1000, 0);
	mpls(&k, 2000, 1);
	put32(&k, 0);
	eth(&k, 0x8100);
	tag(&k, 10, 0x0800);
	ipv4(&k, 1, 5, 0, 100);
	icmp(&k, 0, 0);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.ip_len, 100);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
	/* cut inside the inner Ethernet header */
	cr_assert_eq(parse_n(&k, 14 + 8 + 4 + 13, FC_DLT_EN10MB, &key),
		     FC_PARSE_TRUNC_L2);

	/* without control word */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8847);
	mpls(&k, 2000, 1);
	put8(&k, 0xcc);
	put(&k, mac_a + 1, 5);
	put(&k, mac_b, 6);
	put16(&k, 0x86dd);
	ipv6(&k, 17, 8);
	udp(&k, 5, 6);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);
	/* an inner frame that is not IP */
	k.b[14 + 4 + 12] = 0x08;
	k.b[14 + 4 + 13] = 0x06;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
}

Test(parse, pppoe_session)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x8864);
	put16(&k, 0x1100); /* ver/type, code */
	put16(&k, 0x0042); /* session */
	put16(&k, 22);     /* length */
	put16(&k, 0x0021);
	ipv4(&k, 6, 5, 0, 20);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.src_port, 0); /* no TCP header captured */
	for (uint32_t n = 14; n < 22; n++)
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L2);
	cr_assert_eq(parse_n(&k, 22, FC_DLT_EN10MB, &key), FC_PARSE_TRUNC_L3);
	k.b[20] = 0x00;
	k.b[21] = 0x57;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_BAD_VERSION);
	k.b[20] = 0xc0;
	k.b[21] = 0x21; /* LCP */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);

	/* PPPoE over QinQ, IPv6 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x88a8);
	tag(&k, 1, 0x8100);
	tag(&k, 2, 0x8864);
	put16(&k, 0x1100);
	put16(&k, 1);
	put16(&k, 50);
	put16(&k, 0x0057);
	ipv6(&k, 6, 20);
	tcp(&k, 1, 2, 0x14);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
}

Test(parse, vendor_l2_shims)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	/* FabricPath: outer header, FTag/TTL, inner Ethernet, VLAN */
	eth(&k, 0x8903);
	put16(&k, 0x4020);
	eth(&k, 0x8100);
	tag(&k, 7, 0x0800);
	ipv4(&k, 6, 5, 0, 60);
	tcp(&k, 8009, 38856, 0x12);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.src_port, 8009);
	cr_assert_eq(parse_n(&k, 29, FC_DLT_EN10MB, &key), FC_PARSE_TRUNC_L2);

	/* VN-Tag, E-Tag, Cisco MetaData */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8926);
	put32(&k, 0);
	put16(&k, 0x893f);
	put16(&k, 0x1000);
	put32(&k, 0x00d30000);
	put16(&k, 0x8909);
	put32(&k, 0x01010001);
	put16(&k, 0x0002);
	put16(&k, 0x86dd);
	ipv6(&k, 17, 8);
	udp(&k, 7, 8);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);
	cr_assert_eq(key.src_port, 7);

	/* NSH, MD type 1 (24 bytes), next protocol IPv4 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x894f);
	put16(&k, 0x0fc6);
	put8(&k, 0x01);
	put8(&k, 0x01);
	put32(&k, 0x00004500);
	zeros(&k, 16);
	ipv4(&k, 1, 5, 0, 28);
	icmp(&k, 8, 0);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v4_addrs(&key);
	cr_assert_eq(key.cls, FC_FT_CLASS_ICMPREQ);
	cr_assert_eq(parse_n(&k, 14 + 23, FC_DLT_EN10MB, &key),
		     FC_PARSE_TRUNC_L2);
	k.b[17] = 0x06; /* unassigned next protocol */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
	k.b[17] = 0x01;
	k.b[15] = 0xc1; /* length 1 word: malformed */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_NOT_IP);
}

Test(parse, ipv4_options_skipped_by_ihl)
{
	struct fc_ftkey key;

	for (unsigned ihl = 5; ihl <= 15; ihl++) {
		struct pkt k = {0};

		eth(&k, 0x0800);
		ipv4(&k, 17, ihl, 0, (uint16_t)(ihl * 4 + 8));
		udp(&k, 1900, 1901);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.src_port, 1900, "ihl %u", ihl);
		cr_assert_eq(key.dst_port, 1901);
		cr_assert_eq(key.ip_len, ihl * 4 + 8);
		cr_assert_eq(parse_n(&k, 14 + ihl * 4 - 1, FC_DLT_EN10MB,
				     &key),
			     FC_PARSE_TRUNC_L3);
		cr_assert_eq(parse_n(&k, 14 + ihl * 4, FC_DLT_EN10MB, &key),
			     FC_PARSE_OK);
		cr_assert_eq(key.src_port, 0);
	}
}

Test(parse, ipv4_bad_version_and_header_length)
{
	struct pkt k;
	struct fc_ftkey key;

	eth_v4_tcp(&k, 0x02);
	k.b[14] = 0x65; /* ethertype IPv4, nibble 6 */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_BAD_VERSION);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		k.b[14] = (uint8_t)(0x40 | ihl);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key),
			     FC_PARSE_BAD_HDRLEN);
	}
	/* ethertype IPv6, nibble 4 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x86dd);
	ipv4(&k, 6, 5, 0, 40);
	zeros(&k, 20);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_BAD_VERSION);
}

Test(parse, ipv4_total_length_recorded_as_is)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x0800);
	ipv4(&k, 6, 5, 0, 0); /* TSO capture */
	tcp(&k, 1, 2, 0x18);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.ip_len, 0);
	cr_assert_eq(key.tcp_flags, 0x18);
	k.b[16] = 0xff;
	k.b[17] = 0xff; /* far beyond the capture */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.ip_len, 65535);
	cr_assert_eq(key.src_port, 1);
}

Test(parse, ipv4_fragments)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	/* first fragment: MF, offset 0, carries the ports */
	eth(&k, 0x0800);
	ipv4(&k, 17, 5, 0x2000, 1500);
	udp(&k, 53, 33333);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 53);
	cr_assert_eq(key.dst_port, 33333);

	/* non-first fragments (with and without MF, and DF set) */
	static const uint16_t frags[] = {0x00b9, 0x20b9, 0x4001, 0x1fff,
					 0x1000, 0x0001};
	for (size_t i = 0; i < 6; i++) {
		memset(&k, 0, sizeof(k));
		eth(&k, 0x0800);
		ipv4(&k, 6, 5, frags[i], 40);
		tcp(&k, 1, 2, 0x12);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.src_port, 0);
		cr_assert_eq(key.dst_port, 0);
		cr_assert_eq(key.tcp_flags, 0);
		cr_assert_eq(key.proto, 6);
		cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	}

	/* ICMP: non-first fragment is "other", first is by type */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x0800);
	ipv4(&k, 1, 5, 0x00b9, 1028);
	icmp(&k, 0, 0);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	cr_assert_eq(key.src_port, 0);
	k.b[20] = 0x20;
	k.b[21] = 0x00;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
}

Test(parse, ipv6_extension_chain)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x86dd);
	ipv6(&k, 0, 100);
	ext6(&k, 43, 0);  /* hop-by-hop */
	ext6(&k, 60, 2);  /* routing, 24 bytes */
	ext6(&k, 51, 0);  /* destination options */
	put8(&k, 6);      /* AH: next, len (4 -> 24 bytes) */
	put8(&k, 4);
	zeros(&k, 22);
	tcp(&k, 1234, 80, 0x11);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	assert_v6_addrs(&key);
	cr_assert_eq(key.proto, 6);
	cr_assert_eq(key.src_port, 1234);
	cr_assert_eq(key.tcp_flags, 0x11);
	cr_assert_eq(key.ip_len, 140);
	cr_assert_eq(key.ttl, 63);
	/* every cut inside the chain loses the final protocol */
	for (uint32_t n = 54; n < 54 + 8 + 24 + 8 + 2; n++)
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L3, "caplen %u", n);
	/* once the AH next header is seen the protocol is known */
	cr_assert_eq(parse_n(&k, 54 + 40 + 2, FC_DLT_EN10MB, &key),
		     FC_PARSE_OK);
	cr_assert_eq(key.proto, 6);
	cr_assert_eq(key.src_port, 0);
}

Test(parse, ipv6_final_headers)
{
	static const uint8_t finals[] = {50, 59, 135, 17, 132, 4, 41, 47};
	struct fc_ftkey key;

	for (size_t i = 0; i < sizeof(finals); i++) {
		struct pkt k = {0};

		eth(&k, 0x86dd);
		ipv6(&k, 60, 0xffff);
		ext6(&k, finals[i], 0);
		put32(&k, 0x11112222);
		put32(&k, 0x33334444);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.proto, finals[i]);
		cr_assert_eq(key.ip_len, 65535 + 40);
		if (finals[i] == 17 || finals[i] == 132) {
			cr_assert_eq(key.src_port, 0x1111);
			cr_assert_eq(key.dst_port, 0x2222);
		} else {
			cr_assert_eq(key.src_port, 0, "proto %u", finals[i]);
			cr_assert_eq(key.dst_port, 0);
		}
		cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	}
}

Test(parse, ipv6_fragments)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	/* first fragment behind hop-by-hop: ports */
	eth(&k, 0x86dd);
	ipv6(&k, 0, 1000);
	ext6(&k, 44, 0);
	frag6(&k, 17, 0, 1);
	udp(&k, 500, 4500);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.proto, 17);
	cr_assert_eq(key.src_port, 500);

	/* atomic fragment (offset 0, no MF): ports */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x86dd);
	ipv6(&k, 44, 30);
	frag6(&k, 58, 0, 0);
	icmp(&k, 1, 4);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.proto, 58);
	cr_assert_eq(key.src_port, 1);
	cr_assert_eq(key.dst_port, 4);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);

	/* non-first: no L4, protocol from the fragment header, even when
	 * that is another extension header */
	static const uint8_t nhs[] = {6, 17, 58, 60};
	for (size_t i = 0; i < sizeof(nhs); i++) {
		memset(&k, 0, sizeof(k));
		eth(&k, 0x86dd);
		ipv6(&k, 44, 30);
		frag6(&k, nhs[i], 185, 1);
		tcp(&k, 1, 2, 0x12);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.proto, nhs[i]);
		cr_assert_eq(key.src_port, 0);
		cr_assert_eq(key.dst_port, 0);
		cr_assert_eq(key.tcp_flags, 0);
		cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
		/* the offset is in bytes 2-3 of the fragment header */
		cr_assert_eq(parse_n(&k, 54 + 3, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L3);
		cr_assert_eq(parse_n(&k, 54 + 4, FC_DLT_EN10MB, &key),
			     FC_PARSE_OK);
	}
}

Test(parse, ipv6_chain_limit)
{
	struct fc_ftkey key;

	for (unsigned n = 15; n <= 17; n++) {
		struct pkt k = {0};

		eth(&k, 0x86dd);
		ipv6(&k, 60, (uint16_t)(8 * n + 8));
		for (unsigned i = 0; i < n; i++)
			ext6(&k, i + 1 < n ? 60 : 17, 0);
		udp(&k, 1, 2);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key),
			     n <= 16 ? FC_PARSE_OK : FC_PARSE_TOO_DEEP,
			     "%u headers", n);
	}
}

Test(parse, ipv6_bad_version_and_truncation)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	eth(&k, 0x86dd);
	ipv6(&k, 17, 8);
	udp(&k, 1, 2);
	k.b[14] = 0x45;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_BAD_VERSION);
	k.b[14] = 0x60;
	for (uint32_t n = 14; n < 54; n++)
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key),
			     FC_PARSE_TRUNC_L3);
	cr_assert_eq(parse_n(&k, 54, FC_DLT_EN10MB, &key), FC_PARSE_OK);
}

Test(parse, l4_fields_need_their_bytes)
{
	struct pkt k;
	struct fc_ftkey key;

	eth_v4_tcp(&k, 0x12);
	for (uint32_t n = 34; n <= k.n; n++) {
		cr_assert_eq(parse_n(&k, n, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.src_port, n >= 38 ? 443 : 0, "caplen %u", n);
		cr_assert_eq(key.dst_port, n >= 38 ? 40000 : 0);
		cr_assert_eq(key.tcp_flags, n >= 48 ? 0x12 : 0);
		cr_assert_eq(key.cls, n >= 48 ? FC_FT_CLASS_BACKSCATTER
					      : FC_FT_CLASS_OTHER);
	}

	/* ICMP: type needs 1 byte, code 2; no type byte: "other" */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x0800);
	ipv4(&k, 1, 5, 0, 28);
	icmp(&k, 3, 13);
	cr_assert_eq(parse_n(&k, 34, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	cr_assert_eq(key.src_port, 0);
	cr_assert_eq(parse_n(&k, 35, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
	cr_assert_eq(key.src_port, 3);
	cr_assert_eq(key.dst_port, 0);
	cr_assert_eq(parse_n(&k, 36, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.dst_port, 13);

	/* SCTP ports; other protocols: ports 0 whatever follows */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x0800);
	ipv4(&k, 132, 5, 0, 32);
	put32(&k, 0x0b5a0b5b);
	put32(&k, 0);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 2906);
	cr_assert_eq(key.dst_port, 2907);
	static const uint8_t others[] = {2, 4, 41, 47, 50, 89, 103, 112};
	for (size_t i = 0; i < sizeof(others); i++) {
		k.b[23] = others[i];
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.proto, others[i]);
		cr_assert_eq(key.src_port, 0);
		cr_assert_eq(key.dst_port, 0);
		cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	}
}

Test(parse, tcp_classes)
{
	struct pkt k;
	struct fc_ftkey key;

	for (unsigned f = 0; f < 256; f++) {
		int bs = (f & 0x04) || (f & 0x12) == 0x12;

		eth_v4_tcp(&k, (uint8_t)f);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.tcp_flags, f);
		cr_assert_eq(key.cls,
			     bs ? FC_FT_CLASS_BACKSCATTER : FC_FT_CLASS_OTHER,
			     "flags %#x", f);
	}
	/* same rule over IPv6 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x86dd);
	ipv6(&k, 6, 20);
	tcp(&k, 1, 2, 0x14);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
	k.b[54 + 13] = 0x02;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
}

Test(parse, icmp_classes)
{
	struct fc_ftkey key;

	for (unsigned t = 0; t < 256; t++) {
		int bs4 = t == 0 || t == 3 || t == 4 || t == 5 || t == 11 ||
			  t == 12 || t == 14 || t == 16 || t == 18;
		int bs6 = (t >= 1 && t <= 4) || t == 129;
		struct pkt k4 = {0}, k6 = {0};

		eth(&k4, 0x0800);
		ipv4(&k4, 1, 5, 0, 28);
		icmp(&k4, (uint8_t)t, 7);
		cr_assert_eq(parse(&k4, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.src_port, t);
		cr_assert_eq(key.dst_port, 7);
		cr_assert_eq(key.cls,
			     bs4 ? FC_FT_CLASS_BACKSCATTER : FC_FT_CLASS_ICMPREQ,
			     "icmp type %u", t);

		eth(&k6, 0x86dd);
		ipv6(&k6, 58, 8);
		icmp(&k6, (uint8_t)t, 9);
		cr_assert_eq(parse(&k6, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		cr_assert_eq(key.src_port, t);
		cr_assert_eq(key.dst_port, 9);
		cr_assert_eq(key.cls,
			     bs6 ? FC_FT_CLASS_BACKSCATTER : FC_FT_CLASS_ICMPREQ,
			     "icmpv6 type %u", t);
	}
}

/*
 * Truncation sweep: every caplen from 0 to the full frame. Below the IP
 * header the status is trunc_l2, inside it trunc_l3, then OK with the L3
 * fields of the full frame and the L4 fields present or 0.
 */
static void sweep(const struct pkt *k, uint32_t dlt, uint32_t l3off,
		  uint32_t l3len, uint32_t l4off, uint32_t portlen)
{
	struct fc_ftkey full, key;

	cr_assert_eq(parse(k, dlt, &full), FC_PARSE_OK);
	for (uint32_t n = 0; n <= k->n; n++) {
		enum fc_parse_status st = parse_n(k, n, dlt, &key);

		if (n < l3off) {
			cr_assert_eq(st, FC_PARSE_TRUNC_L2, "caplen %u", n);
			continue;
		}
		if (n < l3off + l3len) {
			cr_assert_eq(st, FC_PARSE_TRUNC_L3, "caplen %u", n);
			continue;
		}
		cr_assert_eq(st, FC_PARSE_OK, "caplen %u", n);
		cr_assert_arr_eq(key.src_ip, full.src_ip, 16);
		cr_assert_arr_eq(key.dst_ip, full.dst_ip, 16);
		cr_assert_eq(key.proto, full.proto);
		cr_assert_eq(key.ttl, full.ttl);
		cr_assert_eq(key.ip_len, full.ip_len);
		cr_assert_eq(key.src_port, n >= l4off + portlen ? full.src_port : 0,
			     "caplen %u", n);
		if (n == k->n)
			cr_assert(fc_ftkey_eq(&key, &full));
	}
}

Test(parse, truncation_at_every_byte)
{
	struct pkt k = {0};

	/* QinQ, IPv4 with options, TCP */
	eth(&k, 0x88a8);
	tag(&k, 1, 0x8100);
	tag(&k, 2, 0x0800);
	ipv4(&k, 6, 7, 0, 48);
	tcp(&k, 1, 2, 0x12);
	sweep(&k, FC_DLT_EN10MB, 22, 28, 50, 4);

	/* IPv6, hop-by-hop, fragment (first), UDP */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x86dd);
	ipv6(&k, 0, 24);
	ext6(&k, 44, 0);
	frag6(&k, 17, 0, 1);
	udp(&k, 3, 4);
	sweep(&k, FC_DLT_EN10MB, 14, 40 + 8 + 4, 14 + 56, 4);

	/* MPLS pseudowire with control word */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8847);
	mpls(&k, 1, 0);
	mpls(&k, 2, 1);
	put32(&k, 0);
	eth(&k, 0x0800);
	ipv4(&k, 17, 5, 0, 28);
	udp(&k, 5, 6);
	sweep(&k, FC_DLT_EN10MB, 40, 20, 60, 4);

	/* MPLS pseudowire without control word, IPv6 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8847);
	mpls(&k, 3, 1);
	put8(&k, 0xcc);
	zeros(&k, 11);
	put16(&k, 0x86dd);
	ipv6(&k, 6, 20);
	tcp(&k, 7, 8, 0x10);
	sweep(&k, FC_DLT_EN10MB, 32, 40, 72, 4);

	/* PPPoE, IPv6, ICMPv6 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8864);
	put16(&k, 0x1100);
	put16(&k, 1);
	put16(&k, 50);
	put16(&k, 0x0057);
	ipv6(&k, 58, 8);
	icmp(&k, 128, 0);
	sweep(&k, FC_DLT_EN10MB, 22, 40, 62, 1);

	/* PPP with address/control */
	memset(&k, 0, sizeof(k));
	put16(&k, 0xff03);
	put16(&k, 0x0021);
	ipv4(&k, 6, 5, 0, 40);
	tcp(&k, 7, 8, 0x04);
	sweep(&k, FC_DLT_PPP, 4, 20, 24, 4);

	/* SLL2 and NULL */
	memset(&k, 0, sizeof(k));
	put16(&k, 0x86dd);
	zeros(&k, 18);
	ipv6(&k, 6, 20);
	tcp(&k, 9, 10, 0x02);
	sweep(&k, FC_DLT_LINUX_SLL2, 20, 40, 60, 4);
	memset(&k, 0, sizeof(k));
	put32(&k, 0x1e000000);
	ipv6(&k, 17, 8);
	udp(&k, 11, 12);
	sweep(&k, FC_DLT_NULL, 4, 40, 44, 4);

	/* FabricPath and NSH */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8903);
	put16(&k, 0);
	eth(&k, 0x0800);
	ipv4(&k, 17, 5, 0, 28);
	udp(&k, 13, 14);
	sweep(&k, FC_DLT_EN10MB, 30, 20, 50, 4);
	memset(&k, 0, sizeof(k));
	eth(&k, 0x894f);
	put32(&k, 0x00020102); /* 2 words, MD type 2, IPv6 */
	put32(&k, 0);
	ipv6(&k, 17, 8);
	udp(&k, 15, 16);
	sweep(&k, FC_DLT_EN10MB, 22, 40, 62, 4);

	/* raw IPv4 */
	memset(&k, 0, sizeof(k));
	ipv4(&k, 17, 5, 0, 28);
	udp(&k, 17, 18);
	for (uint32_t n = 0; n < 20; n++) {
		struct fc_ftkey key;

		cr_assert_eq(parse_n(&k, n, FC_DLT_RAW, &key),
			     FC_PARSE_TRUNC_L3);
	}
}

/*
 * Every packet of the edge-case captures (malformed, fuzzed, truncated,
 * tunnels, odd link types): a valid status, a sane key, no overread.
 */
Test(parse, edge_captures_parse_safely)
{
	static const char *const names[] = {
		"malformed-fuzz-2020.pcap", "malformed-fuzz-bigendian.pcap",
		"malformed-ndpi-badpackets.pcap", "mpls-6in6-broken.pcap",
		"ipv4frag-garbage.pcap", "ipv6frag-malformed-overlap.pcap",
		"linktype-null-loopback.pcap", "linktype-sll2.pcap",
		"linktype-ppp-ipv4-frag.pcap", "linktype-raw-101-mixed.pcap",
		"l2-cisco-fabricpath.pcap", "trunc-snaplen1.pcap",
	};
	char err[PCAP_ERRBUF_SIZE];
	unsigned long total = 0, ok = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512];
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_t *pc;

		snprintf(path, sizeof(path), "%s/pcaps/edge/%s", FC_SHARED,
			 names[i]);
		pc = pcap_open_offline(path, err);
		/* The reference captures are part of the suite: missing,
		 * they fail it (a skip would pass unseen). */
		cr_assert_not_null(pc, "%s: %s (the reference captures: FC_SHARED)",
				   path, err);
		uint32_t dlt = (uint32_t)pcap_datalink(pc);

		while (pcap_next_ex(pc, &h, &d) == 1) {
			struct pkt *k = malloc(sizeof(*k));
			struct fc_ftkey key;
			uint32_t n = h->caplen;

			cr_assert_not_null(k);
			if (n > sizeof(k->b))
				n = sizeof(k->b);
			memcpy(k->b, d, n);
			k->n = n;
			if (parse(k, dlt, &key) == FC_PARSE_OK)
				ok++;
			total++;
			free(k);
		}
		pcap_close(pc);
	}
	cr_assert_gt(total, 3000);
	cr_assert_gt(ok, total / 2);
}

Test(parse, padding_past_the_ip_payload_is_not_l4)
{
	struct pkt k = {0};
	struct fc_ftkey key;

	/* IPv4 total length 20: no L4 header, though the frame's padding
	 * holds bytes that look like one. */
	eth(&k, 0x0800);
	ipv4(&k, 6, 5, 0, 20);
	tcp(&k, 1, 2, 0x12);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 0);
	cr_assert_eq(key.tcp_flags, 0);
	cr_assert_eq(key.cls, FC_FT_CLASS_OTHER);
	/* Total length covering ports but not the flags byte. */
	k.b[17] = 24;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 1);
	cr_assert_eq(key.dst_port, 2);
	cr_assert_eq(key.tcp_flags, 0);

	/* IPv6 payload length 0 with a UDP header in the padding; a
	 * payload length of 8 makes it real. 0 means jumbogram/TSO, so
	 * use a payload length that ends before the header instead. */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x86dd);
	ipv6(&k, 17, 2);
	udp(&k, 53, 5353);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 0);
	cr_assert_eq(key.ip_len, 42);
	k.b[14 + 5] = 8;
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.src_port, 53);
	cr_assert_eq(key.dst_port, 5353);
}

/*
 * The compact IPv4 fast path against the full walk, on every packet of the
 * real and edge captures that are Ethernet: where it accepts a frame, its
 * words and hash equal fc_ftkey4_make of the full walk's key; it accepts
 * most IPv4 TCP, UDP and ICMP frames and never anything else.
 */
static void fast4_check_file(const char *path, uint64_t *acc, uint64_t *tot,
			     uint64_t *icmp)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0;

	if (pc == NULL)
		return; /* pcapng with several link types and the like */
	if (pcap_datalink(pc) != DLT_EN10MB) {
		pcap_close(pc);
		return;
	}
	while (pcap_next_ex(pc, &h, &d) == 1) {
		struct fc_ftkey k;
		struct fc_ftkey4 c, ref;
		enum fc_parse_status st =
			fc_parse_pkt_full(d, h->caplen, FC_DLT_EN10MB, &k);

		n++;
		(*tot)++;
		memset(&c, 0xa5, sizeof(c));
		if (fc_parse_fast4(d, h->caplen, &c) != 0)
			continue;
		(*acc)++;
		cr_assert_eq(st, FC_PARSE_OK, "%s packet %llu", path,
			     (unsigned long long)n);
		cr_assert(fc_ftkey_is_compact(&k), "%s packet %llu", path,
			  (unsigned long long)n);
		fc_ftkey4_make(&ref, &k);
		cr_assert_eq(memcmp(&c, &ref, sizeof(c)), 0,
			     "%s packet %llu: fast4 %016llx %016llx %016llx, "
			     "full walk %016llx %016llx %016llx",
			     path, (unsigned long long)n,
			     (unsigned long long)c.w[0], (unsigned long long)c.w[1],
			     (unsigned long long)c.w[2],
			     (unsigned long long)ref.w[0],
			     (unsigned long long)ref.w[1],
			     (unsigned long long)ref.w[2]);
		if (k.proto == 1)
			(*icmp)++;
		/* fc_parse_fast4_pl: the same key, and pl nonzero exactly
		 * when the total length leaves room for payload after the
		 * L4 header; when it is 0, no payload byte was captured
		 * (--classify skips such a frame without the walk). */
		struct fc_ftkey4 c2;
		struct fc_parse_loc loc;
		struct fc_ftkey k2;
		uint32_t pl = 7, hl;

		cr_assert_eq(fc_parse_fast4_pl(d, h->caplen, &c2, &pl), 0);
		cr_assert_eq(memcmp(&c, &c2, sizeof(c)), 0);
		cr_assert_eq(fc_parse_pkt_loc(d, h->caplen, FC_DLT_EN10MB, &k2,
					      &loc),
			     FC_PARSE_OK);
		cr_assert(loc.l4 != NULL && (k.proto != 6 || loc.l4len >= 13));
		hl = k.proto == 6 ? (uint32_t)(loc.l4[12] >> 4) * 4 : 8;
		cr_assert_eq(pl != 0, k.ip_len > 20 + hl,
			     "%s packet %llu: pl %u, ip_len %u, L4 header %u",
			     path, (unsigned long long)n, pl, k.ip_len, hl);
		if (pl == 0)
			cr_assert_leq(loc.l4len, hl, "%s packet %llu", path,
				      (unsigned long long)n);
	}
	pcap_close(pc);
}

static void fast4_check_dir(const char *dir, uint64_t *acc, uint64_t *tot,
			    uint64_t *icmp)
{
	DIR *dh = opendir(dir);
	struct dirent *e;

	cr_assert_not_null(dh, "%s: %s", dir, strerror(errno));
	while ((e = readdir(dh)) != NULL) {
		char path[4096];
		size_t l = strlen(e->d_name);

		if (l < 5 || (strcmp(e->d_name + l - 5, ".pcap") != 0 &&
			      (l < 7 || strcmp(e->d_name + l - 7, ".pcapng") != 0)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fast4_check_file(path, acc, tot, icmp);
	}
	closedir(dh);
}

Test(parse, fast4_equals_full_walk_on_every_capture, .timeout = 300)
{
	uint64_t acc = 0, tot = 0, icmp = 0;

	fast4_check_dir(FC_SHARED "/pcaps/real", &acc, &tot, &icmp);
	fast4_check_dir(FC_SHARED "/pcaps/edge", &acc, &tot, &icmp);
	cr_assert_gt(tot, 100000, "%llu frames", (unsigned long long)tot);
	cr_assert_gt(acc, tot / 3, "fast4 took %llu of %llu",
		     (unsigned long long)acc, (unsigned long long)tot);
	cr_assert_gt(icmp, 0, "no ICMP frame took fast4");
}

/* Frames built here: each way out of the compact fast path declines, and
 * each accepted protocol gives the full walk's key. */
Test(parse, fast4_declines_what_it_must)
{
	struct pkt k;
	struct fc_ftkey key;
	struct fc_ftkey4 c, ref;

	/* TCP SYN+ACK, tagged: accepted, backscatter, flags kept */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x8100);
	tag(&k, 7, 0x0800);
	ipv4(&k, 6, 5, 0, 40);
	tcp(&k, 1234, 80, 0x12);
	cr_assert_eq(fc_parse_fast4(k.b, k.n, &c), 0);
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	fc_ftkey4_make(&ref, &key);
	cr_assert_eq(memcmp(&c, &ref, sizeof(c)), 0);
	cr_assert_eq(key.cls, FC_FT_CLASS_BACKSCATTER);
	cr_assert_eq(key.tcp_flags, 0x12);
	/* ... but not with the capture cut before the flags byte */
	cr_assert_neq(fc_parse_fast4(k.b, k.n - 7, &c), 0);

	/* ICMP echo request (icmpreq) and port unreachable (backscatter) */
	for (unsigned t = 0; t < 2; t++) {
		memset(&k, 0, sizeof(k));
		eth(&k, 0x0800);
		ipv4(&k, 1, 5, 0, 28);
		icmp(&k, t ? 3 : 8, t ? 3 : 0);
		cr_assert_eq(fc_parse_fast4(k.b, k.n, &c), 0);
		cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
		fc_ftkey4_make(&ref, &key);
		cr_assert_eq(memcmp(&c, &ref, sizeof(c)), 0);
		cr_assert_eq(key.cls, t ? FC_FT_CLASS_BACKSCATTER :
					  FC_FT_CLASS_ICMPREQ);
		cr_assert_eq(key.src_port, t ? 3 : 8);
	}

	/* IPv4 declined: IP options, a non-first fragment, SCTP, total
	 * length 0 (TSO); taken: the same UDP frame without the fault. */
	static const struct {
		uint8_t proto;
		unsigned ihl;
		uint16_t frag, tot;
		int taken;
	} v4[] = {
		{6, 6, 0, 44, 0},   {17, 5, 1, 28, 0}, {132, 5, 0, 28, 0},
		{17, 5, 0, 0, 0},   {17, 5, 0, 28, 1},
	};

	for (unsigned i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		memset(&k, 0, sizeof(k));
		eth(&k, 0x0800);
		ipv4(&k, v4[i].proto, v4[i].ihl, v4[i].frag, v4[i].tot);
		if (v4[i].proto == 6)
			tcp(&k, 443, 40000, 0x02);
		else
			udp(&k, 53, 53);
		cr_assert_eq(fc_parse_fast4(k.b, k.n, &c) == 0, v4[i].taken,
			     "case %u", i);
	}
	/* declined: IPv6 */
	memset(&k, 0, sizeof(k));
	eth(&k, 0x86dd);
	ipv6(&k, 17, 8);
	udp(&k, 53, 5353);
	cr_assert_neq(fc_parse_fast4(k.b, k.n, &c), 0);
}

/* The inline fast path must give exactly what the full walk gives, on
 * every packet of real traces (where most packets take the fast path). */
Test(parse, fast_path_equals_full_walk_on_real_traces)
{
	static const char *traces[] = {
		FC_SHARED "/pcaps/real/tcpreplay-test-mix.pcap",
		FC_SHARED "/pcaps/real/many-protocols-vlan-ipv6-llc.pcap",
		FC_SHARED "/pcaps/real/smb-file-transfer-all-vlan.pcap",
		FC_SHARED "/pcaps/real/synflood-spoofed-many-flows.pcap",
		FC_SHARED "/pcaps/real/1kxun-app-mix.pcap",
	};
	uint64_t fast = 0, total = 0;

	for (unsigned i = 0; i < sizeof(traces) / sizeof(traces[0]); i++) {
		char err[PCAP_ERRBUF_SIZE];
		pcap_t *pc = pcap_open_offline(traces[i], err);
		struct pcap_pkthdr *h;
		const u_char *d;

		cr_assert_not_null(pc, "%s", err);
		while (pcap_next_ex(pc, &h, &d) == 1) {
			struct fc_ftkey a, b;
			enum fc_parse_status sa, sb;

			memset(&a, 0x5a, sizeof(a));
			sa = fc_parse_pkt(d, h->caplen, FC_DLT_EN10MB, &a);
			sb = fc_parse_pkt_full(d, h->caplen, FC_DLT_EN10MB, &b);
			cr_assert_eq(sa, sb);
			if (sa == FC_PARSE_OK)
				cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0,
					     "%s packet %llu", traces[i],
					     (unsigned long long)total);
			if (fc_parse_fast(d, h->caplen, &a) == 0)
				fast++;
			total++;
		}
		pcap_close(pc);
	}
	/* most of these packets are plain TCP/UDP over IP */
	cr_assert_gt(fast, total / 2, "fast path taken for %llu of %llu",
		     (unsigned long long)fast, (unsigned long long)total);
}

/* ---- tunnels (fc_parse_pkt_decap) --------------------------------------- */

/* Decap of an exact-size heap copy of the first caplen bytes. */
static enum fc_parse_status decap_n(const struct pkt *k, uint32_t caplen,
				    struct fc_ftkey *key)
{
	uint8_t *c = malloc(caplen ? caplen : 1);
	enum fc_parse_status st;

	cr_assert_not_null(c);
	memcpy(c, k->b, caplen);
	memset(key, 0xa5, sizeof(*key));
	st = fc_parse_pkt_decap(c, caplen, FC_DLT_EN10MB, key);
	free(c);
	cr_assert_lt((unsigned)st, FC_PARSE_STATUS_COUNT);
	return st;
}

/* Ethernet / IPv4 (outer, proto 47) / GRE with checksum, key and sequence
 * number / IPv6 / UDP 5353 -> 53. */
static void gre_ks_v6_udp(struct pkt *k)
{
	k->n = 0;
	eth(k, 0x0800);
	ipv4(k, 47, 5, 0, 20 + 16 + 40 + 8);
	put16(k, 0xb000);
	put16(k, 0x86dd);
	put32(k, 0);          /* checksum, reserved */
	put32(k, 0x01020304); /* key */
	put32(k, 7);          /* sequence */
	ipv6(k, 17, 8);
	udp(k, 5353, 53);
}

Test(decap, gre_with_key_and_sequence_gives_the_inner_header)
{
	struct pkt k;
	struct fc_ftkey key;

	gre_ks_v6_udp(&k);
	cr_assert_eq(decap_n(&k, k.n, &key), FC_PARSE_OK);
	cr_assert_eq(key.family, 6);
	cr_assert_eq(key.proto, 17);
	cr_assert_eq(key.src_port, 5353);
	cr_assert_eq(key.dst_port, 53);
	cr_assert_eq(key.ttl, 63);
	cr_assert_eq(key.ip_len, 48);
	cr_assert_eq(memcmp(key.src_ip, v6_src, 16), 0);
	/* the flag on the link type is the same walk (the worker's way) */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB | FC_PARSE_DECAP, &key),
		     FC_PARSE_OK);
	cr_assert_eq(key.family, 6);
	/* without --decap: the outer header */
	cr_assert_eq(parse(&k, FC_DLT_EN10MB, &key), FC_PARSE_OK);
	cr_assert_eq(key.family, 4);
	cr_assert_eq(key.proto, 47);
}

Test(decap, cut_anywhere_gives_the_outer_key_or_its_reason)
{
	struct pkt k;
	struct fc_ftkey key, outer;

	gre_ks_v6_udp(&k);
	/* Every cut before the inner IPv6 header is whole: the tunnel
	 * cannot be opened, and the key is the outer one, as without
	 * --decap; from there on the inner header is the key. */
	for (uint32_t n = 0; n <= k.n; n++) {
		enum fc_parse_status s1 = parse_n(&k, n, FC_DLT_EN10MB, &outer);
		enum fc_parse_status s2 = decap_n(&k, n, &key);

		if (n < 14 + 20 + 16 + 40) {
			cr_assert_eq(s2, s1, "cut at %u", n);
			if (s1 == FC_PARSE_OK)
				cr_assert(fc_ftkey_eq(&key, &outer),
					  "cut at %u", n);
		} else {
			cr_assert_eq(s2, FC_PARSE_OK, "cut at %u", n);
			cr_assert_eq(key.family, 6, "cut at %u", n);
		}
	}
}

/* IPv4 in IPv4 d times around an ICMP echo. */
static void ipip_nested(struct pkt *k, unsigned d)
{
	k->n = 0;
	eth(k, 0x0800);
	for (unsigned i = 0; i < d; i++)
		ipv4(k, 4, 5, 0, (uint16_t)(20 * (d - i + 1) + 8));
	ipv4(k, 1, 5, 0, 28);
	icmp(k, 8, 0);
}

Test(decap, nested_deeper_than_the_bound_is_tunnel_deep)
{
	struct pkt k;
	struct fc_ftkey key;

	ipip_nested(&k, FC_PARSE_MAX_TUNNELS);
	cr_assert_eq(decap_n(&k, k.n, &key), FC_PARSE_OK);
	cr_assert_eq(key.proto, 1);
	ipip_nested(&k, FC_PARSE_MAX_TUNNELS + 1);
	cr_assert_eq(decap_n(&k, k.n, &key), FC_PARSE_TUNNEL_DEEP);
	cr_assert_str_eq(fc_parse_status_name(FC_PARSE_TUNNEL_DEEP),
			 "tunnel_deep");
}

Test(decap, fragment_and_pptp_gre_are_not_opened)
{
	struct pkt k;
	struct fc_ftkey key;

	/* IPv4 with MF set carrying IP in IP: stays outer */
	k.n = 0;
	eth(&k, 0x0800);
	ipv4(&k, 4, 5, 0x2000, 20 + 28);
	ipv4(&k, 1, 5, 0, 28);
	icmp(&k, 8, 0);
	cr_assert_eq(decap_n(&k, k.n, &key), FC_PARSE_OK);
	cr_assert_eq(key.proto, 4);
	/* GRE version 1 (PPTP): stays outer */
	k.n = 0;
	eth(&k, 0x0800);
	ipv4(&k, 47, 5, 0, 20 + 8 + 28);
	put16(&k, 0x3081);
	put16(&k, 0x880b);
	put32(&k, 0);
	ipv4(&k, 1, 5, 0, 28);
	icmp(&k, 8, 0);
	cr_assert_eq(decap_n(&k, k.n, &key), FC_PARSE_OK);
	cr_assert_eq(key.proto, 47);
}

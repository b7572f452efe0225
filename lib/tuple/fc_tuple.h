/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flowtuple key: what one aggregate row is keyed on (Corsaro's flowtuple
 * extended to IPv6), its traffic class, the canonical sort order, the hashes
 * used by the flow table and by symmetric sharding, and text formatting of
 * the fields. It does not parse packets (see parse) nor store them (see
 * flowtable).
 */
#ifndef FC_TUPLE_H
#define FC_TUPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fc_common.h"

/** Traffic classes, in the order Corsaro prints them. */
enum fc_ft_class {
	FC_FT_CLASS_BACKSCATTER = 0, /**< TCP SYN+ACK or RST; ICMP errors/replies */
	FC_FT_CLASS_ICMPREQ = 1,     /**< any other ICMP / ICMPv6 message */
	FC_FT_CLASS_OTHER = 2,       /**< everything else */
	FC_FT_CLASS_COUNT
};

/**
 * One flowtuple key, 48 bytes, fixed layout, all padding zero so that keys
 * compare and hash as plain bytes.
 *
 * Addresses are in network byte order. An IPv4 address occupies the first
 * four bytes of its 16-byte field and the other twelve are zero. Ports and
 * lengths are host byte order. ICMP/ICMPv6 type and code are stored in
 * src_port and dst_port. ip_len is the IPv4 total length, or the IPv6
 * payload length + 40 (hence 32 bits). cls is derived from the packet by the
 * parser; it is part of the identity because two packets with equal visible
 * fields can belong to different classes (an ICMP echo reply and a non-first
 * ICMP fragment).
 */
struct fc_ftkey {
	uint8_t src_ip[16];
	uint8_t dst_ip[16];
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t ip_len;
	uint8_t proto;
	uint8_t ttl;
	uint8_t tcp_flags;
	uint8_t family; /**< 4 or 6 */
	uint8_t cls;    /**< enum fc_ft_class */
	uint8_t pad[3]; /**< always zero */
};

_Static_assert(sizeof(struct fc_ftkey) == 48, "fc_ftkey must stay 48 bytes");

/** One aggregate row: a key and its packet count. */
struct fc_ft_record {
	struct fc_ftkey key;
	uint64_t packets;
};

/** Return the name of a class: "backscatter", "icmpreq", "other". */
const char *fc_ft_class_name(unsigned cls);

/** Parse a class name; return the class or -1. */
int fc_ft_class_from_name(const char *name);

/** Byte-wise key equality. Hot path. */
static inline uint64_t fc_ftkey_word(const struct fc_ftkey *k, int i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)k + 8 * i, 8); /* one load */
	return w;
}

static inline bool fc_ftkey_eq(const struct fc_ftkey *a,
			       const struct fc_ftkey *b)
{
	/* Six 8-byte compares folded into one branch. */
	return ((fc_ftkey_word(a, 0) ^ fc_ftkey_word(b, 0)) |
		(fc_ftkey_word(a, 1) ^ fc_ftkey_word(b, 1)) |
		(fc_ftkey_word(a, 2) ^ fc_ftkey_word(b, 2)) |
		(fc_ftkey_word(a, 3) ^ fc_ftkey_word(b, 3)) |
		(fc_ftkey_word(a, 4) ^ fc_ftkey_word(b, 4)) |
		(fc_ftkey_word(a, 5) ^ fc_ftkey_word(b, 5))) == 0;
}

/**
 * Canonical order of records in files: class, family, src, dst, src port,
 * dst port, protocol, ttl, tcp flags, ip length. Returns <0, 0, >0.
 */
int fc_ftkey_cmp(const struct fc_ftkey *a, const struct fc_ftkey *b);

/* Portable fallback of fc_ftkey_hash (no SSE4.2). */
uint64_t fc_ftkey_hash_sw(const struct fc_ftkey *k);

/**
 * Hash of the whole key, for the flow table (32 significant bits with
 * SSE4.2's CRC32C, 64 otherwise): one CRC32C chain over the six words, so
 * every bit of the key reaches the low bits the table indexes with; the
 * chain's latency overlaps across the keys of a burst. Hot path. Not
 * stable across versions: never store it.
 */
static inline uint64_t fc_ftkey_hash(const struct fc_ftkey *k)
{
#if defined(__SSE4_2__) && defined(__x86_64__)
	uint64_t c = 0x243f6a88;

	c = __builtin_ia32_crc32di(c, fc_ftkey_word(k, 0));
	c = __builtin_ia32_crc32di(c, fc_ftkey_word(k, 1));
	c = __builtin_ia32_crc32di(c, fc_ftkey_word(k, 2));
	c = __builtin_ia32_crc32di(c, fc_ftkey_word(k, 3));
	c = __builtin_ia32_crc32di(c, fc_ftkey_word(k, 4));
	c = __builtin_ia32_crc32di(c, fc_ftkey_word(k, 5));
	return c;
#else
	return fc_ftkey_hash_sw(k);
#endif
}

/**
 * Symmetric 32-bit hash of (addresses, ports, protocol): both directions of
 * a conversation hash alike. Used to shard trace packets over workers, the
 * software counterpart of symmetric RSS.
 */
uint32_t fc_ftkey_hash_sym(const struct fc_ftkey *k);

/** Longest text of an address (INET6_ADDRSTRLEN) plus NUL. */
#define FC_IP_STRLEN 46

/**
 * Format an address of the given family into buf (IPv4 dotted quad, IPv6
 * RFC 5952 text). Returns buf.
 */
char *fc_ip_format(char *buf, size_t len, unsigned family, const uint8_t *ip);

/**
 * Parse IPv4 or IPv6 text into a 16-byte field (layout as in fc_ftkey).
 * Returns the family (4 or 6) or -1.
 */
int fc_ip_parse(const char *s, uint8_t ip[16]);

#endif /* FC_TUPLE_H */

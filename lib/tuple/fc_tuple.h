/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flowtuple key: what one aggregate row is keyed on (Corsaro's flowtuple
 * extended to IPv6), its traffic class, the canonical sort order, the hashes
 * used by the flow table and by symmetric sharding, and text formatting of
 * the fields. It does not parse packets (see parse) nor store them (see
 * flowtable).
 *
 * Thread safety: every function is pure (no state, constant tables):
 * any thread, any number at once.
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
	/** Optional key fields, zero unless asked for: the payload label id
	 *  (--classify, 12 bits) and the outermost VLAN ID (--key-vlan, 12
	 *  bits), little-endian in 24 bits: label | vlan << 12. Use
	 *  fc_ftkey_label/fc_ftkey_vlan/fc_ftkey_set_ext. */
	uint8_t ext[3];
};

_Static_assert(sizeof(struct fc_ftkey) == 48, "fc_ftkey must stay 48 bytes");

/** Largest label id and VLAN ID the key holds. */
#define FC_FTKEY_LABEL_MAX 4095
#define FC_FTKEY_VLAN_MAX 4095

/**
 * The optional key fields (see fc_ftkey.ext): label id, VLAN ID.
 * Thread safety: any thread; pure functions.
 */
static inline uint32_t fc_ftkey_ext(const struct fc_ftkey *k)
{
	return k->ext[0] | (uint32_t)k->ext[1] << 8 | (uint32_t)k->ext[2] << 16;
}

static inline unsigned fc_ftkey_label(const struct fc_ftkey *k)
{
	return fc_ftkey_ext(k) & 0xfff;
}

static inline unsigned fc_ftkey_vlan(const struct fc_ftkey *k)
{
	return fc_ftkey_ext(k) >> 12;
}

static inline void fc_ftkey_set_ext(struct fc_ftkey *k, unsigned label,
				    unsigned vlan)
{
	uint32_t e = (label & 0xfff) | (vlan & 0xfff) << 12;

	k->ext[0] = (uint8_t)e;
	k->ext[1] = (uint8_t)(e >> 8);
	k->ext[2] = (uint8_t)(e >> 16);
}

/** One aggregate row: a key and its packet count. */
struct fc_ft_record {
	struct fc_ftkey key;
	uint64_t packets;
};

/**
 * Return the name of a class: "backscatter", "icmpreq", "other".
 * Thread safety: any thread; pure function.
 */
const char *fc_ft_class_name(unsigned cls);

/**
 * Parse a class name; return the class or -1.
 * Thread safety: any thread; pure function.
 */
int fc_ft_class_from_name(const char *name);

/**
 * Byte-wise key equality (fc_ftkey_eq) and its word loads. Hot path.
 * Thread safety: any thread; pure function.
 */
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
 * dst port, protocol, ttl, tcp flags, ip length, label, VLAN. Returns <0,
 * 0, >0.
 * Thread safety: any thread; pure function.
 */
int fc_ftkey_cmp(const struct fc_ftkey *a, const struct fc_ftkey *b);

/* Portable fallback of fc_ftkey_hash (no SSE4.2).
 * Thread safety: any thread; pure function. */
uint64_t fc_ftkey_hash_sw(const struct fc_ftkey *k);

/**
 * Hash of the whole key, for the flow table (32 significant bits with
 * SSE4.2's CRC32C, 64 otherwise): one CRC32C chain over the six words, so
 * every bit of the key reaches the low bits the table indexes with; the
 * chain's latency overlaps across the keys of a burst. Hot path. Not
 * stable across versions: never store it.
 * Thread safety: any thread; pure function.
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

/* --- the compact IPv4 form ---------------------------------------------- */

/**
 * An IPv4 key in three words, exact (an IPv4 key has 4-byte addresses and
 * a 16-bit total length), and a hash of them. The flow table stores the
 * words; the parser's IPv4 fast path produces them directly.
 *
 *   w[0]: src address (bits 0-31), dst address (32-63), each the 4 bytes
 *         of fc_ftkey (network order) read as a host-order uint32_t
 *   w[1]: src_port (0-15), dst_port (16-31), ip_len (32-63, < 2^16)
 *   w[2]: proto (0-7), ttl (8-15), tcp_flags (16-23), family (24-31,
 *         always 4), cls (32-39), the optional fields (40-63: label id
 *         40-51, VLAN ID 52-63; zero unless asked for)
 *
 * (w[1] and w[2] are fc_ftkey's bytes 32-47 on a little-endian host.)
 */
struct fc_ftkey4 {
	uint64_t w[3];
	uint64_t hash; /**< fc_ftkey4_hash of w; its user may reuse it */
};

/**
 * True when the key has a compact form.
 * Thread safety: any thread; pure function.
 */
static inline bool fc_ftkey_is_compact(const struct fc_ftkey *k)
{
	/* & rather than &&: one branch, not two. */
	return (k->family == 4) & (k->ip_len <= 0xffff);
}

/**
 * Hash of the compact words: three CRC32C steps (six over a full
 * fc_ftkey); 32 significant bits. Hot path. Not stable across versions:
 * never store it.
 * Thread safety: any thread; pure function.
 */
static inline uint64_t fc_ftkey4_hash(uint64_t w0, uint64_t w1, uint64_t w2)
{
#if defined(__SSE4_2__) && defined(__x86_64__)
	return __builtin_ia32_crc32di(
		__builtin_ia32_crc32di(__builtin_ia32_crc32di(0x243f6a88, w0),
				       w1),
		w2);
#else
	uint64_t h = w0 * 0x9e3779b97f4a7c15ULL;

	h = (h ^ w1 ^ (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ w2 ^ (h >> 32)) * 0x94d049bb133111ebULL;
	return (h ^ (h >> 31)) >> 32;
#endif
}

/**
 * Compact form of a key that fc_ftkey_is_compact, with its hash.
 * Thread safety: any thread; pure function (writes only c).
 */
static inline void fc_ftkey4_make(struct fc_ftkey4 *c,
				  const struct fc_ftkey *k)
{
	uint64_t w0, w1, w2;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	w0 = (fc_ftkey_word(k, 0) & 0xffffffffu) | fc_ftkey_word(k, 2) << 32;
	w1 = fc_ftkey_word(k, 4);
	w2 = fc_ftkey_word(k, 5);
#else
	uint32_t src, dst;

	memcpy(&src, k->src_ip, 4);
	memcpy(&dst, k->dst_ip, 4);
	w0 = src | (uint64_t)dst << 32;
	w1 = k->src_port | (uint64_t)k->dst_port << 16 |
	     (uint64_t)k->ip_len << 32;
	w2 = k->proto | (uint64_t)k->ttl << 8 | (uint64_t)k->tcp_flags << 16 |
	     (uint64_t)k->family << 24 | (uint64_t)k->cls << 32 |
	     (uint64_t)fc_ftkey_ext(k) << 40;
#endif
	c->w[0] = w0;
	c->w[1] = w1;
	c->w[2] = w2;
	c->hash = fc_ftkey4_hash(w0, w1, w2);
}

/**
 * Expand the words of a compact key back to the fc_ftkey.
 * Thread safety: any thread; pure function (writes only k).
 */
static inline void fc_ftkey4_expand(struct fc_ftkey *k, const uint64_t w[3])
{
	uint32_t src = (uint32_t)w[0], dst = (uint32_t)(w[0] >> 32);

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The inverse of fc_ftkey4_make's words: six stores, each of a
	 * register (an array of the six words went through the stack, and
	 * its 16-byte reloads of two 8-byte stores could not be forwarded:
	 * two thirds of the merge's record making). */
	uint64_t s64 = src, d64 = dst, zero = 0;
	uint8_t *p = (uint8_t *)k;

	memcpy(p, &s64, 8);
	memcpy(p + 8, &zero, 8);
	memcpy(p + 16, &d64, 8);
	memcpy(p + 24, &zero, 8);
	memcpy(p + 32, &w[1], 8);
	memcpy(p + 40, &w[2], 8);
#else
	memset(k, 0, sizeof(*k));
	memcpy(k->src_ip, &src, 4);
	memcpy(k->dst_ip, &dst, 4);
	k->src_port = (uint16_t)w[1];
	k->dst_port = (uint16_t)(w[1] >> 16);
	k->ip_len = (uint32_t)(w[1] >> 32);
	k->proto = (uint8_t)w[2];
	k->ttl = (uint8_t)(w[2] >> 8);
	k->tcp_flags = (uint8_t)(w[2] >> 16);
	k->family = (uint8_t)(w[2] >> 24);
	k->cls = (uint8_t)(w[2] >> 32);
	k->ext[0] = (uint8_t)(w[2] >> 40);
	k->ext[1] = (uint8_t)(w[2] >> 48);
	k->ext[2] = (uint8_t)(w[2] >> 56);
#endif
}

/**
 * Symmetric 32-bit hash of (addresses, ports, protocol): both directions of
 * a conversation hash alike. Used to shard trace packets over workers, the
 * software counterpart of symmetric RSS.
 * Thread safety: any thread; pure function.
 */
uint32_t fc_ftkey_hash_sym(const struct fc_ftkey *k);

/** Longest text of an address (INET6_ADDRSTRLEN) plus NUL. */
#define FC_IP_STRLEN 46

/**
 * Format an address of the given family into buf (IPv4 dotted quad, IPv6
 * RFC 5952 text). Returns buf.
 * Thread safety: any thread; pure function (inet_ntop, writes only buf).
 */
char *fc_ip_format(char *buf, size_t len, unsigned family, const uint8_t *ip);

/**
 * Parse IPv4 or IPv6 text into a 16-byte field (layout as in fc_ftkey).
 * Returns the family (4 or 6) or -1.
 * Thread safety: any thread; pure function (inet_pton, writes only ip).
 */
int fc_ip_parse(const char *s, uint8_t ip[16]);

#endif /* FC_TUPLE_H */

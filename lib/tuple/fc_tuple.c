/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flowtuple key helpers: class names, canonical order, hashes and address
 * text. No packet parsing and no storage live here.
 */
#include "fc_tuple.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

static const char *const class_names[FC_FT_CLASS_COUNT] = {
	[FC_FT_CLASS_BACKSCATTER] = "backscatter",
	[FC_FT_CLASS_ICMPREQ] = "icmpreq",
	[FC_FT_CLASS_OTHER] = "other",
};

const char *fc_ft_class_name(unsigned cls)
{
	return cls < FC_FT_CLASS_COUNT ? class_names[cls] : "unknown";
}

int fc_ft_class_from_name(const char *name)
{
	for (unsigned i = 0; i < FC_FT_CLASS_COUNT; i++)
		if (strcmp(name, class_names[i]) == 0)
			return (int)i;
	return -1;
}

#define CMP_FIELD(f)                                                           \
	do {                                                                   \
		if (a->f != b->f)                                              \
			return a->f < b->f ? -1 : 1;                           \
	} while (0)

int fc_ftkey_cmp(const struct fc_ftkey *a, const struct fc_ftkey *b)
{
	int c;

	CMP_FIELD(cls);
	CMP_FIELD(family);
	c = memcmp(a->src_ip, b->src_ip, sizeof(a->src_ip));
	if (c)
		return c;
	c = memcmp(a->dst_ip, b->dst_ip, sizeof(a->dst_ip));
	if (c)
		return c;
	CMP_FIELD(src_port);
	CMP_FIELD(dst_port);
	CMP_FIELD(proto);
	CMP_FIELD(ttl);
	CMP_FIELD(tcp_flags);
	CMP_FIELD(ip_len);
	if (fc_ftkey_ext(a) != fc_ftkey_ext(b)) {
		unsigned la = fc_ftkey_label(a), lb = fc_ftkey_label(b);

		if (la != lb)
			return la < lb ? -1 : 1;
		return fc_ftkey_vlan(a) < fc_ftkey_vlan(b) ? -1 : 1;
	}
	return 0;
}

static inline uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: full avalanche, cheap. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

uint64_t fc_ftkey_hash_sw(const struct fc_ftkey *k)
{
	uint64_t w[6], h = 0x243f6a8885a308d3ULL;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 6; i++)
		h = mix64(h ^ w[i]) + (uint64_t)i;
	return h;
}

uint32_t fc_ftkey_hash_sym(const struct fc_ftkey *k)
{
	uint64_t s[2], d[2], ports = 0;

	memcpy(s, k->src_ip, 16);
	memcpy(d, k->dst_ip, 16);
	/* Ports only where they name an endpoint: ICMP type/code differ
	 * between request and reply and would split a conversation. */
	if (k->proto == 6 || k->proto == 17 || k->proto == 132)
		ports = (uint64_t)(k->src_port ^ k->dst_port) << 8;
	uint64_t h = mix64((s[0] ^ d[0]) + 0x9e3779b97f4a7c15ULL);
	h = mix64(h ^ (s[1] ^ d[1]));
	h = mix64(h ^ ports ^ k->proto);
	return (uint32_t)(h >> 32);
}

char *fc_ip_format(char *buf, size_t len, unsigned family, const uint8_t *ip)
{
	/* inet_ntop's IPv6 output follows RFC 5952 (lower case, longest zero
	 * run compressed, IPv4-mapped suffix dotted). */
	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, ip, buf,
		      (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

int fc_ip_parse(const char *s, uint8_t ip[16])
{
	memset(ip, 0, 16);
	if (inet_pton(AF_INET, s, ip) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, ip) == 1)
		return 6;
	return -1;
}

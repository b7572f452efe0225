/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Deterministic synthetic frames: a xoshiro256** stream picks a flow rank
 * per packet through a Zipf alias table (a second stream draws jitter); the flow's fields are a hash of
 * (seed, rank); the frame is written with correct lengths and checksums
 * (IPv4 header, TCP/UDP/ICMP/ICMPv6 over the pseudo header) and a zero
 * payload. It does not model connections (no handshakes, no sequence
 * progression that a stateful tool would accept), fragments, options or
 * tunnels: it is a load and correctness source for a flowtuple counter,
 * not a traffic simulator.
 *
 * Determinism: the only floating-point operations are the conversions of
 * cfg fractions and of the Zipf exponent to fixed point (an exact
 * multiplication by a power of two, then truncation or rounding), which
 * IEEE 754 defines exactly. Zipf weights k^-s are computed in integers:
 * log2 in Q32 by repeated squaring and 2^-x in Q62 from a table of
 * constants, so no libm result (which may differ in the last bit between
 * libraries) can change a byte of output.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_common.h"
#include "fc_gen.h"

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IP4_HLEN 20
#define IP6_HLEN 40
#define TCP_HLEN 20
#define UDP_HLEN 8
#define ICMP_HLEN 8
#define FCS_LEN 4

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMP6 58
#define PROTO_IPIP 4
#define PROTO_IPV6 41
#define PROTO_GRE 47

/* kinds of L4 content */
enum { K_TCP, K_UDP, K_ICMP_ECHO, K_ICMP_ERR };

/* 2^-(2^-(k+1)) in Q62, rounded to nearest (computed with 80 digits). */
static const uint64_t exp2_frac_q62[32] = {
	0x2d413cccfe779921ULL, 0x35d13f32b5a75abdULL, 0x3ab031b9f7490e4cULL,
	0x3d495f454921b30bULL, 0x3ea0ecb6dc8a80cfULL, 0x3f4f83033d21b05dULL,
	0x3fa784571ee3e213ULL, 0x3fd3b2d65447b229ULL, 0x3fe9d59487236bb4ULL,
	0x3ff4e9d4703df843ULL, 0x3ffa74acbdf6c9d5ULL, 0x3ffd3a46ffc6e30fULL,
	0x3ffe9d1fa8010199ULL, 0x3fff4e8ede053ad5ULL, 0x3fffa747318376acULL,
	0x3fffd3a38961e6ffULL, 0x3fffe9d1c0d8fd14ULL, 0x3ffff4e8df7680c5ULL,
	0x3ffffa746f7dc0ecULL, 0x3ffffd3a37af8098ULL, 0x3ffffe9d1bd3e854ULL,
	0x3fffff4e8de8fe2cULL, 0x3fffffa746f44197ULL, 0x3fffffd3a37a116bULL,
	0x3fffffe9d1bd04deULL, 0x3ffffff4e8de8179ULL, 0x3ffffffa746f407fULL,
	0x3ffffffd3a37a030ULL, 0x3ffffffe9d1bd014ULL, 0x3fffffff4e8de809ULL,
	0x3fffffffa746f404ULL, 0x3fffffffd3a37a02ULL,
};

/*
 * Per-flow choices. Tables of 8 so one 3-bit field picks; the repeats set
 * the proportions. TCP flags above 0xff (0x100 = NS/AE) exercise masking
 * to the low 8 bits; 0xc2 is an ECN-setup SYN.
 */
static const uint16_t tcp_flags_bs[8] = {
	0x12, 0x12, 0x12, 0x04, 0x04, 0x14, 0x14, 0x12 };
static const uint16_t tcp_flags_req[8] = {
	0x02, 0x02, 0x02, 0x10, 0x18, 0x11, 0xc2, 0x110 };
/* type, code; errors (3, 4, 11 / 1-4) carry an embedded header */
static const uint8_t icmp4_bs[8][2] = {
	{ 0, 0 }, { 0, 0 }, { 3, 1 }, { 3, 3 }, { 3, 13 }, { 11, 0 },
	{ 3, 0 }, { 4, 0 } };
static const uint8_t icmp4_req[8][2] = {
	{ 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 }, { 8, 0 },
	{ 8, 0 }, { 13, 0 } };
static const uint8_t icmp6_bs[8][2] = {
	{ 129, 0 }, { 129, 0 }, { 1, 0 }, { 1, 3 }, { 1, 4 }, { 3, 0 },
	{ 2, 0 }, { 4, 0 } };
static const uint8_t icmp6_req[8][2] = {
	{ 128, 0 }, { 128, 0 }, { 128, 0 }, { 128, 0 }, { 128, 0 },
	{ 128, 0 }, { 128, 0 }, { 135, 0 } };
static const uint16_t well_known[16] = {
	80, 443, 22, 23, 53, 123, 445, 3389, 8080, 25, 161, 1900, 5060,
	993, 110, 500 };
static const uint8_t ttl_base[4] = { 64, 128, 255, 32 };

/*
 * Random words are drawn this many packets ahead so that the alias-table
 * entry of a coming packet can be prefetched: with millions of flows every
 * lookup is a cache miss. Drawing ahead does not change the sequence.
 */
#define AHEAD 8

struct fc_gen {
	struct fc_gen_cfg cfg;
	uint64_t rng[4];       /* xoshiro256** state: flow choice */
	uint64_t jrng[4];      /* a second stream for jitter */
	uint64_t ahead[AHEAD]; /* the next packets' random words */
	uint32_t ahead_pos;
	uint64_t fkey;         /* key of the flow hash */
	uint64_t count;
	uint64_t *alias;       /* Zipf alias table, NULL when uniform */
	uint32_t flows;
	uint32_t mix_sum;
	uint64_t th_ipv6;      /* 32-bit fixed-point thresholds */
	uint64_t th_qinq;
	uint64_t th_tagged;    /* qinq + vlan */
	uint64_t th_bs;
	uint64_t th_tun;
	uint32_t tun_kind[8];  /* the kinds of cfg.tunnel_kinds, in order */
	uint32_t n_tun_kinds;
	/* time: start + count * 1e9 / rate, kept as quotient and remainder */
	uint64_t t_q, t_r, step_q, step_r;
};

/* The flow a rank stands for; see fc_gen.h. */
struct gen_flow {
	uint8_t v6;
	uint8_t tags;
	uint8_t kind;
	uint8_t proto;
	uint8_t ttl;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t tcp_flags;
	uint16_t sport;
	uint16_t dport;
	uint16_t tci[2];
	uint16_t wire;
	uint64_t h;            /* spare hash bits for per-packet fields */
	uint8_t src[16];
	uint8_t dst[16];
};

static inline uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(uint64_t s[4])
{
	uint64_t r = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Fraction in [0, 1] -> threshold compared with a uniform 32-bit value. */
static uint64_t frac_q32(double f)
{
	return (uint64_t)(f * 4294967296.0);
}

/* Uniform value in [0, n) from 32 random bits (Lemire, no division). */
static inline uint32_t pick32(uint32_t r, uint32_t n)
{
	return (uint32_t)(((uint64_t)r * n) >> 32);
}

void fc_gen_cfg_init(struct fc_gen_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = 1;
	cfg->packets = 1000000;
	cfg->flows = 100000;
	cfg->zipf = 1.1;
	cfg->ipv6 = 0.1;
	cfg->vlan = 0.1;
	cfg->qinq = 0.0;
	cfg->mix_tcp = 70;
	cfg->mix_udp = 20;
	cfg->mix_icmp = 10;
	cfg->backscatter = 0.1;
	cfg->size = FC_GEN_SIZE_IMIX;
	cfg->rate_pps = 10000;
	cfg->start_ns = 1700000000ULL * 1000000000ULL;
	cfg->jitter_ns = 0;
	cfg->tunnel = 0.0;
	cfg->tunnel_kinds = FC_GEN_TUN_ALL;
	cfg->tunnel_depth = 1;
}

static int frac_ok(double f)
{
	return f >= 0.0 && f <= 1.0; /* false for NaN too */
}

int fc_gen_cfg_check(const struct fc_gen_cfg *cfg, char *err, size_t errlen)
{
	const char *msg = NULL;

	if (cfg->flows < 1 || cfg->flows > FC_GEN_FLOWS_MAX)
		msg = "flows must be 1..100000000";
	else if (!(cfg->zipf >= 0.0 && cfg->zipf <= FC_GEN_ZIPF_MAX))
		msg = "zipf must be 0 (uniform) .. 10";
	else if (!frac_ok(cfg->ipv6))
		msg = "ipv6 must be a fraction 0..1";
	else if (!frac_ok(cfg->vlan))
		msg = "vlan must be a fraction 0..1";
	else if (!frac_ok(cfg->qinq))
		msg = "qinq must be a fraction 0..1";
	else if (cfg->vlan + cfg->qinq > 1.0)
		msg = "vlan + qinq must not exceed 1";
	else if (!frac_ok(cfg->backscatter))
		msg = "backscatter must be a fraction 0..1";
	else if ((uint64_t)cfg->mix_tcp + cfg->mix_udp + cfg->mix_icmp == 0 ||
		 (uint64_t)cfg->mix_tcp + cfg->mix_udp + cfg->mix_icmp >
			 1000000)
		msg = "mix weights tcp:udp:icmp must sum to 1..1000000";
	else if (cfg->size != FC_GEN_SIZE_64 && cfg->size != FC_GEN_SIZE_IMIX)
		msg = "size must be 64 or imix";
	else if (cfg->rate_pps < 1 || cfg->rate_pps > 1000000000000ULL)
		msg = "rate must be 1..10^12 packets/s";
	else if (cfg->start_ns > (uint64_t)4102444800 * 1000000000ULL)
		msg = "start must be before 2100-01-01";
	else if (cfg->jitter_ns > 3600ULL * 1000000000ULL)
		msg = "jitter must be at most one hour";
	else if (!frac_ok(cfg->tunnel))
		msg = "tunnel must be a fraction 0..1";
	else if (cfg->tunnel_kinds == 0 ||
		 (cfg->tunnel_kinds & ~FC_GEN_TUN_ALL) != 0)
		msg = "tunnel kinds must be a non-empty set of gre, gre-ks, "
		      "gre-eth, vxlan, geneve, gtpu, ipip";
	else if (cfg->tunnel_depth < 1 ||
		 cfg->tunnel_depth > FC_GEN_TUN_DEPTH_MAX)
		msg = "tunnel depth must be 1..8";
	if (msg == NULL)
		return 0;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

/*
 * log2(x) for x >= 1 in Q32: the integer part from the bit length, the
 * fraction bit by bit by squaring the mantissa (kept in Q62, truncated).
 */
static uint64_t log2_q32(uint64_t x)
{
	int n = 63 - __builtin_clzll(x);
	uint64_t y = n <= 62 ? x << (62 - n) : x >> 1;
	uint64_t r = (uint64_t)n << 32;

	for (int b = 31; b >= 0; b--) {
		y = (uint64_t)(((unsigned __int128)y * y) >> 62);
		if (y >= (1ULL << 63)) {
			y >>= 1;
			r |= 1ULL << b;
		}
	}
	return r;
}

/* 2^-x for x in Q32, result in Q62 (0 when it underflows). */
static uint64_t exp2neg_q62(uint64_t x)
{
	uint64_t n = x >> 32;
	uint32_t f = (uint32_t)x;
	uint64_t r = 1ULL << 62;

	if (n >= 62)
		return 0;
	for (int k = 0; f != 0; k++, f <<= 1)
		if (f & 0x80000000u)
			r = (uint64_t)(((unsigned __int128)r *
					exp2_frac_q62[k]) >> 62);
	return r >> n;
}

#define ALIAS_FIN (1ULL << 63)
#define CAP (1ULL << 32)

/*
 * Walker/Vose alias table for P(rank k) ~ k^-s, built in place in one
 * array of N words, exactly in integers: bucket masses are scaled so they
 * sum to N * 2^32, the rounding remainder goes to rank 1. Entry layout
 * after the build: low 32 bits = probability (out of 2^32) of keeping the
 * bucket, bits 32..62 = alias. During the build, bit 63 marks finalized
 * entries and unfinalized ones hold residual mass.
 */
static int zipf_build(struct fc_gen *g)
{
	uint64_t n = g->flows;
	uint64_t *p;
	unsigned __int128 wsum = 0, total, m;
	uint64_t s_q32 = (uint64_t)(g->cfg.zipf * 4294967296.0 + 0.5);
	uint64_t psum = 0;

	p = malloc(n * sizeof(*p));
	if (p == NULL)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = (uint64_t)(((unsigned __int128)s_q32 *
					 log2_q32(i + 1)) >> 32);
		p[i] = exp2neg_q62(e);
		wsum += p[i];
	}
	/* p_i = w_i * total / wsum through one reciprocal: total/wsum < 1
	 * since wsum >= 2^62 (rank 1 weighs 1.0) and total < 2^59. */
	total = (unsigned __int128)n << 32;
	m = (total << 64) / wsum;
	for (uint64_t i = 0; i < n; i++) {
		p[i] = (uint64_t)(((unsigned __int128)p[i] * (uint64_t)m) >> 64);
		psum += p[i];
	}
	p[0] += (uint64_t)total - psum;

	/* Sweep: si finds the next small bucket, j the next large donor. An
	 * exact invariant holds: unfinalized mass = unfinalized count * CAP,
	 * so smalls and larges run out together and leftovers are exactly
	 * full. */
	uint64_t si = 0, j = 0, cur;
	while (si < n && (p[si] & ALIAS_FIN || p[si] >= CAP))
		si++;
	while (j < n && (p[j] & ALIAS_FIN || p[j] < CAP))
		j++;
	cur = si;
	while (cur < n && j < n) {
		uint64_t pc = p[cur];

		p[cur] = ALIAS_FIN | j << 32 | pc;
		p[j] -= CAP - pc;
		if (p[j] < CAP) {
			uint64_t oldj = j;

			j++;
			while (j < n && (p[j] & ALIAS_FIN || p[j] < CAP))
				j++;
			if (oldj < si) {
				cur = oldj; /* behind the scan: do it now */
				continue;
			}
		}
		si++;
		while (si < n && (p[si] & ALIAS_FIN || p[si] >= CAP))
			si++;
		cur = si;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (p[i] & ALIAS_FIN)
			p[i] &= ~ALIAS_FIN;
		else
			p[i] = i << 32 | 0xffffffffULL;
	}
	g->alias = p;
	return 0;
}

struct fc_gen *fc_gen_create(const struct fc_gen_cfg *cfg)
{
	struct fc_gen *g;
	uint64_t x;

	if (cfg == NULL || fc_gen_cfg_check(cfg, NULL, 0) != 0) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	g->cfg = *cfg;
	g->flows = cfg->flows;
	/* splitmix64 seeding, as the xoshiro authors recommend */
	x = cfg->seed;
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		g->rng[i] = mix64(x);
	}
	for (int i = 0; i < 4; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		g->jrng[i] = mix64(x);
	}
	g->fkey = mix64(cfg->seed ^ 0x6a09e667f3bcc908ULL);
	g->mix_sum = cfg->mix_tcp + cfg->mix_udp + cfg->mix_icmp;
	g->th_ipv6 = frac_q32(cfg->ipv6);
	g->th_qinq = frac_q32(cfg->qinq);
	g->th_tagged = frac_q32(cfg->qinq + cfg->vlan);
	g->th_bs = frac_q32(cfg->backscatter);
	g->th_tun = frac_q32(cfg->tunnel);
	for (uint32_t k = 0; k < 7; k++)
		if (cfg->tunnel_kinds & (1u << k))
			g->tun_kind[g->n_tun_kinds++] = 1u << k;
	g->step_q = 1000000000ULL / cfg->rate_pps;
	g->step_r = 1000000000ULL % cfg->rate_pps;
	if (cfg->zipf > 0.0 && cfg->flows > 1) {
		int rc = zipf_build(g);

		if (rc != 0) {
			free(g);
			errno = -rc;
			return NULL;
		}
	}
	for (int i = 0; i < AHEAD; i++)
		g->ahead[i] = rng_next(g->rng);
	return g;
}

void fc_gen_free(struct fc_gen *g)
{
	if (g == NULL)
		return;
	free(g->alias);
	free(g);
}

uint64_t fc_gen_count(const struct fc_gen *g)
{
	return g->count;
}

static void ip4_addr(uint8_t *a, uint32_t h)
{
	/* unicast-looking: first octet 1..223 without 127 */
	uint32_t o = 1 + pick32(h << 8 | h >> 24, 223);

	if (o == 127)
		o = 126;
	a[0] = (uint8_t)o;
	a[1] = (uint8_t)(h >> 8);
	a[2] = (uint8_t)(h >> 16);
	a[3] = (uint8_t)(h >> 24);
}

/*
 * 2001:db8:<pfx>::/48-ish documentation addresses; each of the six low
 * groups is zeroed with probability 1/4 so that text forms exercise the
 * RFC 5952 "::" rules (longest run, first of equal runs, no single group).
 */
static void ip6_addr(uint8_t *a, uint16_t pfx, uint64_t h1, uint64_t h2)
{
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	a[4] = (uint8_t)(pfx >> 8);
	a[5] = (uint8_t)pfx;
	for (int i = 0; i < 8; i++)
		a[6 + i] = (uint8_t)(h1 >> (8 * i));
	a[14] = (uint8_t)h2;
	a[15] = (uint8_t)(h2 >> 8);
	for (int gi = 0; gi < 6; gi++)
		if (((h2 >> (16 + 2 * gi)) & 3) == 0) {
			a[4 + 2 * gi] = 0;
			a[5 + 2 * gi] = 0;
		}
}

/* Everything about flow `rank` that a flowtuple key can see. */
static void flow_derive(const struct fc_gen *g, uint32_t rank,
			struct gen_flow *f)
{
	uint64_t x = g->fkey ^ ((uint64_t)rank * 0x9e3779b97f4a7c15ULL);
	uint64_t h0 = mix64(x);
	uint64_t h1 = mix64(h0 ^ 0xd1b54a32d192ed03ULL);
	uint64_t h2 = mix64(h1 ^ 0x8cb92ba72f3d8dd7ULL);
	uint64_t h3 = mix64(h2 ^ 0xabc98388fb8fac03ULL);
	uint32_t mix = pick32((uint32_t)h1, g->mix_sum);
	int bs = (h1 >> 32) < g->th_bs;
	unsigned sel = (unsigned)(h2 >> 40) & 7;

	f->h = h3;
	f->v6 = (h0 & 0xffffffffULL) < g->th_ipv6;
	f->tags = (h0 >> 32) < g->th_qinq ? 2 : (h0 >> 32) < g->th_tagged;
	f->ttl = (uint8_t)(ttl_base[h2 & 3] - ((h2 >> 2) & 0x1f));
	f->sport = (uint16_t)(1024 + (((h2 >> 8) & 0xffff) * 64512 >> 16));
	f->dport = (h2 >> 24) & 1 ? well_known[(h2 >> 25) & 15]
				  : (uint16_t)(h2 >> 44);
	f->tci[0] = (uint16_t)((h3 >> 13) & 0xe000) |
		    (uint16_t)(1 + pick32((uint32_t)h3 << 20, 4094));
	f->tci[1] = (uint16_t)(1 + pick32((uint32_t)(h3 >> 12) << 20, 4094));
	f->tcp_flags = 0;
	f->icmp_type = 0;
	f->icmp_code = 0;
	if (mix < g->cfg.mix_tcp) {
		f->kind = K_TCP;
		f->proto = PROTO_TCP;
		f->tcp_flags = bs ? tcp_flags_bs[sel] : tcp_flags_req[sel];
		if (bs) { /* a reply comes from the well-known port */
			uint16_t t = f->sport;

			f->sport = well_known[(h2 >> 25) & 15];
			f->dport = t;
		}
	} else if (mix < g->cfg.mix_tcp + g->cfg.mix_udp) {
		f->kind = K_UDP;
		f->proto = PROTO_UDP;
	} else {
		const uint8_t(*tab)[2] = f->v6 ? (bs ? icmp6_bs : icmp6_req)
					       : (bs ? icmp4_bs : icmp4_req);

		f->proto = f->v6 ? PROTO_ICMP6 : PROTO_ICMP;
		f->icmp_type = tab[sel][0];
		f->icmp_code = tab[sel][1];
		if (f->v6)
			f->kind = f->icmp_type < 128 ? K_ICMP_ERR : K_ICMP_ECHO;
		else
			f->kind = (f->icmp_type == 3 || f->icmp_type == 4 ||
				   f->icmp_type == 11) ? K_ICMP_ERR
						       : K_ICMP_ECHO;
	}
	if (g->cfg.size == FC_GEN_SIZE_64) {
		f->wire = 64;
	} else {
		uint32_t k = pick32((uint32_t)(h3 >> 32), 12);

		f->wire = k < 7 ? 64 : k < 11 ? 570 : 1518;
	}
	if (f->v6) {
		uint64_t a = mix64(h3 ^ 0x243f6a8885a308d3ULL);
		uint64_t b = mix64(a ^ 0x13198a2e03707344ULL);
		uint64_t c = mix64(b ^ 0xa4093822299f31d0ULL);
		uint64_t d = mix64(c ^ 0x082efa98ec4e6c89ULL);

		ip6_addr(f->src, (uint16_t)(a >> 48) & 0x00ff, b, a);
		ip6_addr(f->dst, 0xff00 | (uint16_t)(c >> 56), d, c);
	} else {
		ip4_addr(f->src, (uint32_t)h0 ^ (uint32_t)(h3 >> 32));
		ip4_addr(f->dst, (uint32_t)(h1 >> 16) ^ (uint32_t)h3);
	}
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's-complement sum of big-endian 16-bit words (n may be odd). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 or IPv6. */
static uint32_t csum_pseudo(const struct gen_flow *f, uint32_t l4len)
{
	uint32_t sum = 0;

	if (f->v6) {
		sum = csum_add(sum, f->src, 16);
		sum = csum_add(sum, f->dst, 16);
		sum += l4len >> 16;
		sum += l4len & 0xffff;
	} else {
		sum = csum_add(sum, f->src, 4);
		sum = csum_add(sum, f->dst, 4);
		sum += l4len;
	}
	return sum + f->proto;
}

/*
 * The embedded "original datagram" of an ICMP error: the header of a UDP
 * packet the destination supposedly sent, plus its 8-byte UDP header.
 * Returns the bytes written (28 or 48).
 */
static uint32_t write_embedded(const struct gen_flow *f, uint8_t *p)
{
	uint16_t sp = (uint16_t)(1024 + (f->h >> 48) % 64512);
	uint16_t dp = well_known[(f->h >> 44) & 15];

	if (f->v6) {
		put32(p, 0x60000000u);
		put16(p + 4, 8 + 32);
		p[6] = PROTO_UDP;
		p[7] = (uint8_t)(1 + (f->h & 63));
		memcpy(p + 8, f->dst, 16);
		memcpy(p + 24, f->src, 16);
		p[39] ^= 0x5a; /* a neighbour of the sender */
		p += IP6_HLEN;
	} else {
		p[0] = 0x45;
		p[1] = 0;
		put16(p + 2, IP4_HLEN + 8 + 32);
		put16(p + 4, (uint16_t)(f->h >> 16));
		put16(p + 6, 0);
		p[8] = (uint8_t)(1 + (f->h & 63));
		p[9] = PROTO_UDP;
		put16(p + 10, 0);
		memcpy(p + 12, f->dst, 4);
		memcpy(p + 16, f->src, 4);
		p[19] ^= 0x5a;
		put16(p + 10, csum_fold(csum_add(0, p, IP4_HLEN)));
		p += IP4_HLEN;
	}
	put16(p, sp);
	put16(p + 2, dp);
	put16(p + 4, 8 + 32);
	put16(p + 6, 0);
	return f->v6 ? IP6_HLEN + UDP_HLEN : IP4_HLEN + UDP_HLEN;
}

/*
 * Tunnels. Level d (1 = innermost) of a tunnelled flow has its kind, the
 * version of its outer IP header and its endpoints from a hash of the
 * flow and d, so every packet of a flow is wrapped the same way and the
 * outer key, too, is constant per flow.
 */
#define GRE_HLEN 4
#define VXLAN_HLEN 8
#define GENEVE_HLEN 16 /* 8 + one 8-byte option */
#define GTPU_HLEN 16   /* 8 + sequence/N-PDU/next + one extension */

static uint64_t tun_hash(const struct gen_flow *f, uint32_t d)
{
	return mix64(f->h ^ (0x5851f42d4c957f2dULL * (d + 1)));
}

static uint32_t tun_kind(const struct fc_gen *g, uint64_t h)
{
	return g->tun_kind[pick32((uint32_t)h, g->n_tun_kinds)];
}

/* Bytes a tunnel of kind k with an outer IPv4/IPv6 (v6) header adds. */
static uint32_t tun_hlen(uint32_t k, int v6)
{
	uint32_t ip = ETH_HLEN + (v6 ? IP6_HLEN : IP4_HLEN);

	switch (k) {
	case FC_GEN_TUN_GRE:
		return ip + GRE_HLEN;
	case FC_GEN_TUN_GRE_KS:
		return ip + GRE_HLEN + 12;
	case FC_GEN_TUN_GRE_ETH:
		return ip + GRE_HLEN + 4;
	case FC_GEN_TUN_VXLAN:
		return ip + UDP_HLEN + VXLAN_HLEN;
	case FC_GEN_TUN_GENEVE:
		return ip + UDP_HLEN + GENEVE_HLEN;
	case FC_GEN_TUN_GTPU:
		return ip + UDP_HLEN + GTPU_HLEN;
	default: /* FC_GEN_TUN_IPIP */
		return ip;
	}
}

static int tun_carries_eth(uint32_t k)
{
	return k == FC_GEN_TUN_GRE_ETH || k == FC_GEN_TUN_VXLAN ||
	       k == FC_GEN_TUN_GENEVE;
}

/*
 * Wrap the frame in buf (len bytes, its IP header at l2) in one tunnel:
 * an Ethernet frame inside carries the whole frame, else its IP packet.
 * The caller has checked that the result fits.
 */
static uint32_t tun_wrap(uint8_t *buf, uint32_t len, uint32_t l2, uint32_t k,
			 uint64_t h, uint32_t d)
{
	int v6 = (int)(h >> 63);
	uint32_t ilen = tun_carries_eth(k) ? len : len - l2;
	const uint8_t *inner = tun_carries_eth(k) ? buf : buf + l2;
	uint32_t hl = tun_hlen(k, v6), iphl = v6 ? IP6_HLEN : IP4_HLEN;
	uint32_t plen = hl - ETH_HLEN - iphl + ilen; /* outer IP payload */
	uint8_t *ip = buf + ETH_HLEN, *t = ip + iphl;
	uint8_t proto;
	uint16_t ptype = (inner[0] >> 4) == 6 ? ET_IPV6 : ET_IPV4;

	memmove(buf + hl, inner, ilen);
	/* Ethernet */
	buf[0] = 0x02;
	buf[6] = 0x02;
	for (int i = 0; i < 5; i++) {
		buf[1 + i] = (uint8_t)(h >> (8 * i));
		buf[7 + i] = (uint8_t)(h >> (8 * i + 20));
	}
	put16(buf + 12, v6 ? ET_IPV6 : ET_IPV4);
	switch (k) {
	case FC_GEN_TUN_GRE:
	case FC_GEN_TUN_GRE_KS:
	case FC_GEN_TUN_GRE_ETH:
		proto = PROTO_GRE;
		break;
	case FC_GEN_TUN_IPIP:
		proto = ptype == ET_IPV6 ? PROTO_IPV6 : PROTO_IPIP;
		break;
	default:
		proto = PROTO_UDP;
		break;
	}
	/* Outer IP: endpoints in the benchmarking (198.18.0.0/15) and
	 * documentation (2001:db8::/32) ranges, from the hash. */
	if (v6) {
		put32(ip, 0x60000000u | (uint32_t)(h & 0xfffff));
		put16(ip + 4, (uint16_t)plen);
		ip[6] = proto;
		ip[7] = (uint8_t)(64 - d);
		put32(ip + 8, 0x20010db8);
		put32(ip + 12, (uint32_t)(h >> 8));
		put32(ip + 16, 0);
		put32(ip + 20, 1 + (uint32_t)(h >> 40 & 0xff));
		put32(ip + 24, 0x20010db8);
		put32(ip + 28, (uint32_t)(h >> 16));
		put32(ip + 32, 0);
		put32(ip + 36, 2 + (uint32_t)(h >> 48 & 0xff));
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(iphl + plen));
		put16(ip + 4, (uint16_t)h);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = (uint8_t)(64 - d);
		ip[9] = proto;
		put16(ip + 10, 0);
		put32(ip + 12, 0xc6120000u | (uint32_t)(h >> 8 & 0xffff));
		put32(ip + 16, 0xc6130000u | (uint32_t)(h >> 24 & 0xffff));
		put16(ip + 10, csum_fold(csum_add(0, ip, IP4_HLEN)));
	}
	switch (k) {
	case FC_GEN_TUN_GRE:
		put16(t, 0);
		put16(t + 2, ptype);
		break;
	case FC_GEN_TUN_GRE_KS:
		put16(t, 0xb000); /* checksum, key, sequence number */
		put16(t + 2, ptype);
		put32(t + 4, 0);
		put32(t + 8, (uint32_t)(h >> 32));
		put32(t + 12, (uint32_t)h);
		put16(t + 4, csum_fold(csum_add(0, t, plen)));
		break;
	case FC_GEN_TUN_GRE_ETH:
		put16(t, 0x2000); /* key */
		put16(t + 2, 0x6558);
		put32(t + 4, (uint32_t)(h >> 32));
		break;
	case FC_GEN_TUN_IPIP:
		break;
	default: { /* over UDP; checksum 0 (RFC 6935 allows it for tunnels) */
		uint8_t *u = t + UDP_HLEN;

		put16(t, (uint16_t)(49152 + (h >> 20 & 0x3fff)));
		put16(t + 2, k == FC_GEN_TUN_VXLAN ? 4789 :
			     k == FC_GEN_TUN_GENEVE ? 6081 : 2152);
		put16(t + 4, (uint16_t)plen);
		put16(t + 6, 0);
		if (k == FC_GEN_TUN_VXLAN) {
			put32(u, 0x08000000u); /* VNI present */
			put32(u + 4, (uint32_t)(h >> 32) << 8);
		} else if (k == FC_GEN_TUN_GENEVE) {
			put16(u, 0x0200); /* version 0, 2 words of options */
			put16(u + 2, 0x6558);
			put32(u + 4, (uint32_t)(h >> 32) << 8);
			put16(u + 8, 0x0103); /* option class */
			u[10] = 0x01;         /* type */
			u[11] = 0x01;         /* 1 word of data */
			put32(u + 12, (uint32_t)h);
		} else {
			put16(t, 2152); /* GTP-U: port 2152 both ways */
			u[0] = 0x36; /* version 1, GTP, extension, sequence */
			u[1] = 0xff; /* G-PDU */
			put16(u + 2, (uint16_t)(GTPU_HLEN - 8 + ilen));
			put32(u + 4, (uint32_t)(h >> 32)); /* TEID */
			put16(u + 8, (uint16_t)h);         /* sequence */
			u[10] = 0;
			u[11] = 0x85; /* PDU session container */
			u[12] = 1;    /* 4 bytes */
			u[13] = 0x00;
			u[14] = (uint8_t)(h >> 16 & 0x3f); /* QFI */
			u[15] = 0;    /* no further extension */
		}
		break;
	}
	}
	return len + hl - (tun_carries_eth(k) ? 0 : l2);
}

int fc_gen_next(struct fc_gen *g, uint8_t *buf, uint32_t bufsize,
		uint32_t *len, uint64_t *ts_ns)
{
	uint64_t r, jit = 0;
	uint32_t rank, l2, l3, l4, hdrs, flen, l4len, tdepth;
	struct gen_flow f;
	uint8_t *p;

	if (FC_UNLIKELY(g->cfg.packets != 0 && g->count >= g->cfg.packets))
		return -ENODATA;
	/* nothing changes state until the frame is known to fit */
	r = g->ahead[g->ahead_pos];
	rank = pick32((uint32_t)(r >> 32), g->flows);
	if (g->alias != NULL) {
		uint64_t e = g->alias[rank];

		if ((uint32_t)r >= (uint32_t)e)
			rank = (uint32_t)(e >> 32);
	}
	flow_derive(g, rank, &f);

	l2 = ETH_HLEN + VLAN_HLEN * f.tags;
	l3 = f.v6 ? IP6_HLEN : IP4_HLEN;
	switch (f.kind) {
	case K_TCP:
		l4 = TCP_HLEN;
		break;
	case K_UDP:
		l4 = UDP_HLEN;
		break;
	case K_ICMP_ECHO:
		l4 = ICMP_HLEN;
		break;
	default:
		l4 = ICMP_HLEN + (f.v6 ? IP6_HLEN : IP4_HLEN) + UDP_HLEN;
		break;
	}
	hdrs = l2 + l3 + l4;
	flen = f.wire - FCS_LEN + VLAN_HLEN * f.tags;
	if (flen < hdrs)
		flen = hdrs;
	tdepth = (f.h & 0xffffffffULL) < g->th_tun ? g->cfg.tunnel_depth : 0;
	{
		uint32_t need = flen, il2 = l2;

		for (uint32_t d = 1; d <= tdepth; d++) {
			uint64_t th = tun_hash(&f, d);
			uint32_t k = tun_kind(g, th);

			need += tun_hlen(k, (int)(th >> 63)) -
				(tun_carries_eth(k) ? 0 : il2);
			il2 = ETH_HLEN;
		}
		if (FC_UNLIKELY(need > bufsize))
			return -ENOBUFS;
	}

	/* Ethernet: locally administered unicast MACs from the flow hash */
	p = buf;
	p[0] = 0x02;
	p[6] = 0x02;
	for (int i = 0; i < 5; i++) {
		p[1 + i] = (uint8_t)(f.h >> (8 * i));
		p[7 + i] = (uint8_t)(f.h >> (8 * i + 24));
	}
	p += 12;
	if (f.tags == 2) {
		put16(p, ET_QINQ);
		put16(p + 2, f.tci[0]);
		put16(p + 4, ET_VLAN);
		put16(p + 6, f.tci[1]);
		p += 8;
	} else if (f.tags == 1) {
		put16(p, ET_VLAN);
		put16(p + 2, f.tci[0]);
		p += 4;
	}
	put16(p, f.v6 ? ET_IPV6 : ET_IPV4);
	p += 2;

	/* IP */
	l4len = flen - l2 - l3;
	if (f.v6) {
		put32(p, 0x60000000u | (uint32_t)(f.h & 0xfffff));
		put16(p + 4, (uint16_t)l4len);
		p[6] = f.proto;
		p[7] = f.ttl;
		memcpy(p + 8, f.src, 16);
		memcpy(p + 24, f.dst, 16);
	} else {
		p[0] = 0x45;
		p[1] = 0;
		put16(p + 2, (uint16_t)(flen - l2));
		put16(p + 4, (uint16_t)(g->count ^ f.h));
		put16(p + 6, f.kind == K_TCP ? 0x4000 : 0); /* DF */
		p[8] = f.ttl;
		p[9] = f.proto;
		put16(p + 10, 0);
		memcpy(p + 12, f.src, 4);
		memcpy(p + 16, f.dst, 4);
		put16(p + 10, csum_fold(csum_add(0, p, IP4_HLEN)));
	}
	p += l3;

	/* L4; the payload after it is zero, so it adds nothing to sums */
	switch (f.kind) {
	case K_TCP: {
		uint32_t seq = (uint32_t)(f.h >> 32) + (uint32_t)g->count * 1448u;

		put16(p, f.sport);
		put16(p + 2, f.dport);
		put32(p + 4, seq);
		put32(p + 8, f.tcp_flags & 0x10 ? (uint32_t)f.h : 0);
		p[12] = (uint8_t)(TCP_HLEN / 4 << 4 | f.tcp_flags >> 8);
		p[13] = (uint8_t)f.tcp_flags;
		put16(p + 14, 65535);
		put16(p + 16, 0);
		put16(p + 18, 0);
		put16(p + 16, csum_fold(csum_add(csum_pseudo(&f, l4len), p,
						 TCP_HLEN)));
		break;
	}
	case K_UDP: {
		uint16_t c;

		put16(p, f.sport);
		put16(p + 2, f.dport);
		put16(p + 4, (uint16_t)l4len);
		put16(p + 6, 0);
		c = csum_fold(csum_add(csum_pseudo(&f, l4len), p, UDP_HLEN));
		put16(p + 6, c == 0 ? 0xffff : c);
		break;
	}
	default: {
		uint32_t sum;

		p[0] = f.icmp_type;
		p[1] = f.icmp_code;
		put16(p + 2, 0);
		if (f.kind == K_ICMP_ECHO) {
			put16(p + 4, (uint16_t)(f.h >> 24)); /* id */
			put16(p + 6, (uint16_t)g->count);    /* sequence */
		} else {
			/* MTU for "too big"/"frag needed", else unused */
			put32(p + 4, f.v6 && f.icmp_type == 2 ? 1280
				     : !f.v6 && f.icmp_code == 4 ? 1400 : 0);
			write_embedded(&f, p + ICMP_HLEN);
		}
		sum = f.v6 ? csum_pseudo(&f, l4len) : 0;
		put16(p + 2, csum_fold(csum_add(sum, p, l4)));
		break;
	}
	}
	if (flen > hdrs)
		memset(buf + hdrs, 0, flen - hdrs);
	for (uint32_t d = 1; d <= tdepth; d++) {
		uint64_t th = tun_hash(&f, d);

		flen = tun_wrap(buf, flen, l2, tun_kind(g, th), th, d);
		l2 = ETH_HLEN;
	}

	if (g->cfg.jitter_ns != 0)
		jit = (uint64_t)(((unsigned __int128)rng_next(g->jrng) *
				  (g->cfg.jitter_ns + 1)) >> 64);
	*len = flen;
	*ts_ns = g->cfg.start_ns + g->t_q + jit;
	r = rng_next(g->rng);
	g->ahead[g->ahead_pos] = r;
	g->ahead_pos = (g->ahead_pos + 1) % AHEAD;
	if (g->alias != NULL)
		__builtin_prefetch(&g->alias[pick32((uint32_t)(r >> 32),
						    g->flows)]);
	g->count++;
	g->t_q += g->step_q;
	g->t_r += g->step_r;
	if (g->t_r >= g->cfg.rate_pps) {
		g->t_r -= g->cfg.rate_pps;
		g->t_q++;
	}
	return 0;
}

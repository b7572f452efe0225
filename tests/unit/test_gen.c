/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for the synthetic trace generator: determinism (same cfg same
 * bytes, a pinned digest so a change of output is a conscious one), frame
 * validity checked by a small parser written here (lengths, IPv4 header and
 * L4 checksums), the configured shares, Zipf head shares, the flow bound,
 * timestamps and the error returns. It does not test flowcap's parser; the
 * integration tests compare both against tshark.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fc_gen.h"

/* FNV-1a over (len, ts little-endian, frame) of the first 10000 frames */
#define GEN_DIGEST_BASE 0x09facb71b1779380ULL
#define GEN_DIGEST_DEFAULT 0xbdb374b7dc37ebe7ULL

#define BUF 2048

struct frame {
	uint32_t len;
	uint64_t ts;
	unsigned tags;
	unsigned v6;
	uint8_t proto;
	uint8_t ttl;
	uint8_t flags;  /* TCP flags, low 8 bits */
	uint8_t itype;  /* ICMP type */
	uint16_t sport, dport;
	uint32_t iplen; /* IPv4 total length or IPv6 payload + 40 */
	uint8_t src[16], dst[16];
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum16(uint32_t s, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		s += be16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Parse and validate one frame; fails the test on any inconsistency. */
static void check_frame(const uint8_t *b, uint32_t len, struct frame *f)
{
	uint32_t off = 12, l4len;
	uint16_t et;
	const uint8_t *ip, *l4;
	uint32_t ps;

	memset(f, 0, sizeof(*f));
	f->len = len;
	cr_assert_geq(len, 60, "frame shorter than the Ethernet minimum");
	cr_assert_leq(len, FC_GEN_FRAME_MAX);
	et = be16(b + off);
	if (et == 0x88a8) {
		cr_assert_eq(be16(b + off + 4), 0x8100, "QinQ inner tag");
		f->tags = 2;
		off += 8;
	} else if (et == 0x8100) {
		f->tags = 1;
		off += 4;
	}
	for (unsigned t = 0; t < f->tags; t++) {
		uint16_t vid = be16(b + 14 + 4 * t) & 0x0fff;

		cr_assert(vid >= 1 && vid <= 4094, "VLAN id %u", vid);
	}
	et = be16(b + off);
	off += 2;
	ip = b + off;
	if (et == 0x0800) {
		cr_assert_eq(ip[0], 0x45);
		f->iplen = be16(ip + 2);
		cr_assert_eq(f->iplen, len - off, "IPv4 total length");
		cr_assert_eq(fold(sum16(0, ip, 20)), 0xffff,
			     "IPv4 header checksum");
		cr_assert_eq(be16(ip + 6) & 0x3fff, 0, "not a fragment");
		f->proto = ip[9];
		f->ttl = ip[8];
		memcpy(f->src, ip + 12, 4);
		memcpy(f->dst, ip + 16, 4);
		l4 = ip + 20;
		l4len = f->iplen - 20;
		ps = sum16(0, ip + 12, 8) + f->proto + l4len;
	} else {
		cr_assert_eq(et, 0x86dd, "ethertype %04x", et);
		cr_assert_eq(ip[0] >> 4, 6);
		l4len = be16(ip + 4);
		cr_assert_eq(l4len, len - off - 40, "IPv6 payload length");
		f->v6 = 1;
		f->iplen = l4len + 40;
		f->proto = ip[6];
		f->ttl = ip[7];
		memcpy(f->src, ip + 8, 16);
		memcpy(f->dst, ip + 24, 16);
		l4 = ip + 40;
		ps = sum16(0, ip + 8, 32) + f->proto + (l4len >> 16) +
		     (l4len & 0xffff);
	}
	switch (f->proto) {
	case 6:
		cr_assert_geq(l4len, 20);
		cr_assert_eq(l4[12] >> 4, 5, "TCP data offset");
		f->sport = be16(l4);
		f->dport = be16(l4 + 2);
		f->flags = l4[13];
		cr_assert_eq(fold(sum16(ps, l4, l4len)), 0xffff, "TCP checksum");
		break;
	case 17:
		f->sport = be16(l4);
		f->dport = be16(l4 + 2);
		cr_assert_eq(be16(l4 + 4), l4len, "UDP length");
		cr_assert_eq(fold(sum16(ps, l4, l4len)), 0xffff, "UDP checksum");
		break;
	case 1:
		cr_assert(!f->v6);
		f->itype = l4[0];
		f->sport = l4[0];
		f->dport = l4[1];
		cr_assert_eq(fold(sum16(0, l4, l4len)), 0xffff, "ICMP checksum");
		if (l4[0] == 3 || l4[0] == 4 || l4[0] == 11) {
			cr_assert_geq(l4len, 8 + 28);
			cr_assert_eq(l4[8], 0x45, "embedded IPv4 header");
			cr_assert_eq(fold(sum16(0, l4 + 8, 20)), 0xffff,
				     "embedded IPv4 checksum");
		}
		break;
	case 58:
		cr_assert(f->v6);
		f->itype = l4[0];
		f->sport = l4[0];
		f->dport = l4[1];
		cr_assert_eq(fold(sum16(ps, l4, l4len)), 0xffff,
			     "ICMPv6 checksum");
		if (l4[0] < 128) {
			cr_assert_geq(l4len, 8 + 48);
			cr_assert_eq(l4[8] >> 4, 6, "embedded IPv6 header");
		}
		break;
	default:
		cr_assert_fail("unexpected protocol %u", f->proto);
	}
}

static int is_backscatter(const struct frame *f)
{
	if (f->proto == 6)
		return (f->flags & 0x12) == 0x12 || (f->flags & 0x04);
	if (f->proto == 1)
		return f->itype == 0 || f->itype == 3 || f->itype == 4 ||
		       f->itype == 5 || f->itype == 11 || f->itype == 12 ||
		       f->itype == 14 || f->itype == 16 || f->itype == 18;
	if (f->proto == 58)
		return (f->itype >= 1 && f->itype <= 4) || f->itype == 129;
	return 0;
}

static struct fc_gen *mk(const struct fc_gen_cfg *c)
{
	struct fc_gen *g = fc_gen_create(c);

	cr_assert_not_null(g, "fc_gen_create: %s", strerror(errno));
	return g;
}

static void base_cfg(struct fc_gen_cfg *c)
{
	fc_gen_cfg_init(c);
	c->packets = 0;
	c->flows = 5000;
	c->ipv6 = 0.3;
	c->vlan = 0.2;
	c->qinq = 0.1;
	c->mix_tcp = 50;
	c->mix_udp = 25;
	c->mix_icmp = 25;
	c->backscatter = 0.3;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Digest of the first n frames and timestamps of a generator. */
static uint64_t digest(const struct fc_gen_cfg *c, unsigned n)
{
	struct fc_gen *g = mk(c);
	uint8_t buf[BUF];
	uint64_t h = 0xcbf29ce484222325ULL, ts;
	uint32_t len;

	for (unsigned i = 0; i < n; i++) {
		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		uint8_t le[12];

		for (int k = 0; k < 4; k++)
			le[k] = (uint8_t)(len >> (8 * k));
		for (int k = 0; k < 8; k++)
			le[4 + k] = (uint8_t)(ts >> (8 * k));
		h = fnv1a(h, le, sizeof(le));
		h = fnv1a(h, buf, len);
	}
	fc_gen_free(g);
	return h;
}

Test(gen, same_cfg_same_bytes)
{
	struct fc_gen_cfg c;
	struct fc_gen *a, *b;
	uint8_t ba[BUF], bb[BUF];
	uint32_t la, lb;
	uint64_t ta, tb;

	base_cfg(&c);
	c.jitter_ns = 5000;
	a = mk(&c);
	b = mk(&c);
	for (int i = 0; i < 20000; i++) {
		cr_assert_eq(fc_gen_next(a, ba, sizeof(ba), &la, &ta), 0);
		cr_assert_eq(fc_gen_next(b, bb, sizeof(bb), &lb, &tb), 0);
		cr_assert_eq(la, lb);
		cr_assert_eq(ta, tb);
		cr_assert_eq(memcmp(ba, bb, la), 0, "frame %d differs", i);
	}
	fc_gen_free(a);
	fc_gen_free(b);
}

Test(gen, different_seed_different_bytes)
{
	struct fc_gen_cfg c;
	uint64_t h1, h2;

	base_cfg(&c);
	h1 = digest(&c, 1000);
	c.seed = 2;
	h2 = digest(&c, 1000);
	cr_assert_neq(h1, h2);
}

/*
 * The output is pinned: these digests must be the same on every machine
 * and compiler. A deliberate change of the generator's output updates
 * them (and invalidates stored generated traces).
 */
Test(gen, pinned_digest)
{
	struct fc_gen_cfg c;

	base_cfg(&c);
	cr_expect_eq(digest(&c, 10000), GEN_DIGEST_BASE,
		     "digest %#llx", (unsigned long long)digest(&c, 10000));
	fc_gen_cfg_init(&c);
	cr_expect_eq(digest(&c, 10000), GEN_DIGEST_DEFAULT,
		     "digest %#llx", (unsigned long long)digest(&c, 10000));
}

Test(gen, frames_are_valid)
{
	struct fc_gen_cfg c;
	struct fc_gen *g;
	uint8_t buf[BUF];
	uint32_t len;
	uint64_t ts;
	struct frame f;

	base_cfg(&c);
	c.flows = 20000;
	g = mk(&c);
	for (int i = 0; i < 100000; i++) {
		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		check_frame(buf, len, &f);
	}
	fc_gen_free(g);
	c.size = FC_GEN_SIZE_64;
	c.flows = 1000;
	g = mk(&c);
	for (int i = 0; i < 20000; i++) {
		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		check_frame(buf, len, &f);
		/* 64 bytes on the wire = 60 captured, plus tags, unless the
		 * headers alone are longer (IPv6 TCP, ICMP errors) */
		if (!f.v6 && f.proto != 1)
			cr_assert_eq(len, 60 + 4 * f.tags);
	}
	fc_gen_free(g);
}

Test(gen, shares_match_cfg)
{
	struct fc_gen_cfg c;
	struct fc_gen *g;
	uint8_t buf[BUF];
	uint32_t len;
	uint64_t ts;
	struct frame f;
	const int n = 200000;
	int v6 = 0, tag1 = 0, tag2 = 0, tcp = 0, udp = 0, icmp = 0;
	int tcp_bs = 0, icmp_bs = 0, small = 0, mid = 0, big = 0;

	base_cfg(&c);
	c.zipf = 0; /* uniform: packet shares estimate flow shares */
	c.flows = 1000000;
	g = mk(&c);
	for (int i = 0; i < n; i++) {
		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		check_frame(buf, len, &f);
		v6 += f.v6;
		tag1 += f.tags == 1;
		tag2 += f.tags == 2;
		if (f.proto == 6) {
			tcp++;
			tcp_bs += is_backscatter(&f);
		} else if (f.proto == 17) {
			udp++;
			cr_assert(!is_backscatter(&f));
		} else {
			icmp++;
			icmp_bs += is_backscatter(&f);
		}
		len -= 4 * f.tags;
		if (len >= 1400)
			big++;
		else if (len >= 500)
			mid++;
		else
			small++;
	}
	fc_gen_free(g);
#define NEAR(x, total, want, tol) \
	cr_expect(fabs((double)(x) / (total) - (want)) < (tol), \
		  #x ": %.4f, want %.4f", (double)(x) / (total), (want))
	NEAR(v6, n, 0.3, 0.01);
	NEAR(tag1, n, 0.2, 0.01);
	NEAR(tag2, n, 0.1, 0.01);
	NEAR(tcp, n, 0.5, 0.01);
	NEAR(udp, n, 0.25, 0.01);
	NEAR(icmp, n, 0.25, 0.01);
	NEAR(tcp_bs, tcp, 0.3, 0.015);
	NEAR(icmp_bs, icmp, 0.3, 0.015);
	NEAR(small, n, 7.0 / 12, 0.01);
	NEAR(mid, n, 4.0 / 12, 0.01);
	NEAR(big, n, 1.0 / 12, 0.01);
}

/* Count packets per flow key (the flowtuple fields) in a small table. */
struct keycount {
	struct frame k;
	uint32_t n;
	int used;
};

static int key_eq(const struct frame *a, const struct frame *b)
{
	return a->v6 == b->v6 && a->proto == b->proto && a->ttl == b->ttl &&
	       a->flags == b->flags && a->sport == b->sport &&
	       a->dport == b->dport && a->iplen == b->iplen &&
	       memcmp(a->src, b->src, 16) == 0 &&
	       memcmp(a->dst, b->dst, 16) == 0;
}

static uint32_t count_keys(const struct fc_gen_cfg *c, int n,
			   struct keycount *t, uint32_t tsize)
{
	struct fc_gen *g = mk(c);
	uint8_t buf[BUF];
	uint32_t len, distinct = 0;
	uint64_t ts;
	struct frame f;

	memset(t, 0, tsize * sizeof(*t));
	for (int i = 0; i < n; i++) {
		uint64_t h;
		uint32_t s;

		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		check_frame(buf, len, &f);
		f.len = 0;
		f.ts = 0;
		f.tags = 0;
		h = fnv1a(0xcbf29ce484222325ULL, f.src, 32);
		h = fnv1a(h, &f.sport, 2);
		h = fnv1a(h, &f.dport, 2);
		for (s = (uint32_t)h % tsize; t[s].used && !key_eq(&t[s].k, &f);
		     s = (s + 1) % tsize)
			;
		if (!t[s].used) {
			t[s].used = 1;
			t[s].k = f;
			distinct++;
			cr_assert_lt(distinct, tsize / 2);
		}
		t[s].n++;
	}
	fc_gen_free(g);
	return distinct;
}

static int cmp_desc(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

Test(gen, zipf_head_shares)
{
	struct fc_gen_cfg c;
	const uint32_t tsize = 1 << 14;
	struct keycount *t = calloc(tsize, sizeof(*t));
	uint32_t *counts = calloc(tsize, sizeof(*counts));
	const int n = 300000;
	uint32_t d, m = 0;
	double h = 0, p1, p2, p10;

	cr_assert_not_null(t);
	fc_gen_cfg_init(&c);
	c.flows = 1000;
	c.zipf = 1.1;
	d = count_keys(&c, n, t, tsize);
	cr_expect_leq(d, 1000);
	for (uint32_t i = 0; i < tsize; i++)
		if (t[i].used)
			counts[m++] = t[i].n;
	qsort(counts, m, sizeof(*counts), cmp_desc);
	for (int k = 1; k <= 1000; k++)
		h += pow(k, -1.1);
	p1 = 1 / h;
	p2 = pow(2, -1.1) / h;
	p10 = pow(10, -1.1) / h;
	/* the k-th most frequent key is rank k (the head is well separated);
	 * tolerances are several standard deviations */
	cr_expect(fabs((double)counts[0] / n - p1) < 0.01 * p1 + 0.003,
		  "rank 1 share %.4f, want %.4f", (double)counts[0] / n, p1);
	cr_expect(fabs((double)counts[1] / n - p2) < 0.03 * p2 + 0.002,
		  "rank 2 share %.4f, want %.4f", (double)counts[1] / n, p2);
	cr_expect(fabs((double)counts[9] / n - p10) < 0.1 * p10 + 0.001,
		  "rank 10 share %.4f, want %.4f", (double)counts[9] / n, p10);
	free(t);
	free(counts);
}

Test(gen, distinct_flows_bounded)
{
	struct fc_gen_cfg c;
	const uint32_t tsize = 1 << 14;
	struct keycount *t = calloc(tsize, sizeof(*t));
	uint32_t d;

	cr_assert_not_null(t);
	base_cfg(&c);
	c.flows = 500;
	c.zipf = 0;
	d = count_keys(&c, 100000, t, tsize);
	cr_expect_leq(d, 500, "%u distinct keys from 500 flows", d);
	cr_expect_geq(d, 495, "%u distinct keys from 500 flows", d);
	c.zipf = 1.5;
	d = count_keys(&c, 100000, t, tsize);
	cr_expect_leq(d, 500, "%u distinct keys from 500 flows", d);
	c.flows = 1;
	d = count_keys(&c, 1000, t, tsize);
	cr_expect_eq(d, 1);
	free(t);
}

Test(gen, timestamps_follow_rate)
{
	struct fc_gen_cfg c;
	struct fc_gen *g;
	uint8_t buf[BUF];
	uint32_t len;
	uint64_t ts, start = 1700000000500000000ULL;

	fc_gen_cfg_init(&c);
	c.flows = 100;
	c.rate_pps = 3000; /* 333333.33 ns: exercises the remainder */
	c.start_ns = start;
	g = mk(&c);
	for (uint64_t i = 0; i < 10000; i++) {
		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		cr_assert_eq(ts, start + i * 1000000000ULL / 3000, "i=%llu",
			     (unsigned long long)i);
	}
	fc_gen_free(g);
	c.jitter_ns = 1000000;
	g = mk(&c);
	int back = 0;
	uint64_t prev = 0;

	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t base = start + i * 1000000000ULL / 3000;

		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		cr_assert(ts >= base && ts <= base + 1000000);
		back += ts < prev;
		prev = ts;
	}
	cr_expect_gt(back, 0, "jitter > 1/rate reorders some packets");
	fc_gen_free(g);
}

Test(gen, end_of_stream_and_small_buffer)
{
	struct fc_gen_cfg c;
	struct fc_gen *g, *ref;
	uint8_t buf[BUF], rbuf[BUF];
	uint32_t len, rlen;
	uint64_t ts, rts;

	fc_gen_cfg_init(&c);
	c.packets = 10;
	g = mk(&c);
	ref = mk(&c);
	cr_assert_eq(fc_gen_next(g, buf, 20, &len, &ts), -ENOBUFS);
	cr_assert_eq(fc_gen_count(g), 0);
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), 0);
		cr_assert_eq(fc_gen_next(ref, rbuf, sizeof(rbuf), &rlen, &rts),
			     0);
		cr_assert_eq(len, rlen);
		cr_assert_eq(memcmp(buf, rbuf, len), 0,
			     "a refused call must not consume randomness");
	}
	cr_assert_eq(fc_gen_next(g, buf, sizeof(buf), &len, &ts), -ENODATA);
	cr_assert_eq(fc_gen_count(g), 10);
	fc_gen_free(g);
	fc_gen_free(ref);
	fc_gen_free(NULL);
}

Test(gen, bad_cfg_rejected)
{
	struct fc_gen_cfg c;
	char err[128];

	fc_gen_cfg_init(&c);
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), 0);
	c.zipf = 11;
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "zipf") != NULL, "%s", err);
	errno = 0;
	cr_assert_null(fc_gen_create(&c));
	cr_assert_eq(errno, EINVAL);
	fc_gen_cfg_init(&c);
	c.vlan = 0.7;
	c.qinq = 0.4;
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "qinq") != NULL, "%s", err);
	fc_gen_cfg_init(&c);
	c.mix_tcp = c.mix_udp = c.mix_icmp = 0;
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), -EINVAL);
	fc_gen_cfg_init(&c);
	c.flows = 0;
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), -EINVAL);
	fc_gen_cfg_init(&c);
	c.rate_pps = 0;
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), -EINVAL);
	fc_gen_cfg_init(&c);
	c.ipv6 = -0.1;
	cr_assert_eq(fc_gen_cfg_check(&c, err, sizeof(err)), -EINVAL);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the flowtuple file writer and reader: round trips (IPv4 and
 * IPv6, empty intervals, intervals of several blocks, counters), atomic
 * creation, and hostile files: every truncation, every bit flip, bad magic
 * and version, absurd lengths and counts with valid checksums, values the
 * format forbids, unknown fields and block types.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "fc_ftdir.h"
#include "fc_ftfile.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/fc-test-ftfile.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(ftfile, .init = setup, .fini = teardown);

static char *pathf(const char *name)
{
	static char p[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A deterministic record: every 5th one IPv6, all fields varied. */
static void make_rec(struct fc_ft_record *r, uint64_t i)
{
	memset(r, 0, sizeof(*r));
	r->key.cls = (uint8_t)(i % 3);
	if (i % 5 == 4) {
		r->key.family = 6;
		r->key.src_ip[0] = 0x20;
		r->key.src_ip[1] = 0x01;
		r->key.src_ip[15] = (uint8_t)i;
		r->key.src_ip[8] = (uint8_t)(i >> 8);
		r->key.dst_ip[0] = 0xfe;
		r->key.dst_ip[1] = 0x80;
		r->key.dst_ip[14] = (uint8_t)(i >> 3);
	} else {
		r->key.family = 4;
		r->key.src_ip[0] = 10;
		r->key.src_ip[1] = (uint8_t)(i >> 16);
		r->key.src_ip[2] = (uint8_t)(i >> 8);
		r->key.src_ip[3] = (uint8_t)i;
		r->key.dst_ip[0] = 192;
		r->key.dst_ip[1] = 168;
		r->key.dst_ip[3] = (uint8_t)(i * 7);
	}
	r->key.src_port = (uint16_t)(i * 31);
	r->key.dst_port = (uint16_t)(i % 1024);
	r->key.proto = (uint8_t)(i % 2 ? 6 : 17);
	r->key.ttl = (uint8_t)(i % 255);
	r->key.tcp_flags = (uint8_t)(i % 64);
	r->key.ip_len = (uint32_t)(40 + i % 70000);
	r->packets = 1 + i % 1000 + (i % 17 == 0 ? (1ull << 40) : 0);
}

static const uint64_t iv_sizes[] = {10, 0, 150000, 3, 0};
#define N_IVS (sizeof(iv_sizes) / sizeof(iv_sizes[0]))

static void fill_iv(struct fc_ft_interval *iv, unsigned k)
{
	memset(iv, 0, sizeof(*iv));
	iv->index = k;
	iv->flags = k == N_IVS - 1 ? FC_FT_IV_LAST : 0;
	iv->start = 1700000000 + 60ull * k;
	iv->end = iv->start + 59;
	iv->rec_pkts = 1000 + k;
	iv->ctr[FC_CTR_NOT_IP] = k;
	iv->ctr[FC_CTR_TBL_FULL] = 7 * k;
	iv->ctr[FC_CTR_LATE] = 3;
	iv->rx_pkts = iv->rec_pkts + iv->ctr[FC_CTR_NOT_IP] +
		      iv->ctr[FC_CTR_TBL_FULL];
}

static void info_of(struct fc_ft_file_info *info)
{
	memset(info, 0, sizeof(*info));
	info->kind = FC_FT_KIND_FLOWTUPLE;
	info->interval_len = 60;
	info->flags = FC_FT_F_ALIGNED;
	info->created = 1700000123;
	snprintf(info->monitor, sizeof(info->monitor), "telescope-1");
}

/* Write intervals with sizes[] records; record numbers continue across
 * intervals. */
static void write_file(const char *path, const uint64_t *sizes, unsigned n)
{
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	struct fc_ft_record *recs;
	uint64_t base = 0, max = 0;
	int st;

	for (unsigned k = 0; k < n; k++)
		if (sizes[k] > max)
			max = sizes[k];
	recs = calloc(max + 1, sizeof(*recs));
	cr_assert_not_null(recs);
	info_of(&info);
	w = fc_ft_writer_open(path, &info, &st);
	cr_assert_not_null(w, "open: %s", fc_ft_strerror(st));
	for (unsigned k = 0; k < n; k++) {
		struct fc_ft_interval iv;

		fill_iv(&iv, k);
		for (uint64_t i = 0; i < sizes[k]; i++)
			make_rec(&recs[i], base + i);
		base += sizes[k];
		cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, sizes[k]),
			     FC_FT_OK);
	}
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	free(recs);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long l;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	l = ftell(f);
	rewind(f);
	b = malloc((size_t)l + 1);
	cr_assert_eq(fread(b, 1, (size_t)l, f), (size_t)l);
	fclose(f);
	*len = (size_t)l;
	return b;
}

static void spit(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(b, 1, len, f), len);
	fclose(f);
}

/* Read a whole file. Returns the final status (0 clean end, <0 error,
 * including open errors); counts what was returned and checks every record
 * against make_rec. */
static int read_all(const char *path, uint64_t *n_iv, uint64_t *n_rec,
		    uint64_t *err_off)
{
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec, want;
	uint64_t ni = 0, nr = 0;
	int st, rc;

	r = fc_ft_reader_open(path, &st);
	if (r == NULL) {
		cr_assert_lt(st, 0);
		if (err_off)
			*err_off = 0;
		if (n_iv)
			*n_iv = 0;
		if (n_rec)
			*n_rec = 0;
		return st;
	}
	while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		ni++;
		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1) {
			make_rec(&want, nr);
			cr_assert(memcmp(&rec, &want, sizeof(rec)) == 0,
				  "record %lu differs", (unsigned long)nr);
			nr++;
		}
		if (rc < 0)
			break;
	}
	if (err_off)
		*err_off = fc_ft_reader_error_offset(r);
	fc_ft_reader_close(r);
	if (n_iv)
		*n_iv = ni;
	if (n_rec)
		*n_rec = nr;
	return rc;
}

/*
 * The hostile-file tests run on both layouts: version 2 (what the writer
 * writes: every structure behind an 8-byte zstd skippable frame header) and
 * version 1 (no frame headers), built here from a version 2 file. pre is
 * the frame header size of the layout under test; block offsets below are
 * those of the block headers, a structure starts pre bytes before.
 */
static size_t pre;

static void put32le(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Block offsets of a file in memory: header length, then each block. */
static size_t blocks(const uint8_t *b, size_t len, size_t *off, size_t max)
{
	size_t p, n = 0;

	p = pre + get32le(b + pre + 8);
	while (p + pre + 12 <= len && n < max) {
		uint32_t l = get32le(b + p + pre + 4);

		off[n++] = p + pre;
		p += pre + 12 + l;
	}
	return n;
}

/* Recompute the checksum of the block at off (after a patch). */
static void fix_block(uint8_t *b, size_t off)
{
	uint32_t l = get32le(b + off + 4);
	uint32_t c = fc_ft_crc32c(0, b + off, 8);

	c = fc_ft_crc32c(c, b + off + 12, l);
	put32le(b + off + 8, c);
}

/* Recompute the END block (the last 32 bytes) for the bytes before it
 * (and before its frame header). */
static void fix_end(uint8_t *b, size_t len)
{
	put32le(b + len - 32 + 12 + 16, fc_ft_crc32c(0, b, len - 32 - pre));
	fix_block(b, len - 32);
}

static void fix_header(uint8_t *b)
{
	uint32_t hl = get32le(b + pre + 8);

	put32le(b + pre + hl - 4, fc_ft_crc32c(0, b + pre, hl - 4));
}

/* Version 1 bytes of a version 2 file, in place: drop every skippable
 * frame header, set the version to 1.0, recompute the header and file
 * checksums (block checksums do not cover frame headers). */
static size_t to_v1(uint8_t *b, size_t len)
{
	uint8_t *o = malloc(len);
	size_t hl = get32le(b + 16), p = 8 + hl, n = hl;

	cr_assert_not_null(o);
	cr_assert_eq(get32le(b), 0x184D2A56u);
	memcpy(o, b + 8, hl);
	o[4] = 1;
	o[5] = o[6] = o[7] = 0;
	while (p + 20 <= len) {
		uint32_t l = get32le(b + p + 12);

		memcpy(o + n, b + p + 8, 12 + l);
		n += 12 + l;
		p += 20 + l;
	}
	cr_assert_eq(p, len);
	memcpy(b, o, n);
	free(o);
	pre = 0;
	fix_header(b);
	fix_end(b, n);
	return n;
}

/* Write sizes[] intervals to path and load the bytes in layout v (1, 2);
 * sets pre. */
static uint8_t *load(const char *path, const uint64_t *sizes, unsigned n,
		     int v, size_t *len)
{
	uint8_t *b;

	write_file(path, sizes, n);
	b = slurp(path, len);
	pre = 8;
	if (v == 1)
		*len = to_v1(b, *len);
	return b;
}

/* A test body run on both layouts. */
#define BOTH_LAYOUTS(name)                                                    \
	static void name(int v);                                              \
	Test(ftfile, name##_v1) { name(1); }                                  \
	Test(ftfile, name##_v2) { name(2); }                                  \
	static void name(int v)

/* ---------------------------------------------------------------------- */

Test(ftfile, crc32c_known_value_and_both_paths_agree)
{
	uint8_t buf[1000];

	cr_assert_eq(fc_ft_crc32c(0, "123456789", 9), 0xE3069283u);
	cr_assert_eq(fc_ft_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (size_t n = 0; n < 40; n++)
		cr_assert_eq(fc_ft_crc32c(0, buf + 3, n),
			     fc_ft_crc32c_sw(0, buf + 3, n));
	cr_assert_eq(fc_ft_crc32c(fc_ft_crc32c(0, buf, 333), buf + 333, 667),
		     fc_ft_crc32c_sw(0, buf, 1000));
	/* Long buffers take three chains joined at the end: every length
	 * around the thresholds and a few large ones, from a running CRC. */
	{
		size_t len = 3 << 20;
		uint8_t *big = malloc(len);

		cr_assert_not_null(big);
		for (size_t i = 0; i < len; i++)
			big[i] = (uint8_t)rnd();
		for (size_t n = 3 * 4096 - 30; n < 3 * 4096 + 50; n++)
			cr_assert_eq(fc_ft_crc32c(0x1234567u, big + 1, n),
				     fc_ft_crc32c_sw(0x1234567u, big + 1, n),
				     "%zu bytes", n);
		for (size_t n = 100000; n < len; n = n * 3 + 7)
			cr_assert_eq(fc_ft_crc32c(77, big, n),
				     fc_ft_crc32c_sw(77, big, n),
				     "%zu bytes", n);
		cr_assert_eq(fc_ft_crc32c(fc_ft_crc32c(0, big, 70001),
					  big + 70001, len - 70001),
			     fc_ft_crc32c_sw(0, big, len));
		free(big);
	}
}

Test(ftfile, names_of_statuses_and_counters)
{
	cr_assert_str_eq(fc_ft_counter_name(FC_CTR_NOT_IP), "not_ip");
	cr_assert_str_eq(fc_ft_counter_name(FC_CTR_TOO_DEEP), "too_deep");
	cr_assert_str_eq(fc_ft_counter_name(FC_CTR_TBL_FULL), "tbl_full");
	cr_assert_str_eq(fc_ft_counter_name(FC_CTR_NIC_IERRORS), "nic_ierrors");
	cr_assert_str_eq(fc_ft_counter_name(FC_CTR_LATE), "late");
	cr_assert_null(fc_ft_counter_name(0));
	cr_assert_str_eq(fc_ft_counter_name(FC_CTR_TUNNEL_DEEP), "tunnel_deep");
	cr_assert_null(fc_ft_counter_name(9));
	cr_assert_null(fc_ft_counter_name(FC_CTR_MAX));
	cr_assert_null(fc_ft_counter_name(1000));
	for (int s = 0; s >= -12; s--)
		cr_assert_not_null(fc_ft_strerror(s));
	cr_assert_str_eq(fc_ft_strerror(FC_FT_E_TRUNCATED),
			 "file is truncated");
	cr_assert_str_eq(fc_ft_strerror(12345), "unknown status");
}

Test(ftfile, round_trip_ipv4_ipv6_empty_and_multi_block_intervals)
{
	const char *p = pathf("a.ft.zst");
	struct fc_ft_reader *r;
	struct fc_ft_interval iv, want;
	struct fc_ft_record rec, wrec;
	uint64_t nr = 0;
	int st;

	write_file(p, iv_sizes, N_IVS);
	r = fc_ft_reader_open(p, &st);
	cr_assert_not_null(r, "%s", fc_ft_strerror(st));
	cr_assert_eq(fc_ft_reader_info(r)->version_major, FC_FT_VERSION_MAJOR);
	cr_assert_eq(fc_ft_reader_info(r)->version_minor, FC_FT_VERSION_MINOR);
	cr_assert_eq(fc_ft_reader_info(r)->kind, FC_FT_KIND_FLOWTUPLE);
	cr_assert_eq(fc_ft_reader_info(r)->interval_len, 60);
	cr_assert_eq(fc_ft_reader_info(r)->flags, FC_FT_F_ALIGNED);
	cr_assert_eq(fc_ft_reader_info(r)->created, 1700000123);
	cr_assert_str_eq(fc_ft_reader_info(r)->monitor, "telescope-1");
	for (unsigned k = 0; k < N_IVS; k++) {
		uint64_t got = 0;

		cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
		fill_iv(&want, k);
		want.n_records = iv_sizes[k];
		cr_assert(memcmp(&iv, &want, sizeof(iv)) == 0,
			  "interval %u differs", k);
		while ((st = fc_ft_reader_next_record(r, &rec)) == 1) {
			make_rec(&wrec, nr++);
			cr_assert(memcmp(&rec, &wrec, sizeof(rec)) == 0);
			got++;
		}
		cr_assert_eq(st, 0);
		cr_assert_eq(got, iv_sizes[k]);
	}
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 0);
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 0);
	cr_assert_eq(fc_ft_reader_next_record(r, &rec), 0);
	fc_ft_reader_close(r);
}

/* The block reader returns the records next_record returns, every one
 * once, also when the two are mixed in one interval; 0 at each interval's
 * end and after the last. */
Test(ftfile, next_block_returns_every_record_once_mixed_or_not)
{
	const char *p = pathf("b.ft.zst");
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec, wrec;
	const struct fc_ft_record *v;
	uint64_t nr = 0;
	int st, n;

	write_file(p, iv_sizes, N_IVS);
	r = fc_ft_reader_open(p, &st);
	cr_assert_not_null(r, "%s", fc_ft_strerror(st));
	for (unsigned k = 0; k < N_IVS; k++) {
		uint64_t got = 0;

		cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
		/* In odd intervals, one record first through next_record. */
		if ((k & 1) && iv_sizes[k] > 0) {
			cr_assert_eq(fc_ft_reader_next_record(r, &rec), 1);
			make_rec(&wrec, nr++);
			cr_assert(memcmp(&rec, &wrec, sizeof(rec)) == 0);
			got++;
		}
		while ((n = fc_ft_reader_next_block(r, &v)) > 0) {
			cr_assert_leq(n, FC_FT_BLOCK_RECORDS);
			for (int i = 0; i < n; i++) {
				make_rec(&wrec, nr++);
				cr_assert(memcmp(&v[i], &wrec, sizeof(wrec)) == 0,
					  "interval %u, record %" PRIu64, k,
					  got);
				got++;
			}
		}
		cr_assert_eq(n, 0);
		cr_assert_eq(got, iv_sizes[k], "interval %u: %" PRIu64 " of %"
			     PRIu64, k, got, (uint64_t)iv_sizes[k]);
	}
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 0);
	cr_assert_eq(fc_ft_reader_next_block(r, &v), 0);
	cr_assert_eq(fc_ft_reader_next_block(NULL, &v), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_reader_next_block(r, NULL), FC_FT_E_INVAL);
	fc_ft_reader_close(r);
}

/* Record e as a reader decoding only the fields in m gives it. */
static void project(struct fc_ft_record *e, uint64_t m)
{
#define ZERO_UNLESS(fid, x) \
	if (!(m >> (fid) & 1)) \
		memset(&e->key.x, 0, sizeof(e->key.x))
	ZERO_UNLESS(FC_FT_FID_CLASS, cls);
	ZERO_UNLESS(FC_FT_FID_SRC_IP, src_ip);
	ZERO_UNLESS(FC_FT_FID_DST_IP, dst_ip);
	ZERO_UNLESS(FC_FT_FID_SRC_PORT, src_port);
	ZERO_UNLESS(FC_FT_FID_DST_PORT, dst_port);
	ZERO_UNLESS(FC_FT_FID_PROTO, proto);
	ZERO_UNLESS(FC_FT_FID_TTL, ttl);
	ZERO_UNLESS(FC_FT_FID_TCP_FLAGS, tcp_flags);
	ZERO_UNLESS(FC_FT_FID_IP_LEN, ip_len);
#undef ZERO_UNLESS
}

/* Only the fields asked for are decoded, the others read as 0; family
 * and packets always; asking after the first records is refused. */
Test(ftfile, reader_decodes_only_the_fields_asked_for)
{
	const char *p = pathf("f.ft.zst");
	const uint64_t want[] = {
		UINT64_C(1) << FC_FT_FID_PROTO,
		UINT64_C(1) << FC_FT_FID_SRC_IP | UINT64_C(1) << FC_FT_FID_DST_PORT,
		UINT64_C(1) << FC_FT_FID_TTL | UINT64_C(1) << FC_FT_FID_CLASS |
			UINT64_C(1) << FC_FT_FID_IP_LEN |
			UINT64_C(1) << FC_FT_FID_DST_IP,
		0,
		UINT64_MAX,
	};

	write_file(p, iv_sizes, N_IVS);
	for (unsigned w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		struct fc_ft_reader *r;
		struct fc_ft_interval iv;
		const struct fc_ft_record *v;
		uint64_t nr = 0;
		int st, n;

		r = fc_ft_reader_open(p, &st);
		cr_assert_not_null(r, "%s", fc_ft_strerror(st));
		cr_assert_eq(fc_ft_reader_fields(r, want[w]), FC_FT_OK);
		for (unsigned k = 0; k < N_IVS; k++) {
			cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
			while ((n = fc_ft_reader_next_block(r, &v)) > 0)
				for (int i = 0; i < n; i++) {
					struct fc_ft_record e;

					make_rec(&e, nr++);
					project(&e, want[w]);
					cr_assert(memcmp(&v[i], &e, sizeof(e)) == 0,
						  "mask %u, interval %u, record "
						  "%" PRIu64, w, k, nr - 1);
				}
			cr_assert_eq(n, 0);
		}
		cr_assert_eq(fc_ft_reader_fields(r, want[w]), FC_FT_E_INVAL,
			     "asked after the records");
		fc_ft_reader_close(r);
	}
}

/* One file of the N_IVS intervals from recs (records numbered from 0 in
 * every interval), through cache c (NULL: none). */
static void write_recs(const char *path, const struct fc_ft_record *recs,
		       struct fc_ft_wcache *c)
{
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	int st;

	info_of(&info);
	w = fc_ft_writer_open_cached(path, &info, c, &st);
	cr_assert_not_null(w, "open: %s", fc_ft_strerror(st));
	for (unsigned k = 0; k < N_IVS; k++) {
		struct fc_ft_interval iv;

		fill_iv(&iv, k);
		cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs,
						       iv_sizes[k]),
			     FC_FT_OK);
	}
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
}

static long minflt(void)
{
	struct rusage ru;

	cr_assert_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_minflt;
}

Test(ftfile, cached_writers_write_the_same_bytes_and_fault_in_nothing)
{
	struct fc_ft_wcache *c = fc_ft_wcache_create();
	struct fc_ft_record *recs = calloc(150000, sizeof(*recs));
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	struct fc_ft_interval iv;
	uint8_t *ref, *got;
	size_t lr, lg;
	long f0, f1;
	int st;

	cr_assert_not_null(c);
	cr_assert_not_null(recs);
	for (uint64_t i = 0; i < 150000; i++)
		make_rec(&recs[i], i);
	write_recs(pathf("ref.ft.zst"), recs, NULL);
	ref = slurp(pathf("ref.ft.zst"), &lr);
	/* An aborted writer gives its buffers back too. */
	info_of(&info);
	w = fc_ft_writer_open_cached(pathf("ab.ft.zst"), &info, c, &st);
	cr_assert_not_null(w);
	fill_iv(&iv, 2);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 150000), FC_FT_OK);
	fc_ft_writer_abort(w);
	write_recs(pathf("c0.ft.zst"), recs, c);
	/* Warm: three more files take what the first left in the cache.
	 * Without it each file maps and faults in about 8 MB (some 2000
	 * pages) that it then gives back. */
	f0 = minflt();
	for (int i = 1; i <= 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "c%d.ft.zst", i);
		write_recs(pathf(name), recs, c);
	}
	f1 = minflt();
	cr_assert_lt(f1 - f0, 3 * 64, "%ld page faults for 3 files", f1 - f0);
	for (int i = 0; i <= 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "c%d.ft.zst", i);
		got = slurp(pathf(name), &lg);
		cr_assert_eq(lg, lr);
		cr_assert_eq(memcmp(got, ref, lr), 0, "file %d differs", i);
		free(got);
	}
	/* Two writers at once: the second has its own set. */
	w = fc_ft_writer_open_cached(pathf("d0.ft.zst"), &info, c, &st);
	cr_assert_not_null(w);
	write_recs(pathf("d1.ft.zst"), recs, c);
	fill_iv(&iv, 0);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 10), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	got = slurp(pathf("d1.ft.zst"), &lg);
	cr_assert_eq(lg, lr);
	cr_assert_eq(memcmp(got, ref, lr), 0);
	free(got);
	free(ref);
	free(recs);
	fc_ft_wcache_free(c);
	fc_ft_wcache_free(NULL);
}

Test(ftfile, next_interval_skips_unread_records)
{
	const char *p = pathf("s.ft.zst");
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec, want;
	int st;

	write_file(p, iv_sizes, N_IVS);
	r = fc_ft_reader_open(p, &st);
	cr_assert_not_null(r);
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
	cr_assert_eq(fc_ft_reader_next_record(r, &rec), 1); /* 1 of 10 */
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
	cr_assert_eq(iv.index, 1);
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
	cr_assert_eq(iv.index, 2); /* 150000 records, none read */
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
	cr_assert_eq(iv.index, 3);
	cr_assert_eq(fc_ft_reader_next_record(r, &rec), 1);
	make_rec(&want, 10 + 150000);
	cr_assert(memcmp(&rec, &want, sizeof(rec)) == 0);
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 0);
	fc_ft_reader_close(r);
}

Test(ftfile, every_counter_and_flag_round_trips)
{
	const char *p = pathf("c.ft.zst");
	struct fc_ft_file_info info;
	struct fc_ft_interval iv, got;
	struct fc_ft_writer *w;
	struct fc_ft_reader *r;
	int st;

	info_of(&info);
	memset(&iv, 0, sizeof(iv));
	iv.flags = FC_FT_IV_PARTIAL | FC_FT_IV_LATE | FC_FT_IV_LAST |
		   FC_FT_IV_GAP;
	iv.start = 5;
	iv.end = 5 + 600 - 1;
	for (unsigned i = 1; i < FC_CTR_MAX; i++)
		if (fc_ft_counter_name(i))
			iv.ctr[i] = UINT64_MAX - i;
	iv.ctr[9] = 99; /* no name: not stored */
	w = fc_ft_writer_open(p, &info, &st);
	cr_assert_not_null(w);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, NULL, 0), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	r = fc_ft_reader_open(p, &st);
	cr_assert_not_null(r);
	cr_assert_eq(fc_ft_reader_next_interval(r, &got), 1);
	iv.ctr[9] = 0;
	cr_assert(memcmp(&iv, &got, sizeof(iv)) == 0);
	cr_assert_eq(fc_ft_reader_next_interval(r, &got), 0);
	fc_ft_reader_close(r);
}

Test(ftfile, file_appears_only_at_close_and_tmp_goes_away)
{
	const char *p = pathf("x.ft.zst"), *tmp = pathf("x.ft.zst.tmp");
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_writer *w;
	struct stat st;
	int s;

	info_of(&info);
	umask(022);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	cr_assert_neq(stat(p, &st), 0);
	cr_assert_eq(stat(tmp, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640);
	fill_iv(&iv, 0);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, NULL, 0), FC_FT_OK);
	cr_assert_neq(stat(p, &st), 0);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0640);
	cr_assert_neq(stat(tmp, &st), 0);
	cr_assert_eq(read_all(p, NULL, NULL, NULL), 0);
}

/* The directory's fsync is the last step: when it fails, the file is
 * complete under its name and the caller hears FC_FT_E_DIRSYNC, not a
 * failure that would have it count the intervals lost. */
Test(ftfile, failed_directory_sync_leaves_a_complete_file)
{
	const char *p = pathf("d.ft.zst"), *tmp = pathf("d.ft.zst.tmp");
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_record recs[7];
	struct fc_ft_writer *w;
	struct stat st;
	uint64_t ni, nr;
	int s, rc;

	info_of(&info);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	fill_iv(&iv, 0);
	for (unsigned i = 0; i < 7; i++)
		make_rec(&recs[i], i);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 7), FC_FT_OK);
	fc_ft_test_fail_dirsync(true);
	rc = fc_ft_writer_close(w);
	fc_ft_test_fail_dirsync(false);
	cr_assert_eq(rc, FC_FT_E_DIRSYNC, "close: %s", fc_ft_strerror(rc));
	cr_assert_str_neq(fc_ft_strerror(rc), "unknown status");
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_neq(stat(tmp, &st), 0);
	cr_assert_eq(read_all(p, &ni, &nr, NULL), 0);
	cr_assert_eq(ni, 1);
	cr_assert_eq(nr, 7);
}

Test(ftfile, abort_removes_tmp)
{
	const char *p = pathf("y.ft.zst"), *tmp = pathf("y.ft.zst.tmp");
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	struct stat st;
	int s;

	info_of(&info);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	fc_ft_writer_abort(w);
	fc_ft_writer_abort(NULL);
	cr_assert_neq(stat(tmp, &st), 0);
	cr_assert_neq(stat(p, &st), 0);
}

Test(ftfile, existing_final_or_tmp_name_is_refused)
{
	const char *p = pathf("e.ft.zst"), *tmp = pathf("e.ft.zst.tmp");
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	struct stat st;
	size_t len;
	uint8_t *b;
	int s;

	info_of(&info);
	spit(p, (const uint8_t *)"keep", 4);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_null(w);
	cr_assert_eq(s, FC_FT_E_EXISTS);
	unlink(p);
	spit(tmp, (const uint8_t *)"other writer", 12);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_null(w);
	cr_assert_eq(s, FC_FT_E_EXISTS);
	unlink(tmp);
	/* A final file that appears while writing is not replaced. */
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	spit(p, (const uint8_t *)"keep", 4);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_E_EXISTS);
	b = slurp(p, &len);
	cr_assert_eq(len, 4);
	cr_assert(memcmp(b, "keep", 4) == 0);
	free(b);
	cr_assert_neq(stat(tmp, &st), 0);
	/* A symlink as tmp name is not followed. */
	cr_assert_eq(symlink(pathf("nowhere"), tmp), 0);
	unlink(p);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_null(w);
	cr_assert_eq(s, FC_FT_E_EXISTS);
}

Test(ftfile, writer_rejects_what_the_reader_would_reject)
{
	const char *p = pathf("v.ft.zst");
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	struct fc_ft_writer *w;
	int s;

	info_of(&info);
	info.kind = 7;
	cr_assert_null(fc_ft_writer_open(p, &info, &s));
	cr_assert_eq(s, FC_FT_E_INVAL);
	info_of(&info);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	fill_iv(&iv, 0);
	make_rec(&rec, 1);
	rec.key.family = 5;
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, &rec, 1), FC_FT_E_INVAL);
	make_rec(&rec, 1);
	rec.key.cls = FC_FT_CLASS_COUNT;
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, &rec, 1), FC_FT_E_INVAL);
	make_rec(&rec, 1);
	rec.key.src_ip[9] = 1; /* IPv4 with bytes beyond the fourth */
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, &rec, 1), FC_FT_E_INVAL);
	iv.end = iv.start - 1;
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, NULL, 0), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_set_level(w, 0), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_set_level(w, 1000), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_set_level(w, 19), FC_FT_OK);
	fill_iv(&iv, 0);
	make_rec(&rec, 0);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, &rec, 1), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	cr_assert_eq(read_all(p, NULL, NULL, NULL), 0);
}

static const uint64_t small_sizes[] = {4, 0, 6};

BOTH_LAYOUTS(truncated_at_every_offset)
{
	const char *p = pathf("t.ft.zst"), *q = pathf("cut.ft.zst");
	size_t len, off[16], nb;
	uint8_t *b;

	b = load(p, small_sizes, 3, v, &len);
	nb = blocks(b, len, off, 16);
	cr_assert_eq(nb, 6); /* IV RECS IV IV RECS END */
	cr_assert_eq(off[nb - 1] + 32, len);
	for (size_t cut = 0; cut < len; cut++) {
		uint64_t ni, nr, eo;
		int rc;

		spit(q, b, cut);
		rc = read_all(q, &ni, &nr, &eo);
		cr_assert_eq(rc, FC_FT_E_TRUNCATED, "cut at %zu: %s", cut,
			     fc_ft_strerror(rc));
		/* What came out were whole blocks before the cut. */
		cr_assert_leq(eo, cut);
		if (cut >= off[5] - pre)
			cr_assert_eq(nr, 10, "cut at %zu", cut);
		else if (cut >= off[2] - pre)
			cr_assert_eq(nr, 4, "cut at %zu", cut);
		else
			cr_assert_eq(nr, 0, "cut at %zu", cut);
	}
	free(b);
}

BOTH_LAYOUTS(every_bit_flip_is_detected)
{
	const char *p = pathf("f.ft.zst"), *q = pathf("flip.ft.zst");
	size_t len;
	uint8_t *b;

	b = load(p, small_sizes, 3, v, &len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			int rc;

			b[i] ^= (uint8_t)(1u << bit);
			spit(q, b, len);
			rc = read_all(q, NULL, NULL, NULL);
			cr_assert_lt(rc, 0, "flip of byte %zu bit %d not "
				     "detected", i, bit);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	free(b);
}

BOTH_LAYOUTS(error_offset_names_the_damaged_block)
{
	const char *p = pathf("o.ft.zst"), *q = pathf("o2.ft.zst");
	size_t len, off[16];
	uint64_t ni, nr, eo;
	uint8_t *b;

	b = load(p, small_sizes, 3, v, &len);
	blocks(b, len, off, 16);
	b[off[4] + 30] ^= 0x40; /* inside the second RECORDS block */
	spit(q, b, len);
	cr_assert_eq(read_all(q, &ni, &nr, &eo), FC_FT_E_CHECKSUM);
	cr_assert_eq(eo, off[4] - pre); /* where its structure starts */
	cr_assert_eq(ni, 3);
	cr_assert_eq(nr, 4);
	free(b);
}

BOTH_LAYOUTS(bad_magic_version_and_empty_file)
{
	const char *p = pathf("m.ft.zst"), *q = pathf("m2.ft.zst");
	struct fc_ft_open_diag d;
	size_t len;
	uint8_t *b, keep;
	int st;

	b = load(p, small_sizes, 3, v, &len);
	spit(q, b, 0);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_TRUNCATED);
	spit(q, (const uint8_t *)"PK\3\4 this is a zip", 18);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_MAGIC);
	keep = b[0];
	b[0] = 'X';
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_MAGIC);
	b[0] = keep;
	b[pre] = 'X'; /* the header's own magic */
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_MAGIC);
	b[pre] = 'F';
	/* A damaged version field is damage, not a newer version: the
	 * header checksum is verified first. */
	b[pre + 4] = 3;
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CHECKSUM);
	/* Major 3 with a valid checksum: a newer format, and the version
	 * found is reported. */
	fix_header(b);
	spit(q, b, len);
	cr_assert_null(fc_ft_reader_open_diag(q, &st, &d));
	cr_assert_eq(st, FC_FT_E_VERSION);
	cr_assert_eq(d.version_major, 3);
	cr_assert_eq(d.err_off, pre + 4);
	/* The other supported major in this layout: not a file we wrote. */
	b[pre + 4] = v == 1 ? 2 : 1;
	fix_header(b);
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	b[pre + 4] = (uint8_t)v;
	b[pre + 6] = 9; /* minor 9: readable */
	fix_header(b);
	fix_end(b, len);
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), 0);
	struct fc_ft_reader *r = fc_ft_reader_open_diag(q, &st, &d);

	cr_assert_not_null(r);
	cr_assert_eq(d.version_major, v);
	cr_assert_eq(d.version_minor, 9);
	fc_ft_reader_close(r);
	free(b);
}

/* A missing file: FC_FT_E_IO with errno kept, for the caller's message. */
Test(ftfile, open_error_keeps_errno)
{
	struct fc_ft_open_diag d;
	int st;

	errno = 0;
	cr_assert_null(fc_ft_reader_open(pathf("missing"), &st));
	cr_assert_eq(st, FC_FT_E_IO);
	cr_assert_eq(errno, ENOENT);
	cr_assert_null(fc_ft_reader_open_diag(pathf("missing"), &st, &d));
	cr_assert_eq(d.sys_errno, ENOENT);
	cr_assert_null(fc_ft_reader_open_diag(dir, &st, &d));
	cr_assert_eq(d.sys_errno, EISDIR);
}

BOTH_LAYOUTS(absurd_lengths_and_counts_are_rejected_without_allocating)
{
	const char *p = pathf("l.ft.zst"), *q = pathf("l2.ft.zst");
	size_t len, off[16];
	uint64_t ni, nr, eo;
	uint8_t *b, *c;

	b = load(p, small_sizes, 3, v, &len);
	c = malloc(len);
	blocks(b, len, off, 16);
	/* 4 GiB block length (checksum cannot be reached): corrupt. */
	memcpy(c, b, len);
	put32le(c + off[1] + 4, 0xFFFFFFFFu);
	spit(q, c, len);
	cr_assert_eq(read_all(q, &ni, &nr, &eo), FC_FT_E_CORRUPT);
	cr_assert_eq(eo, off[1] - pre);
	/* Header length 4 GiB. */
	memcpy(c, b, len);
	put32le(c + pre + 8, 0xFFFFFFF0u);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	/* Record count of a block beyond the interval's, valid checksum. */
	memcpy(c, b, len);
	put32le(c + off[1] + 12, 1000000);
	fix_block(c, off[1]);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, &eo), FC_FT_E_CORRUPT);
	cr_assert_eq(eo, off[1] - pre);
	/* Uncompressed size that disagrees with the zstd frame. */
	memcpy(c, b, len);
	put32le(c + off[1] + 16, get32le(c + off[1] + 16) + 1);
	fix_block(c, off[1]);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	/* An interval that claims 2^40 records, valid checksum. */
	memcpy(c, b, len);
	c[off[0] + 12 + 40 + 5] = 1;
	fix_block(c, off[0]);
	spit(q, c, len);
	cr_assert_lt(read_all(q, NULL, NULL, NULL), 0);
	/* An interval that claims fewer records than its blocks hold. */
	memcpy(c, b, len);
	c[off[0] + 12 + 40] = 3;
	fix_block(c, off[0]);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	/* Counter count huge. */
	memcpy(c, b, len);
	put32le(c + off[0] + 12 + 48, 0x7FFFFFFF);
	fix_block(c, off[0]);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	/* END totals that disagree. */
	memcpy(c, b, len);
	c[len - 32 + 12] ^= 1;
	fix_block(c, len - 32);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	/* Garbage after the END block. */
	memcpy(c, b, len);
	spit(q, c, len);
	{
		FILE *f = fopen(q, "ab");

		fputs("x", f);
		fclose(f);
	}
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	free(c);
	free(b);
}

/* Rewrite the first RECORDS block's decompressed columns with fn. */
static void patch_columns(uint8_t **bp, size_t *lenp, size_t boff,
			  void (*fn)(uint8_t *raw, size_t n, size_t rawlen))
{
	uint8_t *b = *bp, *nb, raw[4096], z[4096];
	uint32_t l = get32le(b + boff + 4), n = get32le(b + boff + 12);
	uint32_t rl = get32le(b + boff + 16);
	size_t zl, nlen;

	cr_assert_eq(ZSTD_decompress(raw, sizeof(raw), b + boff + 20, l - 8),
		     rl);
	fn(raw, n, rl);
	zl = ZSTD_compress(z, sizeof(z), raw, rl, 3);
	cr_assert(!ZSTD_isError(zl));
	nlen = *lenp - (l - 8) + zl;
	nb = malloc(nlen);
	memcpy(nb, b, boff + 20);
	memcpy(nb + boff + 20, z, zl);
	memcpy(nb + boff + 20 + zl, b + boff + 12 + l, *lenp - boff - 12 - l);
	put32le(nb + boff + 4, (uint32_t)(zl + 8));
	fix_block(nb, boff);
	fix_end(nb, nlen);
	free(b);
	*bp = nb;
	*lenp = nlen;
}

static void bad_family(uint8_t *raw, size_t n, size_t rl)
{
	raw[1] = 5;
}

static void bad_class(uint8_t *raw, size_t n, size_t rl)
{
	raw[n + 2] = 3; /* class column follows family */
}

static void identity(uint8_t *raw, size_t n, size_t rl)
{
}

BOTH_LAYOUTS(impossible_values_behind_valid_checksums)
{
	const char *p = pathf("h.ft.zst"), *q = pathf("h2.ft.zst");
	size_t len, off[16], l2;
	uint64_t nr, eo;
	uint8_t *b, *c;

	b = load(p, small_sizes, 3, v, &len);
	blocks(b, len, off, 16);
	/* The patch machinery itself leaves a valid file. */
	c = malloc(len);
	memcpy(c, b, len);
	l2 = len;
	patch_columns(&c, &l2, off[1], identity);
	spit(q, c, l2);
	cr_assert_eq(read_all(q, NULL, &nr, NULL), 0);
	cr_assert_eq(nr, 10);
	free(c);
	c = malloc(len);
	memcpy(c, b, len);
	l2 = len;
	patch_columns(&c, &l2, off[1], bad_family);
	spit(q, c, l2);
	cr_assert_eq(read_all(q, NULL, &nr, &eo), FC_FT_E_CORRUPT);
	cr_assert_eq(nr, 0);
	cr_assert_eq(eo, off[1] - pre);
	free(c);
	c = malloc(len);
	memcpy(c, b, len);
	l2 = len;
	patch_columns(&c, &l2, off[1], bad_class);
	spit(q, c, l2);
	cr_assert_eq(read_all(q, NULL, &nr, NULL), FC_FT_E_CORRUPT);
	cr_assert_eq(nr, 0);
	free(c);
	free(b);
}

BOTH_LAYOUTS(unknown_fields_and_block_types)
{
	const char *p = pathf("u.ft.zst"), *q = pathf("u2.ft.zst");
	size_t len, off[16], e, k;
	uint8_t *b, *c;
	uint32_t hl;

	b = load(p, small_sizes, 3, v, &len);
	blocks(b, len, off, 16);
	hl = get32le(b + pre + 8);
	/* An unknown field marked critical: this reader must refuse. The
	 * last descriptor (packets) becomes id 200. */
	c = malloc(len + 64);
	memcpy(c, b, len);
	c[pre + hl - 8] = 200;
	fix_header(c);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_VERSION);
	/* A known field with a wrong width: corrupt. */
	memcpy(c, b, len);
	c[pre + hl - 8 + 1] = 4;
	fix_header(c);
	spit(q, c, len);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_CORRUPT);
	/* A skippable unknown block (type 0x8001, in version 2 whole inside
	 * its skippable frame) before the END is ignored; a non-skippable
	 * one (type 9) is refused. */
	e = len - 32 - pre;
	k = pre + 16;
	memcpy(c, b, e);
	memcpy(c + e + k, b + e, len - e);
	if (pre != 0) {
		put32le(c + e, 0x184D2A56u);
		put32le(c + e + 4, 16);
	}
	put32le(c + e + pre, 0x8001);
	put32le(c + e + pre + 4, 4);
	memcpy(c + e + pre + 12, "abcd", 4);
	fix_block(c, e + pre);
	fix_end(c, len + k);
	spit(q, c, len + k);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), 0);
	put32le(c + e + pre, 9);
	fix_block(c, e + pre);
	fix_end(c, len + k);
	spit(q, c, len + k);
	cr_assert_eq(read_all(q, NULL, NULL, NULL), FC_FT_E_VERSION);
	free(c);
	free(b);
}

/* Version 2 is a zstd stream: skippable frames around everything but the
 * records' zstd frames, so zstd decodes it to the blocks' column data. A
 * frame header that lies about its size is corrupt. */
Test(ftfile, v2_file_is_a_zstd_stream_of_the_columns)
{
	const char *p = pathf("z.ft.zst"), *q = pathf("z2.ft.zst");
	size_t len, off[16], nb, raw = 0, got;
	uint64_t eo;
	uint8_t *b, *out;

	b = load(p, small_sizes, 3, 2, &len);
	nb = blocks(b, len, off, 16);
	for (size_t i = 0; i < nb; i++)
		if (get32le(b + off[i]) == 2)
			raw += get32le(b + off[i] + 16);
	cr_assert_gt(raw, 0);
	out = malloc(raw + 1);
	got = ZSTD_decompress(out, raw + 1, b, len);
	cr_assert(!ZSTD_isError(got), "%s", ZSTD_getErrorName(got));
	cr_assert_eq(got, raw);
	/* The family column of the first block starts the output. */
	cr_assert(out[0] == 4 || out[0] == 6);
	free(out);
	/* Frame sizes and magics are checked. */
	put32le(b + off[1] - 4, 21);
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, &eo), FC_FT_E_CORRUPT);
	cr_assert_eq(eo, off[1] - 8);
	put32le(b + off[1] - 4, 20);
	b[off[1] - 8] = 0x57;
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, &eo), FC_FT_E_CORRUPT);
	cr_assert_eq(eo, off[1] - 8);
	put32le(b + 4, get32le(b + 4) + 1); /* header frame size */
	b[off[1] - 8] = 0x56;
	spit(q, b, len);
	cr_assert_eq(read_all(q, NULL, NULL, &eo), FC_FT_E_CORRUPT);
	free(b);
}

/* A file size limit fails write() with EFBIG: reported as that, not as a
 * generic error (ENOSPC itself is FC_FT_E_NOSPACE, tested on a full tmpfs
 * by t_flowcap_faults). */
Test(ftfile, file_size_limit_is_reported_as_such)
{
	const char *p = pathf("n.ft.zst"), *tmp = pathf("n.ft.zst.tmp");
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_record *recs;
	struct fc_ft_writer *w;
	struct rlimit rl = {.rlim_cur = 100000, .rlim_max = RLIM_INFINITY};
	struct stat st;
	int s, rc;

	signal(SIGXFSZ, SIG_IGN);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	recs = calloc(200000, sizeof(*recs));
	for (uint64_t i = 0; i < 200000; i++) {
		make_rec(&recs[i], i);
		recs[i].key.src_ip[3] ^= (uint8_t)rnd();
		recs[i].key.src_port = (uint16_t)rnd();
	}
	info_of(&info);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	fill_iv(&iv, 0);
	rc = fc_ft_writer_add_interval(w, &iv, recs, 200000);
	if (rc == FC_FT_OK)
		rc = fc_ft_writer_close(w);
	else
		cr_assert_eq(fc_ft_writer_close(w), FC_FT_E_ERRNO(EFBIG));
	cr_assert_eq(rc, FC_FT_E_ERRNO(EFBIG), "%s", fc_ft_strerror(rc));
	cr_assert_str_eq(fc_ft_strerror(rc), strerror(EFBIG));
	cr_assert_neq(stat(tmp, &st), 0);
	cr_assert_neq(stat(p, &st), 0);
	free(recs);
}

/* A failed open says why: the errno travels in the status. */
Test(ftfile, writer_open_carries_errno)
{
	struct fc_ft_file_info info;
	char longname[400];
	int s, n;

	info_of(&info);
	cr_assert_null(fc_ft_writer_open(pathf("nodir/x.ft.zst"), &info, &s));
	cr_assert_eq(s, FC_FT_E_ERRNO(ENOENT));
	cr_assert_eq(fc_ft_status_errno(s), ENOENT);
	cr_assert_str_eq(fc_ft_strerror(s), strerror(ENOENT));
	n = snprintf(longname, sizeof(longname), "%s/", dir);
	memset(longname + n, 'a', 300);
	longname[n + 300] = '\0';
	cr_assert_null(fc_ft_writer_open(longname, &info, &s));
	cr_assert_eq(s, FC_FT_E_ERRNO(ENAMETOOLONG), "%s", fc_ft_strerror(s));
	cr_assert_str_eq(fc_ft_strerror(s), strerror(ENAMETOOLONG));
	/* Named statuses carry no errno and keep their text. */
	for (int st = 0; st >= -12; st--)
		cr_assert_eq(fc_ft_status_errno(st), 0);
	cr_assert_str_eq(fc_ft_strerror(FC_FT_E_NOSPACE),
			 "no space left on device");
}

/* One writer per directory: a second lock is refused and names the
 * holder; the lock ends with its descriptor. */
Test(ftfile, dir_lock_is_exclusive_and_names_its_holder)
{
	char err[1024];
	int a, b;

	a = fc_ft_dir_lock(dir, "writer-a --out x", err, sizeof(err));
	cr_assert_geq(a, 0, "%s", err);
	b = fc_ft_dir_lock(dir, "writer-b", err, sizeof(err));
	cr_assert_eq(b, -EWOULDBLOCK);
	cr_assert(strstr(err, "writer-a --out x") != NULL, "%s", err);
	{
		char pid[32];

		snprintf(pid, sizeof(pid), "pid %ld ", (long)getpid());
		cr_assert(strstr(err, pid) != NULL, "%s", err);
	}
	fc_ft_dir_unlock(a);
	b = fc_ft_dir_lock(dir, "writer-b", err, sizeof(err));
	cr_assert_geq(b, 0, "%s", err);
	fc_ft_dir_unlock(b);
	cr_assert_eq(fc_ft_dir_lock(pathf("nodir"), "c", err, sizeof(err)),
		     -ENOENT);
	cr_assert(strstr(err, "nodir") != NULL, "%s", err);
}

static unsigned n_notes;

static void count_note(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	n_notes++;
}

/* Left-overs: a regular .tmp is set aside as .incomplete, never over an
 * existing file; anything else is reported and left alone. */
Test(ftfile, dir_leftovers_set_aside)
{
	struct stat st;

	spit(pathf("a.ft.zst.tmp"), (const uint8_t *)"x", 1);
	spit(pathf("b.ft.zst.tmp"), (const uint8_t *)"y", 1);
	spit(pathf("b.ft.zst.incomplete"), (const uint8_t *)"keep", 4);
	cr_assert_eq(mkdir(pathf("c.tmp"), 0700), 0);
	spit(pathf("d.ft.zst"), (const uint8_t *)"z", 1);
	n_notes = 0;
	cr_assert_eq(fc_ft_dir_leftovers(dir, count_note, NULL), 1);
	cr_assert_eq(n_notes, 3);
	cr_assert_eq(stat(pathf("a.ft.zst.incomplete"), &st), 0);
	cr_assert_neq(stat(pathf("a.ft.zst.tmp"), &st), 0);
	cr_assert_eq(stat(pathf("b.ft.zst.tmp"), &st), 0);
	cr_assert_eq(stat(pathf("b.ft.zst.incomplete"), &st), 0);
	cr_assert_eq(st.st_size, 4);
	cr_assert_eq(stat(pathf("d.ft.zst"), &st), 0);
	cr_assert_eq(fc_ft_dir_leftovers(pathf("nodir"), NULL, NULL), -ENOENT);
}

Test(ftfile, names_are_checked)
{
	char err[512], name[300], deep[PATH_MAX + 16];

	cr_assert_eq(fc_ft_name_check(dir, "m.1.flowtuple.ft.zst", err,
				      sizeof(err)), 0, "%s", err);
	cr_assert_eq(fc_ft_name_check(NULL, "", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_name_check(NULL, "..", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_name_check(NULL, ".", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_name_check(NULL, ".m.1.ft", err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "hidden") != NULL, "%s", err);
	cr_assert_eq(fc_ft_name_check(NULL, "a/b", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_name_check(NULL, "a\nb", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "0x0a") != NULL, "%s", err);
	cr_assert_eq(fc_ft_name_check(NULL, "a\x7f", err, sizeof(err)),
		     -EINVAL);
	/* NAME_MAX, with room for -999 and .incomplete. */
	memset(name, 'n', sizeof(name));
	name[255 - FC_FT_NAME_RESERVE] = '\0';
	cr_assert_eq(fc_ft_name_check(dir, name, err, sizeof(err)), 0, "%s",
		     err);
	name[255 - FC_FT_NAME_RESERVE] = 'n';
	name[256 - FC_FT_NAME_RESERVE] = '\0';
	cr_assert_eq(fc_ft_name_check(dir, name, err, sizeof(err)),
		     -ENAMETOOLONG);
	cr_assert(strstr(err, "NAME_MAX") != NULL, "%s", err);
	/* PATH_MAX: a directory name that leaves no room. */
	memset(deep, 'd', sizeof(deep));
	deep[0] = '/';
	deep[PATH_MAX - 20] = '\0';
	cr_assert_eq(fc_ft_name_check(deep, "m.1.ft.zst", err, sizeof(err)),
		     -ENAMETOOLONG);
	cr_assert(strstr(err, "PATH_MAX") != NULL, "%s", err);
}

Test(ftfile, monitor_names_are_one_word)
{
	char err[512], name[300];

	cr_assert_eq(fc_ft_monitor_check("telescope-1", err, sizeof(err)), 0);
	cr_assert_eq(fc_ft_monitor_check("..", err, sizeof(err)), 0,
		     "a hidden file is the file name check's business");
	cr_assert_eq(fc_ft_monitor_check("", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_monitor_check("a b", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "space") != NULL, "%s", err);
	cr_assert_eq(fc_ft_monitor_check("a\nb", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_monitor_check("a\tb", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_ft_monitor_check("a=b", err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "'='") != NULL, "%s", err);
	cr_assert_eq(fc_ft_monitor_check("a/b", err, sizeof(err)), -EINVAL);
	memset(name, 'm', sizeof(name));
	name[256] = '\0';
	cr_assert_eq(fc_ft_monitor_check(name, err, sizeof(err)), -EINVAL);
	name[255] = '\0';
	cr_assert_eq(fc_ft_monitor_check(name, err, sizeof(err)), 0);
}

Test(ftfile, dup_paths)
{
	char p[64];

	cr_assert_eq(fc_ft_path_dup(p, sizeof(p), "d", "m.1.ft.zst", 0), 0);
	cr_assert_str_eq(p, "d/m.1.ft.zst");
	cr_assert_eq(fc_ft_path_dup(p, sizeof(p), "d", "m.1.ft.zst", 7), 0);
	cr_assert_str_eq(p, "d/m.1-7.ft.zst");
	cr_assert_eq(fc_ft_path_dup(p, sizeof(p), "d", "m.1.csv", 2), 0);
	cr_assert_str_eq(p, "d/m.1.csv-2");
	cr_assert_eq(fc_ft_path_dup(p, sizeof(p), "d", "m", FC_FT_DUP_MAX),
		     -EINVAL);
	cr_assert_eq(fc_ft_path_dup(p, 8, "d", "m.1.ft.zst", 0),
		     -ENAMETOOLONG);
}

/* Group and mode are set on the .tmp, so the final name has them from the
 * moment it appears. */
Test(ftfile, set_perm_applies_to_the_tmp_and_the_file)
{
	const char *p = pathf("g.ft.zst"), *tmp = pathf("g.ft.zst.tmp");
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	struct stat st;
	int s;

	info_of(&info);
	w = fc_ft_writer_open(p, &info, &s);
	cr_assert_not_null(w);
	cr_assert_eq(fc_ft_writer_set_perm(w, 1, 0604), FC_FT_OK);
	cr_assert_eq(stat(tmp, &st), 0);
	cr_assert_eq(st.st_gid, 1);
	cr_assert_eq(st.st_mode & 07777, 0604);
	cr_assert_eq(fc_ft_writer_set_perm(w, (gid_t)-1, -1), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_set_perm(w, (gid_t)-1, 010000),
		     FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_gid, 1);
	cr_assert_eq(st.st_mode & 07777, 0604);
	cr_assert_eq(fc_ft_writer_set_perm(NULL, 1, 0600), FC_FT_E_INVAL);
}

/* A failed directory fsync leaves the file complete (FC_FT_E_DIRSYNC) and
 * says why in errno. */
Test(ftfile, dirsync_failure_keeps_its_errno)
{
	struct fc_ft_file_info info;
	struct fc_ft_writer *w;
	int s, rc;

	info_of(&info);
	w = fc_ft_writer_open(pathf("ds.ft.zst"), &info, &s);
	cr_assert_not_null(w);
	fc_ft_test_fail_dirsync(true);
	errno = 0;
	rc = fc_ft_writer_close(w);
	cr_assert_eq(errno, EIO);
	fc_ft_test_fail_dirsync(false);
	cr_assert_eq(rc, FC_FT_E_DIRSYNC);
}

/* ---------------------------------------------------------------------- */
/* Format 2.1: the header names its writer                                */

/* Write a one-interval file (small_sizes[0] records) naming writer. */
static int write_named(const char *path, const char *writer)
{
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_record recs[10];
	struct fc_ft_writer *w;
	int st;

	info_of(&info);
	snprintf(info.writer, sizeof(info.writer), "%s", writer);
	w = fc_ft_writer_open(path, &info, &st);
	if (w == NULL)
		return st;
	fill_iv(&iv, 0);
	for (uint64_t i = 0; i < 10; i++)
		make_rec(&recs[i], i);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 10), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	return FC_FT_OK;
}

/* The writer a file names ("" for none), or NULL when it does not open. */
static const char *writer_of(const char *path, uint16_t *minor)
{
	static char s[sizeof(((struct fc_ft_file_info *)0)->writer)];
	struct fc_ft_reader *r;
	int st;

	r = fc_ft_reader_open(path, &st);
	if (r == NULL)
		return NULL;
	snprintf(s, sizeof(s), "%s", fc_ft_reader_info(r)->writer);
	if (minor != NULL)
		*minor = fc_ft_reader_info(r)->version_minor;
	fc_ft_reader_close(r);
	return s;
}

/* Grow the header's reserved area by k bytes at its end (before the
 * header checksum), as a later minor version would, and fix every length
 * and checksum that covers it. Version 2 layout. */
static uint8_t *grow_header(const uint8_t *b, size_t len, const char *add,
			    size_t k, size_t *nlen)
{
	uint32_t hl = get32le(b + 8 + 8);
	uint8_t *c = malloc(len + k);

	cr_assert_not_null(c);
	memcpy(c, b, 8 + hl - 4);
	memcpy(c + 8 + hl - 4, add, k);
	memcpy(c + 8 + hl - 4 + k, b + 8 + hl - 4, len - (8 + hl - 4));
	put32le(c + 4, hl + (uint32_t)k);   /* skippable frame size */
	put32le(c + 8 + 8, hl + (uint32_t)k); /* header_len */
	pre = 8;
	fix_header(c);
	fix_end(c, len + k);
	*nlen = len + k;
	return c;
}

Test(ftfile, writer_name_round_trips_and_older_files_name_none)
{
	const char *p = pathf("w.ft.zst"), *q = pathf("w2.ft.zst");
	const char *name = "flowcap/0.1.0+v0.1.0-3-g1a2b3c4-dirty";
	size_t len, nlen, wl = strlen(name);
	uint64_t nr;
	uint16_t minor;
	uint32_t hl;
	uint8_t *b, *c;

	cr_assert_eq(FC_FT_VERSION_MAJOR, 2);
	cr_assert_eq(FC_FT_VERSION_MINOR, 2);
	cr_assert_eq(write_named(p, name), FC_FT_OK);
	cr_assert_str_eq(writer_of(p, &minor), name);
	cr_assert_eq(minor, 2);
	cr_assert_eq(read_all(p, NULL, &nr, NULL), 0);
	cr_assert_eq(nr, 10);
	/* The bytes doc/file-format.md gives: after the 11 descriptors, a
	 * length byte and the name, then the header checksum. */
	b = slurp(p, &len);
	hl = get32le(b + 16);
	cr_assert_eq(b[8 + 6], 2);
	cr_assert_eq(hl, 33 + strlen("telescope-1") + 44 + 1 + wl + 4);
	cr_assert_eq(b[8 + 33 + 11 + 44], wl);
	cr_assert(memcmp(b + 8 + 33 + 11 + 44 + 1, name, wl) == 0);

	/* The same bytes as a 2.0 file: the reserved area is ignored, the
	 * writer unknown, the records the same. */
	c = malloc(len);
	memcpy(c, b, len);
	c[8 + 6] = 0;
	pre = 8;
	fix_header(c);
	fix_end(c, len);
	spit(q, c, len);
	cr_assert_str_eq(writer_of(q, &minor), "");
	cr_assert_eq(minor, 0);
	cr_assert_eq(read_all(q, NULL, &nr, NULL), 0);
	cr_assert_eq(nr, 10);
	free(c);

	/* A later minor version's bytes after the name are ignored. */
	c = grow_header(b, len, "\x07later", 6, &nlen);
	c[8 + 6] = 2;
	fix_header(c);
	fix_end(c, nlen);
	spit(q, c, nlen);
	cr_assert_str_eq(writer_of(q, &minor), name);
	cr_assert_eq(minor, 2);
	cr_assert_eq(read_all(q, NULL, &nr, NULL), 0);
	free(c);

	/* Behind a valid checksum: a name longer than the reserved area, and
	 * a name with a space, are corrupt, at the length byte. */
	c = malloc(len);
	memcpy(c, b, len);
	c[8 + 33 + 11 + 44] = (uint8_t)(wl + 1);
	fix_header(c);
	fix_end(c, len);
	spit(q, c, len);
	{
		struct fc_ft_open_diag d;
		int st;

		cr_assert_null(fc_ft_reader_open_diag(q, &st, &d));
		cr_assert_eq(st, FC_FT_E_CORRUPT);
		cr_assert_eq(d.err_off, 8 + 33 + 11 + 44);
	}
	memcpy(c, b, len);
	c[8 + 33 + 11 + 44 + 8] = ' ';
	fix_header(c);
	fix_end(c, len);
	spit(q, c, len);
	cr_assert_null(writer_of(q, NULL));
	free(c);

	/* Every bit of the header, the name included, is checked. */
	c = malloc(len);
	for (size_t bit = 0; bit < 8 * (8 + (size_t)hl); bit++) {
		memcpy(c, b, len);
		c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		spit(q, c, len);
		cr_assert_null(writer_of(q, NULL), "flip of bit %zu accepted",
			       bit);
	}
	free(c);
	free(b);
}

Test(ftfile, writer_name_is_optional_and_checked)
{
	char longname[300];
	size_t len;
	uint8_t *b;

	/* No name: no field, the 2.0 header layout under version 2.1. */
	cr_assert_eq(write_named(pathf("n.ft.zst"), ""), FC_FT_OK);
	cr_assert_str_eq(writer_of(pathf("n.ft.zst"), NULL), "");
	b = slurp(pathf("n.ft.zst"), &len);
	cr_assert_eq(get32le(b + 16), 33 + strlen("telescope-1") + 44 + 4);
	free(b);
	/* 255 bytes is the longest name; a space, a control byte, a byte
	 * above 0x7E are refused before any file is made. */
	memset(longname, 'x', 255);
	longname[255] = '\0';
	cr_assert_eq(write_named(pathf("l.ft.zst"), longname), FC_FT_OK);
	cr_assert_str_eq(writer_of(pathf("l.ft.zst"), NULL), longname);
	cr_assert_eq(write_named(pathf("s.ft.zst"), "flowcap 0.1.0"),
		     FC_FT_E_INVAL);
	cr_assert_eq(write_named(pathf("t.ft.zst"), "flowcap\t0.1.0"),
		     FC_FT_E_INVAL);
	cr_assert_eq(write_named(pathf("u.ft.zst"), "flowcap\xc3\xa9"),
		     FC_FT_E_INVAL);
	cr_assert_eq(access(pathf("s.ft.zst.tmp"), F_OK), -1);
}

/* ---------------------------------------------------------------------- */
/* Format 2.2: optional label and VLAN fields, label names per interval   */

Test(ftfile, labels_and_vlan_round_trip)
{
	const char *p = pathf("l.ft.zst"), *q = pathf("nl.ft.zst");
	static const char names[2][32] = {"dns-any", "tls-hello"};
	struct fc_ft_file_info info;
	struct fc_ft_interval iv, got;
	struct fc_ft_record recs[10], rec;
	struct fc_ft_writer *w;
	struct fc_ft_reader *r;
	int st;
	unsigned i = 0;

	info_of(&info);
	info.opt_fields = FC_FT_OPT_LABEL | FC_FT_OPT_VLAN;
	w = fc_ft_writer_open(p, &info, &st);
	cr_assert_not_null(w);
	fill_iv(&iv, 0);
	iv.flags |= FC_FT_IV_RULES_CHANGED;
	for (uint64_t k = 0; k < 10; k++) {
		make_rec(&recs[k], k);
		fc_ftkey_set_ext(&recs[k].key, (unsigned)(k % 3), 4095 - (unsigned)k);
	}
	cr_assert_eq(fc_ft_writer_set_labels(w, 0x1234567890abcdefULL, names, 2),
		     FC_FT_OK);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 10), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	r = fc_ft_reader_open(p, &st);
	cr_assert_not_null(r);
	cr_assert_eq(fc_ft_reader_info(r)->opt_fields,
		     FC_FT_OPT_LABEL | FC_FT_OPT_VLAN);
	cr_assert_eq(fc_ft_reader_next_interval(r, &got), 1);
	cr_assert(got.flags & FC_FT_IV_RULES_CHANGED);
	cr_assert_eq(fc_ft_reader_rules_hash(r), 0x1234567890abcdefULL);
	cr_assert_str_eq(fc_ft_reader_label(r, 1), "dns-any");
	cr_assert_str_eq(fc_ft_reader_label(r, 2), "tls-hello");
	cr_assert_str_eq(fc_ft_reader_label(r, 0), "");
	cr_assert_null(fc_ft_reader_label(r, 3));
	while (fc_ft_reader_next_record(r, &rec) == 1) {
		cr_assert_eq(memcmp(&rec.key, &recs[i].key, sizeof(rec.key)), 0,
			     "record %u", i);
		i++;
	}
	cr_assert_eq(i, 10);
	fc_ft_reader_close(r);

	/* Without the options: no label field, no names, the 2.1 layout
	 * under minor 2; a label the writer was given is not stored. */
	info.opt_fields = 0;
	w = fc_ft_writer_open(q, &info, &st);
	cr_assert_not_null(w);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 10), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	r = fc_ft_reader_open(q, &st);
	cr_assert_not_null(r);
	cr_assert_eq(fc_ft_reader_info(r)->opt_fields, 0);
	cr_assert_eq(fc_ft_reader_next_interval(r, &got), 1);
	cr_assert_null(fc_ft_reader_label(r, 1));
	cr_assert_eq(fc_ft_reader_next_record(r, &rec), 1);
	cr_assert_eq(fc_ftkey_ext(&rec.key), 0);
	fc_ft_reader_close(r);
}

/* Format 2.2: an anonymised file flags itself and carries the key's
 * fingerprint after the writer's name; other files carry none. */
Test(ftfile, anonymised_header_carries_the_fingerprint)
{
	static const uint8_t fp[8] = {1, 2, 3, 4, 5, 6, 7, 0xff};
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_record recs[10], got;
	struct fc_ft_writer *w;
	struct fc_ft_reader *r;
	const struct fc_ft_file_info *in;
	uint16_t minor = 0;
	int st;

	info_of(&info);
	snprintf(info.writer, sizeof(info.writer), "flowcap/test");
	info.flags |= FC_FT_F_ANON;
	memcpy(info.anon_fp, fp, 8);
	w = fc_ft_writer_open(pathf("a.ft.zst"), &info, &st);
	cr_assert_not_null(w, "status %d", st);
	fill_iv(&iv, 0);
	for (uint64_t i = 0; i < 10; i++)
		make_rec(&recs[i], i);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, 10), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	r = fc_ft_reader_open(pathf("a.ft.zst"), &st);
	cr_assert_not_null(r, "status %d", st);
	in = fc_ft_reader_info(r);
	cr_assert_eq(in->version_minor, 2);
	cr_assert(in->flags & FC_FT_F_ANON);
	cr_assert_arr_eq(in->anon_fp, fp, 8);
	cr_assert_str_eq(in->writer, "flowcap/test");
	cr_assert_eq(fc_ft_reader_next_interval(r, &iv), 1);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(fc_ft_reader_next_record(r, &got), 1);
	fc_ft_reader_close(r);
	/* Without a writer's name there is nowhere to put it: refused. */
	info.writer[0] = '\0';
	cr_assert_null(fc_ft_writer_open(pathf("b.ft.zst"), &info, &st));
	cr_assert_eq(st, FC_FT_E_INVAL);
	/* A plain file (2.2 too) has no flag and no fingerprint. */
	cr_assert_eq(write_named(pathf("c.ft.zst"), "flowcap/test"), FC_FT_OK);
	cr_assert_str_eq(writer_of(pathf("c.ft.zst"), &minor), "flowcap/test");
	cr_assert_eq(minor, 2);
	r = fc_ft_reader_open(pathf("c.ft.zst"), &st);
	cr_assert_not_null(r);
	cr_assert_eq(fc_ft_reader_info(r)->flags & FC_FT_F_ANON, 0);
	fc_ft_reader_close(r);
}

/* One file: interval 0 of n records given in slices of the sizes cuts[]
 * (repeated until n; NULL: one fc_ft_writer_add_interval), then a small
 * interval 1 given whole. */
static void write_sliced(const char *path, const struct fc_ft_record *recs,
			 uint64_t n, const uint64_t *cuts, unsigned ncuts,
			 uint32_t opt)
{
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_writer *w;
	int st;

	info_of(&info);
	info.opt_fields = opt;
	w = fc_ft_writer_open(path, &info, &st);
	cr_assert_not_null(w, "open: %s", fc_ft_strerror(st));
	fill_iv(&iv, 0);
	if (cuts == NULL) {
		cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs, n),
			     FC_FT_OK);
	} else {
		for (uint64_t o = 0, i = 0; o < n; i++) {
			uint64_t k = cuts[i % ncuts];

			if (k > n - o)
				k = n - o;
			cr_assert_eq(fc_ft_writer_add_records(w, recs + o, k),
				     FC_FT_OK);
			o += k;
		}
		cr_assert_eq(fc_ft_writer_end_interval(w, &iv), FC_FT_OK);
	}
	fill_iv(&iv, 1);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs + 5, 3), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
}

Test(ftfile, records_added_in_slices_write_the_bytes_of_one_call)
{
	/* Slices that end on, before and after the 65536-record blocks,
	 * and empty ones. */
	static const uint64_t cuts[][6] = {
		{1, 0, 7, 65535, 2, 65536}, {65536, 65536, 65536, 0, 0, 0},
		{65537, 1000, 3, 0, 0, 0},  {300, 0, 0, 0, 0, 0},
	};
	static const unsigned ncuts[] = {6, 3, 3, 1};
	const uint64_t n = 200003;
	struct fc_ft_record *recs = calloc(n, sizeof(*recs));
	uint8_t *ref, *got;
	size_t lr, lg;

	cr_assert_not_null(recs);
	for (uint64_t i = 0; i < n; i++) {
		make_rec(&recs[i], i);
		fc_ftkey_set_ext(&recs[i].key, (uint32_t)(i % 4096),
				 (uint32_t)((i >> 3) % 4096));
	}
	for (uint32_t opt = 0; opt <= 3; opt += 3) {
		write_sliced(pathf("ref.ft.zst"), recs, n, NULL, 0, opt);
		ref = slurp(pathf("ref.ft.zst"), &lr);
		for (unsigned c = 0; c < 4; c++) {
			write_sliced(pathf("s.ft.zst"), recs, n, cuts[c],
				     ncuts[c], opt);
			got = slurp(pathf("s.ft.zst"), &lg);
			cr_assert_eq(lg, lr, "opt %u cuts %u: %zu bytes, not "
				     "%zu", opt, c, lg, lr);
			cr_assert_eq(memcmp(got, ref, lr), 0,
				     "opt %u cuts %u differ", opt, c);
			free(got);
			cr_assert_eq(unlink(pathf("s.ft.zst")), 0);
		}
		free(ref);
		cr_assert_eq(unlink(pathf("ref.ft.zst")), 0);
	}
	free(recs);
}

Test(ftfile, a_refused_or_cancelled_interval_leaves_nothing)
{
	const uint64_t n = 70000;
	struct fc_ft_record *recs = calloc(n, sizeof(*recs));
	struct fc_ft_file_info info;
	struct fc_ft_interval iv;
	struct fc_ft_writer *w;
	uint8_t *ref, *got;
	size_t lr, lg;
	int st;

	cr_assert_not_null(recs);
	for (uint64_t i = 0; i < n; i++)
		make_rec(&recs[i], i);
	write_sliced(pathf("ref.ft.zst"), recs, 10, NULL, 0, 0);
	ref = slurp(pathf("ref.ft.zst"), &lr);
	info_of(&info);
	w = fc_ft_writer_open(pathf("s.ft.zst"), &info, &st);
	cr_assert_not_null(w);
	fill_iv(&iv, 0);
	/* A whole block, then a key the format cannot store (a family of
	 * 5): the interval is refused, and so is what follows of it. */
	cr_assert_eq(fc_ft_writer_add_records(w, recs, 65600), FC_FT_OK);
	recs[65700].key.family = 5;
	cr_assert_eq(fc_ft_writer_add_records(w, recs + 65600, 200),
		     FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_add_records(w, recs, 3), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_end_interval(w, &iv), FC_FT_E_INVAL);
	recs[65700].key.family = 4;
	/* Records given up by their caller. */
	cr_assert_eq(fc_ft_writer_add_records(w, recs, 70000), FC_FT_OK);
	fc_ft_writer_cancel_interval(w);
	fc_ft_writer_cancel_interval(NULL);
	/* What follows is written as if nothing had been added. */
	cr_assert_eq(fc_ft_writer_add_records(w, recs, 4), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_add_records(w, recs + 4, 6), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_end_interval(w, &iv), FC_FT_OK);
	fill_iv(&iv, 1);
	cr_assert_eq(fc_ft_writer_add_interval(w, &iv, recs + 5, 3), FC_FT_OK);
	cr_assert_eq(fc_ft_writer_add_records(NULL, recs, 1), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_end_interval(NULL, &iv), FC_FT_E_INVAL);
	cr_assert_eq(fc_ft_writer_close(w), FC_FT_OK);
	got = slurp(pathf("s.ft.zst"), &lg);
	cr_assert_eq(lg, lr);
	cr_assert_eq(memcmp(got, ref, lr), 0);
	free(got);
	free(ref);
	free(recs);
}

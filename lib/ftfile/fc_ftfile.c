/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The .ft.zst writer and reader; the byte layout is doc/file-format.md. The
 * writer turns each interval into an INTERVAL block and RECORDS blocks of at
 * most FC_FT_BLOCK_RECORDS records, stored column by column as byte planes
 * and compressed with zstd, and finishes with an END block, each behind a
 * zstd skippable frame header (RECORDS blocks: up to their zstd frame) so
 * that the file is a valid zstd stream (version 2); it never exposes a file
 * under its final name before it is complete and on disk. The reader reads
 * version 1 (no frame headers) and version 2 files. The reader
 * checks every length against a fixed cap and the bytes left in the file
 * before it allocates, every checksum before it decodes, and every decoded
 * value before it returns it, so its memory is bounded (a few MiB) whatever
 * the input. Neither side sorts or merges: records are stored in the order
 * given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#ifdef __SSE4_2__
#include <nmmintrin.h>
#endif

#include "fc_ftfile.h"

#define FT_MAGIC "FCFT"
#define FT_VMAJOR FC_FT_VERSION_MAJOR
#define FT_VMINOR FC_FT_VERSION_MINOR
#define FT_VMAJOR_V1 1       /* the unframed layout, still read */

/* Version 2 wraps everything that is not a zstd frame in a zstd skippable
 * frame: this magic, a 4-byte length, the bytes. One value of the range
 * 0x184D2A50..0x184D2A5F: not 0x...50 (pzstd's) nor 0x...5E (zstd's
 * seekable format), so tools that look for those never misread ours. */
#define FT_SKIP_MAGIC 0x184D2A56u
#define FT_FRAME_HDR 8       /* skippable frame: magic u32, size u32 */

#define FT_HDR_FIXED 33      /* bytes before the monitor name */
#define FT_VMINOR_WRITER 1   /* 2.1: the reserved area starts with the writer */
#define FT_VMINOR_ANON 2     /* 2.2: then the anonymisation key's fingerprint */
_Static_assert(FT_VMINOR >= FT_VMINOR_ANON, "this writer writes the fingerprint");
#define FT_ANON_FP 8
#define FT_HDR_MAX 65536     /* a longer header is corrupt */
#define FT_MAX_FIELDS 64
#define FT_MAX_ROW 256       /* widest row (sum of field widths) accepted */
#define FT_BLK_HDR 12
#define FT_RAW_MAX ((size_t)FC_FT_BLOCK_RECORDS * FT_MAX_ROW)
#define FT_IV_FIXED 52       /* INTERVAL payload before its counters */
#define FT_IV_CTR 10         /* one (id u16, value u64) entry */
#define FT_IV_MAXCTR 4096
#define FT_REC_PREFIX 8      /* RECORDS payload: count u32, raw size u32 */
#define FT_END_LEN 20
#define FT_WBUF (1u << 20)

enum ft_block {
	FT_BLK_INTERVAL = 1,
	FT_BLK_RECORDS = 2,
	FT_BLK_END = 3,
	FT_BLK_LABELS = 0x8004, /* 2.2: label names of the next interval */
};
#define FT_BLK_SKIPPABLE 0x8000 /* unknown types with this bit are skipped */

enum ft_field {
	FT_F_FAMILY = FC_FT_FID_FAMILY,
	FT_F_CLASS = FC_FT_FID_CLASS,
	FT_F_SRC_IP = FC_FT_FID_SRC_IP,
	FT_F_DST_IP = FC_FT_FID_DST_IP,
	FT_F_SRC_PORT = FC_FT_FID_SRC_PORT,
	FT_F_DST_PORT = FC_FT_FID_DST_PORT,
	FT_F_PROTO = FC_FT_FID_PROTO,
	FT_F_TTL = FC_FT_FID_TTL,
	FT_F_TCP_FLAGS = FC_FT_FID_TCP_FLAGS,
	FT_F_IP_LEN = FC_FT_FID_IP_LEN,
	FT_F_PACKETS = FC_FT_FID_PACKETS,
	FT_F_LABEL = FC_FT_FID_LABEL,   /* 2.2, optional */
	FT_F_VLAN = FC_FT_FID_VLAN,     /* 2.2, optional */
	FT_F_KNOWN = 14,
};
#define FT_ENC_PLANES 0
#define FT_ENC_DELTA 1
#define FT_FD_CRITICAL 0x1

static const uint8_t field_width[FT_F_KNOWN] = {
	[FT_F_FAMILY] = 1, [FT_F_CLASS] = 1, [FT_F_SRC_IP] = 16,
	[FT_F_DST_IP] = 16, [FT_F_SRC_PORT] = 2, [FT_F_DST_PORT] = 2,
	[FT_F_PROTO] = 1, [FT_F_TTL] = 1, [FT_F_TCP_FLAGS] = 1,
	[FT_F_IP_LEN] = 4, [FT_F_PACKETS] = 8, [FT_F_LABEL] = 2,
	[FT_F_VLAN] = 2,
};

struct ft_field_desc {
	uint8_t id;
	uint8_t width;
	uint8_t enc;
	uint8_t flags;
};

/* What this writer stores: every known field, the source address (sorted
 * within a class and family) delta coded, the rest as plain planes. */
static const struct ft_field_desc writer_fields[] = {
	{FT_F_FAMILY, 1, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_CLASS, 1, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_SRC_IP, 16, FT_ENC_DELTA, FT_FD_CRITICAL},
	{FT_F_DST_IP, 16, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_SRC_PORT, 2, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_DST_PORT, 2, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_PROTO, 1, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_TTL, 1, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_TCP_FLAGS, 1, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_IP_LEN, 4, FT_ENC_PLANES, FT_FD_CRITICAL},
	{FT_F_PACKETS, 8, FT_ENC_PLANES, FT_FD_CRITICAL},
};
#define N_WRITER_FIELDS (sizeof(writer_fields) / sizeof(writer_fields[0]))
/* The optional fields, when asked for (fc_ft_file_info.opt_fields). Not
 * critical: a 2.0/2.1 reader skips them and still reads the file (keys
 * that differ only by them then appear as separate equal rows). */
static const struct ft_field_desc opt_fields[] = {
	{FT_F_LABEL, 2, FT_ENC_PLANES, 0},
	{FT_F_VLAN, 2, FT_ENC_PLANES, 0},
};
#define N_FIELDS_MAX (N_WRITER_FIELDS + 2)

/* ---------------------------------------------------------------------- */
/* Status text and counter names                                          */

const char *fc_ft_strerror(int status)
{
	switch (status) {
	case FC_FT_OK: return "success";
	case FC_FT_E_IO: return "input/output error";
	case FC_FT_E_MAGIC: return "not a flowcap flowtuple file (bad magic)";
	case FC_FT_E_VERSION:
		return "file needs a newer reader (unsupported version, kind or field)";
	case FC_FT_E_TRUNCATED: return "file is truncated";
	case FC_FT_E_CHECKSUM: return "checksum mismatch (file is corrupt)";
	case FC_FT_E_CORRUPT: return "impossible length or value (file is corrupt)";
	case FC_FT_E_ZSTD: return "zstd (de)compression failed";
	case FC_FT_E_NOMEM: return "out of memory";
	case FC_FT_E_INVAL: return "invalid argument";
	case FC_FT_E_EXISTS: return "file already exists";
	case FC_FT_E_NOSPACE: return "no space left on device";
	case FC_FT_E_DIRSYNC:
		return "file complete, but its directory could not be synced "
		       "(its name may not survive a power loss)";
	}
	if (fc_ft_status_errno(status) != 0)
		return strerror(fc_ft_status_errno(status));
	return "unknown status";
}


/* ---------------------------------------------------------------------- */
/* CRC32C                                                                 */

static uint32_t crc_tab[8][256];

__attribute__((constructor)) static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc_tab[0][i] = c;
	}
	for (unsigned i = 0; i < 256; i++)
		for (unsigned t = 1; t < 8; t++)
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^
					crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

uint32_t fc_ft_crc32c_sw(uint32_t crc, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t c = ~crc;

	while (n >= 8) {
		uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
				   (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
		c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		    crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		    crc_tab[3][p[4]] ^ crc_tab[2][p[5]] ^ crc_tab[1][p[6]] ^
		    crc_tab[0][p[7]];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xff];
	return ~c;
}

/* Multiplication modulo the CRC32C polynomial of two polynomials in the
 * reflected bit order (x^0 in the top bit). */
static uint32_t crc_mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = UINT32_C(1) << 31, p = 0;

	for (; m != 0; m >>= 1) {
		if (a & m)
			p ^= b;
		b = b & 1 ? (b >> 1) ^ 0x82f63b78u : b >> 1;
	}
	return p;
}

/* x^(8n) modulo the polynomial: what appending n bytes multiplies a CRC's
 * register by. From x^(2^k), squared up as the bits of 8n need them. */
static uint32_t crc_x8n(uint64_t n)
{
	uint32_t p = UINT32_C(1) << 31, sq = UINT32_C(1) << 30; /* 1, x */

	for (n *= 8; n != 0; n >>= 1) {
		if (n & 1)
			p = crc_mulmod(sq, p);
		sq = crc_mulmod(sq, sq);
	}
	return p;
}

uint32_t fc_ft_crc32c(uint32_t crc, const void *buf, size_t n)
{
#ifdef __SSE4_2__
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	/* A long buffer as three independent chains, one instruction each
	 * per cycle where one chain waits three for its result, joined by
	 * shifting the first two over the bytes that follow them. */
	if (n >= 3 * 4096) {
		size_t l = n / 24 * 8;
		uint64_t c1 = 0, c2 = 0;
		const uint8_t *p1 = p + l, *p2 = p + 2 * l;

		for (size_t i = 0; i < l; i += 8) {
			uint64_t v0, v1, v2;

			memcpy(&v0, p + i, 8);
			memcpy(&v1, p1 + i, 8);
			memcpy(&v2, p2 + i, 8);
			c = _mm_crc32_u64(c, v0);
			c1 = _mm_crc32_u64(c1, v1);
			c2 = _mm_crc32_u64(c2, v2);
		}
		/* The register after p..p2+l: c moved over 2l bytes, c1 over
		 * l, and c2 (the zero register's CRC is linear in the data). */
		{
			uint32_t k1 = crc_x8n(l), k2 = crc_mulmod(k1, k1);

			c = crc_mulmod((uint32_t)c, k2) ^
			    crc_mulmod((uint32_t)c1, k1) ^ (uint32_t)c2;
		}
		p += 3 * l;
		n -= 3 * l;
	}
	while (n >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		n -= 8;
	}
	while (n--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
#else
	return fc_ft_crc32c_sw(crc, buf, n);
#endif
}

/* ---------------------------------------------------------------------- */
/* Little-endian helpers                                                  */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static bool is_addr(unsigned id)
{
	return id == FT_F_SRC_IP || id == FT_F_DST_IP;
}

/* Bytes of one field's column in a block of n rows, n6 of them IPv6. */
static size_t column_size(const struct ft_field_desc *f, size_t n, size_t n6)
{
	if (is_addr(f->id))
		return 4 * n + 12 * n6;
	return (size_t)f->width * n;
}

/* ---------------------------------------------------------------------- */
/* Writer                                                                 */

struct fc_ft_writer {
	int fd;
	int failed;           /* sticky status after a write error */
	int level;
	uint32_t crc;         /* CRC32C of every byte written so far */
	uint64_t off;         /* bytes written so far (incl. buffered) */
	uint64_t tot_recs;
	uint64_t tot_ivs;
	size_t wlen;
	uint8_t *wbuf;        /* FT_WBUF bytes of pending output */
	/* The interval being added (fc_ft_writer_add_records): the block
	 * being filled, its planes at a stride of FC_FT_BLOCK_RECORDS in
	 * stage (the 12 other bytes of IPv6 addresses at stage6), and the
	 * payloads of the blocks already compressed, which go to the file
	 * after the INTERVAL block, once the number of records is known. */
	uint8_t *stage;       /* FT_STAGE bytes */
	uint8_t *raw;         /* one block's columns, laid out: FT_ROW_MAX
			       * bytes a record */
	uint8_t *pend;        /* pending RECORDS payloads, back to back */
	size_t pend_cap, pend_len;
	uint32_t *plen;       /* their lengths */
	size_t plen_cap, n_pend;
	size_t bn, bn6;       /* records and IPv6 rows in the staged block */
	uint64_t iv_recs;     /* records added to the interval */
	int iv_status;        /* an added record was refused: the status */
	uint64_t prev[N_FIELDS_MAX]; /* delta coding: the staged block's
				      * last value of each field */
	ZSTD_CCtx *cctx;
	struct fc_ft_wcache *cache; /* where the buffers go back, or NULL */
	char *path;
	char *tmp;
	struct ft_field_desc fields[N_FIELDS_MAX]; /* what this file stores */
	unsigned nf;
};

/* A writer's buffers and zstd context, kept between files (one set). */
struct fc_ft_wcache {
	bool full;
	uint8_t *wbuf, *stage, *raw, *pend;
	size_t pend_cap;
	uint32_t *plen;
	size_t plen_cap;
	ZSTD_CCtx *cctx;
};

struct fc_ft_wcache *fc_ft_wcache_create(void)
{
	return calloc(1, sizeof(struct fc_ft_wcache));
}

void fc_ft_wcache_free(struct fc_ft_wcache *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->cctx);
	free(c->wbuf);
	free(c->stage);
	free(c->raw);
	free(c->pend);
	free(c->plen);
	free(c);
}

/* A new writer takes the cached set, if there is one. */
static void wcache_take(struct fc_ft_writer *w, struct fc_ft_wcache *c)
{
	w->cache = c;
	if (c == NULL || !c->full)
		return;
	w->wbuf = c->wbuf;
	w->stage = c->stage;
	w->raw = c->raw;
	w->pend = c->pend;
	w->pend_cap = c->pend_cap;
	w->plen = c->plen;
	w->plen_cap = c->plen_cap;
	w->cctx = c->cctx;
	memset(c, 0, sizeof(*c));
}

/* A finished writer leaves its set in its cache, if that is empty (the
 * writer's pointers are cleared: w_free then frees nothing of it). */
static void wcache_give(struct fc_ft_writer *w)
{
	struct fc_ft_wcache *c = w->cache;

	if (c == NULL || c->full || w->wbuf == NULL || w->cctx == NULL)
		return;
	c->full = true;
	c->wbuf = w->wbuf;
	c->stage = w->stage;
	c->raw = w->raw;
	c->pend = w->pend;
	c->pend_cap = w->pend_cap;
	c->plen = w->plen;
	c->plen_cap = w->plen_cap;
	c->cctx = w->cctx;
	w->wbuf = NULL;
	w->stage = NULL;
	w->raw = NULL;
	w->pend = NULL;
	w->plen = NULL;
	w->cctx = NULL;
}

/* The status of a failed system call: the named ones callers act on,
 * and every other errno carried as it is (EDQUOT, EFBIG, ENAMETOOLONG,
 * EACCES, EROFS, EIO: the user is told the real cause). */
static int errno_status(int e)
{
	if (e == ENOSPC)
		return FC_FT_E_NOSPACE;
	if (e == EEXIST)
		return FC_FT_E_EXISTS;
	if (e == ENOMEM)
		return FC_FT_E_NOMEM;
	return e > 0 && e < 4096 ? FC_FT_E_ERRNO(e) : FC_FT_E_IO;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return errno_status(errno);
		}
		if (k == 0)
			return FC_FT_E_NOSPACE;
		p += k;
		n -= (size_t)k;
	}
	return FC_FT_OK;
}

static int w_flush(struct fc_ft_writer *w)
{
	int rc;

	if (w->failed)
		return w->failed;
	rc = write_all(w->fd, w->wbuf, w->wlen);
	w->wlen = 0;
	if (rc != FC_FT_OK)
		w->failed = rc;
	return rc;
}

static int w_put(struct fc_ft_writer *w, const void *p, size_t n)
{
	int rc;

	if (w->failed)
		return w->failed;
	w->crc = fc_ft_crc32c(w->crc, p, n);
	w->off += n;
	if (w->wlen + n <= FT_WBUF) {
		memcpy(w->wbuf + w->wlen, p, n);
		w->wlen += n;
		return FC_FT_OK;
	}
	rc = w_flush(w);
	if (rc != FC_FT_OK)
		return rc;
	if (n >= FT_WBUF / 2) {
		rc = write_all(w->fd, p, n);
		if (rc != FC_FT_OK)
			w->failed = rc;
		return rc;
	}
	memcpy(w->wbuf, p, n);
	w->wlen = n;
	return FC_FT_OK;
}

/* The skippable frame header in front of the next size bytes. */
static int w_frame(struct fc_ft_writer *w, uint32_t size)
{
	uint8_t f[FT_FRAME_HDR];

	put32(f, FT_SKIP_MAGIC);
	put32(f + 4, size);
	return w_put(w, f, sizeof(f));
}

/* One block in its skippable frame. A RECORDS block's frame ends after the
 * count and raw size, so that its zstd frame follows as a frame of the
 * file's zstd stream; every other block is whole inside its frame. */
static int w_block(struct fc_ft_writer *w, uint16_t type, const uint8_t *pl,
		   uint32_t len)
{
	uint8_t h[FT_BLK_HDR];
	uint32_t c;
	int rc;

	rc = w_frame(w, FT_BLK_HDR + (type == FT_BLK_RECORDS ? FT_REC_PREFIX :
							       len));
	if (rc != FC_FT_OK)
		return rc;
	put16(h, type);
	put16(h + 2, 0);
	put32(h + 4, len);
	c = fc_ft_crc32c(0, h, 8);
	c = fc_ft_crc32c(c, pl, len);
	put32(h + 8, c);
	rc = w_put(w, h, sizeof(h));
	if (rc == FC_FT_OK)
		rc = w_put(w, pl, len);
	return rc;
}

static char *str_cat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s != NULL) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

static void w_free(struct fc_ft_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	wcache_give(w);
	ZSTD_freeCCtx(w->cctx);
	free(w->wbuf);
	free(w->stage);
	free(w->raw);
	free(w->pend);
	free(w->plen);
	free(w->path);
	free(w->tmp);
	free(w);
}

/* A writer name is one word of printable ASCII (doc/file-format.md). */
static bool writer_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static int w_header(struct fc_ft_writer *w, const struct fc_ft_file_info *info)
{
	uint8_t h[FT_HDR_FIXED + 255 + 4 * N_FIELDS_MAX + 1 + 255 +
		  1 + FT_ANON_FP + 4];
	size_t ml = strnlen(info->monitor, sizeof(info->monitor));
	size_t wl = strnlen(info->writer, sizeof(info->writer));
	bool anon = info->flags & FC_FT_F_ANON;
	size_t hl, p;
	int rc;

	/* The fingerprint (2.2) follows the writer's name: it needs one. */
	if (ml > 255 || wl > FC_FT_WRITER_MAX || (anon && wl == 0))
		return FC_FT_E_INVAL;
	/* The writer field (2.1) is left out when there is no name. */
	hl = FT_HDR_FIXED + ml + 4 * w->nf + (wl ? 1 + wl : 0) +
	     (anon ? 1 + FT_ANON_FP : 0) + 4;
	memcpy(h, FT_MAGIC, 4);
	put16(h + 4, FT_VMAJOR);
	put16(h + 6, FT_VMINOR);
	put32(h + 8, (uint32_t)hl);
	put16(h + 12, info->kind);
	put16(h + 14, (uint16_t)w->nf);
	put32(h + 16, info->interval_len);
	put32(h + 20, info->flags);
	put64(h + 24, info->created);
	h[32] = (uint8_t)ml;
	memcpy(h + 33, info->monitor, ml);
	p = FT_HDR_FIXED + ml;
	for (size_t i = 0; i < w->nf; i++, p += 4) {
		h[p] = w->fields[i].id;
		h[p + 1] = w->fields[i].width;
		h[p + 2] = w->fields[i].enc;
		h[p + 3] = w->fields[i].flags;
	}
	if (wl > 0) {
		h[p] = (uint8_t)wl;
		memcpy(h + p + 1, info->writer, wl);
		p += 1 + wl;
	}
	if (anon) {
		h[p] = FT_ANON_FP;
		memcpy(h + p + 1, info->anon_fp, FT_ANON_FP);
		p += 1 + FT_ANON_FP;
	}
	put32(h + p, fc_ft_crc32c(0, h, p));
	rc = w_frame(w, (uint32_t)hl);
	return rc != FC_FT_OK ? rc : w_put(w, h, hl);
}

struct fc_ft_writer *fc_ft_writer_open(const char *path,
				       const struct fc_ft_file_info *info,
				       int *status)
{
	return fc_ft_writer_open_cached(path, info, NULL, status);
}

struct fc_ft_writer *fc_ft_writer_open_cached(const char *path,
					      const struct fc_ft_file_info *info,
					      struct fc_ft_wcache *cache,
					      int *status)
{
	struct fc_ft_writer *w;
	struct stat st;
	int rc = FC_FT_E_NOMEM, dummy;

	if (status == NULL)
		status = &dummy;
	if (path == NULL || info == NULL || path[0] == '\0' ||
	    info->kind != FC_FT_KIND_FLOWTUPLE ||
	    strnlen(info->monitor, sizeof(info->monitor)) > 255 ||
	    strnlen(info->writer, sizeof(info->writer)) > FC_FT_WRITER_MAX ||
	    !writer_ok(info->writer, strnlen(info->writer,
					    sizeof(info->writer)))) {
		*status = FC_FT_E_INVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto err;
	w->fd = -1;
	w->level = FC_FT_LEVEL_DEFAULT;
	w->path = strdup(path);
	w->tmp = str_cat(path, ".tmp");
	wcache_take(w, cache);
	if (w->wbuf == NULL)
		w->wbuf = malloc(FT_WBUF);
	if (w->cctx == NULL)
		w->cctx = ZSTD_createCCtx();
	if (w->path == NULL || w->tmp == NULL || w->wbuf == NULL ||
	    w->cctx == NULL)
		goto err_free;
	/* A final name that exists is refused now (callers pick another
	 * name) and again, atomically, at rename time. */
	if (lstat(path, &st) == 0) {
		rc = FC_FT_E_EXISTS;
		goto err_free;
	} else if (errno != ENOENT) {
		rc = errno_status(errno);
		goto err_free;
	}
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			     O_CLOEXEC, 0640);
	if (w->fd < 0) {
		rc = errno_status(errno);
		goto err_free;
	}
	memcpy(w->fields, writer_fields, sizeof(writer_fields));
	w->nf = N_WRITER_FIELDS;
	if (info->opt_fields & FC_FT_OPT_LABEL)
		w->fields[w->nf++] = opt_fields[0];
	if (info->opt_fields & FC_FT_OPT_VLAN)
		w->fields[w->nf++] = opt_fields[1];
	rc = w_header(w, info);
	if (rc != FC_FT_OK)
		goto err_unlink;
	*status = FC_FT_OK;
	return w;
err_unlink:
	unlink(w->tmp);
err_free:
	w_free(w);
err:
	*status = rc;
	return NULL;
}

int fc_ft_writer_set_level(struct fc_ft_writer *w, int level)
{
	if (w == NULL || level < ZSTD_minCLevel() || level > ZSTD_maxCLevel() ||
	    level == 0)
		return FC_FT_E_INVAL;
	w->level = level;
	return FC_FT_OK;
}

int fc_ft_writer_set_perm(struct fc_ft_writer *w, gid_t gid, int mode)
{
	if (w == NULL || w->fd < 0 || mode > 07777)
		return FC_FT_E_INVAL;
	if (gid != (gid_t)-1 && fchown(w->fd, (uid_t)-1, gid) != 0)
		return errno_status(errno);
	if (mode >= 0 && fchmod(w->fd, (mode_t)mode) != 0)
		return errno_status(errno);
	return FC_FT_OK;
}

uint64_t fc_ft_writer_bytes(const struct fc_ft_writer *w)
{
	return w != NULL ? w->off : 0;
}

/* A buffer aligned to 2 MB and offered to transparent huge pages, or
 * NULL: a block's columns are written as some 30 planes at once, 65536
 * bytes apart, each on a page of its own with 4 KB pages. */
static void *huge_alloc(size_t len)
{
	const size_t huge = 2u << 20;
	void *p = NULL;

	len = (len + huge - 1) / huge * huge;
	if (posix_memalign(&p, huge, len) != 0)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	return p;
}

/* Planes of the staged block: a field's p planes (4 for an address, its
 * width otherwise) for every field, FC_FT_BLOCK_RECORDS bytes each, then
 * the 12 other bytes of the IPv6 rows of each address, 12 planes each. */
#define FT_STAGE_PLANES (1 + 1 + 4 + 4 + 2 + 2 + 1 + 1 + 1 + 4 + 8 + 2 + 2)
#define FT_STAGE ((size_t)FC_FT_BLOCK_RECORDS * (FT_STAGE_PLANES + 2 * 12))
/* Widest row a block holds: every field, addresses of 16 bytes. */
#define FT_ROW_MAX (1 + 1 + 16 + 16 + 2 + 2 + 1 + 1 + 1 + 4 + 8 + 2 + 2)
/* Most bytes one RECORDS payload takes: its prefix and a zstd frame of
 * a whole block. */
#define FT_PAYLOAD_MAX                                                         \
	(FT_REC_PREFIX +                                                       \
	 ZSTD_COMPRESSBOUND((size_t)FC_FT_BLOCK_RECORDS * FT_ROW_MAX))

static int w_buffers(struct fc_ft_writer *w)
{
	/* Each is allocated once (a writer from a cache may have them). */
	if (w->stage == NULL)
		w->stage = huge_alloc(FT_STAGE);
	if (w->raw == NULL)
		w->raw = huge_alloc((size_t)FC_FT_BLOCK_RECORDS * FT_ROW_MAX);
	if (w->stage == NULL || w->raw == NULL)
		return FC_FT_E_NOMEM;
	return FC_FT_OK;
}

/* Room for one more RECORDS payload at w->pend + w->pend_len. The
 * buffer holds an interval's compressed blocks (about 12 bytes a record
 * for uniform random keys, fewer on real traffic) and is kept. */
static int w_pend_room(struct fc_ft_writer *w)
{
	if (w->pend_cap - w->pend_len < FT_PAYLOAD_MAX) {
		size_t cap = 2 * w->pend_cap + FT_PAYLOAD_MAX;
		uint8_t *p = realloc(w->pend, cap);

		if (p == NULL)
			return FC_FT_E_NOMEM;
		w->pend = p;
		w->pend_cap = cap;
	}
	if (w->n_pend == w->plen_cap) {
		size_t cap = 2 * w->plen_cap + 64;
		uint32_t *p = realloc(w->plen, cap * sizeof(*p));

		if (p == NULL)
			return FC_FT_E_NOMEM;
		w->plen = p;
		w->plen_cap = cap;
	}
	return FC_FT_OK;
}

static inline uint64_t be32_of(const uint8_t *a)
{
	return (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 |
	       (uint64_t)a[2] << 8 | a[3];
}

/*
 * Field id of records r[0..m) as planes of a column of n rows at out
 * (plane j: bits 8j..8j+7 of every value, at out + j * n; an address:
 * its first 4 bytes, big endian), optionally as differences modulo
 * 2^(8 width) from the previous value (*prev: the value before r[0]'s,
 * updated). One loop per field with its width a constant: the record's
 * field is read and its bytes stored in one go, no decision per record.
 */
static void put_field(uint8_t *out, const struct fc_ft_record *r, size_t m,
		      size_t n, unsigned id, bool delta, uint64_t *prev)
{
#define PUT_LOOP(width, is_delta, expr)                                        \
	do {                                                                   \
		uint64_t p = *prev;                                            \
		for (size_t i = 0; i < m; i++) {                               \
			uint64_t v = (expr), x = (is_delta) ? v - p : v;       \
			p = v;                                                 \
			for (unsigned j = 0; j < (width); j++)                 \
				out[j * n + i] = (uint8_t)(x >> (8 * j));      \
		}                                                              \
		*prev = p;                                                     \
	} while (0)
#define PUT(width, expr)                                                       \
	do {                                                                   \
		if (delta)                                                     \
			PUT_LOOP(width, true, expr);                           \
		else                                                           \
			PUT_LOOP(width, false, expr);                          \
	} while (0)
	switch (id) {
	case FT_F_FAMILY: PUT(1, r[i].key.family); break;
	case FT_F_CLASS: PUT(1, r[i].key.cls); break;
	case FT_F_SRC_IP: PUT(4, be32_of(r[i].key.src_ip)); break;
	case FT_F_DST_IP: PUT(4, be32_of(r[i].key.dst_ip)); break;
	case FT_F_SRC_PORT: PUT(2, r[i].key.src_port); break;
	case FT_F_DST_PORT: PUT(2, r[i].key.dst_port); break;
	case FT_F_PROTO: PUT(1, r[i].key.proto); break;
	case FT_F_TTL: PUT(1, r[i].key.ttl); break;
	case FT_F_TCP_FLAGS: PUT(1, r[i].key.tcp_flags); break;
	case FT_F_IP_LEN: PUT(4, r[i].key.ip_len); break;
	case FT_F_PACKETS: PUT(8, r[i].packets); break;
	case FT_F_LABEL: PUT(2, fc_ftkey_label(&r[i].key)); break;
	case FT_F_VLAN: PUT(2, fc_ftkey_vlan(&r[i].key)); break;
	default: PUT(field_width[id], 0); break;
	}
#undef PUT
#undef PUT_LOOP
}

static bool key_valid(const struct fc_ftkey *k)
{
	uint32_t s4, d4;
	uint64_t s8, d8;

	if (k->cls >= FC_FT_CLASS_COUNT)
		return false;
	if (k->family != 4)
		return k->family == 6;
	/* Bytes 4..15 of both addresses are zero: four loads, no memcmp. */
	memcpy(&s4, k->src_ip + 4, 4);
	memcpy(&s8, k->src_ip + 8, 8);
	memcpy(&d4, k->dst_ip + 4, 4);
	memcpy(&d8, k->dst_ip + 8, 8);
	return (s4 | d4 | s8 | d8) == 0;
}

/* The match finder's tables at levels 1..3 are capped at 2^FT_ZSTD_TLOG
 * entries (32 KB each: they stay in L1/L2). A block's planes are mostly
 * either runs (high bytes of counts and lengths, the family) or bytes
 * with little to find (addresses, ports), so the larger default tables
 * (2^17 at level 3) buy almost nothing and cost a cache miss per lookup:
 * measured on the uniform 1M-key blocks 28 % more throughput for 0.06 %
 * more bytes, on the shared real traces 0.02-0.19 % more bytes
 * (bench/README.md). Higher levels, asked for ratio, keep zstd's own. */
#define FT_ZSTD_TLOG 13

/* Compress raw_len bytes at raw into the next pending payload, after its
 * prefix (w_pend_room made room for it). */
static size_t w_compress(struct fc_ft_writer *w, const uint8_t *raw,
			 size_t raw_len)
{
	ZSTD_CCtx *c = w->cctx;

	ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, w->level);
	if (w->level >= 1 && w->level <= 3) {
		/* Level 1 has these already (its chain table is unused);
		 * 2 and 3 (double-fast) have 2^16-2^17 above 256 KB. */
		ZSTD_CCtx_setParameter(c, ZSTD_c_hashLog, FT_ZSTD_TLOG);
		ZSTD_CCtx_setParameter(c, ZSTD_c_chainLog, FT_ZSTD_TLOG);
	}
	return ZSTD_compress2(c, w->pend + w->pend_len + FT_REC_PREFIX,
			      FT_PAYLOAD_MAX - FT_REC_PREFIX, raw, raw_len);
}

/* Records a block transposes at a time: their 56 bytes each stay in the
 * cache while every field's planes are written. */
#define W_CHUNK 2048

/* Where field fi's planes start in the stage; *ai: its index among the
 * addresses (for its IPv6 bytes), or -1. */
static uint8_t *stage_col(const struct fc_ft_writer *w, size_t fi, int *ai)
{
	size_t planes = 0;
	int a = 0;

	for (size_t i = 0; i < fi; i++) {
		planes += is_addr(w->fields[i].id) ? 4 : w->fields[i].width;
		a += is_addr(w->fields[i].id);
	}
	*ai = is_addr(w->fields[fi].id) ? a : -1;
	return w->stage + planes * FC_FT_BLOCK_RECORDS;
}

/* The IPv6 bytes of address ai (0 or 1), plane j, in the stage. */
static uint8_t *stage6(const struct fc_ft_writer *w, int ai, unsigned j)
{
	return w->stage + ((size_t)FT_STAGE_PLANES + 12 * (size_t)ai + j) *
				  FC_FT_BLOCK_RECORDS;
}

/* The staged block (w->bn records, w->bn6 of them IPv6) into a RECORDS
 * payload of w->pend. Its columns are laid out as the format has them
 * (each field's planes of bn bytes, then for an address the IPv6 rows'
 * 12 other bytes in planes of bn6): a copy, in the caches, unless the
 * stage has that layout already (a whole block without IPv6 rows). */
static int w_seal_block(struct fc_ft_writer *w)
{
	const size_t n = w->bn, n6 = w->bn6;
	const uint8_t *raw = w->stage;
	size_t raw_len = 0, zl;
	int rc;

	if ((rc = w_pend_room(w)) != FC_FT_OK)
		return rc;
	for (size_t fi = 0; fi < w->nf; fi++)
		raw_len += column_size(&w->fields[fi], n, n6);
	if (n != FC_FT_BLOCK_RECORDS || n6 != 0) {
		uint8_t *o = w->raw;

		for (size_t fi = 0; fi < w->nf; fi++) {
			const struct ft_field_desc *f = &w->fields[fi];
			int ai;
			const uint8_t *c = stage_col(w, fi, &ai);
			unsigned planes = ai >= 0 ? 4 : f->width;

			for (unsigned j = 0; j < planes; j++, o += n)
				memcpy(o, c + (size_t)j * FC_FT_BLOCK_RECORDS,
				       n);
			for (unsigned j = 0; ai >= 0 && n6 > 0 && j < 12;
			     j++, o += n6)
				memcpy(o, stage6(w, ai, j), n6);
		}
		raw = w->raw;
	}
	zl = w_compress(w, raw, raw_len);
	if (ZSTD_isError(zl))
		return FC_FT_E_ZSTD;
	put32(w->pend + w->pend_len, (uint32_t)n);
	put32(w->pend + w->pend_len + 4, (uint32_t)raw_len);
	w->plen[w->n_pend++] = (uint32_t)(FT_REC_PREFIX + zl);
	w->pend_len += FT_REC_PREFIX + zl;
	w->bn = 0;
	w->bn6 = 0;
	memset(w->prev, 0, sizeof(w->prev));
	return FC_FT_OK;
}

/* Records r[0..m) (m6 of them IPv6, m at most what the staged block has
 * room for) into the stage after its w->bn records. */
static void w_stage(struct fc_ft_writer *w, const struct fc_ft_record *r,
		    size_t m, size_t m6)
{
	for (size_t i0 = 0; i0 < m; i0 += W_CHUNK) {
		size_t c = m - i0 < W_CHUNK ? m - i0 : W_CHUNK;

		for (size_t fi = 0; fi < w->nf; fi++) {
			const struct ft_field_desc *f = &w->fields[fi];
			int ai;

			put_field(stage_col(w, fi, &ai) + w->bn + i0, r + i0, c,
				  FC_FT_BLOCK_RECORDS, f->id,
				  f->enc == FT_ENC_DELTA, &w->prev[fi]);
		}
	}
	for (size_t fi = 0; fi < w->nf && m6 > 0; fi++) {
		const size_t off = w->fields[fi].id == FT_F_SRC_IP ?
					   offsetof(struct fc_ftkey, src_ip) :
					   offsetof(struct fc_ftkey, dst_ip);
		uint8_t *pl[12];
		int ai;
		size_t k = w->bn6;

		(void)stage_col(w, fi, &ai);
		if (ai < 0)
			continue;
		/* The planes' addresses in registers: stored through a
		 * uint8_t pointer, each byte made the compiler load them
		 * again (a fifth of the writer's samples with 10 % IPv6
		 * rows). */
		for (unsigned j = 0; j < 12; j++)
			pl[j] = stage6(w, ai, j);
		for (size_t i = 0; i < m; i++) {
			const uint8_t *a = (const uint8_t *)&r[i].key + off;

			if (r[i].key.family != 6)
				continue;
			for (unsigned j = 0; j < 12; j++)
				pl[j][k] = a[4 + j];
			k++;
		}
	}
	w->bn += m;
	w->bn6 += m6;
}

int fc_ft_writer_set_labels(struct fc_ft_writer *w, uint64_t hash,
			    const char (*names)[32], unsigned n)
{
	uint8_t *pl;
	size_t len = 10;
	int rc;

	if (w == NULL || n > FC_FT_LABELS_MAX || (n > 0 && names == NULL))
		return FC_FT_E_INVAL;
	if (w->failed)
		return w->failed;
	if ((pl = malloc(10 + (size_t)n * 32)) == NULL)
		return FC_FT_E_NOMEM;
	put64(pl, hash);
	put16(pl + 8, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		size_t l = strnlen(names[i], 32);

		if (l < 1 || l > 31) {
			free(pl);
			return FC_FT_E_INVAL;
		}
		pl[len++] = (uint8_t)l;
		memcpy(pl + len, names[i], l);
		len += l;
	}
	rc = w_block(w, FT_BLK_LABELS, pl, (uint32_t)len);
	free(pl);
	if (rc != FC_FT_OK)
		w->failed = rc;
	return rc;
}

/* Drop the records added since the last interval. */
static void w_drop_interval(struct fc_ft_writer *w)
{
	w->bn = 0;
	w->bn6 = 0;
	w->pend_len = 0;
	w->n_pend = 0;
	w->iv_recs = 0;
	w->iv_status = FC_FT_OK;
	memset(w->prev, 0, sizeof(w->prev));
}

int fc_ft_writer_add_records(struct fc_ft_writer *w,
			     const struct fc_ft_record *recs, uint64_t n)
{
	int rc;

	if (w == NULL || (n > 0 && recs == NULL))
		return FC_FT_E_INVAL;
	if (w->failed)
		return w->failed;
	if (w->iv_status != FC_FT_OK)
		return w->iv_status;
	if (n > 0 && (rc = w_buffers(w)) != FC_FT_OK)
		goto fail;
	while (n > 0) {
		size_t m = FC_FT_BLOCK_RECORDS - w->bn, m6 = 0;

		if (m > n)
			m = (size_t)n;
		/* A key the format cannot store refuses the interval: what
		 * was added of it is dropped (nothing of it is written). */
		for (size_t i = 0; i < m; i++) {
			if (!key_valid(&recs[i].key)) {
				rc = FC_FT_E_INVAL;
				goto fail;
			}
			m6 += recs[i].key.family == 6;
		}
		w_stage(w, recs, m, m6);
		w->iv_recs += m;
		recs += m;
		n -= m;
		if (w->bn == FC_FT_BLOCK_RECORDS &&
		    (rc = w_seal_block(w)) != FC_FT_OK)
			goto fail;
	}
	return FC_FT_OK;
fail:
	w_drop_interval(w);
	w->iv_status = rc;
	return rc;
}

void fc_ft_writer_cancel_interval(struct fc_ft_writer *w)
{
	if (w != NULL)
		w_drop_interval(w);
}

int fc_ft_writer_end_interval(struct fc_ft_writer *w,
			      const struct fc_ft_interval *iv)
{
	uint8_t pl[FT_IV_FIXED + FT_IV_CTR * FC_CTR_MAX];
	const uint64_t n = w != NULL ? w->iv_recs : 0;
	unsigned nc = 0;
	size_t len, off = 0;
	int rc;

	if (w == NULL)
		return FC_FT_E_INVAL;
	if (iv == NULL || iv->end < iv->start) {
		rc = FC_FT_E_INVAL;
		goto out;
	}
	if ((rc = w->failed) != FC_FT_OK || (rc = w->iv_status) != FC_FT_OK)
		goto out;
	if (w->bn > 0 && (rc = w_seal_block(w)) != FC_FT_OK)
		goto out;
	put32(pl, iv->index);
	put32(pl + 4, iv->flags);
	put64(pl + 8, iv->start);
	put64(pl + 16, iv->end);
	put64(pl + 24, iv->rx_pkts);
	put64(pl + 32, iv->rec_pkts);
	put64(pl + 40, n);
	len = FT_IV_FIXED;
	for (unsigned id = 1; id < FC_CTR_MAX; id++) {
		if (iv->ctr[id] == 0 || fc_ft_counter_name(id) == NULL)
			continue;
		put16(pl + len, (uint16_t)id);
		put64(pl + len + 2, iv->ctr[id]);
		len += FT_IV_CTR;
		nc++;
	}
	put32(pl + 48, nc);
	rc = w_block(w, FT_BLK_INTERVAL, pl, (uint32_t)len);
	for (size_t i = 0; rc == FC_FT_OK && i < w->n_pend; i++) {
		rc = w_block(w, FT_BLK_RECORDS, w->pend + off, w->plen[i]);
		off += w->plen[i];
	}
	if (rc != FC_FT_OK) {
		w->failed = rc;
		goto out;
	}
	w->tot_recs += n;
	w->tot_ivs++;
out:
	w_drop_interval(w);
	return rc;
}

int fc_ft_writer_add_interval(struct fc_ft_writer *w,
			      const struct fc_ft_interval *iv,
			      const struct fc_ft_record *recs, uint64_t n)
{
	int rc;

	if (w == NULL || iv == NULL || (n > 0 && recs == NULL) ||
	    iv->end < iv->start)
		return FC_FT_E_INVAL;
	if (w->failed)
		return w->failed;
	/* An interval begun with add_records and not ended is dropped. */
	w_drop_interval(w);
	rc = fc_ft_writer_add_records(w, recs, n);
	if (rc != FC_FT_OK) {
		w_drop_interval(w);
		return rc;
	}
	return fc_ft_writer_end_interval(w, iv);
}

static _Atomic bool fail_dirsync;

void fc_ft_test_fail_dirsync(bool on)
{
	atomic_store(&fail_dirsync, on);
}

static int fsync_dir(const char *path)
{
	const char *sl = strrchr(path, '/');
	char *dir;
	int fd, rc = FC_FT_OK;

	if (sl == NULL)
		dir = strdup(".");
	else if (sl == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(sl - path));
	if (dir == NULL)
		return FC_FT_E_NOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return errno_status(errno);
	if (atomic_load(&fail_dirsync))
		rc = FC_FT_E_ERRNO(EIO);
	else if (fsync(fd) != 0 && errno != EINVAL)
		rc = errno_status(errno);
	close(fd);
	return rc;
}

/* Rename without ever replacing a file that appeared meanwhile. */
static int rename_noreplace(const char *from, const char *to)
{
	struct stat st;

	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return FC_FT_OK;
	if (errno != EINVAL && errno != ENOSYS)
		return errno_status(errno);
	/* File system without RENAME_NOREPLACE: check, then rename. */
	if (lstat(to, &st) == 0)
		return FC_FT_E_EXISTS;
	if (rename(from, to) != 0)
		return errno_status(errno);
	return FC_FT_OK;
}

int fc_ft_writer_close(struct fc_ft_writer *w)
{
	uint8_t pl[FT_END_LEN];
	int rc;

	if (w == NULL)
		return FC_FT_E_INVAL;
	rc = w->failed;
	if (rc != FC_FT_OK)
		goto err;
	put64(pl, w->tot_recs);
	put64(pl + 8, w->tot_ivs);
	put32(pl + 16, w->crc);
	rc = w_block(w, FT_BLK_END, pl, sizeof(pl));
	if (rc == FC_FT_OK)
		rc = w_flush(w);
	if (rc != FC_FT_OK)
		goto err;
	if (fsync(w->fd) != 0) {
		rc = errno_status(errno);
		goto err;
	}
	rc = close(w->fd) != 0 ? errno_status(errno) : FC_FT_OK;
	w->fd = -1;
	if (rc != FC_FT_OK)
		goto err;
	rc = rename_noreplace(w->tmp, w->path);
	if (rc != FC_FT_OK)
		goto err;
	/* Past the rename the file is complete under its name, whatever
	 * the directory's fsync says. */
	rc = fsync_dir(w->path);
	w_free(w);
	if (rc != FC_FT_OK) {
		/* One status says the file is complete; errno says why its
		 * name is not durable. Set after w_free, which may change it. */
		errno = fc_ft_status_errno(rc) ? fc_ft_status_errno(rc) : EIO;
		rc = FC_FT_E_DIRSYNC;
	}
	return rc;
err:
	unlink(w->tmp);
	w_free(w);
	return rc;
}

void fc_ft_writer_abort(struct fc_ft_writer *w)
{
	if (w == NULL)
		return;
	unlink(w->tmp);
	w_free(w);
}

/* ---------------------------------------------------------------------- */
/* Reader                                                                 */

/* Records decoded together: every column of a chunk while its records
 * (56 bytes each: 28 KiB) stay in the first-level cache, and handed out
 * before the next chunk is decoded, so the caller finds them there too. */
#define DECODE_CHUNK 512

/* A known column of a block being decoded. */
struct dcol {
	const uint8_t *c;    /* its planes, n bytes each */
	const uint8_t *c6;   /* addresses: the IPv6 bytes 4..15, 12 planes */
	unsigned id, width;
	bool delta;
	uint64_t prev;       /* delta: the value before the chunk */
	size_t k6;           /* addresses: IPv6 records done */
};

struct fc_ft_reader {
	FILE *f;
	uint64_t size;        /* file size at open */
	uint64_t off;         /* bytes consumed */
	uint64_t err_off;
	uint32_t crc;         /* CRC32C of the bytes consumed */
	unsigned frame;       /* skippable frame header bytes: 0 in v1 */
	bool version_ok;      /* info.version_* read from a verified header */
	int err;              /* sticky status */
	bool done;            /* END seen and verified */
	bool in_iv;           /* an INTERVAL block has been read */
	uint64_t iv_left;     /* records of this interval not yet in a block */
	uint64_t n_ivs;
	uint64_t n_recs;
	struct fc_ft_file_info info;
	unsigned nf;
	struct ft_field_desc fields[FT_MAX_FIELDS];
	size_t row_min;       /* bytes per IPv4 row, all columns */
	size_t row_v6;        /* extra bytes per IPv6 row */
	uint8_t *pl;          /* one block payload */
	size_t pl_cap;
	uint8_t *raw;         /* one block's columns */
	size_t raw_cap;
	uint64_t *vals;
	struct fc_ft_record *recs;
	size_t rec_cap;       /* records vals and recs hold */
	size_t nrec, pos;     /* records of the chunk in recs, handed out */
	/* The block being decoded a chunk at a time: its columns, records
	 * and IPv6 records, and how many are decoded. */
	struct dcol cols[FT_MAX_FIELDS];
	unsigned ncol;
	size_t blk_n, blk_n6, blk_done;
	ZSTD_DCtx *dctx;
	uint64_t want;        /* fields decoded: bit 1 << id */
	/* 2.2: the label names of the current interval (LABELS block). */
	char (*labels)[32];   /* [id]: FC_FT_LABELS_MAX + 1 entries */
	unsigned n_labels;    /* 0: none */
	uint64_t rules_hash;
};

struct ft_blk {
	uint64_t off;
	uint16_t type;
	uint32_t len;
};

static int r_fail(struct fc_ft_reader *r, int st, uint64_t off)
{
	if (r->err == FC_FT_OK) {
		r->err = st;
		r->err_off = off;
	}
	return r->err;
}

/* Read exactly n bytes (the caller checked that the file has them). */
static int r_read(struct fc_ft_reader *r, void *p, size_t n)
{
	if (n > 0 && fread(p, 1, n, r->f) != n)
		return ferror(r->f) ? FC_FT_E_IO : FC_FT_E_TRUNCATED;
	r->crc = fc_ft_crc32c(r->crc, p, n);
	r->off += n;
	return FC_FT_OK;
}

static size_t max_payload(void)
{
	return FT_REC_PREFIX + ZSTD_compressBound(FT_RAW_MAX);
}

/* Read the next block into r->pl, check its frame, length and checksum. */
static int r_block(struct fc_ft_reader *r, struct ft_blk *b, uint32_t *crc0)
{
	uint8_t f[FT_FRAME_HDR], h[FT_BLK_HDR];
	uint32_t c;
	int rc;

	b->off = r->off;
	*crc0 = r->crc;
	if (r->size - r->off < r->frame + FT_BLK_HDR)
		return r_fail(r, FC_FT_E_TRUNCATED, b->off);
	rc = r_read(r, f, r->frame);
	if (rc == FC_FT_OK)
		rc = r_read(r, h, sizeof(h));
	if (rc != FC_FT_OK)
		return r_fail(r, rc, b->off);
	if (r->frame != 0 && get32(f) != FT_SKIP_MAGIC)
		return r_fail(r, FC_FT_E_CORRUPT, b->off);
	b->type = get16(h);
	b->len = get32(h + 4);
	if (b->len > max_payload())
		return r_fail(r, FC_FT_E_CORRUPT, b->off);
	/* The frame holds the block header and either the count and raw
	 * size of a RECORDS block (its zstd frame follows) or the whole
	 * payload of any other block. */
	if (r->frame != 0 &&
	    get32(f + 4) != FT_BLK_HDR + (b->type == FT_BLK_RECORDS ?
						  FT_REC_PREFIX : b->len))
		return r_fail(r, FC_FT_E_CORRUPT, b->off);
	if (r->size - r->off < b->len)
		return r_fail(r, FC_FT_E_TRUNCATED, b->off);
	if (b->len > r->pl_cap) {
		size_t cap = b->len < 65536 ? 65536 : b->len;
		uint8_t *p = realloc(r->pl, cap);

		if (p == NULL)
			return r_fail(r, FC_FT_E_NOMEM, b->off);
		r->pl = p;
		r->pl_cap = cap;
	}
	rc = r_read(r, r->pl, b->len);
	if (rc != FC_FT_OK)
		return r_fail(r, rc, b->off);
	c = fc_ft_crc32c(0, h, 8);
	c = fc_ft_crc32c(c, r->pl, b->len);
	if (c != get32(h + 8))
		return r_fail(r, FC_FT_E_CHECKSUM, b->off);
	return FC_FT_OK;
}

/*
 * The header, in either layout: version 1 starts with the magic; version 2
 * starts with a skippable frame whose size is header_len. Nothing but the
 * magic and header_len is used before the checksum is verified, so a
 * damaged version field reads as damage, not as a newer version.
 */
static int r_header(struct fc_ft_reader *r)
{
	uint8_t *h;
	uint8_t fix[12], f[FT_FRAME_HDR];
	size_t n, k, hl, ml, p;
	bool seen[FT_F_KNOWN] = {false};
	int rc;

	n = r->size < 4 ? (size_t)r->size : 4;
	rc = r_read(r, fix, n);
	if (rc != FC_FT_OK)
		return r_fail(r, rc, 0);
	put32(f, FT_SKIP_MAGIC);
	if (n < 4 && memcmp(fix, f, n) == 0)
		return r_fail(r, FC_FT_E_TRUNCATED, 0);
	if (n == 4 && get32(fix) == FT_SKIP_MAGIC) {
		r->frame = FT_FRAME_HDR;
		memcpy(f, fix, 4);
		if (r->size < FT_FRAME_HDR)
			return r_fail(r, FC_FT_E_TRUNCATED, 0);
		rc = r_read(r, f + 4, 4);
		if (rc != FC_FT_OK)
			return r_fail(r, rc, 0);
		n = 0;
	}
	k = r->size - r->frame < 12 ? (size_t)(r->size - r->frame) : 12;
	rc = r_read(r, fix + n, k - n);
	if (rc != FC_FT_OK)
		return r_fail(r, rc, 0);
	n = k;
	if (memcmp(fix, FT_MAGIC, n < 4 ? n : 4) != 0)
		return r_fail(r, FC_FT_E_MAGIC, r->frame);
	if (n < 12)
		return r_fail(r, FC_FT_E_TRUNCATED, 0);
	hl = get32(fix + 8);
	if (hl < FT_HDR_FIXED + 4 || hl > FT_HDR_MAX)
		return r_fail(r, FC_FT_E_CORRUPT, r->frame + 8);
	if (r->frame != 0 && get32(f + 4) != hl)
		return r_fail(r, FC_FT_E_CORRUPT, 4);
	if (hl > r->size - r->frame)
		return r_fail(r, FC_FT_E_TRUNCATED, 0);
	h = malloc(hl);
	if (h == NULL)
		return r_fail(r, FC_FT_E_NOMEM, 0);
	memcpy(h, fix, 12);
	rc = r_read(r, h + 12, hl - 12);
	if (rc != FC_FT_OK) {
		rc = r_fail(r, rc, 0);
		goto out;
	}
	rc = FC_FT_E_CHECKSUM;
	p = 0;
	if (fc_ft_crc32c(0, h, hl - 4) != get32(h + hl - 4))
		goto bad;
	/* Checksum verified: the version is what a writer wrote. A major
	 * version above ours is a newer format; one that does not match
	 * the layout (1 unframed, 2 framed) is not a file we wrote. */
	r->info.version_major = get16(h + 4);
	r->info.version_minor = get16(h + 6);
	r->version_ok = true;
	p = 4;
	rc = FC_FT_E_VERSION;
	if (r->info.version_major > FT_VMAJOR)
		goto bad;
	rc = FC_FT_E_CORRUPT;
	if (r->info.version_major !=
	    (r->frame != 0 ? FT_VMAJOR : FT_VMAJOR_V1))
		goto bad;
	rc = FC_FT_E_VERSION;
	p = 12;
	r->info.kind = get16(h + 12);
	if (r->info.kind != FC_FT_KIND_FLOWTUPLE)
		goto bad;
	rc = FC_FT_E_CORRUPT;
	p = 14;
	r->nf = get16(h + 14);
	if (r->nf == 0 || r->nf > FT_MAX_FIELDS)
		goto bad;
	r->info.interval_len = get32(h + 16);
	r->info.flags = get32(h + 20);
	r->info.created = get64(h + 24);
	ml = h[32];
	p = 32;
	if (FT_HDR_FIXED + ml + 4 * (size_t)r->nf + 4 > hl ||
	    memchr(h + 33, '\0', ml) != NULL)
		goto bad;
	memcpy(r->info.monitor, h + 33, ml);
	r->info.monitor[ml] = '\0';
	p = FT_HDR_FIXED + ml;
	for (unsigned i = 0; i < r->nf; i++, p += 4) {
		struct ft_field_desc *fd = &r->fields[i];

		fd->id = h[p];
		fd->width = h[p + 1];
		fd->enc = h[p + 2];
		fd->flags = h[p + 3];
		if (fd->id < FT_F_KNOWN && fd->id != 0) {
			/* Known fields: fixed width, known encoding, once. */
			rc = FC_FT_E_CORRUPT;
			if (fd->width != field_width[fd->id] || seen[fd->id])
				goto bad;
			rc = FC_FT_E_VERSION;
			if (fd->enc > FT_ENC_DELTA)
				goto bad;
			seen[fd->id] = true;
		} else {
			/* Unknown: a critical one means this reader cannot
			 * give correct records; others are skipped. */
			rc = FC_FT_E_VERSION;
			if (fd->flags & FT_FD_CRITICAL)
				goto bad;
			rc = FC_FT_E_CORRUPT;
			if (fd->width == 0 || fd->width > 8)
				goto bad;
		}
		rc = FC_FT_E_CORRUPT;
		if (i == 0 && fd->id != FT_F_FAMILY)
			goto bad;
		r->row_min += is_addr(fd->id) ? 4 : fd->width;
		r->row_v6 += is_addr(fd->id) ? 12 : 0;
	}
	/* 2.1 and later: the reserved area, when not empty, starts with the
	 * writer's name (length byte, name); what follows it is a later
	 * minor version's and is ignored. Earlier files name no writer. */
	rc = FC_FT_E_CORRUPT;
	if (r->info.version_major == FT_VMAJOR &&
	    r->info.version_minor >= FT_VMINOR_WRITER && p < hl - 4) {
		size_t wl = h[p];

		if (p + 1 + wl > hl - 4 ||
		    !writer_ok((const char *)h + p + 1, wl))
			goto bad;
		memcpy(r->info.writer, h + p + 1, wl);
		r->info.writer[wl] = '\0';
		p += 1 + wl;
		/* 2.2: an anonymised file's key fingerprint follows. */
		if ((r->info.flags & FC_FT_F_ANON) &&
		    r->info.version_minor >= FT_VMINOR_ANON) {
			if (p + 1 + FT_ANON_FP > hl - 4 || h[p] != FT_ANON_FP)
				goto bad;
			memcpy(r->info.anon_fp, h + p + 1, FT_ANON_FP);
		}
	}
	r->info.opt_fields = (seen[FT_F_LABEL] ? FC_FT_OPT_LABEL : 0) |
			     (seen[FT_F_VLAN] ? FC_FT_OPT_VLAN : 0);
	rc = FC_FT_E_CORRUPT;
	if (!seen[FT_F_CLASS] || !seen[FT_F_SRC_IP] || !seen[FT_F_DST_IP] ||
	    !seen[FT_F_PACKETS] || r->row_min + r->row_v6 > FT_MAX_ROW)
		goto bad;
	rc = FC_FT_OK;
	goto out;
bad:
	/* A checksum error is the header's as a whole: its structure
	 * starts at 0; other errors name their field. */
	rc = r_fail(r, rc, rc == FC_FT_E_CHECKSUM ? 0 : r->frame + p);
out:
	free(h);
	return rc;
}

/* Fill *d (when given) from a reader that failed or succeeded to open. */
static void r_diag(const struct fc_ft_reader *r, struct fc_ft_open_diag *d)
{
	if (d == NULL || r == NULL)
		return;
	d->err_off = r->err_off;
	if (r->version_ok) {
		d->version_major = r->info.version_major;
		d->version_minor = r->info.version_minor;
	}
}

/* Close r after a failed open, keeping errno for the caller. */
static struct fc_ft_reader *r_open_fail(struct fc_ft_reader *r, int *status,
					int st, struct fc_ft_open_diag *d)
{
	int e = errno;

	*status = st;
	r_diag(r, d);
	if (d != NULL && st == FC_FT_E_IO)
		d->sys_errno = e;
	fc_ft_reader_close(r);
	errno = e;
	return NULL;
}

struct fc_ft_reader *fc_ft_reader_open_diag(const char *path, int *status,
					    struct fc_ft_open_diag *d)
{
	struct fc_ft_reader *r;
	struct stat st;
	int rc, dummy, fd;

	if (status == NULL)
		status = &dummy;
	if (d != NULL)
		memset(d, 0, sizeof(*d));
	if (path == NULL) {
		*status = FC_FT_E_INVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return r_open_fail(NULL, status, FC_FT_E_NOMEM, d);
	/* Non-blocking open: a FIFO without a writer must not hang the
	 * caller before the regular-file check below refuses it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0 && fcntl(fd, F_SETFL, 0) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	r->f = fd >= 0 ? fdopen(fd, "rb") : NULL;
	if (r->f == NULL) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		errno = e;
		return r_open_fail(r, status, e == ENOMEM ? FC_FT_E_NOMEM :
							    FC_FT_E_IO, d);
	}
	if (fstat(fileno(r->f), &st) != 0)
		return r_open_fail(r, status, FC_FT_E_IO, d);
	if (!S_ISREG(st.st_mode)) {
		/* Lengths are checked against the file size: regular files
		 * only; errno tells the caller why. */
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return r_open_fail(r, status, FC_FT_E_IO, d);
	}
	r->size = (uint64_t)st.st_size;
	r->want = UINT64_MAX;
	rc = r_header(r);
	if (rc != FC_FT_OK)
		return r_open_fail(r, status, rc, d);
	r_diag(r, d);
	*status = FC_FT_OK;
	return r;
}

struct fc_ft_reader *fc_ft_reader_open(const char *path, int *status)
{
	return fc_ft_reader_open_diag(path, status, NULL);
}

const struct fc_ft_file_info *fc_ft_reader_info(const struct fc_ft_reader *r)
{
	return &r->info;
}

uint64_t fc_ft_reader_error_offset(const struct fc_ft_reader *r)
{
	return r != NULL ? r->err_off : 0;
}

uint64_t fc_ft_reader_offset(const struct fc_ft_reader *r)
{
	return r != NULL ? r->off : 0;
}

void fc_ft_reader_close(struct fc_ft_reader *r)
{
	if (r == NULL)
		return;
	if (r->f != NULL)
		fclose(r->f);
	ZSTD_freeDCtx(r->dctx);
	free(r->pl);
	free(r->raw);
	free(r->vals);
	free(r->recs);
	free(r->labels);
	free(r);
}

/* One plane per byte of a width-byte value, planes n bytes apart: the m
 * values v[i] = sum of in[j * n + i] << 8j; then, for a delta column, a
 * running sum modulo 2^(8 width) continued from *prev. The usual widths
 * have their own loops (no inner loop over the bytes: the compiler
 * vectorises them); the decode of a block is this and scatter_field, per
 * column and chunk of records. */
static void get_planes(const uint8_t *in, size_t n, uint64_t *v, size_t m,
		       unsigned width, bool delta, uint64_t *prev)
{
	switch (width) {
	case 1:
		for (size_t i = 0; i < m; i++)
			v[i] = in[i];
		break;
	case 2:
		for (size_t i = 0; i < m; i++)
			v[i] = (uint64_t)in[i] | (uint64_t)in[n + i] << 8;
		break;
	case 4:
		for (size_t i = 0; i < m; i++)
			v[i] = (uint64_t)in[i] | (uint64_t)in[n + i] << 8 |
			       (uint64_t)in[2 * n + i] << 16 |
			       (uint64_t)in[3 * n + i] << 24;
		break;
	default:
		for (size_t i = 0; i < m; i++) {
			uint64_t x = 0;

			for (unsigned j = 0; j < width; j++)
				x |= (uint64_t)in[j * n + i] << (8 * j);
			v[i] = x;
		}
		break;
	}
	if (delta) {
		uint64_t p = *prev, mask = width < 8 ?
			(UINT64_C(1) << (8 * width)) - 1 : UINT64_MAX;

		for (size_t i = 0; i < m; i++)
			v[i] = p = (v[i] + p) & mask;
		*prev = p;
	}
}

/* Column id's values into the records: one loop per field, no choice
 * per record. */
static void scatter_field(struct fc_ft_record *recs, unsigned id,
			  const uint64_t *v, size_t n)
{
	switch (id) {
	case FT_F_CLASS:
		for (size_t i = 0; i < n; i++)
			recs[i].key.cls = (uint8_t)v[i];
		break;
	case FT_F_SRC_IP:
		for (size_t i = 0; i < n; i++) {
			uint32_t a = __builtin_bswap32((uint32_t)v[i]);

			memcpy(recs[i].key.src_ip, &a, 4);
		}
		break;
	case FT_F_DST_IP:
		for (size_t i = 0; i < n; i++) {
			uint32_t a = __builtin_bswap32((uint32_t)v[i]);

			memcpy(recs[i].key.dst_ip, &a, 4);
		}
		break;
	case FT_F_SRC_PORT:
		for (size_t i = 0; i < n; i++)
			recs[i].key.src_port = (uint16_t)v[i];
		break;
	case FT_F_DST_PORT:
		for (size_t i = 0; i < n; i++)
			recs[i].key.dst_port = (uint16_t)v[i];
		break;
	case FT_F_PROTO:
		for (size_t i = 0; i < n; i++)
			recs[i].key.proto = (uint8_t)v[i];
		break;
	case FT_F_TTL:
		for (size_t i = 0; i < n; i++)
			recs[i].key.ttl = (uint8_t)v[i];
		break;
	case FT_F_TCP_FLAGS:
		for (size_t i = 0; i < n; i++)
			recs[i].key.tcp_flags = (uint8_t)v[i];
		break;
	case FT_F_IP_LEN:
		for (size_t i = 0; i < n; i++)
			recs[i].key.ip_len = (uint32_t)v[i];
		break;
	case FT_F_PACKETS:
		for (size_t i = 0; i < n; i++)
			recs[i].packets = v[i];
		break;
	case FT_F_LABEL:
		for (size_t i = 0; i < n; i++) {
			struct fc_ftkey *k = &recs[i].key;

			fc_ftkey_set_ext(k, (unsigned)v[i] & 0xfff,
					 fc_ftkey_vlan(k));
		}
		break;
	case FT_F_VLAN:
		for (size_t i = 0; i < n; i++) {
			struct fc_ftkey *k = &recs[i].key;

			fc_ftkey_set_ext(k, fc_ftkey_label(k),
					 (unsigned)v[i] & 0xfff);
		}
		break;
	}
}

/* Room for a block of n records and raw bytes of columns (both checked
 * against their bounds by the caller). Buffers grow in powers of two to
 * what the file needs, so a small file costs little to open and read,
 * and a reader never holds more than the largest block allows. */
static int r_grow(struct fc_ft_reader *r, size_t raw, size_t n)
{
	if (raw > r->raw_cap) {
		size_t cap = 65536;
		uint8_t *p;

		while (cap < raw)
			cap *= 2;
		p = realloc(r->raw, cap);
		if (p == NULL)
			return FC_FT_E_NOMEM;
		r->raw = p;
		r->raw_cap = cap;
	}
	if (n > r->rec_cap) {
		size_t cap = 1024;
		uint64_t *v;
		struct fc_ft_record *rec;

		while (cap < n)
			cap *= 2;
		v = realloc(r->vals, cap * sizeof(*v));
		if (v == NULL)
			return FC_FT_E_NOMEM;
		r->vals = v;
		rec = realloc(r->recs, cap * sizeof(*rec));
		if (rec == NULL)
			return FC_FT_E_NOMEM;
		r->recs = rec;
		r->rec_cap = cap;
	}
	return FC_FT_OK;
}

/* Decode the RECORDS block in r->pl (checksum already verified). */
/* The next chunk of the block r_decode set up into r->recs (the block
 * has records left). */
static void r_chunk(struct fc_ft_reader *r)
{
	size_t n = r->blk_n, n6 = r->blk_n6, i0 = r->blk_done;
	size_t m = n - i0 < DECODE_CHUNK ? n - i0 : DECODE_CHUNK;
	struct fc_ft_record *rec = r->recs;

	memset(rec, 0, sizeof(*rec) * m);
	for (size_t i = 0; i < m; i++)
		rec[i].key.family = r->raw[i0 + i];
	for (unsigned ci = 0; ci < r->ncol; ci++) {
		struct dcol *d = &r->cols[ci];

		if (d->id < 64 && !(r->want >> d->id & 1))
			continue;
		get_planes(d->c + i0, n, r->vals, m, d->width, d->delta,
			   &d->prev);
		scatter_field(rec, d->id, r->vals, m);
		if (!is_addr(d->id) || n6 == 0)
			continue;
		for (size_t i = 0; i < m; i++) {
			uint8_t *a = d->id == FT_F_SRC_IP ? rec[i].key.src_ip :
							    rec[i].key.dst_ip;

			if (rec[i].key.family != 6)
				continue;
			for (unsigned j = 0; j < 12; j++)
				a[4 + j] = d->c6[j * n6 + d->k6];
			d->k6++;
		}
	}
	r->blk_done += m;
	r->nrec = m;
	r->pos = 0;
}

static int r_decode(struct fc_ft_reader *r, const struct ft_blk *b)
{
	uint32_t n, raw_len;
	unsigned long long fcs;
	size_t zl, got, n6 = 0;
	const uint8_t *c;

	if (b->len < FT_REC_PREFIX)
		return FC_FT_E_CORRUPT;
	n = get32(r->pl);
	raw_len = get32(r->pl + 4);
	zl = b->len - FT_REC_PREFIX;
	if (n == 0 || n > FC_FT_BLOCK_RECORDS || n > r->iv_left ||
	    raw_len < (size_t)n * r->row_min ||
	    raw_len > (size_t)n * (r->row_min + r->row_v6))
		return FC_FT_E_CORRUPT;
	fcs = ZSTD_getFrameContentSize(r->pl + FT_REC_PREFIX, zl);
	if (fcs == ZSTD_CONTENTSIZE_ERROR || fcs == ZSTD_CONTENTSIZE_UNKNOWN)
		return FC_FT_E_ZSTD;
	if (fcs != raw_len)
		return FC_FT_E_CORRUPT;
	got = ZSTD_findFrameCompressedSize(r->pl + FT_REC_PREFIX, zl);
	if (ZSTD_isError(got))
		return FC_FT_E_ZSTD;
	if (got != zl)
		return FC_FT_E_CORRUPT;
	if (raw_len > r->raw_cap || n > r->rec_cap) {
		int rc = r_grow(r, raw_len, n);

		if (rc != FC_FT_OK)
			return rc;
	}
	/* Made at the first records (not at open: a reader that looks at
	 * the header and the first interval only, as flowcap-read's scan of
	 * its inputs does, needs none). */
	if (r->dctx == NULL && (r->dctx = ZSTD_createDCtx()) == NULL)
		return FC_FT_E_NOMEM;
	got = ZSTD_decompressDCtx(r->dctx, r->raw, raw_len,
				  r->pl + FT_REC_PREFIX, zl);
	if (ZSTD_isError(got))
		return FC_FT_E_ZSTD;
	if (got != raw_len)
		return FC_FT_E_CORRUPT;
	/* The family column comes first and says how long the rest is. */
	for (size_t i = 0; i < n; i++) {
		if (r->raw[i] != 4 && r->raw[i] != 6)
			return FC_FT_E_CORRUPT;
		n6 += r->raw[i] == 6;
	}
	if (raw_len != (size_t)n * r->row_min + n6 * r->row_v6)
		return FC_FT_E_CORRUPT;
	/* Where each known column starts; the records are decoded a chunk
	 * at a time (r_chunk), every column for one chunk before the next:
	 * a column at a time over the whole block went through memory once
	 * per column. The classes are checked here, for the whole block, so
	 * a damaged block gives no record. */
	c = r->raw;
	r->ncol = 0;
	for (unsigned fi = 0; fi < r->nf; fi++) {
		const struct ft_field_desc *f = &r->fields[fi];

		if (f->id != FT_F_FAMILY && f->id != 0 && f->id < FT_F_KNOWN) {
			struct dcol *d = &r->cols[r->ncol++];

			d->c = c;
			d->c6 = c + 4 * (size_t)n;
			d->id = f->id;
			d->width = is_addr(f->id) ? 4 : f->width;
			d->delta = f->enc == FT_ENC_DELTA;
			d->prev = 0;
			d->k6 = 0;
			if (f->id == FT_F_CLASS) {
				uint64_t prev = 0;

				for (size_t i0 = 0; i0 < n; i0 += DECODE_CHUNK) {
					size_t m = n - i0 < DECODE_CHUNK ?
						   n - i0 : DECODE_CHUNK;

					get_planes(c + i0, n, r->vals, m,
						   d->width, d->delta, &prev);
					for (size_t i = 0; i < m; i++)
						if (r->vals[i] >= FC_FT_CLASS_COUNT)
							return FC_FT_E_CORRUPT;
				}
			}
		}
		c += column_size(f, n, n6);
	}
	r->blk_n = n;
	r->blk_n6 = n6;
	r->blk_done = 0;
	r->nrec = r->pos = 0;
	r->iv_left -= n;
	r->n_recs += n;
	return FC_FT_OK;
}

static int r_interval(struct fc_ft_reader *r, const struct ft_blk *b,
		      struct fc_ft_interval *iv)
{
	const uint8_t *p = r->pl;
	uint32_t nc;

	if (b->len < FT_IV_FIXED)
		return FC_FT_E_CORRUPT;
	nc = get32(p + 48);
	if (nc > FT_IV_MAXCTR || b->len != FT_IV_FIXED + (size_t)nc * FT_IV_CTR)
		return FC_FT_E_CORRUPT;
	memset(iv, 0, sizeof(*iv));
	iv->index = get32(p);
	iv->flags = get32(p + 4);
	iv->start = get64(p + 8);
	iv->end = get64(p + 16);
	iv->rx_pkts = get64(p + 24);
	iv->rec_pkts = get64(p + 32);
	iv->n_records = get64(p + 40);
	if (iv->end < iv->start)
		return FC_FT_E_CORRUPT;
	for (uint32_t i = 0; i < nc; i++) {
		const uint8_t *e = p + FT_IV_FIXED + (size_t)i * FT_IV_CTR;
		unsigned id = get16(e);

		/* Ids this reader does not know (a newer minor version) are
		 * ignored; id 0 and repeats are corrupt. */
		if (id == 0)
			return FC_FT_E_CORRUPT;
		if (id >= FC_CTR_MAX)
			continue;
		if (iv->ctr[id] != 0)
			return FC_FT_E_CORRUPT;
		iv->ctr[id] = get64(e + 2);
		if (iv->ctr[id] == 0)
			return FC_FT_E_CORRUPT;
	}
	return FC_FT_OK;
}

static int r_end(struct fc_ft_reader *r, const struct ft_blk *b,
		 uint32_t crc_before)
{
	if (b->len != FT_END_LEN)
		return FC_FT_E_CORRUPT;
	if (get32(r->pl + 16) != crc_before)
		return FC_FT_E_CHECKSUM;
	if (get64(r->pl) != r->n_recs || get64(r->pl + 8) != r->n_ivs)
		return FC_FT_E_CORRUPT;
	if (r->off != r->size)
		return FC_FT_E_CORRUPT; /* bytes after the trailer */
	return FC_FT_OK;
}

/* A LABELS block: rules hash u64, count u16, then count names, each a
 * length byte and 1..31 characters of a-z 0-9 _ . - (ids 1..count). */
static int r_labels(struct fc_ft_reader *r, const struct ft_blk *b)
{
	const uint8_t *p = r->pl, *end = r->pl + b->len;
	unsigned n;

	if (b->len < 10)
		return FC_FT_E_CORRUPT;
	n = get16(p + 8);
	if (n > FC_FT_LABELS_MAX)
		return FC_FT_E_CORRUPT;
	if (r->labels == NULL &&
	    (r->labels = calloc(FC_FT_LABELS_MAX + 1, 32)) == NULL)
		return FC_FT_E_NOMEM;
	r->rules_hash = get64(p);
	p += 10;
	for (unsigned i = 1; i <= n; i++) {
		unsigned len;

		if (p >= end)
			return FC_FT_E_CORRUPT;
		len = *p++;
		if (len < 1 || len > 31 || (size_t)(end - p) < len)
			return FC_FT_E_CORRUPT;
		for (unsigned j = 0; j < len; j++) {
			char c = (char)p[j];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '_' || c == '.' || c == '-'))
				return FC_FT_E_CORRUPT;
		}
		memcpy(r->labels[i], p, len);
		r->labels[i][len] = 0;
		p += len;
	}
	if (p != end)
		return FC_FT_E_CORRUPT;
	r->n_labels = n;
	return FC_FT_OK;
}

const char *fc_ft_reader_label(const struct fc_ft_reader *r, unsigned id)
{
	if (r == NULL)
		return NULL;
	if (id == 0)
		return "";
	if (id > r->n_labels)
		return NULL;
	return r->labels[id];
}

uint64_t fc_ft_reader_rules_hash(const struct fc_ft_reader *r)
{
	return r != NULL ? r->rules_hash : 0;
}

int fc_ft_reader_next_interval(struct fc_ft_reader *r,
			       struct fc_ft_interval *iv)
{
	struct ft_blk b;
	uint32_t crc0;
	int rc;

	if (r == NULL || iv == NULL)
		return FC_FT_E_INVAL;
	if (r->err != FC_FT_OK)
		return r->err;
	if (r->done)
		return 0;
	r->nrec = r->pos = 0;
	r->blk_n = r->blk_done = 0;
	r->n_labels = 0;
	r->rules_hash = 0;
	for (;;) {
		rc = r_block(r, &b, &crc0);
		if (rc != FC_FT_OK)
			return rc;
		switch (b.type) {
		case FT_BLK_LABELS:
			rc = r_labels(r, &b);
			if (rc != FC_FT_OK)
				return r_fail(r, rc, b.off);
			continue;
		case FT_BLK_RECORDS:
			/* Skipping the rest of the current interval: the
			 * checksum was verified, the count must fit. */
			if (b.len < FT_REC_PREFIX || get32(r->pl) == 0 ||
			    get32(r->pl) > r->iv_left)
				return r_fail(r, FC_FT_E_CORRUPT, b.off);
			r->iv_left -= get32(r->pl);
			r->n_recs += get32(r->pl);
			continue;
		case FT_BLK_INTERVAL:
		case FT_BLK_END:
			if (r->iv_left != 0)
				return r_fail(r, FC_FT_E_CORRUPT, b.off);
			if (b.type == FT_BLK_END) {
				rc = r_end(r, &b, crc0);
				if (rc != FC_FT_OK)
					return r_fail(r, rc, b.off);
				r->done = true;
				return 0;
			}
			rc = r_interval(r, &b, iv);
			if (rc != FC_FT_OK)
				return r_fail(r, rc, b.off);
			r->in_iv = true;
			r->iv_left = iv->n_records;
			r->n_ivs++;
			return 1;
		default:
			if (b.type & FT_BLK_SKIPPABLE)
				continue;
			return r_fail(r, FC_FT_E_VERSION, b.off);
		}
	}
}

/* The next chunk of the interval's records into r->recs (decoding the
 * next records block when the last is done): 1, 0 at the interval's end,
 * or a negative status. */
static int r_next_block(struct fc_ft_reader *r)
{
	struct ft_blk b;
	uint32_t crc0;
	int rc;

	if (r->blk_done < r->blk_n && r->err == FC_FT_OK) {
		r_chunk(r);
		return 1;
	}
	if (r->err != FC_FT_OK)
		return r->err;
	if (r->done || !r->in_iv || r->iv_left == 0)
		return 0;
	for (;;) {
		rc = r_block(r, &b, &crc0);
		if (rc != FC_FT_OK)
			return rc;
		if (b.type == FT_BLK_RECORDS)
			break;
		if (b.type == FT_BLK_INTERVAL || b.type == FT_BLK_END ||
		    !(b.type & FT_BLK_SKIPPABLE))
			return r_fail(r, b.type == FT_BLK_INTERVAL ||
						 b.type == FT_BLK_END ?
					 FC_FT_E_CORRUPT : FC_FT_E_VERSION,
				      b.off);
	}
	rc = r_decode(r, &b);
	if (rc != FC_FT_OK) {
		r->nrec = r->pos = 0;
		r->blk_n = r->blk_done = 0;
		return r_fail(r, rc, b.off);
	}
	r_chunk(r);
	return 1;
}

int fc_ft_reader_next_record(struct fc_ft_reader *r, struct fc_ft_record *rec)
{
	int rc;

	if (r == NULL || rec == NULL)
		return FC_FT_E_INVAL;
	if (r->pos < r->nrec) {
		*rec = r->recs[r->pos++];
		return 1;
	}
	rc = r_next_block(r);
	if (rc != 1)
		return rc;
	*rec = r->recs[r->pos++];
	return 1;
}

int fc_ft_reader_fields(struct fc_ft_reader *r, uint64_t want)
{
	if (r == NULL || r->n_recs != 0 || r->blk_n != 0)
		return FC_FT_E_INVAL;
	r->want = want | UINT64_C(1) << FT_F_FAMILY | UINT64_C(1) << FT_F_PACKETS;
	return FC_FT_OK;
}

int fc_ft_reader_next_block(struct fc_ft_reader *r,
			    const struct fc_ft_record **recs)
{
	int rc;

	if (r == NULL || recs == NULL)
		return FC_FT_E_INVAL;
	if (r->pos >= r->nrec) {
		rc = r_next_block(r);
		if (rc != 1)
			return rc;
	}
	*recs = r->recs + r->pos;
	rc = (int)(r->nrec - r->pos);
	r->pos = r->nrec;
	return rc;
}

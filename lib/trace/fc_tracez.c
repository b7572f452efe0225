/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compressed trace input (see fc_tracez.h): zlib, libzstd and liblzma
 * behind one fopencookie stream. Streaming only, so memory is bounded by
 * the decoders' windows (gzip 32 KB; zstd up to its default limit of
 * 128 MB; xz up to XZ_MEMLIMIT) whatever the file's size. The end of the
 * input must be the end of a member or frame: anything else is a
 * truncated file and reads as an error, never as a clean end of the trace.
 */
#include "fc_tracez.h"

#include <errno.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CAP (256u << 10)
/* xz -9 needs 65 MB; a file that asks for more than this is refused
 * with a message rather than allowed to take the machine's memory. */
#define XZ_MEMLIMIT (256ULL << 20)

struct fc_tracez {
	enum fc_tracez_kind kind;
	int fd;
	FILE *f;
	uint8_t *in;
	size_t in_pos, in_len;
	uint64_t in_done; /* compressed bytes before in[0] */
	bool in_eof;
	bool mid;         /* inside a member or frame */
	bool end;         /* xz: the decoder saw the end */
	char err[256];
	union {
		z_stream gz;
		ZSTD_DStream *zs;
		lzma_stream xz;
	} u;
};

enum fc_tracez_kind fc_tracez_detect(const uint8_t *b, size_t n)
{
	static const uint8_t xz[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return FC_TRACEZ_GZIP;
	/* A zstd frame, or a skippable frame (0x184D2A5?) before one. */
	if (n >= 4 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd &&
	    b[0] == 0x28)
		return FC_TRACEZ_ZSTD;
	if (n >= 4 && (b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d &&
	    b[3] == 0x18)
		return FC_TRACEZ_ZSTD;
	if (n >= 6 && memcmp(b, xz, 6) == 0)
		return FC_TRACEZ_XZ;
	return FC_TRACEZ_NONE;
}

const char *fc_tracez_name(enum fc_tracez_kind k)
{
	switch (k) {
	case FC_TRACEZ_GZIP: return "gzip";
	case FC_TRACEZ_ZSTD: return "zstd";
	case FC_TRACEZ_XZ: return "xz";
	default: return NULL;
	}
}

/* Keep the reason (what, then detail in parentheses if any). */
static int zfail(struct fc_tracez *z, const char *what, const char *detail)
{
	snprintf(z->err, sizeof(z->err),
		 "%s input: %s%s%s%s (at compressed byte %llu)",
		 fc_tracez_name(z->kind), what, detail ? " (" : "",
		 detail ? detail : "", detail ? ")" : "",
		 (unsigned long long)(z->in_done + z->in_pos));
	return -1;
}

static int truncated(struct fc_tracez *z)
{
	return zfail(z, "the compressed file ends inside a member or frame: "
			"it is truncated", NULL);
}

/* Refill in[] from fd once it is used up. 0, or -1 with err set. */
static int refill(struct fc_tracez *z)
{
	ssize_t n;

	if (z->in_pos < z->in_len || z->in_eof)
		return 0;
	do
		n = read(z->fd, z->in, IN_CAP);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return zfail(z, "read error", strerror(errno));
	z->in_done += z->in_len;
	z->in_pos = 0;
	z->in_len = (size_t)n;
	z->in_eof = n == 0;
	return 0;
}

/*
 * One decoder call into out[0..size): *got bytes produced. Returns 1
 * (call again), 0 (the end: input over between members/frames) or -1.
 */
static int step_gzip(struct fc_tracez *z, uint8_t *out, size_t size,
		     size_t *got)
{
	z_stream *s = &z->u.gz;
	int r;

	if (z->in_pos == z->in_len && z->in_eof && !z->mid)
		return 0;
	s->next_in = z->in + z->in_pos;
	s->avail_in = (uInt)(z->in_len - z->in_pos);
	s->next_out = out;
	s->avail_out = (uInt)(size > UINT32_MAX ? UINT32_MAX : size);
	r = inflate(s, Z_NO_FLUSH);
	z->in_pos = z->in_len - s->avail_in;
	*got = (size_t)(s->next_out - out);
	switch (r) {
	case Z_STREAM_END:
		/* A member ends; another may follow (cat a.gz b.gz). */
		z->mid = false;
		inflateReset(s);
		return 1;
	case Z_OK:
		z->mid = true;
		return 1;
	case Z_BUF_ERROR: /* no progress: only at the end of the input */
		if (z->in_eof && z->in_pos == z->in_len)
			return truncated(z);
		return 1;
	case Z_MEM_ERROR:
		return zfail(z, "out of memory", NULL);
	default:
		return zfail(z, "corrupt data",
			     s->msg ? s->msg : "bad member header");
	}
}

static int step_zstd(struct fc_tracez *z, uint8_t *out, size_t size,
		     size_t *got)
{
	ZSTD_inBuffer ib = {z->in, z->in_len, z->in_pos};
	ZSTD_outBuffer ob = {out, size, 0};
	size_t r;

	if (z->in_pos == z->in_len && z->in_eof && !z->mid)
		return 0;
	r = ZSTD_decompressStream(z->u.zs, &ob, &ib);
	if (ZSTD_isError(r))
		return zfail(z, "corrupt or unsupported frame",
			     ZSTD_getErrorName(r));
	/* Nothing in, nothing out, and the input is over. */
	if (ob.pos == 0 && ib.pos == z->in_pos && z->in_eof &&
	    ib.pos == z->in_len && r != 0)
		return truncated(z);
	z->in_pos = ib.pos;
	*got = ob.pos;
	z->mid = r != 0; /* 0: a frame is complete and flushed */
	return 1;
}

static int step_xz(struct fc_tracez *z, uint8_t *out, size_t size,
		   size_t *got)
{
	lzma_stream *s = &z->u.xz;
	lzma_ret r;

	if (z->end)
		return 0;
	s->next_in = z->in + z->in_pos;
	s->avail_in = z->in_len - z->in_pos;
	s->next_out = out;
	s->avail_out = size;
	/* With LZMA_CONCATENATED only LZMA_FINISH tells the decoder that no
	 * stream follows. */
	r = lzma_code(s, z->in_eof ? LZMA_FINISH : LZMA_RUN);
	z->in_pos = z->in_len - s->avail_in;
	*got = size - s->avail_out;
	switch (r) {
	case LZMA_STREAM_END:
		z->end = true;
		return 1;
	case LZMA_OK:
		return 1;
	case LZMA_BUF_ERROR:
		return truncated(z);
	case LZMA_MEM_ERROR:
		return zfail(z, "out of memory", NULL);
	case LZMA_MEMLIMIT_ERROR:
		return zfail(z, "the file needs more than 256 MB to "
				"decompress; decompress it first "
				"(xz -dc FILE | flowcap --read -)", NULL);
	case LZMA_OPTIONS_ERROR:
		return zfail(z, "unsupported xz options", NULL);
	default:
		return zfail(z, "corrupt data", NULL);
	}
}

static ssize_t z_read(void *c, char *buf, size_t size)
{
	struct fc_tracez *z = c;
	size_t got = 0;

	if (z->err[0] != '\0') {
		errno = EIO;
		return -1;
	}
	while (got == 0) {
		int r;

		if (refill(z) != 0)
			break;
		switch (z->kind) {
		case FC_TRACEZ_GZIP:
			r = step_gzip(z, (uint8_t *)buf, size, &got);
			break;
		case FC_TRACEZ_ZSTD:
			r = step_zstd(z, (uint8_t *)buf, size, &got);
			break;
		default:
			r = step_xz(z, (uint8_t *)buf, size, &got);
			break;
		}
		if (r <= 0)
			break;
	}
	if (z->err[0] != '\0' && got == 0) {
		errno = EIO;
		return -1;
	}
	return (ssize_t)got;
}

static void z_free(struct fc_tracez *z)
{
	switch (z->kind) {
	case FC_TRACEZ_GZIP: inflateEnd(&z->u.gz); break;
	case FC_TRACEZ_ZSTD: ZSTD_freeDStream(z->u.zs); break;
	case FC_TRACEZ_XZ: lzma_end(&z->u.xz); break;
	default: break;
	}
	if (z->fd >= 0)
		close(z->fd);
	free(z->in);
	free(z);
}

static int z_close(void *c)
{
	z_free(c);
	return 0;
}

struct fc_tracez *fc_tracez_open(int fd, enum fc_tracez_kind kind,
				 const uint8_t *pre, size_t npre)
{
	cookie_io_functions_t io = {.read = z_read, .close = z_close};
	struct fc_tracez *z = calloc(1, sizeof(*z));
	bool ok = false;

	if (z == NULL || npre > IN_CAP) {
		free(z);
		close(fd);
		return NULL;
	}
	z->kind = kind;
	z->fd = fd;
	z->in = malloc(IN_CAP);
	if (z->in == NULL)
		goto err;
	if (npre > 0)
		memcpy(z->in, pre, npre);
	z->in_len = npre;
	switch (kind) {
	case FC_TRACEZ_GZIP:
		/* 16 + 15: a gzip wrapper, the largest window. */
		ok = inflateInit2(&z->u.gz, 16 + MAX_WBITS) == Z_OK;
		break;
	case FC_TRACEZ_ZSTD:
		z->u.zs = ZSTD_createDStream();
		ok = z->u.zs != NULL &&
		     !ZSTD_isError(ZSTD_initDStream(z->u.zs));
		break;
	case FC_TRACEZ_XZ: {
		lzma_stream init = LZMA_STREAM_INIT;

		z->u.xz = init;
		ok = lzma_stream_decoder(&z->u.xz, XZ_MEMLIMIT,
					 LZMA_CONCATENATED) == LZMA_OK;
		break;
	}
	default:
		break;
	}
	if (!ok) {
		if (kind == FC_TRACEZ_ZSTD)
			ZSTD_freeDStream(z->u.zs); /* NULL is a no-op */
		z->kind = FC_TRACEZ_NONE; /* nothing else to end */
		goto err;
	}
	z->f = fopencookie(z, "r", io);
	if (z->f == NULL)
		goto err;
	return z;
err:
	z_free(z);
	return NULL;
}

FILE *fc_tracez_file(const struct fc_tracez *z)
{
	return z->f;
}

const char *fc_tracez_error(const struct fc_tracez *z)
{
	return z->err[0] != '\0' ? z->err : NULL;
}

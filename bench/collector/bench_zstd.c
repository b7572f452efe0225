/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-zstd: the compression of a flowtuple file's record blocks, with
 * the writer's zstd parameters or others, on the blocks themselves. A
 * .ft.zst is a zstd stream whose RECORDS blocks are its zstd frames (the
 * rest sits in skippable frames), so each frame decompresses to one
 * block's columns exactly as the writer compressed them. Each block is
 * compressed again with the parameters given, best of N passes, and the
 * total compressed bytes and MB/s (of column bytes) are printed. It
 * reads the files' bytes only as zstd frames: it does not validate the
 * file (flowcap-read does).
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "bench_util.h"

struct blk {
	void *raw;
	size_t len;
};

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "bench-zstd: %s: %s\n", path, strerror(errno));
		free(p);
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

/* Every zstd (not skippable) frame of the file as a block. */
static int load(const char *path, struct blk **b, size_t *nb, size_t *cap,
		size_t *stored)
{
	size_t len, off = 0;
	unsigned char *p = slurp(path, &len);

	if (p == NULL)
		return -1;
	while (off < len) {
		size_t fl = ZSTD_findFrameCompressedSize(p + off, len - off);
		unsigned long long rl;

		if (ZSTD_isError(fl)) {
			fprintf(stderr, "bench-zstd: %s: not a zstd stream at "
				"byte %zu (%s)\n", path, off,
				ZSTD_getErrorName(fl));
			free(p);
			return -1;
		}
		if (!ZSTD_isSkippableFrame(p + off, len - off)) {
			rl = ZSTD_getFrameContentSize(p + off, fl);
			if (rl == ZSTD_CONTENTSIZE_UNKNOWN ||
			    rl == ZSTD_CONTENTSIZE_ERROR) {
				fprintf(stderr, "bench-zstd: %s: a frame "
					"without its size at byte %zu\n",
					path, off);
				free(p);
				return -1;
			}
			if (*nb == *cap) {
				*cap = *cap ? 2 * *cap : 64;
				*b = realloc(*b, *cap * sizeof(**b));
			}
			(*b)[*nb].raw = malloc(rl ? rl : 1);
			(*b)[*nb].len = ZSTD_decompress((*b)[*nb].raw, rl,
							p + off, fl);
			if (ZSTD_isError((*b)[*nb].len)) {
				fprintf(stderr, "bench-zstd: %s: %s\n", path,
					ZSTD_getErrorName((*b)[*nb].len));
				free(p);
				return -1;
			}
			*stored += fl;
			(*nb)++;
		}
		off += fl;
	}
	free(p);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bench-zstd [options] FILE.ft.zst...\n"
"Compress the files' record blocks again, each on its own as the writer\n"
"does, and print bytes and MB/s of column bytes (best of the passes).\n"
"\n"
"  -l, --level N      zstd level (default 3)\n"
"      --hlog N       ZSTD_c_hashLog (default: the level's)\n"
"      --clog N       ZSTD_c_chainLog\n"
"      --wlog N       ZSTD_c_windowLog\n"
"      --slog N       ZSTD_c_searchLog\n"
"      --mml N        ZSTD_c_minMatch\n"
"      --tlen N       ZSTD_c_targetLength\n"
"      --strategy N   ZSTD_c_strategy (1 fast, 2 dfast, 3 greedy...)\n"
"      --lit N        ZSTD_c_literalCompressionMode (0 auto, 1 huffman,\n"
"                     2 uncompressed)\n"
"      --bsize N      ZSTD_c_targetCBlockSize\n"
"  -r, --runs N       passes (default 5)\n"
"  -h, --help\n");
}

int main(int argc, char **argv)
{
	enum { O_H = 256, O_C, O_W, O_S, O_M, O_T, O_ST, O_L, O_B };
	static const struct option lo[] = {
		{"level", required_argument, NULL, 'l'},
		{"hlog", required_argument, NULL, O_H},
		{"clog", required_argument, NULL, O_C},
		{"wlog", required_argument, NULL, O_W},
		{"slog", required_argument, NULL, O_S},
		{"mml", required_argument, NULL, O_M},
		{"tlen", required_argument, NULL, O_T},
		{"strategy", required_argument, NULL, O_ST},
		{"lit", required_argument, NULL, O_L},
		{"bsize", required_argument, NULL, O_B},
		{"runs", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const ZSTD_cParameter pid[] = {
		[O_H - O_H] = ZSTD_c_hashLog, [O_C - O_H] = ZSTD_c_chainLog,
		[O_W - O_H] = ZSTD_c_windowLog, [O_S - O_H] = ZSTD_c_searchLog,
		[O_M - O_H] = ZSTD_c_minMatch, [O_T - O_H] = ZSTD_c_targetLength,
		[O_ST - O_H] = ZSTD_c_strategy,
		[O_L - O_H] = ZSTD_c_literalCompressionMode,
		[O_B - O_H] = ZSTD_c_targetCBlockSize,
	};
	int pval[O_B - O_H + 1], level = 3, runs = 5, c;
	struct blk *b = NULL;
	size_t nb = 0, cap = 0, stored = 0, raw = 0, zcap = 0, out = 0;
	double best = 1e30;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	void *z;

	for (unsigned i = 0; i <= O_B - O_H; i++)
		pval[i] = -1;
	while ((c = getopt_long(argc, argv, "l:r:h", lo, NULL)) != -1) {
		if (c == 'l')
			level = atoi(optarg);
		else if (c == 'r')
			runs = atoi(optarg);
		else if (c >= O_H && c <= O_B)
			pval[c - O_H] = atoi(optarg);
		else {
			usage(c == 'h' ? stdout : stderr);
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind == argc || runs < 1 || cc == NULL) {
		usage(stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (load(argv[i], &b, &nb, &cap, &stored) != 0)
			return 1;
	for (size_t i = 0; i < nb; i++) {
		raw += b[i].len;
		if (ZSTD_compressBound(b[i].len) > zcap)
			zcap = ZSTD_compressBound(b[i].len);
	}
	z = malloc(zcap);
	for (int r = 0; r < runs; r++) {
		uint64_t t0 = bench_mono_ns();
		double s;

		out = 0;
		for (size_t i = 0; i < nb; i++) {
			size_t zl;

			ZSTD_CCtx_reset(cc, ZSTD_reset_session_and_parameters);
			ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel,
					       level);
			for (unsigned k = 0; k <= O_B - O_H; k++)
				if (pval[k] >= 0)
					ZSTD_CCtx_setParameter(cc, pid[k],
							       pval[k]);
			zl = ZSTD_compress2(cc, z, zcap, b[i].raw, b[i].len);
			if (ZSTD_isError(zl)) {
				fprintf(stderr, "bench-zstd: %s\n",
					ZSTD_getErrorName(zl));
				return 1;
			}
			out += zl;
		}
		s = (double)(bench_mono_ns() - t0) / 1e9;
		if (s < best)
			best = s;
	}
	printf("blocks %zu raw %zu stored %zu now %zu (%+.2f%%) %.0f MB/s\n",
	       nb, raw, stored, out,
	       100.0 * ((double)out - (double)stored) / (double)stored,
	       (double)raw / best / 1e6);
	return 0;
}

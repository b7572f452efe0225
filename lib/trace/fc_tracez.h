/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compressed trace input: a stdio stream of the decompressed bytes of a
 * gzip, zstd or xz file (several concatenated members or frames are one
 * stream, as the command-line tools read them). Used by fc_trace, which
 * recognises the compression by its magic bytes, never by the file name.
 * A stream cut short or corrupt reads as a stdio error, with the reason
 * kept for fc_tracez_error. It does not write, seek or guess formats.
 *
 * Thread safety: none per stream: one thread per stream (its FILE and
 * decompressor); distinct streams are independent. No global state.
 */
#ifndef FC_TRACEZ_H
#define FC_TRACEZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Bytes of a file's start that fc_tracez_detect needs (xz's magic). */
#define FC_TRACEZ_MAGIC 6

enum fc_tracez_kind {
	FC_TRACEZ_NONE,
	FC_TRACEZ_GZIP,
	FC_TRACEZ_ZSTD,
	FC_TRACEZ_XZ,
};

struct fc_tracez;

/**
 * The compression whose magic bytes b[0..n) start with (NONE: none).
 * Thread safety: any thread; pure function.
 */
enum fc_tracez_kind fc_tracez_detect(const uint8_t *b, size_t n);

/**
 * "gzip", "zstd", "xz" (NULL for NONE).
 * Thread safety: any thread; pure function.
 */
const char *fc_tracez_name(enum fc_tracez_kind k);

/**
 * Decompress fd. pre[0..npre) are bytes already read from fd (a pipe
 * cannot be rewound): they come first. Takes fd (closed with the stream).
 * Returns NULL when out of memory (fd closed).
 * Thread safety: any thread; the new stream is the caller's.
 */
struct fc_tracez *fc_tracez_open(int fd, enum fc_tracez_kind kind,
				 const uint8_t *pre, size_t npre);

/**
 * The stream of decompressed bytes; fclose frees everything.
 * Thread safety: none; one thread per stream.
 */
FILE *fc_tracez_file(const struct fc_tracez *z);

/**
 * Why the stream failed (truncated, corrupt, read error), or NULL. Valid
 * until the stream is closed.
 * Thread safety: the stream's thread; reads only.
 */
const char *fc_tracez_error(const struct fc_tracez *z);

#endif /* FC_TRACEZ_H */

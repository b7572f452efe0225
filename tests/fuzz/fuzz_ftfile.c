/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the .ft.zst reader on arbitrary bytes. It must end with a
 * status (never crash, hang or allocate without bound), every record it
 * returns must be well formed, and an error must point inside the file.
 *
 * Each input is read twice: as given, and with every checksum it can find
 * (header, blocks, the END block's file CRC) recomputed. Without the second
 * pass nearly every mutation dies at the first CRC check and the code behind
 * it (counters, column decoding, zstd frames, block order) is reached only
 * by the seeds. The input format stays a plain file, so any .ft.zst file is
 * a seed and any crash file is a file flowcap-read can be pointed at (after
 * the same fix-up, see fix_crcs()).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc_ftfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Set a 4-byte field, noting whether it changed. */
static int set32(uint8_t *p, uint32_t v)
{
	uint8_t before[4];

	memcpy(before, p, 4);
	put32(p, v);
	return memcmp(before, p, 4) != 0;
}

/*
 * Recompute the checksums of doc/file-format.md in place, walking the
 * blocks as a reader would, in either layout (version 2: every structure
 * behind a skippable frame header, whose size is made to agree too);
 * stops where the structure stops making sense. Returns 1 if anything
 * was changed.
 */
static int fix_crcs(uint8_t *d, size_t size)
{
	size_t off, pre = 0;
	int changed = 0;
	uint32_t hl;

	if (size >= 8 && get32(d) == 0x184D2A56u)
		pre = 8;
	if (size < pre + 37)
		return 0;
	hl = get32(d + pre + 8);
	if (hl < 37 || hl > size - pre)
		return 0;
	if (pre != 0)
		changed |= set32(d + 4, hl);
	changed |= set32(d + pre + hl - 4, fc_ft_crc32c(0, d + pre, hl - 4));
	off = pre + hl;
	while (size - off >= pre + 12) {
		uint8_t *b = d + off + pre;
		uint16_t type = (uint16_t)(b[0] | b[1] << 8);
		uint32_t len = get32(b + 4);
		uint32_t crc;

		if (len > size - off - pre - 12)
			break;
		if (pre != 0)
			changed |= set32(d + off + 4, 12 + (type == 2 ? 8 : len));
		if (type == 3 && len == 20)
			changed |= set32(b + 12 + 16, fc_ft_crc32c(0, d, off));
		crc = fc_ft_crc32c(0, b, 8);
		crc = fc_ft_crc32c(crc, b + 12, len);
		changed |= set32(b + 8, crc);
		off += pre + 12 + (size_t)len;
	}
	return changed;
}

static void read_all(const char *path, size_t size)
{
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	int st, rc;

	r = fc_ft_reader_open(path, &st);
	if (r == NULL) {
		if (st >= 0)
			abort();
		return;
	}
	while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		uint64_t n = 0;

		if (iv.end < iv.start)
			abort();
		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1) {
			if (rec.key.family != 4 && rec.key.family != 6)
				abort();
			if (rec.key.cls >= FC_FT_CLASS_COUNT)
				abort();
			n++;
		}
		if (rc < 0)
			break;
		if (n != iv.n_records)
			abort();
	}
	/* A clean end consumed the whole file; an error points inside it. */
	if (rc == 0 && fc_ft_reader_offset(r) != size)
		abort();
	if (rc < 0 && fc_ft_reader_error_offset(r) > size)
		abort();
	if (fc_ft_strerror(rc) == NULL)
		abort();
	fc_ft_reader_close(r);
}

static int write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	uint8_t *copy;

	if (path[0] == '\0') {
		const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(path, sizeof(path), "%s/fc-fuzz-ft.%d", dir, (int)getpid());
	}
	/* Both CRC32C implementations agree on every input. */
	if (fc_ft_crc32c(0, data, size) != fc_ft_crc32c_sw(0, data, size))
		abort();
	if (write_file(path, data, size) != 0)
		return 0;
	read_all(path, size);

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		goto out;
	memcpy(copy, data, size);
	if (fix_crcs(copy, size) && write_file(path, copy, size) == 0)
		read_all(path, size);
	free(copy);
out:
	unlink(path);
	return 0;
}

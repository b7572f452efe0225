/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Small helpers shared by every flowcap module: branch hints, cache-line
 * alignment, array sizes. Header only; it deliberately holds no state and no
 * dependency on DPDK, so every module below the apps can include it.
 */
#ifndef FC_COMMON_H
#define FC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define FC_LIKELY(x)   __builtin_expect(!!(x), 1)
#define FC_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define FC_CACHE_LINE 64
#define FC_CACHE_ALIGNED __attribute__((aligned(FC_CACHE_LINE)))

#define FC_NOINLINE __attribute__((noinline))
#define FC_UNUSED __attribute__((unused))

#define FC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define FC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define FC_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Big-endian loads from possibly unaligned packet or file bytes.
 * Thread safety: any thread; pure functions. Hot path. */
static inline uint16_t fc_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t fc_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Little-endian stores and loads for the file format (always LE on disk).
 * Thread safety: any thread; pure functions (a store writes only p[]). */
static inline void fc_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fc_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void fc_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t fc_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t fc_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t fc_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#endif /* FC_COMMON_H */

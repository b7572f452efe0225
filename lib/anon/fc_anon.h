/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prefix-preserving address anonymisation: Crypto-PAn (Xu, Fan, Ammar,
 * Moon, 2002) with AES-128 from OpenSSL's libcrypto. A 32-byte key: the
 * first 16 bytes are the AES key, the AES block of the last 16 is the pad.
 * Bit i of the result is bit i of the address XOR the top bit of
 * AES(first i bits of the address, then the pad's bits from i on), so two
 * addresses that share an n-bit prefix map to two that share exactly an
 * n-bit prefix. IPv4 uses the first 32 bits of that construction (it
 * reproduces the reference implementation's sample), IPv6 all 128.
 *
 * This module maps addresses and reads key files; it knows nothing of
 * records or files, and it does not invert the mapping.
 *
 * Thread safety: an fc_anon is one thread's (it holds an OpenSSL cipher
 * context and a cache of IPv4 results); create one per thread from the
 * same key. The key-file and fingerprint functions are pure.
 */
#ifndef FC_ANON_H
#define FC_ANON_H

#include <stddef.h>
#include <stdint.h>

#define FC_ANON_KEY_LEN 32
/** Length of a key fingerprint in bytes (printed as 16 hex digits). */
#define FC_ANON_FP_LEN 8

struct fc_anon;

/**
 * Anonymiser for a 32-byte key: the AES key schedule and the pad are
 * computed once here. NULL when libcrypto fails (or out of memory).
 * Not hot path.
 * Thread safety: any thread; the result belongs to one thread at a time.
 */
struct fc_anon *fc_anon_create(const uint8_t key[FC_ANON_KEY_LEN]);

/**
 * Free (NULL is a no-op).
 * Thread safety: the owning thread.
 */
void fc_anon_free(struct fc_anon *a);

/**
 * Anonymise an IPv4 address given as its 4 network-order bytes, in place.
 * 32 AES blocks in one call on a cache miss; results are cached
 * (direct-mapped, 64K entries). Hot path of an anonymising reader.
 * Thread safety: the owning thread.
 */
void fc_anon_ip4(struct fc_anon *a, uint8_t ip[4]);

/**
 * Anonymise an IPv6 address (16 network-order bytes) in place: 128 AES
 * blocks, not cached.
 * Thread safety: the owning thread.
 */
void fc_anon_ip6(struct fc_anon *a, uint8_t ip[16]);

/**
 * Anonymise a flowtuple address field: family 4 maps its first 4 bytes,
 * family 6 all 16; others are left alone.
 * Thread safety: the owning thread.
 */
void fc_anon_addr(struct fc_anon *a, unsigned family, uint8_t ip[16]);

/**
 * Read a key file: exactly 32 raw bytes, or 64 hex digits (surrounding
 * white space allowed). Returns 0, or -1 with a message for the user in
 * err (naming the file and what it should hold).
 * Thread safety: any thread.
 */
int fc_anon_key_load(const char *path, uint8_t key[FC_ANON_KEY_LEN],
		     char *err, size_t errlen);

/**
 * Fingerprint of a key: the first 8 bytes of SHA-256("flowcap-anon" ||
 * key). Identifies the key (two files made with the same key carry the
 * same fingerprint) without revealing it.
 * Thread safety: any thread; pure function.
 */
void fc_anon_fingerprint(const uint8_t key[FC_ANON_KEY_LEN],
			 uint8_t fp[FC_ANON_FP_LEN]);

#endif /* FC_ANON_H */

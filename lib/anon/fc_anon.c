/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto-PAn over OpenSSL's AES-128 in ECB mode. The blocks of one address
 * do not depend on each other's output (block i is made from the address's
 * first i bits and the pad), so all 32 or 128 of them go through AES in
 * one EVP call, which AES-NI pipelines. The cipher context keeps the key
 * schedule for the life of the fc_anon.
 */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fc_anon.h"

#define CACHE_BITS 16

struct fc_anon {
	EVP_CIPHER_CTX *ctx;
	uint8_t pad[16];
	/* IPv4 results, direct-mapped by a hash of the address. */
	uint32_t c_in[1u << CACHE_BITS];
	uint32_t c_out[1u << CACHE_BITS];
	uint8_t c_ok[1u << CACHE_BITS];
};

static int aes_blocks(struct fc_anon *a, const uint8_t *in, uint8_t *out,
		      int n)
{
	int len = 0;

	return EVP_EncryptUpdate(a->ctx, out, &len, in, n * 16) == 1 &&
			       len == n * 16 ?
		       0 :
		       -1;
}

struct fc_anon *fc_anon_create(const uint8_t key[FC_ANON_KEY_LEN])
{
	struct fc_anon *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->ctx = EVP_CIPHER_CTX_new();
	if (a->ctx == NULL)
		goto err_free;
	if (EVP_EncryptInit_ex(a->ctx, EVP_aes_128_ecb(), NULL, key, NULL) !=
		    1 ||
	    EVP_CIPHER_CTX_set_padding(a->ctx, 0) != 1)
		goto err_ctx;
	if (aes_blocks(a, key + 16, a->pad, 1) != 0)
		goto err_ctx;
	return a;
err_ctx:
	EVP_CIPHER_CTX_free(a->ctx);
err_free:
	free(a);
	return NULL;
}

void fc_anon_free(struct fc_anon *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	free(a);
}

/* The construction over the first nbits bits of ip (32 or 128). */
static void pan(struct fc_anon *a, uint8_t *ip, unsigned nbits)
{
	uint8_t in[128 * 16], out[128 * 16], otp[16] = {0};

	for (unsigned pos = 0; pos < nbits; pos++) {
		uint8_t *b = in + 16 * pos;
		unsigned full = pos / 8, rest = pos % 8;

		memcpy(b, a->pad, 16);
		memcpy(b, ip, full);
		if (rest != 0) {
			uint8_t m = (uint8_t)(0xff << (8 - rest));

			b[full] = (uint8_t)((ip[full] & m) | (a->pad[full] & ~m));
		}
	}
	if (aes_blocks(a, in, out, (int)nbits) != 0)
		abort(); /* ECB on whole blocks with a set key cannot fail */
	for (unsigned pos = 0; pos < nbits; pos++)
		otp[pos / 8] |= (uint8_t)((out[16 * pos] >> 7) << (7 - pos % 8));
	for (unsigned i = 0; i < nbits / 8; i++)
		ip[i] ^= otp[i];
}

void fc_anon_ip4(struct fc_anon *a, uint8_t ip[4])
{
	uint32_t v, h;

	memcpy(&v, ip, 4);
	h = (v * 0x9e3779b1u) >> (32 - CACHE_BITS);
	if (a->c_ok[h] && a->c_in[h] == v) {
		memcpy(ip, &a->c_out[h], 4);
		return;
	}
	pan(a, ip, 32);
	a->c_ok[h] = 1;
	a->c_in[h] = v;
	memcpy(&a->c_out[h], ip, 4);
}

void fc_anon_ip6(struct fc_anon *a, uint8_t ip[16])
{
	pan(a, ip, 128);
}

void fc_anon_addr(struct fc_anon *a, unsigned family, uint8_t ip[16])
{
	if (family == 4)
		fc_anon_ip4(a, ip);
	else if (family == 6)
		fc_anon_ip6(a, ip);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int fc_anon_key_load(const char *path, uint8_t key[FC_ANON_KEY_LEN],
		     char *err, size_t errlen)
{
	uint8_t buf[256];
	size_t n, i, k = 0;
	FILE *f = fopen(path, "rb");

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read the key: %s", path,
			 strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == FC_ANON_KEY_LEN) {
		memcpy(key, buf, FC_ANON_KEY_LEN);
		return 0;
	}
	for (i = 0; i < n && isspace(buf[i]); i++)
		;
	for (; i + 1 < n && k < FC_ANON_KEY_LEN; i += 2) {
		int hi = hexval(buf[i]), lo = hexval(buf[i + 1]);

		if (hi < 0 || lo < 0)
			break;
		key[k++] = (uint8_t)(hi << 4 | lo);
	}
	for (; i < n && isspace(buf[i]); i++)
		;
	if (k != FC_ANON_KEY_LEN || i != n) {
		snprintf(err, errlen, "%s: not a key: a key file holds 32 "
			 "raw bytes or 64 hex digits (make one with: head -c "
			 "32 /dev/urandom > KEYFILE)", path);
		return -1;
	}
	return 0;
}

void fc_anon_fingerprint(const uint8_t key[FC_ANON_KEY_LEN],
			 uint8_t fp[FC_ANON_FP_LEN])
{
	static const char tag[] = "flowcap-anon";
	uint8_t in[sizeof(tag) - 1 + FC_ANON_KEY_LEN];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	memcpy(in, tag, sizeof(tag) - 1);
	memcpy(in + sizeof(tag) - 1, key, FC_ANON_KEY_LEN);
	if (EVP_Digest(in, sizeof(in), md, &len, EVP_sha256(), NULL) != 1 ||
	    len < FC_ANON_FP_LEN)
		abort(); /* SHA-256 of a buffer cannot fail */
	memcpy(fp, md, FC_ANON_FP_LEN);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Crypto-PAn: the sample of the original Crypto-PAn distribution (its
 * sample_trace_raw / sample_trace_sanitized addresses under the sample
 * key), IPv6 under the same key, prefix preservation on random pairs,
 * key files and fingerprints.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fc_anon.h"

static const uint8_t sample_key[32] = {
	21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16,
	216, 152, 143, 131, 121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
};

/* Every distinct address of the reference sample and its sanitized form. */
static const char *const sample4[][2] = {
	{"128.11.68.132", "135.242.180.132"},
	{"129.118.74.4", "134.136.186.123"},
	{"130.132.252.244", "133.68.164.234"},
	{"141.223.7.43", "141.167.8.160"},
	{"141.233.145.108", "141.129.237.235"},
	{"152.163.225.39", "151.140.114.167"},
	{"156.29.3.236", "147.225.12.42"},
	{"165.247.96.84", "162.9.99.234"},
	{"166.107.77.190", "160.132.178.185"},
	{"192.102.249.13", "252.138.62.131"},
	{"192.215.32.125", "252.43.47.189"},
	{"192.233.80.103", "252.25.108.8"},
	{"192.41.57.43", "252.222.221.184"},
	{"193.150.244.223", "253.169.52.216"},
	{"195.205.63.100", "255.186.223.5"},
	{"198.200.171.101", "249.199.68.213"},
	{"198.26.132.101", "249.36.123.202"},
	{"198.36.213.5", "249.7.21.132"},
	{"198.51.77.238", "249.18.186.254"},
	{"199.217.79.101", "248.38.184.213"},
	{"202.49.198.20", "245.206.7.234"},
	{"203.12.160.252", "244.248.163.4"},
	{"204.184.162.189", "243.192.77.90"},
	{"204.202.136.230", "243.178.4.198"},
	{"204.29.20.4", "243.33.20.123"},
	{"205.178.38.67", "242.108.198.51"},
	{"205.188.147.153", "242.96.16.101"},
	{"205.188.248.25", "242.96.88.27"},
	{"205.245.121.43", "242.21.121.163"},
	{"207.105.49.5", "241.118.205.138"},
	{"207.135.65.238", "241.202.129.222"},
	{"207.155.9.214", "241.220.250.22"},
	{"207.188.7.45", "241.255.249.220"},
	{"207.25.71.27", "241.33.119.156"},
	{"207.33.151.131", "241.1.233.131"},
	{"208.147.89.59", "227.237.98.191"},
	{"208.234.120.210", "227.154.67.17"},
	{"208.28.185.184", "227.39.94.90"},
	{"208.52.56.122", "227.8.63.165"},
	{"209.12.231.7", "226.243.167.8"},
	{"209.238.72.3", "226.6.119.243"},
	{"209.246.74.109", "226.22.124.76"},
	{"209.68.60.238", "226.184.220.233"},
	{"209.85.249.6", "226.170.70.6"},
	{"212.120.124.31", "228.135.163.231"},
	{"212.146.8.236", "228.19.4.234"},
	{"212.186.227.154", "228.59.98.98"},
	{"212.204.172.118", "228.71.195.169"},
	{"212.206.130.201", "228.69.242.193"},
	{"216.148.237.145", "235.84.194.111"},
	{"216.157.30.252", "235.89.31.26"},
	{"216.184.159.48", "235.96.225.78"},
	{"216.227.10.221", "235.28.253.36"},
	{"216.254.18.172", "235.7.16.162"},
	{"216.32.132.250", "235.192.139.38"},
	{"216.35.217.178", "235.195.157.81"},
	{"24.0.250.221", "100.15.198.226"},
	{"24.13.62.231", "100.2.192.247"},
	{"24.14.213.138", "100.1.42.141"},
	{"24.5.0.80", "100.9.15.210"},
	{"24.7.198.88", "100.10.6.25"},
	{"24.94.26.44", "100.88.228.35"},
	{"38.15.67.68", "64.3.66.187"},
	{"4.3.88.225", "124.60.155.63"},
	{"63.14.55.111", "95.9.215.7"},
	{"63.195.241.44", "95.179.238.44"},
	{"63.97.7.140", "95.97.9.123"},
	{"64.14.118.196", "0.255.183.58"},
	{"64.34.154.117", "0.221.154.117"},
	{"64.39.15.238", "0.219.7.41"},
	{"10.185.25.118", "117.161.29.118"},
};

static const char *const sample6[][2] = {
	{"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
	{"::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
	{"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
	{"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
	{"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
};

Test(anon, reference_sample_ipv4)
{
	struct fc_anon *a = fc_anon_create(sample_key);
	size_t n = sizeof(sample4) / sizeof(sample4[0]);

	cr_assert_not_null(a);
	cr_assert_eq(n, 71);
	/* Twice: the second round comes from the cache. */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < n; i++) {
			uint8_t ip[4];
			char got[INET_ADDRSTRLEN];

			cr_assert_eq(inet_pton(AF_INET, sample4[i][0], ip), 1);
			fc_anon_ip4(a, ip);
			inet_ntop(AF_INET, ip, got, sizeof(got));
			cr_expect_str_eq(got, sample4[i][1], "%s -> %s, want %s",
					 sample4[i][0], got, sample4[i][1]);
		}
	fc_anon_free(a);
}

Test(anon, reference_key_ipv6)
{
	struct fc_anon *a = fc_anon_create(sample_key);

	for (size_t i = 0; i < sizeof(sample6) / sizeof(sample6[0]); i++) {
		uint8_t ip[16];
		char got[INET6_ADDRSTRLEN];

		cr_assert_eq(inet_pton(AF_INET6, sample6[i][0], ip), 1);
		fc_anon_addr(a, 6, ip);
		inet_ntop(AF_INET6, ip, got, sizeof(got));
		cr_expect_str_eq(got, sample6[i][1], "%s -> %s, want %s",
				 sample6[i][0], got, sample6[i][1]);
	}
	fc_anon_free(a);
}

static unsigned common_prefix(const uint8_t *x, const uint8_t *y,
			      unsigned nbits)
{
	for (unsigned i = 0; i < nbits; i++) {
		unsigned b = 7 - i % 8;

		if (((x[i / 8] >> b) & 1) != ((y[i / 8] >> b) & 1))
			return i;
	}
	return nbits;
}

/* Pairs that share a random prefix length map to pairs that share exactly
 * that prefix: an anonymised /24 stays a /24, and different addresses
 * stay different. */
Test(anon, prefix_preserved_on_random_pairs)
{
	uint8_t key[32];
	struct fc_anon *a;

	srandom(7);
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)random();
	a = fc_anon_create(key);
	for (int fam = 4; fam <= 6; fam += 2) {
		unsigned nbits = fam == 4 ? 32 : 128;

		for (int t = 0; t < 3000; t++) {
			uint8_t x[16], y[16];
			unsigned p = (unsigned)random() % (nbits + 1), q;

			for (int i = 0; i < 16; i++)
				x[i] = (uint8_t)random();
			memcpy(y, x, 16);
			for (unsigned i = p; i < nbits; i++)
				if (random() & 1)
					y[i / 8] ^= (uint8_t)(1 << (7 - i % 8));
			if (p < nbits) /* differ first at bit p */
				y[p / 8] = (uint8_t)(y[p / 8] ^
					(((x[p / 8] ^ y[p / 8]) >> (7 - p % 8) & 1) ^ 1)
					<< (7 - p % 8));
			q = common_prefix(x, y, nbits);
			cr_assert_eq(q, p);
			fc_anon_addr(a, (unsigned)fam, x);
			fc_anon_addr(a, (unsigned)fam, y);
			cr_assert_eq(common_prefix(x, y, nbits), p,
				     "family %d: prefix %u became %u", fam, p,
				     common_prefix(x, y, nbits));
		}
	}
	fc_anon_free(a);
}

static char *write_tmp(const void *data, size_t n)
{
	char *path = strdup("/tmp/test_anon_keyXXXXXX");
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	return path;
}

Test(anon, key_file_raw_or_hex)
{
	static const char hex[] =
		"15 22 17 8d"; /* not 64 digits: refused */
	char hexkey[80] = "";
	uint8_t k[32], fp1[8], fp2[8];
	char err[256];
	char *p;

	for (int i = 0; i < 32; i++)
		sprintf(hexkey + 2 * i, "%02x", sample_key[i]);
	strcat(hexkey, "\n");
	p = write_tmp(hexkey, strlen(hexkey));
	cr_assert_eq(fc_anon_key_load(p, k, err, sizeof(err)), 0, "%s", err);
	cr_assert_arr_eq(k, sample_key, 32);
	unlink(p);
	free(p);
	p = write_tmp(sample_key, 32);
	memset(k, 0, sizeof(k));
	cr_assert_eq(fc_anon_key_load(p, k, err, sizeof(err)), 0, "%s", err);
	cr_assert_arr_eq(k, sample_key, 32);
	unlink(p);
	free(p);
	p = write_tmp(hex, strlen(hex));
	cr_assert_eq(fc_anon_key_load(p, k, err, sizeof(err)), -1);
	cr_assert(strstr(err, "64 hex digits") != NULL, "%s", err);
	unlink(p);
	free(p);
	cr_assert_eq(fc_anon_key_load("/nonexistent/key", k, err,
				      sizeof(err)), -1);
	fc_anon_fingerprint(sample_key, fp1);
	memcpy(k, sample_key, 32);
	k[31] ^= 1;
	fc_anon_fingerprint(k, fp2);
	cr_assert(memcmp(fp1, fp2, 8) != 0);
	fc_anon_fingerprint(sample_key, fp2);
	cr_assert_arr_eq(fp1, fp2, 8);
}

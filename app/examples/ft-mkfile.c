/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ft-mkfile: write a flowtuple file without capturing anything. An example
 * of the writer API, and a source of known files: by default a small fixed
 * demo (IPv4 and IPv6 records of every class, an empty interval, a gap,
 * counters) whose flowcap-read output the tests know; with --telescope N, N
 * synthetic records spread like darknet traffic (random sources, a few
 * destination /16s, Zipf ports), sorted as the collector sorts them, to
 * measure bytes per record on disk. It is not a traffic generator for the
 * capture path (see flowcap-gen).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fc_ftfile.h"
#include "fc_tuple.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Zipf(s) over ranks 0..n-1 through a cumulative table. */
struct zipf {
	double *cdf;
	unsigned n;
};

static int zipf_init(struct zipf *z, unsigned n, double s)
{
	double sum = 0;

	z->n = n;
	z->cdf = malloc(n * sizeof(double));
	if (z->cdf == NULL)
		return -1;
	for (unsigned i = 0; i < n; i++)
		z->cdf[i] = sum += 1.0 / pow(i + 1, s);
	for (unsigned i = 0; i < n; i++)
		z->cdf[i] /= sum;
	return 0;
}

static unsigned zipf_draw(const struct zipf *z)
{
	double u = (double)(rnd() >> 11) / 9007199254740992.0;
	unsigned lo = 0, hi = z->n - 1;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int cmp_rec(const void *a, const void *b)
{
	return fc_ftkey_cmp(&((const struct fc_ft_record *)a)->key,
			    &((const struct fc_ft_record *)b)->key);
}

/* Darknet-like records: 98% IPv4; sources uniform; destinations in four
 * /16s; ports by Zipf rank over a service list; mostly SYN scans, some
 * backscatter and ICMP; most keys seen once. */
static struct fc_ft_record *telescope(uint64_t n, int random_sport)
{
	static const uint16_t svc[] = {23, 445, 22, 80, 443, 8080, 3389, 1433,
				       53, 5555, 123, 8443, 2323, 21, 25, 6379};
	struct fc_ft_record *v = calloc(n, sizeof(*v));
	struct zipf zp;

	if (v == NULL || zipf_init(&zp, 4096, 1.1) != 0) {
		free(v);
		return NULL;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct fc_ftkey *k = &v[i].key;
		unsigned r = zipf_draw(&zp), kind = (unsigned)(rnd() % 100);
		uint64_t x = rnd();

		k->family = rnd() % 50 == 0 ? 6 : 4;
		if (k->family == 4) {
			memcpy(k->src_ip, &x, 4);
			k->dst_ip[0] = 44;
			k->dst_ip[1] = (uint8_t)(x >> 32 & 3);
			k->dst_ip[2] = (uint8_t)(x >> 40);
			k->dst_ip[3] = (uint8_t)(x >> 48);
		} else {
			k->src_ip[0] = 0x20;
			k->src_ip[1] = 0x01;
			memcpy(k->src_ip + 4, &x, 8);
			k->dst_ip[0] = 0x2a;
			k->dst_ip[1] = 0x0c;
			k->dst_ip[15] = (uint8_t)(x >> 56);
		}
		k->dst_port = r < 16 ? svc[r] : (uint16_t)(1024 + r * 13);
		k->src_port = random_sport ? (uint16_t)(32768 + rnd() % 28232) :
					     (uint16_t)(40000 + zipf_draw(&zp));
		k->ttl = (uint8_t)(kind < 50 ? 40 + rnd() % 20 :
					       100 + rnd() % 28);
		if (kind < 80) {
			k->proto = 6;
			k->tcp_flags = 0x02;
			k->ip_len = rnd() % 4 ? 40 : 44;
			k->cls = FC_FT_CLASS_OTHER;
		} else if (kind < 88) {
			k->proto = 6;
			k->tcp_flags = kind % 2 ? 0x12 : 0x14;
			k->ip_len = 40;
			k->cls = FC_FT_CLASS_BACKSCATTER;
			k->src_port = svc[r % 16];
			k->dst_port = (uint16_t)(1024 + rnd() % 64512);
		} else if (kind < 95) {
			k->proto = 17;
			k->ip_len = 28 + (uint32_t)(rnd() % 4) * 16;
			k->cls = FC_FT_CLASS_OTHER;
		} else {
			k->proto = 1;
			k->src_port = 8;
			k->dst_port = 0;
			k->ip_len = 84;
			k->cls = FC_FT_CLASS_ICMPREQ;
		}
		if (k->family == 6) {
			k->proto = k->proto == 1 ? 58 : k->proto;
			k->src_port = k->proto == 58 ? 128 : k->src_port;
			k->ip_len += 20;
		}
		v[i].packets = rnd() % 10 ? 1 : 1 + rnd() % 50;
	}
	free(zp.cdf);
	qsort(v, n, sizeof(*v), cmp_rec);
	return v;
}

static void demo_rec(struct fc_ft_record *r, unsigned cls, const char *s,
		     const char *d, uint16_t sp, uint16_t dp, uint8_t proto,
		     uint8_t ttl, uint8_t fl, uint32_t len, uint64_t pk)
{
	memset(r, 0, sizeof(*r));
	r->key.family = (uint8_t)fc_ip_parse(s, r->key.src_ip);
	fc_ip_parse(d, r->key.dst_ip);
	r->key.cls = (uint8_t)cls;
	r->key.src_port = sp;
	r->key.dst_port = dp;
	r->key.proto = proto;
	r->key.ttl = ttl;
	r->key.tcp_flags = fl;
	r->key.ip_len = len;
	r->packets = pk;
}

static int demo(struct fc_ft_writer *w, uint64_t t0)
{
	struct fc_ft_record r[6];
	struct fc_ft_interval iv;
	int rc;

	/* Interval 0: every class, both families, sorted as the collector
	 * sorts (class, family, addresses, ...). */
	demo_rec(&r[0], 0, "192.0.2.1", "198.51.100.7", 80, 40000, 6, 57,
		 0x12, 40, 3);
	demo_rec(&r[1], 0, "2001:db8::1", "2001:db8:1::2", 443, 51000, 6, 60,
		 0x14, 60, 1);
	demo_rec(&r[2], 1, "203.0.113.9", "198.51.100.8", 8, 0, 1, 64, 0, 84,
		 2);
	demo_rec(&r[3], 2, "10.0.0.1", "198.51.100.9", 40001, 23, 6, 241,
		 0x02, 40, 1);
	demo_rec(&r[4], 2, "10.0.0.1", "198.51.100.9", 40001, 23, 6, 241,
		 0x02, 44, 5);
	demo_rec(&r[5], 2, "fe80::1", "ff02::1:ff00:1", 5353, 5353, 17, 255,
		 0, 88, 4);
	memset(&iv, 0, sizeof(iv));
	iv.index = 0;
	iv.start = t0;
	iv.end = t0 + 59;
	iv.rec_pkts = 16;
	iv.ctr[FC_CTR_NOT_IP] = 2;
	iv.ctr[FC_CTR_TRUNC_L3] = 1;
	iv.rx_pkts = 19;
	if ((rc = fc_ft_writer_add_interval(w, &iv, r, 6)) != FC_FT_OK)
		return rc;
	/* Interval 1: nothing arrived. */
	memset(&iv, 0, sizeof(iv));
	iv.index = 1;
	iv.start = t0 + 60;
	iv.end = t0 + 119;
	if ((rc = fc_ft_writer_add_interval(w, &iv, NULL, 0)) != FC_FT_OK)
		return rc;
	/* Intervals 2..4 collapsed into one gap. */
	iv.index = 2;
	iv.flags = FC_FT_IV_GAP;
	iv.start = t0 + 120;
	iv.end = t0 + 299;
	if ((rc = fc_ft_writer_add_interval(w, &iv, NULL, 0)) != FC_FT_OK)
		return rc;
	/* Interval 5: the last one, ends at the last packet. */
	demo_rec(&r[0], 2, "192.0.2.200", "198.51.100.1", 1234, 53, 17, 50, 0,
		 71, 7);
	memset(&iv, 0, sizeof(iv));
	iv.index = 5;
	iv.flags = FC_FT_IV_LAST;
	iv.start = t0 + 300;
	iv.end = t0 + 310;
	iv.rec_pkts = 7;
	iv.ctr[FC_CTR_LATE] = 2;
	iv.ctr[FC_CTR_TBL_FULL] = 3;
	iv.rx_pkts = 10;
	return fc_ft_writer_add_interval(w, &iv, r, 1);
}

/* A whole decimal number in [lo, hi], or exit 2 naming the option. */
static long long number(const char *s, const char *opt, long long lo,
			long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "ft-mkfile: %s needs a number from %lld to "
			"%lld, not '%s'\n", opt, lo, hi, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"telescope", required_argument, NULL, 't'},
		{"random-sport", no_argument, NULL, 'r'},
		{"start", required_argument, NULL, 's'},
		{"level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct fc_ft_file_info info = {0};
	struct fc_ft_writer *w;
	uint64_t n = 0, t0 = 1700000000;
	int level = FC_FT_LEVEL_DEFAULT, random_sport = 0, c, st;

	while ((c = getopt_long(argc, argv, "t:rs:l:h", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			n = (uint64_t)number(optarg, "--telescope", 0,
					     100000000);
			break;
		case 'r': random_sport = 1; break;
		case 's':
			t0 = (uint64_t)number(optarg, "--start", 0,
					      INT64_MAX / 2);
			break;
		case 'l':
			level = (int)number(optarg, "--level", -131072, 22);
			break;
		default:
			fprintf(stderr,
				"usage: ft-mkfile [--start T] [--telescope N "
				"[--random-sport]] [--level L] OUT\n"
				"Write the demo file (or N darknet-like "
				"records) to OUT, which must not exist.\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "ft-mkfile: give one OUT file (--help)\n");
		return 2;
	}
	info.kind = FC_FT_KIND_FLOWTUPLE;
	info.interval_len = 60;
	info.created = t0;
	snprintf(info.monitor, sizeof(info.monitor), "demo");
	w = fc_ft_writer_open(argv[optind], &info, &st);
	if (w == NULL) {
		fprintf(stderr, "ft-mkfile: %s: %s\n", argv[optind],
			fc_ft_strerror(st));
		return 1;
	}
	if (fc_ft_writer_set_level(w, level) != FC_FT_OK) {
		fprintf(stderr, "ft-mkfile: bad zstd level %d\n", level);
		fc_ft_writer_abort(w);
		return 2;
	}
	if (n == 0) {
		st = demo(w, t0);
	} else {
		struct fc_ft_record *v = telescope(n, random_sport);
		struct fc_ft_interval iv = {0};

		if (v == NULL) {
			fprintf(stderr, "ft-mkfile: out of memory\n");
			fc_ft_writer_abort(w);
			return 1;
		}
		iv.start = t0;
		iv.end = t0 + 59;
		iv.flags = FC_FT_IV_LAST;
		for (uint64_t i = 0; i < n; i++)
			iv.rec_pkts += v[i].packets;
		iv.rx_pkts = iv.rec_pkts;
		st = fc_ft_writer_add_interval(w, &iv, v, n);
		free(v);
	}
	if (st != FC_FT_OK) {
		fc_ft_writer_abort(w);
		fprintf(stderr, "ft-mkfile: %s: %s\n", argv[optind],
			fc_ft_strerror(st));
		return 1;
	}
	st = fc_ft_writer_close(w);
	if (st != FC_FT_OK) {
		fprintf(stderr, "ft-mkfile: %s: %s\n", argv[optind],
			fc_ft_strerror(st));
		return 1;
	}
	if (n > 0) {
		struct stat sb;

		if (stat(argv[optind], &sb) == 0)
			printf("%" PRIu64 " records, %lld bytes, %.2f "
			       "bytes/record (zstd level %d)\n",
			       n, (long long)sb.st_size,
			       (double)sb.st_size / (double)n, level);
	}
	return 0;
}

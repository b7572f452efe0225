/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read: print flowtuple files (.ft.zst) as a table, CSV, JSON lines
 * or Corsaro's cors2ascii text; print each interval's accounting (--stats);
 * or check files completely (--verify). Several files are put in time order
 * by their first interval. A damaged file is reported with its name and the
 * byte offset of the damage, and nothing after the damage is printed. It
 * does not filter, group or re-window records: that is a query layer above
 * the reader library.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc_ftfile.h"
#include "fc_tuple.h"

#define PROG "flowcap-read"

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_CORSARO };

static const char usage_text[] =
"Usage: " PROG " [options] FILE...\n"
"\n"
"Print flowcap flowtuple files (.ft.zst). Files are read in time order (by\n"
"their first interval), whatever their order on the command line.\n"
"\n"
"Options:\n"
"  -f, --format FMT  output format of the records:\n"
"                      table    aligned columns (default on a terminal)\n"
"                      csv      interval_start,class,src_ip,dst_ip,src_port,\n"
"                               dst_port,protocol,ttl,tcp_flags,ip_len,packets\n"
"                               with one header line (default otherwise)\n"
"                      json     one JSON object per record, same field names\n"
"                      corsaro  the text of Corsaro's cors2ascii: per interval\n"
"                               and class (backscatter, icmpreq, other)\n"
"                               src|dst|sport|dport|proto|ttl|0xflags|len,count\n"
"  -s, --stats       print each interval's accounting instead of records:\n"
"                    start, end, flags (partial, late, last, gap), packets\n"
"                    received, packets in records, records, every nonzero\n"
"                    counter, and whether received = in records + dropped\n"
"  -V, --verify      read every block, check every checksum, count and value,\n"
"                    and that received = in records + dropped and that the\n"
"                    records' packets add up, per interval; print\n"
"                    \"OK FILE: N intervals, M records\" or the problem\n"
"  -h, --help        this text\n"
"\n"
"ICMP type and code are printed as src_port and dst_port. IPv6 addresses are\n"
"printed as RFC 5952 text.\n"
"\n"
"Exit status: 0 all files read completely; 1 a file could not be read, is\n"
"corrupt or truncated, or failed --verify (the message names the file and\n"
"the byte offset of the problem); 2 bad command line.\n"
"\n"
"A file cut short (writer crashed, copy in progress) is printed up to its\n"
"last complete block, followed by a warning and exit status 1.\n"
"\n"
"Examples:\n"
"  " PROG " /data/ft/telescope-1.1700000000.flowtuple.ft.zst | head\n"
"  " PROG " --format csv /data/ft/*.ft.zst > rows.csv\n"
"  " PROG " --format corsaro run.ft.zst      # as cors2ascii prints it\n"
"  " PROG " --stats /data/ft/*.ft.zst        # accounting per interval\n"
"  " PROG " --verify /data/ft/*.ft.zst || echo damaged\n"
"  " PROG " -f json run.ft.zst | jq 'select(.packets > 100)'\n";

struct input {
	const char *path;
	uint64_t first;  /* start of its first interval, for ordering */
	size_t argi;     /* command-line position: stable tie-break */
};

struct opts {
	enum fmt fmt;
	bool stats;
	bool verify;
};

static bool header_done;

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? arg : "",
		arg ? "'" : "");
	fprintf(stderr, "Try '" PROG " --help' for the options.\n");
	exit(2);
}

static void file_error(const char *path, int st, uint64_t off)
{
	if (st == FC_FT_E_IO)
		fprintf(stderr, PROG ": %s: %s (%s) at offset %" PRIu64 "\n",
			path, fc_ft_strerror(st), strerror(errno), off);
	else
		fprintf(stderr, PROG ": %s: %s at offset %" PRIu64 "\n", path,
			fc_ft_strerror(st), off);
	if (st == FC_FT_E_TRUNCATED)
		fprintf(stderr, PROG ": warning: %s was cut short (writer "
			"stopped or copy incomplete); output ends at its last "
			"complete block\n", path);
}

/* ---------------------------------------------------------------------- */
/* Record output                                                          */

static void print_header(enum fmt fmt)
{
	if (header_done)
		return;
	header_done = true;
	if (fmt == FMT_CSV)
		puts("interval_start,class,src_ip,dst_ip,src_port,dst_port,"
		     "protocol,ttl,tcp_flags,ip_len,packets");
	else if (fmt == FMT_TABLE)
		printf("%-10s %-11s %-15s %-15s %5s %5s %5s %3s %5s %6s %10s\n",
		       "start", "class", "src_ip", "dst_ip", "sport", "dport",
		       "proto", "ttl", "flags", "ip_len", "packets");
}

static void print_record(enum fmt fmt, uint64_t start,
			 const struct fc_ft_record *r)
{
	const struct fc_ftkey *k = &r->key;
	char s[FC_IP_STRLEN], d[FC_IP_STRLEN];
	const char *cls = fc_ft_class_name(k->cls);

	fc_ip_format(s, sizeof(s), k->family, k->src_ip);
	fc_ip_format(d, sizeof(d), k->family, k->dst_ip);
	switch (fmt) {
	case FMT_CSV:
		printf("%" PRIu64 ",%s,%s,%s,%u,%u,%u,%u,%u,%u,%" PRIu64 "\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets);
		break;
	case FMT_JSON:
		printf("{\"interval_start\":%" PRIu64 ",\"class\":\"%s\","
		       "\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,"
		       "\"dst_port\":%u,\"protocol\":%u,\"ttl\":%u,"
		       "\"tcp_flags\":%u,\"ip_len\":%u,\"packets\":%" PRIu64
		       "}\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets);
		break;
	case FMT_TABLE:
		printf("%-10" PRIu64 " %-11s %-15s %-15s %5u %5u %5u %3u  0x%02x "
		       "%6u %10" PRIu64 "\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets);
		break;
	case FMT_CORSARO:
		printf("%s|%s|%u|%u|%u|%u|0x%02x|%u,%" PRIu64 "\n", s, d,
		       k->src_port, k->dst_port, k->proto, k->ttl, k->tcp_flags,
		       k->ip_len, r->packets);
		break;
	}
}

/* Corsaro compares addresses as 32-bit integers loaded from network-order
 * bytes on a little-endian host; its output order follows from that. */
static uint32_t corsaro_u32(const uint8_t *a)
{
	return (uint32_t)a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 |
	       (uint32_t)a[3] << 24;
}

/* Ports and lengths too: Corsaro keeps them in network order. */
static uint32_t corsaro_u16(uint32_t v)
{
	return (v & 0xff) << 8 | (v >> 8 & 0xff) | (v & 0xffff0000u);
}

#define CMP(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)

/* Corsaro's flowtuple order within a class: protocol, ttl, tcp flags,
 * source, destination, ports, length, compared as Corsaro's in-memory
 * integers (network order loaded on a little-endian host). IPv6 (unknown to Corsaro) follows
 * the same rule on its first four bytes, then the rest. */
static int corsaro_cmp(const void *pa, const void *pb)
{
	const struct fc_ftkey *a = &((const struct fc_ft_record *)pa)->key;
	const struct fc_ftkey *b = &((const struct fc_ft_record *)pb)->key;
	int c;

	CMP(a->cls, b->cls);
	CMP(a->proto, b->proto);
	CMP(a->ttl, b->ttl);
	CMP(a->tcp_flags, b->tcp_flags);
	CMP(corsaro_u32(a->src_ip), corsaro_u32(b->src_ip));
	CMP(a->family, b->family);
	if ((c = memcmp(a->src_ip + 4, b->src_ip + 4, 12)) != 0)
		return c;
	CMP(corsaro_u32(a->dst_ip), corsaro_u32(b->dst_ip));
	if ((c = memcmp(a->dst_ip + 4, b->dst_ip + 4, 12)) != 0)
		return c;
	CMP(corsaro_u16(a->src_port), corsaro_u16(b->src_port));
	CMP(corsaro_u16(a->dst_port), corsaro_u16(b->dst_port));
	CMP(corsaro_u16(a->ip_len), corsaro_u16(b->ip_len));
	return 0;
}

struct recbuf {
	struct fc_ft_record *v;
	size_t n, cap;
};

static int recbuf_push(struct recbuf *b, const struct fc_ft_record *r)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		struct fc_ft_record *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *r;
	return 0;
}

/* One interval in cors2ascii form; a gap interval becomes the run of empty
 * intervals it stands for, as Corsaro prints them. */
static void print_corsaro(const struct fc_ft_file_info *info,
			  const struct fc_ft_interval *iv, struct recbuf *b)
{
	uint64_t len = info->interval_len ? info->interval_len : 1;
	uint64_t start = iv->start, idx = iv->index;
	size_t at = 0;

	qsort(b->v, b->n, sizeof(*b->v), corsaro_cmp);
	for (;;) {
		uint64_t end = iv->end;
		bool last = true;

		if ((iv->flags & FC_FT_IV_GAP) && end - start >= len) {
			end = start + len - 1;
			last = false;
		}
		printf("# CORSARO_INTERVAL_START %" PRIu64 " %" PRIu64 "\n",
		       idx, start);
		for (unsigned c = 0; c < FC_FT_CLASS_COUNT; c++) {
			size_t e = at;

			while (e < b->n && b->v[e].key.cls == c)
				e++;
			printf("START flowtuple_%s %zu\n", fc_ft_class_name(c),
			       e - at);
			for (; at < e; at++)
				print_record(FMT_CORSARO, 0, &b->v[at]);
			printf("END flowtuple_%s\n", fc_ft_class_name(c));
		}
		printf("# CORSARO_INTERVAL_END %" PRIu64 " %" PRIu64 "\n", idx,
		       end);
		if (last)
			break;
		start = end + 1;
		idx++;
	}
}

/* ---------------------------------------------------------------------- */
/* Accounting                                                             */

static uint64_t drops_of(const struct fc_ft_interval *iv)
{
	uint64_t d = 0;

	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		d += iv->ctr[i];
	return d;
}

static void print_stats(const struct fc_ft_interval *iv)
{
	static const char *const fl[] = {"partial", "late", "last", "gap"};
	uint64_t drops = drops_of(iv);
	bool any = false;

	printf("interval=%" PRIu32 " start=%" PRIu64 " end=%" PRIu64
	       " flags=", iv->index, iv->start, iv->end);
	for (unsigned i = 0; i < 4; i++)
		if (iv->flags & (1u << i)) {
			printf("%s%s", any ? "," : "", fl[i]);
			any = true;
		}
	if (!any)
		printf("-");
	printf(" rx_pkts=%" PRIu64 " rec_pkts=%" PRIu64 " records=%" PRIu64,
	       iv->rx_pkts, iv->rec_pkts, iv->n_records);
	for (unsigned i = 1; i < FC_CTR_MAX; i++)
		if (iv->ctr[i] != 0) {
			const char *n = fc_ft_counter_name(i);

			if (n != NULL)
				printf(" %s=%" PRIu64, n, iv->ctr[i]);
			else
				printf(" ctr%u=%" PRIu64, i, iv->ctr[i]);
		}
	printf(" drops=%" PRIu64 " conservation=%s\n", drops,
	       iv->rx_pkts == iv->rec_pkts + drops ? "ok" : "FAILED");
}

/* ---------------------------------------------------------------------- */
/* Files                                                                  */

/* Read one file; return 0 when it was read completely and (with --verify)
 * passed every check, 1 otherwise. */
static int read_file(const struct opts *o, const char *path)
{
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	struct recbuf buf = {0};
	uint64_t n_iv = 0, n_rec = 0;
	bool records = !o->stats && !o->verify;
	int st, rc, ret = 0;

	r = fc_ft_reader_open(path, &st);
	if (r == NULL) {
		file_error(path, st, 0);
		return 1;
	}
	if (o->stats) {
		const struct fc_ft_file_info *in = fc_ft_reader_info(r);

		printf("file=%s version=%u.%u monitor=%s interval_len=%" PRIu32
		       " aligned=%s created=%" PRIu64 "\n",
		       path, in->version_major, in->version_minor,
		       in->monitor[0] ? in->monitor : "-", in->interval_len,
		       in->flags & FC_FT_F_ALIGNED ? "yes" : "no", in->created);
	}
	while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		uint64_t pkts = 0, k = 0;

		n_iv++;
		if (o->stats)
			print_stats(&iv);
		buf.n = 0;
		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1) {
			k++;
			pkts += rec.packets;
			if (!records)
				continue;
			if (o->fmt == FMT_CORSARO) {
				if (recbuf_push(&buf, &rec) != 0) {
					fprintf(stderr, PROG ": %s: out of "
						"memory\n", path);
					ret = 1;
					goto out;
				}
			} else {
				print_record(o->fmt, iv.start, &rec);
			}
		}
		n_rec += k;
		if (rc < 0)
			break;
		if (records && o->fmt == FMT_CORSARO)
			print_corsaro(fc_ft_reader_info(r), &iv, &buf);
		if (o->verify && iv.rx_pkts != iv.rec_pkts + drops_of(&iv)) {
			fprintf(stderr, PROG ": %s: interval %" PRIu32
				" (start %" PRIu64 "): received %" PRIu64
				" != %" PRIu64 " in records + %" PRIu64
				" dropped\n", path, iv.index, iv.start,
				iv.rx_pkts, iv.rec_pkts, drops_of(&iv));
			ret = 1;
		}
		if (o->verify && pkts != iv.rec_pkts) {
			fprintf(stderr, PROG ": %s: interval %" PRIu32
				" (start %" PRIu64 "): records hold %" PRIu64
				" packets, header says %" PRIu64 "\n",
				path, iv.index, iv.start, pkts, iv.rec_pkts);
			ret = 1;
		}
	}
	if (rc < 0) {
		fflush(stdout);
		file_error(path, rc, fc_ft_reader_error_offset(r));
		ret = 1;
	} else if (o->verify && ret == 0) {
		printf("OK %s: %" PRIu64 " intervals, %" PRIu64 " records\n",
		       path, n_iv, n_rec);
	}
out:
	free(buf.v);
	fc_ft_reader_close(r);
	return ret;
}

static uint64_t first_start(const char *path)
{
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	uint64_t t = UINT64_MAX;
	int st;

	r = fc_ft_reader_open(path, &st);
	if (r == NULL)
		return 0; /* errors come first, where they are noticed */
	if (fc_ft_reader_next_interval(r, &iv) == 1)
		t = iv.start;
	fc_ft_reader_close(r);
	return t;
}

static int input_cmp(const void *pa, const void *pb)
{
	const struct input *a = pa, *b = pb;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->argi < b->argi ? -1 : a->argi > b->argi;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"stats", no_argument, NULL, 's'},
		{"verify", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_CSV};
	struct input *in;
	size_t n;
	int c, ret = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:sVh", lopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "csv") == 0)
				o.fmt = FMT_CSV;
			else if (strcmp(optarg, "json") == 0)
				o.fmt = FMT_JSON;
			else if (strcmp(optarg, "table") == 0)
				o.fmt = FMT_TABLE;
			else if (strcmp(optarg, "corsaro") == 0)
				o.fmt = FMT_CORSARO;
			else
				usage_error("unknown format (use table, csv, "
					    "json or corsaro): '", optarg);
			break;
		case 's':
			o.stats = true;
			break;
		case 'V':
			o.verify = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			usage_error("option needs a value: '", argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '", argv[optind - 1]);
		}
	}
	if (o.stats && o.verify)
		usage_error("--stats and --verify do not go together", NULL);
	n = (size_t)(argc - optind);
	if (n == 0)
		usage_error("no FILE given", NULL);
	in = calloc(n, sizeof(*in));
	if (in == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		in[i].path = argv[optind + (int)i];
		in[i].argi = i;
		in[i].first = n > 1 ? first_start(in[i].path) : 0;
	}
	qsort(in, n, sizeof(*in), input_cmp);
	if (!o.stats && !o.verify)
		print_header(o.fmt);
	for (size_t i = 0; i < n; i++)
		ret |= read_file(&o, in[i].path);
	free(in);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write output: %s\n",
			strerror(errno));
		ret = 1;
	}
	return ret;
}

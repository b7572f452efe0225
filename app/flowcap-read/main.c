/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read: print flowtuple files (.ft.zst) as a table, CSV, JSON lines
 * or Corsaro's cors2ascii text; print each interval's accounting (--stats);
 * or check files completely (--verify). Inputs are files, directories (every
 * *.ft.zst below them) and lists of names (--files-from); the same file
 * reached twice is read once. Every input is opened and its header checked
 * before anything is printed, then the files are read in time order by
 * their first interval. A damaged file is reported with its name and the
 * byte offset of the damage, and nothing after the damage is printed. It
 * does not filter, group or re-window records: that is a query layer above
 * the reader library.
 */

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc_ftfile.h"
#include "fc_tuple.h"
#include "fc_version.h"
#include "fcr_clickhouse.h"

#define PROG "flowcap-read"

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_CORSARO };

enum { OPT_VERSION = 256, OPT_TO_CH, OPT_CH_DB }; /* long options without a letter */

static const char usage_text[] =
"Usage: " PROG " [options] FILE|DIR...\n"
"       " PROG " [options] --files-from LIST [FILE|DIR...]\n"
"\n"
"Print flowcap flowtuple files (.ft.zst, format versions 1.x and 2.x).\n"
"Files are read in time order (by their first interval), whatever their\n"
"order on the command line. A DIR stands for every *.ft.zst file below it,\n"
"recursively (symbolic links to files are followed, to directories below\n"
"DIR not); unfinished files (*.tmp, *.incomplete) are skipped and counted\n"
"in a note. The same file reached twice (two names, a symbolic or hard\n"
"link) is read once, with a note.\n"
"Every input is opened and its header checked before anything is printed.\n"
"\n"
"Options:\n"
"  -T, --files-from LIST  read input names (files or directories) from LIST,\n"
"                    one per line ('-': standard input); for lists longer\n"
"                    than the command line allows\n"
"  -0, --null        names in LIST end with a NUL byte, not a newline\n"
"                    (find -print0)\n"
"  -f, --format FMT  output format of the records:\n"
"                      table    aligned columns (default on a terminal);\n"
"                               address columns are 39 wide when any\n"
"                               record is IPv6, so table reads its\n"
"                               inputs twice\n"
"                      csv      interval_start,class,src_ip,dst_ip,src_port,\n"
"                               dst_port,protocol,ttl,tcp_flags,ip_len,packets\n"
"                               with one header line (default otherwise);\n"
"                               then label (and vlan) for files written\n"
"                               with flowcap --classify (--key-vlan)\n"
"                      json     one JSON object per record, same field names\n"
"                      corsaro  the text of Corsaro's cors2ascii: per interval\n"
"                               and class (backscatter, icmpreq, other)\n"
"                               src|dst|sport|dport|proto|ttl|0xflags|len,count\n"
"  -s, --stats       print each interval's accounting instead of records\n"
"                    (key=value lines; --format does not apply): per file\n"
"                    its format version, monitor, interval length, and\n"
"                    writer (the flowcap version that wrote it; unknown\n"
"                    before format 2.1); per interval\n"
"                    start, end, flags (partial, late, last, gap), packets\n"
"                    received, packets in records, records, every nonzero\n"
"                    counter, and whether received = in records + dropped\n"
"  -V, --verify      read every block, check every checksum, count and value\n"
"                    (--format does not apply),\n"
"                    and that received = in records + dropped and that the\n"
"                    records' packets add up, per interval; print\n"
"                    \"OK FILE: N intervals, M records\" or the problem\n"
"      --to-clickhouse URL  load the files into ClickHouse (its HTTP\n"
"                    interface, http://HOST:8123/) instead of printing: every\n"
"                    interval exactly once, however often it is run or\n"
"                    interrupted (doc/clickhouse.md); the tables are those of\n"
"                    share/flowcap/clickhouse/flowtuple.sql\n"
"      --database DB  the database of those tables (default: the server's)\n"
"  -h, --help        this text\n"
"      --version     print the version and exit\n"
"\n"
"ICMP type and code are printed as src_port and dst_port. IPv6 addresses are\n"
"printed as RFC 5952 text.\n"
"\n"
"Exit status: 0 all files read completely; 1 a file could not be read, is\n"
"corrupt or truncated, or failed --verify (the message names the file and\n"
"the byte offset of the problem; files that cannot be opened are reported\n"
"before any output, and the others are still read); 2 bad command line.\n"
"\n"
"A file cut short (writer crashed, copy in progress) is printed up to its\n"
"last complete block, followed by a warning and exit status 1.\n"
"\n"
"Examples:\n"
"  " PROG " /data/ft/telescope-1.1700000000.flowtuple.ft.zst | head\n"
"  " PROG " --format csv /data/ft/*.ft.zst > rows.csv\n"
"  " PROG " --format corsaro run.ft.zst      # as cors2ascii prints it\n"
"  " PROG " --stats /data/ft/*.ft.zst        # accounting per interval\n"
"  " PROG " --format csv /data/ft > rows.csv  # every file below /data/ft\n"
"  find /data/ft -name '*.ft.zst' -mmin -60 -print0 |\n"
"      " PROG " --null --files-from - --format csv\n"
"  " PROG " --verify /data/ft/*.ft.zst || echo damaged\n"
"  " PROG " -f json run.ft.zst | jq 'select(.packets > 100)'\n";

struct input {
	char *path;
	uint64_t first;  /* start of its first interval, for ordering */
	size_t argi;     /* which argument or list entry: stable tie-break */
	dev_t dev;       /* identity, to read a file reached twice once */
	ino_t ino;
	bool skip;       /* a second name of an earlier input, or unreadable */
};

struct inputs {
	struct input *v;
	size_t n, cap;
	size_t argi;     /* of the argument being expanded */
	unsigned long unfinished; /* *.tmp, *.incomplete skipped in it */
	int ret;         /* 1 once an input could not be used */
};

struct opts {
	enum fmt fmt;
	bool fmt_given;
	bool stats;
	bool verify;
	bool null;       /* --files-from names end with NUL */
	const char *files_from;
	const char *ch_url;  /* --to-clickhouse */
	const char *ch_db;   /* --database */
};

static bool header_done;
/* Files written with --classify (--key-vlan) get a last CSV column label
 * (vlan) and a JSON field; files without keep their header. Decided over
 * every input before the header is printed. */
static bool col_label, col_vlan;
static const struct fc_ft_reader *cur_reader; /* for label names */
/* Width of the table's address columns: 15, or 39 when any input has an
 * IPv6 record (found before printing, so every row lines up). */
static int addr_w = 15;

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? arg : "",
		arg ? "'" : "");
	fprintf(stderr, "Try '" PROG " --help' for the options.\n");
	exit(2);
}

/* A file's problem: a system error (e: its errno) in its own words, a
 * newer format with the versions found and read, else the format's status
 * and the offset. */
static void file_error(const char *path, int st, uint64_t off, int e,
		       const struct fc_ft_open_diag *d)
{
	if (st == FC_FT_E_IO)
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(e));
	else if (st == FC_FT_E_VERSION && d != NULL &&
		 d->version_major > FC_FT_VERSION_MAJOR)
		fprintf(stderr, PROG ": %s: file needs a newer reader (format "
			"version %u.%u; this reader reads versions %u.x to "
			"%u.x) at offset %" PRIu64 "\n", path,
			d->version_major, d->version_minor,
			FC_FT_VERSION_MAJOR_OLDEST, FC_FT_VERSION_MAJOR, off);
	else if (st == FC_FT_E_VERSION && d != NULL && d->version_major != 0)
		fprintf(stderr, PROG ": %s: file needs a newer reader (format "
			"version %u.%u with a record kind or field this reader "
			"does not know) at offset %" PRIu64 "\n", path,
			d->version_major, d->version_minor, off);
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
		printf("interval_start,class,src_ip,dst_ip,src_port,dst_port,"
		       "protocol,ttl,tcp_flags,ip_len,packets%s%s\n",
		       col_label ? ",label" : "", col_vlan ? ",vlan" : "");
	else if (fmt == FMT_TABLE)
		printf("%-10s %-11s %-*s %-*s %5s %5s %5s %3s %5s %6s %10s\n",
		       "start", "class", addr_w, "src_ip", addr_w, "dst_ip",
		       "sport", "dport", "proto", "ttl", "flags", "ip_len",
		       "packets");
}

static void print_record(enum fmt fmt, uint64_t start,
			 const struct fc_ft_record *r)
{
	const struct fc_ftkey *k = &r->key;
	char s[FC_IP_STRLEN], d[FC_IP_STRLEN];
	const char *cls = fc_ft_class_name(k->cls);

	const char *label = "";
	char lbuf[16], vbuf[16] = "";

	if (col_label && fc_ftkey_label(k) != 0) {
		label = fc_ft_reader_label(cur_reader, fc_ftkey_label(k));
		if (label == NULL) { /* an id the interval does not name */
			snprintf(lbuf, sizeof(lbuf), "#%u", fc_ftkey_label(k));
			label = lbuf;
		}
	}
	if (col_vlan)
		snprintf(vbuf, sizeof(vbuf), "%u", fc_ftkey_vlan(k));
	fc_ip_format(s, sizeof(s), k->family, k->src_ip);
	fc_ip_format(d, sizeof(d), k->family, k->dst_ip);
	switch (fmt) {
	case FMT_CSV:
		printf("%" PRIu64 ",%s,%s,%s,%u,%u,%u,%u,%u,%u,%" PRIu64
		       "%s%s%s%s\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets,
		       col_label ? "," : "", label, col_vlan ? "," : "", vbuf);
		break;
	case FMT_JSON:
		printf("{\"interval_start\":%" PRIu64 ",\"class\":\"%s\","
		       "\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,"
		       "\"dst_port\":%u,\"protocol\":%u,\"ttl\":%u,"
		       "\"tcp_flags\":%u,\"ip_len\":%u,\"packets\":%" PRIu64
		       "%s%s%s%s%s}\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets,
		       col_label ? ",\"label\":\"" : "", label,
		       col_label ? "\"" : "", col_vlan ? ",\"vlan\":" : "",
		       vbuf);
		break;
	case FMT_TABLE:
		printf("%-10" PRIu64 " %-11s %-*s %-*s %5u %5u %5u %3u  0x%02x "
		       "%6u %10" PRIu64 "\n",
		       start, cls, addr_w, s, addr_w, d, k->src_port,
		       k->dst_port, k->proto,
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

	/* qsort's array must not be NULL even for no elements: an
	 * interval without records leaves b->v NULL. */
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), corsaro_cmp);
	/* Records that differ only by label or VLAN are one flowtuple to
	 * Corsaro: summed, so the text stays Corsaro's. */
	if (b->n > 1) {
		size_t o = 0;

		for (size_t i = 1; i < b->n; i++) {
			struct fc_ftkey x = b->v[o].key, y = b->v[i].key;

			fc_ftkey_set_ext(&x, 0, 0);
			fc_ftkey_set_ext(&y, 0, 0);
			if (memcmp(&x, &y, sizeof(x)) == 0)
				b->v[o].packets += b->v[i].packets;
			else
				b->v[++o] = b->v[i];
		}
		b->n = o + 1;
	}
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
	static const char *const fl[] = {"partial", "late", "last", "gap",
					 "rules-changed"};
	uint64_t drops = drops_of(iv);
	bool any = false;

	printf("interval=%" PRIu32 " start=%" PRIu64 " end=%" PRIu64
	       " flags=", iv->index, iv->start, iv->end);
	for (unsigned i = 0; i < 5; i++)
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

	struct fc_ft_open_diag d;

	r = fc_ft_reader_open_diag(path, &st, &d);
	if (r == NULL) {
		/* Checked before anything was printed; it changed since. */
		fflush(stdout);
		file_error(path, st, d.err_off, d.sys_errno, &d);
		return 1;
	}
	if (o->stats) {
		const struct fc_ft_file_info *in = fc_ft_reader_info(r);

		printf("file=%s version=%u.%u monitor=%s interval_len=%" PRIu32
		       " aligned=%s created=%" PRIu64 " writer=%s\n",
		       path, in->version_major, in->version_minor,
		       in->monitor[0] ? in->monitor : "-", in->interval_len,
		       in->flags & FC_FT_F_ALIGNED ? "yes" : "no", in->created,
		       in->writer[0] ? in->writer : "unknown");
	}
	cur_reader = r;
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
		int e = errno;

		fflush(stdout);
		file_error(path, rc, fc_ft_reader_error_offset(r), e, NULL);
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

/* ---------------------------------------------------------------------- */
/* Inputs                                                                 */

static int input_add(struct inputs *in, const char *path, const struct stat *st)
{
	struct input *x;

	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 64;
		struct input *v = realloc(in->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		in->v = v;
		in->cap = cap;
	}
	x = &in->v[in->n];
	memset(x, 0, sizeof(*x));
	x->path = strdup(path);
	if (x->path == NULL)
		return -1;
	x->argi = in->argi;
	x->dev = st->st_dev;
	x->ino = st->st_ino;
	in->n++;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
	exit(1);
}

/* nftw has no user pointer: the walk in progress. */
static struct inputs *walk_in;

static int walk_one(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	const char *base = path + ftw->base;
	struct stat st;

	switch (type) {
	case FTW_F:
	case FTW_SL:
		/* Links to files are followed (the duplicate check sees
		 * through them); links to directories are not, so a walk
		 * never loops. */
		if (ends_with(base, ".tmp") || ends_with(base, ".incomplete")) {
			walk_in->unfinished++;
			break;
		}
		if (!ends_with(base, ".ft.zst"))
			break;
		if (type == FTW_SL) {
			if (stat(path, &st) != 0)
				break; /* a dangling link names nothing */
			sb = &st;
		}
		if (!S_ISREG(sb->st_mode)) {
			fprintf(stderr, PROG ": %s: cannot read: not a "
				"regular file\n", path);
			walk_in->ret = 1;
			break;
		}
		if (input_add(walk_in, path, sb) != 0)
			oom();
		break;
	case FTW_DNR:
	case FTW_NS:
		/* nftw does not promise errno here: ask again. */
		if (type == FTW_NS ? stat(path, &st) == 0 :
				     access(path, R_OK | X_OK) == 0)
			errno = EIO;
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		walk_in->ret = 1;
		break;
	}
	return 0;
}

/* One name from the command line or a list: a file, or a directory to
 * search. Problems are reported now, before any output. */
/* The walk follows no link, not even the directory given: when that is a
 * link ("link" or "link/"), its target to walk instead, else NULL. */
static char *link_target(const char *path)
{
	struct stat st;
	char *bare = strdup(path), *real = NULL;
	size_t n;

	if (bare == NULL)
		oom();
	for (n = strlen(bare); n > 1 && bare[n - 1] == '/'; n--)
		bare[n - 1] = '\0';
	if (lstat(bare, &st) == 0 && S_ISLNK(st.st_mode))
		real = realpath(path, NULL); /* NULL: walk the name given */
	free(bare);
	return real;
}

static void input_arg(struct inputs *in, const char *path)
{
	struct stat st;
	size_t n0 = in->n;
	char *real;

	in->argi++;
	if (stat(path, &st) != 0) {
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		in->ret = 1;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* Lengths are checked against the file's size: regular
		 * files only (not a FIFO, a device, /dev/stdin). */
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, PROG ": %s: cannot read: not a "
				"regular file\n", path);
			in->ret = 1;
		} else if (input_add(in, path, &st) != 0) {
			oom();
		}
		return;
	}
	in->unfinished = 0;
	walk_in = in;
	real = link_target(path);
	if (nftw(real != NULL ? real : path, walk_one, 32, FTW_PHYS) != 0) {
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		in->ret = 1;
	}
	free(real);
	if (in->unfinished > 0)
		fprintf(stderr, PROG ": note: %s: skipped %lu unfinished "
			"file(s) (*.tmp, *.incomplete: being written, or left "
			"by an interrupted run)\n", path, in->unfinished);
	if (in->n == n0)
		fprintf(stderr, PROG ": note: %s: no *.ft.zst file below it\n",
			path);
}

/* The names in a list file, one per line (or NUL-terminated). */
static void input_list(struct inputs *in, const char *list, bool null)
{
	FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t k;

	if (f == NULL) {
		fprintf(stderr, PROG ": --files-from %s: %s\n", list,
			strerror(errno));
		exit(2);
	}
	while ((k = getdelim(&line, &cap, null ? '\0' : '\n', f)) > 0) {
		if (line[k - 1] == (null ? '\0' : '\n'))
			line[--k] = '\0';
		if (k == 0)
			continue; /* empty lines separate nothing */
		input_arg(in, line);
	}
	if (ferror(f)) {
		fprintf(stderr, PROG ": --files-from %s: %s\n", list,
			strerror(errno));
		exit(2);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

static int ident_cmp(const void *pa, const void *pb)
{
	const struct input *a = *(struct input *const *)pa;
	const struct input *b = *(struct input *const *)pb;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->argi != b->argi)
		return a->argi < b->argi ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* A file reached under two names (repeated, through a directory and by
 * name, a symbolic or hard link) is read once: the first one given. */
static void input_dedup(struct inputs *in)
{
	struct input **p;
	unsigned long n_dup = 0;

	if (in->n < 2)
		return;
	p = malloc(in->n * sizeof(*p));
	if (p == NULL)
		oom();
	for (size_t i = 0; i < in->n; i++)
		p[i] = &in->v[i];
	qsort(p, in->n, sizeof(*p), ident_cmp);
	for (size_t i = 1, first = 0; i < in->n; i++) {
		if (p[i]->dev != p[first]->dev || p[i]->ino != p[first]->ino) {
			first = i;
			continue;
		}
		p[i]->skip = true;
		if (++n_dup <= 5)
			fprintf(stderr, PROG ": note: %s is the same file as "
				"%s; read once\n", p[i]->path, p[first]->path);
	}
	if (n_dup > 5)
		fprintf(stderr, PROG ": note: %lu names in all were of files "
			"already given; each file is read once\n", n_dup);
	free(p);
}

/* Open an input and check its header; note where it starts in time and,
 * for the table format, whether it holds an IPv6 record. Returns false
 * (reported) when it cannot be read. */
static bool input_check(const struct opts *o, struct input *x)
{
	struct fc_ft_open_diag d;
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	int st, rc;

	r = fc_ft_reader_open_diag(x->path, &st, &d);
	if (r == NULL) {
		file_error(x->path, st, d.err_off, d.sys_errno, &d);
		return false;
	}
	x->first = UINT64_MAX;
	col_label |= (fc_ft_reader_info(r)->opt_fields & FC_FT_OPT_LABEL) != 0;
	col_vlan |= (fc_ft_reader_info(r)->opt_fields & FC_FT_OPT_VLAN) != 0;
	rc = fc_ft_reader_next_interval(r, &iv);
	if (rc == 1)
		x->first = iv.start;
	/* Damage found here is reported when the file is read. */
	while (o->fmt == FMT_TABLE && !o->stats && !o->verify && addr_w < 39 &&
	       rc == 1) {
		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1)
			if (rec.key.family == 6) {
				addr_w = 39;
				break;
			}
		if (rc == 0)
			rc = fc_ft_reader_next_interval(r, &iv);
	}
	fc_ft_reader_close(r);
	return true;
}

static int input_cmp(const void *pa, const void *pb)
{
	const struct input *a = pa, *b = pb;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->argi != b->argi)
		return a->argi < b->argi ? -1 : 1;
	return strcmp(a->path, b->path);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"format", required_argument, NULL, 'f'},
		{"stats", no_argument, NULL, 's'},
		{"verify", no_argument, NULL, 'V'},
		{"files-from", required_argument, NULL, 'T'},
		{"null", no_argument, NULL, '0'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"to-clickhouse", required_argument, NULL, OPT_TO_CH},
		{"database", required_argument, NULL, OPT_CH_DB},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_CSV};
	struct inputs in = {0};
	size_t n_ok = 0;
	int c, ret;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:sVT:0h", lopts, NULL)) != -1) {
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
			o.fmt_given = true;
			break;
		case 's':
			o.stats = true;
			break;
		case 'V':
			o.verify = true;
			break;
		case 'T':
			if (o.files_from != NULL)
				usage_error("--files-from given twice (put "
					    "the names in one list)", NULL);
			o.files_from = optarg;
			break;
		case '0':
			o.null = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			fc_version_print(PROG);
			return 0;
		case OPT_TO_CH:
			o.ch_url = optarg;
			break;
		case OPT_CH_DB:
			o.ch_db = optarg;
			break;
		case ':':
			usage_error("option needs a value: '", argv[optind - 1]);
			break;
		default:
			usage_error("unknown option '", argv[optind - 1]);
		}
	}
	if (o.stats && o.verify)
		usage_error("--stats and --verify do not go together", NULL);
	if (o.fmt_given && (o.stats || o.verify))
		usage_error(o.stats ? "--format applies to records; --stats "
				      "prints its own key=value lines (drop "
				      "--format)" :
				      "--format applies to records; --verify "
				      "prints its own lines (drop --format)",
			    NULL);
	if (o.ch_url != NULL && (o.stats || o.verify || o.fmt_given))
		usage_error("--to-clickhouse loads records and prints a summary: "
			    "drop --stats, --verify and --format", NULL);
	if (o.ch_db != NULL && o.ch_url == NULL)
		usage_error("--database applies to --to-clickhouse", NULL);
	if (o.ch_url != NULL)
		o.fmt = FMT_CSV; /* no table: no scan for IPv6 widths */
	if (o.null && o.files_from == NULL)
		usage_error("--null applies to --files-from", NULL);
	if (optind == argc && o.files_from == NULL)
		usage_error("no FILE or DIR given", NULL);
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			usage_error("'-' is not a file: to read names from "
				    "standard input, use --files-from -", NULL);

	/* Every input is found and checked before the first byte of output,
	 * so an unreadable one is never reported after a header. */
	if (o.files_from != NULL)
		input_list(&in, o.files_from, o.null);
	for (int i = optind; i < argc; i++)
		input_arg(&in, argv[i]);
	input_dedup(&in);
	ret = in.ret;
	for (size_t i = 0; i < in.n; i++) {
		if (in.v[i].skip)
			continue;
		if (input_check(&o, &in.v[i])) {
			n_ok++;
		} else {
			in.v[i].skip = true;
			ret = 1;
		}
	}
	if (in.n > 1)
		qsort(in.v, in.n, sizeof(*in.v), input_cmp);
	if (o.ch_url != NULL) {
		const char **paths = calloc(in.n + 1, sizeof(*paths));
		size_t k = 0;

		if (paths == NULL)
			oom();
		for (size_t i = 0; i < in.n; i++)
			if (!in.v[i].skip)
				paths[k++] = in.v[i].path;
		int r = fcr_clickhouse_load(o.ch_url, o.ch_db, paths, k);

		ret = r == 2 ? 2 : ret | r; /* 2: a bad URL or database */
		free(paths);
		n_ok = 0;
		for (size_t i = 0; i < in.n; i++)
			in.v[i].skip = true;
	}
	if (n_ok > 0 && !o.stats && !o.verify)
		print_header(o.fmt);
	for (size_t i = 0; i < in.n; i++)
		if (!in.v[i].skip)
			ret |= read_file(&o, in.v[i].path);
	for (size_t i = 0; i < in.n; i++)
		free(in.v[i].path);
	free(in.v);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write output: %s\n",
			strerror(errno));
		ret = 1;
	}
	return ret;
}

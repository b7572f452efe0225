/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read: print flowtuple files (.ft.zst) as a table, CSV, JSON lines
 * or Corsaro's cors2ascii text; print each interval's accounting (--stats);
 * check files completely (--verify); or answer a question of them: a
 * filter, a grouping with exact distinct counts, top N, re-intervaling, a
 * time range, in parallel, incrementally (--state), with anonymised
 * addresses. This file reads the options and runs the right part: inputs.c
 * finds the files, dump.c prints records, filter.c compiles --filter,
 * query.c aggregates, output.c prints rows, state.c keeps --state.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fc_anon.h"
#include "fc_version.h"
#include "fcr_clickhouse.h"
#include "fr.h"

enum {
	OPT_VERSION = 256, OPT_FILTER, OPT_GROUP, OPT_DISTINCT, OPT_TOP,
	OPT_ORDER, OPT_INTERVAL, OPT_FROM, OPT_TO, OPT_JOBS, OPT_STATE,
	OPT_ANON, OPT_TO_CH, OPT_CH_DB,
};

static const char usage_text[] =
"Usage: " PROG " [options] FILE|DIR...\n"
"       " PROG " [options] --files-from LIST [FILE|DIR...]\n"
"       " PROG " [--filter EXPR] [--group-by FIELDS] [--count-distinct FIELD]...\n"
"                    [--top N] [--order COLUMN] [--interval SECS|all]\n"
"                    [--from T] [--to T] [--jobs N] [--state FILE]\n"
"                    [--anonymize KEYFILE] [--format FMT] FILE|DIR...\n"
"\n"
"Print flowcap flowtuple files (.ft.zst, format versions 1.x and 2.x), or\n"
"answer a question of them (a query: --group-by, --count-distinct, --top,\n"
"--order, --interval or --state).\n"
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
"  -f, --format FMT  output format:\n"
"                      table    aligned columns (default on a terminal);\n"
"                               address columns are 39 wide when any\n"
"                               record is IPv6, so table reads its\n"
"                               inputs twice\n"
"                      csv      interval_start,class,src_ip,dst_ip,src_port,\n"
"                               dst_port,protocol,ttl,tcp_flags,ip_len,packets\n"
"                               with one header line (default otherwise)\n"
"                      json     one JSON object per record, same field names\n"
"                      corsaro  the text of Corsaro's cors2ascii: per interval\n"
"                               and class (backscatter, icmpreq, other)\n"
"                               src|dst|sport|dport|proto|ttl|0xflags|len,count\n"
"                    A query prints its own columns (below) as table, csv\n"
"                    or json.\n"
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
"\n"
"Selecting (records and queries):\n"
"      --filter EXPR only records that match EXPR (doc/flowcap-read.md):\n"
"                    proto tcp|udp|icmp|icmp6|sctp|N, [src|dst] ip ADDR,\n"
"                    [src|dst] net CIDR, [src|dst] port [CMP] N, ttl CMP N,\n"
"                    len CMP N, packets CMP N, flags LETTERS (FSRPAUEC),\n"
"                    class backscatter|icmpreq|other, ipv4, ipv6, label NAME,\n"
"                    vlan N; and, or, not, ( ); CMP: = == != < <= > >=\n"
"      --from T, --to T  only intervals whose start is in [from, to); T is\n"
"                    Unix seconds or ISO 8601 UTC (2023-11-14T22:00:00Z)\n"
"      --anonymize KEYFILE  Crypto-PAn prefix-preserving anonymisation of\n"
"                    both addresses after the filter (which sees the real\n"
"                    ones); KEYFILE holds 32 bytes, raw or as 64 hex digits\n"
"      --jobs N      decode, filter and aggregate N files at once (default:\n"
"                    the number of CPUs); the output is the same for any N\n"
"\n"
"Query:\n"
"      --group-by FIELDS  comma-separated: class src_ip dst_ip src_port\n"
"                    dst_port protocol ttl tcp_flags ip_len label vlan, and\n"
"                    src_ip/N, dst_ip/N (IPv4 prefix up to 32, IPv6 up to\n"
"                    128), src_ip/N4/N6 (src_ip/24/64: both). Without it, a\n"
"                    query groups on every field of the record (label and\n"
"                    vlan too when an input has them). A label is its\n"
"                    name, whatever id a file gave it; a file without\n"
"                    labels (VLAN IDs) reads as '' (0), as the dump prints\n"
"      --count-distinct FIELD  add column distinct_FIELD: the exact number\n"
"                    of distinct values of FIELD per group (repeatable)\n"
"      --top N       the N groups with the largest --order column per output\n"
"                    interval; ties by the group fields, ascending\n"
"      --order COLUMN  packets (default), records or distinct_FIELD;\n"
"                    largest first\n"
"      --interval SECS|all  aligned output intervals of SECS seconds (a\n"
"                    multiple of the files' interval length), or all in\n"
"                    one; default: the files' own intervals\n"
"      --state FILE  incremental: remember the files read and their partial\n"
"                    results in FILE; the next run of the same query reads\n"
"                    only new or changed files and prints the full answer\n"
"  A query prints interval_start (not with --interval all), the group\n"
"  fields in the order given (a prefix as a.b.c.0/24), records, packets,\n"
"  then distinct_FIELD per --count-distinct; sorted by interval, then the\n"
"  --order column (largest first, when given), then the group fields.\n"
"\n"
"      --to-clickhouse URL  load the files into ClickHouse (its HTTP\n"
"                    interface, http://HOST:8123/) instead of printing: every\n"
"                    interval exactly once, however often it is run or\n"
"                    interrupted (doc/clickhouse.md); the tables are those of\n"
"                    share/flowcap/clickhouse/flowtuple.sql\n"
"      --database DB  the database of those tables (default: the server's)\n"
"  -h, --help        this text\n"
"      --version     print the version and exit\n"
"\n"
"ICMP type and code are printed as src_port and dst_port (and matched by\n"
"port). IPv6 addresses are printed as RFC 5952 text. On a terminal, stderr\n"
"shows the progress of a query (files, records/s, time left).\n"
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
"  " PROG " -f json run.ft.zst | jq 'select(.packets > 100)'\n"
"  # /24s sending the most SYN+ACK backscatter, per hour\n"
"  " PROG " --filter 'class backscatter and flags SA' --group-by src_ip/24 \\\n"
"      --interval 3600 --top 10 /data/ft\n"
"  # distinct sources hitting port 23, per minute\n"
"  " PROG " --filter 'proto tcp and dst port 23' --count-distinct src_ip \\\n"
"      --group-by dst_port --interval 60 /data/ft\n"
"  # top talkers for NTP over everything\n"
"  " PROG " --filter 'proto udp and port 123' --group-by src_ip \\\n"
"      --interval all --top 10 /data/ft\n";

struct opts {
	enum fr_fmt fmt;
	bool fmt_given;
	bool stats;
	bool verify;
	bool null;       /* --files-from names end with NUL */
	const char *files_from;
	bool query;      /* an aggregation option was given */
	const char *ch_url;  /* --to-clickhouse */
	const char *ch_db;   /* --database */
	uint8_t key[FC_ANON_KEY_LEN];
};

static void usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s%s%s\n", msg, arg ? arg : "",
		arg ? "'" : "");
	fprintf(stderr, "Try '" PROG " --help' for the options.\n");
	exit(2);
}

static void usage_msg(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	fprintf(stderr, "Try '" PROG " --help' for the options.\n");
	exit(2);
}

static uint64_t parse_count(const char *opt, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v == 0 ||
	    v > max) {
		char m[160];

		snprintf(m, sizeof(m), "%s takes a whole number from 1 to %"
			 PRIu64 ", not '%s'", opt, max, s);
		usage_msg(m);
	}
	return v;
}

/* Unix seconds, or ISO 8601 UTC: 2023-11-14T22:00:00Z, 2023-11-14T22:00Z,
 * 2023-11-14. */
static uint64_t parse_time(const char *opt, const char *s)
{
	static const char *const fmts[] = {"%Y-%m-%dT%H:%M:%SZ",
					   "%Y-%m-%dT%H:%MZ", "%Y-%m-%d"};
	char *end;

	if (s[0] >= '0' && s[0] <= '9' && strchr(s, '-') == NULL) {
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 10);
		if (*end == '\0' && errno == 0)
			return v;
	}
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		end = strptime(s, fmts[i], &tm);
		if (end != NULL && *end == '\0') {
			time_t t = timegm(&tm);

			if (t >= 0)
				return (uint64_t)t;
		}
	}
	{
		char m[200];

		snprintf(m, sizeof(m), "%s: '%s' is not a time (Unix seconds, "
			 "or ISO 8601 UTC as 2023-11-14T22:00:00Z)", opt, s);
		usage_msg(m);
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Printing records with --jobs: files are printed to memory in parallel  */
/* and written out in input order, at most 2N files ahead.                */

struct dump_run {
	const struct fr_dump *o;
	struct fr_inputs *in;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	size_t next, printed;
	size_t window;
	char **buf;
	size_t *len;
	int *rc;
	bool *done;
};

static void *dump_job(void *arg)
{
	struct dump_run *d = arg;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		size_t i;
		FILE *f;

		while (d->next < d->in->n && d->next >= d->printed + d->window)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->next >= d->in->n)
			break;
		i = d->next++;
		pthread_mutex_unlock(&d->lock);
		f = open_memstream(&d->buf[i], &d->len[i]);
		if (f == NULL)
			fr_oom();
		d->rc[i] = d->in->v[i].skip ? 0 : fr_dump_file(d->o, f,
							       d->in->v[i].path);
		if (fclose(f) != 0)
			fr_oom();
		pthread_mutex_lock(&d->lock);
		d->done[i] = true;
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static int dump_all(const struct fr_dump *o, struct fr_inputs *in,
		    unsigned jobs)
{
	struct dump_run d = {.o = o, .in = in};
	pthread_t *tid;
	int ret = 0;

	if (jobs <= 1 || in->n <= 1 || o->stats || o->verify ||
	    o->anon != NULL) {
		for (size_t i = 0; i < in->n; i++)
			if (!in->v[i].skip)
				ret |= fr_dump_file(o, stdout, in->v[i].path);
		return ret;
	}
	d.window = 2 * (size_t)jobs;
	d.buf = calloc(in->n, sizeof(*d.buf));
	d.len = calloc(in->n, sizeof(*d.len));
	d.rc = calloc(in->n, sizeof(*d.rc));
	d.done = calloc(in->n, sizeof(*d.done));
	tid = calloc(jobs, sizeof(*tid));
	if (!d.buf || !d.len || !d.rc || !d.done || !tid)
		fr_oom();
	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	for (unsigned j = 0; j < jobs; j++)
		if (pthread_create(&tid[j], NULL, dump_job, &d) != 0) {
			fprintf(stderr, PROG ": --jobs: cannot start a thread: "
				"%s\n", strerror(errno));
			exit(1);
		}
	pthread_mutex_lock(&d.lock);
	while (d.printed < in->n) {
		size_t i = d.printed;

		while (!d.done[i])
			pthread_cond_wait(&d.cond, &d.lock);
		pthread_mutex_unlock(&d.lock);
		fwrite(d.buf[i], 1, d.len[i], stdout);
		free(d.buf[i]);
		ret |= d.rc[i];
		pthread_mutex_lock(&d.lock);
		d.printed++;
		pthread_cond_broadcast(&d.cond);
	}
	pthread_mutex_unlock(&d.lock);
	for (unsigned j = 0; j < jobs; j++)
		pthread_join(tid[j], NULL);
	pthread_mutex_destroy(&d.lock);
	pthread_cond_destroy(&d.cond);
	free(d.buf);
	free(d.len);
	free(d.rc);
	free(d.done);
	free(tid);
	return ret;
}

/* ---------------------------------------------------------------------- */

/* The classification columns (label, vlan): a file written without
 * --classify (--key-vlan) reads as an empty label (VLAN 0), as the dump
 * prints it. When no input has the column a query asks for, say so: the
 * answer is right, but likely not what was meant. */
static void check_columns(const struct fr_query *q, const struct fr_inputs *in)
{
	unsigned need = fr_filter_needs(q->filter), have = 0;

	for (unsigned i = 0; i < q->ng; i++)
		need |= q->g[i].f == F_LABEL ? FR_NEED_LABEL :
			q->g[i].f == F_VLAN ? FR_NEED_VLAN : 0;
	for (unsigned i = 0; i < q->nd; i++)
		need |= q->d[i] == F_LABEL ? FR_NEED_LABEL :
			q->d[i] == F_VLAN ? FR_NEED_VLAN : 0;
	for (size_t i = 0; i < in->n; i++)
		if (!in->v[i].skip)
			have |= (in->v[i].has_label ? FR_NEED_LABEL : 0) |
				(in->v[i].has_vlan ? FR_NEED_VLAN : 0);
	if (need & ~have & FR_NEED_LABEL)
		fprintf(stderr, PROG ": note: no input has labels (flowcap "
			"writes them with --classify): every record's label "
			"is empty\n");
	if (need & ~have & FR_NEED_VLAN)
		fprintf(stderr, PROG ": note: no input has VLAN IDs (flowcap "
			"writes them with --key-vlan): every record's vlan is "
			"0\n");
}

static void check_interval(const struct fr_query *q, const struct fr_inputs *in)
{
	if (q->interval == FR_IV_OWN || q->interval == FR_IV_ALL)
		return;
	for (size_t i = 0; i < in->n; i++) {
		const struct fr_input *x = &in->v[i];

		if (x->skip || x->interval_len == 0 ||
		    q->interval % x->interval_len == 0)
			continue;
		fprintf(stderr, PROG ": --interval %" PRIu64 " is not a "
			"multiple of the interval length of %s (%" PRIu32
			" s): use a multiple of %" PRIu32 ", or 'all'\n",
			q->interval, x->path, x->interval_len,
			x->interval_len);
		exit(2);
	}
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
		{"filter", required_argument, NULL, OPT_FILTER},
		{"group-by", required_argument, NULL, OPT_GROUP},
		{"count-distinct", required_argument, NULL, OPT_DISTINCT},
		{"top", required_argument, NULL, OPT_TOP},
		{"order", required_argument, NULL, OPT_ORDER},
		{"interval", required_argument, NULL, OPT_INTERVAL},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"jobs", required_argument, NULL, OPT_JOBS},
		{"state", required_argument, NULL, OPT_STATE},
		{"anonymize", required_argument, NULL, OPT_ANON},
		{"to-clickhouse", required_argument, NULL, OPT_TO_CH},
		{"database", required_argument, NULL, OPT_CH_DB},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.fmt = isatty(STDOUT_FILENO) ? FMT_TABLE : FMT_CSV};
	struct fr_query q = {.to = UINT64_MAX};
	struct fr_inputs in = {0};
	const char *order = NULL, *anon_path = NULL;
	char err[1024];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n_ok;
	int c, ret;

	q.jobs = ncpu > 0 ? (unsigned)ncpu : 1;
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
		case OPT_FILTER:
			if (q.filter != NULL)
				usage_msg("--filter given twice (join the "
					  "expressions with 'and')");
			q.filter_text = optarg;
			q.filter = fr_filter_compile(optarg, err, sizeof(err));
			if (q.filter == NULL) {
				fprintf(stderr, PROG ": %s\n", err);
				return 2;
			}
			break;
		case OPT_GROUP:
			if (q.grouped)
				usage_msg("--group-by given twice (list the "
					  "fields in one, comma-separated)");
			if (fr_query_parse_group(&q, optarg, err,
						 sizeof(err)) != 0)
				usage_msg(err);
			o.query = true;
			break;
		case OPT_DISTINCT:
			if (fr_query_parse_distinct(&q, optarg, err,
						    sizeof(err)) != 0)
				usage_msg(err);
			o.query = true;
			break;
		case OPT_TOP:
			q.top = parse_count("--top", optarg, UINT32_MAX);
			o.query = true;
			break;
		case OPT_ORDER:
			order = optarg;
			o.query = true;
			break;
		case OPT_INTERVAL:
			q.interval = strcmp(optarg, "all") == 0 ?
				FR_IV_ALL :
				parse_count("--interval", optarg,
					    UINT32_MAX);
			o.query = true;
			break;
		case OPT_FROM:
			q.from = parse_time("--from", optarg);
			break;
		case OPT_TO:
			q.to = parse_time("--to", optarg);
			break;
		case OPT_JOBS:
			q.jobs = (unsigned)parse_count("--jobs", optarg, 1024);
			break;
		case OPT_STATE:
			q.state = optarg;
			o.query = true;
			break;
		case OPT_ANON:
			anon_path = optarg;
			break;
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
	if (o.ch_url != NULL && (o.stats || o.verify || o.fmt_given ||
				 o.query || anon_path != NULL))
		usage_error("--to-clickhouse loads records and prints a summary: "
			    "drop --stats, --verify, --format, --anonymize and "
			    "query options", NULL);
	if (o.ch_db != NULL && o.ch_url == NULL)
		usage_error("--database applies to --to-clickhouse", NULL);
	if (o.fmt_given && (o.stats || o.verify))
		usage_error(o.stats ? "--format applies to records; --stats "
				      "prints its own key=value lines (drop "
				      "--format)" :
				      "--format applies to records; --verify "
				      "prints its own lines (drop --format)",
			    NULL);
	if (o.verify && (q.filter || q.from || q.to != UINT64_MAX ||
			 anon_path || o.query))
		usage_msg("--verify checks whole files: it takes no --filter, "
			  "--from, --to, --anonymize or query option");
	if (o.stats && (q.filter || anon_path || o.query))
		usage_msg("--stats prints accounting, not records: it takes no "
			  "--filter, --anonymize or query option (--from and "
			  "--to apply)");
	if (o.query && o.fmt == FMT_CORSARO)
		usage_msg("--format corsaro prints records; a query prints "
			  "table, csv or json");
	if (q.from >= q.to)
		usage_msg("--from must be before --to");
	if (order != NULL &&
	    fr_query_parse_order(&q, order, err, sizeof(err)) != 0)
		usage_msg(err);
	if (q.top > 0 && q.order == ORD_NONE)
		q.order = ORD_PACKETS;
	if (o.null && o.files_from == NULL)
		usage_error("--null applies to --files-from", NULL);
	if (optind == argc && o.files_from == NULL)
		usage_error("no FILE or DIR given", NULL);
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0)
			usage_error("'-' is not a file: to read names from "
				    "standard input, use --files-from -", NULL);
	if (anon_path != NULL) {
		if (fc_anon_key_load(anon_path, o.key, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": --anonymize %s\n", err);
			return 2;
		}
		q.anon_key = o.key;
	}
	q.fmt = o.fmt;
	q.progress = isatty(STDERR_FILENO);

	/* Every input is found and checked before the first byte of output,
	 * so an unreadable one is never reported after a header. */
	if (o.files_from != NULL)
		fr_inputs_list(&in, o.files_from, o.null);
	for (int i = optind; i < argc; i++)
		fr_inputs_arg(&in, argv[i]);
	fr_inputs_dedup(&in);
	n_ok = fr_inputs_check(&in, !o.query && o.fmt == FMT_TABLE &&
					    !o.stats && !o.verify &&
					    o.ch_url == NULL);
	ret = in.ret;
	if (o.ch_url != NULL) {
		const char **paths = calloc(in.n + 1, sizeof(*paths));
		size_t k = 0;

		if (paths == NULL) {
			fprintf(stderr, PROG ": out of memory\n");
			return 1;
		}
		for (size_t i = 0; i < in.n; i++)
			if (!in.v[i].skip)
				paths[k++] = in.v[i].path;
		int r = fcr_clickhouse_load(o.ch_url, o.ch_db, paths, k);

		free(paths);
		fr_filter_free(q.filter);
		fr_inputs_free(&in);
		return r == 2 ? 2 : ret | r; /* 2: a bad URL or database */
	}
	if (o.query && !q.grouped) {
		bool label = false, vlan = false;

		for (size_t i = 0; i < in.n; i++) {
			label |= !in.v[i].skip && in.v[i].has_label;
			vlan |= !in.v[i].skip && in.v[i].has_vlan;
		}
		fr_query_group_all(&q, label, vlan);
	}
	check_columns(&q, &in);
	check_interval(&q, &in);
	if (o.query) {
		/* No result, not even its header, when no input could be
		 * read (each was reported); an empty directory still gives
		 * the query's columns. */
		if (n_ok > 0 || ret == 0)
			ret |= fr_query_run(&q, &in);
	} else {
		struct fr_dump d = {.fmt = o.fmt, .stats = o.stats,
				    .verify = o.verify, .filter = q.filter,
				    .from = q.from, .to = q.to};
		bool wide = false;

		for (size_t i = 0; i < in.n; i++) {
			wide |= !in.v[i].skip && in.v[i].has_v6;
			fr_col_label |= !in.v[i].skip && in.v[i].has_label;
			fr_col_vlan |= !in.v[i].skip && in.v[i].has_vlan;
		}
		if (q.anon_key != NULL) {
			d.anon = fc_anon_create(q.anon_key);
			if (d.anon == NULL) {
				fprintf(stderr, PROG ": --anonymize: OpenSSL "
					"cannot set up AES-128\n");
				return 1;
			}
		}
		if (n_ok > 0 && !o.stats && !o.verify)
			fr_dump_header(stdout, o.fmt, wide);
		ret |= dump_all(&d, &in, q.jobs);
		fc_anon_free(d.anon);
	}
	fr_filter_free(q.filter);
	fr_inputs_free(&in);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": cannot write output: %s\n",
			strerror(errno));
		ret = 1;
	}
	return ret;
}

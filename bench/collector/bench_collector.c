/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-collector: the collector's work for one interval, timed on one
 * core: fc_merge_tables over W sealed worker tables, then one interval
 * written with the ftfile writer (open, add, close: trailer, fsync, rename,
 * fsync of the directory). The tables are filled from the generator until
 * their union holds exactly the requested number of keys; each key goes to
 * the worker its symmetric hash picks (as flowcap shards traces), and a
 * share of keys (--overlap) is also seen by a second worker, as with
 * several ports or asymmetric routing. Reports the median merge, write
 * and total seconds, and bytes per record on disk. By default the merge
 * hands its records to the writer in bursts as it makes them
 * (fc_merge_tables_each, fc_ft_writer_add_records), as flowcap's
 * collector does with a file sink alone; --whole merges the interval into
 * one array first and writes that (fc_merge_tables,
 * fc_ft_writer_add_interval). A last table gives
 * bytes per record for the generator's default mix. It uses public APIs
 * only and does not model the hand-off between threads.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "fc_flowtable.h"
#include "fc_ftfile.h"
#include "fc_gen.h"
#include "fc_merge.h"
#include "fc_parse.h"
#include "fc_tuple.h"

#define MAX_LIST 8
#define MAX_W 64

struct opts {
	uint64_t keys[MAX_LIST];
	unsigned n_keys;
	uint64_t workers[MAX_LIST];
	unsigned n_workers;
	double overlap;
	unsigned runs;
	int level;
	uint64_t seed;
	const char *dir;
	bool default_mix;
	bool whole;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct fc_gen *make_gen(const struct opts *o, uint64_t flows,
			       double zipf, uint64_t packets)
{
	struct fc_gen_cfg cfg;
	char err[256];
	struct fc_gen *g;

	fc_gen_cfg_init(&cfg);
	cfg.seed = o->seed;
	cfg.flows = (uint32_t)flows;
	cfg.zipf = zipf;
	cfg.packets = packets;
	if (fc_gen_cfg_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-collector: generator: %s\n", err);
		return NULL;
	}
	g = fc_gen_create(&cfg);
	if (g == NULL)
		fprintf(stderr, "bench-collector: cannot create the generator "
			"(%s)\n", strerror(errno));
	return g;
}

/* Next parsed key from the generator; 0, or -ENODATA at the end. */
static int next_key(struct fc_gen *g, struct fc_ftkey *k)
{
	uint8_t frame[FC_GEN_FRAME_MAX];

	for (;;) {
		uint32_t len;
		uint64_t ts;
		int rc = fc_gen_next(g, frame, sizeof(frame), &len, &ts);

		if (rc != 0)
			return rc;
		if (fc_parse_pkt(frame, len, FC_DLT_EN10MB, k) == FC_PARSE_OK)
			return 0;
	}
}

/*
 * Fill w tables so that their union is exactly u keys: uniform draws from
 * 2u flows (the default mix otherwise) until u distinct keys have been
 * seen. A key goes to worker fc_ftkey_hash_sym % w; a new key is also
 * given to a second worker with probability overlap.
 */
static int fill(const struct opts *o, struct fc_flowtable **tabs, unsigned w,
		uint64_t u, uint64_t *pkts)
{
	struct fc_flowtable *uni = fc_flowtable_create(u);
	struct fc_gen *g = make_gen(o, 2 * u > FC_GEN_FLOWS_MAX ?
				       FC_GEN_FLOWS_MAX : 2 * u, 0, 0);
	uint64_t thr = (uint64_t)(o->overlap * 18446744073709551615.0);
	struct fc_ftkey k;
	int rc = 0;

	*pkts = 0;
	if (uni == NULL || g == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	while (uni->n_keys < u) {
		uint64_t before = uni->n_keys;
		unsigned owner;

		rc = next_key(g, &k);
		if (rc != 0)
			goto out;
		fc_flowtable_add_burst(uni, &k, 1);
		/* Symmetric hash: how flowcap shards trace input. */
		owner = fc_ftkey_hash_sym(&k) % w;
		fc_flowtable_add_burst(tabs[owner], &k, 1);
		(*pkts)++;
		if (uni->n_keys > before && w > 1 && rng_next() < thr) {
			unsigned other = (owner + 1 +
					  (unsigned)(rng_next() % (w - 1))) % w;

			fc_flowtable_add_burst(tabs[other], &k, 1);
			(*pkts)++;
		}
	}
out:
	fc_gen_free(g);
	fc_flowtable_free(uni);
	return rc;
}

/* The writer's buffers and zstd context, kept between files as flowcap's
 * file sink keeps them. */
static struct fc_ft_wcache *wcache;

struct timing {
	double merge_s, write_s, total_s, cpu_s, mcpu_s, wcpu_s;
	uint64_t records, bytes, pkts;
};

/* fc_merge_fn of the streamed run: the burst to the writer, its CPU time
 * counted as the write's. */
struct stream_ctx {
	struct fc_ft_writer *wr;
	uint64_t cpu, wall;
};

static int stream_add(void *ctx, const struct fc_ft_record *recs, uint64_t n)
{
	struct stream_ctx *s = ctx;
	uint64_t c = cpu_ns(), t = bench_mono_ns();
	int st = fc_ft_writer_add_records(s->wr, recs, n);

	s->cpu += cpu_ns() - c;
	s->wall += bench_mono_ns() - t;
	return st == FC_FT_OK ? 0 : st;
}

static int one_run(const struct opts *o, struct fc_merge *m,
		   struct fc_flowtable **tabs, unsigned w, unsigned run,
		   struct timing *t)
{
	const struct fc_ft_record *recs = NULL;
	struct fc_ft_file_info info = {0};
	struct fc_ft_interval iv = {0};
	struct fc_ft_writer *wr;
	char path[4096];
	struct stat st;
	uint64_t n_out = 0, pkts = 0, n0, n1 = 0, n2, c0, c1 = 0, co, no;
	int rc = 0, status;

	snprintf(path, sizeof(path), "%s/bench-w%u-r%u.ft.zst", o->dir, w,
		 run);
	unlink(path);
	info.kind = FC_FT_KIND_FLOWTUPLE;
	info.interval_len = 60;
	info.flags = FC_FT_F_ALIGNED;
	info.created = 1700000000;
	snprintf(info.monitor, sizeof(info.monitor), "bench");

	iv.start = 1700000000;
	iv.end = iv.start + 59;
	c0 = cpu_ns();
	n0 = bench_mono_ns();
	if (o->whole) {
		rc = fc_merge_tables(m, tabs, w, &recs, &n_out, &pkts);
		n1 = bench_mono_ns();
		c1 = cpu_ns();
	}
	/* The writer is opened in the write's time. */
	co = cpu_ns();
	no = bench_mono_ns();
	wr = fc_ft_writer_open_cached(path, &info, wcache, &status);
	if (wr == NULL) {
		fprintf(stderr, "bench-collector: %s: %s\n", path,
			fc_ft_strerror(status));
		return -EIO;
	}
	if (o->level != FC_FT_LEVEL_DEFAULT)
		fc_ft_writer_set_level(wr, o->level);
	if (!o->whole) {
		struct stream_ctx sc = {.wr = wr};

		sc.cpu = cpu_ns() - co;
		sc.wall = bench_mono_ns() - no;
		rc = fc_merge_tables_each(m, tabs, w, stream_add, &sc, &n_out,
					  &pkts);
		/* The bursts' time is the write's. */
		n1 = bench_mono_ns() - sc.wall;
		c1 = cpu_ns() - sc.cpu;
	}
	if (rc != 0) {
		fprintf(stderr, "bench-collector: merge: %s\n",
			rc > -4096 ? strerror(-rc) : fc_ft_strerror(rc));
		fc_ft_writer_abort(wr);
		return rc;
	}
	iv.rx_pkts = pkts;
	iv.rec_pkts = pkts;
	if (o->whole)
		status = fc_ft_writer_add_interval(wr, &iv, recs, n_out);
	else
		status = fc_ft_writer_end_interval(wr, &iv);
	if (status != FC_FT_OK) {
		fprintf(stderr, "bench-collector: %s: %s\n", path,
			fc_ft_strerror(status));
		fc_ft_writer_abort(wr);
		return -EIO;
	}
	status = fc_ft_writer_close(wr);
	n2 = bench_mono_ns();
	t->cpu_s = (double)(cpu_ns() - c0) / 1e9;
	t->mcpu_s = (double)(c1 - c0) / 1e9;
	t->wcpu_s = t->cpu_s - t->mcpu_s;
	if (status != FC_FT_OK) {
		fprintf(stderr, "bench-collector: %s: %s\n", path,
			fc_ft_strerror(status));
		return -EIO;
	}
	if (stat(path, &st) != 0) {
		perror(path);
		return -EIO;
	}
	t->merge_s = (double)(n1 - n0) / 1e9;
	t->write_s = (double)(n2 - n1) / 1e9;
	t->total_s = (double)(n2 - n0) / 1e9;
	t->records = n_out;
	t->bytes = (uint64_t)st.st_size;
	t->pkts = pkts;
	unlink(path);
	return 0;
}

static int bench_tables(const struct opts *o, struct fc_merge *m,
			struct fc_flowtable **tabs, unsigned w,
			const char *label)
{
	double ms[64], ws[64], ts[64], cs[64], mc[64], wc[64];
	struct timing t = {0};
	unsigned runs = o->runs > 64 ? 64 : o->runs;

	/* Warm-up: the merger's buffer is kept across intervals. */
	if (one_run(o, m, tabs, w, 999, &t) != 0)
		return -1;
	for (unsigned r = 0; r < runs; r++) {
		if (one_run(o, m, tabs, w, r, &t) != 0)
			return -1;
		ms[r] = t.merge_s;
		ws[r] = t.write_s;
		ts[r] = t.total_s;
		cs[r] = t.cpu_s;
		mc[r] = t.mcpu_s;
		wc[r] = t.wcpu_s;
	}
	printf("| %s | %" PRIu64 " | %" PRIu64 " | %.3f | %.3f | %.3f | %.3f "
	       "| %.3f | %.3f | %.0f | %.1f | %.2f |\n", label, t.records,
	       t.pkts, bench_median(ms, runs), bench_median(ws, runs),
	       bench_median(ts, runs), bench_median(mc, runs),
	       bench_median(wc, runs), bench_median(cs, runs),
	       bench_median(cs, runs) * 1e9 / (double)t.records,
	       (double)t.bytes / 1048576.0,
	       (double)t.bytes / (double)t.records);
	fflush(stdout);
	return 0;
}

static int run_union(const struct opts *o, struct fc_merge *m, uint64_t u,
		     unsigned w)
{
	struct fc_flowtable *tabs[MAX_W] = {0};
	uint64_t per = (uint64_t)((double)u / w * (1.0 + o->overlap) * 1.2) +
		       4096, pkts = 0, in_tabs = 0, t0;
	char label[64], us[32];
	int rc = -1;

	if (per > u)
		per = u;
	for (unsigned i = 0; i < w; i++) {
		tabs[i] = fc_flowtable_create(per);
		if (tabs[i] == NULL) {
			fprintf(stderr, "bench-collector: cannot create %u "
				"tables of %" PRIu64 " keys\n", w, per);
			goto out;
		}
	}
	t0 = bench_mono_ns();
	if (fill(o, tabs, w, u, &pkts) != 0)
		goto out;
	for (unsigned i = 0; i < w; i++) {
		in_tabs += tabs[i]->n_keys;
		if (tabs[i]->tbl_full) {
			fprintf(stderr, "bench-collector: table %u full: %" PRIu64 " keys of %" PRIu64 ", tbl_full %" PRIu64 "\n", i, tabs[i]->n_keys, tabs[i]->max_keys, tabs[i]->tbl_full);
			goto out;
		}
	}
	fprintf(stderr, "  (W=%u: %" PRIu64 " keys in tables for a union of "
		"%" PRIu64 ", %.1f%% in two tables; filled in %.1f s)\n", w,
		in_tabs, u, 100.0 * (double)(in_tabs - u) / (double)u,
		(double)(bench_mono_ns() - t0) / 1e9);
	snprintf(label, sizeof(label), "%s | %u",
		 bench_count_str(us, sizeof(us), u), w);
	rc = bench_tables(o, m, tabs, w, label);
out:
	for (unsigned i = 0; i < w; i++)
		fc_flowtable_free(tabs[i]);
	return rc;
}

/* The generator's default configuration (flowcap-gen with no options) into
 * one table: bytes per record of the files flowcap writes for it. */
static int run_default_mix(const struct opts *o, struct fc_merge *m)
{
	struct fc_gen_cfg d;
	struct fc_gen *g;
	struct fc_flowtable *t = fc_flowtable_create(100000);
	struct fc_ftkey k;
	int rc = -1;

	fc_gen_cfg_init(&d);
	d.seed = o->seed;
	g = fc_gen_create(&d);
	if (g == NULL || t == NULL)
		goto out;
	while (next_key(g, &k) == 0)
		fc_flowtable_add_burst(t, &k, 1);
	rc = bench_tables(o, m, &t, 1, "default mix | 1");
out:
	fc_gen_free(g);
	fc_flowtable_free(t);
	return rc;
}

static int parse_list(const char *s, uint64_t *v, unsigned *n, uint64_t max)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST || bench_parse_u64(tok, &v[*n]) != 0 ||
		    v[*n] == 0 || v[*n] > max)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bench-collector [options]\n"
"Seconds for the collector's work on one interval: fc_merge_tables over W\n"
"worker tables plus writing the interval (fsync and rename included).\n"
"\n"
"  -k, --keys LIST      distinct keys of the interval (union over the\n"
"                       workers), comma separated (default 1M,10M)\n"
"  -w, --workers LIST   worker tables (default 2,4,14)\n"
"      --overlap FRAC   share of keys also seen by a second worker\n"
"                       (default 0.1)\n"
"  -r, --runs N         timed runs; medians are reported (default 3)\n"
"  -d, --dir DIR        where the files are written (default: a new\n"
"                       directory under $TMPDIR or /tmp, removed at exit)\n"
"  -l, --level N        zstd level (default %d, flowcap's)\n"
"      --no-default-mix skip the generator-default-mix table\n"
"      --whole          merge the interval into one array, then write it\n"
"                       (default: the merge hands each burst of records to\n"
"                       the writer as it makes them)\n"
"      --seed N         generator seed (default 1)\n"
"  -h, --help\n"
"Numbers take k, M, G suffixes (x1000).\n", FC_FT_LEVEL_DEFAULT);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"keys", required_argument, NULL, 'k'},
		{"workers", required_argument, NULL, 'w'},
		{"overlap", required_argument, NULL, 'O'},
		{"runs", required_argument, NULL, 'r'},
		{"dir", required_argument, NULL, 'd'},
		{"level", required_argument, NULL, 'l'},
		{"no-default-mix", no_argument, NULL, 'N'},
		{"whole", no_argument, NULL, 'W'},
		{"seed", required_argument, NULL, 'E'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {
		.keys = {1000000, 10000000}, .n_keys = 2,
		.workers = {2, 4, 14}, .n_workers = 3,
		.overlap = 0.1, .runs = 3, .level = FC_FT_LEVEL_DEFAULT,
		.seed = 1, .default_mix = true,
	};
	char tmpl[4096], cpu[256], *end;
	struct fc_merge *m;
	bool own_dir = false;
	uint64_t v;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "k:w:r:d:l:h", lo, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'k':
			bad = parse_list(optarg, o.keys, &o.n_keys,
					 FC_GEN_FLOWS_MAX / 2);
			break;
		case 'w':
			bad = parse_list(optarg, o.workers, &o.n_workers,
					 MAX_W);
			break;
		case 'O':
			o.overlap = strtod(optarg, &end);
			bad = *end != '\0' || o.overlap < 0 || o.overlap > 1;
			break;
		case 'r':
			bad = bench_parse_u64(optarg, &v) || v < 1 || v > 64;
			o.runs = (unsigned)v;
			break;
		case 'd':
			o.dir = optarg;
			break;
		case 'l':
			o.level = (int)strtol(optarg, &end, 10);
			bad = *end != '\0';
			break;
		case 'N':
			o.default_mix = false;
			break;
		case 'W':
			o.whole = true;
			break;
		case 'E':
			bad = bench_parse_u64(optarg, &o.seed);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "bench-collector: bad option value "
				"'%s' (see --help)\n", optarg);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bench-collector: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (o.dir == NULL) {
		const char *t = getenv("TMPDIR");

		snprintf(tmpl, sizeof(tmpl), "%s/bench-collector.XXXXXX",
			 t && *t ? t : "/tmp");
		if (mkdtemp(tmpl) == NULL) {
			fprintf(stderr, "bench-collector: cannot create a "
				"directory %s: %s\n", tmpl, strerror(errno));
			return 1;
		}
		o.dir = tmpl;
		own_dir = true;
	}
	m = fc_merge_create();
	wcache = fc_ft_wcache_create();
	if (m == NULL || wcache == NULL) {
		fprintf(stderr, "bench-collector: out of memory\n");
		return 1;
	}
	bench_cpu_model(cpu, sizeof(cpu));
	printf("bench-collector: %s, files in %s, zstd level %d, overlap "
	       "%.0f%%, %u runs (median), %s\n\n", cpu, o.dir, o.level,
	       o.overlap * 100, o.runs, o.whole ? "whole interval merged, "
	       "then written" : "records to the writer in bursts (merge "
	       "CPU: without the writer's share)");
	printf("| keys | W | records | packets | merge s | write s | total s "
	       "| merge CPU s | write CPU s | CPU s | CPU ns/record "
	       "| file MiB | B/record |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);
	for (unsigned i = 0; i < o.n_keys && rc == 0; i++)
		for (unsigned j = 0; j < o.n_workers && rc == 0; j++)
			rc = run_union(&o, m, o.keys[i],
				       (unsigned)o.workers[j]);
	if (rc == 0 && o.default_mix)
		rc = run_default_mix(&o, m);
	fc_merge_free(m);
	fc_ft_wcache_free(wcache);
	if (own_dir)
		rmdir(o.dir);
	return rc ? 1 : 0;
}

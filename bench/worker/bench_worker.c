/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-worker: cycles per packet of the worker pipeline. Frames from the
 * generator (lib/gen) are laid out back to back in one buffer (only the
 * first --snap bytes of each: the parser reads headers only), then timed
 * exactly as a flowcap worker handles a burst: fc_count_parse of each
 * frame (lib/count), then fc_count_pipe (the previous burst's keys are
 * counted, this burst's lines asked for). Each run starts from a reset
 * table, as an interval does. Reports the median cycles/packet (TSC,
 * frequency measured against CLOCK_MONOTONIC) and Mpps per core over
 * several runs, for lists of flow counts, Zipf exponents and frame sizes.
 * --callgrind re-runs one configuration under valgrind and prints
 * instructions per packet. It uses public APIs only and does not model
 * the NIC, mbufs or the interval hand-off.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "fc_flowtable.h"
#include "fc_gen.h"
#include "fc_count.h"
#include "fc_parse.h"
#include "fc_tuple.h"

#define MAX_LIST 16
#define BURST_MAX FC_COUNT_BURST_MAX

struct opts {
	uint64_t flows[MAX_LIST];
	unsigned n_flows;
	double zipf[MAX_LIST];
	unsigned n_zipf;
	int size[MAX_LIST];
	unsigned n_size;
	unsigned runs;
	unsigned warmup;
	uint64_t packets;      /**< 0: max(min_packets, 2 * flows) */
	uint64_t min_packets;
	unsigned headroom_pct;
	unsigned snap;
	unsigned burst;
	uint64_t seed;
	bool callgrind;        /**< parent: run the child under valgrind */
	bool callgrind_child;  /**< child: one config, one measured pass */
};

/* Frames back to back: frame i is data[off[i] .. off[i + 1]). */
struct pktbuf {
	uint8_t *data;
	size_t data_map;
	uint64_t *off;
	size_t off_map;
	uint64_t n;
	uint64_t wire_bytes;
};

struct result {
	uint64_t pkts;
	uint64_t parsed;
	uint64_t n_keys;
	uint64_t tbl_full;
	uint64_t cycles;
};

static void *map_lazy(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void pktbuf_free(struct pktbuf *b)
{
	if (b->data)
		munmap(b->data, b->data_map);
	if (b->off)
		munmap(b->off, b->off_map);
	memset(b, 0, sizeof(*b));
}

static int pktbuf_fill(struct pktbuf *b, const struct opts *o, uint64_t flows,
		       double zipf, int size, uint64_t n)
{
	struct fc_gen_cfg cfg;
	struct fc_gen *g;
	uint8_t frame[FC_GEN_FRAME_MAX];
	char err[256];
	uint64_t at = 0;

	memset(b, 0, sizeof(*b));
	fc_gen_cfg_init(&cfg);
	cfg.seed = o->seed;
	cfg.packets = n;
	cfg.flows = (uint32_t)flows;
	cfg.zipf = zipf;
	cfg.size = size ? FC_GEN_SIZE_IMIX : FC_GEN_SIZE_64;
	cfg.rate_pps = 10000000;
	if (fc_gen_cfg_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench-worker: generator: %s\n", err);
		return -EINVAL;
	}
	g = fc_gen_create(&cfg);
	if (g == NULL) {
		fprintf(stderr, "bench-worker: cannot create the generator "
			"(%s)\n", strerror(errno));
		return -ENOMEM;
	}
	b->data_map = n * o->snap;
	b->off_map = (n + 1) * sizeof(uint64_t);
	b->data = map_lazy(b->data_map);
	b->off = map_lazy(b->off_map);
	if (b->data == NULL || b->off == NULL) {
		fprintf(stderr, "bench-worker: cannot map %.1f GB for %" PRIu64
			" packets; lower --packets or --snap\n",
			(double)(b->data_map + b->off_map) / 1e9, n);
		fc_gen_free(g);
		pktbuf_free(b);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len;
		uint64_t ts;

		if (fc_gen_next(g, frame, sizeof(frame), &len, &ts) != 0)
			break;
		uint32_t keep = len < o->snap ? len : o->snap;

		b->off[i] = at;
		memcpy(b->data + at, frame, keep);
		at += keep;
		b->wire_bytes += len + 4; /* + FCS */
		b->n++;
	}
	b->off[b->n] = at;
	fc_gen_free(g);
	return 0;
}

/*
 * One pass over every frame, burst by burst, as the worker does it: parse
 * each frame into the stage (fc_count_parse), count the failures by
 * reason, flush the stage into the table (fc_count_flush).
 */
static FC_NOINLINE void run_pass(const struct pktbuf *b,
				 struct fc_flowtable *t, unsigned burst,
				 uint64_t *parsed, uint64_t *bad)
{
	static struct fc_count stg; /* 88 KB: not on the stack */
	const uint8_t *data = b->data;
	const uint64_t *off = b->off;
	uint64_t ok = 0;

	fc_count_drop(&stg);
	for (uint64_t i = 0; i < b->n; i += burst) {
		unsigned n = b->n - i < burst ? (unsigned)(b->n - i) : burst;
		unsigned before = fc_count_pending(&stg);

		for (unsigned j = 0; j < n && j < 4; j++)
			__builtin_prefetch(data + off[i + j]);
		for (unsigned j = 0; j < n; j++) {
			uint64_t k = i + j;

			if (j + 4 < n)
				__builtin_prefetch(data + off[k + 4]);
			enum fc_parse_status st = fc_count_parse(
				&stg, data + off[k],
				(uint32_t)(off[k + 1] - off[k]), FC_DLT_EN10MB);
			if (FC_UNLIKELY(st != FC_PARSE_OK))
				bad[st]++;
		}
		ok += fc_count_pending(&stg) - before;
		fc_count_pipe(&stg, t);
	}
	fc_count_flush(&stg, t);
	*parsed = ok;
}

/* The measured pass: callgrind collects inside this function only
 * (--toggle-collect=bench_measured_pass). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, noclone, used))
#else
__attribute__((noinline, used))
#endif
void bench_measured_pass(const struct pktbuf *b, struct fc_flowtable *t,
			 unsigned burst, uint64_t *parsed, uint64_t *bad);
void bench_measured_pass(const struct pktbuf *b, struct fc_flowtable *t,
			 unsigned burst, uint64_t *parsed, uint64_t *bad)
{
	run_pass(b, t, burst, parsed, bad);
}

static uint64_t packets_for(const struct opts *o, uint64_t flows)
{
	if (o->packets)
		return o->packets;
	return 2 * flows > o->min_packets ? 2 * flows : o->min_packets;
}

static uint64_t max_keys_for(const struct opts *o, uint64_t flows)
{
	uint64_t k = flows + flows * o->headroom_pct / 100;

	return k < 1024 ? 1024 : k;
}

static int run_config(const struct opts *o, double hz, uint64_t flows,
		      double zipf, int size)
{
	struct pktbuf b;
	struct fc_flowtable *t;
	uint64_t n = packets_for(o, flows), max_keys = max_keys_for(o, flows);
	uint64_t bad[FC_PARSE_STATUS_COUNT] = {0}, parsed = 0, bad_total = 0;
	double cpp[64], mpps[64], gen_s;
	uint64_t t0;
	char fs[32];
	unsigned runs = o->runs > 64 ? 64 : o->runs;
	int rc;

	t0 = bench_mono_ns();
	rc = pktbuf_fill(&b, o, flows, zipf, size, n);
	if (rc != 0)
		return rc;
	gen_s = (double)(bench_mono_ns() - t0) / 1e9;
	t = fc_flowtable_create(max_keys);
	if (t == NULL) {
		fprintf(stderr, "bench-worker: cannot create a table of %" PRIu64
			" keys (%.2f GB)\n", max_keys,
			(double)fc_flowtable_mem_size(max_keys) / 1e9);
		pktbuf_free(&b);
		return -ENOMEM;
	}
	for (unsigned w = 0; w < o->warmup; w++) {
		fc_flowtable_reset(t);
		run_pass(&b, t, o->burst, &parsed, bad);
	}
	memset(bad, 0, sizeof(bad));
	for (unsigned r = 0; r < runs; r++) {
		uint64_t c0, c1;

		fc_flowtable_reset(t);
		c0 = bench_tsc();
		bench_measured_pass(&b, t, o->burst, &parsed, bad);
		c1 = bench_tsc();
		cpp[r] = (double)(c1 - c0) / (double)b.n;
		mpps[r] = hz / cpp[r] / 1e6;
	}
	for (unsigned s = 1; s < FC_PARSE_STATUS_COUNT; s++)
		bad_total += bad[s];
	if (o->callgrind_child) {
		printf("callgrind-child: packets=%" PRIu64 " parsed=%" PRIu64
		       " keys=%" PRIu64 "\n", b.n, parsed, t->n_keys);
	} else {
		double c_med, c_min, c_max, m_med;
		uint64_t mem = fc_flowtable_mem_size(max_keys);

		c_med = bench_median(cpp, runs);
		c_min = cpp[0];
		c_max = cpp[runs - 1];
		m_med = bench_median(mpps, runs);
		printf("| %-4s | %-3g | %5s | %6.2fM | %9" PRIu64
		       " | %6.1f | %6.1f | %6.1f | %6.2f | %7.1f | %5.1f | %5.1f |"
		       " %6.1f | %" PRIu64 " |\n",
		       size ? "imix" : "64", zipf,
		       bench_count_str(fs, sizeof(fs), flows), (double)b.n / 1e6,
		       t->n_keys, c_med, c_min, c_max, m_med,
		       (double)mem / 1048576.0,
		       (double)mem / (double)t->max_keys,
		       (double)mem / (double)t->max_keys4,
		       t->n_keys ? (double)mem / (double)t->n_keys : 0.0,
		       t->tbl_full / runs);
		fflush(stdout);
		if (t->tbl_full)
			fprintf(stderr, "bench-worker: warning: tbl_full=%" PRIu64
				" (raise --headroom)\n", t->tbl_full);
		fprintf(stderr, "  (generated %" PRIu64 " frames in %.1f s, "
			"%.0f MB buffer, %.1f B/frame stored, %.0f wire B/frame)\n",
			b.n, gen_s, (double)b.off[b.n] / 1048576.0,
			(double)b.off[b.n] / (double)b.n,
			(double)b.wire_bytes / (double)b.n);
	}
	if (bad_total)
		fprintf(stderr, "bench-worker: %" PRIu64 " frames did not parse "
			"(first reason %s)\n", bad_total,
			fc_parse_status_name(bad[1] ? 1 : 2));
	fc_flowtable_free(t);
	pktbuf_free(&b);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: bench-worker [options]\n"
"Cycles/packet of the worker pipeline (fc_count_parse per frame, then\n"
"fc_count_pipe per burst) on generated frames held in memory.\n"
"\n"
"  -f, --flows LIST     flow populations (distinct keys), comma separated\n"
"                       (default 1k,100k,1M,10M)\n"
"  -z, --zipf LIST      Zipf exponents, 0 = uniform (default 0,1.1)\n"
"  -s, --size LIST      frame sizes: 64, imix (default 64,imix)\n"
"  -r, --runs N         timed runs per configuration; the median is\n"
"                       reported (default 5)\n"
"  -w, --warmup N       untimed passes first (default 1)\n"
"  -n, --packets N      packets per run (default: max(--min-packets,\n"
"                       2 x flows))\n"
"      --min-packets N  (default 20M)\n"
"      --headroom PCT   table keys = flows + PCT%% (default 10) IPv4 keys,\n"
"                       and one eighth of that IPv6 keys\n"
"      --snap BYTES     bytes stored per frame, 64..%u (default 128)\n"
"  -b, --burst N        burst size, 1..%u (default 32)\n"
"      --seed N         generator seed (default 1)\n"
"      --callgrind      run the first configuration once under\n"
"                       valgrind --tool=callgrind and print\n"
"                       instructions/packet (default there: 100k flows,\n"
"                       Zipf 1.1, 64 bytes, 1M packets)\n"
"  -h, --help\n"
"Numbers take k, M, G suffixes (x1000).\n"
"B/key full: table memory / keys it holds with both parts full;\n"
"B/key v4 full: the same memory / its IPv4 keys (IPv4 part full, IPv6\n"
"part empty); B/key used: the same memory / keys the run stored.\n",
		FC_GEN_FRAME_MAX, BURST_MAX);
}

static int parse_list_u64(const char *s, uint64_t *v, unsigned *n)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST || bench_parse_u64(tok, &v[*n]) != 0 ||
		    v[*n] == 0 || v[*n] > FC_GEN_FLOWS_MAX)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_list_double(const char *s, double *v, unsigned *n)
{
	char buf[256], *save = NULL, *tok, *end;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST)
			return -EINVAL;
		v[*n] = strtod(tok, &end);
		if (*end != '\0' || v[*n] < 0 || v[*n] > FC_GEN_ZIPF_MAX)
			return -EINVAL;
		(*n)++;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_list_size(const char *s, int *v, unsigned *n)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST)
			return -EINVAL;
		if (strcmp(tok, "64") == 0)
			v[(*n)++] = 0;
		else if (strcmp(tok, "imix") == 0)
			v[(*n)++] = 1;
		else
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

/*
 * --callgrind: re-run ourselves under callgrind with collection only inside
 * bench_measured_pass, then divide the total instruction count (Ir) by the
 * packets of the measured pass.
 */
static int run_callgrind(const struct opts *o, char **argv)
{
	char out[] = "/tmp/bench-worker-cg.XXXXXX";
	char file[64], a_flows[32], a_zipf[32], a_size[8], a_pk[32], a_b[16];
	char line[1024], cmd[1024];
	uint64_t n = o->packets ? o->packets : 1000000;
	unsigned long long ir = 0;
	int fd, status;
	pid_t pid;
	FILE *f;

	fd = mkstemp(out);
	if (fd < 0) {
		perror("bench-worker: mkstemp");
		return 1;
	}
	close(fd);
	snprintf(file, sizeof(file), "%s", out);
	snprintf(a_flows, sizeof(a_flows), "%" PRIu64, o->flows[0]);
	snprintf(a_zipf, sizeof(a_zipf), "%g", o->zipf[0]);
	snprintf(a_size, sizeof(a_size), "%s", o->size[0] ? "imix" : "64");
	snprintf(a_pk, sizeof(a_pk), "%" PRIu64, n);
	snprintf(a_b, sizeof(a_b), "%u", o->burst);
	char of[96];

	snprintf(of, sizeof(of), "--callgrind-out-file=%s", file);
	char *args[] = {"valgrind", "-q", "--tool=callgrind", "--collect-atstart=no",
		"--toggle-collect=bench_measured_pass", of, argv[0],
		"--callgrind-child", "-f", a_flows, "-z", a_zipf, "-s", a_size,
		"-n", a_pk, "-b", a_b, "-r", "1", "-w", "1", NULL};

	printf("command:");
	for (char **a = args; *a; a++)
		printf(" %s", *a);
	printf("\n");
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("bench-worker: fork");
		return 1;
	}
	if (pid == 0) {
		execvp("valgrind", args);
		fprintf(stderr, "bench-worker: cannot run valgrind (%s): "
			"apt-get install valgrind\n", strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "bench-worker: valgrind run failed\n");
		unlink(file);
		return 1;
	}
	f = fopen(file, "r");
	if (f == NULL) {
		perror(file);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "totals: %llu", &ir) == 1)
			break;
		if (sscanf(line, "summary: %llu", &ir) == 1)
			continue;
	}
	fclose(f);
	printf("\n| flows | zipf | size | packets | instructions (Ir) | "
	       "instructions/packet |\n|---|---|---|---|---|---|\n");
	printf("| %s | %g | %s | %" PRIu64 " | %llu | %.1f |\n", a_flows,
	       o->zipf[0], a_size, n, ir, (double)ir / (double)n);
	snprintf(cmd, sizeof(cmd),
		 "callgrind_annotate --inclusive=no %s 2>/dev/null | "
		 "grep -E '^ *[0-9,]+ ' | head -8", file);
	printf("\ntop functions (self Ir):\n");
	fflush(stdout);
	if (system(cmd) != 0)
		printf("(callgrind_annotate not available)\n");
	printf("callgrind output kept in %s\n", file);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"flows", required_argument, NULL, 'f'},
		{"zipf", required_argument, NULL, 'z'},
		{"size", required_argument, NULL, 's'},
		{"runs", required_argument, NULL, 'r'},
		{"warmup", required_argument, NULL, 'w'},
		{"packets", required_argument, NULL, 'n'},
		{"min-packets", required_argument, NULL, 'm'},
		{"headroom", required_argument, NULL, 'H'},
		{"snap", required_argument, NULL, 'S'},
		{"burst", required_argument, NULL, 'b'},
		{"seed", required_argument, NULL, 'E'},
		{"callgrind", no_argument, NULL, 'C'},
		{"callgrind-child", no_argument, NULL, 'K'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {
		.flows = {1000, 100000, 1000000, 10000000}, .n_flows = 4,
		.zipf = {0, 1.1}, .n_zipf = 2,
		.size = {0, 1}, .n_size = 2,
		.runs = 5, .warmup = 1, .min_packets = 20000000,
		.headroom_pct = 10, .snap = 128, .burst = 32, .seed = 1,
	};
	bool set_flows = false, set_zipf = false, set_size = false;
	uint64_t v;
	char cpu[256];
	double hz;
	int c;

	while ((c = getopt_long(argc, argv, "f:z:s:r:w:n:b:h", lo, NULL)) !=
	       -1) {
		int bad = 0;

		switch (c) {
		case 'f':
			bad = parse_list_u64(optarg, o.flows, &o.n_flows);
			set_flows = true;
			break;
		case 'z':
			bad = parse_list_double(optarg, o.zipf, &o.n_zipf);
			set_zipf = true;
			break;
		case 's':
			bad = parse_list_size(optarg, o.size, &o.n_size);
			set_size = true;
			break;
		case 'r':
			bad = bench_parse_u64(optarg, &v) || v < 1 || v > 64;
			o.runs = (unsigned)v;
			break;
		case 'w':
			bad = bench_parse_u64(optarg, &v) || v > 100;
			o.warmup = (unsigned)v;
			break;
		case 'n':
			bad = bench_parse_u64(optarg, &o.packets) ||
			      o.packets == 0;
			break;
		case 'm':
			bad = bench_parse_u64(optarg, &o.min_packets);
			break;
		case 'H':
			bad = bench_parse_u64(optarg, &v) || v > 1000;
			o.headroom_pct = (unsigned)v;
			break;
		case 'S':
			bad = bench_parse_u64(optarg, &v) || v < 64 ||
			      v > FC_GEN_FRAME_MAX;
			o.snap = (unsigned)v;
			break;
		case 'b':
			bad = bench_parse_u64(optarg, &v) || v < 1 ||
			      v > BURST_MAX;
			o.burst = (unsigned)v;
			break;
		case 'E':
			bad = bench_parse_u64(optarg, &o.seed);
			break;
		case 'C':
			o.callgrind = true;
			break;
		case 'K':
			o.callgrind_child = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
		if (bad) {
			fprintf(stderr, "bench-worker: bad option value "
				"'%s' (see --help)\n", optarg);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "bench-worker: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (o.callgrind) {
		if (!set_flows)
			o.flows[0] = 100000;
		if (!set_zipf)
			o.zipf[0] = 1.1;
		if (!set_size)
			o.size[0] = 0;
		return run_callgrind(&o, argv);
	}
	if (o.callgrind_child)
		return run_config(&o, 1e9, o.flows[0], o.zipf[0],
				  o.size[0]) ? 1 : 0;

	hz = bench_tsc_hz();
	bench_cpu_model(cpu, sizeof(cpu));
	printf("bench-worker: %s, TSC %.3f GHz (measured against "
	       "CLOCK_MONOTONIC), burst %u, %u runs (median), %u warm-up, "
	       "snap %u B, table = flows + %u%% IPv4 keys + 1/8 of that "
	       "IPv6 keys\n\n",
	       cpu, hz / 1e9, o.burst, o.runs, o.warmup, o.snap,
	       o.headroom_pct);
	printf("| size | zipf | flows | packets | keys | cyc/pkt | min | max "
	       "| Mpps/core | table MiB | B/key full | B/key v4 full | "
	       "B/key used | tbl_full |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	fflush(stdout);
	for (unsigned s = 0; s < o.n_size; s++)
		for (unsigned z = 0; z < o.n_zipf; z++)
			for (unsigned f = 0; f < o.n_flows; f++)
				if (run_config(&o, hz, o.flows[f], o.zipf[z],
					       o.size[s]) != 0)
					return 1;
	return 0;
}

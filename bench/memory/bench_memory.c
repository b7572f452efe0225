/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-memory: how fast this machine serves random cache lines, the
 * access pattern of a flow table. For each region size and page kind, a
 * region is mapped and written once, then lines are visited at random in
 * groups, as the worker visits a burst's keys: ask for a group's lines
 * (prefetch with write intent), optionally do some work per line, then
 * increment one byte in each line of the group before (a count). Reports
 * the median cycles per line (TSC) of several runs.
 *
 * What it is for: the worker's cost at many keys depends on what a line
 * outside the caches costs, and on whether that cost hides behind the
 * parse of the next burst. With work (-w), the cycles a region adds over
 * the smallest one are what the work did not hide. Comparing page kinds
 * shows how much address translation adds: if 1 GB pages do no better
 * than 2 MB ones, the translation cost left is below the operating system
 * (a hypervisor mapping guest memory in small pages), and no table layout
 * or page size chosen by the program removes it.
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

#include "bench_util.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

#define MAX_LIST 16
#define MAX_RUNS 64
#define MAX_GROUP 256

enum page_kind { PAGE_4K, PAGE_THP, PAGE_2M, PAGE_1G, PAGE_KINDS };

static const char *const page_name[PAGE_KINDS] = {"4k", "thp", "2m", "1g"};

struct opts {
	uint64_t mib[MAX_LIST];
	unsigned n_mib;
	bool page[PAGE_KINDS];
	unsigned group;
	unsigned work;
	unsigned runs;
	uint64_t lines;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: bench-memory [-m MIB,...] [-p 4k,thp,2m,1g] [-g N] [-w N] [-r N] [-n N]\n"
"Cycles per random cache line, visited as a flow table's are: the lines\n"
"of a group of N are prefetched for writing, and one byte of each is\n"
"incremented after the next group's have been asked for.\n"
"  -m MIB,...   region sizes in MiB (default 4,64,640,2048)\n"
"  -p KIND,...  page kinds (default all): 4k (no huge pages), thp\n"
"               (transparent huge pages, madvise), 2m and 1g (hugetlbfs\n"
"               pages reserved beforehand: dpdk-scripts/hugepages.sh\n"
"               setup 4G --pagesize 1G, or 2M)\n"
"  -g N         lines per group, 1..%d (default 32, the worker's burst)\n"
"  -w N         work between asking for a line and touching it: N\n"
"               dependent multiply-adds per line (about 3 cycles each),\n"
"               0..1000 (default 0); compare with the smallest region\n"
"               to see how much of a miss the work hides\n"
"  -r N         timed runs per row, 1..%d (default 3); median reported\n"
"  -n N         lines visited per run, at least two groups (default 16M;\n"
"               k, M, G suffixes)\n",
		MAX_GROUP, MAX_RUNS);
}

/* Option -c's value: a count in [lo, hi] (k, M, G suffixes), or a
 * message naming the option and its range, and -1. */
static int opt_u64(char c, const char *arg, uint64_t lo, uint64_t hi,
		   const char *what, uint64_t *out)
{
	if (bench_parse_u64(arg, out) == 0 && *out >= lo && *out <= hi)
		return 0;
	fprintf(stderr, "bench-memory: -%c %s: %s is %" PRIu64 "..%" PRIu64
		" (k, M, G suffixes)\n", c, arg, what, lo, hi);
	return -1;
}

static int parse_list(const char *arg, uint64_t *out, unsigned *n)
{
	char buf[256], *save = NULL;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	*n = 0;
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (*n == MAX_LIST || bench_parse_u64(t, &v) != 0 || v == 0 ||
		    v > (1ULL << 20))
			return -EINVAL;
		out[(*n)++] = v;
	}
	return *n ? 0 : -EINVAL;
}

static int parse_pages(const char *arg, bool *page)
{
	char buf[64], *save = NULL;
	bool any = false;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	memset(page, 0, PAGE_KINDS * sizeof(bool));
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		unsigned k;

		for (k = 0; k < PAGE_KINDS; k++)
			if (strcmp(t, page_name[k]) == 0)
				break;
		if (k == PAGE_KINDS)
			return -EINVAL;
		page[k] = any = true;
	}
	return any ? 0 : -EINVAL;
}

/* kB of anonymous memory on transparent huge pages, whole process. */
static uint64_t anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	uint64_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %" SCNu64, &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* hugetlbfs mappings are whole pages, and munmap must be given the
 * whole length (or it unmaps nothing). */
static size_t map_len(size_t len, enum page_kind k)
{
	size_t page = k == PAGE_1G ? (size_t)1 << 30 :
		      k == PAGE_2M ? (size_t)2 << 20 : 1;

	return (len + page - 1) / page * page;
}

static void *map_region(size_t len, enum page_kind k)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	void *p;

	if (k == PAGE_2M)
		flags |= MAP_HUGETLB | (21 << MAP_HUGE_SHIFT);
	else if (k == PAGE_1G)
		flags |= MAP_HUGETLB | (30 << MAP_HUGE_SHIFT);
	p = mmap(NULL, map_len(len, k), PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (k == PAGE_THP)
		(void)madvise(p, len, MADV_HUGEPAGE);
	else if (k == PAGE_4K)
		(void)madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* Line indexes, drawn once (xorshift64, fixed seed) and reused by every
 * row, so rows differ only in the region and its pages. */
static uint32_t *draw_lines(uint64_t n)
{
	uint32_t *v = malloc(n * sizeof(*v));
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	if (v == NULL)
		return NULL;
	for (uint64_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (uint32_t)(x >> 32);
	}
	return v;
}

/*
 * As the worker does with bursts: ask for group g's lines, do `work`
 * dependent multiply-add steps per line (the parse of the next burst,
 * about 3 cycles a step), then touch group g - 1's lines, asked for one
 * group earlier. Each touch depends on the work, as a count depends on
 * the parse. Returns the TSC cycles of the visit.
 */
static __attribute__((noinline)) uint64_t
visit(uint8_t *p, uint64_t n_lines, const uint32_t *draw, uint64_t n,
      unsigned group, unsigned work)
{
	uint64_t a[2][MAX_GROUP], *ask = a[0], *prev = a[1], *tmp;
	uint64_t acc = 1, t0 = bench_tsc();
	unsigned np = 0;

	for (uint64_t i = 0; i + group <= n; i += group) {
		for (unsigned j = 0; j < group; j++) {
			/* Multiply-shift: an index in [0, n_lines). */
			ask[j] = ((uint64_t)draw[i + j] * n_lines) >> 32;
			__builtin_prefetch(p + ask[j] * 64, 1, 3);
		}
		for (unsigned j = 0; j < group; j++)
			for (unsigned k = 0; k < work; k++)
				acc = acc * 6364136223846793005ULL + draw[i + j];
		for (unsigned j = 0; j < np; j++)
			p[prev[j] * 64] += (uint8_t)(acc | 1);
		tmp = prev;
		prev = ask;
		ask = tmp;
		np = group;
	}
	for (unsigned j = 0; j < np; j++)
		p[prev[j] * 64]++;
	return bench_tsc() - t0;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.mib = {4, 64, 640, 2048}, .n_mib = 4,
		.page = {true, true, true, true},
		.group = 32, .runs = 3, .lines = 16ULL << 20,
	};
	uint64_t v;
	uint32_t *draw;
	double hz;
	char cpu[128];
	int c;

	while ((c = getopt(argc, argv, "m:p:g:w:r:n:h")) != -1) {
		switch (c) {
		case 'm':
			if (parse_list(optarg, o.mib, &o.n_mib) != 0) {
				fprintf(stderr, "bench-memory: -m %s: give sizes "
					"in MiB, 1..1048576, separated by "
					"commas (e.g. -m 4,640)\n", optarg);
				return 2;
			}
			break;
		case 'p':
			if (parse_pages(optarg, o.page) != 0) {
				fprintf(stderr, "bench-memory: -p %s: page kinds "
					"are 4k, thp, 2m and 1g, separated by "
					"commas\n", optarg);
				return 2;
			}
			break;
		case 'g':
			if (opt_u64('g', optarg, 1, MAX_GROUP, "lines per group",
				    &v) != 0)
				return 2;
			o.group = (unsigned)v;
			break;
		case 'w':
			if (opt_u64('w', optarg, 0, 1000, "work steps per line",
				    &v) != 0)
				return 2;
			o.work = (unsigned)v;
			break;
		case 'r':
			if (opt_u64('r', optarg, 1, MAX_RUNS, "runs", &v) != 0)
				return 2;
			o.runs = (unsigned)v;
			break;
		case 'n':
			if (opt_u64('n', optarg, 1000, 1ULL << 30,
				    "lines per run", &v) != 0)
				return 2;
			o.lines = v;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (o.lines < 2 * (uint64_t)o.group) {
		fprintf(stderr, "bench-memory: -n %" PRIu64 " lines is less than "
			"two groups of %u: raise -n or lower -g\n", o.lines,
			o.group);
		return 2;
	}
	draw = draw_lines(o.lines);
	if (draw == NULL) {
		fprintf(stderr, "bench-memory: no memory for %" PRIu64
			" line indexes (lower -n)\n", o.lines);
		return 1;
	}
	hz = bench_tsc_hz();
	bench_cpu_model(cpu, sizeof(cpu));
	printf("bench-memory: %s, TSC %.2f GHz, groups of %u lines, "
	       "%u work steps a line, %" PRIu64 " lines a run, median of %u "
	       "runs\n\n", cpu, hz / 1e9, o.group, o.work, o.lines, o.runs);
	printf("| region MiB | pages | cycles/line | min | max | ns/line |"
	       " on huge pages |\n|---|---|---|---|---|---|---|\n");
	for (unsigned s = 0; s < o.n_mib; s++) {
		size_t len = (size_t)o.mib[s] << 20;

		for (unsigned k = 0; k < PAGE_KINDS; k++) {
			double cpl[MAX_RUNS], med;
			uint64_t huge0, huge;
			uint8_t *p;

			if (!o.page[k])
				continue;
			huge0 = anon_huge_kb();
			p = map_region(len, (enum page_kind)k);
			if (p == NULL) {
				printf("| %" PRIu64 " | %s | - | - | - | - | "
				       "not mapped (%s)%s |\n", o.mib[s],
				       page_name[k], strerror(errno),
				       k >= PAGE_2M ?
					       ": reserve more free pages of "
					       "this size (dpdk-scripts/"
					       "hugepages.sh setup)" :
					       "");
				continue;
			}
			memset(p, 1, len);
			huge = k >= PAGE_2M ? o.mib[s] << 10 :
					      anon_huge_kb() - huge0;
			(void)visit(p, len / 64, draw, o.lines, o.group, o.work);
			for (unsigned r = 0; r < o.runs; r++)
				cpl[r] = (double)visit(p, len / 64, draw,
						       o.lines, o.group,
						       o.work) /
					 (double)(o.lines - o.lines % o.group);
			med = bench_median(cpl, o.runs);
			printf("| %" PRIu64 " | %s | %.1f | %.1f | %.1f | %.1f |"
			       " %.0f %% |\n", o.mib[s], page_name[k], med,
			       cpl[0], cpl[o.runs - 1], med / hz * 1e9,
			       100.0 * (double)huge / (double)(o.mib[s] << 10));
			fflush(stdout);
			munmap(p, map_len(len, (enum page_kind)k));
		}
	}
	free(draw);
	return 0;
}

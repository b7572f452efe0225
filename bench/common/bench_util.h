/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the benchmark programs: TSC reads and the TSC frequency
 * measured against CLOCK_MONOTONIC, monotonic seconds, medians, list and
 * number parsing for the command lines. Header only. It does not time
 * anything by itself and holds no state.
 */
#ifndef FC_BENCH_UTIL_H
#define FC_BENCH_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define BENCH_HAVE_TSC 1
#endif

static inline uint64_t bench_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* TSC read ordered after the preceding instructions (lfence). Without a TSC
 * (not x86) the monotonic clock in ns stands in, and the "frequency" is 1e9. */
static inline uint64_t bench_tsc(void)
{
#ifdef BENCH_HAVE_TSC
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
#else
	return bench_mono_ns();
#endif
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of n values (sorts v in place). */
static inline double bench_median(double *v, unsigned n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* TSC ticks per second: median of 5 windows of 100 ms against
 * CLOCK_MONOTONIC. */
static inline double bench_tsc_hz(void)
{
	double f[5];

	for (unsigned i = 0; i < 5; i++) {
		struct timespec d = {0, 100000000};
		uint64_t n0 = bench_mono_ns(), t0 = bench_tsc();

		nanosleep(&d, NULL);
		uint64_t n1 = bench_mono_ns(), t1 = bench_tsc();

		f[i] = (double)(t1 - t0) * 1e9 / (double)(n1 - n0);
	}
	return bench_median(f, 5);
}

/* "12", "10k", "1M", "2G" (x1000). Returns 0 or -EINVAL. */
static inline int bench_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v *= 1000ULL; end++; break;
	case 'm': case 'M': v *= 1000000ULL; end++; break;
	case 'g': case 'G': v *= 1000000000ULL; end++; break;
	default: break;
	}
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* Human count: 1000 -> "1k", 10000000 -> "10M". */
static inline const char *bench_count_str(char *buf, size_t len, uint64_t v)
{
	if (v >= 1000000 && v % 1000000 == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v / 1000000));
	else if (v >= 1000 && v % 1000 == 0)
		snprintf(buf, len, "%lluk", (unsigned long long)(v / 1000));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

/* CPU model from /proc/cpuinfo, or "unknown". */
static inline void bench_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(buf, len, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');

			if (c) {
				c += 2;
				c[strcspn(c, "\n")] = '\0';
				snprintf(buf, len, "%s", c);
			}
			break;
		}
	}
	fclose(f);
}

#endif /* FC_BENCH_UTIL_H */

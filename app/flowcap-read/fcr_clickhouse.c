/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read --to-clickhouse (see fcr_clickhouse.h): reads each file
 * interval by interval, encodes its records as RowBinary rows and hands
 * them to fc_ch_load, which stores the interval exactly once. A file that
 * is damaged is loaded up to the damage and reported; the next file is
 * still loaded. It does not sort, filter or aggregate: ClickHouse does.
 */
#include "fcr_clickhouse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fc_ch.h"
#include "fc_ftfile.h"

#define PROG "flowcap-read"
#define REC_BATCH 4096
/* A batch is sent at this many records or intervals: one request pair
 * per batch, some 100 MB of rows at most. */
#define BATCH_ROWS 1000000
#define BATCH_IVS 2000

struct load {
	struct fc_ch *ch;
	struct fc_ch_batch b;
	struct fc_ch_load_stats st;
	uint64_t iv_failed;
	bool tty;
	bool gave_up;   /* no server or no table: the rest is not tried */
	double last_progress;
	const char *path; /* the file being read, for progress */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(struct load *l, bool done)
{
	double t = now_s();

	if (!l->tty || (!done && t - l->last_progress < 0.5))
		return;
	l->last_progress = t;
	fprintf(stderr, "\r" PROG ": %s: %" PRIu64 " intervals loaded, %"
		PRIu64 " skipped, %" PRIu64 " failed; %" PRIu64
		" records\033[K%s",
		l->path ? l->path : "", l->st.loaded, l->st.skipped,
		l->iv_failed, l->st.loaded_rows, done ? "\n" : "");
}

/* Send the batch; on failure name its intervals (the first few). */
static int flush(struct load *l)
{
	struct fc_ch_batch *b = &l->b;
	int rc, ret = 0;

	if (b->n == 0)
		return 0;
	rc = fc_ch_load_batch(l->ch, b, &l->st);
	if (rc != FC_CH_OK) {
		if (l->tty)
			fputc('\n', stderr);
		for (size_t i = 0; i < b->n && i < 3; i++)
			fprintf(stderr, PROG ": %s: interval %" PRIu32
				" (start %" PRIu64 ", %" PRIu64 " records) "
				"not loaded: %s: %s\n",
				b->v[i].source, b->v[i].iv.index,
				b->v[i].iv.start, b->v[i].n, fc_ch_strerror(rc),
				rc == FC_CH_E_NOMEM ? "out of memory" :
						      fc_ch_error(l->ch));
		if (b->n > 3)
			fprintf(stderr, PROG ": ... and %zu more intervals "
				"of the same batch, up to %s\n",
				b->n - 3, b->v[b->n - 1].source);
		l->iv_failed += b->n;
		if (rc == FC_CH_E_CONNECT || rc == FC_CH_E_SCHEMA ||
		    rc == FC_CH_E_SERVER)
			l->gave_up = true;
		ret = 1;
	}
	fc_ch_batch_reset(b);
	progress(l, false);
	return ret;
}

/* One file; 0 when all its intervals are read (and those sent so far
 * stored), 1 otherwise. */
static int load_file(struct load *l, const char *path)
{
	static struct fc_ft_record recs[REC_BATCH];
	const struct fc_ft_file_info *info;
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	int st, rc = 0, ret = 0;

	l->path = path;
	r = fc_ft_reader_open(path, &st);
	if (r == NULL) {
		fprintf(stderr, PROG ": %s: %s; not loaded\n", path,
			st == FC_FT_E_IO ? strerror(errno) : fc_ft_strerror(st));
		return 1;
	}
	info = fc_ft_reader_info(r);
	if (l->b.n > 0 && strcmp(l->b.monitor, info->monitor) != 0)
		ret |= flush(l);
	while (!l->gave_up && (rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		size_t mark = l->b.rows.len;
		uint64_t n = 0;
		unsigned k = 0;

		fc_ch_batch_begin(&l->b, info->monitor, &iv,
				  info->interval_len, path);
		fc_ch_batch_labels(&l->b, fc_ch_reader_label, r);
		while ((rc = fc_ft_reader_next_record(r, &recs[k])) == 1) {
			n++;
			if (++k == REC_BATCH) {
				fc_ch_batch_records(&l->b, recs, k);
				k = 0;
			}
		}
		fc_ch_batch_records(&l->b, recs, k);
		if (rc < 0 || n != iv.n_records) {
			/* A damaged interval is not loaded: out of the
			 * batch it goes. */
			free(l->b.v[--l->b.n].source);
			l->b.rows.len = mark;
			l->b.n_rows -= n;
			if (rc == 0)
				rc = FC_FT_E_CORRUPT;
			break;
		}
		if (l->b.n_rows >= BATCH_ROWS || l->b.n >= BATCH_IVS ||
		    l->b.oom)
			ret |= flush(l);
	}
	if (rc < 0) {
		if (l->tty)
			fputc('\n', stderr);
		fprintf(stderr, PROG ": %s: %s at byte %" PRIu64 "; the "
			"intervals before it are loaded, the rest of the file "
			"is not\n",
			path, fc_ft_strerror(rc), fc_ft_reader_error_offset(r));
		ret = 1;
	}
	fc_ft_reader_close(r);
	return ret;
}

int fcr_clickhouse_load(const char *url, const char *db,
			const char *const *paths, size_t n)
{
	struct load l = {.tty = isatty(STDERR_FILENO)};
	char err[512];
	int ret = 0, rc;

	l.ch = fc_ch_create(url, db, err, sizeof(err));
	if (l.ch == NULL) {
		fprintf(stderr, PROG ": --to-clickhouse: %s\n", err);
		return 2;
	}
	/* A server that is down at the start is reported at once; once it
	 * has answered, a load rides out a restart of up to a minute. */
	fc_ch_set_retry(l.ch, 2);
	rc = fc_ch_check_tables(l.ch);
	if (rc != FC_CH_OK) {
		fprintf(stderr, PROG ": ClickHouse: %s%s\n", fc_ch_error(l.ch),
			rc == FC_CH_E_CONNECT ?
				" (is the server running? dpdk-scripts/"
				"clickhouse-local.sh starts one)" :
				"");
		fc_ch_free(l.ch);
		return 1;
	}
	fc_ch_set_retry(l.ch, 60);
	size_t i;

	for (i = 0; i < n && !l.gave_up; i++)
		ret |= load_file(&l, paths[i]);
	ret |= flush(&l);
	if (i < n || l.gave_up) {
		fprintf(stderr, PROG ": gave up after that error: %zu file(s) "
			"not tried; loading them again later is safe\n", n - i);
		ret = 1;
	}
	progress(&l, true);
	printf(PROG ": clickhouse: %" PRIu64 " intervals (%" PRIu64
	       " records) loaded, %" PRIu64 " intervals (%" PRIu64
	       " records) skipped as loaded before, %" PRIu64 " failed",
	       l.st.loaded, l.st.loaded_rows, l.st.skipped, l.st.skipped_rows,
	       l.iv_failed);
	if (l.st.deleted_partial || l.st.completed_ledger)
		printf("; %" PRIu64 " partial loads removed and loaded again, %"
		       PRIu64 " whole loads completed",
		       l.st.deleted_partial, l.st.completed_ledger);
	printf("\n");
	fflush(stdout);
	fc_ch_batch_free(&l.b);
	fc_ch_free(l.ch);
	return ret;
}

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

struct load {
	struct fc_ch *ch;
	struct fc_chbuf rows;
	struct fc_ch_load_stats st;
	uint64_t iv_loaded, iv_skipped, iv_failed, rec_loaded, rec_skipped;
	bool tty;
	double last_progress;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(struct load *l, const char *path, bool done)
{
	double t = now_s();

	if (!l->tty || (!done && t - l->last_progress < 0.5))
		return;
	l->last_progress = t;
	fprintf(stderr, "\r" PROG ": %s: %" PRIu64 " intervals loaded, %"
		PRIu64 " skipped, %" PRIu64 " failed; %" PRIu64 " records\033[K%s",
		path, l->iv_loaded, l->iv_skipped, l->iv_failed, l->rec_loaded,
		done ? "\n" : "");
}

/* One file; 0 when all its intervals are stored, 1 otherwise. */
static int load_file(struct load *l, const char *path)
{
	static struct fc_ft_record recs[REC_BATCH];
	const struct fc_ft_file_info *info;
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ch_prefix pre;
	int st, rc, rdr = 0, ret = 0;

	r = fc_ft_reader_open(path, &st);
	if (r == NULL) {
		fprintf(stderr, PROG ": %s: %s; not loaded\n", path,
			st == FC_FT_E_IO ? strerror(errno) : fc_ft_strerror(st));
		return 1;
	}
	info = fc_ft_reader_info(r);
	while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		uint64_t n = 0;
		unsigned k = 0;

		fc_chbuf_reset(&l->rows);
		/* The load id covers n_records, which the header of the
		 * interval states; the rows follow. */
		fc_ch_prefix_init(&pre, info->monitor, &iv, info->interval_len,
				  fc_ch_load_id(info->monitor, &iv,
						iv.n_records));
		while ((rc = fc_ft_reader_next_record(r, &recs[k])) == 1) {
			n++;
			if (++k == REC_BATCH) {
				fc_ch_put_records(&l->rows, &pre, recs, k);
				k = 0;
			}
		}
		fc_ch_put_records(&l->rows, &pre, recs, k);
		if (rc < 0 || n != iv.n_records) {
			/* a damaged interval is not loaded */
			rdr = rc < 0 ? rc : FC_FT_E_CORRUPT;
			break;
		}
		int lr = fc_ch_load(l->ch, info->monitor, info->interval_len, &iv,
				n, &l->rows, path, &l->st);
		if (lr == FC_CH_OK) {
			l->iv_loaded++;
			l->rec_loaded += n;
		} else if (lr == FC_CH_SKIPPED) {
			l->iv_skipped++;
			l->rec_skipped += n;
		} else {
			l->iv_failed++;
			ret = 1;
			if (l->tty)
				fputc('\n', stderr);
			fprintf(stderr, PROG ": %s: interval %" PRIu32
				" (start %" PRIu64 ", %" PRIu64 " records) "
				"not loaded: %s: %s\n",
				path, iv.index, iv.start, n,
				fc_ch_strerror(lr),
				lr == FC_CH_E_NOMEM ? "out of memory" :
						      fc_ch_error(l->ch));
			if (lr == FC_CH_E_CONNECT || lr == FC_CH_E_SCHEMA) {
				rc = 0;
				break;
			}
		}
		progress(l, path, false);
	}
	if (rc < 0 && rdr == 0)
		rdr = rc; /* fc_ft_reader_next_interval failed */
	if (rdr < 0) {
		if (l->tty)
			fputc('\n', stderr);
		fprintf(stderr, PROG ": %s: %s at byte %" PRIu64 "; the "
			"intervals before it are loaded, the rest of the file "
			"is not\n",
			path, fc_ft_strerror(rdr), fc_ft_reader_error_offset(r));
		ret = 1;
	}
	progress(l, path, true);
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
	for (size_t i = 0; i < n; i++)
		ret |= load_file(&l, paths[i]);
	printf(PROG ": clickhouse: %" PRIu64 " intervals (%" PRIu64
	       " records) loaded, %" PRIu64 " intervals (%" PRIu64
	       " records) skipped as loaded before, %" PRIu64 " failed",
	       l.iv_loaded, l.rec_loaded, l.iv_skipped, l.rec_skipped,
	       l.iv_failed);
	if (l.st.deleted_partial || l.st.completed_ledger)
		printf("; %" PRIu64 " partial loads removed and loaded again, %"
		       PRIu64 " whole loads completed",
		       l.st.deleted_partial, l.st.completed_ledger);
	printf("\n");
	fflush(stdout);
	fc_chbuf_free(&l.rows);
	fc_ch_free(l.ch);
	return ret;
}

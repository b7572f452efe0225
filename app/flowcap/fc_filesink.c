/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The file sink: the first record sink, and the source of truth. It writes
 * each interval it is offered to the open .ft.zst file (opening one from
 * the --template name when needed, rotating every --rotate intervals), and
 * when a file cannot be written or completed it logs its intervals LOST,
 * counts them, and carries on with the next. It does not merge, and knows
 * no other sink.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fc_anon.h"
#define FC_LOGTYPE fc_logtype_sink /* FC_INFO, FC_WARN */
#include "fc_app.h"
#include "fc_ftdir.h"
#include "fc_sink.h"
#include "fc_version.h"

struct fc_filesink {
	struct fc_app *app;
	struct fc_ft_writer *wr;
	/* The writer's buffers and zstd context, from one file to the next:
	 * an interval after the first allocates (and faults in) nothing. */
	struct fc_ft_wcache *wcache;
	char path[4096];
	unsigned in_file;       /**< intervals in the open file */
	uint64_t file_rx;       /**< worker packets of the open file's intervals */
	bool dir_gone;          /**< the output directory was found missing */
	/* The interval being offered: the status that stopped it, if any
	 * (its records go to the writer burst by burst as they come). */
	int err;
};

/*
 * Packets of intervals that are now in a completed file or reported LOST:
 * what a second signal would not abandon. Partner: the relaxed load in
 * main's signal handler (a count for a message, no ordering needed).
 */
static void settle(struct fc_filesink *c, uint64_t pkts)
{
	atomic_fetch_add_explicit(&c->app->pkts_settled, pkts,
				  memory_order_relaxed);
}

/*
 * After a failed write: is the output directory still there? Removed (or
 * replaced by something else) during the run, every interval is LOST until
 * it exists again; say so once, naming it, rather than only through the
 * per-interval LOST lines.
 */
static void check_out_dir(struct fc_filesink *c)
{
	const char *dir = c->app->cfg.out_dir;
	struct stat st;

	const char *why = "not a directory";

	if (stat(dir, &st) != 0)
		why = strerror(errno);
	else if (S_ISDIR(st.st_mode))
		return;
	if (!c->dir_gone)
		FC_WARN("output directory '%s' is gone (%s): every interval is "
			"LOST until it exists again (mkdir -p %s); capture "
			"continues\n",
			dir, why, dir);
	c->dir_gone = true;
}

/* A file was opened or completed: if the directory had gone, it is back. */
static void dir_back(struct fc_filesink *c)
{
	if (!c->dir_gone)
		return;
	c->dir_gone = false;
	FC_INFO("output directory '%s' is back: writing resumed with %s\n",
		c->app->cfg.out_dir, c->path);
}

static int close_file(struct fc_filesink *c)
{
	int rc;

	if (c->wr == NULL)
		return FC_FT_OK;
	unsigned n = c->in_file;

	rc = fc_ft_writer_close(c->wr);
	int e = errno; /* FC_FT_E_DIRSYNC: why the directory fsync failed */

	c->wr = NULL;
	c->in_file = 0;
	settle(c, c->file_rx);
	c->file_rx = 0;
	if (rc == FC_FT_E_DIRSYNC) {
		/* Written and complete: only the name's durability is in
		 * doubt, and an interval in a readable file is not lost. */
		FC_WARN("wrote %s: %s (%s); check the disk\n", c->path,
			fc_ft_strerror(rc), strerror(e));
		atomic_fetch_add_explicit(&c->app->files_unsynced, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&c->app->files_written, 1,
					  memory_order_relaxed);
		return FC_FT_OK;
	}
	if (rc != FC_FT_OK) {
		check_out_dir(c);
		FC_WARN("cannot complete %s: %s; its %u interval(s) are LOST; "
			"capture continues\n",
			c->path, fc_ft_strerror(rc), n);
		atomic_fetch_add_explicit(&c->app->intervals_lost, n,
					  memory_order_relaxed);
		atomic_fetch_sub_explicit(&c->app->intervals_written, n,
					  memory_order_relaxed);
		return rc;
	}
	atomic_fetch_add_explicit(&c->app->files_written, 1,
				  memory_order_relaxed);
	FC_INFO("wrote %s\n", c->path);
	return FC_FT_OK;
}

static int open_file(struct fc_filesink *c, uint64_t start)
{
	const struct fc_cfg *cfg = &c->app->cfg;
	struct fc_ft_file_info info = {0};
	char name[PATH_MAX];
	int st = FC_FT_OK;

	/* check_cfg expanded this template and checked the name already;
	 * a failure here still says what failed. */
	st = fc_template_expand(name, sizeof(name), cfg->tmpl, cfg->name,
				FC_PLUGIN_FLOWTUPLE, start);
	if (st != 0) {
		snprintf(c->path, sizeof(c->path), "%s/%s", cfg->out_dir,
			 cfg->tmpl);
		return FC_FT_E_ERRNO(-st);
	}
	info.kind = FC_FT_KIND_FLOWTUPLE;
	info.interval_len = cfg->interval;
	info.flags = cfg->align ? FC_FT_F_ALIGNED : 0;
	if (cfg->anon) {
		info.flags |= FC_FT_F_ANON;
		fc_anon_fingerprint(cfg->anon_key, info.anon_fp);
	}
	info.created = fc_wall_now_ns() / 1000000000ULL;
	snprintf(info.monitor, sizeof(info.monitor), "%s", cfg->name);
	fc_version_writer(info.writer, sizeof(info.writer), "flowcap");
	info.opt_fields = (cfg->classify ? FC_FT_OPT_LABEL : 0) |
			  (cfg->key_vlan ? FC_FT_OPT_VLAN : 0);
	/* A name taken already (the same trace written twice into one
	 * directory) is never replaced: the next free NAME-k is used. */
	for (unsigned dup = 0; dup < FC_FT_DUP_MAX; dup++) {
		int rc = fc_ft_path_dup(c->path, sizeof(c->path), cfg->out_dir,
					name, dup);

		if (rc != 0)
			return FC_FT_E_ERRNO(-rc);
		c->wr = fc_ft_writer_open_cached(c->path, &info, c->wcache,
						 &st);
		if (c->wr != NULL) {
			/* check_cfg took the level from the writer's range. */
			fc_ft_writer_set_level(c->wr, cfg->zstd_level);
			if (cfg->file_gid != (gid_t)-1 || cfg->file_mode >= 0) {
				st = fc_ft_writer_set_perm(c->wr, cfg->file_gid,
							   cfg->file_mode);
				if (st != FC_FT_OK) {
					fc_ft_writer_abort(c->wr);
					c->wr = NULL;
					return st;
				}
			}
			if (dup > 0)
				FC_WARN("%s/%s exists already: writing %s\n",
					cfg->out_dir, name, c->path);
			return FC_FT_OK;
		}
		if (st != FC_FT_E_EXISTS)
			break;
	}
	return st;
}

/* An interval begins: the file it goes to is open (one is opened if
 * needed) and has the label names. */
static int fs_begin(void *ctx, const struct fc_ft_interval *iv)
{
	struct fc_filesink *c = ctx;
	int rc;

	c->err = FC_FT_OK;
	if (c->wr == NULL) {
		rc = open_file(c, iv->start);
		if (rc != FC_FT_OK)
			return c->err = rc;
		dir_back(c);
	}
	/* The names of every label the run has had: a file read years
	 * later still says what each id meant. Partner of the acquire:
	 * the control thread's release store of the count. */
	if (c->app->labels != NULL) {
		unsigned nl = atomic_load_explicit(&c->app->labels->n,
						   memory_order_acquire);

		rc = fc_ft_writer_set_labels(
			c->wr,
			atomic_load_explicit(&c->app->rules_hash,
					     memory_order_relaxed),
			(const char (*)[32])&c->app->labels->name[1], nl);
		if (rc != FC_FT_OK)
			return c->err = rc;
	}
	return 0;
}

/* A burst of the interval's records: into the block being built (the
 * writer holds the interval until its end). */
static int fs_records(void *ctx, const struct fc_ft_record *recs, uint64_t n)
{
	struct fc_filesink *c = ctx;
	int rc = fc_ft_writer_add_records(c->wr, recs, n);

	if (rc != FC_FT_OK)
		c->err = rc;
	return rc;
}

/* The interval ends: its accounting and records are written to the open
 * file, and on failure it is counted LOST, with the intervals already in
 * that file (which cannot be completed without the space that just ran
 * out), and the sink carries on with the next. */
static int fs_end(void *ctx, const struct fc_ft_interval *iv, bool failed)
{
	struct fc_filesink *c = ctx;
	/* What the workers received, NIC drops aside: the packets that a
	 * second signal would abandon if this interval were not settled. */
	uint64_t wrx = iv->rx_pkts - iv->ctr[FC_CTR_NIC_IMISSED] -
		       iv->ctr[FC_CTR_NIC_NOMBUF] - iv->ctr[FC_CTR_NIC_IERRORS];
	int rc;

	if (failed)
		rc = c->err != FC_FT_OK ? c->err : FC_FT_E_INVAL;
	else
		rc = fc_ft_writer_end_interval(c->wr, iv);
	if (rc != FC_FT_OK) {
		if (c->wr != NULL) {
			if (c->in_file > 0) {
				FC_WARN("%u earlier interval(s) of %s are LOST "
					"with it\n", c->in_file, c->path);
				atomic_fetch_add_explicit(
					&c->app->intervals_lost, c->in_file,
					memory_order_relaxed);
			}
			fc_ft_writer_abort(c->wr);
			c->wr = NULL;
			c->in_file = 0;
			settle(c, c->file_rx);
			c->file_rx = 0;
		}
		goto fail;
	}
	atomic_fetch_add_explicit(&c->app->intervals_written, 1,
				  memory_order_relaxed);
	c->file_rx += wrx;
	if (++c->in_file >= c->app->cfg.rotate)
		return close_file(c);
	return FC_FT_OK;
fail:
	settle(c, wrx);
	check_out_dir(c);
	atomic_fetch_add_explicit(&c->app->intervals_lost, 1,
				  memory_order_relaxed);
	FC_WARN("interval %" PRIu64 " (start %" PRIu64 ", %" PRIu64
		" records, %" PRIu64 " packets) LOST: cannot write %s: %s; "
		"capture continues\n",
		(uint64_t)iv->index, iv->start, iv->n_records, iv->rec_pkts,
		c->path, fc_ft_strerror(rc));
	return rc;
}

static int fs_flush(void *ctx)
{
	return close_file(ctx);
}

static const char *fs_strerror(void *ctx, int status)
{
	(void)ctx;
	return fc_ft_strerror(status);
}

static const struct fc_sink_ops filesink_ops = {
	.name = "file",
	.begin = fs_begin,
	.records = fs_records,
	.end = fs_end,
	.flush = fs_flush,
	.strerror = fs_strerror,
	.streams = true,
};

int fc_filesink_add(struct fc_sinks *ss, struct fc_app *app)
{
	struct fc_filesink *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return -ENOMEM;
	c->app = app;
	c->wcache = fc_ft_wcache_create();
	if (c->wcache == NULL) {
		free(c);
		return -ENOMEM;
	}
	rc = fc_sinks_add(ss, &filesink_ops, c);
	if (rc != 0) {
		fc_ft_wcache_free(c->wcache);
		free(c);
	}
	return rc;
}

void fc_filesink_free(struct fc_sinks *ss)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (ss->s[i].ops == &filesink_ops) {
			struct fc_filesink *c = ss->s[i].ctx;

			if (c != NULL)
				fc_ft_wcache_free(c->wcache);
			free(c);
			ss->s[i].ctx = NULL;
		}
}

const char *fc_filesink_path(const struct fc_sinks *ss)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (ss->s[i].ops == &filesink_ops && ss->s[i].ctx != NULL)
			return ((const struct fc_filesink *)ss->s[i].ctx)->path;
	return NULL;
}

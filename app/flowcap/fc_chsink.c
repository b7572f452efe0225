/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ClickHouse sink (--clickhouse URL): a record sink beside the file
 * sink, which it follows (the file is written first and stays the truth).
 * The collector's callbacks only copy an interval's records into a bounded
 * memory queue (--clickhouse-queue MB) and never wait on the server; a
 * sender thread of its own loads the queue in batches, exactly once
 * (lib/ch, the same protocol as flowcap-read --to-clickhouse). When the
 * queue is full, an interval is marked pending instead: the sender loads
 * pending intervals later from this run's files, once the queue is empty
 * and the server answers. At the end of the run it drains what it can
 * within a bound; whatever is still pending is reported, with the command
 * that loads it, and makes the exit status 1. It does not write files and
 * does not retry forever: the files are where nothing is lost.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fc_app.h"
#include "fc_ch.h"
#include "fc_rules.h"
#include "fc_sink.h"

#define BATCH_ROWS 1000000
#define BATCH_IVS 2000
/* After the run, how long the sender keeps trying a server that does not
 * answer before it leaves the rest pending. */
#define DRAIN_SECS 10.0

struct item {
	struct item *next;
	struct fc_ft_interval iv;
	uint64_t n, cap;
	struct fc_ft_record *recs;
	size_t bytes; /**< charged to the queue */
};

struct pend {
	uint64_t start;
	uint32_t index;
};

struct fc_chsink {
	struct fc_app *app;
	struct fc_ch *ch; /**< the sender thread's */
	pthread_t thr;
	bool thr_started;
	/* Under mu: the queue, its bytes, the pending list, the end. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct item *head, *tail;
	size_t q_bytes, q_max;
	struct pend *pend;
	size_t n_pend, cap_pend;
	bool flushing;
	/* The collector's interval in progress. */
	struct item *cur;
	bool full_said; /**< "queue full" logged for this episode */
	time_t run_start;
	/* Figures for the stats line, written by the sender or the collector
	 * and read relaxed by the stats line (no data hangs on them). */
	_Atomic uint64_t sent, sent_rows, queued, pending;
	char url[512];
};

/* Label names of a live interval's records: the run's label table
 * (ids are stable for the run; fc_rules.h). */
static const char *live_label(const void *ctx, unsigned id)
{
	const struct fc_labels *l = ctx;

	return id < FC_ARRAY_SIZE(l->name) ? l->name[id] : NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_u64(_Atomic uint64_t *a, int64_t d)
{
	atomic_fetch_add_explicit(a, (uint64_t)d, memory_order_relaxed);
}

/* Under mu. */
static void pend_add(struct fc_chsink *c, const struct fc_ft_interval *iv)
{
	if (c->n_pend == c->cap_pend) {
		size_t cap = c->cap_pend ? c->cap_pend * 2 : 256;
		struct pend *p = realloc(c->pend, cap * sizeof(*p));

		if (p == NULL) {
			/* Still counted pending; only catch-up misses it:
			 * flowcap-read --to-clickhouse loads it. */
			add_u64(&c->pending, 1);
			return;
		}
		c->pend = p;
		c->cap_pend = cap;
	}
	c->pend[c->n_pend].start = iv->start;
	c->pend[c->n_pend].index = iv->index;
	c->n_pend++;
	add_u64(&c->pending, 1);
}

/* --- the collector's side: copy and queue, never wait ----------------- */

static void mark_pending(struct fc_chsink *c, const struct fc_ft_interval *iv,
			 const char *why)
{
	pthread_mutex_lock(&c->mu);
	pend_add(c, iv);
	pthread_mutex_unlock(&c->mu);
	if (!c->full_said)
		FC_WARN("clickhouse: %s: interval %" PRIu32 " (start %" PRIu64
			") and the next ones are pending: they are loaded "
			"from the files when the server catches up\n",
			why, iv->index, iv->start);
	c->full_said = true;
}

static int cs_begin(void *ctx, const struct fc_ft_interval *iv)
{
	struct fc_chsink *c = ctx;
	size_t need = sizeof(struct item) +
		      (size_t)iv->n_records * sizeof(struct fc_ft_record);
	bool room;

	c->cur = NULL;
	pthread_mutex_lock(&c->mu);
	room = c->q_bytes + need <= c->q_max;
	if (room)
		c->q_bytes += need;
	pthread_mutex_unlock(&c->mu);
	if (!room) {
		mark_pending(c, iv, "the queue is full");
		return 0;
	}
	struct item *it = calloc(1, sizeof(*it));

	if (it != NULL && iv->n_records > 0) {
		it->recs = malloc((size_t)iv->n_records * sizeof(*it->recs));
		if (it->recs == NULL) {
			free(it);
			it = NULL;
		}
	}
	if (it == NULL) {
		pthread_mutex_lock(&c->mu);
		c->q_bytes -= need;
		pthread_mutex_unlock(&c->mu);
		mark_pending(c, iv, "out of memory for the queue");
		return 0;
	}
	it->iv = *iv;
	it->cap = iv->n_records;
	it->bytes = need;
	c->cur = it;
	return 0;
}

static int cs_records(void *ctx, const struct fc_ft_record *recs, uint64_t n)
{
	struct fc_chsink *c = ctx;
	struct item *it = c->cur;

	if (it == NULL)
		return 0;
	if (it->n + n > it->cap)
		n = it->cap - it->n; /* more than announced: end() refuses */
	memcpy(it->recs + it->n, recs, (size_t)n * sizeof(*recs));
	it->n += n;
	return 0;
}

static int cs_end(void *ctx, const struct fc_ft_interval *iv, bool failed)
{
	struct fc_chsink *c = ctx;
	struct item *it = c->cur;

	c->cur = NULL;
	if (it == NULL)
		return 0;
	if (failed || it->n != it->cap) {
		pthread_mutex_lock(&c->mu);
		c->q_bytes -= it->bytes;
		pthread_mutex_unlock(&c->mu);
		free(it->recs);
		free(it);
		mark_pending(c, iv, "an interval came incomplete");
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	if (c->tail)
		c->tail->next = it;
	else
		c->head = it;
	c->tail = it;
	add_u64(&c->queued, 1);
	/* The episode of a full queue ends once the queue takes one. */
	c->full_said = false;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* --- the sender thread ------------------------------------------------- */

struct sender {
	struct fc_chsink *c;
	struct fc_ch_batch b;
	struct fc_ch_load_stats st;
	bool said_down; /**< "does not answer" logged, not yet "answers" */
};

static void say_result(struct sender *s, int rc)
{
	if (rc == FC_CH_OK) {
		if (s->said_down)
			FC_INFO("clickhouse: %s answers again: sending\n",
				s->c->url);
		s->said_down = false;
		return;
	}
	if (!s->said_down)
		FC_WARN("clickhouse: %s (%s); intervals queue up to the limit, "
			"then are pending and loaded from the files later; "
			"capture continues\n",
			fc_ch_error(s->c->ch), fc_ch_strerror(rc));
	s->said_down = true;
}

/* Load the queue's head (up to a batch); 0, or a negative status with the
 * items left in the queue. */
static int send_queue(struct sender *s)
{
	struct fc_chsink *c = s->c;
	struct item *first, *it, *last = NULL;
	size_t k = 0, bytes = 0;
	uint64_t rows = 0;
	int rc;

	pthread_mutex_lock(&c->mu);
	first = c->head;
	pthread_mutex_unlock(&c->mu);
	/* Items before tail are not touched by the collector: it only
	 * appends after the tail it read under mu. */
	for (it = first; it != NULL && k < BATCH_IVS && rows < BATCH_ROWS;
	     it = it->next) {
		fc_ch_batch_begin(&s->b, c->app->cfg.name, &it->iv,
				  c->app->cfg.interval, "flowcap live");
		if (c->app->labels != NULL)
			fc_ch_batch_labels(&s->b, live_label, c->app->labels);
		fc_ch_batch_records(&s->b, it->recs, it->n);
		rows += it->n;
		bytes += it->bytes;
		last = it;
		k++;
		pthread_mutex_lock(&c->mu);
		bool at_tail = it == c->tail;

		pthread_mutex_unlock(&c->mu);
		if (at_tail)
			break;
	}
	if (k == 0)
		return 0;
	rc = fc_ch_load_batch(c->ch, &s->b, &s->st);
	fc_ch_batch_reset(&s->b);
	say_result(s, rc);
	if (rc != FC_CH_OK)
		return rc;
	pthread_mutex_lock(&c->mu);
	c->head = last->next;
	if (c->head == NULL)
		c->tail = NULL;
	c->q_bytes -= bytes;
	pthread_mutex_unlock(&c->mu);
	for (it = first; it != NULL;) {
		struct item *nx = it->next;
		bool end = it == last;

		add_u64(&c->sent_rows, (int64_t)it->n);
		free(it->recs);
		free(it);
		if (end)
			break;
		it = nx;
	}
	add_u64(&c->sent, (int64_t)k);
	add_u64(&c->queued, -(int64_t)k);
	return 0;
}

/* Is (start, index) pending? Under mu. Returns its slot or -1. */
static long pend_find(struct fc_chsink *c, uint64_t start, uint32_t index)
{
	for (size_t i = 0; i < c->n_pend; i++)
		if (c->pend[i].start == start && c->pend[i].index == index)
			return (long)i;
	return -1;
}

/* Load the batch of caught-up intervals; drop them from the pending list. */
static int send_caught_up(struct sender *s)
{
	struct fc_chsink *c = s->c;
	int rc;

	if (s->b.n == 0)
		return 0;
	rc = fc_ch_load_batch(c->ch, &s->b, &s->st);
	say_result(s, rc);
	if (rc == FC_CH_OK) {
		pthread_mutex_lock(&c->mu);
		for (size_t i = 0; i < s->b.n; i++) {
			long j = pend_find(c, s->b.v[i].iv.start,
					   s->b.v[i].iv.index);

			if (j >= 0) {
				c->pend[j] = c->pend[--c->n_pend];
				add_u64(&c->pending, -1);
				add_u64(&c->sent, 1);
				add_u64(&c->sent_rows, (int64_t)s->b.v[i].n);
			}
		}
		pthread_mutex_unlock(&c->mu);
	}
	fc_ch_batch_reset(&s->b);
	return rc;
}

/* Catch up the pending intervals from this run's complete files (those
 * modified since the run began; an open file's intervals wait for it to
 * be completed). 0 when the server took what was found. */
static int catch_up(struct sender *s)
{
	static struct fc_ft_record recs[4096];
	struct fc_chsink *c = s->c;
	const char *dir = c->app->cfg.out_dir;
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char path[PATH_MAX];
		size_t l = strlen(de->d_name);
		struct stat st;

		if (l < 7 || strcmp(de->d_name + l - 7, ".ft.zst") != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
			    (int)sizeof(path) ||
		    stat(path, &st) != 0 || st.st_mtime < c->run_start)
			continue;
		int fst;
		struct fc_ft_reader *r = fc_ft_reader_open(path, &fst);
		struct fc_ft_interval iv;

		if (r == NULL)
			continue;
		while (fc_ft_reader_next_interval(r, &iv) == 1) {
			pthread_mutex_lock(&c->mu);
			bool want = pend_find(c, iv.start, iv.index) >= 0;

			pthread_mutex_unlock(&c->mu);
			if (!want)
				continue;
			fc_ch_batch_begin(&s->b, c->app->cfg.name, &iv,
					  c->app->cfg.interval, path);
			fc_ch_batch_labels(&s->b, fc_ch_reader_label, r);
			int k;
			unsigned m = 0;
			uint64_t n = 0;

			while ((k = fc_ft_reader_next_record(r, &recs[m])) == 1) {
				n++;
				if (++m == FC_ARRAY_SIZE(recs)) {
					fc_ch_batch_records(&s->b, recs, m);
					m = 0;
				}
			}
			fc_ch_batch_records(&s->b, recs, m);
			if (k < 0 || n != iv.n_records) {
				/* damaged: left pending, for the operator */
				fc_ch_batch_reset(&s->b);
				break;
			}
			if (s->b.n_rows >= BATCH_ROWS || s->b.n >= BATCH_IVS) {
				rc = send_caught_up(s);
				if (rc != 0)
					break;
			}
		}
		fc_ft_reader_close(r);
	}
	closedir(d);
	if (rc == 0)
		rc = send_caught_up(s);
	fc_ch_batch_reset(&s->b);
	return rc;
}

static void *sender_main(void *arg)
{
	struct sender s = {.c = arg};
	struct fc_chsink *c = s.c;
	double drain_end = 0, next_catch = 0, backoff = 0.2;
	bool caught_after_flush = false;

	for (;;) {
		bool flushing, have, pend;

		pthread_mutex_lock(&c->mu);
		while (c->head == NULL && !c->flushing &&
		       (c->n_pend == 0 || now_s() < next_catch)) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&c->cv, &c->mu, &ts);
		}
		flushing = c->flushing;
		have = c->head != NULL;
		pend = c->n_pend > 0;
		pthread_mutex_unlock(&c->mu);
		if (flushing && drain_end == 0)
			drain_end = now_s() + DRAIN_SECS;

		int rc = 0;

		if (have) {
			rc = send_queue(&s);
		} else if (pend && (now_s() >= next_catch || flushing)) {
			/* Complete files since the last look. */
			rc = catch_up(&s);
			next_catch = now_s() + 2.0;
			if (flushing)
				caught_after_flush = true;
		} else if (flushing) {
			break; /* nothing queued, nothing pending */
		}
		if (rc == 0) {
			backoff = 0.2;
			if (flushing && !have && caught_after_flush)
				break; /* what the files hold is sent */
			continue;
		}
		if (flushing && now_s() >= drain_end)
			break;
		/* The server is down or refuses: wait, then again. */
		for (double t = 0; t < backoff; t += 0.05)
			nanosleep(&(struct timespec){0, 50000000}, NULL);
		backoff = backoff * 2 > 2 ? 2 : backoff * 2;
	}
	/* Whatever is still queued is in the files: pending. */
	pthread_mutex_lock(&c->mu);
	while (c->head != NULL) {
		struct item *it = c->head;

		c->head = it->next;
		pend_add(c, &it->iv);
		add_u64(&c->queued, -1);
		c->q_bytes -= it->bytes;
		free(it->recs);
		free(it);
	}
	c->tail = NULL;
	pthread_mutex_unlock(&c->mu);
	fc_ch_batch_free(&s.b);
	return NULL;
}

static int cs_flush(void *ctx)
{
	struct fc_chsink *c = ctx;

	if (!c->thr_started)
		return 0;
	pthread_mutex_lock(&c->mu);
	c->flushing = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thr, NULL);
	c->thr_started = false;
	return atomic_load_explicit(&c->pending, memory_order_relaxed) ? -1 : 0;
}

static const char *cs_strerror(void *ctx, int status)
{
	(void)ctx;
	return status ? "intervals left pending" : "ok";
}

static bool cs_report(void *ctx, char *buf, size_t len)
{
	struct fc_chsink *c = ctx;
	uint64_t p = atomic_load_explicit(&c->pending, memory_order_relaxed);

	snprintf(buf, len, "sent %" PRIu64 " (%" PRIu64 " records) queued %"
		 PRIu64 " pending %" PRIu64,
		 atomic_load_explicit(&c->sent, memory_order_relaxed),
		 atomic_load_explicit(&c->sent_rows, memory_order_relaxed),
		 atomic_load_explicit(&c->queued, memory_order_relaxed), p);
	return p != 0;
}

static const struct fc_sink_ops chsink_ops = {
	.name = "clickhouse",
	.begin = cs_begin,
	.records = cs_records,
	.end = cs_end,
	.flush = cs_flush,
	.strerror = cs_strerror,
	.report = cs_report,
};

int fc_chsink_add(struct fc_sinks *ss, struct fc_app *app, const char *url,
		  unsigned queue_mb)
{
	struct fc_chsink *c = calloc(1, sizeof(*c));
	char err[512];
	int rc;

	if (c == NULL)
		return -ENOMEM;
	c->app = app;
	c->q_max = (size_t)queue_mb << 20;
	c->run_start = time(NULL) - 1;
	snprintf(c->url, sizeof(c->url), "%s", url);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->ch = fc_ch_create(url, NULL, err, sizeof(err));
	if (c->ch == NULL) {
		fprintf(stderr, "flowcap: --clickhouse: %s\n", err);
		rc = -EINVAL;
		goto err_free;
	}
	/* The tables are checked now: a missing table or a wrong column
	 * is a set-up mistake, told before capture starts. A server that
	 * does not answer yet is not: intervals wait for it. */
	fc_ch_set_retry(c->ch, 2);
	rc = fc_ch_check_tables(c->ch);
	if (rc == FC_CH_E_CONNECT) {
		FC_WARN("clickhouse: %s; capture starts, intervals queue up "
			"and are sent when the server answers\n",
			fc_ch_error(c->ch));
	} else if (rc != FC_CH_OK) {
		fprintf(stderr, "flowcap: --clickhouse: %s\n", fc_ch_error(c->ch));
		rc = -EINVAL;
		goto err_free;
	}
	/* One try of a batch lasts at most this; the sender then backs off
	 * and tries again, and new intervals queue meanwhile. */
	fc_ch_set_retry(c->ch, 3);
	rc = fc_sinks_add(ss, &chsink_ops, c);
	if (rc != 0)
		goto err_free;
	if (pthread_create(&c->thr, NULL, sender_main, c) != 0) {
		ss->n--;
		rc = -EAGAIN;
		goto err_free;
	}
	c->thr_started = true;
	return 0;
err_free:
	fc_ch_free(c->ch);
	free(c);
	return rc;
}

bool fc_chsink_free(struct fc_sinks *ss)
{
	bool left = false;

	for (unsigned i = 0; i < ss->n; i++)
		if (ss->s[i].ops == &chsink_ops) {
			struct fc_chsink *c = ss->s[i].ctx;

			if (c->thr_started)
				cs_flush(c);
			left |= atomic_load(&c->pending) != 0;
			fc_ch_free(c->ch);
			free(c->pend);
			free(c);
			ss->s[i].ctx = NULL;
		}
	return left;
}

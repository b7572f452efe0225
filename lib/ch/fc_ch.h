/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ClickHouse over HTTP: a small client (libcurl, one keep-alive connection
 * per handle), the RowBinary encoding of flowtuple records and interval
 * accounting for the tables of sql/clickhouse/, and the load of one
 * interval exactly once (doc/clickhouse.md, "Exactly once"). Both
 * flowcap-read --to-clickhouse and flowcap's live sink use it, so that a
 * file loaded after the live sink sent its intervals adds nothing.
 * It does not read files, queue intervals or own threads: its callers do.
 */
#ifndef FC_CH_H
#define FC_CH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fc_ftfile.h"

/** Statuses (negative), besides 0. */
enum fc_ch_status {
	FC_CH_OK = 0,
	FC_CH_E_CONNECT = -1, /**< no answer: connect, send or receive failed */
	FC_CH_E_SERVER = -2,  /**< the server refused: fc_ch_error has its text */
	FC_CH_E_NOMEM = -3,
	FC_CH_E_SCHEMA = -4,  /**< a table is missing or has other columns */
	FC_CH_E_PARTIAL = -5, /**< part of an interval stored, cannot be removed */
	FC_CH_E_STOPPED = -6, /**< the stop flag was raised while retrying */
};

/** An interval's result when it was loaded before. */
#define FC_CH_SKIPPED 1

/** A growing byte buffer (RowBinary rows, answers). */
struct fc_chbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom; /**< an append failed: the content is incomplete */
};

/** Empty the buffer, keep its memory. Thread safety: its owner's thread. */
static inline void fc_chbuf_reset(struct fc_chbuf *b)
{
	b->len = 0;
	b->oom = false;
}

/** Free the buffer's memory (a zeroed buffer is a no-op). */
void fc_chbuf_free(struct fc_chbuf *b);

/** Room for n more bytes; false (and b->oom) when memory ran out. */
bool fc_chbuf_reserve(struct fc_chbuf *b, size_t n);

struct fc_ch;

/**
 * A client of the server at url (http://HOST:PORT/, the HTTP interface),
 * working in database (NULL: the server's default). Connects lazily: a
 * server that is down is found by the first request. Returns NULL with a
 * message in err on a bad URL or no memory.
 * Thread safety: any thread; the client then belongs to one thread.
 */
struct fc_ch *fc_ch_create(const char *url, const char *database, char *err,
			   size_t errlen);

/** Free the client (NULL is a no-op). Thread safety: its thread. */
void fc_ch_free(struct fc_ch *ch);

/**
 * How long one request, or one interval's load, keeps retrying when the
 * server does not answer or answers "busy" (back-off from 0.1 s doubling
 * to 2 s). Default 30 s. 0: one attempt.
 */
void fc_ch_set_retry(struct fc_ch *ch, double secs);

/**
 * A flag that ends retries early (FC_CH_E_STOPPED): the live sink's stop.
 * Thread safety: set from any thread (an acquire load here, partner: the
 * release store of whoever stops); the client's own calls in one thread.
 */
void fc_ch_set_stop(struct fc_ch *ch, const _Atomic bool *stop);

/**
 * Send one query. Without body, sql is the request body; with one, sql
 * goes in the URL and body is its data (an INSERT ... FORMAT RowBinary).
 * A query without body is retried within the retry time; an INSERT never
 * is (it may have been stored before its answer was lost:
 * fc_ch_load_batch retries whole loads instead). out (may be NULL) receives the answer.
 * Returns FC_CH_OK or a negative status; the text of the last failure is
 * fc_ch_error. Thread safety: the client's thread. Not hot path.
 */
int fc_ch_query(struct fc_ch *ch, const char *sql, const void *body,
		size_t len, struct fc_chbuf *out, const char *query_id);

/**
 * The last failure: the server's own message (first line, "Code: N,
 * ...") or the transport's, with the URL. Never NULL.
 */
const char *fc_ch_error(const struct fc_ch *ch);

/** The server's exception code of the last failure (0: none or transport). */
int fc_ch_error_code(const struct fc_ch *ch);

/** The URL the client talks to, for messages. */
const char *fc_ch_url(const struct fc_ch *ch);

/**
 * Check that the server answers and that flowtuple and flowtuple_intervals
 * exist with the columns this client writes (names and types). Returns
 * FC_CH_OK; FC_CH_E_CONNECT; FC_CH_E_SCHEMA with fc_ch_error naming the
 * table, the column and the fix. Learns whether flowtuple is Distributed.
 * Thread safety: the client's thread. Not hot path.
 */
int fc_ch_check_tables(struct fc_ch *ch);

/**
 * Identity of one interval's load: a stable 64-bit hash of the monitor and
 * the interval's accounting (index, start, end, flags, every counter) and
 * record count. The same interval read from its file or handed to the live
 * sink has the same id; stored in both tables, never change its recipe.
 * Thread safety: any thread; pure function.
 */
uint64_t fc_ch_load_id(const char *monitor, const struct fc_ft_interval *iv,
		       uint64_t n_records);

/**
 * The per-interval part of a row, encoded once per interval: monitor,
 * interval_start, interval_len. At most FC_CH_PREFIX_MAX bytes.
 */
#define FC_CH_PREFIX_MAX (256 + 10 + 8)
struct fc_ch_prefix {
	uint8_t b[FC_CH_PREFIX_MAX];
	size_t len;
	uint64_t load_id;
};

/**
 * Prepare the prefix of an interval's rows. Thread safety: any thread;
 * writes only p.
 */
void fc_ch_prefix_init(struct fc_ch_prefix *p, const char *monitor,
		       const struct fc_ft_interval *iv, uint32_t interval_len,
		       uint64_t load_id);

/** Bytes of one record's RowBinary row after the prefix, with an empty
 *  label; a label adds its length (at most FC_CH_LABEL_MAX). */
#define FC_CH_ROW_TAIL 63
#define FC_CH_LABEL_MAX 31

/**
 * The name of a record's label id (fc_ftkey_label): "" for 0; NULL (or
 * no function) is stored as "". ctx is the caller's (a file reader, the
 * live run's label table).
 */
typedef const char *(*fc_ch_label_fn)(const void *ctx, unsigned id);

/**
 * The fc_ch_label_fn of a file: ctx is its struct fc_ft_reader, the names
 * those of the interval it is in (fc_ft_reader_label).
 * Thread safety: the reader's thread.
 */
const char *fc_ch_reader_label(const void *ctx, unsigned id);

/**
 * Append n records as RowBinary rows of flowtuple, their label names
 * taken from label(ctx, id) (label may be NULL: no labels). Returns false
 * when memory ran out (b->oom). Thread safety: b's owner. Not hot path
 * (one memcpy and a few stores per record).
 */
bool fc_ch_put_records(struct fc_chbuf *b, const struct fc_ch_prefix *p,
		       const struct fc_ft_record *recs, uint64_t n,
		       fc_ch_label_fn label, const void *ctx);

/** What loads did, for the caller's figures. */
struct fc_ch_load_stats {
	uint64_t loaded, loaded_rows;   /**< intervals (records) stored now */
	uint64_t skipped, skipped_rows; /**< found in the ledger already */
	uint64_t deleted_partial;  /**< partial loads found and removed */
	uint64_t completed_ledger; /**< rows found whole, only the ledger written */
};

/** One interval of a batch. */
struct fc_ch_iv {
	struct fc_ft_interval iv;
	uint64_t n;          /**< its records */
	uint64_t load_id;
	uint32_t interval_len;
	size_t row_off;      /**< its rows in the batch's buffer */
	size_t row_len;
	char *source;        /**< a file's path, "live" */
	int result;          /**< after fc_ch_load_batch: FC_CH_OK or _SKIPPED */
};

/**
 * Intervals of one monitor loaded together: one INSERT for their rows and
 * one for their ledger rows, instead of two per interval (a server takes
 * some 10 ms per request, whatever its size).
 */
struct fc_ch_batch {
	char monitor[256];
	struct fc_chbuf rows;
	struct fc_ch_iv *v;
	size_t n, cap;
	uint64_t n_rows;
	bool oom;
	fc_ch_label_fn label;   /**< names of the records' labels, or NULL */
	const void *label_ctx;
};

/**
 * Start an interval in the batch (whose monitor it must have: an empty
 * batch takes it). Its records follow with fc_ch_batch_records. Returns
 * false when out of memory. Thread safety: the batch's owner.
 */
bool fc_ch_batch_begin(struct fc_ch_batch *b, const char *monitor,
		       const struct fc_ft_interval *iv, uint32_t interval_len,
		       const char *source);

/**
 * Where the names of the labels of the records that follow come from
 * (fc_ch_label_fn); until called, and after fc_ch_batch_reset, none.
 * Thread safety: the batch's owner.
 */
void fc_ch_batch_labels(struct fc_ch_batch *b, fc_ch_label_fn label,
			const void *ctx);

/** Records of the interval begun last (any number of calls). */
bool fc_ch_batch_records(struct fc_ch_batch *b,
			 const struct fc_ft_record *recs, uint64_t n);

/** Empty the batch, keep its memory. */
void fc_ch_batch_reset(struct fc_ch_batch *b);

/** Free what the batch holds (a zeroed batch is a no-op). */
void fc_ch_batch_free(struct fc_ch_batch *b);

/**
 * Load a batch exactly once: intervals already in flowtuple_intervals
 * (the ledger) are skipped; rows of an earlier attempt that did not reach
 * the ledger are kept when whole and removed when partial; then the rows
 * of the others go into flowtuple in one INSERT, and after it their
 * ledger rows. Transport failures and "busy" answers restart the whole
 * load after a back-off, within the retry time. Each interval's result is
 * in b->v[i].result. Returns FC_CH_OK, or a negative status with
 * fc_ch_error (then nothing of the batch is in the ledger, and loading it
 * again is safe). Thread safety: the client's thread. Not hot path.
 */
int fc_ch_load_batch(struct fc_ch *ch, struct fc_ch_batch *b,
		     struct fc_ch_load_stats *st);

/**
 * Text for a status (never NULL). Thread safety: any thread.
 */
const char *fc_ch_strerror(int status);

#endif /* FC_CH_H */

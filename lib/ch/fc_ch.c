/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ClickHouse over HTTP (see fc_ch.h): requests through one libcurl easy
 * handle (keep-alive), retries with back-off for what may pass (no answer,
 * "busy"), the server's own message for what will not, RowBinary rows,
 * and the exactly-once load of an interval. Written for the HTTP
 * interface of ClickHouse 18.16 and later: RowBinary, FixedString,
 * DateTime, mutations (ALTER TABLE DELETE) and query_id.
 */
#include "fc_ch.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "fc_common.h"

/* One interval goes in one block, hence one part, stored whole or not at
 * all (a MergeTree block is written atomically); intervals beyond this
 * many records take several blocks, and a partial store of them is found
 * and removed by the next load (fc_ch_load_batch). */
#define CH_BLOCK_ROWS 100000000

struct fc_ch {
	CURL *curl;
	struct curl_slist *hdrs; /**< "Expect:" (no 100-continue wait) */
	char *url;       /**< as given, for messages */
	char *base;      /**< url + '?' or '&', with database=..&  */
	double retry;    /**< seconds */
	const _Atomic bool *stop;
	bool distributed; /**< flowtuple is a Distributed table */
	int code;        /**< server exception code of the last failure */
	char err[2048];
};

static bool curl_ready;

/*
 * libcurl, loaded when the first client is made: linked, its dependency
 * tree (TLS, Kerberos, LDAP, SSH and more, some 30 libraries) is mapped
 * and initialised at every start of the program, about 4 ms, which most
 * runs of flowcap-read (a query, a dump) spend for nothing.
 */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption o, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO i, ...);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	const char *(*easy_strerror)(CURLcode rc);
	char *(*easy_escape)(CURL *c, const char *s, int n);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l,
					   const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} cu;

#define CURL_SO "libcurl.so.4"

/* Load libcurl (once); false with err filled when it cannot be. */
static bool curl_load(char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t off;
	} sym[] = {
#define S(f) {"curl_" #f, offsetof(__typeof__(cu), f)}
		S(global_init), S(easy_init), S(easy_setopt), S(easy_perform),
		S(easy_getinfo), S(easy_cleanup), S(easy_reset),
		S(easy_strerror), S(easy_escape), S(free), S(slist_append),
		S(slist_free_all),
#undef S
	};
	__typeof__(cu) got;
	void *h;

	if (cu.global_init != NULL)
		return true;
	memset(&got, 0, sizeof(got));
	h = dlopen(CURL_SO, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		snprintf(err, errlen, "ClickHouse's HTTP client needs %s, "
			 "which cannot be loaded (%s): apt-get install libcurl4",
			 CURL_SO, dlerror());
		return false;
	}
	for (size_t i = 0; i < sizeof(sym) / sizeof(sym[0]); i++) {
		void *f = dlsym(h, sym[i].name);

		if (f == NULL) {
			snprintf(err, errlen, "%s has no %s: not the libcurl "
				 "this program was built for", CURL_SO,
				 sym[i].name);
			dlclose(h);
			return false;
		}
		memcpy((char *)&got + sym[i].off, &f, sizeof(f));
	}
	cu = got; /* all or nothing: a half-loaded set is never used */
	return true; /* kept loaded: the handles live to the end */
}

void fc_chbuf_free(struct fc_chbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

bool fc_chbuf_reserve(struct fc_chbuf *b, size_t n)
{
	if (b->oom)
		return false;
	if (b->len + n <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 65536;

	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);

	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static bool put(struct fc_chbuf *b, const void *p, size_t n)
{
	if (!fc_chbuf_reserve(b, n))
		return false;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return true;
}

static size_t write_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct fc_chbuf *b = arg;

	return put(b, p, sz * n) ? sz * n : 0;
}

const char *fc_ch_strerror(int status)
{
	switch (status) {
	case FC_CH_OK: return "ok";
	case FC_CH_SKIPPED: return "loaded before";
	case FC_CH_E_CONNECT: return "no answer from the server";
	case FC_CH_E_SERVER: return "the server refused";
	case FC_CH_E_NOMEM: return "out of memory";
	case FC_CH_E_SCHEMA: return "the tables do not match";
	case FC_CH_E_PARTIAL: return "partly stored, cannot be removed";
	case FC_CH_E_STOPPED: return "stopped";
	}
	return "unknown status";
}

struct fc_ch *fc_ch_create(const char *url, const char *database, char *err,
			   size_t errlen)
{
	struct fc_ch *ch;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen,
			 "ClickHouse URL '%s' is not http://HOST:PORT/ (the "
			 "server's HTTP interface, port 8123 by default)",
			 url);
		return NULL;
	}
	if (database != NULL) {
		for (const char *c = database; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_') {
				snprintf(err, errlen,
					 "database name '%s': only letters, "
					 "digits and '_'",
					 database);
				return NULL;
			}
	}
	if (!curl_ready) {
		/* Once, before any thread of ours makes a handle (not
		 * thread-safe in libcurl before 7.84). */
		if (!curl_load(err, errlen))
			return NULL;
		cu.global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = true;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		goto err_nomem;
	ch->retry = 30;
	ch->url = strdup(url);
	if (asprintf(&ch->base, "%s%s%s%s%s", url,
		     strchr(url, '?') ? "&" : (url[strlen(url) - 1] == '/' ? "?" : "/?"),
		     database ? "database=" : "", database ? database : "",
		     database ? "&" : "") < 0)
		ch->base = NULL;
	ch->curl = cu.easy_init();
	/* curl asks a large POST for "100 Continue" first and waits for it
	 * up to a second; the body goes at once instead. */
	ch->hdrs = cu.slist_append(NULL, "Expect:");
	if (ch->url == NULL || ch->base == NULL || ch->curl == NULL ||
	    ch->hdrs == NULL)
		goto err_nomem;
	snprintf(ch->err, sizeof(ch->err), "no error");
	return ch;
err_nomem:
	fc_ch_free(ch);
	snprintf(err, errlen, "out of memory making a ClickHouse client");
	return NULL;
}

void fc_ch_free(struct fc_ch *ch)
{
	if (ch == NULL)
		return;
	if (ch->curl)
		cu.easy_cleanup(ch->curl);
	cu.slist_free_all(ch->hdrs);
	free(ch->url);
	free(ch->base);
	free(ch);
}

void fc_ch_set_retry(struct fc_ch *ch, double secs)
{
	ch->retry = secs;
}

void fc_ch_set_stop(struct fc_ch *ch, const _Atomic bool *stop)
{
	ch->stop = stop;
}

const char *fc_ch_error(const struct fc_ch *ch)
{
	return ch->err;
}

int fc_ch_error_code(const struct fc_ch *ch)
{
	return ch->code;
}

const char *fc_ch_url(const struct fc_ch *ch)
{
	return ch->url;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool stopped(const struct fc_ch *ch)
{
	return ch->stop != NULL &&
	       atomic_load_explicit(ch->stop, memory_order_acquire);
}

/* Sleep the back-off d (seconds), waking early on stop; false if
 * stopped or the deadline would pass. */
static bool backoff(struct fc_ch *ch, double *d, double deadline)
{
	if (now_s() + *d > deadline)
		return false;
	for (double slept = 0; slept < *d; slept += 0.05) {
		if (stopped(ch))
			return false;
		nanosleep(&(struct timespec){0, 50000000}, NULL);
	}
	*d = *d * 2 > 2.0 ? 2.0 : *d * 2;
	return !stopped(ch);
}

/* Server errors worth a retry: too many queries or parts, timeouts, a
 * query of the same id still running, memory. */
static bool retryable(int code)
{
	switch (code) {
	case 159: /* TIMEOUT_EXCEEDED */
	case 202: /* TOO_MANY_SIMULTANEOUS_QUERIES */
	case 209: /* SOCKET_TIMEOUT */
	case 210: /* NETWORK_ERROR */
	case 216: /* QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING */
	case 241: /* MEMORY_LIMIT_EXCEEDED */
	case 252: /* TOO_MANY_PARTS */
		return true;
	}
	return false;
}

/* The server's message: its first line, without the trailing noise. */
static void server_message(struct fc_ch *ch, const struct fc_chbuf *b,
			   long http)
{
	size_t n = b->len;
	const char *p = (const char *)b->p;
	const char *c;

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	const char *nl = p ? memchr(p, '\n', n) : NULL;

	if (nl)
		n = (size_t)(nl - p);
	if (n > 600)
		n = 600;
	ch->code = 0;
	if (p && n > 6 && strncmp(p, "Code: ", 6) == 0)
		ch->code = atoi(p + 6);
	snprintf(ch->err, sizeof(ch->err), "%s: HTTP %ld: %.*s", ch->url,
		 http, (int)n, p ? p : "");
	/* ", e.what() = DB::Exception" adds nothing. */
	c = strstr(ch->err, ", e.what() = ");
	if (c)
		*(char *)c = '\0';
}

/* One attempt. */
static int attempt(struct fc_ch *ch, const char *sql, const void *body,
		   size_t len, struct fc_chbuf *out, const char *query_id)
{
	struct fc_chbuf tmp = {0};
	struct fc_chbuf *ans = out ? out : &tmp;
	char *url = NULL, *esc = NULL;
	CURL *c = ch->curl;
	CURLcode rc;
	long http = 0;
	int st;

	fc_chbuf_reset(ans);
	if (body != NULL) {
		esc = cu.easy_escape(c, sql, 0);
		if (esc == NULL)
			return FC_CH_E_NOMEM;
	}
	/* The server waits for the end of the query before it answers, so
	 * that an error is an error status, never a cut-off 200. */
	if (asprintf(&url,
		     "%swait_end_of_query=1&max_insert_block_size=%u"
		     "&insert_distributed_sync=1%s%s%s%s",
		     ch->base, CH_BLOCK_ROWS, query_id ? "&query_id=" : "",
		     query_id ? query_id : "", esc ? "&query=" : "",
		     esc ? esc : "") < 0) {
		cu.free(esc);
		return FC_CH_E_NOMEM;
	}
	cu.free(esc);
	cu.easy_reset(c);
	cu.easy_setopt(c, CURLOPT_URL, url);
	cu.easy_setopt(c, CURLOPT_POST, 1L);
	cu.easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : (const void *)sql);
	cu.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)(body ? len : strlen(sql)));
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, ans);
	cu.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	/* A server that takes no byte for 60 s is gone. */
	cu.easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	cu.easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_HTTPHEADER, ch->hdrs);
	rc = cu.easy_perform(c);
	free(url);
	if (rc != CURLE_OK) {
		ch->code = 0;
		snprintf(ch->err, sizeof(ch->err), "%s: %s", ch->url,
			 rc == CURLE_WRITE_ERROR && ans->oom ?
				 "out of memory for the answer" :
				 cu.easy_strerror(rc));
		st = ans->oom ? FC_CH_E_NOMEM : FC_CH_E_CONNECT;
		goto out;
	}
	cu.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	if (http != 200) {
		server_message(ch, ans, http);
		st = FC_CH_E_SERVER;
		goto out;
	}
	st = FC_CH_OK;
out:
	fc_chbuf_free(&tmp);
	return st;
}

int fc_ch_query(struct fc_ch *ch, const char *sql, const void *body,
		size_t len, struct fc_chbuf *out, const char *query_id)
{
	double deadline = now_s() + ch->retry, d = 0.1;
	int st;

	for (;;) {
		st = attempt(ch, sql, body, len, out, query_id);
		if (st == FC_CH_OK || body != NULL)
			return st;
		if (st != FC_CH_E_CONNECT &&
		    !(st == FC_CH_E_SERVER && retryable(ch->code)))
			return st;
		if (!backoff(ch, &d, deadline))
			return stopped(ch) ? FC_CH_E_STOPPED : st;
	}
}

/* A query whose answer is one unsigned number. */
static int query_u64(struct fc_ch *ch, const char *sql, uint64_t *v)
{
	struct fc_chbuf b = {0};
	int st = fc_ch_query(ch, sql, NULL, 0, &b, NULL);

	if (st == FC_CH_OK) {
		if (b.len == 0 || !fc_chbuf_reserve(&b, 1)) {
			snprintf(ch->err, sizeof(ch->err),
				 "%s: empty answer to: %s", ch->url, sql);
			st = FC_CH_E_SERVER;
		} else {
			b.p[b.len] = '\0';
			*v = strtoull((char *)b.p, NULL, 10);
		}
	}
	fc_chbuf_free(&b);
	return st;
}

/* --- the tables ------------------------------------------------------ */

struct col {
	const char *name, *type;
};

static const struct col ft_cols[] = {
	{"monitor", "String"},
	{"interval_start", "DateTime"},
	{"interval_len", "UInt32"},
	{"class", "Enum8('backscatter' = 0, 'icmpreq' = 1, 'other' = 2)"},
	{"src_ip", "FixedString(16)"},
	{"dst_ip", "FixedString(16)"},
	{"src_port", "UInt16"},
	{"dst_port", "UInt16"},
	{"protocol", "UInt8"},
	{"ttl", "UInt8"},
	{"tcp_flags", "UInt8"},
	{"ip_len", "UInt32"},
	{"packets", "UInt64"},
	{"label", "String"},
	{"vlan", "UInt16"},
	{"load_id", "UInt64"},
};

/* flowtuple_intervals: these, then every counter by name, then the tail. */
static const struct col iv_head[] = {
	{"monitor", "String"},
	{"interval_start", "DateTime"},
	{"interval_end", "DateTime"},
	{"interval_len", "UInt32"},
	{"interval_index", "UInt32"},
	{"flags", "UInt32"},
	{"rx_pkts", "UInt64"},
	{"rec_pkts", "UInt64"},
	{"n_records", "UInt64"},
};
static const struct col iv_tail[] = {
	{"load_id", "UInt64"},
	{"source", "String"},
	{"loaded_at", "DateTime"},
};

/* The column list of an INSERT: "(a, b, ...)". */
static void col_list(char *buf, size_t len, bool intervals)
{
	size_t o = 0;

	o += (size_t)snprintf(buf + o, len - o, "(");
	if (!intervals) {
		for (size_t i = 0; i < FC_ARRAY_SIZE(ft_cols); i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      i ? ", " : "", ft_cols[i].name);
	} else {
		for (size_t i = 0; i < FC_ARRAY_SIZE(iv_head); i++)
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
					      i ? ", " : "", iv_head[i].name);
		for (unsigned id = 1; id < FC_CTR_MAX; id++)
			if (fc_ft_counter_name(id))
				o += (size_t)snprintf(buf + o, len - o, ", %s",
						      fc_ft_counter_name(id));
		for (size_t i = 0; i < FC_ARRAY_SIZE(iv_tail); i++)
			o += (size_t)snprintf(buf + o, len - o, ", %s",
					      iv_tail[i].name);
	}
	snprintf(buf + o, len - o, ")");
}

/* Is (name, type) among the server's columns (TSV "name\ttype\n")? */
static const char *find_col(const char *tsv, const char *name)
{
	size_t n = strlen(name);

	for (const char *l = tsv; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (strncmp(l, name, n) == 0 && l[n] == '\t')
			return l + n + 1;
	return NULL;
}

static int check_col(struct fc_ch *ch, const char *table, const char *tsv,
		     const char *name, const char *type)
{
	const char *t = find_col(tsv, name);
	size_t n = strlen(type);

	if (t != NULL && strncmp(t, type, n) == 0 &&
	    (t[n] == '\n' || t[n] == '\0'))
		return FC_CH_OK;
	if (t == NULL)
		snprintf(ch->err, sizeof(ch->err),
			 "%s: table %s has no column %s (%s): create the "
			 "tables with sql/clickhouse/flowtuple.sql "
			 "(installed in share/flowcap/clickhouse/)",
			 ch->url, table, name, type);
	else
		snprintf(ch->err, sizeof(ch->err),
			 "%s: column %s.%s is %.*s, flowcap writes %s: "
			 "create the tables with sql/clickhouse/flowtuple.sql",
			 ch->url, table, name, (int)strcspn(t, "\n"), t, type);
	return FC_CH_E_SCHEMA;
}

static int table_cols(struct fc_ch *ch, const char *table, struct fc_chbuf *b)
{
	char sql[256];
	int st;

	snprintf(sql, sizeof(sql),
		 "SELECT name, type FROM system.columns WHERE database = "
		 "currentDatabase() AND table = '%s' FORMAT TSVRaw",
		 table);
	st = fc_ch_query(ch, sql, NULL, 0, b, NULL);
	if (st != FC_CH_OK)
		return st;
	if (b->len == 0) {
		snprintf(ch->err, sizeof(ch->err),
			 "%s: table %s does not exist: create it with "
			 "sql/clickhouse/flowtuple.sql (installed in "
			 "share/flowcap/clickhouse/), or name the database "
			 "that has it (--database)",
			 ch->url, table);
		return FC_CH_E_SCHEMA;
	}
	if (!fc_chbuf_reserve(b, 1))
		return FC_CH_E_NOMEM;
	b->p[b->len] = '\0';
	return FC_CH_OK;
}

int fc_ch_check_tables(struct fc_ch *ch)
{
	struct fc_chbuf b = {0};
	uint64_t dist = 0;
	int st;

	st = table_cols(ch, "flowtuple", &b);
	for (size_t i = 0; st == FC_CH_OK && i < FC_ARRAY_SIZE(ft_cols); i++)
		st = check_col(ch, "flowtuple", (char *)b.p, ft_cols[i].name,
			       ft_cols[i].type);
	if (st == FC_CH_OK)
		st = table_cols(ch, "flowtuple_intervals", &b);
	for (size_t i = 0; st == FC_CH_OK && i < FC_ARRAY_SIZE(iv_head); i++)
		st = check_col(ch, "flowtuple_intervals", (char *)b.p,
			       iv_head[i].name, iv_head[i].type);
	for (unsigned id = 1; st == FC_CH_OK && id < FC_CTR_MAX; id++)
		if (fc_ft_counter_name(id))
			st = check_col(ch, "flowtuple_intervals", (char *)b.p,
				       fc_ft_counter_name(id), "UInt64");
	for (size_t i = 0; st == FC_CH_OK && i < FC_ARRAY_SIZE(iv_tail); i++)
		st = check_col(ch, "flowtuple_intervals", (char *)b.p,
			       iv_tail[i].name, iv_tail[i].type);
	fc_chbuf_free(&b);
	if (st == FC_CH_OK)
		st = query_u64(ch,
			       "SELECT count() FROM system.tables WHERE "
			       "database = currentDatabase() AND name = "
			       "'flowtuple' AND engine = 'Distributed'",
			       &dist);
	ch->distributed = dist > 0;
	return st;
}

/* --- rows ------------------------------------------------------------- */

uint64_t fc_ch_load_id(const char *monitor, const struct fc_ft_interval *iv,
		       uint64_t n_records)
{
	/* FNV-1a over the bytes, then a final mix; little-endian fields. */
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t w[8];

#define MIX_BYTE(x) (h = (h ^ (uint8_t)(x)) * 0x100000001b3ULL)
#define MIX_U64(v)                                  \
	do {                                        \
		fc_put_le64(w, (v));                \
		for (int _i = 0; _i < 8; _i++)      \
			MIX_BYTE(w[_i]);            \
	} while (0)
	for (const char *c = monitor; *c; c++)
		MIX_BYTE(*c);
	MIX_BYTE(0);
	MIX_U64(iv->index);
	MIX_U64(iv->flags);
	MIX_U64(iv->start);
	MIX_U64(iv->end);
	MIX_U64(iv->rx_pkts);
	MIX_U64(iv->rec_pkts);
	MIX_U64(n_records);
	for (unsigned i = 0; i < FC_CTR_MAX; i++)
		MIX_U64(iv->ctr[i]);
#undef MIX_U64
#undef MIX_BYTE
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void fc_ch_prefix_init(struct fc_ch_prefix *p, const char *monitor,
		       const struct fc_ft_interval *iv, uint32_t interval_len,
		       uint64_t load_id)
{
	size_t m = strnlen(monitor, 255);

	p->len = put_varint(p->b, m);
	memcpy(p->b + p->len, monitor, m);
	p->len += m;
	fc_put_le32(p->b + p->len, (uint32_t)iv->start);
	fc_put_le32(p->b + p->len + 4, interval_len);
	p->len += 8;
	p->load_id = load_id;
}

/* An address as FixedString(16): IPv6 as is, IPv4 as ::ffff:a.b.c.d. */
static void put_ip(uint8_t *d, unsigned family, const uint8_t *ip)
{
	if (family == 4) {
		memset(d, 0, 10);
		d[10] = d[11] = 0xff;
		memcpy(d + 12, ip, 4);
	} else {
		memcpy(d, ip, 16);
	}
}

bool fc_ch_put_records(struct fc_chbuf *b, const struct fc_ch_prefix *p,
		       const struct fc_ft_record *recs, uint64_t n,
		       fc_ch_label_fn label, const void *ctx)
{
	size_t row = p->len + FC_CH_ROW_TAIL + FC_CH_LABEL_MAX;

	if (!fc_chbuf_reserve(b, row * n))
		return false;
	uint8_t *d = b->p + b->len, *d0 = d;

	for (uint64_t i = 0; i < n; i++) {
		const struct fc_ftkey *k = &recs[i].key;

		memcpy(d, p->b, p->len);
		d += p->len;
		*d++ = k->cls;
		put_ip(d, k->family, k->src_ip);
		put_ip(d + 16, k->family, k->dst_ip);
		d += 32;
		fc_put_le16(d, k->src_port);
		fc_put_le16(d + 2, k->dst_port);
		d[4] = k->proto;
		d[5] = k->ttl;
		d[6] = k->tcp_flags;
		fc_put_le32(d + 7, k->ip_len);
		fc_put_le64(d + 11, recs[i].packets);
		d += 19;
		/* label: a String (length byte, at most 31 bytes), vlan */
		unsigned id = fc_ftkey_label(k);
		const char *name = id != 0 && label != NULL ? label(ctx, id) :
							      NULL;
		size_t ln = name != NULL ? strnlen(name, FC_CH_LABEL_MAX) : 0;

		*d++ = (uint8_t)ln;
		if (ln != 0)
			memcpy(d, name, ln);
		d += ln;
		fc_put_le16(d, (uint16_t)fc_ftkey_vlan(k));
		fc_put_le64(d + 2, p->load_id);
		d += 10;
	}
	b->len += (size_t)(d - d0);
	return true;
}

/* The ledger row of an interval. */
static bool put_interval(struct fc_chbuf *b, const char *monitor,
			 uint32_t interval_len, const struct fc_ft_interval *iv,
			 uint64_t n, uint64_t load_id, const char *source)
{
	uint8_t t[16];
	size_t m = strnlen(monitor, 255), s = strlen(source);

	if (!fc_chbuf_reserve(b, 512 + m + s + 8 * FC_CTR_MAX))
		return false;
	b->len += put_varint(b->p + b->len, m);
	put(b, monitor, m);
	fc_put_le32(t, (uint32_t)iv->start);
	fc_put_le32(t + 4, (uint32_t)iv->end);
	fc_put_le32(t + 8, interval_len);
	fc_put_le32(t + 12, iv->index);
	put(b, t, 16);
	fc_put_le32(t, iv->flags);
	put(b, t, 4);
	fc_put_le64(t, iv->rx_pkts);
	put(b, t, 8);
	fc_put_le64(t, iv->rec_pkts);
	put(b, t, 8);
	fc_put_le64(t, n);
	put(b, t, 8);
	for (unsigned id = 1; id < FC_CTR_MAX; id++)
		if (fc_ft_counter_name(id)) {
			fc_put_le64(t, iv->ctr[id]);
			put(b, t, 8);
		}
	fc_put_le64(t, load_id);
	put(b, t, 8);
	b->len += put_varint(b->p + b->len, s);
	put(b, source, s);
	fc_put_le32(t, (uint32_t)time(NULL));
	return put(b, t, 4);
}

/* --- batches ----------------------------------------------------------- */

bool fc_ch_batch_begin(struct fc_ch_batch *b, const char *monitor,
		       const struct fc_ft_interval *iv, uint32_t interval_len,
		       const char *source)
{
	struct fc_ch_iv *x;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct fc_ch_iv *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL) {
			b->oom = true;
			return false;
		}
		b->v = v;
		b->cap = cap;
	}
	if (b->n == 0)
		snprintf(b->monitor, sizeof(b->monitor), "%s", monitor);
	x = &b->v[b->n];
	memset(x, 0, sizeof(*x));
	x->iv = *iv;
	x->interval_len = interval_len;
	x->row_off = b->rows.len;
	x->source = strdup(source);
	if (x->source == NULL) {
		b->oom = true;
		return false;
	}
	b->n++;
	return true;
}

bool fc_ch_batch_records(struct fc_ch_batch *b,
			 const struct fc_ft_record *recs, uint64_t n)
{
	struct fc_ch_iv *x;
	struct fc_ch_prefix p;

	if (b->oom || b->n == 0)
		return false; /* its begin failed: fc_ch_load_batch says so */
	x = &b->v[b->n - 1];

	/* The load id covers the record count, known at the end: the
	 * rows take it from the interval's accounting (n_records, which
	 * both the file and the collector state before the records). */
	fc_ch_prefix_init(&p, b->monitor, &x->iv, x->interval_len,
			  fc_ch_load_id(b->monitor, &x->iv, x->iv.n_records));
	x->load_id = p.load_id;
	if (!fc_ch_put_records(&b->rows, &p, recs, n, b->label,
			       b->label_ctx)) {
		b->oom = true;
		return false;
	}
	x->n += n;
	x->row_len = b->rows.len - x->row_off;
	b->n_rows += n;
	return true;
}

const char *fc_ch_reader_label(const void *ctx, unsigned id)
{
	return fc_ft_reader_label(ctx, id);
}

void fc_ch_batch_labels(struct fc_ch_batch *b, fc_ch_label_fn label,
			const void *ctx)
{
	b->label = label;
	b->label_ctx = ctx;
}

void fc_ch_batch_reset(struct fc_ch_batch *b)
{
	b->label = NULL;
	b->label_ctx = NULL;
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].source);
	b->n = 0;
	b->n_rows = 0;
	b->oom = false;
	fc_chbuf_reset(&b->rows);
}

void fc_ch_batch_free(struct fc_ch_batch *b)
{
	fc_ch_batch_reset(b);
	free(b->v);
	b->v = NULL;
	b->cap = 0;
	fc_chbuf_free(&b->rows);
}

/* --- exactly once ------------------------------------------------------ */

/* monitor as a quoted SQL string literal. */
static void sql_str(char *d, size_t len, const char *s)
{
	size_t o = 0;

	d[o++] = '\'';
	for (; *s && o + 4 < len; s++) {
		if (*s == '\'' || *s == '\\')
			d[o++] = '\\';
		d[o++] = *s;
	}
	d[o++] = '\'';
	d[o] = '\0';
}

/* The query id prefix of a monitor's inserts: "flowcap-HASH-". */
static void qid_prefix(char *d, size_t len, const char *monitor)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *c = monitor; *c; c++)
		h = (h ^ (uint8_t)*c) * 0x100000001b3ULL;
	snprintf(d, len, "flowcap-%016" PRIx64 "-", h);
}

/* "SELECT ... WHERE interval_start BETWEEN a AND b AND load_id IN (...)":
 * the time range lets the primary key find them. Only intervals with
 * result < 0 (not decided yet) and, if rows_only, records. */
static char *where_ids(const struct fc_ch_batch *b, bool rows_only)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	struct fc_chbuf q = {0};
	char t[64];
	bool any = false;

	for (size_t i = 0; i < b->n; i++) {
		const struct fc_ch_iv *x = &b->v[i];

		if (x->result >= 0 || (rows_only && x->n == 0))
			continue;
		lo = FC_MIN(lo, x->iv.start);
		hi = FC_MAX(hi, x->iv.start);
		snprintf(t, sizeof(t), "%s%" PRIu64, any ? "," : "",
			 x->load_id);
		put(&q, t, strlen(t));
		any = true;
	}
	if (!any) {
		fc_chbuf_free(&q);
		return NULL;
	}
	char *w = NULL;

	put(&q, "", 1);
	if (q.oom || asprintf(&w,
			      "interval_start >= toDateTime(%" PRIu64 ") AND "
			      "interval_start <= toDateTime(%" PRIu64 ") AND "
			      "load_id IN (%s)",
			      lo, hi, (char *)q.p) < 0)
		w = NULL;
	fc_chbuf_free(&q);
	return w;
}

static struct fc_ch_iv *find_id(struct fc_ch_batch *b, uint64_t id)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].load_id == id)
			return &b->v[i];
	return NULL;
}

/* A query, its answer as a NUL-terminated text in *out. */
static int query_text(struct fc_ch *ch, const char *sql, struct fc_chbuf *out)
{
	int rc = fc_ch_query(ch, sql, NULL, 0, out, NULL);

	if (rc == FC_CH_OK && !put(out, "", 1))
		rc = FC_CH_E_NOMEM;
	return rc;
}

#define RES_TODO (-1000) /* not decided */
#define RES_ROWS_OK (-1001) /* rows whole in flowtuple: ledger only */

/* One try of the protocol (doc/clickhouse.md, "Exactly once"). */
static int load_once(struct fc_ch *ch, struct fc_ch_batch *b,
		     struct fc_ch_load_stats *st)
{
	char qid[64], mon[600], cols[1024];
	struct fc_chbuf ans = {0}, led = {0};
	char *w = NULL, *sql = NULL;
	uint64_t c = 0;
	int rc;

	/* The same interval twice in a batch (a file copied under another
	 * name) is loaded once: the later ones are skipped. */
	for (size_t i = 0; i < b->n; i++) {
		b->v[i].result = RES_TODO;
		for (size_t j = 0; j < i; j++)
			if (b->v[j].load_id == b->v[i].load_id) {
				b->v[i].result = FC_CH_SKIPPED;
				break;
			}
	}
	qid_prefix(qid, sizeof(qid), b->monitor);
	sql_str(mon, sizeof(mon), b->monitor);
	/* An insert of an earlier attempt that the server still runs (its
	 * client was killed after sending it) would land after the counts
	 * below: wait for it first. One writer per monitor (the loader or
	 * the live sink), so any insert of this monitor is such a one. */
	if (asprintf(&sql, "SELECT count() FROM system.processes WHERE "
			   "startsWith(query_id, '%s')", qid) < 0)
		return FC_CH_E_NOMEM;
	for (double d = 0.1, end = now_s() + ch->retry;;) {
		rc = query_u64(ch, sql, &c);
		if (rc != FC_CH_OK || c == 0)
			break;
		if (!backoff(ch, &d, end)) {
			snprintf(ch->err, sizeof(ch->err),
				 "%s: an earlier insert of monitor %s (query "
				 "id %s...) is still running",
				 ch->url, b->monitor, qid);
			rc = FC_CH_E_SERVER;
			break;
		}
	}
	free(sql);
	sql = NULL;
	if (rc != FC_CH_OK)
		return rc;

	/* The ledger: intervals loaded before. */
	w = where_ids(b, false);
	if (w == NULL)
		return FC_CH_E_NOMEM;
	if (asprintf(&sql, "SELECT DISTINCT load_id FROM flowtuple_intervals "
			   "WHERE monitor = %s AND %s FORMAT TSV", mon, w) < 0) {
		rc = FC_CH_E_NOMEM;
		goto out;
	}
	rc = query_text(ch, sql, &ans);
	if (rc != FC_CH_OK)
		goto out;
	for (char *l = (char *)ans.p; *l; l = strchr(l, '\n') + 1) {
		struct fc_ch_iv *x = find_id(b, strtoull(l, NULL, 10));

		if (x != NULL)
			x->result = FC_CH_SKIPPED;
		if (strchr(l, '\n') == NULL)
			break;
	}
	free(w);
	free(sql);
	sql = NULL;

	/* Rows of earlier attempts that did not reach the ledger. */
	w = where_ids(b, true);
	if (w != NULL) {
		struct fc_chbuf part = {0};
		bool any_part = false;
		uint64_t npart = 0;

		if (asprintf(&sql, "SELECT load_id, count() FROM flowtuple "
				   "WHERE %s GROUP BY load_id FORMAT TSV",
			     w) < 0) {
			rc = FC_CH_E_NOMEM;
			goto out;
		}
		rc = query_text(ch, sql, &ans);
		free(sql);
		sql = NULL;
		if (rc != FC_CH_OK)
			goto out;
		for (char *l = (char *)ans.p; *l; l = strchr(l, '\n') + 1) {
			char *e;
			struct fc_ch_iv *x = find_id(b, strtoull(l, &e, 10));
			uint64_t k = strtoull(e, NULL, 10);

			if (x != NULL && x->result == RES_TODO) {
				if (k == x->n) {
					x->result = RES_ROWS_OK;
				} else {
					char t[32];

					snprintf(t, sizeof(t), "%s%" PRIu64,
						 any_part ? "," : "", x->load_id);
					put(&part, t, strlen(t));
					any_part = true;
					npart++;
				}
			}
			if (strchr(l, '\n') == NULL)
				break;
		}
		if (any_part) {
			put(&part, "", 1);
			if (part.oom) {
				fc_chbuf_free(&part);
				rc = FC_CH_E_NOMEM;
				goto out;
			}
			if (ch->distributed) {
				snprintf(ch->err, sizeof(ch->err),
					 "%s: intervals of load ids %.200s are "
					 "partly stored (an earlier load was "
					 "cut short) and a Distributed table "
					 "cannot delete: on each shard run "
					 "ALTER TABLE flowtuple_local DELETE "
					 "WHERE load_id IN (%.200s), then load "
					 "again",
					 ch->url, (char *)part.p,
					 (char *)part.p);
				fc_chbuf_free(&part);
				rc = FC_CH_E_PARTIAL;
				goto out;
			}
			/* A mutation runs in the background: wait until
			 * the rows are gone. */
			if (asprintf(&sql, "ALTER TABLE flowtuple DELETE WHERE "
					   "load_id IN (%s)",
				     (char *)part.p) < 0)
				sql = NULL;
			rc = sql ? fc_ch_query(ch, sql, NULL, 0, NULL, NULL) :
				   FC_CH_E_NOMEM;
			free(sql);
			sql = NULL;
			if (rc == FC_CH_OK &&
			    asprintf(&sql, "SELECT count() FROM flowtuple "
					   "WHERE load_id IN (%s)",
				     (char *)part.p) < 0)
				rc = FC_CH_E_NOMEM;
			for (double d = 0.1, end = now_s() + ch->retry;
			     rc == FC_CH_OK;) {
				rc = query_u64(ch, sql, &c);
				if (rc != FC_CH_OK || c == 0)
					break;
				if (!backoff(ch, &d, end)) {
					snprintf(ch->err, sizeof(ch->err),
						 "%s: rows of partial loads "
						 "are still there after: %s",
						 ch->url, sql);
					rc = FC_CH_E_PARTIAL;
				}
			}
			free(sql);
			sql = NULL;
			fc_chbuf_free(&part);
			if (rc != FC_CH_OK)
				goto out;
			st->deleted_partial += npart;
		}
		free(w);
		w = NULL;
	}

	/* The rows of every interval still to do, in one INSERT; the
	 * buffer is compacted in place when some are skipped. */
	size_t o = 0;
	bool all = true;

	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].result != RES_TODO)
			all = false;
	if (!all) {
		for (size_t i = 0; i < b->n; i++) {
			struct fc_ch_iv *x = &b->v[i];

			if (x->result != RES_TODO)
				continue;
			memmove(b->rows.p + o, b->rows.p + x->row_off,
				x->row_len);
			x->row_off = o;
			o += x->row_len;
		}
		b->rows.len = o;
	}
	if (b->rows.len > 0) {
		char q[128];

		col_list(cols, sizeof(cols), false);
		if (asprintf(&sql, "INSERT INTO flowtuple %s FORMAT RowBinary",
			     cols) < 0) {
			rc = FC_CH_E_NOMEM;
			goto out;
		}
		snprintf(q, sizeof(q), "%s%016" PRIx64, qid,
			 b->v[0].load_id ^ (uint64_t)now_s());
		rc = fc_ch_query(ch, sql, b->rows.p, b->rows.len, NULL, q);
		free(sql);
		sql = NULL;
		if (rc != FC_CH_OK)
			goto out;
	}
	/* Then their ledger rows. */
	for (size_t i = 0; i < b->n; i++) {
		struct fc_ch_iv *x = &b->v[i];

		if (x->result == FC_CH_SKIPPED)
			continue;
		if (!put_interval(&led, b->monitor, x->interval_len, &x->iv,
				  x->n, x->load_id, x->source)) {
			rc = FC_CH_E_NOMEM;
			goto out;
		}
	}
	if (led.len > 0) {
		col_list(cols, sizeof(cols), true);
		if (asprintf(&sql, "INSERT INTO flowtuple_intervals %s FORMAT "
				   "RowBinary", cols) < 0) {
			rc = FC_CH_E_NOMEM;
			goto out;
		}
		rc = fc_ch_query(ch, sql, led.p, led.len, NULL, NULL);
		if (rc != FC_CH_OK)
			goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct fc_ch_iv *x = &b->v[i];

		if (x->result == FC_CH_SKIPPED) {
			st->skipped++;
			st->skipped_rows += x->n;
			continue;
		}
		if (x->result == RES_ROWS_OK)
			st->completed_ledger++;
		x->result = FC_CH_OK;
		st->loaded++;
		st->loaded_rows += x->n;
	}
	rc = FC_CH_OK;
out:
	free(w);
	free(sql);
	fc_chbuf_free(&ans);
	fc_chbuf_free(&led);
	return rc;
}

int fc_ch_load_batch(struct fc_ch *ch, struct fc_ch_batch *b,
		     struct fc_ch_load_stats *st)
{
	double deadline = now_s() + ch->retry, d = 0.1;
	int rc;

	if (b->oom || b->rows.oom)
		return FC_CH_E_NOMEM;
	if (b->n == 0)
		return FC_CH_OK;
	/* An interval without records has no rows to set its load id. */
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].n == 0)
			b->v[i].load_id = fc_ch_load_id(b->monitor, &b->v[i].iv,
							b->v[i].iv.n_records);
	for (;;) {
		rc = load_once(ch, b, st);
		if (rc >= 0 || rc == FC_CH_E_PARTIAL || rc == FC_CH_E_NOMEM)
			return rc;
		if (rc != FC_CH_E_CONNECT &&
		    !(rc == FC_CH_E_SERVER && retryable(ch->code)))
			return rc;
		if (!backoff(ch, &d, deadline))
			return stopped(ch) ? FC_CH_E_STOPPED : rc;
	}
}

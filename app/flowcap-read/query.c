/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read's aggregation: records that pass the filter are
 * (optionally) anonymised, cut down to the group's fields (a key with the
 * other fields zeroed and addresses masked to their prefix, one AND per
 * word), and counted in an open-addressing hash table keyed by output
 * interval and that key; exact distinct counts keep a second table of
 * (group, field, value). A label is counted by its name: each file's
 * label ids become the query's ids of their names (one table of names for
 * every job and the state), so files written with other rules files
 * agree. With --jobs N, N threads take files one at a
 * time, each into its own tables, merged at the end; sums and set unions
 * do not depend on the order, and the rows are sorted before output, so
 * the result is the same for any N. It does not print (output.c) or keep
 * state between runs (state.c).
 */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fc_anon.h"
#include "fr.h"
#include "fr_agg.h"

const char *const fr_field_names[F_COUNT] = {
	"class", "src_ip", "dst_ip", "src_port", "dst_port", "protocol",
	"ttl", "tcp_flags", "ip_len", "label", "vlan",
};

/* Byte range of each field in struct fc_ftkey. */
static const struct { uint8_t off, len; } field_bytes[F_COUNT] = {
	[F_CLASS] = {offsetof(struct fc_ftkey, cls), 1},
	[F_SRC_IP] = {offsetof(struct fc_ftkey, src_ip), 16},
	[F_DST_IP] = {offsetof(struct fc_ftkey, dst_ip), 16},
	[F_SRC_PORT] = {offsetof(struct fc_ftkey, src_port), 2},
	[F_DST_PORT] = {offsetof(struct fc_ftkey, dst_port), 2},
	[F_PROTO] = {offsetof(struct fc_ftkey, proto), 1},
	[F_TTL] = {offsetof(struct fc_ftkey, ttl), 1},
	[F_FLAGS] = {offsetof(struct fc_ftkey, tcp_flags), 1},
	[F_IPLEN] = {offsetof(struct fc_ftkey, ip_len), 4},
};

static int field_from_name(const char *s, size_t n)
{
	for (int i = 0; i < F_COUNT; i++)
		if (strlen(fr_field_names[i]) == n &&
		    strncmp(fr_field_names[i], s, n) == 0)
			return i;
	return -1;
}

static void unknown_field(const char *opt, const char *s, size_t n,
			  char *err, size_t errlen)
{
	char w[64];
	const char *best = NULL;
	unsigned bd = 3;

	snprintf(w, sizeof(w), "%.*s", (int)(n < 60 ? n : 60), s);
	for (int i = 0; i < F_COUNT; i++) {
		unsigned d = fr_edit_distance(w, fr_field_names[i]);

		if (d < bd) {
			bd = d;
			best = fr_field_names[i];
		}
	}
	if (best != NULL && n > 1)
		snprintf(err, errlen, "%s: unknown field '%s' (did you mean "
			 "'%s'?)", opt, w, best);
	else
		snprintf(err, errlen, "%s: unknown field '%s' (fields: class "
			 "src_ip dst_ip src_port dst_port protocol ttl "
			 "tcp_flags ip_len label vlan)", opt, w);
}

int fr_query_parse_group(struct fr_query *q, const char *s, char *err,
			 size_t errlen)
{
	const char *p = s;

	q->grouped = true;
	q->ng = 0;
	for (;;) {
		size_t n = strcspn(p, ",/");
		int f = field_from_name(p, n);
		struct fr_gfield *g;

		if (f < 0) {
			unknown_field("--group-by", p, n, err, errlen);
			return -1;
		}
		if (q->ng == FR_MAX_GROUP) {
			snprintf(err, errlen, "--group-by: at most %d fields",
				 FR_MAX_GROUP);
			return -1;
		}
		for (unsigned i = 0; i < q->ng; i++)
			if (q->g[i].f == (enum fr_field)f) {
				snprintf(err, errlen, "--group-by: %s given "
					 "twice", fr_field_names[f]);
				return -1;
			}
		g = &q->g[q->ng++];
		g->f = (enum fr_field)f;
		g->pfx4 = 32;
		g->pfx6 = 128;
		g->prefix = false;
		p += n;
		if (*p == '/') {
			char *end;
			unsigned long a, b;

			if (f != F_SRC_IP && f != F_DST_IP) {
				snprintf(err, errlen, "--group-by: only src_ip "
					 "and dst_ip take a prefix (%s/N)",
					 fr_field_names[f]);
				return -1;
			}
			errno = 0;
			a = strtoul(p + 1, &end, 10);
			if (end == p + 1 || errno != 0 || a > 128)
				goto bad_prefix;
			b = a;
			if (*end == '/') {
				const char *s2 = end + 1;

				b = strtoul(s2, &end, 10);
				if (end == s2 || b > 128 || a > 32)
					goto bad_prefix;
			} else if (a > 32) {
				/* One length over 32 can only be IPv6's: IPv4
				 * addresses keep all 32 bits. */
				a = 32;
			}
			g->pfx4 = (unsigned)a;
			g->pfx6 = (unsigned)b;
			g->prefix = true;
			p = end;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',')
			goto bad_prefix;
		p++;
	}
bad_prefix:
	snprintf(err, errlen, "--group-by: bad prefix in '%s' (src_ip/N with "
		 "N up to 32 for IPv4 and 128 for IPv6, or src_ip/N4/N6 as "
		 "src_ip/24/64)", s);
	return -1;
}

int fr_query_parse_distinct(struct fr_query *q, const char *s, char *err,
			    size_t errlen)
{
	int f = field_from_name(s, strlen(s));

	if (f < 0) {
		unknown_field("--count-distinct", s, strlen(s), err, errlen);
		return -1;
	}
	if (q->nd == FR_MAX_DISTINCT) {
		snprintf(err, errlen, "--count-distinct: at most %d fields",
			 FR_MAX_DISTINCT);
		return -1;
	}
	for (unsigned i = 0; i < q->nd; i++)
		if (q->d[i] == (enum fr_field)f) {
			snprintf(err, errlen, "--count-distinct %s given twice",
				 s);
			return -1;
		}
	q->d[q->nd++] = (enum fr_field)f;
	return 0;
}

int fr_query_parse_order(struct fr_query *q, const char *s, char *err,
			 size_t errlen)
{
	q->order_given = true;
	if (strcmp(s, "packets") == 0) {
		q->order = ORD_PACKETS;
		return 0;
	}
	if (strcmp(s, "records") == 0) {
		q->order = ORD_RECORDS;
		return 0;
	}
	if (strncmp(s, "distinct_", 9) == 0)
		for (unsigned i = 0; i < q->nd; i++)
			if (strcmp(s + 9, fr_field_names[q->d[i]]) == 0) {
				q->order = ORD_DISTINCT;
				q->order_d = i;
				return 0;
			}
	snprintf(err, errlen, "--order: unknown column '%s' (use packets, "
		 "records or distinct_FIELD of a --count-distinct FIELD given "
		 "before it)", s);
	return -1;
}

void fr_query_group_all(struct fr_query *q, bool label, bool vlan)
{
	static const enum fr_field all[] = {
		F_CLASS, F_SRC_IP, F_DST_IP, F_SRC_PORT, F_DST_PORT,
		F_PROTO, F_TTL, F_FLAGS, F_IPLEN};

	q->ng = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		q->g[q->ng++] = (struct fr_gfield){all[i], 32, 128, false};
	if (label)
		q->g[q->ng++] = (struct fr_gfield){F_LABEL, 32, 128, false};
	if (vlan)
		q->g[q->ng++] = (struct fr_gfield){F_VLAN, 32, 128, false};
}

/* ---------------------------------------------------------------------- */
/* Label names                                                            */

/* Names by id, and an open-addressing index of ids by name (load at most
 * one half). Written under the lock; a name is complete before its id is
 * published (the lock's release), and never changes after. */
static char label_names[FC_FTKEY_LABEL_MAX + 1][32];
static uint16_t label_slot[2 * (FC_FTKEY_LABEL_MAX + 1)];
static unsigned label_n;
static pthread_mutex_t label_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

unsigned fr_label_id(const char *name)
{
	const uint32_t mask = 2 * (FC_FTKEY_LABEL_MAX + 1) - 1;
	uint32_t i;
	unsigned id;

	if (name[0] == '\0')
		return 0;
	pthread_mutex_lock(&label_lock);
	for (i = name_hash(name) & mask; label_slot[i] != 0; i = (i + 1) & mask)
		if (strcmp(label_names[label_slot[i]], name) == 0) {
			id = label_slot[i];
			pthread_mutex_unlock(&label_lock);
			return id;
		}
	if (label_n == FC_FTKEY_LABEL_MAX) {
		fprintf(stderr, PROG ": more than %d different label names in "
			"the inputs: a query groups at most that many; query "
			"fewer files at a time\n", FC_FTKEY_LABEL_MAX);
		exit(1);
	}
	id = ++label_n;
	snprintf(label_names[id], sizeof(label_names[id]), "%s", name);
	label_slot[i] = (uint16_t)id;
	pthread_mutex_unlock(&label_lock);
	return id;
}

const char *fr_label_name(unsigned id)
{
	return id <= FC_FTKEY_LABEL_MAX ? label_names[id] : "";
}

unsigned fr_label_count(void)
{
	unsigned n;

	pthread_mutex_lock(&label_lock);
	n = label_n;
	pthread_mutex_unlock(&label_lock);
	return n;
}

/* ---------------------------------------------------------------------- */
/* The tables                                                             */

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb93fe53a2a4fULL;
	return h ^ (h >> 33);
}

static uint32_t gkey_hash(const struct fr_gkey *g)
{
	return (uint32_t)mix64(fc_ftkey_hash(&g->k) ^
			       (g->t * 0x9e3779b97f4a7c15ULL));
}

static uint32_t dkey_hash(const struct fr_dkey *d)
{
	uint64_t w[3];

	memcpy(w, d, sizeof(w));
	return (uint32_t)mix64(w[0] ^ mix64(w[1] ^ mix64(w[2])));
}

static uint32_t agg_group_h(struct fr_agg *a, const struct fr_gkey *g,
			    uint32_t h);

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL)
		fr_oom();
	return p;
}

struct fr_agg *fr_agg_create(const struct fr_query *q)
{
	struct fr_agg *a = calloc(1, sizeof(*a));

	if (a == NULL)
		fr_oom();
	a->nd = q->nd;
	a->smask = 1023;
	a->slot = calloc(a->smask + 1, sizeof(*a->slot));
	a->dmask = q->nd ? 1023 : 0;
	a->dslot = q->nd ? calloc(a->dmask + 1, sizeof(*a->dslot)) : NULL;
	if (a->slot == NULL || (q->nd && a->dslot == NULL))
		fr_oom();
	return a;
}

void fr_agg_free(struct fr_agg *a)
{
	if (a == NULL)
		return;
	free(a->keys);
	free(a->cnt);
	free(a->dcnt);
	free(a->slot);
	free(a->dk);
	free(a->dslot);
	free(a);
}

static __attribute__((noinline)) void grow_groups(struct fr_agg *a)
{
	uint32_t cap = a->cap ? a->cap * 2 : 1024;

	a->keys = xrealloc(a->keys, cap * sizeof(*a->keys));
	a->cnt = xrealloc(a->cnt, cap * sizeof(*a->cnt));
	if (a->nd)
		a->dcnt = xrealloc(a->dcnt, (size_t)cap * a->nd *
						    sizeof(*a->dcnt));
	a->cap = cap;
}

static __attribute__((noinline)) void rehash(uint64_t **slot, uint32_t *mask)
{
	uint32_t nm = *mask * 2 + 1;
	/* Written before it is read (not calloc): a fresh mapping read first
	 * maps the shared zero page, and the first write to each page then
	 * copies it with a TLB flush that interrupts every other CPU running
	 * a job of this process (a third of --jobs 2's time). */
	uint64_t *ns = malloc(((size_t)nm + 1) * sizeof(*ns));

	if (ns == NULL)
		fr_oom();
	memset(ns, 0, ((size_t)nm + 1) * sizeof(*ns));
	for (uint32_t i = 0; i <= *mask; i++) {
		uint64_t v = (*slot)[i];
		uint32_t j;

		if (v == 0)
			continue;
		for (j = (uint32_t)(v >> 32) & nm; ns[j] != 0; j = (j + 1) & nm)
			;
		ns[j] = v;
	}
	free(*slot);
	*slot = ns;
	*mask = nm;
}

/* Index of the group g (inserted with zero counts when new). */
uint32_t fr_agg_group(struct fr_agg *a, const struct fr_gkey *g)
{
	return agg_group_h(a, g, gkey_hash(g));
}

/* fr_agg_group with the hash already known (a batch computed it to
 * prefetch the slot). */
static uint32_t agg_group_h(struct fr_agg *a, const struct fr_gkey *g,
			    uint32_t h)
{
	uint32_t i;

	for (i = h & a->smask;; i = (i + 1) & a->smask) {
		uint64_t v = a->slot[i];
		uint32_t idx;

		if (v == 0)
			break;
		idx = (uint32_t)v - 1;
		if ((uint32_t)(v >> 32) == h && a->keys[idx].t == g->t &&
		    fc_ftkey_eq(&a->keys[idx].k, &g->k))
			return idx;
	}
	if (a->n == a->cap)
		grow_groups(a);
	a->keys[a->n] = *g;
	a->cnt[a->n].records = 0;
	a->cnt[a->n].packets = 0;
	if (a->nd)
		memset(&a->dcnt[(size_t)a->n * a->nd], 0,
		       a->nd * sizeof(*a->dcnt));
	a->slot[i] = (uint64_t)h << 32 | (a->n + 1);
	a->n++;
	/* Load at most one half: short probe sequences. */
	if (a->n * 2 > a->smask)
		rehash(&a->slot, &a->smask);
	return a->n - 1;
}

/* Add d to the distinct set; count it in its group when new. */
void fr_agg_distinct(struct fr_agg *a, const struct fr_dkey *d)
{
	uint32_t h = dkey_hash(d), i;

	for (i = h & a->dmask;; i = (i + 1) & a->dmask) {
		uint64_t v = a->dslot[i];

		if (v == 0)
			break;
		if ((uint32_t)(v >> 32) == h &&
		    memcmp(&a->dk[(uint32_t)v - 1], d, sizeof(*d)) == 0)
			return;
	}
	if (a->dn == a->dcap) {
		a->dcap = a->dcap ? a->dcap * 2 : 1024;
		a->dk = xrealloc(a->dk, a->dcap * sizeof(*a->dk));
	}
	a->dk[a->dn] = *d;
	a->dslot[i] = (uint64_t)h << 32 | (a->dn + 1);
	a->dn++;
	a->dcnt[(size_t)d->g * a->nd + d->field]++;
	if (a->dn * 2 > a->dmask)
		rehash(&a->dslot, &a->dmask);
}

/*
 * Append src's groups to dst's arrays: for tables whose groups are known
 * to differ (made from disjoint output intervals). dst's hash slots no
 * longer cover every group: only finish() may read it afterwards.
 */
static void agg_append(struct fr_agg *dst, const struct fr_agg *src)
{
	uint32_t n = dst->n + src->n;

	if (src->n == 0)
		return; /* its arrays may not exist */
	while (dst->cap < n)
		grow_groups(dst);
	memcpy(&dst->keys[dst->n], src->keys, src->n * sizeof(*src->keys));
	memcpy(&dst->cnt[dst->n], src->cnt, src->n * sizeof(*src->cnt));
	if (dst->nd)
		memcpy(&dst->dcnt[(size_t)dst->n * dst->nd], src->dcnt,
		       (size_t)src->n * src->nd * sizeof(*src->dcnt));
	dst->n = n;
}

void fr_agg_merge(struct fr_agg *dst, const struct fr_agg *src)
{
	uint32_t *map = malloc(((size_t)src->n + 1) * sizeof(*map));

	if (map == NULL)
		fr_oom();
	/* Room for every group at once: no rehash on the way. */
	while ((uint64_t)(dst->n + src->n) * 2 > dst->smask)
		rehash(&dst->slot, &dst->smask);
	for (uint32_t i = 0; i < src->n; i++) {
		uint32_t j = fr_agg_group(dst, &src->keys[i]);

		dst->cnt[j].records += src->cnt[i].records;
		dst->cnt[j].packets += src->cnt[i].packets;
		map[i] = j;
	}
	for (uint32_t i = 0; i < src->dn; i++) {
		struct fr_dkey d = src->dk[i];

		d.g = map[d.g];
		fr_agg_distinct(dst, &d);
	}
	free(map);
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                */

/* What every job shares. */
struct run {
	const struct fr_query *q;
	struct fr_inputs *in;
	uint64_t mask[2][6];        /* group key masks: IPv4, IPv6 */
	bool label_ids;             /* label grouped or counted: by name */
	atomic_size_t next;         /* next input to take */
	atomic_uint_fast64_t files_done, records_done, bytes_done;
	uint64_t bytes_total;
	size_t files_total;
	pthread_mutex_t plock;      /* progress line */
	struct timespec t0, last;
	atomic_int ret;
	/* --state: one table per file, kept for the state file */
	struct fr_agg **per_file;
	struct stream *st;          /* NULL: one table per job to the end */
	uint64_t want;              /* the file fields the query looks at */
};

/* The file field of a query field. */
static uint64_t field_fid(enum fr_field f)
{
	static const uint8_t id[F_COUNT] = {
		[F_CLASS] = FC_FT_FID_CLASS, [F_SRC_IP] = FC_FT_FID_SRC_IP,
		[F_DST_IP] = FC_FT_FID_DST_IP,
		[F_SRC_PORT] = FC_FT_FID_SRC_PORT,
		[F_DST_PORT] = FC_FT_FID_DST_PORT, [F_PROTO] = FC_FT_FID_PROTO,
		[F_TTL] = FC_FT_FID_TTL, [F_FLAGS] = FC_FT_FID_TCP_FLAGS,
		[F_IPLEN] = FC_FT_FID_IP_LEN, [F_LABEL] = FC_FT_FID_LABEL,
		[F_VLAN] = FC_FT_FID_VLAN,
	};

	return UINT64_C(1) << id[f];
}

static void set_bytes(uint8_t *m, enum fr_field f, unsigned bits)
{
	unsigned off = field_bytes[f].off, len = field_bytes[f].len;

	for (unsigned i = 0; i < len; i++) {
		unsigned b = bits > 8 * i ? bits - 8 * i : 0;

		m[off + i] = b >= 8 ? 0xff : (uint8_t)(0xff00 >> b);
	}
}

static void make_masks(const struct fr_query *q, uint64_t mask[2][6])
{
	for (int v6 = 0; v6 < 2; v6++) {
		uint8_t m[48] = {0};

		for (unsigned i = 0; i < q->ng; i++) {
			const struct fr_gfield *g = &q->g[i];
			bool ip = g->f == F_SRC_IP || g->f == F_DST_IP;

			/* label | vlan << 12 in the 24 bits of ext */
			if (g->f == F_LABEL || g->f == F_VLAN) {
				unsigned e = offsetof(struct fc_ftkey, ext);

				m[e + (g->f == F_LABEL ? 0 : 2)] = 0xff;
				m[e + 1] |= g->f == F_LABEL ? 0x0f : 0xf0;
				continue;
			}
			set_bytes(m, g->f, ip ? (v6 ? g->pfx6 : g->pfx4) :
						8 * field_bytes[g->f].len);
			if (ip)
				m[offsetof(struct fc_ftkey, family)] = 0xff;
		}
		memcpy(mask[v6], m, 48);
	}
}

static double secs_since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	       (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* On a terminal only: files done of total, records/s, time left (by the
 * bytes still to read). At most every 0.2 s, by whichever job gets the
 * lock. */
static void progress(struct run *r, bool final)
{
	struct timespec now;
	double el, left;
	uint64_t rec, by;

	if (!r->q->progress)
		return;
	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	if (pthread_mutex_trylock(&r->plock) != 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (secs_since(&r->last, &now) >= 0.2) {
		r->last = now;
		el = secs_since(&r->t0, &now);
		rec = atomic_load(&r->records_done);
		by = atomic_load(&r->bytes_done);
		left = by > 0 ? el * (double)(r->bytes_total - by) / (double)by :
				0;
		fprintf(stderr, "\r\033[K" PROG ": %" PRIu64 "/%zu files, "
			"%.1fM records/s, ",
			(uint64_t)atomic_load(&r->files_done), r->files_total,
			el > 0 ? (double)rec / el / 1e6 : 0.0);
		if (by > 0)
			fprintf(stderr, "%.0f s left", left);
		else
			fputs("time left: after the first file", stderr);
	}
	pthread_mutex_unlock(&r->plock);
}

static void dval(struct fr_dkey *d, enum fr_field f,
		 const struct fc_ft_record *rec)
{
	const struct fc_ftkey *k = &rec->key;

	memset(d, 0, sizeof(*d));
	switch (f) {
	case F_SRC_IP:
		d->fam = k->family;
		memcpy(d->v, k->src_ip, 16);
		break;
	case F_DST_IP:
		d->fam = k->family;
		memcpy(d->v, k->dst_ip, 16);
		break;
	case F_LABEL: /* the query's id of the name (agg_file made it so) */
	case F_VLAN: {
		uint16_t v = (uint16_t)(f == F_LABEL ? fc_ftkey_label(k) :
					 fc_ftkey_vlan(k));

		memcpy(d->v, &v, 2);
		break;
	}
	default:
		memcpy(d->v, (const uint8_t *)k + field_bytes[f].off,
		       field_bytes[f].len);
		break;
	}
}


/* ---------------------------------------------------------------------- */
/* Streaming: each output interval's groups in their own small table      */

/*
 * Inputs are read in the order of their first interval, and a file's
 * intervals follow each other in time, so once every input before index
 * lo is read, no output interval before the one holding first(lo) can
 * gain a record. A job keeps a table per output interval (one open at a
 * time), hands it in when it moves to another interval, and the tables
 * of every interval below that bound are finished (merged when several
 * jobs made groups of one interval, then selected or sorted into rows)
 * as the reading goes on, by the job that moved the bound. The tables go
 * back to a pool, their memory kept: a query over a million groups in
 * many intervals works in the caches with the groups of a few intervals,
 * and touches no new page after the first ones.
 */
struct seg {
	uint64_t t;
	struct fr_agg *a;
};

struct rowblk {
	uint64_t t;
	struct fr_row *rows;
	size_t n;
};

struct stream {
	pthread_mutex_t lock;
	bool *done;                 /* per input */
	size_t lo;                  /* lowest input not read (or skipped) */
	uint64_t *open;             /* per job: t of its open table, or MAX */
	struct seg *segs;           /* handed in, not finished */
	size_t nsegs, csegs;
	struct fr_agg **pool;       /* emptied tables */
	size_t npool, cpool;
	struct rowblk *blk;         /* finished intervals' rows */
	size_t nblk, cblk;
	uint64_t bound;             /* every interval before it is finished */
	atomic_bool restart;        /* an interval before the bound came */
};

/* A job's open table. */
struct jstream {
	unsigned job;
	bool open;
	uint64_t t;
	struct fr_agg *a;
};

static void finish_rows(const struct fr_query *q, const struct fr_agg *a,
			struct fr_row **rows, size_t *n, bool one_t);

/* The output interval a record starting at x falls in, for the bound: a
 * file whose first interval starts at x makes no group before it. */
static uint64_t out_floor(const struct fr_query *q, uint64_t x)
{
	if (x == UINT64_MAX)
		return x;
	if (q->interval == FR_IV_ALL)
		return 0;
	if (q->interval == FR_IV_OWN)
		return x;
	return x - x % q->interval;
}

static void agg_reset(struct fr_agg *a)
{
	memset(a->slot, 0, ((size_t)a->smask + 1) * sizeof(*a->slot));
	a->n = 0;
	if (a->dslot != NULL)
		memset(a->dslot, 0, ((size_t)a->dmask + 1) * sizeof(*a->dslot));
	a->dn = 0;
}

/* Under the lock. */
static void hand_in(struct stream *st, struct jstream *js)
{
	if (!js->open)
		return;
	if (st->nsegs == st->csegs) {
		st->csegs = st->csegs ? st->csegs * 2 : 16;
		st->segs = xrealloc(st->segs, st->csegs * sizeof(*st->segs));
	}
	st->segs[st->nsegs++] = (struct seg){js->t, js->a};
	js->open = false;
	js->a = NULL;
	st->open[js->job] = UINT64_MAX;
}

static int seg_cmp(const void *x, const void *y)
{
	const struct seg *a = x, *b = y;

	return a->t < b->t ? -1 : a->t > b->t;
}

/*
 * Move the bound (under the lock, which it releases and takes again) and
 * finish every handed-in table below it. end: every input is read and
 * every table handed in.
 */
static void finish_ready(struct run *r, bool end)
{
	struct stream *st = r->st;
	const struct fr_query *q = r->q;
	struct seg *ready;
	size_t nr = 0, k = 0;
	uint64_t bound = UINT64_MAX;

	while (st->lo < r->in->n && st->done[st->lo])
		st->lo++;
	if (!end) {
		if (st->lo < r->in->n)
			bound = out_floor(q, r->in->v[st->lo].first);
		for (unsigned j = 0; j < (q->jobs ? q->jobs : 1); j++)
			if (st->open[j] < bound)
				bound = st->open[j];
	}
	if (bound <= st->bound && !end)
		return;
	st->bound = bound;
	for (size_t i = 0; i < st->nsegs; i++)
		nr += st->segs[i].t < bound;
	if (nr == 0)
		return;
	ready = malloc(nr * sizeof(*ready));
	if (ready == NULL)
		fr_oom();
	for (size_t i = 0, w = 0; i < st->nsegs; i++)
		if (st->segs[i].t < bound)
			ready[k++] = st->segs[i];
		else
			st->segs[w++] = st->segs[i];
	st->nsegs -= nr;
	pthread_mutex_unlock(&st->lock);

	qsort(ready, nr, sizeof(*ready), seg_cmp);
	for (size_t b = 0, e; b < nr; b = e) {
		struct fr_agg *base = ready[b].a;
		struct rowblk rb = {.t = ready[b].t};

		for (e = b; e < nr && ready[e].t == ready[b].t; e++)
			if (ready[e].a->n > base->n)
				base = ready[e].a;
		for (size_t i = b; i < e; i++)
			if (ready[i].a != base)
				fr_agg_merge(base, ready[i].a);
		finish_rows(q, base, &rb.rows, &rb.n, true);
		for (size_t i = b; i < e; i++)
			agg_reset(ready[i].a);
		pthread_mutex_lock(&st->lock);
		if (st->nblk == st->cblk) {
			st->cblk = st->cblk ? st->cblk * 2 : 64;
			st->blk = xrealloc(st->blk, st->cblk * sizeof(*st->blk));
		}
		st->blk[st->nblk++] = rb;
		if (st->npool + (e - b) > st->cpool) {
			st->cpool = st->npool + (e - b) + 16;
			st->pool = xrealloc(st->pool,
					    st->cpool * sizeof(*st->pool));
		}
		for (size_t i = b; i < e; i++)
			st->pool[st->npool++] = ready[i].a;
		pthread_mutex_unlock(&st->lock);
	}
	free(ready);
	pthread_mutex_lock(&st->lock);
}

/* The job's table for output interval t (its open one, or a new one from
 * the pool, the open one handed in); NULL when t is already finished. */
static struct fr_agg *stream_table(struct run *r, struct jstream *js,
				   uint64_t t)
{
	struct stream *st = r->st;

	if (js->open && js->t == t)
		return js->a;
	pthread_mutex_lock(&st->lock);
	if (t < st->bound) {
		pthread_mutex_unlock(&st->lock);
		return NULL;
	}
	hand_in(st, js);
	js->a = st->npool > 0 ? st->pool[--st->npool] : NULL;
	js->open = true;
	js->t = t;
	st->open[js->job] = t;
	pthread_mutex_unlock(&st->lock);
	if (js->a == NULL)
		js->a = fr_agg_create(r->q);
	return js->a;
}

/* Input i is read: hand the open table in unless a later input may add
 * to its interval, and finish what is ready. */
static void stream_file_done(struct run *r, struct jstream *js, size_t i)
{
	struct stream *st = r->st;
	size_t nx = i + 1;

	while (nx < r->in->n && r->in->v[nx].skip)
		nx++;
	pthread_mutex_lock(&st->lock);
	st->done[i] = true;
	if (js->open &&
	    (nx == r->in->n || js->t < out_floor(r->q, r->in->v[nx].first)))
		hand_in(st, js);
	finish_ready(r, false);
	pthread_mutex_unlock(&st->lock);
}

static int blk_cmp(const void *x, const void *y)
{
	const struct rowblk *a = x, *b = y;

	return a->t < b->t ? -1 : a->t > b->t;
}

#define BATCH 32
#define SLICE 512

/* Aggregate one file into a; 0, or 1 when it could not be read to its
 * end (reported; what was read before the problem counts). */
/* What a job keeps for the labels of the interval it reads. */
struct jlabels {
	struct fr_flabels *filter;  /* `label NAME` terms; NULL: none */
	uint16_t id[FC_FTKEY_LABEL_MAX + 1]; /* file's id -> query's; 0: not
					       * looked up yet */
	/* Output intervals this job made groups in (each once in a row):
	 * jobs whose intervals are disjoint have disjoint groups. */
	uint64_t *ts;
	size_t nts, cts;
};

/* Note output interval t in the job's list. */
static void note_t(struct jlabels *jl, uint64_t t)
{
	if (jl->nts > 0 && jl->ts[jl->nts - 1] == t)
		return;
	if (jl->nts == jl->cts) {
		jl->cts = jl->cts ? jl->cts * 2 : 64;
		jl->ts = xrealloc(jl->ts, jl->cts * sizeof(*jl->ts));
	}
	jl->ts[jl->nts++] = t;
}

/* The query's id of the name the interval gives file id fid (cold: once
 * per id and interval). */
static __attribute__((noinline)) uint16_t label_lookup(
	struct jlabels *jl, const struct fc_ft_reader *rd, unsigned fid)
{
	const char *name = fc_ft_reader_label(rd, fid);
	char b[16];

	if (name == NULL) {
		snprintf(b, sizeof(b), "#%u", fid);
		name = b;
	}
	jl->id[fid] = (uint16_t)fr_label_id(name);
	return jl->id[fid];
}

/* A record the query changes before grouping it (x, a copy): label ids
 * by name, anonymised addresses. */
static const struct fc_ft_record *rewrite(struct run *r, struct jlabels *jl,
					  const struct fc_ft_reader *rd,
					  struct fc_anon *anon,
					  struct fc_ft_record *x)
{
	if (r->label_ids) {
		unsigned fid = fc_ftkey_label(&x->key);

		if (fid != 0)
			fc_ftkey_set_ext(&x->key,
					 jl->id[fid] ? jl->id[fid] :
						       label_lookup(jl, rd, fid),
					 fc_ftkey_vlan(&x->key));
	}
	if (anon != NULL) {
		fc_anon_addr(anon, x->key.family, x->key.src_ip);
		fc_anon_addr(anon, x->key.family, x->key.dst_ip);
	}
	return x;
}

static int agg_file(struct run *r, struct fr_agg *a, struct fc_anon *anon,
		    struct jlabels *jl, struct jstream *js, const char *path)
{
	const struct fr_query *q = r->q;
	struct fc_ft_reader *rd;
	struct fc_ft_open_diag od;
	struct fc_ft_interval iv;
	int st, rc;
	uint64_t n_rec = 0;

	rd = fc_ft_reader_open_diag(path, &st, &od);
	if (rd == NULL) {
		fr_file_error(path, st, od.err_off, od.sys_errno, &od);
		return 1;
	}
	/* Only the columns the query looks at are decoded. */
	(void)fc_ft_reader_fields(rd, r->want);
	while ((rc = fc_ft_reader_next_interval(rd, &iv)) == 1) {
		struct fr_gkey g;

		if (iv.start < q->from || iv.start >= q->to)
			continue;
		g.t = q->interval == FR_IV_OWN ? iv.start :
		      q->interval == FR_IV_ALL ? 0 :
						 iv.start - iv.start % q->interval;
		if (js != NULL && (a = stream_table(r, js, g.t)) == NULL) {
			/* Its interval was finished: the file's intervals
			 * go back in time. Read again without streaming. */
			atomic_store(&r->st->restart, true);
			rc = 0;
			break;
		}
		note_t(jl, g.t);
		if (jl->filter != NULL)
			fr_filter_bind_labels(q->filter, jl->filter, rd);
		if (r->label_ids)
			memset(jl->id, 0, sizeof(jl->id));
		for (;;) {
			/* A block of decoded records, as the reader holds them:
			 * the filter looks at each in place; the ones it keeps
			 * are copied (to anonymise and mask) in batches. */
			const struct fc_ft_record *blk;
			int nblk = fc_ft_reader_next_block(rd, &blk), at = 0;

			if (nblk <= 0) {
				rc = nblk;
				break;
			}
			n_rec += (uint64_t)nblk;
			while (at < nblk) {
				/* A slice: the filter picks the records it
				 * keeps (one loop over the slice, no call a
				 * record); then batches of them are masked,
				 * hashed and their slots' cache lines asked
				 * for, and counted when the lines have
				 * (mostly) arrived. */
				uint16_t keep[SLICE];
				int ns = nblk - at < SLICE ? nblk - at : SLICE;
				unsigned nk = q->filter != NULL ?
					fr_filter_select(q->filter, blk + at,
							 (unsigned)ns,
							 jl->filter, keep) :
					(unsigned)ns;

				for (unsigned ki = 0; ki < nk;) {
					struct fc_ft_record br[BATCH];
					const struct fc_ft_record *bp[BATCH];
					struct fr_gkey bg[BATCH];
					uint32_t bh[BATCH];
					unsigned nb = 0;

					for (; nb < BATCH && ki < nk; nb++, ki++) {
						const struct fc_ft_record *x =
							&blk[at + (q->filter != NULL ?
								   keep[ki] : ki)];
						const uint64_t *m;
						uint64_t w[6];

						if (r->label_ids || anon != NULL) {
							/* Changed: a copy. */
							br[nb] = *x;
							x = rewrite(r, jl, rd, anon,
								    &br[nb]);
						}
						bp[nb] = x;
						m = r->mask[x->key.family == 6];
						memcpy(w, &x->key, 48);
						for (int i = 0; i < 6; i++)
							w[i] &= m[i];
						bg[nb].t = g.t;
						memcpy(&bg[nb].k, w, 48);
						bh[nb] = gkey_hash(&bg[nb]);
						__builtin_prefetch(
							&a->slot[bh[nb] & a->smask]);
					}
					for (unsigned j = 0; j < nb; j++) {
						uint32_t gi = agg_group_h(a, &bg[j],
									  bh[j]);

						a->cnt[gi].records++;
						a->cnt[gi].packets += bp[j]->packets;
						for (unsigned i = 0; i < q->nd; i++) {
							struct fr_dkey d;

							dval(&d, q->d[i], bp[j]);
							d.g = gi;
							d.field = (uint8_t)i;
							fr_agg_distinct(a, &d);
						}
					}
				}
				at += ns;
			}
		}
		atomic_fetch_add(&r->records_done, n_rec);
		n_rec = 0;
		progress(r, false);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		int e = errno;

		fr_file_error(path, rc, fc_ft_reader_error_offset(rd), e, NULL);
	}
	fc_ft_reader_close(rd);
	return rc < 0 ? 1 : 0;
}

static int cmp_tj(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 :
	       a[1] < b[1] ? -1 : a[1] > b[1];
}

/* True when no output interval has groups in two jobs' tables. */
static bool jobs_disjoint(const struct jlabels *const *jl, unsigned nj)
{
	size_t n = 0, k = 0;
	uint64_t *v;
	bool ok = true;

	for (unsigned j = 0; j < nj; j++)
		n += jl[j]->nts;
	v = malloc((n + 1) * 2 * sizeof(*v));
	if (v == NULL)
		fr_oom();
	for (unsigned j = 0; j < nj; j++)
		for (size_t i = 0; i < jl[j]->nts; i++) {
			v[k++] = jl[j]->ts[i];
			v[k++] = j;
		}
	qsort(v, n, 2 * sizeof(*v), cmp_tj);
	for (size_t i = 1; i < n && ok; i++)
		ok = v[2 * i] != v[2 * i - 2] || v[2 * i + 1] == v[2 * i - 1];
	free(v);
	return ok;
}

struct job {
	struct run *r;
	struct fr_agg *a;
	struct fc_anon *anon;
	struct jlabels *jl;
	struct jstream js;
	pthread_t tid;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct run *r = j->r;
	size_t i;

	while ((i = atomic_fetch_add(&r->next, 1)) < r->in->n) {
		struct fr_input *x = &r->in->v[i];

		if (x->skip)
			continue;
		if (r->per_file != NULL) {
			if (r->per_file[i] != NULL)
				continue; /* known from the state */
			r->per_file[i] = fr_agg_create(r->q);
			if (agg_file(r, r->per_file[i], j->anon, j->jl, NULL,
				     x->path) != 0) {
				atomic_store(&r->ret, 1);
				/* not remembered: read again next time */
				x->skip = true;
			}
		} else if (agg_file(r, j->a, j->anon, j->jl,
				    r->st != NULL ? &j->js : NULL,
				    x->path) != 0) {
			atomic_store(&r->ret, 1);
		}
		if (r->st != NULL) {
			if (atomic_load(&r->st->restart))
				break;
			stream_file_done(r, &j->js, i);
		}
		atomic_fetch_add(&r->files_done, 1);
		atomic_fetch_add(&r->bytes_done, (uint64_t)x->size);
		progress(r, false);
	}
	return NULL;
}

/* Rows, sorted: interval, then the order column (largest first), then the
 * group fields in the order given (ascending). */
static const struct fr_query *sort_q;

static int cmp_field(const struct fr_gfield *g, const struct fc_ftkey *ka,
		     const struct fc_ftkey *kb)
{
	const uint8_t *pa = (const uint8_t *)ka, *pb = (const uint8_t *)kb;
	unsigned off = field_bytes[g->f].off, len = field_bytes[g->f].len;
	int c;

	if (g->f == F_LABEL)
		return strcmp(fr_label_name(fc_ftkey_label(ka)),
			      fr_label_name(fc_ftkey_label(kb)));
	if (g->f == F_VLAN)
		return (int)fc_ftkey_vlan(ka) - (int)fc_ftkey_vlan(kb);
	if (g->f == F_SRC_IP || g->f == F_DST_IP) {
		if (ka->family != kb->family)
			return ka->family < kb->family ? -1 : 1;
		return memcmp(pa + off, pb + off, 16);
	}
	if (len == 1)
		return (int)pa[off] - (int)pb[off];
	if (len == 2) {
		uint16_t x, y;

		memcpy(&x, pa + off, 2);
		memcpy(&y, pb + off, 2);
		return (int)x - (int)y;
	} else {
		uint32_t x, y;

		memcpy(&x, pa + off, 4);
		memcpy(&y, pb + off, 4);
		c = x < y ? -1 : x > y;
		return c;
	}
}

static uint64_t order_val(const struct fr_query *q, const struct fr_row *r)
{
	switch (q->order) {
	case ORD_RECORDS: return r->records;
	case ORD_PACKETS: return r->packets;
	case ORD_DISTINCT: return r->distinct[q->order_d];
	default: return 0;
	}
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct fr_row *a = pa, *b = pb;
	const struct fr_query *q = sort_q;
	int c;

	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	if (q->order != ORD_NONE) {
		uint64_t x = order_val(q, a), y = order_val(q, b);

		if (x != y)
			return x > y ? -1 : 1;
	}
	for (unsigned i = 0; i < q->ng; i++)
		if ((c = cmp_field(&q->g[i], &a->k, &b->k)) != 0)
			return c;
	return 0;
}

/* Row indices by interval, then index: 16-byte items, cheap to sort
 * (the rows themselves are 136 bytes). */
struct ti {
	uint64_t t;
	uint64_t i;
};

/* Stable LSD radix sort of v by t (v is in index order, so the result is
 * by (t, i)), a byte at a time, skipping the bytes every t shares (most:
 * interval starts differ in their low bytes). O(n) per byte that
 * differs, where a comparison sort of the groups cost more than counting
 * them. */
static void sort_by_t(struct ti *v, size_t n)
{
	struct ti *tmp, *src = v, *dst;
	uint64_t diff = 0;

	if (n < 2)
		return;
	/* The bits in which some t differs from the first: none when the
	 * groups are of one interval (a streamed query's tables). */
	for (size_t i = 1; i < n; i++)
		diff |= v[i].t ^ v[0].t;
	if (diff == 0)
		return;
	tmp = malloc(n * sizeof(*tmp));
	if (tmp == NULL)
		fr_oom();
	dst = tmp;
	for (unsigned sh = 0; sh < 64; sh += 8) {
		size_t pos[256] = {0}, sum = 0;

		if ((diff >> sh & 0xff) == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			pos[src[i].t >> sh & 0xff]++;
		for (unsigned b = 0; b < 256; b++) {
			size_t c = pos[b];

			pos[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[pos[src[i].t >> sh & 0xff]++] = src[i];
		dst = src;
		src = src == v ? tmp : v;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(tmp);
}

/* Per thread: jobs finish intervals at once (qsort has no context). */
static _Thread_local const struct fr_agg *heap_agg;

static uint64_t agg_order_val(const struct fr_query *q,
			      const struct fr_agg *a, uint64_t i)
{
	switch (q->order) {
	case ORD_RECORDS: return a->cnt[i].records;
	case ORD_PACKETS: return a->cnt[i].packets;
	case ORD_DISTINCT: return a->dcnt[i * a->nd + q->order_d];
	default: return 0;
	}
}

/* row_cmp of the groups x and y of heap_agg, without making rows of
 * them: --top makes rows only of the groups it keeps. */
static int hcmp(uint64_t x, uint64_t y)
{
	const struct fr_query *q = sort_q;
	const struct fr_agg *a = heap_agg;
	int c;

	if (a->keys[x].t != a->keys[y].t)
		return a->keys[x].t < a->keys[y].t ? -1 : 1;
	if (q->order != ORD_NONE) {
		uint64_t vx = agg_order_val(q, a, x), vy = agg_order_val(q, a, y);

		if (vx != vy)
			return vx > vy ? -1 : 1;
	}
	for (unsigned i = 0; i < q->ng; i++)
		if ((c = cmp_field(&q->g[i], &a->keys[x].k,
				   &a->keys[y].k)) != 0)
			return c;
	return 0;
}

/* Group i of a as an output row. */
static void make_row(const struct fr_query *q, const struct fr_agg *a,
		     uint32_t i, struct fr_row *w)
{
	w->t = a->keys[i].t;
	w->k = a->keys[i].k;
	w->records = a->cnt[i].records;
	w->packets = a->cnt[i].packets;
	for (unsigned d = 0; d < q->nd; d++)
		w->distinct[d] = a->dcnt[(size_t)i * a->nd + d];
}

static void sift_down(uint64_t *h, size_t k, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, w = i;
		uint64_t t;

		if (l < k && hcmp(h[l], h[w]) > 0)
			w = l;
		if (l + 1 < k && hcmp(h[l + 1], h[w]) > 0)
			w = l + 1;
		if (w == i)
			return;
		t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

static int idx_cmp(const void *pa, const void *pb)
{
	return hcmp(*(const uint64_t *)pa, *(const uint64_t *)pb);
}

/* --top: per interval, the best N groups of a, in order, as rows into
 * *out (allocated); returns their number. O(n) radix passes on 16-byte
 * items plus O(n log N) group comparisons: only the kept groups become
 * rows (a row is 136 bytes; making one of every group cost more than the
 * selection). */
static size_t select_top(const struct fr_query *q, const struct fr_agg *a,
			 struct fr_row **out, bool one_t)
{
	size_t n = a->n, m = 0, nint = 0, cap;
	struct ti *v = NULL;
	uint64_t *h = malloc(((size_t)(q->top < n ? q->top : n) + 1) *
			     sizeof(*h));
	struct fr_row *rows;

	if (h == NULL)
		fr_oom();
	heap_agg = a;
	if (one_t) {
		/* A streamed interval's table: one run, in index order. */
		nint = n > 0;
	} else {
		v = malloc((n + 1) * sizeof(*v));
		if (v == NULL)
			fr_oom();
		for (size_t i = 0; i < n; i++) {
			v[i].t = a->keys[i].t;
			v[i].i = i;
		}
		sort_by_t(v, n);
		for (size_t i = 0; i < n; i++)
			nint += i == 0 || v[i].t != v[i - 1].t;
	}
	cap = q->top < n / (nint ? nint : 1) ? q->top * nint : n;
	rows = malloc((cap + 1) * sizeof(*rows));
	if (rows == NULL)
		fr_oom();
	for (size_t b = 0, e; b < n; b = e) {
		size_t k = 0;

		for (e = b; e < n && (one_t || v[e].t == v[b].t); e++) {
			uint64_t x = one_t ? e : v[e].i;

			if (k < q->top) {
				size_t i = k++;

				h[i] = x;
				while (i > 0 && hcmp(h[(i - 1) / 2], h[i]) < 0) {
					uint64_t t = h[i];

					h[i] = h[(i - 1) / 2];
					h[(i - 1) / 2] = t;
					i = (i - 1) / 2;
				}
				continue;
			}
			/* In one interval the order column decides first:
			 * a group below the worst kept one is out without
			 * a look at its key (most groups). */
			if (q->order != ORD_NONE &&
			    agg_order_val(q, a, x) < agg_order_val(q, a, h[0]))
				continue;
			if (hcmp(x, h[0]) < 0) {
				h[0] = x;
				sift_down(h, k, 0);
			}
		}
		qsort(h, k, sizeof(*h), idx_cmp);
		for (size_t i = 0; i < k; i++)
			make_row(q, a, (uint32_t)h[i], &rows[m++]);
	}
	free(v);
	free(h);
	*out = rows;
	return m;
}

/* The rows of table a, in output order, into *rows (allocated); one_t:
 * every group of a is of one output interval. */
static void finish_rows(const struct fr_query *q, const struct fr_agg *a,
			struct fr_row **rows, size_t *n, bool one_t)
{
	*n = a->n;
	if (q->top > 0) {
		*n = select_top(q, a, rows, one_t);
	} else {
		*rows = malloc(((size_t)a->n + 1) * sizeof(**rows));
		if (*rows == NULL)
			fr_oom();
		for (uint32_t i = 0; i < a->n; i++)
			make_row(q, a, i, &(*rows)[i]);
		if (*n > 1)
			qsort(*rows, *n, sizeof(**rows), row_cmp);
	}
}

static void finish(const struct fr_query *q, const struct fr_agg *a)
{
	struct fr_row *rows;
	size_t n;

	finish_rows(q, a, &rows, &n, false);
	fr_output_rows(q, rows, n);
	free(rows);
}

/* The query, streaming (st given) or with one table per job to the end;
 * -1: st saw a file's intervals go back in time, nothing printed. */
static int run_query(const struct fr_query *q, struct fr_inputs *in,
		     struct stream *st)
{
	struct run r = {.q = q, .in = in, .st = st};
	struct job *jobs;
	unsigned nj = q->jobs ? q->jobs : 1;
	struct fr_agg *total;
	int ret;

	make_masks(q, r.mask);
	r.want = fr_filter_fields(q->filter);
	for (unsigned i = 0; i < q->ng; i++)
		r.want |= field_fid(q->g[i].f);
	for (unsigned i = 0; i < q->nd; i++)
		r.want |= field_fid(q->d[i]);
	for (unsigned i = 0; i < q->ng; i++)
		r.label_ids |= q->g[i].f == F_LABEL;
	for (unsigned i = 0; i < q->nd; i++)
		r.label_ids |= q->d[i] == F_LABEL;
	for (size_t i = 0; i < in->n; i++)
		if (!in->v[i].skip) {
			r.files_total++;
			r.bytes_total += (uint64_t)in->v[i].size;
		}
	if (nj > r.files_total && r.files_total > 0)
		nj = (unsigned)r.files_total;
	pthread_mutex_init(&r.plock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	if (q->state != NULL) {
		r.per_file = calloc(in->n + 1, sizeof(*r.per_file));
		if (r.per_file == NULL)
			fr_oom();
		if (fr_state_load(q, in, r.per_file) != 0) {
			/* Refused: it freed what it had read. */
			free(r.per_file);
			pthread_mutex_destroy(&r.plock);
			return 2;
		}
	}
	if (r.per_file != NULL) {
		size_t known = 0;

		for (size_t i = 0; i < in->n; i++)
			known += r.per_file[i] != NULL;
		fprintf(stderr, PROG ": note: --state %s: %zu of %zu files "
			"known, %zu to read\n", q->state, known, r.files_total,
			r.files_total - known);
	}
	jobs = calloc(nj, sizeof(*jobs));
	if (jobs == NULL)
		fr_oom();
	for (unsigned i = 0; i < nj; i++) {
		jobs[i].r = &r;
		jobs[i].js.job = i;
		jobs[i].a = fr_agg_create(q);
		jobs[i].jl = calloc(1, sizeof(*jobs[i].jl));
		if (jobs[i].jl == NULL)
			fr_oom();
		if (fr_filter_needs(q->filter) & FR_NEED_LABEL) {
			jobs[i].jl->filter = malloc(sizeof(struct fr_flabels));
			if (jobs[i].jl->filter == NULL)
				fr_oom();
		}
		if (q->anon_key != NULL) {
			jobs[i].anon = fc_anon_create(q->anon_key);
			if (jobs[i].anon == NULL) {
				fprintf(stderr, PROG ": --anonymize: OpenSSL "
					"cannot set up AES-128\n");
				exit(1);
			}
		}
	}
	for (unsigned i = 1; i < nj; i++)
		if (pthread_create(&jobs[i].tid, NULL, job_main, &jobs[i]) != 0) {
			fprintf(stderr, PROG ": --jobs: cannot start a thread: "
				"%s\n", strerror(errno));
			exit(1);
		}
	job_main(&jobs[0]);
	for (unsigned i = 1; i < nj; i++)
		pthread_join(jobs[i].tid, NULL);
	progress(&r, true);
	if (st != NULL) {
		ret = atomic_load(&st->restart) ? -1 : atomic_load(&r.ret);
		pthread_mutex_lock(&st->lock);
		for (unsigned i = 0; i < nj; i++)
			hand_in(st, &jobs[i].js);
		finish_ready(&r, true);
		pthread_mutex_unlock(&st->lock);
		if (ret >= 0) {
			size_t n = 0;
			struct fr_row *rows;

			qsort(st->blk, st->nblk, sizeof(*st->blk), blk_cmp);
			for (size_t i = 0; i < st->nblk; i++)
				n += st->blk[i].n;
			rows = malloc((n + 1) * sizeof(*rows));
			if (rows == NULL)
				fr_oom();
			n = 0;
			for (size_t i = 0; i < st->nblk; i++) {
				memcpy(&rows[n], st->blk[i].rows,
				       st->blk[i].n * sizeof(*rows));
				n += st->blk[i].n;
			}
			fr_output_rows(q, rows, n);
			free(rows);
		}
		goto out;
	}
	/* The largest table takes the others: fewest inserts. Jobs that
	 * made groups in different output intervals (files split in time,
	 * the files' own intervals or intervals no two files share) made
	 * different groups: their tables are appended, not merged. With
	 * --state the per-file tables still merge in below: merged then. */
	total = jobs[0].a;
	for (unsigned i = 1; i < nj; i++)
		if (jobs[i].a->n > total->n)
			total = jobs[i].a;
	bool append = r.per_file == NULL && nj > 1;

	if (append) {
		const struct jlabels **jls = malloc(nj * sizeof(*jls));

		if (jls == NULL)
			fr_oom();
		for (unsigned i = 0; i < nj; i++)
			jls[i] = jobs[i].jl;
		append = jobs_disjoint(jls, nj);
		free(jls);
	}
	for (unsigned i = 0; i < nj; i++)
		if (jobs[i].a != total) {
			if (append)
				agg_append(total, jobs[i].a);
			else
				fr_agg_merge(total, jobs[i].a);
		}
	ret = atomic_load(&r.ret);
	if (r.per_file != NULL) {
		for (size_t i = 0; i < in->n; i++)
			if (r.per_file[i] != NULL)
				fr_agg_merge(total, r.per_file[i]);
		if (fr_state_save(q, in, r.per_file) != 0)
			ret = 1;
		for (size_t i = 0; i < in->n; i++)
			fr_agg_free(r.per_file[i]);
		free(r.per_file);
	}
	finish(q, total);
out:
	for (unsigned i = 0; i < nj; i++) {
		fr_agg_free(jobs[i].a);
		fc_anon_free(jobs[i].anon);
		free(jobs[i].jl->filter);
		free(jobs[i].jl->ts);
		free(jobs[i].jl);
	}
	free(jobs);
	pthread_mutex_destroy(&r.plock);
	return ret;
}

int fr_query_run(const struct fr_query *q, struct fr_inputs *in)
{
	struct stream st = {.lock = PTHREAD_MUTEX_INITIALIZER};
	unsigned nj = q->jobs ? q->jobs : 1;
	int ret;

	sort_q = q;
	if (q->state != NULL)
		return run_query(q, in, NULL);
	st.done = calloc(in->n + 1, sizeof(*st.done));
	st.open = malloc(nj * sizeof(*st.open));
	if (st.done == NULL || st.open == NULL)
		fr_oom();
	for (size_t i = 0; i < in->n; i++)
		st.done[i] = in->v[i].skip;
	for (unsigned j = 0; j < nj; j++)
		st.open[j] = UINT64_MAX;
	ret = run_query(q, in, &st);
	for (size_t i = 0; i < st.nsegs; i++)
		fr_agg_free(st.segs[i].a);
	for (size_t i = 0; i < st.npool; i++)
		fr_agg_free(st.pool[i]);
	for (size_t i = 0; i < st.nblk; i++)
		free(st.blk[i].rows);
	free(st.segs);
	free(st.pool);
	free(st.blk);
	free(st.done);
	free(st.open);
	pthread_mutex_destroy(&st.lock);
	if (ret == -1) {
		fprintf(stderr, PROG ": note: an input's intervals go back in "
			"time; reading every input again with one table to "
			"the end\n");
		ret = run_query(q, in, NULL);
	}
	return ret;
}

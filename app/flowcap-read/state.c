/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * --state FILE: what an incremental query remembers between runs. For each
 * file read completely: its name, size and the file checksum its END block
 * holds (the last 4 bytes of a complete file), and the partial aggregate of
 * the query over that file alone; and a description of the query (filter,
 * groups, distinct fields, interval, time range, anonymisation key's
 * fingerprint: everything the partial aggregates depend on; not --top,
 * --order or --format, which only shape the output). A run loads the
 * partials of the files it still has unchanged, reads the others, and
 * prints the merge: the same as a full run.
 *
 * Layout (little-endian): "FRSTATE2", u32 length + query text, u32 label
 * names, each u32 length + name (the label ids of the groups and values
 * below are 1.. into this list: ids are the run's, names are stable;
 * "FRSTATE1", of earlier versions, has no list), u32 files; per file: u32 length + name, u64 size, u32 end_crc, u32 groups, u32
 * distinct values, then the groups (struct fr_gkey, u64 records, u64
 * packets) and the values (struct fr_dkey); last a CRC32C of everything
 * before it. A state that is damaged, truncated, of another query or
 * inconsistent (a value of a group that does not exist) is refused; it is
 * written to FILE.tmp, fsynced and renamed, so it is never seen half
 * written. This file does not aggregate (query.c).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc_anon.h"
#include "fr_agg.h"

#define MAGIC "FRSTATE2"
#define MAGIC1 "FRSTATE1"

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *v, size_t n)
{
	if (n == 0)
		return; /* v may be NULL: a table without values */
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->n + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			fr_oom();
		b->cap = cap;
	}
	memcpy(b->p + b->n, v, n);
	b->n += n;
}

static void put32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void put64(struct buf *b, uint64_t v) { put(b, &v, 8); }

/* The query as text: equal texts, equal partial aggregates. */
static void describe(const struct fr_query *q, struct buf *b)
{
	char s[512];
	int n;

	n = snprintf(s, sizeof(s), "filter=%s\ngroup=", q->filter_text ?
		     q->filter_text : "");
	put(b, s, (size_t)n);
	for (unsigned i = 0; i < q->ng; i++) {
		n = snprintf(s, sizeof(s), "%s%s/%u/%u", i ? "," : "",
			     fr_field_names[q->g[i].f], q->g[i].pfx4,
			     q->g[i].pfx6);
		put(b, s, (size_t)n);
	}
	put(b, "\ndistinct=", 10);
	for (unsigned i = 0; i < q->nd; i++) {
		n = snprintf(s, sizeof(s), "%s%s", i ? "," : "",
			     fr_field_names[q->d[i]]);
		put(b, s, (size_t)n);
	}
	if (q->interval == FR_IV_OWN || q->interval == FR_IV_ALL)
		n = snprintf(s, sizeof(s), "\ninterval=%s", q->interval ==
			     FR_IV_ALL ? "all" : "files");
	else
		n = snprintf(s, sizeof(s), "\ninterval=%" PRIu64, q->interval);
	put(b, s, (size_t)n);
	n = snprintf(s, sizeof(s), "\nfrom=%" PRIu64 "\nto=%" PRIu64
		     "\nanonymize=", q->from, q->to);
	put(b, s, (size_t)n);
	if (q->anon_key != NULL) {
		uint8_t fp[FC_ANON_FP_LEN];

		fc_anon_fingerprint(q->anon_key, fp);
		for (int i = 0; i < FC_ANON_FP_LEN; i++) {
			n = snprintf(s, sizeof(s), "%02x", fp[i]);
			put(b, s, (size_t)n);
		}
	}
}

/* The file checksum of a complete file's END block: its last 4 bytes. */
static int end_crc(const char *path, uint64_t *size, uint32_t *crc)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st = {0};
	int ok;

	if (fd < 0)
		return -1;
	ok = fstat(fd, &st) == 0 && st.st_size >= 4 &&
	     pread(fd, crc, 4, st.st_size - 4) == 4;
	close(fd);
	*size = (uint64_t)st.st_size;
	return ok ? 0 : -1;
}

struct rd {
	const uint8_t *p;
	size_t n, at;
	bool bad;
};

static const void *take(struct rd *r, size_t n)
{
	const void *v;

	if (r->bad || n > r->n - r->at) {
		r->bad = true;
		return NULL;
	}
	v = r->p + r->at;
	r->at += n;
	return v;
}

static uint32_t get32(struct rd *r)
{
	const void *v = take(r, 4);
	uint32_t x = 0;

	if (v != NULL)
		memcpy(&x, v, 4);
	return x;
}

static uint64_t get64(struct rd *r)
{
	const void *v = take(r, 8);
	uint64_t x = 0;

	if (v != NULL)
		memcpy(&x, v, 8);
	return x;
}

static int refuse(const char *path, const char *why)
{
	fprintf(stderr, PROG ": --state %s: %s; it was not used (remove it "
		"to start again)\n", path, why);
	return -1;
}

int fr_state_load(const struct fr_query *q, struct fr_inputs *in,
		  struct fr_agg **per_file)
{
	struct buf want = {0};
	struct rd r = {0};
	uint8_t *data = NULL;
	size_t len = 0, cap = 0;
	uint32_t nfiles, qlen, crc, nlabels;
	const char *qtext;
	uint16_t lmap[FC_FTKEY_LABEL_MAX + 1] = {0};
	int dlabel = -1; /* which distinct field is label */
	FILE *f = fopen(q->state, "rb");
	int ret = -1;

	if (f == NULL) {
		if (errno == ENOENT)
			return 0; /* the first run */
		fprintf(stderr, PROG ": --state %s: cannot read: %s\n",
			q->state, strerror(errno));
		return -1;
	}
	for (;;) {
		size_t k;

		if (len == cap) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
			if (data == NULL)
				fr_oom();
		}
		k = fread(data + len, 1, cap - len, f);
		if (k == 0)
			break;
		len += k;
	}
	if (ferror(f)) {
		fprintf(stderr, PROG ": --state %s: cannot read: %s\n",
			q->state, strerror(errno));
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	r.p = data;
	r.n = len;
	if (len < 8 + 4 || (memcmp(data, MAGIC, 8) != 0 &&
			     memcmp(data, MAGIC1, 8) != 0)) {
		refuse(q->state, "not a flowcap-read state file");
		goto out;
	}
	memcpy(&crc, data + len - 4, 4);
	if (fc_ft_crc32c(0, data, len - 4) != crc) {
		refuse(q->state, "damaged (checksum mismatch)");
		goto out;
	}
	r.n = len - 4;
	r.at = 8;
	for (unsigned i = 0; i < q->nd; i++)
		if (q->d[i] == F_LABEL)
			dlabel = (int)i;
	describe(q, &want);
	qlen = get32(&r);
	qtext = take(&r, qlen);
	if (qtext == NULL) {
		refuse(q->state, "damaged (truncated)");
		goto out;
	}
	if (qlen != want.n || memcmp(qtext, want.p, qlen) != 0) {
		fprintf(stderr, PROG ": --state %s: made by another query:\n"
			"%.*s\nnot by this one:\n%.*s\nuse another state file "
			"for this query (or remove this one)\n", q->state,
			(int)qlen, qtext, (int)want.n, (const char *)want.p);
		goto out;
	}
	/* The state's label ids as this run's (by name). */
	nlabels = memcmp(data, MAGIC1, 8) == 0 ? 0 : get32(&r);
	if (nlabels > FC_FTKEY_LABEL_MAX)
		r.bad = true;
	for (uint32_t i = 1; i <= nlabels && !r.bad; i++) {
		uint32_t l = get32(&r);
		const char *name = take(&r, l);
		char b[32];

		if (name == NULL || l == 0 || l >= sizeof(b) ||
		    memchr(name, '\0', l) != NULL) {
			r.bad = true;
			break;
		}
		memcpy(b, name, l);
		b[l] = '\0';
		lmap[i] = (uint16_t)fr_label_id(b);
	}
	nfiles = get32(&r);
	for (uint32_t i = 0; i < nfiles && !r.bad; i++) {
		uint32_t plen = get32(&r), ng, ndv, crc_was, crc_now;
		const char *path = take(&r, plen);
		uint64_t size_was, size_now = 0;
		const uint8_t *groups, *dv;
		size_t at = SIZE_MAX;

		size_was = get64(&r);
		crc_was = get32(&r);
		ng = get32(&r);
		ndv = get32(&r);
		groups = take(&r, (size_t)ng * (sizeof(struct fr_gkey) + 16));
		dv = take(&r, (size_t)ndv * sizeof(struct fr_dkey));
		if (r.bad)
			break;
		for (size_t j = 0; j < in->n; j++)
			if (!in->v[j].skip && strlen(in->v[j].path) == plen &&
			    memcmp(in->v[j].path, path, plen) == 0) {
				at = j;
				break;
			}
		if (at == SIZE_MAX || per_file[at] != NULL)
			continue; /* not asked for this time */
		if (end_crc(in->v[at].path, &size_now, &crc_now) != 0 ||
		    size_now != size_was || crc_now != crc_was) {
			fprintf(stderr, PROG ": note: %s changed since --state "
				"%s was written (size %" PRIu64 " -> %" PRIu64
				"%s); reading it again\n", in->v[at].path,
				q->state, size_was, size_now,
				size_now == size_was ? ", END checksum differs" :
						       "");
			continue;
		}
		per_file[at] = fr_agg_create(q);
		for (uint32_t g = 0; g < ng; g++) {
			struct fr_gkey k;
			uint64_t c[2];
			uint32_t gi;
			unsigned l;

			memcpy(&k, groups, sizeof(k));
			memcpy(c, groups + sizeof(k), 16);
			groups += sizeof(k) + 16;
			l = fc_ftkey_label(&k.k);
			if (l > nlabels) {
				r.bad = true;
				break;
			}
			fc_ftkey_set_ext(&k.k, lmap[l], fc_ftkey_vlan(&k.k));
			gi = fr_agg_group(per_file[at], &k);
			if (gi != g) /* a group twice */
				r.bad = true;
			per_file[at]->cnt[gi].records = c[0];
			per_file[at]->cnt[gi].packets = c[1];
		}
		for (uint32_t d = 0; d < ndv && !r.bad; d++) {
			struct fr_dkey k;

			memcpy(&k, dv + (size_t)d * sizeof(k), sizeof(k));
			if (k.g >= ng || k.field >= q->nd) {
				r.bad = true;
				break;
			}
			if ((int)k.field == dlabel) {
				uint16_t l;

				memcpy(&l, k.v, 2);
				if (l > nlabels) {
					r.bad = true;
					break;
				}
				memcpy(k.v, &lmap[l], 2);
			}
			fr_agg_distinct(per_file[at], &k);
		}
	}
	if (r.bad || r.at != r.n) {
		for (size_t j = 0; j < in->n; j++) {
			fr_agg_free(per_file[j]);
			per_file[j] = NULL;
		}
		refuse(q->state, "damaged (inconsistent contents)");
		goto out;
	}
	ret = 0;
out:
	free(want.p);
	free(data);
	return ret;
}

/* The rename survives a crash once the directory is synced too. */
static void sync_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int fd;

	if (dir == NULL)
		fr_oom();
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int fr_state_save(const struct fr_query *q, const struct fr_inputs *in,
		  struct fr_agg **per_file)
{
	struct buf b = {0}, d = {0};
	char *tmp;
	uint32_t n = 0;
	int fd, ret = -1;

	put(&b, MAGIC, 8);
	describe(q, &d);
	put32(&b, (uint32_t)d.n);
	put(&b, d.p, d.n);
	free(d.p);
	/* Every id any table may hold: the run's, 1..count. */
	put32(&b, fr_label_count());
	for (unsigned i = 1; i <= fr_label_count(); i++) {
		const char *name = fr_label_name(i);

		put32(&b, (uint32_t)strlen(name));
		put(&b, name, strlen(name));
	}
	for (size_t i = 0; i < in->n; i++)
		n += per_file[i] != NULL && !in->v[i].skip;
	put32(&b, n);
	for (size_t i = 0; i < in->n; i++) {
		const struct fr_agg *a = per_file[i];
		uint64_t size;
		uint32_t crc;

		if (a == NULL || in->v[i].skip)
			continue;
		if (end_crc(in->v[i].path, &size, &crc) != 0) {
			fprintf(stderr, PROG ": %s: cannot read: %s\n",
				in->v[i].path, strerror(errno));
			free(b.p);
			return -1;
		}
		put32(&b, (uint32_t)strlen(in->v[i].path));
		put(&b, in->v[i].path, strlen(in->v[i].path));
		put64(&b, size);
		put32(&b, crc);
		put32(&b, a->n);
		put32(&b, a->dn);
		for (uint32_t g = 0; g < a->n; g++) {
			put(&b, &a->keys[g], sizeof(a->keys[g]));
			put64(&b, a->cnt[g].records);
			put64(&b, a->cnt[g].packets);
		}
		put(&b, a->dk, (size_t)a->dn * sizeof(*a->dk));
	}
	put32(&b, fc_ft_crc32c(0, b.p, b.n));
	if (asprintf(&tmp, "%s.tmp", q->state) < 0)
		fr_oom();
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto err;
	for (size_t at = 0; at < b.n;) {
		ssize_t k = write(fd, b.p + at, b.n - at);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto err_unlink;
		}
		at += (size_t)k;
	}
	if (fsync(fd) != 0) {
		close(fd);
		goto err_unlink;
	}
	if (close(fd) != 0 || rename(tmp, q->state) != 0)
		goto err_unlink;
	sync_dir(q->state);
	ret = 0;
	goto out;
err_unlink:
	{
		int e = errno;

		unlink(tmp);
		errno = e;
	}
err:
	fprintf(stderr, PROG ": --state %s: cannot write: %s (the answer "
		"is complete; the next run reads every file again)\n",
		q->state, strerror(errno));
out:
	free(tmp);
	free(b.p);
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read's record printer: every record of a file as a table, CSV,
 * JSON lines or Corsaro's cors2ascii text (optionally filtered,
 * anonymised, cut to a time range); each interval's accounting (--stats);
 * or a complete check of the file (--verify). A damaged file is reported
 * with its name and the byte offset of the damage, and nothing after the
 * damage is printed. It does not aggregate: that is query.c.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_anon.h"
#include "fr.h"

/* The stream this thread prints to (stdout, or a job's buffer). */
static _Thread_local FILE *out;
/* Width of the table's address columns: 15, or 39 when any input has an
 * IPv6 record (found before printing, so every row lines up). */
static int addr_w = 15;
bool fr_col_label, fr_col_vlan;
/* The file this thread reads: the names of its records' labels. */
static _Thread_local const struct fc_ft_reader *cur_reader;

/* ---------------------------------------------------------------------- */
/* Record output                                                          */

void fr_dump_header(FILE *f, enum fr_fmt fmt, bool wide)
{
	out = f;
	addr_w = wide ? 39 : 15;
	if (fmt == FMT_CSV)
		fprintf(out, "interval_start,class,src_ip,dst_ip,src_port,"
			"dst_port,protocol,ttl,tcp_flags,ip_len,packets%s%s\n",
			fr_col_label ? ",label" : "", fr_col_vlan ? ",vlan" : "");
	else if (fmt == FMT_TABLE)
		fprintf(out, "%-10s %-11s %-*s %-*s %5s %5s %5s %3s %5s %6s %10s\n",
		       "start", "class", addr_w, "src_ip", addr_w, "dst_ip",
		       "sport", "dport", "proto", "ttl", "flags", "ip_len",
		       "packets");
}

/* Decimal text of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char t[20];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = t[--n];
	return p;
}

static char *put_addr(char *p, unsigned family, const uint8_t *ip)
{
	if (family == 4) {
		for (int i = 0; i < 4; i++) {
			p = put_u64(p, ip[i]);
			*p++ = i < 3 ? '.' : ',';
		}
		return p;
	}
	fc_ip_format(p, FC_IP_STRLEN, family, ip);
	p += strlen(p);
	*p++ = ',';
	return p;
}

/* A record's label name: "" for none, "#ID" for an id its interval does
 * not name (a damaged or foreign file). */
static const char *label_of(const struct fc_ftkey *k, char *buf, size_t len)
{
	unsigned id = fc_ftkey_label(k);
	const char *l;

	if (id == 0)
		return "";
	l = fc_ft_reader_label(cur_reader, id);
	if (l == NULL) {
		snprintf(buf, len, "#%u", id);
		l = buf;
	}
	return l;
}

/* The CSV row without printf: the plain dump's cost is its formatting.
 * Same text as the %u/%s format it replaces. */
static void print_csv(uint64_t start, const struct fc_ft_record *r)
{
	const struct fc_ftkey *k = &r->key;
	char line[320], *p = line;
	const char *cls = fc_ft_class_name(k->cls);
	size_t cl = strlen(cls);

	p = put_u64(p, start);
	*p++ = ',';
	memcpy(p, cls, cl);
	p += cl;
	*p++ = ',';
	p = put_addr(p, k->family, k->src_ip);
	p = put_addr(p, k->family, k->dst_ip);
	p = put_u64(p, k->src_port);
	*p++ = ',';
	p = put_u64(p, k->dst_port);
	*p++ = ',';
	p = put_u64(p, k->proto);
	*p++ = ',';
	p = put_u64(p, k->ttl);
	*p++ = ',';
	p = put_u64(p, k->tcp_flags);
	*p++ = ',';
	p = put_u64(p, k->ip_len);
	*p++ = ',';
	p = put_u64(p, r->packets);
	if (fr_col_label) {
		char b[16];
		const char *l = label_of(k, b, sizeof(b));
		size_t ll = strnlen(l, 40);

		*p++ = ',';
		memcpy(p, l, ll);
		p += ll;
	}
	if (fr_col_vlan) {
		*p++ = ',';
		p = put_u64(p, fc_ftkey_vlan(k));
	}
	*p++ = '\n';
	fwrite_unlocked(line, 1, (size_t)(p - line), out);
}

static void print_record(enum fr_fmt fmt, uint64_t start,
			 const struct fc_ft_record *r)
{
	const struct fc_ftkey *k = &r->key;
	char s[FC_IP_STRLEN], d[FC_IP_STRLEN];
	const char *cls = fc_ft_class_name(k->cls);

	if (fmt == FMT_CSV) {
		print_csv(start, r);
		return;
	}
	fc_ip_format(s, sizeof(s), k->family, k->src_ip);
	fc_ip_format(d, sizeof(d), k->family, k->dst_ip);
	switch (fmt) {
	case FMT_CSV:
		fprintf(out, "%" PRIu64 ",%s,%s,%s,%u,%u,%u,%u,%u,%u,%" PRIu64 "\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets);
		break;
	case FMT_JSON: {
		char b[16], vb[16] = "";

		if (fr_col_vlan)
			snprintf(vb, sizeof(vb), "%u", fc_ftkey_vlan(k));
		fprintf(out, "{\"interval_start\":%" PRIu64 ",\"class\":\"%s\","
		       "\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,"
		       "\"dst_port\":%u,\"protocol\":%u,\"ttl\":%u,"
		       "\"tcp_flags\":%u,\"ip_len\":%u,\"packets\":%" PRIu64
		       "%s%s%s%s%s}\n",
		       start, cls, s, d, k->src_port, k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets,
		       fr_col_label ? ",\"label\":\"" : "",
		       fr_col_label ? label_of(k, b, sizeof(b)) : "",
		       fr_col_label ? "\"" : "", fr_col_vlan ? ",\"vlan\":" : "",
		       vb);
		break;
	}
	case FMT_TABLE:
		fprintf(out, "%-10" PRIu64 " %-11s %-*s %-*s %5u %5u %5u %3u  0x%02x "
		       "%6u %10" PRIu64 "\n",
		       start, cls, addr_w, s, addr_w, d, k->src_port,
		       k->dst_port, k->proto,
		       k->ttl, k->tcp_flags, k->ip_len, r->packets);
		break;
	case FMT_CORSARO:
		fprintf(out, "%s|%s|%u|%u|%u|%u|0x%02x|%u,%" PRIu64 "\n", s, d,
		       k->src_port, k->dst_port, k->proto, k->ttl, k->tcp_flags,
		       k->ip_len, r->packets);
		break;
	}
}

/* Corsaro compares addresses as 32-bit integers loaded from network-order
 * bytes on a little-endian host; its output order follows from that. */
static uint32_t corsaro_u32(const uint8_t *a)
{
	return (uint32_t)a[0] | (uint32_t)a[1] << 8 | (uint32_t)a[2] << 16 |
	       (uint32_t)a[3] << 24;
}

/* Ports and lengths too: Corsaro keeps them in network order. */
static uint32_t corsaro_u16(uint32_t v)
{
	return (v & 0xff) << 8 | (v >> 8 & 0xff) | (v & 0xffff0000u);
}

#define CMP(x, y) do { if ((x) != (y)) return (x) < (y) ? -1 : 1; } while (0)

/* Corsaro's flowtuple order within a class: protocol, ttl, tcp flags,
 * source, destination, ports, length, compared as Corsaro's in-memory
 * integers (network order loaded on a little-endian host). IPv6 (unknown to Corsaro) follows
 * the same rule on its first four bytes, then the rest. */
static int corsaro_cmp(const void *pa, const void *pb)
{
	const struct fc_ftkey *a = &((const struct fc_ft_record *)pa)->key;
	const struct fc_ftkey *b = &((const struct fc_ft_record *)pb)->key;
	int c;

	CMP(a->cls, b->cls);
	CMP(a->proto, b->proto);
	CMP(a->ttl, b->ttl);
	CMP(a->tcp_flags, b->tcp_flags);
	CMP(corsaro_u32(a->src_ip), corsaro_u32(b->src_ip));
	CMP(a->family, b->family);
	if ((c = memcmp(a->src_ip + 4, b->src_ip + 4, 12)) != 0)
		return c;
	CMP(corsaro_u32(a->dst_ip), corsaro_u32(b->dst_ip));
	if ((c = memcmp(a->dst_ip + 4, b->dst_ip + 4, 12)) != 0)
		return c;
	CMP(corsaro_u16(a->src_port), corsaro_u16(b->src_port));
	CMP(corsaro_u16(a->dst_port), corsaro_u16(b->dst_port));
	CMP(corsaro_u16(a->ip_len), corsaro_u16(b->ip_len));
	return 0;
}

struct recbuf {
	struct fc_ft_record *v;
	size_t n, cap;
};

static int recbuf_push(struct recbuf *b, const struct fc_ft_record *r)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		struct fc_ft_record *v = realloc(b->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *r;
	return 0;
}

/* One interval in cors2ascii form; a gap interval becomes the run of empty
 * intervals it stands for, as Corsaro prints them. */
static void print_corsaro(const struct fc_ft_file_info *info,
			  const struct fc_ft_interval *iv, struct recbuf *b)
{
	uint64_t len = info->interval_len ? info->interval_len : 1;
	uint64_t start = iv->start, idx = iv->index;
	size_t at = 0;

	/* qsort's array must not be NULL even for no elements: an
	 * interval without records leaves b->v NULL. */
	if (b->n > 1)
		qsort(b->v, b->n, sizeof(*b->v), corsaro_cmp);
	/* Records that differ only by label or VLAN are one flowtuple to
	 * Corsaro: summed, so the text stays Corsaro's. */
	if (b->n > 1) {
		size_t o = 0;

		for (size_t i = 1; i < b->n; i++) {
			struct fc_ftkey x = b->v[o].key, y = b->v[i].key;

			fc_ftkey_set_ext(&x, 0, 0);
			fc_ftkey_set_ext(&y, 0, 0);
			if (memcmp(&x, &y, sizeof(x)) == 0)
				b->v[o].packets += b->v[i].packets;
			else
				b->v[++o] = b->v[i];
		}
		b->n = o + 1;
	}
	for (;;) {
		uint64_t end = iv->end;
		bool last = true;

		if ((iv->flags & FC_FT_IV_GAP) && end - start >= len) {
			end = start + len - 1;
			last = false;
		}
		fprintf(out, "# CORSARO_INTERVAL_START %" PRIu64 " %" PRIu64 "\n",
		       idx, start);
		for (unsigned c = 0; c < FC_FT_CLASS_COUNT; c++) {
			size_t e = at;

			while (e < b->n && b->v[e].key.cls == c)
				e++;
			fprintf(out, "START flowtuple_%s %zu\n", fc_ft_class_name(c),
			       e - at);
			for (; at < e; at++)
				print_record(FMT_CORSARO, 0, &b->v[at]);
			fprintf(out, "END flowtuple_%s\n", fc_ft_class_name(c));
		}
		fprintf(out, "# CORSARO_INTERVAL_END %" PRIu64 " %" PRIu64 "\n", idx,
		       end);
		if (last)
			break;
		start = end + 1;
		idx++;
	}
}

/* ---------------------------------------------------------------------- */
/* Accounting                                                             */

static uint64_t drops_of(const struct fc_ft_interval *iv)
{
	uint64_t d = 0;

	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		d += iv->ctr[i];
	return d;
}

static void print_stats(const struct fc_ft_interval *iv)
{
	static const char *const fl[] = {"partial", "late", "last", "gap",
					 "rules-changed"};
	uint64_t drops = drops_of(iv);
	bool any = false;

	fprintf(out, "interval=%" PRIu32 " start=%" PRIu64 " end=%" PRIu64
	       " flags=", iv->index, iv->start, iv->end);
	for (unsigned i = 0; i < 5; i++)
		if (iv->flags & (1u << i)) {
			fprintf(out, "%s%s", any ? "," : "", fl[i]);
			any = true;
		}
	if (!any)
		fprintf(out, "-");
	fprintf(out, " rx_pkts=%" PRIu64 " rec_pkts=%" PRIu64 " records=%" PRIu64,
	       iv->rx_pkts, iv->rec_pkts, iv->n_records);
	for (unsigned i = 1; i < FC_CTR_MAX; i++)
		if (iv->ctr[i] != 0) {
			const char *n = fc_ft_counter_name(i);

			if (n != NULL)
				fprintf(out, " %s=%" PRIu64, n, iv->ctr[i]);
			else
				fprintf(out, " ctr%u=%" PRIu64, i, iv->ctr[i]);
		}
	fprintf(out, " drops=%" PRIu64 " conservation=%s\n", drops,
	       iv->rx_pkts == iv->rec_pkts + drops ? "ok" : "FAILED");
}

/* ---------------------------------------------------------------------- */
/* Files                                                                  */

/* Read one file; return 0 when it was read completely and (with --verify)
 * passed every check, 1 otherwise. */
int fr_dump_file(const struct fr_dump *o, FILE *f, const char *path)
{
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	struct recbuf buf = {0};
	struct fr_flabels *lb = NULL;
	uint64_t n_iv = 0, n_rec = 0;
	bool records = !o->stats && !o->verify;
	int st, rc, ret = 0;

	struct fc_ft_open_diag d;

	out = f;
	r = fc_ft_reader_open_diag(path, &st, &d);
	cur_reader = r;
	if (r == NULL) {
		/* Checked before anything was printed; it changed since. */
		fflush(out);
		fr_file_error(path, st, d.err_off, d.sys_errno, &d);
		return 1;
	}
	if (fr_filter_needs(o->filter) & FR_NEED_LABEL) {
		lb = malloc(sizeof(*lb));
		if (lb == NULL)
			fr_oom();
	}
	if (o->stats) {
		const struct fc_ft_file_info *in = fc_ft_reader_info(r);

		fprintf(out, "file=%s version=%u.%u monitor=%s interval_len=%" PRIu32
		       " aligned=%s created=%" PRIu64 " writer=%s",
		       path, in->version_major, in->version_minor,
		       in->monitor[0] ? in->monitor : "-", in->interval_len,
		       in->flags & FC_FT_F_ALIGNED ? "yes" : "no", in->created,
		       in->writer[0] ? in->writer : "unknown");
		/* Only anonymised files say so: other lines stay as before. */
		if (in->flags & FC_FT_F_ANON) {
			fprintf(out, " anonymized=key:");
			for (int i = 0; i < 8; i++)
				fprintf(out, "%02x", in->anon_fp[i]);
		}
		fputc('\n', out);
	}
	while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
		uint64_t pkts = 0, k = 0;

		bool in_range = iv.start >= o->from && iv.start < o->to;

		n_iv++;
		if (o->stats && in_range)
			print_stats(&iv);
		buf.n = 0;
		if (lb != NULL && records && in_range)
			fr_filter_bind_labels(o->filter, lb, r);
		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1) {
			k++;
			pkts += rec.packets;
			if (!records || !in_range)
				continue;
			if (o->filter != NULL && !fr_filter_match(o->filter, &rec, lb))
				continue;
			if (o->anon != NULL) {
				fc_anon_addr(o->anon, rec.key.family,
					     rec.key.src_ip);
				fc_anon_addr(o->anon, rec.key.family,
					     rec.key.dst_ip);
			}
			if (o->fmt == FMT_CORSARO) {
				if (recbuf_push(&buf, &rec) != 0) {
					fprintf(stderr, PROG ": %s: out of "
						"memory\n", path);
					ret = 1;
					goto out;
				}
			} else {
				print_record(o->fmt, iv.start, &rec);
			}
		}
		n_rec += k;
		if (rc < 0)
			break;
		if (records && in_range && o->fmt == FMT_CORSARO)
			print_corsaro(fc_ft_reader_info(r), &iv, &buf);
		if (o->verify && iv.rx_pkts != iv.rec_pkts + drops_of(&iv)) {
			fprintf(stderr, PROG ": %s: interval %" PRIu32
				" (start %" PRIu64 "): received %" PRIu64
				" != %" PRIu64 " in records + %" PRIu64
				" dropped\n", path, iv.index, iv.start,
				iv.rx_pkts, iv.rec_pkts, drops_of(&iv));
			ret = 1;
		}
		if (o->verify && pkts != iv.rec_pkts) {
			fprintf(stderr, PROG ": %s: interval %" PRIu32
				" (start %" PRIu64 "): records hold %" PRIu64
				" packets, header says %" PRIu64 "\n",
				path, iv.index, iv.start, pkts, iv.rec_pkts);
			ret = 1;
		}
	}
	if (rc < 0) {
		int e = errno;

		fflush(out);
		fr_file_error(path, rc, fc_ft_reader_error_offset(r), e, NULL);
		ret = 1;
	} else if (o->verify && ret == 0) {
		fprintf(out, "OK %s: %" PRIu64 " intervals, %" PRIu64 " records\n",
		       path, n_iv, n_rec);
	}
out:
	free(lb);
	free(buf.v);
	fc_ft_reader_close(r);
	return ret;
}


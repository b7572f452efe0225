/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ft-top: the N source addresses that sent the most packets, over one or
 * more flowtuple files. An example of the reader API: open, walk intervals
 * and records, report a damaged file by name and offset. It keeps one table
 * entry per distinct source (memory grows with them); it is a demonstration,
 * not a query engine.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_ftfile.h"
#include "fc_tuple.h"

struct src {
	uint8_t ip[16];
	uint8_t family;
	uint8_t used;
	uint64_t packets;
	uint64_t records;
};

struct table {
	struct src *v;
	size_t cap, n;
};

static size_t slot(const struct table *t, const struct fc_ftkey *k)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < 16; i++)
		h = (h ^ k->src_ip[i]) * 1099511628211ull;
	h ^= k->family;
	for (size_t i = (size_t)h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		const struct src *s = &t->v[i];

		if (!s->used || (s->family == k->family &&
				 memcmp(s->ip, k->src_ip, 16) == 0))
			return i;
	}
}

static int grow(struct table *t)
{
	struct table n = {.cap = t->cap ? t->cap * 2 : 1024};

	n.v = calloc(n.cap, sizeof(*n.v));
	if (n.v == NULL)
		return -1;
	for (size_t i = 0; i < t->cap; i++) {
		struct fc_ftkey k = {0};

		if (!t->v[i].used)
			continue;
		memcpy(k.src_ip, t->v[i].ip, 16);
		k.family = t->v[i].family;
		n.v[slot(&n, &k)] = t->v[i];
		n.n++;
	}
	free(t->v);
	*t = n;
	return 0;
}

static int add(struct table *t, const struct fc_ft_record *r)
{
	struct src *s;

	if ((t->n + 1) * 2 > t->cap && grow(t) != 0)
		return -1;
	s = &t->v[slot(t, &r->key)];
	if (!s->used) {
		s->used = 1;
		s->family = r->key.family;
		memcpy(s->ip, r->key.src_ip, 16);
		t->n++;
	}
	s->packets += r->packets;
	s->records++;
	return 0;
}

static int by_packets(const void *pa, const void *pb)
{
	const struct src *a = pa, *b = pb;

	if (a->used != b->used)
		return a->used ? -1 : 1;
	if (a->packets != b->packets)
		return a->packets > b->packets ? -1 : 1;
	return memcmp(a->ip, b->ip, 16);
}

int main(int argc, char **argv)
{
	struct table t = {0};
	unsigned long top = 10;
	int a = 1, ret = 0;

	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		char *end;

		top = strtoul(argv[2], &end, 10);
		if (*end != '\0' || top == 0) {
			fprintf(stderr, "ft-top: -n needs a positive number\n");
			return 2;
		}
		a = 3;
	}
	if (a >= argc || argv[a][0] == '-') {
		fprintf(stderr, "usage: ft-top [-n N] FILE...\n"
				"Print the N sources (default 10) with the "
				"most packets in the flowtuple files.\n");
		return 2;
	}
	for (; a < argc; a++) {
		struct fc_ft_interval iv;
		struct fc_ft_record rec;
		struct fc_ft_reader *r;
		int st, rc;

		r = fc_ft_reader_open(argv[a], &st);
		if (r == NULL) {
			/* FC_FT_E_IO: errno says what the system refused. */
			fprintf(stderr, "ft-top: %s: %s\n", argv[a],
				st == FC_FT_E_IO ? strerror(errno) :
						   fc_ft_strerror(st));
			ret = 1;
			continue;
		}
		while ((rc = fc_ft_reader_next_interval(r, &iv)) == 1) {
			while ((rc = fc_ft_reader_next_record(r, &rec)) == 1)
				if (add(&t, &rec) != 0) {
					fprintf(stderr, "ft-top: out of memory\n");
					return 1;
				}
			if (rc < 0)
				break;
		}
		if (rc < 0) {
			/* Records before the damage were counted. */
			fprintf(stderr, "ft-top: %s: %s at offset %" PRIu64 "\n",
				argv[a], fc_ft_strerror(rc),
				fc_ft_reader_error_offset(r));
			ret = 1;
		}
		fc_ft_reader_close(r);
	}
	if (t.n > 0)
		qsort(t.v, t.cap, sizeof(*t.v), by_packets);
	printf("%-39s %12s %10s\n", "src_ip", "packets", "records");
	for (size_t i = 0; i < t.n && i < top; i++) {
		char s[FC_IP_STRLEN];

		printf("%-39s %12" PRIu64 " %10" PRIu64 "\n",
		       fc_ip_format(s, sizeof(s), t.v[i].family, t.v[i].ip),
		       t.v[i].packets, t.v[i].records);
	}
	free(t.v);
	return ret;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: flowcap-read's --filter expressions (the parser and
 * compiler of app/flowcap-read/filter.c). The input is the expression's
 * bytes (cut at the first NUL). Whatever the bytes: no crash, no endless
 * recursion (nesting is bounded), a refused expression comes with a
 * message of three lines whose last is a caret inside the expression, and
 * a compiled one matches a few records (IPv4, IPv6, every class, labels
 * and VLAN IDs) without reading outside them, the same way twice, with
 * and without label names bound.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fr_oom(void)
{
	abort();
}

static struct fc_ft_record recs[4];
static struct fr_flabels lb;

static void init_recs(void)
{
	static const char *const a[4][2] = {
		{"192.0.2.1", "198.51.100.7"}, {"10.1.2.3", "10.1.2.4"},
		{"2001:db8::1", "fe80::2"}, {"::", "ff02::1"},
	};

	for (int i = 0; i < 4; i++) {
		struct fc_ftkey *k = &recs[i].key;

		k->family = (uint8_t)fc_ip_parse(a[i][0], k->src_ip);
		fc_ip_parse(a[i][1], k->dst_ip);
		k->src_port = (uint16_t)(80 * i + 1);
		k->dst_port = (uint16_t)(65535 - i);
		k->proto = (uint8_t)(i == 0 ? 6 : i == 1 ? 17 : 58);
		k->ttl = (uint8_t)(64 * i);
		k->tcp_flags = (uint8_t)(0x12 << (i & 1));
		k->ip_len = 40u + 1000u * (unsigned)i;
		k->cls = (uint8_t)(i % FC_FT_CLASS_COUNT);
		fc_ftkey_set_ext(k, (unsigned)i * 1365, (unsigned)i * 1000);
		recs[i].packets = (uint64_t)i * 1000;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *expr, err[1024];
	struct fr_filter *f;

	if (recs[0].key.family == 0)
		init_recs();
	if (size > 4096)
		size = 4096;
	expr = malloc(size + 1);
	if (expr == NULL)
		return 0;
	memcpy(expr, data, size);
	expr[size] = '\0';
	err[0] = '\0';
	f = fr_filter_compile(expr, err, sizeof(err));
	if (f == NULL) {
		const char *l2 = strchr(err, '\n'), *l3;

		/* "bad --filter at column C: ...\n  EXPR\n  <spaces>^" (the
		 * message may be cut at sizeof(err) for a long expression). */
		if (strncmp(err, "bad --filter at column ", 23) != 0 ||
		    (strlen(err) < sizeof(err) - 1 &&
		     (l2 == NULL || (l3 = strchr(l2 + 1, '\n')) == NULL ||
		      err[strlen(err) - 1] != '^')))
			abort();
	} else {
		/* Every filter name on some ids, as a bound interval has them. */
		for (unsigned id = 0; id <= FC_FTKEY_LABEL_MAX; id++)
			lb.m[id] = id % 3 == 0 ? 0 : (uint32_t)id * 2654435761u;
		for (int i = 0; i < 4; i++)
			if (fr_filter_match(f, &recs[i], NULL) !=
			    fr_filter_match(f, &recs[i], NULL) ||
			    fr_filter_match(f, &recs[i], &lb) !=
			    fr_filter_match(f, &recs[i], &lb))
				abort();
		fr_filter_free(f);
	}
	free(expr);
	return 0;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read's aggregated rows as CSV, JSON lines or an aligned table,
 * all with the same columns: interval_start (unless --interval all), the
 * group fields in the order given, records, packets, then distinct_FIELD
 * per --count-distinct. A prefix group prints as a.b.c.0/24. It only
 * formats: the rows arrive sorted and cut to --top.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr.h"

#define MAXCOL (2 + FR_MAX_GROUP + 2 + FR_MAX_DISTINCT)
#define CELL 64

struct cols {
	const char *name[MAXCOL];
	char dname[FR_MAX_DISTINCT][32];
	bool str[MAXCOL];   /* a string in JSON (quoted), left-aligned */
	unsigned n;
};

static void columns(const struct fr_query *q, struct cols *c)
{
	memset(c, 0, sizeof(*c));
	if (q->interval != FR_IV_ALL)
		c->name[c->n++] = "interval_start";
	for (unsigned i = 0; i < q->ng; i++) {
		enum fr_field f = q->g[i].f;

		c->str[c->n] = f == F_CLASS || f == F_SRC_IP || f == F_DST_IP ||
			       f == F_LABEL;
		c->name[c->n++] = fr_field_names[f];
	}
	c->name[c->n++] = "records";
	c->name[c->n++] = "packets";
	for (unsigned i = 0; i < q->nd; i++) {
		snprintf(c->dname[i], sizeof(c->dname[i]), "distinct_%s",
			 fr_field_names[q->d[i]]);
		c->name[c->n++] = c->dname[i];
	}
}

static void addr_cell(char *b, const struct fr_gfield *g,
		      const struct fc_ftkey *k, const uint8_t *ip)
{
	fc_ip_format(b, CELL, k->family, ip);
	if (g->prefix)
		snprintf(b + strlen(b), CELL - strlen(b), "/%u",
			 k->family == 6 ? g->pfx6 : g->pfx4);
}

/* The cells of one row as text. */
static void cells(const struct fr_query *q, const struct fr_row *r,
		  char cell[][CELL])
{
	const struct fc_ftkey *k = &r->k;
	unsigned n = 0;

	if (q->interval != FR_IV_ALL)
		snprintf(cell[n++], CELL, "%" PRIu64, r->t);
	for (unsigned i = 0; i < q->ng; i++) {
		const struct fr_gfield *g = &q->g[i];
		char *b = cell[n++];

		switch (g->f) {
		case F_CLASS:
			snprintf(b, CELL, "%s", fc_ft_class_name(k->cls));
			break;
		case F_SRC_IP:
			addr_cell(b, g, k, k->src_ip);
			break;
		case F_DST_IP:
			addr_cell(b, g, k, k->dst_ip);
			break;
		case F_SRC_PORT:
			snprintf(b, CELL, "%u", k->src_port);
			break;
		case F_DST_PORT:
			snprintf(b, CELL, "%u", k->dst_port);
			break;
		case F_PROTO:
			snprintf(b, CELL, "%u", k->proto);
			break;
		case F_TTL:
			snprintf(b, CELL, "%u", k->ttl);
			break;
		case F_FLAGS:
			snprintf(b, CELL, "%u", k->tcp_flags);
			break;
		case F_IPLEN:
			snprintf(b, CELL, "%u", k->ip_len);
			break;
		case F_LABEL: /* "" for none */
			snprintf(b, CELL, "%s",
				 fr_label_name(fc_ftkey_label(k)));
			break;
		default: /* F_VLAN: 0 for none */
			snprintf(b, CELL, "%u", fc_ftkey_vlan(k));
			break;
		}
	}
	snprintf(cell[n++], CELL, "%" PRIu64, r->records);
	snprintf(cell[n++], CELL, "%" PRIu64, r->packets);
	for (unsigned i = 0; i < q->nd; i++)
		snprintf(cell[n++], CELL, "%" PRIu64, r->distinct[i]);
}

void fr_output_rows(const struct fr_query *q, const struct fr_row *rows,
		    size_t n)
{
	struct cols c;
	char cell[MAXCOL][CELL];
	size_t w[MAXCOL];

	columns(q, &c);
	switch (q->fmt) {
	case FMT_JSON:
		for (size_t i = 0; i < n; i++) {
			cells(q, &rows[i], cell);
			putchar('{');
			for (unsigned j = 0; j < c.n; j++)
				printf(c.str[j] ? "%s\"%s\":\"%s\"" :
						  "%s\"%s\":%s",
				       j ? "," : "", c.name[j], cell[j]);
			puts("}");
		}
		break;
	case FMT_TABLE:
		for (unsigned j = 0; j < c.n; j++)
			w[j] = strlen(c.name[j]);
		for (size_t i = 0; i < n; i++) {
			cells(q, &rows[i], cell);
			for (unsigned j = 0; j < c.n; j++)
				if (strlen(cell[j]) > w[j])
					w[j] = strlen(cell[j]);
		}
		for (unsigned j = 0; j < c.n; j++)
			printf(c.str[j] ? "%s%-*s" : "%s%*s", j ? "  " : "",
			       (int)w[j], c.name[j]);
		putchar('\n');
		for (size_t i = 0; i < n; i++) {
			cells(q, &rows[i], cell);
			for (unsigned j = 0; j < c.n; j++)
				printf(c.str[j] ? "%s%-*s" : "%s%*s",
				       j ? "  " : "", (int)w[j], cell[j]);
			putchar('\n');
		}
		break;
	default: /* csv; corsaro is refused with a query */
		for (unsigned j = 0; j < c.n; j++)
			printf("%s%s", j ? "," : "", c.name[j]);
		putchar('\n');
		for (size_t i = 0; i < n; i++) {
			cells(q, &rows[i], cell);
			for (unsigned j = 0; j < c.n; j++)
				printf("%s%s", j ? "," : "", cell[j]);
			putchar('\n');
		}
		break;
	}
}

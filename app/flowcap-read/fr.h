/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the parts of flowcap-read share: the input list (inputs.c), the
 * plain record printer (dump.c), the filter (filter.c), the aggregation
 * (query.c), the output of aggregated rows (output.c) and the state file
 * (state.c). main.c reads the options and runs one of them.
 */
#ifndef FR_H
#define FR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "fc_ftfile.h"
#include "fc_tuple.h"

#define PROG "flowcap-read"

enum fr_fmt { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_CORSARO };

/* ---- inputs.c --------------------------------------------------------- */

struct fr_input {
	char *path;
	uint64_t first;  /* start of its first interval, for ordering */
	size_t argi;     /* which argument or list entry: stable tie-break */
	dev_t dev;       /* identity, to read a file reached twice once */
	ino_t ino;
	off_t size;
	bool skip;       /* a second name of an earlier input, or unreadable */
	bool has_v6;     /* holds an IPv6 record (found for the table format) */
	bool has_label;  /* written with --classify: records carry a label */
	bool has_vlan;   /* written with --key-vlan: records carry a VLAN ID */
	uint32_t interval_len; /* of its header */
};

struct fr_inputs {
	struct fr_input *v;
	size_t n, cap;
	size_t argi;     /* of the argument being expanded */
	unsigned long unfinished; /* *.tmp, *.incomplete skipped in it */
	int ret;         /* 1 once an input could not be used */
};

void fr_inputs_arg(struct fr_inputs *in, const char *path);
void fr_inputs_list(struct fr_inputs *in, const char *list, bool null);
void fr_inputs_dedup(struct fr_inputs *in);
/* Open each input, check its header, note its first interval (and, when
 * scan_v6, whether it holds IPv6); sort by time. Returns the number of
 * usable inputs; sets in->ret on a bad one. */
size_t fr_inputs_check(struct fr_inputs *in, bool scan_v6);
void fr_inputs_free(struct fr_inputs *in);

void fr_file_error(const char *path, int st, uint64_t off, int e,
		   const struct fc_ft_open_diag *d);
void fr_oom(void);

/* ---- dump.c ----------------------------------------------------------- */

struct fc_anon;

struct fr_dump {
	enum fr_fmt fmt;
	bool stats, verify;
	const struct fr_filter *filter; /* NULL: every record */
	struct fc_anon *anon;           /* NULL: real addresses */
	uint64_t from, to;              /* [from, to) on interval starts */
};

/* The header line of fmt (none for json and corsaro), to f; wide: IPv6
 * address columns in the table. */
void fr_dump_header(FILE *f, enum fr_fmt fmt, bool wide);

/* Files written with --classify (--key-vlan) add a last CSV column label
 * (vlan) and a JSON field; files without keep their header. Set before
 * the header is printed, from every input (fr_input.has_label/has_vlan). */
extern bool fr_col_label, fr_col_vlan;
/* Print one file to f; 0 when it was read completely (and passed
 * --verify), 1 otherwise (reported on stderr). */
int fr_dump_file(const struct fr_dump *o, FILE *f, const char *path);

/* ---- filter.c --------------------------------------------------------- */

struct fr_filter;

/* Which optional columns a filter or grouping needs (label: files written
 * with --classify; vlan: with --key-vlan). A file without one reads as
 * an empty label and VLAN 0, as the CSV dump prints them. */
#define FR_NEED_LABEL 0x1
#define FR_NEED_VLAN 0x2

/* Compile EXPR; NULL with a message of several lines in err (the
 * expression, a caret under the column of the problem, what was expected). */
struct fr_filter *fr_filter_compile(const char *expr, char *err, size_t errlen);
void fr_filter_free(struct fr_filter *f);
unsigned fr_filter_needs(const struct fr_filter *f);
/* The file fields (bit 1 << FC_FT_FID_*) the filter looks at (0: NULL). */
#define FR_FID(x) (UINT64_C(1) << FC_FT_FID_##x)
uint64_t fr_filter_fields(const struct fr_filter *f);

/* What `label NAME` compares with in the interval being read: for each
 * label id of the interval, a bit per distinct NAME of the filter (the
 * ids' names change from file to file, the NAMEs do not). One per
 * reading thread, bound at each interval. */
struct fr_flabels {
	uint32_t m[FC_FTKEY_LABEL_MAX + 1];
};

/* Bind lb to the interval rd last returned (names of its label ids;
 * an id it does not name is "#ID", as the dump prints it). Cold: once
 * per interval, only for filters with a `label` term. */
void fr_filter_bind_labels(const struct fr_filter *f, struct fr_flabels *lb,
			   const struct fc_ft_reader *rd);
/* Hot path: no allocation, no string work. lb: bound for the record's
 * interval (NULL when the filter has no `label` term: needs() says). */
/* The records of v[0..n) the filter keeps: their indices into keep (at
 * most 65536 records); returns how many. */
unsigned fr_filter_select(const struct fr_filter *f,
			  const struct fc_ft_record *v, unsigned n,
			  const struct fr_flabels *lb, uint16_t *keep);
bool fr_filter_match(const struct fr_filter *f, const struct fc_ft_record *r,
		     const struct fr_flabels *lb);

/* The label names of a query: one id per distinct name over every file
 * and job (1..FC_FTKEY_LABEL_MAX; 0 is no label, the name ""), so groups
 * and distinct counts are by name whichever file's ids they came from.
 * Ids depend on the order names are met (not deterministic with --jobs);
 * nothing printed or sorted depends on them, only on the names.
 * Thread safety: fr_label_id locks; fr_label_name reads a name that is
 * never changed once its id was handed out. */
unsigned fr_label_id(const char *name);
const char *fr_label_name(unsigned id);
unsigned fr_label_count(void);

/* Edit distance, for "did you mean". */
unsigned fr_edit_distance(const char *a, const char *b);

/* ---- the query (query.c, output.c, state.c) --------------------------- */

enum fr_field {
	F_CLASS, F_SRC_IP, F_DST_IP, F_SRC_PORT, F_DST_PORT, F_PROTO, F_TTL,
	F_FLAGS, F_IPLEN, F_LABEL, F_VLAN, F_COUNT
};

extern const char *const fr_field_names[F_COUNT];

struct fr_gfield {
	enum fr_field f;
	unsigned pfx4, pfx6; /* address prefixes (32, 128: whole address) */
	bool prefix;         /* printed as a prefix (src_ip/N) */
};

#define FR_MAX_GROUP 16
#define FR_MAX_DISTINCT 8
#define FR_IV_OWN 0       /* the files' own intervals */
#define FR_IV_ALL UINT64_MAX

enum fr_order { ORD_NONE, ORD_RECORDS, ORD_PACKETS, ORD_DISTINCT };

struct fr_query {
	const char *filter_text;
	struct fr_filter *filter;
	struct fr_gfield g[FR_MAX_GROUP];
	unsigned ng;
	bool grouped;             /* --group-by given */
	enum fr_field d[FR_MAX_DISTINCT];
	unsigned nd;
	uint64_t interval;        /* FR_IV_OWN, FR_IV_ALL or seconds */
	uint64_t from, to;        /* [from, to) on interval starts */
	uint64_t top;             /* 0: every group */
	enum fr_order order;
	unsigned order_d;         /* ORD_DISTINCT: which one */
	bool order_given;
	const uint8_t *anon_key;  /* NULL: no anonymisation */
	unsigned jobs;
	const char *state;
	enum fr_fmt fmt;
	bool progress;
};

/* Parse --group-by / --count-distinct / --order; 0 or -1 with err set. */
int fr_query_parse_group(struct fr_query *q, const char *s, char *err,
			 size_t errlen);
int fr_query_parse_distinct(struct fr_query *q, const char *s, char *err,
			    size_t errlen);
int fr_query_parse_order(struct fr_query *q, const char *s, char *err,
			 size_t errlen);

/* One aggregate table (query.c). */
struct fr_agg;
struct fr_agg *fr_agg_create(const struct fr_query *q);
void fr_agg_free(struct fr_agg *a);

/* Run the query over the inputs and print; returns the exit status. */
int fr_query_run(const struct fr_query *q, struct fr_inputs *in);

/* The default grouping (no --group-by): every field of the record, and
 * label and vlan when an input carries them (the dump's columns). */
void fr_query_group_all(struct fr_query *q, bool label, bool vlan);

/* A finished row for output.c. */
struct fr_row {
	uint64_t t;
	struct fc_ftkey k;
	uint64_t records, packets;
	uint64_t distinct[FR_MAX_DISTINCT];
};

void fr_output_rows(const struct fr_query *q, const struct fr_row *rows,
		    size_t n);

#endif /* FR_H */

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ft-reverse IN OUT: write the intervals of flowtuple file IN to OUT in
 * reverse order (records, accounting and header kept), a file whose
 * intervals go back in time, which flowcap's writer never makes: tests
 * feed it to flowcap-read, which must read it as well as the original.
 * Files with payload labels are refused (their names are per interval).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fc_ftfile.h"

struct iv {
	struct fc_ft_interval iv;
	struct fc_ft_record *r;
	uint64_t n;
};

static int fail(const char *what, const char *path, int st)
{
	fprintf(stderr, "ft-reverse: %s %s: %s\n", what, path,
		fc_ft_strerror(st));
	return 1;
}

int main(int argc, char **argv)
{
	struct fc_ft_reader *rd;
	struct fc_ft_writer *w;
	struct fc_ft_file_info info;
	struct iv *v = NULL;
	size_t n = 0;
	int st, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: ft-reverse IN OUT\n");
		return 2;
	}
	rd = fc_ft_reader_open(argv[1], &st);
	if (rd == NULL)
		return fail("open", argv[1], st);
	info = *fc_ft_reader_info(rd);
	if (info.opt_fields & FC_FT_OPT_LABEL) {
		fprintf(stderr, "ft-reverse: %s: labelled records: not "
			"supported\n", argv[1]);
		return 2;
	}
	for (;;) {
		struct fc_ft_interval iv;
		struct fc_ft_record rec;

		rc = fc_ft_reader_next_interval(rd, &iv);
		if (rc == 0)
			break;
		if (rc < 0)
			return fail("read", argv[1], rc);
		v = realloc(v, (n + 1) * sizeof(*v));
		if (v == NULL)
			return 1;
		v[n].iv = iv;
		v[n].r = malloc((iv.n_records + 1) * sizeof(*v[n].r));
		if (v[n].r == NULL)
			return 1;
		v[n].n = 0;
		while ((rc = fc_ft_reader_next_record(rd, &rec)) == 1)
			v[n].r[v[n].n++] = rec;
		if (rc < 0)
			return fail("read", argv[1], rc);
		n++;
	}
	fc_ft_reader_close(rd);
	w = fc_ft_writer_open(argv[2], &info, &st);
	if (w == NULL)
		return fail("create", argv[2], st);
	while (n-- > 0) {
		st = fc_ft_writer_add_interval(w, &v[n].iv, v[n].r, v[n].n);
		if (st != FC_FT_OK)
			return fail("write", argv[2], st);
		free(v[n].r);
	}
	free(v);
	st = fc_ft_writer_close(w);
	return st == FC_FT_OK ? 0 : fail("close", argv[2], st);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read's inputs: files, directories (every *.ft.zst below them;
 * unfinished *.tmp and *.incomplete files skipped and counted in a note)
 * and lists of names (--files-from). The same file reached twice is read
 * once. Every input is opened and its header checked before anything is
 * printed, then the inputs are sorted by their first interval. This file
 * finds and orders inputs; it does not read their records.
 */

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fr.h"

/* A file's problem: a system error (e: its errno) in its own words, a
 * newer format with the versions found and read, else the format's status
 * and the offset. */
void fr_file_error(const char *path, int st, uint64_t off, int e,
		       const struct fc_ft_open_diag *d)
{
	if (st == FC_FT_E_IO)
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(e));
	else if (st == FC_FT_E_VERSION && d != NULL &&
		 d->version_major > FC_FT_VERSION_MAJOR)
		fprintf(stderr, PROG ": %s: file needs a newer reader (format "
			"version %u.%u; this reader reads versions %u.x to "
			"%u.x) at offset %" PRIu64 "\n", path,
			d->version_major, d->version_minor,
			FC_FT_VERSION_MAJOR_OLDEST, FC_FT_VERSION_MAJOR, off);
	else if (st == FC_FT_E_VERSION && d != NULL && d->version_major != 0)
		fprintf(stderr, PROG ": %s: file needs a newer reader (format "
			"version %u.%u with a record kind or field this reader "
			"does not know) at offset %" PRIu64 "\n", path,
			d->version_major, d->version_minor, off);
	else
		fprintf(stderr, PROG ": %s: %s at offset %" PRIu64 "\n", path,
			fc_ft_strerror(st), off);
	if (st == FC_FT_E_TRUNCATED)
		fprintf(stderr, PROG ": warning: %s was cut short (writer "
			"stopped or copy incomplete); output ends at its last "
			"complete block\n", path);
}

static int input_add(struct fr_inputs *in, const char *path, const struct stat *st)
{
	struct fr_input *x;

	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 64;
		struct fr_input *v = realloc(in->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		in->v = v;
		in->cap = cap;
	}
	x = &in->v[in->n];
	memset(x, 0, sizeof(*x));
	x->path = strdup(path);
	if (x->path == NULL)
		return -1;
	x->argi = in->argi;
	x->dev = st->st_dev;
	x->ino = st->st_ino;
	x->size = st->st_size;
	in->n++;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

void fr_oom(void)
{
	fprintf(stderr, PROG ": out of memory\n");
	exit(1);
}

/* nftw has no user pointer: the walk in progress. */
static struct fr_inputs *walk_in;

static int walk_one(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	const char *base = path + ftw->base;
	struct stat st;

	switch (type) {
	case FTW_F:
	case FTW_SL:
		/* Links to files are followed (the duplicate check sees
		 * through them); links to directories are not, so a walk
		 * never loops. */
		if (ends_with(base, ".tmp") || ends_with(base, ".incomplete")) {
			walk_in->unfinished++;
			break;
		}
		if (!ends_with(base, ".ft.zst"))
			break;
		if (type == FTW_SL) {
			if (stat(path, &st) != 0)
				break; /* a dangling link names nothing */
			sb = &st;
		}
		if (!S_ISREG(sb->st_mode)) {
			fprintf(stderr, PROG ": %s: cannot read: not a "
				"regular file\n", path);
			walk_in->ret = 1;
			break;
		}
		if (input_add(walk_in, path, sb) != 0)
			fr_oom();
		break;
	case FTW_DNR:
	case FTW_NS:
		/* nftw does not promise errno here: ask again. */
		if (type == FTW_NS ? stat(path, &st) == 0 :
				     access(path, R_OK | X_OK) == 0)
			errno = EIO;
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		walk_in->ret = 1;
		break;
	}
	return 0;
}

/* One name from the command line or a list: a file, or a directory to
 * search. Problems are reported now, before any output. */
/* The walk follows no link, not even the directory given: when that is a
 * link ("link" or "link/"), its target to walk instead, else NULL. */
static char *link_target(const char *path)
{
	struct stat st;
	char *bare = strdup(path), *real = NULL;
	size_t n;

	if (bare == NULL)
		fr_oom();
	for (n = strlen(bare); n > 1 && bare[n - 1] == '/'; n--)
		bare[n - 1] = '\0';
	if (lstat(bare, &st) == 0 && S_ISLNK(st.st_mode))
		real = realpath(path, NULL); /* NULL: walk the name given */
	free(bare);
	return real;
}

void fr_inputs_arg(struct fr_inputs *in, const char *path)
{
	struct stat st;
	size_t n0 = in->n;
	char *real;

	in->argi++;
	if (stat(path, &st) != 0) {
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		in->ret = 1;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* Lengths are checked against the file's size: regular
		 * files only (not a FIFO, a device, /dev/stdin). */
		if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, PROG ": %s: cannot read: not a "
				"regular file\n", path);
			in->ret = 1;
		} else if (input_add(in, path, &st) != 0) {
			fr_oom();
		}
		return;
	}
	in->unfinished = 0;
	walk_in = in;
	real = link_target(path);
	if (nftw(real != NULL ? real : path, walk_one, 32, FTW_PHYS) != 0) {
		fprintf(stderr, PROG ": %s: cannot read: %s\n", path,
			strerror(errno));
		in->ret = 1;
	}
	free(real);
	if (in->unfinished > 0)
		fprintf(stderr, PROG ": note: %s: skipped %lu unfinished "
			"file(s) (*.tmp, *.incomplete: being written, or left "
			"by an interrupted run)\n", path, in->unfinished);
	if (in->n == n0)
		fprintf(stderr, PROG ": note: %s: no *.ft.zst file below it\n",
			path);
}

/* The names in a list file, one per line (or NUL-terminated). */
void fr_inputs_list(struct fr_inputs *in, const char *list, bool null)
{
	FILE *f = strcmp(list, "-") == 0 ? stdin : fopen(list, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t k;

	if (f == NULL) {
		fprintf(stderr, PROG ": --files-from %s: %s\n", list,
			strerror(errno));
		exit(2);
	}
	while ((k = getdelim(&line, &cap, null ? '\0' : '\n', f)) > 0) {
		if (line[k - 1] == (null ? '\0' : '\n'))
			line[--k] = '\0';
		if (k == 0)
			continue; /* empty lines separate nothing */
		fr_inputs_arg(in, line);
	}
	if (ferror(f)) {
		fprintf(stderr, PROG ": --files-from %s: %s\n", list,
			strerror(errno));
		exit(2);
	}
	free(line);
	if (f != stdin)
		fclose(f);
}

static int ident_cmp(const void *pa, const void *pb)
{
	const struct fr_input *a = *(struct fr_input *const *)pa;
	const struct fr_input *b = *(struct fr_input *const *)pb;

	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->argi != b->argi)
		return a->argi < b->argi ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* A file reached under two names (repeated, through a directory and by
 * name, a symbolic or hard link) is read once: the first one given. */
void fr_inputs_dedup(struct fr_inputs *in)
{
	struct fr_input **p;
	unsigned long n_dup = 0;

	if (in->n < 2)
		return;
	p = malloc(in->n * sizeof(*p));
	if (p == NULL)
		fr_oom();
	for (size_t i = 0; i < in->n; i++)
		p[i] = &in->v[i];
	qsort(p, in->n, sizeof(*p), ident_cmp);
	for (size_t i = 1, first = 0; i < in->n; i++) {
		if (p[i]->dev != p[first]->dev || p[i]->ino != p[first]->ino) {
			first = i;
			continue;
		}
		p[i]->skip = true;
		if (++n_dup <= 5)
			fprintf(stderr, PROG ": note: %s is the same file as "
				"%s; read once\n", p[i]->path, p[first]->path);
	}
	if (n_dup > 5)
		fprintf(stderr, PROG ": note: %lu names in all were of files "
			"already given; each file is read once\n", n_dup);
	free(p);
}

/* Open an input and check its header; note where it starts in time and,
 * when scan_v6, whether it holds an IPv6 record. Returns false (reported)
 * when it cannot be read. */
static bool input_check(struct fr_input *x, bool scan_v6)
{
	struct fc_ft_open_diag d;
	struct fc_ft_reader *r;
	struct fc_ft_interval iv;
	struct fc_ft_record rec;
	int st, rc;

	r = fc_ft_reader_open_diag(x->path, &st, &d);
	if (r == NULL) {
		fr_file_error(x->path, st, d.err_off, d.sys_errno, &d);
		return false;
	}
	x->first = UINT64_MAX;
	x->interval_len = fc_ft_reader_info(r)->interval_len;
	x->has_label = (fc_ft_reader_info(r)->opt_fields & FC_FT_OPT_LABEL) != 0;
	x->has_vlan = (fc_ft_reader_info(r)->opt_fields & FC_FT_OPT_VLAN) != 0;
	rc = fc_ft_reader_next_interval(r, &iv);
	if (rc == 1)
		x->first = iv.start;
	/* Damage found here is reported when the file is read. */
	while (scan_v6 && !x->has_v6 && rc == 1) {
		while ((rc = fc_ft_reader_next_record(r, &rec)) == 1)
			if (rec.key.family == 6) {
				x->has_v6 = true;
				break;
			}
		if (rc == 0)
			rc = fc_ft_reader_next_interval(r, &iv);
	}
	fc_ft_reader_close(r);
	return true;
}

static int input_cmp(const void *pa, const void *pb)
{
	const struct fr_input *a = pa, *b = pb;

	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->argi != b->argi)
		return a->argi < b->argi ? -1 : 1;
	return strcmp(a->path, b->path);
}


size_t fr_inputs_check(struct fr_inputs *in, bool scan_v6)
{
	size_t n_ok = 0;

	for (size_t i = 0; i < in->n; i++) {
		if (in->v[i].skip)
			continue;
		if (input_check(&in->v[i], scan_v6)) {
			n_ok++;
		} else {
			in->v[i].skip = true;
			in->ret = 1;
		}
	}
	if (in->n > 1)
		qsort(in->v, in->n, sizeof(*in->v), input_cmp);
	return n_ok;
}

void fr_inputs_free(struct fr_inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->v[i].path);
	free(in->v);
	in->v = NULL;
	in->n = in->cap = 0;
}

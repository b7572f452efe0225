/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interval arithmetic and file-name templates (see fc_interval.h).
 */
#include "fc_interval.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void fc_interval_init(struct fc_interval_clock *c, uint32_t len, bool align)
{
	memset(c, 0, sizeof(*c));
	c->len = len ? len : 1;
	c->align = align;
}

uint64_t fc_interval_start0(uint64_t ts, uint32_t len, bool align)
{
	return align ? ts - ts % len : ts;
}

uint64_t fc_interval_feed(struct fc_interval_clock *c, uint64_t ts,
			  uint64_t *closed_from, uint64_t *n_closed,
			  bool *late)
{
	uint64_t k;

	*n_closed = 0;
	*late = false;
	if (!c->started) {
		c->started = true;
		c->start0 = fc_interval_start0(ts, c->len, c->align);
		c->cur = 0;
		c->last_ts = ts;
		return 0;
	}
	c->last_ts = ts;
	if (ts < c->start0 + c->cur * c->len) {
		*late = true;
		return c->cur;
	}
	k = (ts - c->start0) / c->len;
	if (k > c->cur) {
		*closed_from = c->cur;
		*n_closed = k - c->cur;
		c->cur = k;
	}
	return c->cur;
}

uint64_t fc_interval_start_of(const struct fc_interval_clock *c, uint64_t k)
{
	return c->start0 + k * c->len;
}

uint64_t fc_interval_end_of(const struct fc_interval_clock *c, uint64_t k)
{
	return c->start0 + (k + 1) * c->len - 1;
}

uint64_t fc_interval_shared_clock(const uint64_t *watermarks, unsigned n,
				  uint64_t wall)
{
	uint64_t now = wall;

	for (unsigned i = 0; i < n; i++)
		if (watermarks[i] > now)
			now = watermarks[i];
	return now;
}

void fc_iv_collect_init(struct fc_iv_collect *c, uint32_t max_empty)
{
	memset(c, 0, sizeof(*c));
	c->max_empty = max_empty;
	c->flush_from = 1; /* empty range: nothing to flush */
}

/* The pending run of empty intervals has ended: write it as one gap, or
 * start writing it one interval at a time. */
static void end_run(struct fc_iv_collect *c, struct fc_iv_action *a)
{
	c->run = false;
	a->act = FC_IV_WRITE;
	a->data = false;
	a->last = false;
	if (c->run_to - c->run_from + 1 > c->max_empty) {
		a->from = c->run_from;
		a->to = c->run_to;
		return;
	}
	a->from = a->to = c->run_from;
	c->flush_from = c->run_from + 1;
	c->flush_to = c->run_to;
}

void fc_iv_collect_next(struct fc_iv_collect *c, const struct fc_iv_worker *w,
			unsigned n, bool fin, uint64_t max_iv,
			struct fc_iv_action *a)
{
	uint64_t k = c->next, e = UINT64_MAX;
	bool data = false;

	memset(a, 0, sizeof(*a));
	if (c->flush_from <= c->flush_to) {
		a->act = FC_IV_WRITE;
		a->from = a->to = c->flush_from++;
		if (c->flush_from == 0) /* wrapped past UINT64_MAX */
			c->flush_to = 0;
		return;
	}
	if (fin && k > max_iv) {
		if (c->run)
			end_run(c, a);
		else
			a->act = FC_IV_DONE;
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (!(w[i].sealed > k || (w[i].has_head && w[i].head_iv > k))) {
			a->act = FC_IV_WAIT;
			return;
		}
	/* Every worker is past k: k is complete. */
	for (unsigned i = 0; i < n; i++) {
		if (!w[i].has_head || w[i].head_iv != k)
			continue;
		if (!w[i].head_data) {
			a->act = FC_IV_GIVE_BACK;
			a->from = a->to = k;
			return;
		}
		data = true;
	}
	if (data) {
		if (c->run) {
			end_run(c, a);
			return;
		}
		a->act = FC_IV_WRITE;
		a->from = a->to = k;
		a->data = true;
		a->last = fin && k >= max_iv;
		c->next = k + 1;
		return;
	}
	/* k is empty, and so is every interval up to the first one some
	 * worker may still have data for. */
	for (unsigned i = 0; i < n; i++) {
		/* A finished worker (UINT64_MAX) bounds nothing. */
		uint64_t we = w[i].has_head		  ? w[i].head_iv - 1 :
			      w[i].sealed == UINT64_MAX ? UINT64_MAX :
							  w[i].sealed - 1;

		if (we < e)
			e = we;
	}
	if (fin && e > max_iv)
		e = max_iv;
	if (e == UINT64_MAX || e < k) {
		/* Every worker has finished (progress UINT64_MAX) while its
		 * final table is still on its way: wait for it. (e < k
		 * cannot be: every worker is past k.) */
		a->act = FC_IV_WAIT;
		return;
	}
	if (!c->run) {
		c->run = true;
		c->run_from = k;
	}
	c->run_to = e;
	c->next = e + 1;
	/* Nothing to do for the caller yet: decide the next interval. */
	fc_iv_collect_next(c, w, n, fin, max_iv, a);
}

/* strftime conversions allowed in a file name: not %D and %x, whose
 * text holds '/', nor %n and %t (newline, tab). */
static const char strftime_ok[] = "aAbBcCdeFgGhHIjklmMprRSTuUVwWXyYzZ";

int fc_template_check(const char *tmpl, char *err, size_t errlen)
{
	if (tmpl == NULL || tmpl[0] == '\0') {
		snprintf(err, errlen, "template is empty");
		return -EINVAL;
	}
	if (tmpl[0] == '.') {
		snprintf(err, errlen,
			 "template '%s' starts with '.': the file would be hidden",
			 tmpl);
		return -EINVAL;
	}
	for (const char *p = tmpl; *p; p++) {
		if (*p == '/') {
			snprintf(err, errlen,
				 "template '%s' contains '/': it names a file, "
				 "the directory is set with --out",
				 tmpl);
			return -EINVAL;
		}
		if (*p != '%')
			continue;
		p++;
		if (*p == '\0') {
			snprintf(err, errlen, "template '%s' ends with a lone '%%'",
				 tmpl);
			return -EINVAL;
		}
		if (*p == 'N' || *p == 'P' || *p == 's' || *p == '%')
			continue;
		if (strchr(strftime_ok, *p) == NULL) {
			snprintf(err, errlen,
				 "template '%s': unknown conversion '%%%c' (use "
				 "%%N monitor, %%P record kind, %%s Unix time, "
				 "or a strftime conversion such as %%Y%%m%%d%%H%%M)",
				 tmpl, *p);
			return -EINVAL;
		}
	}
	return 0;
}

int fc_template_expand(char *buf, size_t len, const char *tmpl,
		       const char *monitor, const char *plugin,
		       uint64_t start)
{
	char tmp[64], one[3] = {'%', 0, 0}, err[8];
	time_t t = (time_t)start;
	struct tm tm;
	size_t o = 0;

	if (fc_template_check(tmpl, err, sizeof(err)) != 0)
		return -EINVAL;
	gmtime_r(&t, &tm);
	for (const char *p = tmpl; *p; p++) {
		const char *add = tmp;
		size_t n;

		if (*p != '%') {
			tmp[0] = *p;
			tmp[1] = '\0';
		} else {
			p++;
			switch (*p) {
			case 'N':
				add = monitor;
				break;
			case 'P':
				add = plugin;
				break;
			case 's':
				snprintf(tmp, sizeof(tmp), "%" PRIu64, start);
				break;
			case '%':
				tmp[0] = '%';
				tmp[1] = '\0';
				break;
			default:
				one[1] = *p;
				if (strftime(tmp, sizeof(tmp), one, &tm) == 0)
					tmp[0] = '\0';
				/* Locale-dependent text must not make a
				 * path out of a file name. */
				if (strchr(tmp, '/') != NULL)
					return -EINVAL;
				break;
			}
		}
		n = strlen(add);
		if (o + n + 1 > len)
			return -ENAMETOOLONG;
		memcpy(buf + o, add, n);
		o += n;
	}
	buf[o] = '\0';
	return 0;
}

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

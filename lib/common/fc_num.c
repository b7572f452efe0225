/* SPDX-License-Identifier: BSD-3-Clause */
#include "fc_num.h"

#include <inttypes.h>
#include <stdio.h>

/* The decimal digits at *p (at least one) into *v; *p moves past them. */
static enum fc_num_status digits(const char **p, uint64_t *v)
{
	const char *q = *p;

	if (q == NULL || *q < '0' || *q > '9')
		return FC_NUM_NOT_A_NUMBER;
	for (*v = 0; *q >= '0' && *q <= '9'; q++) {
		unsigned d = (unsigned)(*q - '0');

		if (*v > (UINT64_MAX - d) / 10)
			return FC_NUM_RANGE;
		*v = *v * 10 + d;
	}
	*p = q;
	return FC_NUM_OK;
}

enum fc_num_status fc_num_u64(const char *s, uint64_t lo, uint64_t hi,
			      unsigned flags, uint64_t *out)
{
	uint64_t v, mul = 1;
	const char *p = s;
	enum fc_num_status st = digits(&p, &v);

	if (st != FC_NUM_OK)
		return st;
	if (flags & FC_NUM_SI) {
		if (*p == 'k' || *p == 'K')
			mul = 1000;
		else if (*p == 'M')
			mul = 1000000;
		else if (*p == 'G')
			mul = 1000000000;
		if (mul != 1)
			p++;
	}
	if (*p != '\0')
		return FC_NUM_NOT_A_NUMBER;
	if (v > UINT64_MAX / mul)
		return FC_NUM_RANGE;
	v *= mul;
	if (v < lo || v > hi)
		return FC_NUM_RANGE;
	*out = v;
	return FC_NUM_OK;
}

const char *fc_num_expect(enum fc_num_status st, uint64_t lo, uint64_t hi,
			  char *buf, size_t len)
{
	snprintf(buf, len, "%s; expected an integer from %" PRIu64
		 " to %" PRIu64,
		 st == FC_NUM_RANGE ? "out of range" : "not a number", lo, hi);
	return buf;
}

enum fc_num_status fc_num_milli(const char *s, uint64_t lo, uint64_t hi,
				uint64_t *out)
{
	uint64_t v, frac = 0;
	const char *p = s;
	unsigned nd = 0;
	enum fc_num_status st = digits(&p, &v);

	if (st != FC_NUM_OK)
		return st;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9' && nd < 3; p++, nd++)
			frac = frac * 10 + (uint64_t)(*p - '0');
		if (nd == 0)
			return FC_NUM_NOT_A_NUMBER;
	}
	/* A fourth decimal lands here too: not a spelling we take. */
	if (*p != '\0')
		return FC_NUM_NOT_A_NUMBER;
	for (; nd < 3; nd++)
		frac *= 10;
	if (v > (UINT64_MAX - frac) / 1000)
		return FC_NUM_RANGE;
	v = v * 1000 + frac;
	if (v < lo || v > hi)
		return FC_NUM_RANGE;
	*out = v;
	return FC_NUM_OK;
}

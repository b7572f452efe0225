/* SPDX-License-Identifier: BSD-3-Clause */
/* The bounded integer parser every program's options go through. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "fc_num.h"

static enum fc_num_status p(const char *s, uint64_t lo, uint64_t hi,
			    unsigned fl, uint64_t *v)
{
	*v = 12345;
	return fc_num_u64(s, lo, hi, fl, v);
}

Test(num, accepts_decimal_within_bounds)
{
	uint64_t v;

	cr_assert_eq(p("0", 0, 10, 0, &v), FC_NUM_OK);
	cr_assert_eq(v, 0);
	cr_assert_eq(p("10", 0, 10, 0, &v), FC_NUM_OK);
	cr_assert_eq(v, 10);
	cr_assert_eq(p("010", 0, 10, 0, &v), FC_NUM_OK, "leading zero: decimal");
	cr_assert_eq(v, 10);
	cr_assert_eq(p("18446744073709551615", 0, UINT64_MAX, 0, &v),
		     FC_NUM_OK);
	cr_assert_eq(v, UINT64_MAX);
}

Test(num, refuses_what_is_not_a_number)
{
	static const char *const bad[] = {"", "-1", "+1", " 1", "1 ", "1x",
					  "0x10", "1.5", "k", "1e3", "--"};
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(p(bad[i], 0, 100, 0, &v), FC_NUM_NOT_A_NUMBER,
			     "'%s'", bad[i]);
		cr_assert_eq(v, 12345, "'%s' left *out alone", bad[i]);
	}
	cr_assert_eq(fc_num_u64(NULL, 0, 1, 0, &v), FC_NUM_NOT_A_NUMBER);
	cr_assert_eq(p("5k", 0, 100000, 0, &v), FC_NUM_NOT_A_NUMBER,
		     "a suffix only with FC_NUM_SI");
}

Test(num, range_and_wrap)
{
	uint64_t v;

	cr_assert_eq(p("11", 0, 10, 0, &v), FC_NUM_RANGE);
	cr_assert_eq(p("0", 1, 10, 0, &v), FC_NUM_RANGE);
	cr_assert_eq(v, 12345);
	/* One past UINT64_MAX must not wrap to 0. */
	cr_assert_eq(p("18446744073709551616", 0, UINT64_MAX, 0, &v),
		     FC_NUM_RANGE);
	cr_assert_eq(p("99999999999999999999999", 0, UINT64_MAX, 0, &v),
		     FC_NUM_RANGE);
	cr_assert_eq(p("20000000000G", 0, UINT64_MAX, FC_NUM_SI, &v),
		     FC_NUM_RANGE, "the multiplied value must not wrap");
}

Test(num, si_suffixes)
{
	uint64_t v;

	cr_assert_eq(p("5k", 0, UINT64_MAX, FC_NUM_SI, &v), FC_NUM_OK);
	cr_assert_eq(v, 5000);
	cr_assert_eq(p("5K", 0, UINT64_MAX, FC_NUM_SI, &v), FC_NUM_OK);
	cr_assert_eq(v, 5000);
	cr_assert_eq(p("2M", 0, UINT64_MAX, FC_NUM_SI, &v), FC_NUM_OK);
	cr_assert_eq(v, 2000000);
	cr_assert_eq(p("3G", 0, UINT64_MAX, FC_NUM_SI, &v), FC_NUM_OK);
	cr_assert_eq(v, 3000000000ULL);
	cr_assert_eq(p("3m", 0, UINT64_MAX, FC_NUM_SI, &v),
		     FC_NUM_NOT_A_NUMBER, "m is not M");
	cr_assert_eq(p("3MM", 0, UINT64_MAX, FC_NUM_SI, &v),
		     FC_NUM_NOT_A_NUMBER);
	cr_assert_eq(p("2k", 0, 1999, FC_NUM_SI, &v), FC_NUM_RANGE,
		     "bounds apply to the multiplied value");
}

Test(num, message)
{
	char buf[128];

	cr_assert_str_eq(fc_num_expect(FC_NUM_RANGE, 1, 64, buf, sizeof(buf)),
			 "out of range; expected an integer from 1 to 64");
	cr_assert_str_eq(fc_num_expect(FC_NUM_NOT_A_NUMBER, 0, 9, buf,
				       sizeof(buf)),
			 "not a number; expected an integer from 0 to 9");
}

static enum fc_num_status pm(const char *s, uint64_t lo, uint64_t hi,
			     uint64_t *v)
{
	*v = 12345;
	return fc_num_milli(s, lo, hi, v);
}

Test(num_milli, decimals_are_thousandths)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{"0", 0},      {"2", 2000},     {"0.2", 200},   {"0.25", 250},
		{"1.250", 1250}, {"0.001", 1},  {"0.000", 0},   {"010.5", 10500},
		{"86400", 86400000},
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(pm(good[i].s, 0, 86400000, &v), FC_NUM_OK, "'%s'",
			     good[i].s);
		cr_assert_eq(v, good[i].v, "'%s' is %llu thousandths, not %llu",
			     good[i].s, (unsigned long long)good[i].v,
			     (unsigned long long)v);
	}
}

Test(num_milli, refuses_what_is_not_a_number)
{
	static const char *const bad[] = {
		"",   "-1",   "+1",  "-0.5", " 1",  "1 ",  "1.",   ".5",
		"1..5", "1.5.", "0.0001", "0.2500", "1e3", "inf", "nan",
		"0x10", "1,5",  "1k",  "0.5s", "--"};
	uint64_t v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(pm(bad[i], 0, 86400000, &v), FC_NUM_NOT_A_NUMBER,
			     "'%s'", bad[i]);
		cr_assert_eq(v, 12345, "'%s' left *out alone", bad[i]);
	}
	cr_assert_eq(fc_num_milli(NULL, 0, 1, &v), FC_NUM_NOT_A_NUMBER);
}

Test(num_milli, range_and_wrap)
{
	uint64_t v;

	cr_assert_eq(pm("86400.001", 0, 86400000, &v), FC_NUM_RANGE);
	cr_assert_eq(v, 12345);
	cr_assert_eq(pm("100000", 0, 86400000, &v), FC_NUM_RANGE);
	cr_assert_eq(pm("0.5", 1000, 2000, &v), FC_NUM_RANGE, "below lo");
	/* The largest whole part that still fits once multiplied. */
	cr_assert_eq(pm("18446744073709551.615", 0, UINT64_MAX, &v),
		     FC_NUM_OK);
	cr_assert_eq(v, UINT64_MAX);
	cr_assert_eq(pm("18446744073709551.616", 0, UINT64_MAX, &v),
		     FC_NUM_RANGE, "wraps when multiplied");
	cr_assert_eq(pm("18446744073709552", 0, UINT64_MAX, &v), FC_NUM_RANGE);
	cr_assert_eq(pm("99999999999999999999", 0, UINT64_MAX, &v),
		     FC_NUM_RANGE, "wraps while read");
}

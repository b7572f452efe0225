/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>
#include <errno.h>

#include "fc_interval.h"

Test(interval, corsaro_example_bounds_inclusive)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	/* Corsaro's documented example: [1325390400, 1325390459]. */
	fc_interval_init(&c, 60, true);
	cr_assert_eq(fc_interval_feed(&c, 1325390400, &from, &n, &late), 0);
	cr_assert_eq(fc_interval_start_of(&c, 0), 1325390400);
	cr_assert_eq(fc_interval_end_of(&c, 0), 1325390459);
	cr_assert_eq(fc_interval_feed(&c, 1325390459, &from, &n, &late), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(fc_interval_feed(&c, 1325390460, &from, &n, &late), 1);
	cr_assert_eq(n, 1);
	cr_assert_eq(from, 0);
}

Test(interval, unaligned_starts_at_first_packet)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	fc_interval_init(&c, 60, false);
	fc_interval_feed(&c, 1278472579, &from, &n, &late);
	cr_assert_eq(c.start0, 1278472579);
	cr_assert_eq(fc_interval_feed(&c, 1278472638, &from, &n, &late), 0);
	cr_assert_eq(fc_interval_feed(&c, 1278472639, &from, &n, &late), 1);
}

Test(interval, gap_closes_empty_intervals)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	fc_interval_init(&c, 10, true);
	fc_interval_feed(&c, 105, &from, &n, &late);
	cr_assert_eq(c.start0, 100);
	cr_assert_eq(fc_interval_feed(&c, 151, &from, &n, &late), 5);
	cr_assert_eq(from, 0);
	cr_assert_eq(n, 5, "intervals 0..4 closed, 1..4 empty");
}

Test(interval, late_packet_counts_in_current)
{
	struct fc_interval_clock c;
	uint64_t from, n;
	bool late;

	fc_interval_init(&c, 10, true);
	fc_interval_feed(&c, 100, &from, &n, &late);
	fc_interval_feed(&c, 125, &from, &n, &late);
	cr_assert_eq(fc_interval_feed(&c, 101, &from, &n, &late), 2);
	cr_assert(late);
	cr_assert_eq(n, 0);
	cr_assert_eq(c.last_ts, 101);
}

Test(interval, template_expands_corsaro_names)
{
	char buf[256];

	cr_assert_eq(fc_template_expand(buf, sizeof(buf), "%N.%s.%P.ft.zst",
					"ucsd-nt", "flowtuple", 1320969600), 0);
	cr_assert_str_eq(buf, "ucsd-nt.1320969600.flowtuple.ft.zst");
	cr_assert_eq(fc_template_expand(buf, sizeof(buf), "%N-%Y%m%d-%H%M.x",
					"m", "flowtuple", 1320969600), 0);
	cr_assert_str_eq(buf, "m-20111111-0000.x");
	cr_assert_eq(fc_template_expand(buf, 8, "%N.%s", "monitor",
					"flowtuple", 1), -ENAMETOOLONG);
}

Test(interval, template_rejects_bad_input)
{
	char err[256];

	cr_assert_eq(fc_template_check("a/b", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("abc%", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("%q", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check(".hidden", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("%N.%Y%%.x", err, sizeof(err)), 0);
	/* %D and %x print dates with '/' */
	cr_assert_eq(fc_template_check("%N.%D", err, sizeof(err)), -EINVAL);
	cr_assert_eq(fc_template_check("%x", err, sizeof(err)), -EINVAL);
}

Test(interval, jump_is_beyond_max_jump_after_the_interval)
{
	/* Interval ends at 1059; bound one day. */
	cr_assert_not(fc_interval_is_jump(1059, 1059, 86400));
	cr_assert_not(fc_interval_is_jump(1059 + 86400, 1059, 86400));
	cr_assert(fc_interval_is_jump(1059 + 86401, 1059, 86400));
	/* Older packets are late, never a jump. */
	cr_assert_not(fc_interval_is_jump(0, 1059, 86400));
	/* 0 turns the rule off; no overflow near the top. */
	cr_assert_not(fc_interval_is_jump(UINT64_MAX, 1059, 0));
	cr_assert(fc_interval_is_jump(UINT64_MAX, 1059, 86400));
	cr_assert_not(fc_interval_is_jump(UINT64_MAX, UINT64_MAX - 5, 86400));
}

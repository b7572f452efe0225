/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Bounded unsigned integers from text: command-line options, driver
 * configuration values, rule files. One parser, so every program accepts
 * and refuses the same spellings: decimal digits only (no sign, no
 * leading or trailing blanks, "010" is ten), no silent wrap, optionally a
 * k/M/G suffix (x1000); and the same with up to three decimals, read as
 * thousandths (fc_num_milli: seconds given to the millisecond). No
 * strtod: it takes blanks, signs, "inf", hex and the locale's point. The
 * caller words the message; fc_num_expect() says what was expected of an
 * integer.
 */
#ifndef FC_NUM_H
#define FC_NUM_H

#include <stddef.h>
#include <stdint.h>

enum fc_num_status {
	FC_NUM_OK = 0,
	FC_NUM_NOT_A_NUMBER, /**< empty, a sign, a letter, blanks, too long */
	FC_NUM_RANGE,        /**< a number, outside [lo, hi] */
};

/** Accept a k, K, M or G suffix (x1000, x1000000, x1000000000). */
#define FC_NUM_SI 0x1

/**
 * Parse s as an integer within [lo, hi] into *out (untouched on error).
 * Thread safety: any thread; pure function.
 */
enum fc_num_status fc_num_u64(const char *s, uint64_t lo, uint64_t hi,
			      unsigned flags, uint64_t *out);

/**
 * "not a number; expected an integer from LO to HI" (or "out of range;
 * ..."), into buf, for a caller's message. Returns buf.
 * Thread safety: any thread; writes only buf.
 */
const char *fc_num_expect(enum fc_num_status st, uint64_t lo, uint64_t hi,
			  char *buf, size_t len);

/**
 * Parse s, a decimal number with at most three decimals ("2", "0.2",
 * "1.250"), as thousandths within [lo, hi] (thousandths too) into *out
 * (untouched on error): durations in seconds, read as milliseconds. The
 * spellings fc_num_u64 refuses are refused here too; a point needs a
 * digit on each side ("1.", ".5"), and a fourth decimal is refused, not
 * rounded. No suffix.
 * Thread safety: any thread; pure function.
 */
enum fc_num_status fc_num_milli(const char *s, uint64_t lo, uint64_t hi,
				uint64_t *out);

#endif /* FC_NUM_H */

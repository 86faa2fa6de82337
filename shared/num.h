/* num.h: the one parser of integers that people type: command-line
 * options (sift-indexer, sift-query, sift-gen, the bench tools),
 * sift-searchd's options and config file, and the numbers of the query
 * language (limit:, offset:, NEAR/N, facet limits: qp_int.h's qp__uint).
 *
 * Strict on purpose: decimal digits only, no sign, no space, no base prefix,
 * no trailing text, no silent wrap on overflow; the range is checked here so
 * that every program says the same thing about a bad value.  Pure functions
 * on borrowed strings: thread-safe, nothing allocated.
 */
#ifndef SIFT_NUM_H
#define SIFT_NUM_H

#include <stddef.h>
#include <stdint.h>

/* s[0..n) as a decimal number in [lo, hi] into *out.  Returns 0, or -1 when
 * it is not one (empty, a non-digit, above UINT64_MAX) or out of range;
 * *out is untouched then. */
int num_parse(const char *s, size_t n, uint64_t lo, uint64_t hi, uint64_t *out);

/* The NUL-terminated value s of the option called name, as num_parse().
 * On -1 why[0..cap) says "NAME takes a number from LO to HI, got 'S'". */
int num_option(const char *name, const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *why,
               size_t cap);

#endif

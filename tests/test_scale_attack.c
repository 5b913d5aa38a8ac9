/*
 * Unit tests from the outside review of the scale changes: each one
 * failed on the code it was written against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

/* A list of ten /24s and, per i < n6, 2a01:4f8:i::/48 (top bit flipped). */
static void
mklist(struct rangelist *rl, size_t n6, int flip)
{
	struct range4 r4;
	struct range6 r6;
	size_t i;

	rangelist_init(rl);
	for (i = 0; i < 10; i++) {
		r4.first = 185u << 24 | 10u << 16 | (uint32_t)i << 8;
		r4.last = r4.first | 0xff;
		rangelist_add4(rl, &r4);
	}
	for (i = 0; i < n6; i++) {
		r6.first.hi = 0x2a0104f800000000ULL | (uint64_t)i << 16;
		if (flip)
			r6.first.hi ^= 1ULL << 63;	/* aa01:4f8:i:: */
		r6.first.lo = 0;
		r6.last.hi = r6.first.hi | 0xffff;
		r6.last.lo = UINT64_MAX;
		rangelist_add6(rl, &r6);
	}
	rangelist_normalise(rl);
}

/*
 * LOW-MEDIUM.  The word-wise rangelist_digest(): (h ^ w) * P passes a
 * flip of bit 63 through unchanged, and an IPv6 range's first and last
 * high words flip together, so they cancel.  Two lists that differ in
 * every IPv6 entry (2a01:4f8:i::/48 against aa01:4f8:i::/48, both
 * accepted by the default policy) get the same digest, and so the same
 * kernel.state and include digests: a record of one vouches for the
 * other (tests/scale_attack.sh digest_collision_skips_needed_dump).
 */
static void
test_digest_ipv6_top_bit(void **state)
{
	struct rangelist a, b;
	struct nft_target t = { .family = "inet", .table = "filter",
	    .set4 = "docplanner_v4", .set6 = "docplanner_v6" };
	struct nft_list la = { &t, &a }, lb = { &t, &b };

	(void)state;
	mklist(&a, 3, 0);
	mklist(&b, 3, 1);
	assert_false(rangelist_equal(&a, &b));
	assert_true(rangelist_digest(&a) != rangelist_digest(&b));
	assert_true(nft_lists_digest(&la, 1) != nft_lists_digest(&lb, 1));
	rangelist_free(&a);
	rangelist_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_ipv6_top_bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

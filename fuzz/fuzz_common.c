/*
 * Helpers shared by the fuzz targets: logging set-up, the normalised-form
 * invariant and a validate/normalise pass under several policies.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

/*
 * Errors only.  `make fuzz` also passes -close_fd_mask=2 so that the one
 * error line per rejected input does not cost a write(2) to a terminal;
 * libFuzzer and the sanitizers keep their own copy of stderr.
 */
void
fuzz_init(void)
{
	log_init(LOG_LVL_ERR);
}

/* See fuzz.h. */
void
fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: invariant broken: %s\n", what);
	abort();
}

/* a + 1 would not wrap and b starts at or before it: they touch. */
static int
touch6(struct u128 a, struct u128 b)
{
	if (a.hi == UINT64_MAX && a.lo == UINT64_MAX)
		return 1;
	if (++a.lo == 0)
		a.hi++;
	return u128_cmp(b, a) <= 0;
}

/* See fuzz.h. */
void
fuzz_check_normalised(const struct rangelist *rl)
{
	size_t i;

	for (i = 0; i < rl->n4; i++) {
		if (rl->v4[i].first > rl->v4[i].last)
			fuzz_fail("IPv4 range with first > last");
		if (i > 0 && (rl->v4[i - 1].last == UINT32_MAX ||
		    rl->v4[i].first <= rl->v4[i - 1].last + 1))
			fuzz_fail("IPv4 ranges unsorted, overlapping or "
			    "adjacent");
	}
	for (i = 0; i < rl->n6; i++) {
		if (u128_cmp(rl->v6[i].first, rl->v6[i].last) > 0)
			fuzz_fail("IPv6 range with first > last");
		if (i > 0 && touch6(rl->v6[i - 1].last, rl->v6[i].first))
			fuzz_fail("IPv6 ranges unsorted, overlapping or "
			    "adjacent");
	}
}

/*
 * One validation pass.  out starts with one range per family that is not
 * from the document, to check that a rejection leaves it untouched.
 */
static void
validate_one(const struct entrylist *list, const struct policy *pol)
{
	static const struct range4 mark4 = { 0x01020300, 0x010203ff };
	static const struct range6 mark6 = {
		{ 0x2a00000000000000ULL, 0 },
		{ 0x2a00000000000000ULL, UINT64_MAX },
	};
	struct rangelist rl;
	size_t i;

	rangelist_init(&rl);
	rangelist_add4(&rl, &mark4);
	rangelist_add6(&rl, &mark6);
	if (validate_entries(list, "fuzz", pol, &rl, NULL) != AS_OK) {
		if (rl.n4 != 1 || rl.n6 != 1 ||
		    rl.v4[0].first != mark4.first ||
		    rl.v4[0].last != mark4.last ||
		    u128_cmp(rl.v6[0].first, mark6.first) != 0 ||
		    u128_cmp(rl.v6[0].last, mark6.last) != 0)
			fuzz_fail("rejected document changed the output");
		rangelist_free(&rl);
		return;
	}
	/* Empty only as a list of the disabled family alone. */
	if (rl.n4 + rl.n6 < 3 && pol->want4 && pol->want6)
		fuzz_fail("accepted document added nothing");
	if (rl.n4 - 1 + rl.n6 - 1 > list->n)
		fuzz_fail("more ranges than entries");
	if ((!pol->want4 && rl.n4 != 1) || (!pol->want6 && rl.n6 != 1))
		fuzz_fail("range of a disabled family added");
	for (i = 1; i < rl.n4; i++)
		if (rl.v4[i].last - rl.v4[i].first >=
		    UINT32_C(1) << (32 - pol->min_prefix4))
			fuzz_fail("IPv4 range wider than min-prefix4");
	rangelist_normalise(&rl);
	fuzz_check_normalised(&rl);
	rangelist_free(&rl);
}

/* See fuzz.h. */
void
fuzz_validate(const struct entrylist *list)
{
	struct policy pol = {
		.min_prefix4 = DEFAULT_MIN_PREFIX4,
		.min_prefix6 = DEFAULT_MIN_PREFIX6,
		.max_entries = DEFAULT_MAX_ENTRIES,
		.want4 = true,
		.want6 = true,
	};

	validate_one(list, &pol);
	pol.want6 = false;
	validate_one(list, &pol);
	pol.want4 = false;
	pol.want6 = true;
	validate_one(list, &pol);
	pol.want4 = true;
	pol.decide[CLASS_PRIVATE] = DEC_SKIP;
	pol.decide[CLASS_SPECIAL] = DEC_SKIP;
	pol.decide[CLASS_WIDE] = DEC_SKIP;
	validate_one(list, &pol);
	pol.min_prefix4 = 1;
	pol.min_prefix6 = 1;
	pol.decide[CLASS_PRIVATE] = DEC_ALLOW;
	pol.lenient = true;
	validate_one(list, &pol);
}

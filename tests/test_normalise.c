/*
 * Unit tests for normalise.c: growth, sorting, merging of duplicates,
 * overlaps, containment and adjacency, the edges of both address spaces,
 * and a randomized comparison against a bitmap on small windows.
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

#define A4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static void
add4(struct rangelist *rl, uint32_t first, uint32_t last)
{
	struct range4 r = { first, last };

	rangelist_add4(rl, &r);
}

static void
add6(struct rangelist *rl, struct u128 first, struct u128 last)
{
	struct range6 r = { first, last };

	rangelist_add6(rl, &r);
}

/* Normalise rl and return its family af as text, ranges joined by " ". */
static const char *
norm_text(struct rangelist *rl, int af)
{
	static char out[1024];

	rangelist_normalise(rl);
	return ranges_text(rl, af, out, sizeof(out));
}

#define norm4_text(rl)	norm_text((rl), 4)
#define norm6_text(rl)	norm_text((rl), 6)

static void
test_init_free(void **state)
{
	struct rangelist rl;

	(void)state;
	rangelist_init(&rl);
	assert_null(rl.v4);
	assert_null(rl.v6);
	assert_int_equal(rl.n4 + rl.n6 + rl.cap4 + rl.cap6, 0);
	rangelist_normalise(&rl);
	assert_int_equal(rl.n4 + rl.n6, 0);
	add4(&rl, 1, 2);
	add6(&rl, (struct u128){ 0, 1 }, (struct u128){ 0, 1 });
	rangelist_free(&rl);
	assert_null(rl.v4);
	assert_null(rl.v6);
	assert_int_equal(rl.n4 + rl.n6 + rl.cap4 + rl.cap6, 0);
	rangelist_free(&rl);
}

/* Capacity doubles: many adds, few reallocations, contents kept. */
static void
test_growth(void **state)
{
	struct rangelist rl, other;
	size_t i, caps = 0, lastcap = 0;

	(void)state;
	rangelist_init(&rl);
	for (i = 0; i < 10000; i++) {
		add4(&rl, (uint32_t)i * 4, (uint32_t)i * 4 + 1);
		if (rl.cap4 != lastcap) {
			assert_true(lastcap == 0 || rl.cap4 == 2 * lastcap);
			lastcap = rl.cap4;
			caps++;
		}
	}
	assert_int_equal(rl.n4, 10000);
	assert_true(caps <= 15);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(rl.v4[i].first, i * 4);
		assert_int_equal(rl.v4[i].last, i * 4 + 1);
	}

	rangelist_init(&other);
	add4(&other, 7, 7);
	add6(&other, (struct u128){ 1, 2 }, (struct u128){ 3, 4 });
	rangelist_append(&other, &rl);
	assert_int_equal(other.n4, 10001);
	assert_int_equal(other.n6, 1);
	assert_int_equal(other.v4[0].first, 7);
	assert_int_equal(other.v4[10000].first, 9999 * 4);
	assert_int_equal(rl.n4, 10000);
	rangelist_normalise(&other);
	assert_int_equal(other.n4, 10000);
	assert_int_equal(other.v4[1].first, 4);
	assert_int_equal(other.v4[1].last, 5);
	assert_int_equal(other.v4[2].first, 7);
	assert_int_equal(other.v4[2].last, 9);

	rangelist_append(&rl, &rl);
	assert_int_equal(rl.n4, 20000);
	assert_int_equal(rl.v4[19999].last, 9999 * 4 + 1);
	rangelist_free(&rl);
	rangelist_free(&other);
}

static void
test_merge4(void **state)
{
	struct rangelist rl;

	(void)state;
	rangelist_init(&rl);
	assert_string_equal(norm4_text(&rl), "");

	/* duplicates */
	add4(&rl, A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	add4(&rl, A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	add4(&rl, A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	assert_string_equal(norm4_text(&rl), "1.2.3.4");
	rangelist_free(&rl);

	/* overlap */
	add4(&rl, A4(1, 2, 3, 50), A4(1, 2, 3, 200));
	add4(&rl, A4(1, 2, 3, 0), A4(1, 2, 3, 100));
	assert_string_equal(norm4_text(&rl), "1.2.3.0-1.2.3.200");
	rangelist_free(&rl);

	/* containment, either order */
	add4(&rl, A4(1, 2, 3, 0), A4(1, 2, 3, 255));
	add4(&rl, A4(1, 2, 0, 0), A4(1, 2, 255, 255));
	add4(&rl, A4(1, 2, 9, 9), A4(1, 2, 9, 9));
	assert_string_equal(norm4_text(&rl), "1.2.0.0/16");
	rangelist_free(&rl);

	/* adjacency merges, a one-address gap does not */
	add4(&rl, A4(1, 2, 4, 0), A4(1, 2, 4, 255));
	add4(&rl, A4(1, 2, 3, 0), A4(1, 2, 3, 255));
	assert_string_equal(norm4_text(&rl), "1.2.3.0-1.2.4.255");
	add4(&rl, A4(1, 2, 5, 1), A4(1, 2, 5, 1));
	assert_string_equal(norm4_text(&rl), "1.2.3.0-1.2.4.255 1.2.5.1");
	add4(&rl, A4(1, 2, 5, 0), A4(1, 2, 5, 0));
	assert_string_equal(norm4_text(&rl), "1.2.3.0-1.2.5.1");
	rangelist_free(&rl);

	/* unsorted singles */
	add4(&rl, A4(9, 9, 9, 9), A4(9, 9, 9, 9));
	add4(&rl, A4(1, 1, 1, 1), A4(1, 1, 1, 1));
	add4(&rl, A4(5, 5, 5, 5), A4(5, 5, 5, 5));
	add4(&rl, A4(1, 1, 1, 3), A4(1, 1, 1, 3));
	assert_string_equal(norm4_text(&rl),
	    "1.1.1.1 1.1.1.3 5.5.5.5 9.9.9.9");
	add4(&rl, A4(1, 1, 1, 2), A4(1, 1, 1, 2));
	assert_string_equal(norm4_text(&rl), "1.1.1.1-1.1.1.3 5.5.5.5 9.9.9.9");
	rangelist_free(&rl);

	/* a chain where each range only touches the next */
	add4(&rl, A4(10, 0, 0, 3), A4(10, 0, 0, 3));
	add4(&rl, A4(10, 0, 0, 0), A4(10, 0, 0, 1));
	add4(&rl, A4(10, 0, 0, 2), A4(10, 0, 0, 2));
	add4(&rl, A4(10, 0, 0, 4), A4(10, 0, 0, 7));
	assert_string_equal(norm4_text(&rl), "10.0.0.0/29");
	rangelist_free(&rl);
}

/* 0.0.0.0 and 255.255.255.255: last + 1 must never wrap. */
static void
test_edges4(void **state)
{
	struct rangelist rl;

	(void)state;
	rangelist_init(&rl);
	add4(&rl, UINT32_MAX, UINT32_MAX);
	add4(&rl, 0, 0);
	assert_string_equal(norm4_text(&rl), "0.0.0.0 255.255.255.255");
	add4(&rl, 1, 1);
	add4(&rl, UINT32_MAX - 1, UINT32_MAX - 1);
	assert_string_equal(norm4_text(&rl),
	    "0.0.0.0/31 255.255.255.254/31");
	rangelist_free(&rl);

	add4(&rl, 0, UINT32_MAX);
	add4(&rl, 5, 10);
	add4(&rl, UINT32_MAX, UINT32_MAX);
	assert_string_equal(norm4_text(&rl), "0.0.0.0/0");
	rangelist_free(&rl);

	add4(&rl, UINT32_MAX - 10, UINT32_MAX);
	add4(&rl, UINT32_MAX - 5, UINT32_MAX);
	add4(&rl, UINT32_MAX - 3, UINT32_MAX - 2);
	add4(&rl, 0, 3);
	assert_string_equal(norm4_text(&rl),
	    "0.0.0.0/30 255.255.255.245-255.255.255.255");
	rangelist_free(&rl);

	add4(&rl, 0x80000000, UINT32_MAX);
	add4(&rl, 0, 0x7fffffff);
	assert_string_equal(norm4_text(&rl), "0.0.0.0/0");
	rangelist_free(&rl);
}

static void
test_merge6(void **state)
{
	struct rangelist rl;
	const struct u128 zero = { 0, 0 }, ones = { UINT64_MAX, UINT64_MAX };

	(void)state;
	rangelist_init(&rl);

	/* adjacency across the 64-bit word boundary */
	add6(&rl, (struct u128){ 1, 0 }, (struct u128){ 1, 5 });
	add6(&rl, zero, (struct u128){ 0, UINT64_MAX });
	assert_string_equal(norm6_text(&rl), "::-::1:0:0:0:5");
	rangelist_free(&rl);

	/* a gap of one address at the boundary stays */
	add6(&rl, (struct u128){ 1, 1 }, (struct u128){ 1, 5 });
	add6(&rl, zero, (struct u128){ 0, UINT64_MAX });
	assert_string_equal(norm6_text(&rl), "::/64 ::1:0:0:0:1-::1:0:0:0:5");
	rangelist_free(&rl);

	/* overlap in the high word only */
	add6(&rl, (struct u128){ 2, 0 }, (struct u128){ 5, 0 });
	add6(&rl, (struct u128){ 3, 7 }, (struct u128){ 9, 0 });
	add6(&rl, (struct u128){ 4, 0 }, (struct u128){ 4, 0 });
	assert_string_equal(norm6_text(&rl), "0:0:0:2::-0:0:0:9::");
	rangelist_free(&rl);

	/* duplicates and the all-ones edge */
	add6(&rl, ones, ones);
	add6(&rl, ones, ones);
	add6(&rl, zero, zero);
	assert_string_equal(norm6_text(&rl),
	    ":: ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	add6(&rl, (struct u128){ UINT64_MAX, 0 }, ones);
	add6(&rl, (struct u128){ UINT64_MAX, 5 },
	    (struct u128){ UINT64_MAX, 6 });
	assert_string_equal(norm6_text(&rl), ":: ffff:ffff:ffff:ffff::/64");
	add6(&rl, (struct u128){ 0, 1 }, (struct u128){ 0, 1 });
	assert_string_equal(norm6_text(&rl), "::/127 ffff:ffff:ffff:ffff::/64");
	add6(&rl, zero, ones);
	add6(&rl, (struct u128){ 7, 7 }, (struct u128){ 8, 8 });
	assert_string_equal(norm6_text(&rl), "::/0");
	rangelist_free(&rl);

	/* families are kept apart */
	add4(&rl, 1, 1);
	add6(&rl, (struct u128){ 0, 2 }, (struct u128){ 0, 2 });
	rangelist_normalise(&rl);
	assert_int_equal(rl.n4, 1);
	assert_int_equal(rl.n6, 1);
	rangelist_free(&rl);
}

static void
test_equal(void **state)
{
	struct rangelist a, b;

	(void)state;
	rangelist_init(&a);
	rangelist_init(&b);
	assert_true(rangelist_equal(&a, &b));
	add4(&a, 1, 2);
	assert_false(rangelist_equal(&a, &b));
	add4(&b, 1, 2);
	assert_true(rangelist_equal(&a, &b));
	add6(&a, (struct u128){ 1, 2 }, (struct u128){ 1, 3 });
	add6(&b, (struct u128){ 1, 2 }, (struct u128){ 1, 4 });
	assert_false(rangelist_equal(&a, &b));
	b.v6[0].last.lo = 3;
	assert_true(rangelist_equal(&a, &b));
	b.v6[0].first.hi = 0;
	assert_false(rangelist_equal(&a, &b));
	b.v6[0].first.hi = 1;
	b.v4[0].last = 3;
	assert_false(rangelist_equal(&a, &b));
	rangelist_free(&a);
	rangelist_free(&b);
}

#define WINDOW		1024	/* addresses in a randomized window */
#define ROUNDS		2000

/* A random range inside [0, WINDOW), as offsets. */
static void
random_range(size_t *first, size_t *last)
{
	size_t len = 1 + (size_t)rand() % (rand() % 4 == 0 ? 300 : 16);

	*first = (size_t)rand() % WINDOW;
	*last = *first + len - 1;
	if (*last >= WINDOW)
		*last = WINDOW - 1;
}

/*
 * Random ranges within [base, base + WINDOW) of the IPv4 space, checked
 * against a bitmap: sorted, no overlaps or adjacencies, exact union.
 */
static void
random4(uint32_t base)
{
	unsigned char want[WINDOW], got[WINDOW];
	struct rangelist rl;
	size_t round, i, k, n, first, last;

	rangelist_init(&rl);
	for (round = 0; round < ROUNDS; round++) {
		memset(want, 0, sizeof(want));
		memset(got, 0, sizeof(got));
		n = (size_t)rand() % 40;
		for (i = 0; i < n; i++) {
			random_range(&first, &last);
			for (k = first; k <= last; k++)
				want[k] = 1;
			add4(&rl, base + (uint32_t)first,
			    base + (uint32_t)last);
		}
		rangelist_normalise(&rl);
		assert_true(rl.n4 <= n);
		for (i = 0; i < rl.n4; i++) {
			assert_true(rl.v4[i].first >= base);
			assert_true(rl.v4[i].first <= rl.v4[i].last);
			assert_true(rl.v4[i].last - base < WINDOW);
			if (i > 0)
				assert_true(rl.v4[i].first >
				    rl.v4[i - 1].last + 1);
			for (k = rl.v4[i].first - base;
			    k <= rl.v4[i].last - base; k++)
				got[k] = 1;
		}
		assert_memory_equal(got, want, sizeof(want));
		rl.n4 = 0;
	}
	rangelist_free(&rl);
}

static struct u128
u128_add(struct u128 a, uint64_t k)
{
	a.lo += k;
	if (a.lo < k)
		a.hi++;
	return a;
}

/* Offset of a from base, known to be below WINDOW. */
static size_t
u128_off(struct u128 a, struct u128 base)
{
	return (size_t)(a.lo - base.lo);
}

/* As random4(), for IPv6. */
static void
random6(struct u128 base)
{
	unsigned char want[WINDOW], got[WINDOW];
	struct rangelist rl;
	size_t round, i, k, n, first, last;
	struct u128 next;

	rangelist_init(&rl);
	for (round = 0; round < ROUNDS; round++) {
		memset(want, 0, sizeof(want));
		memset(got, 0, sizeof(got));
		n = (size_t)rand() % 40;
		for (i = 0; i < n; i++) {
			random_range(&first, &last);
			for (k = first; k <= last; k++)
				want[k] = 1;
			add6(&rl, u128_add(base, first), u128_add(base, last));
		}
		rangelist_normalise(&rl);
		assert_true(rl.n6 <= n);
		for (i = 0; i < rl.n6; i++) {
			assert_true(u128_cmp(rl.v6[i].first, base) >= 0);
			assert_true(u128_cmp(rl.v6[i].first,
			    rl.v6[i].last) <= 0);
			assert_true(u128_cmp(rl.v6[i].last,
			    u128_add(base, WINDOW - 1)) <= 0);
			if (i > 0) {
				next = u128_add(rl.v6[i - 1].last, 1);
				assert_true(u128_cmp(rl.v6[i].first, next) > 0);
			}
			for (k = u128_off(rl.v6[i].first, base);
			    k <= u128_off(rl.v6[i].last, base); k++)
				got[k] = 1;
		}
		assert_memory_equal(got, want, sizeof(want));
		rl.n6 = 0;
	}
	rangelist_free(&rl);
}

static void
test_random(void **state)
{
	(void)state;
	srand(20240601);
	random4(A4(10, 0, 0, 0));
	random4(0);
	random4(UINT32_MAX - WINDOW + 1);
	random6((struct u128){ 0x20010db800000000ULL, 0 });
	random6((struct u128){ 0, UINT64_MAX - WINDOW / 2 + 1 });
	random6((struct u128){ UINT64_MAX, UINT64_MAX - WINDOW + 1 });
	random6((struct u128){ 0, 0 });
}

/*
 * Big lists take the radix sort: its order must be qsort's, with and
 * without duplicates, and normalising must merge exactly as on small lists.
 */
static void
test_large_sort(void **state)
{
	struct rangelist rl, ref;
	struct range4 r;
	size_t i, n = 200000;
	uint32_t x = 12345;

	(void)state;
	rangelist_init(&rl);
	rangelist_init(&ref);
	for (i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		r.first = x & 0xfffffff0u;
		r.last = r.first + (x >> 28);
		rangelist_add4(&rl, &r);
		if (i % 7 == 0)
			rangelist_add4(&rl, &r);
	}
	rangelist_append(&ref, &rl);
	qsort(ref.v4, ref.n4, sizeof(*ref.v4), range4_cmp);
	rangelist_unique(&rl);
	for (i = 1; i < ref.n4; i++)
		assert_true(range4_cmp(&ref.v4[i - 1], &ref.v4[i]) <= 0);
	for (i = 1; i < rl.n4; i++)
		assert_true(range4_cmp(&rl.v4[i - 1], &rl.v4[i]) < 0);
	assert_true(rl.n4 <= n && rl.n4 > n / 2);
	rangelist_normalise(&rl);
	rangelist_normalise(&ref);
	assert_true(rangelist_equal(&rl, &ref));
	rangelist_free(&rl);
	rangelist_free(&ref);
}

/*
 * rangelist_unique(rl) against qsort(3) and a pass that drops repeats,
 * family by family and range by range; frees rl.
 */
static void
assert_unique_as_qsort(struct rangelist *rl)
{
	struct rangelist ref;
	size_t i, j;

	rangelist_init(&ref);
	rangelist_append(&ref, rl);
	xqsort(ref.v4, ref.n4, sizeof(*ref.v4), range4_cmp);
	for (i = j = 0; i < ref.n4; i++)
		if (j == 0 || range4_cmp(&ref.v4[j - 1], &ref.v4[i]) != 0)
			ref.v4[j++] = ref.v4[i];
	ref.n4 = j;
	xqsort(ref.v6, ref.n6, sizeof(*ref.v6), range6_cmp);
	for (i = j = 0; i < ref.n6; i++)
		if (j == 0 || range6_cmp(&ref.v6[j - 1], &ref.v6[i]) != 0)
			ref.v6[j++] = ref.v6[i];
	ref.n6 = j;
	rangelist_unique(rl);
	assert_int_equal(rl->n4, ref.n4);
	for (i = 0; i < rl->n4; i++)
		assert_int_equal(range4_cmp(&rl->v4[i], &ref.v4[i]), 0);
	assert_int_equal(rl->n6, ref.n6);
	for (i = 0; i < rl->n6; i++)
		assert_int_equal(range6_cmp(&rl->v6[i], &ref.v6[i]), 0);
	rangelist_free(&ref);
	rangelist_free(rl);
}

/*
 * The radix sort against qsort(3), range by range, on lists where some
 * digits are the same in every key (those passes are skipped, and the
 * data can end in the scratch buffer): one /16, single addresses, and
 * ranges sharing first: about 50 and 200 at a time (put in order by
 * qsort) and about 3 (by insertion).
 */
static void
test_sort_skipped_passes(void **state)
{
	static const uint32_t masks[] = { 0xffff, 0xffffff, 0xff00ff00,
	    0xff00, 0x3fff };
	struct rangelist rl;
	struct range4 r;
	size_t i, m, n = 50000;
	uint32_t x = 777;

	(void)state;
	for (m = 0; m < 5; m++) {
		rangelist_init(&rl);
		for (i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			r.first = 0x0a000000u | ((x >> 4) & masks[m]);
			r.last = m >= 3 ? r.first + (x >> 20) :
			    m == 2 ? r.first + (x >> 29) : r.first;
			rangelist_add4(&rl, &r);
		}
		assert_unique_as_qsort(&rl);
	}
}

/*
 * The IPv6 sort against qsort(3), range by range: radix on the top half
 * of first, then the runs that tie there.  Some lists share the top half
 * (one /64), some differ only there (/48s), some tie on first.
 */
static void
test_sort6(void **state)
{
	struct rangelist rl;
	struct range6 r;
	size_t i, m, n = 20000;
	uint64_t x = 99;

	(void)state;
	for (m = 0; m < 3; m++) {
		rangelist_init(&rl);
		for (i = 0; i < n; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			r.first.hi = m == 0 ? 0x2a01000000000000ULL :
			    0x2a01000000000000ULL | (x >> 40) << 16;
			r.first.lo = m == 1 ? 0 : (x >> 20) & 0xff;
			r.last = r.first;
			if (m == 2)
				r.last.lo |= x & 7;
			rangelist_add6(&rl, &r);
		}
		assert_unique_as_qsort(&rl);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_free),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_merge4),
		cmocka_unit_test(test_edges4),
		cmocka_unit_test(test_merge6),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_large_sort),
		cmocka_unit_test(test_sort_skipped_passes),
		cmocka_unit_test(test_sort6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

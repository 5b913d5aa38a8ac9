/*
 * Unit tests for diff.c: the plan that turns the kernel's ranges into the
 * wanted ones, including kernel ranges split differently from the wanted
 * ones, and a randomized check that applying the plan gives want.
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
add6(struct rangelist *rl, uint64_t fhi, uint64_t flo, uint64_t lhi,
    uint64_t llo)
{
	struct range6 r = { { fhi, flo }, { lhi, llo } };

	rangelist_add6(rl, &r);
}

/* Both families of a list as text: "v4 ... | v6 ...". */
static const char *
list_text(const struct rangelist *rl, char *out, size_t outsz)
{
	char v4[1024], v6[1024];

	snprintf(out, outsz, "%s%s|%s%s", ranges_text(rl, 4, v4, sizeof(v4)),
	    rl->n4 > 0 ? " " : "", rl->n6 > 0 ? " " : "",
	    ranges_text(rl, 6, v6, sizeof(v6)));
	return out;
}

static void
assert_plan(const struct plan *pl, const char *add, const char *del)
{
	char buf[2048];

	assert_string_equal(list_text(&pl->add, buf, sizeof(buf)), add);
	assert_string_equal(list_text(&pl->del, buf, sizeof(buf)), del);
}

static void
test_empty(void **state)
{
	struct rangelist want, have;
	struct plan pl;

	(void)state;
	rangelist_init(&want);
	rangelist_init(&have);
	plan_init(&pl);
	assert_true(plan_empty(&pl));
	diff_ranges(&want, &have, &pl);
	assert_true(plan_empty(&pl));
	plan_free(&pl);
	assert_true(plan_empty(&pl));
}

static void
test_first_sync(void **state)
{
	struct rangelist want, have;
	struct plan pl;

	(void)state;
	rangelist_init(&want);
	rangelist_init(&have);
	add4(&want, A4(1, 2, 3, 4), A4(1, 2, 3, 4));
	add4(&want, A4(8, 8, 8, 0), A4(8, 8, 8, 255));
	add6(&want, 0x2a00145000000000ULL, 0, 0x2a00145000000000ULL,
	    UINT64_MAX);
	plan_init(&pl);
	diff_ranges(&want, &have, &pl);
	assert_false(plan_empty(&pl));
	assert_plan(&pl, "1.2.3.4 8.8.8.0/24 | 2a00:1450::/64", "|");
	assert_true(rangelist_equal(&pl.add, &want));
	plan_free(&pl);

	/* In step already: nothing to do. */
	plan_init(&pl);
	diff_ranges(&want, &want, &pl);
	assert_true(plan_empty(&pl));
	plan_free(&pl);

	/* Nothing wanted: the diff deletes all (main.c refuses that). */
	plan_init(&pl);
	diff_ranges(&have, &want, &pl);
	assert_plan(&pl, "|", "1.2.3.4 8.8.8.0/24 | 2a00:1450::/64");
	plan_free(&pl);
	rangelist_free(&want);
}

static void
test_update(void **state)
{
	struct rangelist want, have;
	struct plan pl;

	(void)state;
	rangelist_init(&want);
	rangelist_init(&have);
	add4(&want, A4(1, 1, 1, 1), A4(1, 1, 1, 1));
	add4(&want, A4(2, 2, 2, 0), A4(2, 2, 2, 255));
	add4(&want, A4(3, 3, 3, 3), A4(3, 3, 3, 3));
	add4(&want, A4(9, 0, 0, 0), A4(9, 0, 0, 0));
	add4(&have, A4(0, 0, 0, 9), A4(0, 0, 0, 9));
	add4(&have, A4(1, 1, 1, 1), A4(1, 1, 1, 1));
	add4(&have, A4(3, 3, 3, 3), A4(3, 3, 3, 3));
	add4(&have, A4(4, 4, 4, 4), A4(4, 4, 4, 4));
	add4(&have, A4(5, 0, 0, 0), A4(5, 0, 0, 0));
	add6(&want, 0, 5, 0, 5);
	add6(&want, 0, 7, 0, 7);
	add6(&have, 0, 6, 0, 6);
	add6(&have, 0, 7, 0, 7);
	add6(&have, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX);
	plan_init(&pl);
	diff_ranges(&want, &have, &pl);
	assert_plan(&pl, "2.2.2.0/24 9.0.0.0 | ::5",
	    "0.0.0.9 4.4.4.4 5.0.0.0 | ::6 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	plan_free(&pl);
	rangelist_free(&want);
	rangelist_free(&have);
}

/* A kernel range is kept only when it is wanted exactly. */
static void
test_split(void **state)
{
	struct rangelist want, have;
	struct plan pl;

	(void)state;
	rangelist_init(&want);
	rangelist_init(&have);
	add4(&have, A4(1, 2, 3, 0), A4(1, 2, 3, 255));
	add4(&have, A4(1, 2, 4, 0), A4(1, 2, 4, 255));
	add4(&want, A4(1, 2, 3, 0), A4(1, 2, 4, 255));
	plan_init(&pl);
	diff_ranges(&want, &have, &pl);
	assert_plan(&pl, "1.2.3.0-1.2.4.255 |", "1.2.3.0/24 1.2.4.0/24 |");
	plan_free(&pl);

	/* The other way: the wanted list is finer than the kernel's. */
	plan_init(&pl);
	diff_ranges(&have, &want, &pl);
	assert_plan(&pl, "1.2.3.0/24 1.2.4.0/24 |", "1.2.3.0-1.2.4.255 |");
	plan_free(&pl);
	rangelist_free(&want);
	rangelist_free(&have);

	/* Same first address, different last. */
	add4(&have, A4(1, 2, 3, 0), A4(1, 2, 3, 255));
	add4(&want, A4(1, 2, 3, 0), A4(1, 2, 3, 127));
	add6(&have, 1, 0, 1, UINT64_MAX);
	add6(&want, 1, 0, 2, 0);
	plan_init(&pl);
	diff_ranges(&want, &have, &pl);
	assert_plan(&pl, "1.2.3.0/25 | 0:0:0:1::-0:0:0:2::",
	    "1.2.3.0/24 | 0:0:0:1::/64");
	plan_free(&pl);
	rangelist_free(&want);
	rangelist_free(&have);
}

#define WINDOW	512
#define ROUNDS	2000

static struct u128
u128_add(struct u128 a, uint64_t k)
{
	a.lo += k;
	if (a.lo < k)
		a.hi++;
	return a;
}

/*
 * Random normalised ranges in a window of WINDOW addresses per family (the
 * IPv6 one across the 64-bit word boundary); with split, some are cut in
 * two, as a kernel set filled by other means may hold them.
 */
static void
random_list(struct rangelist *rl, bool split)
{
	const struct u128 base = { 0, UINT64_MAX - WINDOW / 2 + 1 };
	struct range6 r6;
	size_t i, n = (size_t)rand() % 30, n4;
	uint32_t first, len, cut;

	for (i = 0; i < n; i++) {
		first = (uint32_t)rand() % WINDOW;
		len = 1 + (uint32_t)rand() % 20;
		add4(rl, first, first + len - 1);
		r6.first = u128_add(base, first);
		r6.last = u128_add(base, first + len - 1);
		rangelist_add6(rl, &r6);
	}
	rangelist_normalise(rl);
	if (!split)
		return;
	n4 = rl->n4;
	for (i = 0; i < n4; i++) {
		if (rl->v4[i].first == rl->v4[i].last || rand() % 2 == 0)
			continue;
		cut = rl->v4[i].first +
		    (uint32_t)rand() % (rl->v4[i].last - rl->v4[i].first);
		add4(rl, cut + 1, rl->v4[i].last);
		rl->v4[i].last = cut;
	}
}

static int
cmp4(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->last < y->last ? -1 : x->last > y->last;
}

static int
cmp6(const void *a, const void *b)
{
	const struct range6 *x = a, *y = b;
	int c;

	if ((c = u128_cmp(x->first, y->first)) != 0)
		return c;
	return u128_cmp(x->last, y->last);
}

/* True when r is in v[0..n) (sorted); bsearch(3) wants a non-NULL base. */
static bool
has4(const struct range4 *r, const struct range4 *v, size_t n)
{
	return n > 0 && bsearch(r, v, n, sizeof(*v), cmp4) != NULL;
}

static bool
has6(const struct range6 *r, const struct range6 *v, size_t n)
{
	return n > 0 && bsearch(r, v, n, sizeof(*v), cmp6) != NULL;
}

/*
 * have minus del plus add is exactly want, every delete is in have and
 * not in want, every add is in want and not in have.
 */
static void
check_plan(const struct rangelist *want, const struct rangelist *have,
    const struct plan *pl)
{
	struct rangelist res;
	size_t i;

	rangelist_init(&res);
	for (i = 0; i < have->n4; i++)
		if (!has4(&have->v4[i], pl->del.v4, pl->del.n4))
			rangelist_add4(&res, &have->v4[i]);
	for (i = 0; i < have->n6; i++)
		if (!has6(&have->v6[i], pl->del.v6, pl->del.n6))
			rangelist_add6(&res, &have->v6[i]);
	assert_int_equal(res.n4 + pl->del.n4, have->n4);
	assert_int_equal(res.n6 + pl->del.n6, have->n6);
	for (i = 0; i < pl->del.n4; i++)
		assert_false(has4(&pl->del.v4[i], want->v4, want->n4));
	for (i = 0; i < pl->add.n4; i++)
		assert_false(has4(&pl->add.v4[i], have->v4, have->n4));
	for (i = 0; i < pl->del.n6; i++)
		assert_false(has6(&pl->del.v6[i], want->v6, want->n6));
	for (i = 0; i < pl->add.n6; i++)
		assert_false(has6(&pl->add.v6[i], have->v6, have->n6));
	rangelist_append(&res, &pl->add);
	if (res.n4 > 0)
		qsort(res.v4, res.n4, sizeof(*res.v4), cmp4);
	if (res.n6 > 0)
		qsort(res.v6, res.n6, sizeof(*res.v6), cmp6);
	assert_true(rangelist_equal(&res, want));
	rangelist_free(&res);
}

static void
test_random(void **state)
{
	struct rangelist want, have;
	struct plan pl;
	size_t round;

	(void)state;
	srand(7);
	for (round = 0; round < ROUNDS; round++) {
		rangelist_init(&want);
		rangelist_init(&have);
		random_list(&want, false);
		if (round % 5 == 0)
			rangelist_append(&have, &want);
		else
			random_list(&have, true);
		if (have.n4 > 0)
			qsort(have.v4, have.n4, sizeof(*have.v4), cmp4);
		plan_init(&pl);
		diff_ranges(&want, &have, &pl);
		check_plan(&want, &have, &pl);
		if (round % 5 == 0)
			assert_true(plan_empty(&pl));
		plan_free(&pl);
		rangelist_free(&want);
		rangelist_free(&have);
	}
}

/* Note i of family af of rl, as text. */
static const char *
nt(const struct rangelist *rl, int af, size_t i)
{
	return note_str(rangelist_note(rl, af, i));
}

/*
 * Notes: kept beside the ranges by add and append, dropped by normalise;
 * a range two labels reach names both, one label alone names it; a
 * range both sides hold with another comment is a renote, and what is
 * added carries its note.
 */
static void
test_notes(void **state)
{
	struct rangelist a, b, fin, have, parts[2];
	struct note_label lab[3];
	struct plan pl;

	(void)state;
	rangelist_init(&a);
	rangelist_init(&b);
	rangelist_init(&fin);
	rangelist_init(&have);
	add4(&a, A4(10, 0, 0, 0), A4(10, 0, 0, 255));
	add4(&a, A4(192, 0, 2, 1), A4(192, 0, 2, 1));
	add4(&b, A4(10, 0, 0, 128), A4(10, 0, 0, 255));
	add4(&b, A4(10, 0, 1, 0), A4(10, 0, 1, 255));
	add6(&b, 1, 0, 1, 5);
	rangelist_append(&fin, &a);
	rangelist_append(&fin, &b);
	rangelist_normalise(&fin);
	assert_null(fin.note4);
	lab[0].name = "a";
	lab[0].list = &a;
	lab[1].name = "b";
	lab[1].list = &b;
	lab[2].name = "a";		/* the same name: one bit */
	lab[2].list = &a;
	notes_compute(&fin, lab, 3);
	assert_int_equal(fin.n4, 2);
	assert_string_equal(nt(&fin, 4, 0), "a, b");
	assert_string_equal(nt(&fin, 4, 1), "a");
	assert_string_equal(nt(&fin, 6, 0), "b");
	/* A copy keeps them; a merge of two noted lists names both. */
	rangelist_append(&have, &fin);
	assert_null(have.note4);
	rangelist_notes_on(&have);
	have.n4 = have.n6 = 0;
	rangelist_append(&have, &fin);
	assert_string_equal(nt(&have, 4, 0), "a, b");
	add4(&have, A4(203, 0, 113, 0), A4(203, 0, 113, 0));
	assert_int_equal(rangelist_note(&have, 4, 2), 0);
	parts[0] = fin;
	parts[1] = have;
	rangelist_set_note(&have, 4, 0, note_id("c", 1));
	notes_merge(&have, parts, 2);
	assert_string_equal(nt(&have, 4, 0), "a, b, c");
	assert_string_equal(nt(&have, 4, 2), "");
	/* The diff. */
	plan_init(&pl);
	rangelist_set_note(&have, 4, 1, note_id("old", 3));
	diff_ranges(&fin, &have, &pl);
	assert_int_equal(pl.renote.n4, 2);
	assert_string_equal(nt(&pl.renote, 4, 0), "a, b");
	assert_string_equal(nt(&pl.renote, 4, 1), "a");
	assert_int_equal(pl.del.n4, 1);
	assert_int_equal(pl.add.n4 + pl.add.n6, 0);
	assert_false(plan_empty(&pl));
	plan_free(&pl);
	/* Without notes on one side there is no renote. */
	plan_init(&pl);
	rangelist_notes_off(&have);
	diff_ranges(&fin, &have, &pl);
	assert_int_equal(pl.renote.n4 + pl.renote.n6, 0);
	plan_free(&pl);
	rangelist_free(&a);
	rangelist_free(&b);
	rangelist_free(&fin);
	rangelist_free(&have);
}

/* Many labels: the comment is cut with an ellipsis within NOTE_MAX. */
static void
test_note_cut(void **state)
{
	static char names[40][16];
	struct note_label lab[40];
	struct rangelist l, fin;
	const char *s;
	size_t i;

	(void)state;
	rangelist_init(&l);
	rangelist_init(&fin);
	add4(&l, A4(185, 0, 0, 0), A4(185, 0, 0, 255));
	rangelist_append(&fin, &l);
	for (i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "section-%02zu", i);
		lab[i].name = names[i];
		lab[i].list = &l;
	}
	notes_compute(&fin, lab, 40);
	s = nt(&fin, 4, 0);
	assert_true(strlen(s) <= NOTE_MAX);
	assert_true(strncmp(s, "section-00, section-01", 22) == 0);
	assert_string_equal(s + strlen(s) - 5, ", \xe2\x80\xa6");
	assert_int_equal(note_id("", 0), 0);
	assert_int_equal(note_id(s, strlen(s)), rangelist_note(&fin, 4, 0));
	rangelist_free(&l);
	rangelist_free(&fin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_first_sync),
		cmocka_unit_test(test_update),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_note_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

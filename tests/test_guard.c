/*
 * Unit tests for guard.c: remove-after ageing and the shrink guard's
 * count of entries that stop being covered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "allowsync.h"

/* Add the prefix text to rl as one entry. */
static void
add(struct rangelist *rl, const char *text)
{
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	const char *why;

	assert_int_equal(prefix_parse(text, strlen(text), &p, &why), 0);
	if (p.family == 4) {
		prefix_range4(&p, &r4);
		rangelist_add4(rl, &r4);
	} else {
		prefix_range6(&p, &r6);
		rangelist_add6(rl, &r6);
	}
}

/* A normalised list of the given entries. */
static void
want_of(struct rangelist *rl, const char **v, size_t n)
{
	size_t i;

	rangelist_init(rl);
	for (i = 0; i < n; i++)
		add(rl, v[i]);
	rangelist_normalise(rl);
}

/* An entry set whose document holds the given entries. */
static void
doc_of(struct entryset *es, const char **v, size_t n)
{
	size_t i;

	entryset_init(es);
	for (i = 0; i < n; i++)
		add(&es->doc, v[i]);
	rangelist_unique(&es->doc);
}

static void
test_issue_examples(void **state)
{
	const char *old1[] = { "1.2.3.4", "5.6.7.0/24" };
	const char *new1[] = { "5.6.7.0/24", "5.6.8.0/24" };
	const char *old2[] = { "5.6.7.0/24" };
	const char *new2[] = { "5.6.7.0/24", "5.6.8.0/24" };
	struct entryset es;
	struct rangelist want, gone;

	(void)state;
	/* [1.2.3.4, 5.6.7.0/24] -> [5.6.7.0/24, 5.6.8.0/24]: 1 of 2. */
	doc_of(&es, old1, 2);
	want_of(&want, new1, 2);
	rangelist_init(&gone);
	assert_int_equal(entryset_count(&es), 2);
	assert_int_equal(guard_uncovered(&es, &want, &gone), 1);
	assert_int_equal(gone.n4, 1);
	assert_int_equal(gone.v4[0].first, 0x01020304);
	rangelist_free(&gone);
	rangelist_free(&want);
	entryset_free(&es);

	/* 5.6.7.0/24 merged into 5.6.7.0-5.6.8.255 removes nothing. */
	doc_of(&es, old2, 1);
	want_of(&want, new2, 2);
	assert_int_equal(want.n4, 1);
	assert_int_equal(guard_uncovered(&es, &want, NULL), 0);
	rangelist_free(&want);
	entryset_free(&es);
}

static void
test_partial_cover_counts(void **state)
{
	const char *old[] = { "5.6.7.0/24", "2a01:4f8::/32" };
	const char *new[] = { "5.6.7.0/25", "2a01:4f8::/33",
	    "2a01:4f8:8000::/33" };
	struct entryset es;
	struct rangelist want;

	(void)state;
	doc_of(&es, old, 2);
	want_of(&want, new, 3);
	/* Half of the /24 goes: the entry stops being covered. */
	assert_int_equal(guard_uncovered(&es, &want, NULL), 1);
	rangelist_free(&want);
	entryset_free(&es);
}

static void
test_age(void **state)
{
	const char *v0[] = { "1.1.1.1", "2.2.2.2", "2a01:4f8::1" };
	const char *v1[] = { "1.1.1.1" };
	struct entryset e0, e1, e2, e3;
	struct rangelist doc1, empty;

	(void)state;
	doc_of(&e0, v0, 3);
	rangelist_init(&doc1);
	add(&doc1, v1[0]);
	entryset_init(&e1);
	guard_age(&e0, &doc1, 2, &e1);
	assert_int_equal(e1.doc.n4, 1);
	assert_int_equal(e1.np4, 1);
	assert_int_equal(e1.p4[0].miss, 1);
	assert_int_equal(e1.np6, 1);
	assert_int_equal(entryset_count(&e1), 3);

	/* Second absence: gone with remove-after 2. */
	entryset_init(&e2);
	guard_age(&e1, &doc1, 2, &e2);
	assert_int_equal(entryset_count(&e2), 1);

	/* remove-after 1 drops at once; a large value keeps counting. */
	entryset_init(&e3);
	guard_age(&e0, &doc1, 1, &e3);
	assert_int_equal(entryset_count(&e3), 1);
	entryset_free(&e3);
	entryset_init(&e3);
	guard_age(&e1, &doc1, 5, &e3);
	assert_int_equal(e3.p4[0].miss, 2);
	entryset_free(&e3);

	/* An entry that comes back is a document entry again. */
	entryset_init(&e3);
	guard_age(&e1, &e0.doc, 2, &e3);
	assert_int_equal(e3.np4 + e3.np6, 0);
	assert_int_equal(e3.doc.n4, 2);
	entryset_free(&e3);

	/* An empty document ages everything. */
	rangelist_init(&empty);
	entryset_init(&e3);
	guard_age(&e0, &empty, 3, &e3);
	assert_int_equal(e3.doc.n4 + e3.doc.n6, 0);
	assert_int_equal(e3.np4 + e3.np6, 3);
	entryset_free(&e3);

	rangelist_free(&doc1);
	entryset_free(&e0);
	entryset_free(&e1);
	entryset_free(&e2);
}

static void
test_hold(void **state)
{
	const char *v0[] = { "1.1.1.1", "2.2.2.2", "3.3.3.3" };
	const char *v1[] = { "9.9.9.9" };
	struct entryset old, cur;
	struct rangelist want;

	(void)state;
	doc_of(&old, v0, 3);
	entryset_init(&cur);
	want_of(&want, v1, 1);
	guard_age(&old, &want, 1, &cur);
	assert_int_equal(entryset_count(&cur), 1);
	assert_int_equal(guard_uncovered(&old, &want, NULL), 3);
	guard_hold(&old, &want, &cur);
	assert_int_equal(cur.np4, 3);
	assert_int_equal(cur.doc.n4, 1);
	/* Held entries stay sorted and carry one absence. */
	assert_int_equal(cur.p4[0].r.first, 0x01010101);
	assert_int_equal(cur.p4[2].miss, 1);
	rangelist_free(&want);
	entryset_free(&old);
	entryset_free(&cur);
}

static void
test_copy_and_append(void **state)
{
	const char *v0[] = { "1.1.1.1", "2a01:4f8::1" };
	struct entryset a, b;
	struct range4 r = { 0x05050505, 0x05050505 };
	struct rangelist all;

	(void)state;
	doc_of(&a, v0, 2);
	entryset_add_pend4(&a, &r, 3);
	entryset_init(&b);
	entryset_copy(&b, &a);
	assert_int_equal(entryset_count(&b), 3);
	assert_int_equal(b.p4[0].miss, 3);
	rangelist_init(&all);
	entryset_append(&all, &b);
	assert_int_equal(all.n4, 2);
	assert_int_equal(all.n6, 1);
	rangelist_free(&all);
	entryset_free(&a);
	entryset_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue_examples),
		cmocka_unit_test(test_partial_cover_counts),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_copy_and_append),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

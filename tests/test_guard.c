/*
 * Unit tests for guard.c: remove-after ageing and the shrink guard's
 * count of entries that stop being covered.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
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

/* A document: the given entries, sorted and unique but not merged. */
static void
doc_list(struct rangelist *rl, const char **v, size_t n)
{
	size_t i;

	rangelist_init(rl);
	for (i = 0; i < n; i++)
		add(rl, v[i]);
	rangelist_unique(rl);
}

/* An entry set whose document holds the given entries. */
static void
doc_of(struct entryset *es, const char **v, size_t n)
{
	struct rangelist rl;
	size_t i;

	doc_list(&rl, v, n);
	entryset_init(es);
	for (i = 0; i < rl.n4; i++)
		entryset_add4(es, &rl.v4[i], 0);
	for (i = 0; i < rl.n6; i++)
		entryset_add6(es, &rl.v6[i], 0);
	entryset_sort(es);
	rangelist_free(&rl);
}

/* The entries of family af (4 or 6) in es that are pending or not. */
static size_t
count(const struct entryset *es, int af, bool pending)
{
	size_t i, n = 0;

	if (af == 4)
		for (i = 0; i < es->n4; i++)
			n += (es->v4[i].miss > 0) == pending;
	else
		for (i = 0; i < es->n6; i++)
			n += (es->v6[i].miss > 0) == pending;
	return n;
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
	struct rangelist doc0, doc1, empty;

	(void)state;
	doc_of(&e0, v0, 3);
	doc_list(&doc0, v0, 3);
	rangelist_init(&doc1);
	add(&doc1, v1[0]);
	entryset_init(&e1);
	guard_age(&e0, &doc1, 2, &e1);
	assert_int_equal(count(&e1, 4, false), 1);
	assert_int_equal(count(&e1, 4, true), 1);
	assert_int_equal(e1.v4[1].miss, 1);	/* 2.2.2.2 */
	assert_int_equal(count(&e1, 6, true), 1);
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
	assert_int_equal(e3.v4[1].miss, 2);
	entryset_free(&e3);

	/* An entry that comes back is a document entry again. */
	entryset_init(&e3);
	guard_age(&e1, &doc0, 2, &e3);
	assert_int_equal(entryset_pending(&e3), 0);
	assert_int_equal(count(&e3, 4, false), 2);
	entryset_free(&e3);

	/* An empty document ages everything. */
	rangelist_init(&empty);
	entryset_init(&e3);
	guard_age(&e0, &empty, 3, &e3);
	assert_int_equal(entryset_count(&e3) - entryset_pending(&e3), 0);
	assert_int_equal(entryset_pending(&e3), 3);
	entryset_free(&e3);

	rangelist_free(&doc0);
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
	assert_int_equal(count(&cur, 4, true), 3);
	assert_int_equal(count(&cur, 4, false), 1);
	/* Held entries stay sorted and carry one absence. */
	assert_int_equal(cur.v4[0].r.first, 0x01010101);
	assert_int_equal(cur.v4[2].miss, 1);
	assert_int_equal(cur.v4[3].miss, 0);	/* 9.9.9.9 */
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
	entryset_add4(&a, &r, 3);
	entryset_sort(&a);
	entryset_init(&b);
	entryset_copy(&b, &a);
	assert_int_equal(entryset_count(&b), 3);
	assert_int_equal(b.v4[1].miss, 3);
	assert_int_equal(entryset_pending(&b), 1);
	rangelist_init(&all);
	entryset_append(&all, &b);
	assert_int_equal(all.n4, 2);
	assert_int_equal(all.n6, 1);
	rangelist_free(&all);
	entryset_free(&a);
	entryset_free(&b);
}

/* Add the prefix text to es with miss absences (es is sorted later). */
static void
put(struct entryset *es, const char *text, unsigned int miss)
{
	struct rangelist rl;

	rangelist_init(&rl);
	add(&rl, text);
	if (rl.n4 == 1)
		entryset_add4(es, &rl.v4[0], miss);
	else
		entryset_add6(es, &rl.v6[0], miss);
	rangelist_free(&rl);
}

/* es as "RANGE=MISS ..." in its order, IPv4 first, into buf. */
static const char *
dump(const struct entryset *es, char *buf, size_t bufsz)
{
	char r[RANGE_STRLEN];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < es->n4 + es->n6; i++) {
		if (i < es->n4)
			range4_format(&es->v4[i].r, r, sizeof(r));
		else
			range6_format(&es->v6[i - es->n4].r, r, sizeof(r));
		len += snprintf(buf + len, bufsz - len, "%s%s=%u",
		    i ? " " : "", r, i < es->n4 ? es->v4[i].miss :
		    es->v6[i - es->n4].miss);
		assert_true(len < bufsz);
	}
	return buf;
}

/*
 * Document and pending entries of both families, added out of order and
 * sorted into one array each; two of them are about to saturate.
 */
static void
interleaved(struct entryset *es)
{
	entryset_init(es);
	put(es, "2001:db8::3", UINT_MAX - 1);
	put(es, "1.0.0.5", 2);
	put(es, "1.0.0.1", 0);
	put(es, "2001:db8::2", 0);
	put(es, "1.0.0.3", UINT_MAX);
	put(es, "1.0.0.4", 0);
	put(es, "2001:db8::1", 3);
	put(es, "1.0.0.2", 1);
	entryset_sort(es);
}

/*
 * guard_age() as one merge: new document entries before, between and
 * after the old ones, pending entries that come back, a miss that
 * saturates instead of wrapping to 0 (which would make it a document
 * entry again), remove-after 1, and a 304 (doc NULL).
 */
static void
test_age_merge(void **state)
{
	const char *d[] = { "1.0.0.6", "2001:db8::4", "1.0.0.2", "1.0.0.0",
	    "2001:db8::2", "1.0.0.4" };
	struct entryset old, out;
	struct rangelist doc;
	char buf[512];

	(void)state;
	interleaved(&old);
	assert_string_equal(dump(&old, buf, sizeof(buf)), "1.0.0.1=0 "
	    "1.0.0.2=1 1.0.0.3=4294967295 1.0.0.4=0 1.0.0.5=2 2001:db8::1=3 "
	    "2001:db8::2=0 2001:db8::3=4294967294");
	assert_int_equal(entryset_pending(&old), 5);
	doc_list(&doc, d, 6);

	entryset_init(&out);
	guard_age(&old, &doc, UINT_MAX, &out);
	assert_string_equal(dump(&out, buf, sizeof(buf)), "1.0.0.0=0 "
	    "1.0.0.1=1 1.0.0.2=0 1.0.0.4=0 1.0.0.5=3 1.0.0.6=0 2001:db8::1=4 "
	    "2001:db8::2=0 2001:db8::4=0");
	entryset_free(&out);

	entryset_init(&out);
	guard_age(&old, &doc, 3, &out);
	assert_string_equal(dump(&out, buf, sizeof(buf)), "1.0.0.0=0 "
	    "1.0.0.1=1 1.0.0.2=0 1.0.0.4=0 1.0.0.6=0 2001:db8::2=0 "
	    "2001:db8::4=0");
	entryset_free(&out);

	/* remove-after 1: only the document is left (0 drops no more). */
	entryset_init(&out);
	guard_age(&old, &doc, 1, &out);
	assert_string_equal(dump(&out, buf, sizeof(buf)), "1.0.0.0=0 "
	    "1.0.0.2=0 1.0.0.4=0 1.0.0.6=0 2001:db8::2=0 2001:db8::4=0");
	entryset_free(&out);
	entryset_init(&out);
	guard_age(&old, &doc, 0, &out);
	assert_int_equal(entryset_count(&out), 6);
	entryset_free(&out);

	/* A 304: old's own document entries are the document. */
	entryset_init(&out);
	guard_age(&old, NULL, 3, &out);
	assert_string_equal(dump(&out, buf, sizeof(buf)), "1.0.0.1=0 "
	    "1.0.0.2=2 1.0.0.4=0 2001:db8::2=0");
	entryset_free(&out);
	entryset_init(&out);
	guard_age(&old, NULL, 1, &out);
	assert_string_equal(dump(&out, buf, sizeof(buf)), "1.0.0.1=0 "
	    "1.0.0.4=0 2001:db8::2=0");
	entryset_free(&out);

	rangelist_free(&doc);
	entryset_free(&old);
}

/*
 * guard_hold() merges the uncovered entries into cur between its own,
 * saturating their miss; an entry cur already holds keeps its miss, so
 * holding twice changes nothing.
 */
static void
test_hold_merge(void **state)
{
	const char *w[] = { "1.0.0.0", "1.0.0.2", "1.0.0.9", "2001:db8::2" };
	const char *held = "1.0.0.0=0 1.0.0.1=1 1.0.0.2=0 "
	    "1.0.0.3=4294967295 1.0.0.4=1 1.0.0.5=3 1.0.0.9=0 2001:db8::1=4 "
	    "2001:db8::2=0 2001:db8::3=4294967295";
	struct entryset old, cur;
	struct rangelist want, gone;
	char buf[512];

	(void)state;
	interleaved(&old);
	doc_of(&cur, w, 4);
	want_of(&want, w, 4);
	rangelist_init(&gone);
	assert_int_equal(guard_uncovered(&old, &want, &gone), 6);
	assert_int_equal(gone.n4, 4);
	assert_int_equal(gone.v4[0].first, 0x01000001);
	assert_int_equal(gone.v4[3].first, 0x01000005);
	assert_int_equal(gone.n6, 2);
	guard_hold(&old, &want, &cur);
	assert_string_equal(dump(&cur, buf, sizeof(buf)), held);
	guard_hold(&old, &want, &cur);
	assert_string_equal(dump(&cur, buf, sizeof(buf)), held);
	rangelist_free(&gone);
	rangelist_free(&want);
	entryset_free(&old);
	entryset_free(&cur);
}

/*
 * guard_uncovered() walks old and want once: entries that share a first
 * address, one that spans a gap of want, one past its end.
 */
static void
test_uncovered_walk(void **state)
{
	const char *o[] = { "9.9.9.9", "1.0.0.0/23", "1.0.1.0/24",
	    "1.0.0.0/24", "1.0.0.0/25" };
	const char *w[] = { "1.0.0.0/25", "1.0.1.0/24" };
	struct entryset old;
	struct rangelist want, gone;

	(void)state;
	doc_of(&old, o, 5);
	want_of(&want, w, 2);
	rangelist_init(&gone);
	assert_int_equal(guard_uncovered(&old, &want, &gone), 3);
	assert_int_equal(gone.n4, 3);
	assert_int_equal(gone.v4[0].last, 0x010000ff);	/* /24 */
	assert_int_equal(gone.v4[1].last, 0x010001ff);	/* /23 */
	assert_int_equal(gone.v4[2].first, 0x09090909);
	rangelist_free(&gone);
	rangelist_free(&want);
	entryset_free(&old);
}

/* A repeated range is kept once, with its smallest miss. */
static void
test_sort_unique(void **state)
{
	struct entryset es;
	char buf[256];

	(void)state;
	entryset_init(&es);
	put(&es, "2001:db8::1", 2);
	put(&es, "1.0.0.1", 3);
	put(&es, "1.0.0.1/32", 0);
	put(&es, "2001:db8::1", 1);
	put(&es, "1.0.0.1", 1);
	entryset_sort(&es);
	assert_string_equal(dump(&es, buf, sizeof(buf)),
	    "1.0.0.1=0 2001:db8::1=1");
	assert_int_equal(entryset_count(&es), 2);
	assert_int_equal(entryset_pending(&es), 1);
	entryset_free(&es);
}

/* A small deterministic generator (an LCG), for test_reference(). */
static unsigned int
rnd(unsigned long long *seed, unsigned int n)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(*seed >> 33) % n;
}

/* A random range within a few addresses, so that ranges collide. */
static void
rnd_range(unsigned long long *seed, struct range4 *r4, struct range6 *r6)
{
	r4->first = rnd(seed, 24);
	r4->last = r4->first + rnd(seed, 3);
	r6->first.hi = r6->last.hi = 0x20010db8ULL << 32;
	r6->first.lo = r4->first;
	r6->last.lo = r4->last;
}

/* True when rl holds r exactly, or (cover) covers it whole: a scan. */
static bool
ref_has4(const struct rangelist *rl, const struct range4 *r, bool cover)
{
	size_t i;

	for (i = 0; i < rl->n4; i++)
		if (cover ? rl->v4[i].first <= r->first &&
		    rl->v4[i].last >= r->last :
		    range4_cmp(&rl->v4[i], r) == 0)
			return true;
	return false;
}

/*
 * The guards against what they did one entry at a time (a search of the
 * document or of want for each entry of old, then a sort), on random sets
 * of both families with colliding ranges and misses about to saturate.
 * The IPv6 ranges mirror the IPv4 ones, so one reference serves both.
 */
static void
test_reference(void **state)
{
	static const unsigned int misses[] = { 0, 0, 1, 2, UINT_MAX - 1,
	    UINT_MAX };
	unsigned long long seed = 1;
	struct entryset old, out, ref;
	struct rangelist doc, want;
	struct range4 r4;
	struct range6 r6;
	unsigned int ra, m;
	size_t i, n, round;
	char got[4096], exp[4096];

	(void)state;
	for (round = 0; round < 2000; round++) {
		entryset_init(&old);
		rangelist_init(&doc);
		n = rnd(&seed, 12);
		for (i = 0; i < n; i++) {
			rnd_range(&seed, &r4, &r6);
			m = misses[rnd(&seed, 6)];
			entryset_add4(&old, &r4, m);
			entryset_add6(&old, &r6, m);
		}
		entryset_sort(&old);
		n = rnd(&seed, 8);
		for (i = 0; i < n; i++) {
			rnd_range(&seed, &r4, &r6);
			rangelist_add4(&doc, &r4);
			rangelist_add6(&doc, &r6);
		}
		rangelist_unique(&doc);
		ra = (unsigned int[]){ 1, 2, 3, UINT_MAX }[rnd(&seed, 4)];

		/* guard_age: doc at miss 0, the rest of old one older. */
		entryset_init(&ref);
		for (i = 0; i < doc.n4; i++) {
			entryset_add4(&ref, &doc.v4[i], 0);
			entryset_add6(&ref, &doc.v6[i], 0);
		}
		for (i = 0; i < old.n4; i++) {
			if (ref_has4(&doc, &old.v4[i].r, false))
				continue;
			m = old.v4[i].miss == UINT_MAX ? UINT_MAX :
			    old.v4[i].miss + 1;
			if (m < ra) {
				entryset_add4(&ref, &old.v4[i].r, m);
				entryset_add6(&ref, &old.v6[i].r, m);
			}
		}
		entryset_sort(&ref);
		entryset_init(&out);
		guard_age(&old, &doc, ra, &out);
		assert_string_equal(dump(&out, got, sizeof(got)),
		    dump(&ref, exp, sizeof(exp)));
		entryset_free(&ref);

		/* A 304: the same as old's own document entries as doc. */
		rangelist_free(&doc);
		rangelist_init(&doc);
		for (i = 0; i < old.n4; i++)
			if (old.v4[i].miss == 0) {
				rangelist_add4(&doc, &old.v4[i].r);
				rangelist_add6(&doc, &old.v6[i].r);
			}
		entryset_init(&ref);
		guard_age(&old, &doc, ra, &ref);
		entryset_free(&out);
		entryset_init(&out);
		guard_age(&old, NULL, ra, &out);
		assert_string_equal(dump(&out, got, sizeof(got)),
		    dump(&ref, exp, sizeof(exp)));
		entryset_free(&ref);

		/* guard_uncovered and guard_hold, want covering out. */
		rangelist_init(&want);
		entryset_append(&want, &out);
		if (rnd(&seed, 2)) {
			rnd_range(&seed, &r4, &r6);
			rangelist_add4(&want, &r4);
			rangelist_add6(&want, &r6);
		}
		rangelist_normalise(&want);
		entryset_init(&ref);
		entryset_copy(&ref, &out);
		for (i = n = 0; i < old.n4; i++) {
			if (ref_has4(&want, &old.v4[i].r, true))
				continue;
			n++;
			m = old.v4[i].miss == UINT_MAX ? UINT_MAX :
			    old.v4[i].miss + 1;
			entryset_add4(&ref, &old.v4[i].r, m);
			entryset_add6(&ref, &old.v6[i].r, m);
		}
		entryset_sort(&ref);
		assert_int_equal(guard_uncovered(&old, &want, NULL), 2 * n);
		guard_hold(&old, &want, &out);
		assert_string_equal(dump(&out, got, sizeof(got)),
		    dump(&ref, exp, sizeof(exp)));
		entryset_free(&ref);
		entryset_free(&out);
		rangelist_free(&want);
		rangelist_free(&doc);
		entryset_free(&old);
	}
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
		cmocka_unit_test(test_age_merge),
		cmocka_unit_test(test_hold_merge),
		cmocka_unit_test(test_uncovered_walk),
		cmocka_unit_test(test_sort_unique),
		cmocka_unit_test(test_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

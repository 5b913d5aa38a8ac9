/*
 * Unit tests for textfast.c: the text form's fast path gives exactly the
 * ranges that parse_text() and validate_entries() give, and gives up,
 * leaving its output alone, wherever they would say a word.
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
#include "textfast.h"

static const struct policy defaults = {
	.min_prefix4 = DEFAULT_MIN_PREFIX4,
	.min_prefix6 = DEFAULT_MIN_PREFIX6,
	.decide = { DEC_REJECT, DEC_REJECT, DEC_REJECT },
	.max_entries = 100000,
	.want4 = true,
	.want6 = true,
};

/* A growing document. */
struct doc {
	char	*p;
	size_t	 len, cap;
};

static void
put(struct doc *d, const char *s)
{
	size_t n = strlen(s);

	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->p = realloc(d->p, d->cap);
		assert_non_null(d->p);
	}
	memcpy(d->p + d->len, s, n + 1);
	d->len += n;
}

/*
 * A plain document of about 200 KB: IPv4 and IPv6 entries, some twice,
 * out of order, with blank lines, comments, spaces, a BOM and no final
 * newline.
 */
static void
make_doc(struct doc *d)
{
	char line[96];
	unsigned int i;

	memset(d, 0, sizeof(*d));
	put(d, "\xef\xbb\xbf# a vendor list\n");
	for (i = 0; i < 12000; i++) {
		switch (i % 6) {
		case 0:
			snprintf(line, sizeof(line), "%u.%u.%u.0/24\n",
			    20 + i % 150, (i * 7) % 256, i / 256);
			break;
		case 1:
			snprintf(line, sizeof(line), "  %u.1.%u.%u  # host\n",
			    30 + i % 90, i % 200, i % 250 + 1);
			break;
		case 2:
			snprintf(line, sizeof(line), "2a00:%x:%x::/48\n",
			    i % 4096, i);
			break;
		case 3:
			snprintf(line, sizeof(line), "\n# %u\n", i);
			break;
		case 4:
			snprintf(line, sizeof(line), "2001:4860:%x::1 \n",
			    i);
			break;
		default:
			snprintf(line, sizeof(line), "41.%u.0.0/16\n",
			    i % 256);
		}
		put(d, line);
	}
	put(d, "9.9.9.9");
	assert_true(d->len >= TEXT_FAST_MIN);
}

/* The ranges the usual path gives for d under pol, into out. */
static void
usual(const struct doc *d, const struct policy *pol, struct rangelist *out)
{
	struct entrylist el;
	struct validation v;

	assert_int_equal(parse_text(d->p, d->len, "t", &el), AS_OK);
	assert_int_equal(validate_entries(&el, "t", pol, out, &v), AS_OK);
	entrylist_free(&el);
}

static void
assert_same(const struct rangelist *a, const struct rangelist *b)
{
	assert_int_equal(a->n4, b->n4);
	assert_int_equal(a->n6, b->n6);
	assert_memory_equal(a->v4, b->v4, a->n4 * sizeof(*a->v4));
	assert_memory_equal(a->v6, b->v6, a->n6 * sizeof(*a->v6));
}

/* A good document: the same ranges in the same order, after a start. */
static void
test_same_ranges(void **state)
{
	struct range4 first = { 0x01020304, 0x01020304 };
	struct rangelist fast, slow;
	struct doc d;

	(void)state;
	make_doc(&d);
	rangelist_init(&fast);
	rangelist_init(&slow);
	rangelist_add4(&fast, &first);
	rangelist_add4(&slow, &first);
	assert_true(text_ranges(d.p, d.len, &defaults, &fast));
	usual(&d, &defaults, &slow);
	assert_true(fast.n4 > 6000 && fast.n6 > 3000);
	assert_same(&fast, &slow);
	rangelist_free(&fast);
	rangelist_free(&slow);
	free(d.p);
}

/* d: good with s put in at (bytes from its end; from its start if < 0). */
static void
spoil(struct doc *d, const struct doc *good, long at, const char *s)
{
	size_t pos = at >= 0 ? good->len - (size_t)at : (size_t)-at;
	size_t n = strlen(s);

	d->len = good->len + n;
	d->cap = d->len + 1;
	d->p = malloc(d->cap);
	assert_non_null(d->p);
	memcpy(d->p, good->p, pos);
	memcpy(d->p + pos, s, n);
	memcpy(d->p + pos + n, good->p + pos, good->len - pos + 1);
}

/*
 * Every document the usual path would take with a word (or refuse) is
 * left to it, at the start, the middle or the end, and out is untouched.
 */
static void
test_gives_up(void **state)
{
	static const struct {
		long		 at;
		const char	*s;
	} bad[] = {
		{ 0, "\n10.0.0.0/8" },		/* private: refused */
		{ -8, "\t" },			/* a tab in a comment */
		{ -9, "\r" },			/* a carriage return */
		{ -10, "\x7f" },		/* DEL */
		{ -11, "<" },			/* HTML, maybe */
		{ -30, "\t" },			/* a tab before an entry */
		{ 0, "\n0.0.0.0/0" },		/* /0 */
		{ 0, "\n1.2.3.4/33" },		/* malformed */
		{ -30, "\n1.2.3.4x\n" },	/* malformed, early */
		{ 100000, "\n2001:db8::/32\n" },	/* documentation */
		{ 0, "\n<html>" },		/* not a list */
		{ 0, "\n\xc3\xa9" },		/* non-ASCII */
		{ 0, "\n1.0.0.0/4" },		/* wider than min-prefix4 */
	};
	struct range4 first = { 0x01020304, 0x01020304 };
	struct rangelist out;
	struct doc good, d;
	size_t i;

	(void)state;
	make_doc(&good);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spoil(&d, &good, bad[i].at, bad[i].s);
		rangelist_init(&out);
		rangelist_add4(&out, &first);
		if (text_ranges(d.p, d.len, &defaults, &out))
			fail_msg("took spoiled document #%zu", i);
		assert_int_equal(out.n4, 1);
		assert_int_equal(out.n6, 0);
		rangelist_free(&out);
		free(d.p);
	}
	free(good.p);
}

/*
 * The policy's own limits: a family it does not want, max-entries, a
 * line over the limit, a document with no entries, a small document.
 */
static void
test_policy_limits(void **state)
{
	struct policy pol;
	struct rangelist out;
	struct doc good, d;
	size_t n;

	(void)state;
	make_doc(&good);
	rangelist_init(&out);
	pol = defaults;
	pol.want6 = false;
	assert_false(text_ranges(good.p, good.len, &pol, &out));
	pol = defaults;
	usual(&good, &pol, &out);
	n = out.n4 + out.n6;	/* every entry is a range of its own */
	rangelist_free(&out);
	pol.max_entries = n - 1;
	assert_false(text_ranges(good.p, good.len, &pol, &out));
	pol.max_entries = n;
	assert_true(text_ranges(good.p, good.len, &pol, &out));
	rangelist_free(&out);
	assert_false(text_ranges(good.p, TEXT_FAST_MIN - 100, &defaults,
	    &out));
	memset(&d, 0, sizeof(d));
	put(&d, "1.2.3.4\n");
	for (n = 0; n < 300; n++)
		put(&d, " ");
	put(&d, "\n");
	while (d.len < TEXT_FAST_MIN)
		put(&d, "5.6.7.8\n");
	assert_false(text_ranges(d.p, d.len, &defaults, &out));
	d.len = 0;
	while (d.len < TEXT_FAST_MIN)
		put(&d, "# nothing but comments\n");
	assert_false(text_ranges(d.p, d.len, &defaults, &out));
	assert_int_equal(out.n4 + out.n6, 0);
	free(d.p);
	free(good.p);
}

/*
 * A list in order (nft's best case, sorted /24s) comes out in order, so
 * that rangelist_unique() has nothing to sort: the chunks' ranges are
 * joined in document order, whichever thread read them.
 */
static void
test_sorted_stays(void **state)
{
	struct rangelist fast;
	struct doc d = { NULL, 0, 0 };
	char line[32];
	unsigned int i;

	(void)state;
	for (i = 0; i < 30000; i++) {
		snprintf(line, sizeof(line), "%u.%u.%u.0/24\n", 20 + i / 65536,
		    i / 256 % 256, i % 256);
		put(&d, line);
	}
	rangelist_init(&fast);
	assert_true(text_ranges(d.p, d.len, &defaults, &fast));
	assert_int_equal(fast.n4, 30000);
	for (i = 1; i < fast.n4; i++)
		assert_true(range4_cmp(&fast.v4[i - 1], &fast.v4[i]) < 0);
	rangelist_free(&fast);
	free(d.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_ranges),
		cmocka_unit_test(test_gives_up),
		cmocka_unit_test(test_policy_limits),
		cmocka_unit_test(test_sorted_stays),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * libFuzzer target: rangelist_normalise() and diff_ranges() against a
 * naive reference.
 *
 * The input is a list of 5-byte records, each one range inside one of
 * three windows of WINDOW addresses per family: at the bottom of the
 * address space, in the middle (for IPv6 across the 64-bit carry) and at
 * the very top, where last + 1 would wrap.  A bitmap per window is the
 * reference: the normalised list must be sorted, without overlaps or
 * adjacencies, and cover exactly the union of the inputs.  Normalising
 * must be idempotent and must not depend on how the input was split and
 * appended.  The plan from the first half to the second must turn one
 * into the other.
 */
#include <string.h>

#include "fuzz.h"

#define WINDOW		1024	/* addresses per window */
#define NWINDOWS	3
#define RECORD		5	/* bytes per input range */

/* The windows, bottom to top; none touches another. */
static const uint32_t window4[NWINDOWS] = {
	0x00000000, 0x0a000000, UINT32_MAX - (WINDOW - 1)
};
static const struct u128 window6[NWINDOWS] = {
	{ 0, 0 },
	{ 0, UINT64_MAX - (WINDOW / 2 - 1) },
	{ UINT64_MAX, UINT64_MAX - (WINDOW - 1) },
};

/* Which addresses of each window a list covers. */
struct cover {
	uint8_t	v4[NWINDOWS][WINDOW];
	uint8_t	v6[NWINDOWS][WINDOW];
};

/* libFuzzer calls this once before the first input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* a + off. */
static struct u128
u128_add(struct u128 a, uint64_t off)
{
	a.lo += off;
	if (a.lo < off)
		a.hi++;
	return a;
}

/* The window an IPv4 range lies in, with its offsets; aborts if none. */
static size_t
locate4(const struct range4 *r, size_t *first, size_t *last)
{
	size_t w;

	for (w = 0; w < NWINDOWS; w++) {
		if (r->first >= window4[w] &&
		    r->last - window4[w] < WINDOW && r->last >= r->first) {
			*first = r->first - window4[w];
			*last = r->last - window4[w];
			return w;
		}
	}
	fuzz_fail("IPv4 range outside every input window");
}

/* As locate4(), for IPv6. */
static size_t
locate6(const struct range6 *r, size_t *first, size_t *last)
{
	struct u128 end;
	size_t w;

	for (w = 0; w < NWINDOWS; w++) {
		end = u128_add(window6[w], WINDOW - 1);
		if (u128_cmp(r->first, window6[w]) < 0 ||
		    u128_cmp(r->last, end) > 0 ||
		    u128_cmp(r->first, r->last) > 0)
			continue;
		/* Both differences are below WINDOW: the low words suffice. */
		*first = (size_t)(r->first.lo - window6[w].lo);
		*last = (size_t)(r->last.lo - window6[w].lo);
		return w;
	}
	fuzz_fail("IPv6 range outside every input window");
}

/* Mark what rl covers in c. */
static void
cover_add(struct cover *c, const struct rangelist *rl)
{
	size_t i, w, f, l;

	for (i = 0; i < rl->n4; i++) {
		w = locate4(&rl->v4[i], &f, &l);
		memset(&c->v4[w][f], 1, l - f + 1);
	}
	for (i = 0; i < rl->n6; i++) {
		w = locate6(&rl->v6[i], &f, &l);
		memset(&c->v6[w][f], 1, l - f + 1);
	}
}

/* Turn one input record into a range of rl. */
static void
record_add(struct rangelist *rl, const uint8_t *b)
{
	unsigned int w = (b[0] >> 1) & 3, f, l, t;
	struct range4 r4;
	struct range6 r6;

	if (w >= NWINDOWS)
		w = 1;
	f = ((unsigned int)b[1] << 8 | b[2]) % WINDOW;
	l = ((unsigned int)b[3] << 8 | b[4]) % WINDOW;
	if (f > l) {
		t = f;
		f = l;
		l = t;
	}
	if (b[0] & 1) {
		r6.first = u128_add(window6[w], f);
		r6.last = u128_add(window6[w], l);
		rangelist_add6(rl, &r6);
	} else {
		r4.first = window4[w] + f;
		r4.last = window4[w] + l;
		rangelist_add4(rl, &r4);
	}
}

/* Copy src into a fresh list dst. */
static void
rangelist_copy(struct rangelist *dst, const struct rangelist *src)
{
	rangelist_init(dst);
	rangelist_append(dst, src);
}

/* True when r is one of the ranges of rl (exactly). */
static int
has4(const struct rangelist *rl, const struct range4 *r)
{
	size_t i;

	for (i = 0; i < rl->n4; i++)
		if (rl->v4[i].first == r->first && rl->v4[i].last == r->last)
			return 1;
	return 0;
}

/* As has4(), for IPv6. */
static int
has6(const struct rangelist *rl, const struct range6 *r)
{
	size_t i;

	for (i = 0; i < rl->n6; i++)
		if (u128_cmp(rl->v6[i].first, r->first) == 0 &&
		    u128_cmp(rl->v6[i].last, r->last) == 0)
			return 1;
	return 0;
}

/*
 * Check the plan from have to want (both normalised): it deletes only
 * ranges have holds and want does not, adds only ranges want holds and
 * have does not, and applying it leaves exactly want.
 */
static void
check_plan(const struct rangelist *want, const struct rangelist *have)
{
	static struct cover got, ref;
	struct rangelist kept;
	struct plan pl;
	size_t i;

	plan_init(&pl);
	diff_ranges(want, have, &pl);
	rangelist_init(&kept);
	for (i = 0; i < pl.del.n4; i++)
		if (!has4(have, &pl.del.v4[i]) || has4(want, &pl.del.v4[i]))
			fuzz_fail("plan deletes a wrong IPv4 range");
	for (i = 0; i < pl.add.n4; i++)
		if (has4(have, &pl.add.v4[i]) || !has4(want, &pl.add.v4[i]))
			fuzz_fail("plan adds a wrong IPv4 range");
	for (i = 0; i < pl.del.n6; i++)
		if (!has6(have, &pl.del.v6[i]) || has6(want, &pl.del.v6[i]))
			fuzz_fail("plan deletes a wrong IPv6 range");
	for (i = 0; i < pl.add.n6; i++)
		if (has6(have, &pl.add.v6[i]) || !has6(want, &pl.add.v6[i]))
			fuzz_fail("plan adds a wrong IPv6 range");
	for (i = 0; i < have->n4; i++)
		if (!has4(&pl.del, &have->v4[i]))
			rangelist_add4(&kept, &have->v4[i]);
	for (i = 0; i < have->n6; i++)
		if (!has6(&pl.del, &have->v6[i]))
			rangelist_add6(&kept, &have->v6[i]);
	if (kept.n4 + pl.add.n4 != want->n4 || kept.n6 + pl.add.n6 != want->n6)
		fuzz_fail("plan leaves the wrong number of ranges");
	if (plan_empty(&pl) != rangelist_equal(want, have))
		fuzz_fail("empty plan and equal lists disagree");
	memset(&got, 0, sizeof(got));
	memset(&ref, 0, sizeof(ref));
	cover_add(&got, &kept);
	cover_add(&got, &pl.add);
	cover_add(&ref, want);
	if (memcmp(&got, &ref, sizeof(got)) != 0)
		fuzz_fail("applying the plan does not give the wanted set");
	rangelist_free(&kept);
	plan_free(&pl);
}

/* One input: build, normalise and compare with the reference. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cover got, ref;
	struct rangelist all, a, b, again;
	size_t i, n = size / RECORD;

	rangelist_init(&all);
	rangelist_init(&a);
	rangelist_init(&b);
	for (i = 0; i < n; i++) {
		record_add(&all, data + i * RECORD);
		record_add(i < n / 2 ? &a : &b, data + i * RECORD);
	}
	memset(&ref, 0, sizeof(ref));
	cover_add(&ref, &all);

	rangelist_normalise(&all);
	fuzz_check_normalised(&all);
	memset(&got, 0, sizeof(got));
	cover_add(&got, &all);
	if (memcmp(&got, &ref, sizeof(got)) != 0)
		fuzz_fail("normalised list does not cover the input exactly");

	rangelist_copy(&again, &all);
	rangelist_normalise(&again);
	if (!rangelist_equal(&again, &all))
		fuzz_fail("normalising twice changed the list");
	rangelist_free(&again);

	rangelist_normalise(&a);
	rangelist_normalise(&b);
	fuzz_check_normalised(&a);
	fuzz_check_normalised(&b);
	check_plan(&a, &b);
	check_plan(&b, &a);
	rangelist_copy(&again, &a);
	rangelist_append(&again, &b);
	rangelist_normalise(&again);
	if (!rangelist_equal(&again, &all))
		fuzz_fail("normalising in two parts gives another list");

	rangelist_free(&again);
	rangelist_free(&all);
	rangelist_free(&a);
	rangelist_free(&b);
	return 0;
}

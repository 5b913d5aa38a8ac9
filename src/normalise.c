/*
 * Range lists: growing arrays of IPv4 and IPv6 ranges, and the one pass
 * that turns whatever the documents said into the sorted, merged form the
 * kernel's interval sets hold.
 */
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

#define RANGELIST_FIRST_CAP	16

/* Make room for more elements in *v (of *cap): grows by doubling. */
static void *
grow(void *v, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap == 0 ? RANGELIST_FIRST_CAP : *cap;

	if (need <= *cap)
		return v;
	while (c < need) {
		if (c > SIZE_MAX / 2)
			c = need;
		else
			c *= 2;
	}
	*cap = c;
	return xreallocarray(v, c, size);
}

/* An empty list that owns nothing yet. */
void
rangelist_init(struct rangelist *rl)
{
	memset(rl, 0, sizeof(*rl));
}

/* Free both arrays; the list is empty and reusable afterwards. */
void
rangelist_free(struct rangelist *rl)
{
	free(rl->v4);
	free(rl->v6);
	free(rl->note4);
	free(rl->note6);
	rangelist_init(rl);
}

/* Keep the notes (if any) as long as the ranges' arrays. */
static void
notes_fit(struct rangelist *rl)
{
	if (rl->note4 != NULL)
		rl->note4 = xreallocarray(rl->note4, rl->cap4 > 0 ? rl->cap4 :
		    1, sizeof(*rl->note4));
	if (rl->note6 != NULL)
		rl->note6 = xreallocarray(rl->note6, rl->cap6 > 0 ? rl->cap6 :
		    1, sizeof(*rl->note6));
}

/* Append a copy of *r. */
void
rangelist_add4(struct rangelist *rl, const struct range4 *r)
{
	size_t cap = rl->cap4;

	rl->v4 = grow(rl->v4, &rl->cap4, rl->n4 + 1, sizeof(*rl->v4));
	if (rl->cap4 != cap)
		notes_fit(rl);
	if (rl->note4 != NULL)
		rl->note4[rl->n4] = 0;
	rl->v4[rl->n4++] = *r;
}

/* Append a copy of *r. */
void
rangelist_add6(struct rangelist *rl, const struct range6 *r)
{
	size_t cap = rl->cap6;

	rl->v6 = grow(rl->v6, &rl->cap6, rl->n6 + 1, sizeof(*rl->v6));
	if (rl->cap6 != cap)
		notes_fit(rl);
	if (rl->note6 != NULL)
		rl->note6[rl->n6] = 0;
	rl->v6[rl->n6++] = *r;
}

/* Append the notes of n ranges of src (0 when it has none) at dst's end. */
static void
notes_copy(uint16_t *dst, const uint16_t *src, size_t n)
{
	if (dst == NULL)
		return;
	if (src != NULL)
		memcpy(dst, src, n * sizeof(*src));
	else
		memset(dst, 0, n * sizeof(*dst));
}

/* See allowsync.h.  src is left as it was; its notes go along. */
void
rangelist_append(struct rangelist *dst, const struct rangelist *src)
{
	if (src->n4 > 0) {
		dst->v4 = grow(dst->v4, &dst->cap4, dst->n4 + src->n4,
		    sizeof(*dst->v4));
		notes_fit(dst);
		memcpy(dst->v4 + dst->n4, src->v4, src->n4 * sizeof(*src->v4));
		notes_copy(dst->note4 ? dst->note4 + dst->n4 : NULL,
		    src->note4, src->n4);
		dst->n4 += src->n4;
	}
	if (src->n6 > 0) {
		dst->v6 = grow(dst->v6, &dst->cap6, dst->n6 + src->n6,
		    sizeof(*dst->v6));
		notes_fit(dst);
		memcpy(dst->v6 + dst->n6, src->v6, src->n6 * sizeof(*src->v6));
		notes_copy(dst->note6 ? dst->note6 + dst->n6 : NULL,
		    src->note6, src->n6);
		dst->n6 += src->n6;
	}
}

/* See allowsync.h. */
void
rangelist_notes_on(struct rangelist *rl)
{
	if (rl->note4 == NULL)
		rl->note4 = xcalloc(rl->cap4 > 0 ? rl->cap4 : 1,
		    sizeof(*rl->note4));
	if (rl->note6 == NULL)
		rl->note6 = xcalloc(rl->cap6 > 0 ? rl->cap6 : 1,
		    sizeof(*rl->note6));
}

/* See allowsync.h. */
void
rangelist_notes_off(struct rangelist *rl)
{
	free(rl->note4);
	free(rl->note6);
	rl->note4 = rl->note6 = NULL;
}

/* See allowsync.h. */
uint16_t
rangelist_note(const struct rangelist *rl, int af, size_t i)
{
	const uint16_t *n = af == 4 ? rl->note4 : rl->note6;

	return n != NULL ? n[i] : 0;
}

/* See allowsync.h. */
void
rangelist_set_note(struct rangelist *rl, int af, size_t i, uint16_t note)
{
	(af == 4 ? rl->note4 : rl->note6)[i] = note;
}

/* qsort(3) order for IPv4 ranges: by first, then by last. */
int
range4_cmp(const void *a, const void *b)
{
	const struct range4 *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return 0;
}

/* qsort(3) order for IPv6 ranges: by first, then by last. */
int
range6_cmp(const void *a, const void *b)
{
	const struct range6 *x = a, *y = b;
	int c;

	if ((c = u128_cmp(x->first, y->first)) != 0)
		return c;
	return u128_cmp(x->last, y->last);
}

#define RADIX_MIN	4096	/* below this, qsort is as fast */

/* The sort key of an IPv4 range: first, then last. */
static inline uint64_t
key4(const struct range4 *r)
{
	return (uint64_t)r->first << 32 | r->last;
}

#define RADIX_BITS	11		/* a digit: the counts fit in L1 */
#define RADIX_PASSES	6		/* 6 x 11 bits cover a 64-bit key */

/* Digit p (of RADIX_BITS bits, the lowest first) of k from bit low. */
static inline size_t
digit(uint64_t k, unsigned int low, unsigned int p)
{
	return (size_t)(k >> low >> (p * RADIX_BITS) &
	    ((1U << RADIX_BITS) - 1));
}

/*
 * Sort key[0..n), and idx[0..n) along with it unless NULL, on the key's
 * bits from low up, by an LSD radix sort, 11 bits a pass: several times
 * faster than qsort(3) with a comparison function for a million ranges.
 * Stable: keys equal in those bits keep their order.  The counts of every
 * pass are taken in one read, and a pass whose digit is the same in every
 * key is skipped.  (16-bit digits were slower: 65536 counters and as many
 * write streams miss the caches.)
 */
static void
radix64(uint64_t *key, uint32_t *idx, size_t n, unsigned int low)
{
	uint64_t *kt = xreallocarray(NULL, n, sizeof(*kt)), *ks = key,
	    *kd = kt, *t;
	uint32_t *it = idx != NULL ? xreallocarray(NULL, n, sizeof(*it)) :
	    NULL, *is = idx, *id = it, *u;
	size_t *count, *c, i, sum, k, pos;
	unsigned int p;

	unsigned int passes = (64 - low + RADIX_BITS - 1) / RADIX_BITS;

	count = xcalloc((size_t)RADIX_PASSES << RADIX_BITS, sizeof(*count));
	for (i = 0; i < n; i++)
		for (p = 0; p < passes; p++)
			count[(size_t)p << RADIX_BITS |
			    digit(key[i], low, p)]++;
	for (p = 0; p < passes; p++) {
		c = count + ((size_t)p << RADIX_BITS);
		if (c[digit(ks[0], low, p)] == n)
			continue;	/* one digit for all: order stands */
		for (sum = 0, k = 0; k < (size_t)1 << RADIX_BITS; k++) {
			pos = c[k];
			c[k] = sum;
			sum += pos;
		}
		for (i = 0; i < n; i++) {
			pos = c[digit(ks[i], low, p)]++;
			kd[pos] = ks[i];
			if (is != NULL)
				id[pos] = is[i];
		}
		t = ks;
		ks = kd;
		kd = t;
		u = is;
		is = id;
		id = u;
	}
	if (ks != key) {
		memcpy(key, ks, n * sizeof(*key));
		if (idx != NULL)
			memcpy(idx, is, n * sizeof(*idx));
	}
	free(count);
	free(kt);
	free(it);
}

/* qsort(3) order of two 64-bit keys. */
static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sort IPv4 ranges in range4_cmp() order: a list already in order is
 * left alone after one pass; a big one is radix-sorted on its first
 * address (the top half of its 64-bit key: three passes, not six), and
 * each run of ranges that start together then on its last.
 */
static void
sort4(struct range4 *v, size_t n)
{
	uint64_t *key, k;
	size_t i, j, m, q;

	for (i = 1; i < n && key4(&v[i - 1]) <= key4(&v[i]); i++)
		;
	if (i >= n)
		return;
	if (n < RADIX_MIN) {
		qsort(v, n, sizeof(*v), range4_cmp);
		return;
	}
	key = xreallocarray(NULL, n, sizeof(*key));
	for (i = 0; i < n; i++)
		key[i] = key4(&v[i]);
	radix64(key, NULL, n, 32);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && key[j] >> 32 == key[i] >> 32; j++)
			;
		if (j - i > 16) {
			qsort(key + i, j - i, sizeof(*key), u64_cmp);
			continue;
		}
		for (m = i + 1; m < j; m++) {	/* insertion, for a few */
			k = key[m];
			for (q = m; q > i && key[q - 1] > k; q--)
				key[q] = key[q - 1];
			key[q] = k;
		}
	}
	for (i = 0; i < n; i++) {
		v[i].first = (uint32_t)(key[i] >> 32);
		v[i].last = (uint32_t)key[i];
	}
	free(key);
}

/*
 * Sort IPv6 ranges in range6_cmp() order: a list already in order is
 * left alone; a big one is radix-sorted on the top 64 bits of first
 * (where a /64 or wider prefix takes its place), and each run of ranges
 * that tie there is then put in order by qsort(3).
 */
static void
sort6(struct range6 *v, size_t n)
{
	struct range6 *out;
	uint64_t *key;
	uint32_t *idx;
	size_t i, j;

	for (i = 1; i < n && range6_cmp(&v[i - 1], &v[i]) <= 0; i++)
		;
	if (i >= n)
		return;
	if (n < RADIX_MIN || n > UINT32_MAX) {
		qsort(v, n, sizeof(*v), range6_cmp);
		return;
	}
	key = xreallocarray(NULL, n, sizeof(*key));
	idx = xreallocarray(NULL, n, sizeof(*idx));
	for (i = 0; i < n; i++) {
		key[i] = v[i].first.hi;
		idx[i] = (uint32_t)i;
	}
	radix64(key, idx, n, 0);
	out = xreallocarray(NULL, n, sizeof(*out));
	for (i = 0; i < n; i++)
		out[i] = v[idx[i]];
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && key[j] == key[i]; j++)
			;
		if (j - i > 1)
			qsort(out + i, j - i, sizeof(*out), range6_cmp);
	}
	memcpy(v, out, n * sizeof(*v));
	free(out);
	free(idx);
	free(key);
}

/*
 * True when next starts inside prev or right after it.  prev->last + 1
 * is never computed for the top address, where it would wrap to 0.
 */
static int
touches4(const struct range4 *prev, const struct range4 *next)
{
	return prev->last == UINT32_MAX || next->first <= prev->last + 1;
}

/* As touches4(), for IPv6. */
static int
touches6(const struct range6 *prev, const struct range6 *next)
{
	struct u128 after = prev->last;

	if (after.lo == UINT64_MAX && after.hi == UINT64_MAX)
		return 1;
	if (++after.lo == 0)
		after.hi++;
	return u128_cmp(next->first, after) <= 0;
}

/*
 * Sort v[0..*n) and merge it in place; *n becomes the merged count.
 * Sorting puts every range after all those that start before it, so one
 * pass that extends the last kept range merges all overlaps and
 * adjacencies.
 */
static void
merge4(struct range4 *v, size_t *n)
{
	size_t i, j;

	if (*n < 2)
		return;
	sort4(v, *n);
	for (i = 1, j = 0; i < *n; i++) {
		if (!touches4(&v[j], &v[i]))
			v[++j] = v[i];
		else if (v[i].last > v[j].last)
			v[j].last = v[i].last;
	}
	*n = j + 1;
}

/* As merge4(), for IPv6. */
static void
merge6(struct range6 *v, size_t *n)
{
	size_t i, j;

	if (*n < 2)
		return;
	sort6(v, *n);
	for (i = 1, j = 0; i < *n; i++) {
		if (!touches6(&v[j], &v[i]))
			v[++j] = v[i];
		else if (u128_cmp(v[i].last, v[j].last) > 0)
			v[j].last = v[i].last;
	}
	*n = j + 1;
}

/* See allowsync.h. */
void
rangelist_normalise(struct rangelist *rl)
{
	rangelist_notes_off(rl);
	merge4(rl->v4, &rl->n4);
	merge6(rl->v6, &rl->n6);
}

/* See allowsync.h. */
bool
rangelist_equal(const struct rangelist *a, const struct rangelist *b)
{
	size_t i;

	if (a->n4 != b->n4 || a->n6 != b->n6)
		return false;
	for (i = 0; i < a->n4; i++)
		if (range4_cmp(&a->v4[i], &b->v4[i]) != 0)
			return false;
	for (i = 0; i < a->n6; i++)
		if (range6_cmp(&a->v6[i], &b->v6[i]) != 0)
			return false;
	return true;
}

/*
 * Sort each family and drop exact duplicates, without merging: the
 * entries of a document stay countable one by one.
 */
void
rangelist_unique(struct rangelist *rl)
{
	size_t i, n;

	rangelist_notes_off(rl);
	sort4(rl->v4, rl->n4);
	for (i = n = 0; i < rl->n4; i++)
		if (n == 0 || range4_cmp(&rl->v4[n - 1], &rl->v4[i]) != 0)
			rl->v4[n++] = rl->v4[i];
	rl->n4 = n;
	sort6(rl->v6, rl->n6);
	for (i = n = 0; i < rl->n6; i++)
		if (n == 0 || range6_cmp(&rl->v6[n - 1], &rl->v6[i]) != 0)
			rl->v6[n++] = rl->v6[i];
	rl->n6 = n;
}

/*
 * One step of the digest: the word folded in, then mixed through
 * splitmix64's finaliser, a bijection in which every input bit moves
 * about half of the output bits.  (A bare multiply, as FNV does, leaves
 * the top bit of a word to the top bit alone: flipping it in two words
 * cancels out, and 2a01::/16 and aa01::/16 would read as one list.)
 */
static uint64_t
mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/*
 * A 64-bit digest of the ranges (counts included), to recognise a list
 * without keeping a copy of it, taken a word at a time.  It tells our own
 * lists apart; it is not a defence against a list made to collide.
 */
uint64_t
rangelist_digest(const struct rangelist *rl)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	h = mix(mix(h, rl->n4), rl->n6);
	for (i = 0; i < rl->n4; i++)
		h = mix(h, (uint64_t)rl->v4[i].first << 32 | rl->v4[i].last);
	for (i = 0; i < rl->n6; i++) {
		h = mix(mix(h, rl->v6[i].first.hi), rl->v6[i].first.lo);
		h = mix(mix(h, rl->v6[i].last.hi), rl->v6[i].last.lo);
	}
	return h;
}

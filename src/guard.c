/*
 * The safety guards, as pure functions over entry sets:
 *
 * - remove-after: an entry that leaves the vendor's list stays until it
 *   has been absent from remove-after accepted fetches in a row;
 * - the shrink guard: entries of the previously accepted lists that the
 *   new list would stop covering are counted, and can be held back.
 *
 * Both count entries (the prefixes the vendor wrote), never the merged
 * set records: replacing 5.6.7.0/24 by a merged 5.6.7.0-5.6.8.255 removes
 * nothing.  Every array involved is sorted, so each guard is one merge
 * pass per family.  No I/O.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

/* Initialise an empty entry set. */
void
entryset_init(struct entryset *es)
{
	memset(es, 0, sizeof(*es));
}

/* Free an entry set's arrays and leave it empty. */
void
entryset_free(struct entryset *es)
{
	free(es->v4);
	free(es->v6);
	entryset_init(es);
}

/* See allowsync.h. */
void
entryset_add4(struct entryset *es, const struct range4 *r, unsigned int miss)
{
	if (es->n4 == es->cap4) {
		es->cap4 = es->cap4 ? es->cap4 * 2 : 16;
		es->v4 = xreallocarray(es->v4, es->cap4, sizeof(*es->v4));
	}
	es->v4[es->n4].r = *r;
	es->v4[es->n4++].miss = miss;
}

/* See allowsync.h. */
void
entryset_add6(struct entryset *es, const struct range6 *r, unsigned int miss)
{
	if (es->n6 == es->cap6) {
		es->cap6 = es->cap6 ? es->cap6 * 2 : 16;
		es->v6 = xreallocarray(es->v6, es->cap6, sizeof(*es->v6));
	}
	es->v6[es->n6].r = *r;
	es->v6[es->n6++].miss = miss;
}

/* qsort(3) orders: by range, then by miss. */
static int
entry4_cmp(const void *a, const void *b)
{
	const struct entry4 *x = a, *y = b;
	int c;

	if ((c = range4_cmp(&x->r, &y->r)) != 0)
		return c;
	return x->miss < y->miss ? -1 : x->miss > y->miss;
}

static int
entry6_cmp(const void *a, const void *b)
{
	const struct entry6 *x = a, *y = b;
	int c;

	if ((c = range6_cmp(&x->r, &y->r)) != 0)
		return c;
	return x->miss < y->miss ? -1 : x->miss > y->miss;
}

/*
 * True when the n entries of v (each elsz bytes) are already in cmp's
 * order, as those of a state file this program wrote are: a check is
 * one pass, a sort of a million entries a tenth of a second.
 */
static bool
in_order(const void *v, size_t n, size_t elsz,
    int (*cmp)(const void *, const void *))
{
	const char *p = v;
	size_t i;

	for (i = 1; i < n; i++)
		if (cmp(p + (i - 1) * elsz, p + i * elsz) > 0)
			return false;
	return true;
}

/* See allowsync.h.  The smallest miss of a range sorts first. */
void
entryset_sort(struct entryset *es)
{
	size_t i, n;

	if (!in_order(es->v4, es->n4, sizeof(*es->v4), entry4_cmp))
		xqsort(es->v4, es->n4, sizeof(*es->v4), entry4_cmp);
	for (i = n = 0; i < es->n4; i++)
		if (n == 0 || range4_cmp(&es->v4[n - 1].r, &es->v4[i].r) != 0)
			es->v4[n++] = es->v4[i];
	es->n4 = n;
	if (!in_order(es->v6, es->n6, sizeof(*es->v6), entry6_cmp))
		xqsort(es->v6, es->n6, sizeof(*es->v6), entry6_cmp);
	for (i = n = 0; i < es->n6; i++)
		if (n == 0 || range6_cmp(&es->v6[n - 1].r, &es->v6[i].r) != 0)
			es->v6[n++] = es->v6[i];
	es->n6 = n;
}

/* Make dst (initialised, empty) a copy of src. */
void
entryset_copy(struct entryset *dst, const struct entryset *src)
{
	size_t i;

	for (i = 0; i < src->n4; i++)
		entryset_add4(dst, &src->v4[i].r, src->v4[i].miss);
	for (i = 0; i < src->n6; i++)
		entryset_add6(dst, &src->v6[i].r, src->v6[i].miss);
}

/* See allowsync.h. */
size_t
entryset_count(const struct entryset *es)
{
	return es->n4 + es->n6;
}

/* See allowsync.h. */
size_t
entryset_pending(const struct entryset *es)
{
	size_t i, n = 0;

	for (i = 0; i < es->n4; i++)
		n += es->v4[i].miss > 0;
	for (i = 0; i < es->n6; i++)
		n += es->v6[i].miss > 0;
	return n;
}

/* See allowsync.h. */
void
entryset_append(struct rangelist *rl, const struct entryset *es)
{
	size_t i;

	for (i = 0; i < es->n4; i++)
		rangelist_add4(rl, &es->v4[i].r);
	for (i = 0; i < es->n6; i++)
		rangelist_add6(rl, &es->v6[i].r);
}

/* Absences plus one, saturating. */
static unsigned int
miss_next(unsigned int miss)
{
	return miss == UINT_MAX ? miss : miss + 1;
}

/*
 * The absences of an old entry (miss) after an accepted fetch whose
 * document holds it (in_doc) or not, into *next.  Returns false when the
 * entry goes: absent from remove_after fetches in a row.
 */
static bool
age_entry(unsigned int miss, bool in_doc, unsigned int remove_after,
    unsigned int *next)
{
	*next = in_doc ? 0 : miss_next(miss);
	return *next == 0 || *next < remove_after;
}

/*
 * See allowsync.h.  Both inputs are sorted by range, so out is built in
 * order by appending.  With doc NULL, old's entries of miss 0 are the
 * document.
 */
void
guard_age(const struct entryset *old, const struct rangelist *doc,
    unsigned int remove_after, struct entryset *out)
{
	size_t i, j, nd4 = doc ? doc->n4 : 0, nd6 = doc ? doc->n6 : 0;
	const struct entry4 *o4;
	const struct entry6 *o6;
	unsigned int m;
	int c;

	for (i = j = 0; i < old->n4 || j < nd4;) {
		c = i == old->n4 ? 1 : j == nd4 ? -1 :
		    range4_cmp(&old->v4[i].r, &doc->v4[j]);
		if (c > 0) {
			entryset_add4(out, &doc->v4[j++], 0);
			continue;
		}
		o4 = &old->v4[i++];
		if (age_entry(o4->miss, c == 0 || (doc == NULL &&
		    o4->miss == 0), remove_after, &m))
			entryset_add4(out, &o4->r, m);
		j += c == 0;
	}
	for (i = j = 0; i < old->n6 || j < nd6;) {
		c = i == old->n6 ? 1 : j == nd6 ? -1 :
		    range6_cmp(&old->v6[i].r, &doc->v6[j]);
		if (c > 0) {
			entryset_add6(out, &doc->v6[j++], 0);
			continue;
		}
		o6 = &old->v6[i++];
		if (age_entry(o6->miss, c == 0 || (doc == NULL &&
		    o6->miss == 0), remove_after, &m))
			entryset_add6(out, &o6->r, m);
		j += c == 0;
	}
}

/*
 * True when normalised w[0..n) covers r whole.  *j is where the previous
 * call left off: the ranges of w that end before r starts cover neither
 * r nor, with the entries walked in order of first address, any later
 * entry, so they are skipped for good.
 */
static bool
covered4(const struct range4 *w, size_t n, size_t *j, const struct range4 *r)
{
	while (*j < n && w[*j].last < r->first)
		(*j)++;
	return *j < n && w[*j].first <= r->first && w[*j].last >= r->last;
}

static bool
covered6(const struct range6 *w, size_t n, size_t *j, const struct range6 *r)
{
	while (*j < n && u128_cmp(w[*j].last, r->first) < 0)
		(*j)++;
	return *j < n && u128_cmp(w[*j].first, r->first) <= 0 &&
	    u128_cmp(w[*j].last, r->last) >= 0;
}

/* See allowsync.h. */
size_t
guard_uncovered(const struct entryset *old, const struct rangelist *want,
    struct rangelist *uncovered)
{
	size_t i, j, n = 0;

	for (i = j = 0; i < old->n4; i++)
		if (!covered4(want->v4, want->n4, &j, &old->v4[i].r)) {
			n++;
			if (uncovered != NULL)
				rangelist_add4(uncovered, &old->v4[i].r);
		}
	for (i = j = 0; i < old->n6; i++)
		if (!covered6(want->v6, want->n6, &j, &old->v6[i].r)) {
			n++;
			if (uncovered != NULL)
				rangelist_add6(uncovered, &old->v6[i].r);
		}
	return n;
}

/*
 * See allowsync.h.  cur's entries and old's uncovered ones are merged,
 * both in order, into cur afresh.
 */
void
guard_hold(const struct entryset *old, const struct rangelist *want,
    struct entryset *cur)
{
	struct entryset was = *cur;
	size_t i, j, k;

	entryset_init(cur);
	for (i = j = k = 0; i < old->n4; i++) {
		if (covered4(want->v4, want->n4, &j, &old->v4[i].r))
			continue;
		for (; k < was.n4 &&
		    range4_cmp(&was.v4[k].r, &old->v4[i].r) <= 0; k++)
			entryset_add4(cur, &was.v4[k].r, was.v4[k].miss);
		if (cur->n4 == 0 ||
		    range4_cmp(&cur->v4[cur->n4 - 1].r, &old->v4[i].r) != 0)
			entryset_add4(cur, &old->v4[i].r,
			    miss_next(old->v4[i].miss));
	}
	for (; k < was.n4; k++)
		entryset_add4(cur, &was.v4[k].r, was.v4[k].miss);
	for (i = j = k = 0; i < old->n6; i++) {
		if (covered6(want->v6, want->n6, &j, &old->v6[i].r))
			continue;
		for (; k < was.n6 &&
		    range6_cmp(&was.v6[k].r, &old->v6[i].r) <= 0; k++)
			entryset_add6(cur, &was.v6[k].r, was.v6[k].miss);
		if (cur->n6 == 0 ||
		    range6_cmp(&cur->v6[cur->n6 - 1].r, &old->v6[i].r) != 0)
			entryset_add6(cur, &old->v6[i].r,
			    miss_next(old->v6[i].miss));
	}
	for (; k < was.n6; k++)
		entryset_add6(cur, &was.v6[k].r, was.v6[k].miss);
	entryset_free(&was);
}

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
 * nothing.  No I/O.
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
	rangelist_init(&es->doc);
}

/* Free an entry set's arrays and leave it empty. */
void
entryset_free(struct entryset *es)
{
	rangelist_free(&es->doc);
	free(es->p4);
	free(es->p6);
	entryset_init(es);
}

/* Append a pending IPv4 entry. */
void
entryset_add_pend4(struct entryset *es, const struct range4 *r,
    unsigned int miss)
{
	if (es->np4 == es->capp4) {
		es->capp4 = es->capp4 ? es->capp4 * 2 : 16;
		es->p4 = xreallocarray(es->p4, es->capp4, sizeof(*es->p4));
	}
	es->p4[es->np4].r = *r;
	es->p4[es->np4++].miss = miss;
}

/* Append a pending IPv6 entry. */
void
entryset_add_pend6(struct entryset *es, const struct range6 *r,
    unsigned int miss)
{
	if (es->np6 == es->capp6) {
		es->capp6 = es->capp6 ? es->capp6 * 2 : 16;
		es->p6 = xreallocarray(es->p6, es->capp6, sizeof(*es->p6));
	}
	es->p6[es->np6].r = *r;
	es->p6[es->np6++].miss = miss;
}

/* Make dst (initialised, empty) a copy of src. */
void
entryset_copy(struct entryset *dst, const struct entryset *src)
{
	size_t i;

	rangelist_append(&dst->doc, &src->doc);
	for (i = 0; i < src->np4; i++)
		entryset_add_pend4(dst, &src->p4[i].r, src->p4[i].miss);
	for (i = 0; i < src->np6; i++)
		entryset_add_pend6(dst, &src->p6[i].r, src->p6[i].miss);
}

/* See allowsync.h. */
size_t
entryset_count(const struct entryset *es)
{
	return es->doc.n4 + es->doc.n6 + es->np4 + es->np6;
}

/* See allowsync.h. */
void
entryset_append(struct rangelist *rl, const struct entryset *es)
{
	size_t i;

	rangelist_append(rl, &es->doc);
	for (i = 0; i < es->np4; i++)
		rangelist_add4(rl, &es->p4[i].r);
	for (i = 0; i < es->np6; i++)
		rangelist_add6(rl, &es->p6[i].r);
}

/* True when sorted unique v[0..n) holds r exactly. */
static bool
has4(const struct range4 *v, size_t n, const struct range4 *r)
{
	return n > 0 && bsearch(r, v, n, sizeof(*v), range4_cmp) != NULL;
}

static bool
has6(const struct range6 *v, size_t n, const struct range6 *r)
{
	return n > 0 && bsearch(r, v, n, sizeof(*v), range6_cmp) != NULL;
}

/* True when normalised v[0..n) covers r whole. */
static bool
covers4(const struct range4 *v, size_t n, const struct range4 *r)
{
	size_t lo = 0, hi = n, mid;

	/* Find the last range that starts at or before r->first. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid].first <= r->first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && v[lo - 1].last >= r->last;
}

static bool
covers6(const struct range6 *v, size_t n, const struct range6 *r)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (u128_cmp(v[mid].first, r->first) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && u128_cmp(v[lo - 1].last, r->last) >= 0;
}

static int
pend4_cmp(const void *a, const void *b)
{
	return range4_cmp(&((const struct pend4 *)a)->r,
	    &((const struct pend4 *)b)->r);
}

static int
pend6_cmp(const void *a, const void *b)
{
	return range6_cmp(&((const struct pend6 *)a)->r,
	    &((const struct pend6 *)b)->r);
}

/* Absences plus one, saturating. */
static unsigned int
miss_next(unsigned int miss)
{
	return miss == UINT_MAX ? miss : miss + 1;
}

/* See allowsync.h. */
void
guard_age(const struct entryset *old, const struct rangelist *doc,
    unsigned int remove_after, struct entryset *out)
{
	size_t i;
	unsigned int m;

	rangelist_append(&out->doc, doc);
	for (i = 0; i < old->doc.n4; i++)
		if (!has4(doc->v4, doc->n4, &old->doc.v4[i]) &&
		    1 < remove_after)
			entryset_add_pend4(out, &old->doc.v4[i], 1);
	for (i = 0; i < old->np4; i++) {
		m = miss_next(old->p4[i].miss);
		if (!has4(doc->v4, doc->n4, &old->p4[i].r) && m < remove_after)
			entryset_add_pend4(out, &old->p4[i].r, m);
	}
	for (i = 0; i < old->doc.n6; i++)
		if (!has6(doc->v6, doc->n6, &old->doc.v6[i]) &&
		    1 < remove_after)
			entryset_add_pend6(out, &old->doc.v6[i], 1);
	for (i = 0; i < old->np6; i++) {
		m = miss_next(old->p6[i].miss);
		if (!has6(doc->v6, doc->n6, &old->p6[i].r) && m < remove_after)
			entryset_add_pend6(out, &old->p6[i].r, m);
	}
	xqsort(out->p4, out->np4, sizeof(*out->p4), pend4_cmp);
	xqsort(out->p6, out->np6, sizeof(*out->p6), pend6_cmp);
}

/* See allowsync.h. */
size_t
guard_uncovered(const struct entryset *old, const struct rangelist *want,
    struct rangelist *uncovered)
{
	size_t i, n = 0;

	for (i = 0; i < old->doc.n4; i++)
		if (!covers4(want->v4, want->n4, &old->doc.v4[i])) {
			n++;
			if (uncovered != NULL)
				rangelist_add4(uncovered, &old->doc.v4[i]);
		}
	for (i = 0; i < old->np4; i++)
		if (!covers4(want->v4, want->n4, &old->p4[i].r)) {
			n++;
			if (uncovered != NULL)
				rangelist_add4(uncovered, &old->p4[i].r);
		}
	for (i = 0; i < old->doc.n6; i++)
		if (!covers6(want->v6, want->n6, &old->doc.v6[i])) {
			n++;
			if (uncovered != NULL)
				rangelist_add6(uncovered, &old->doc.v6[i]);
		}
	for (i = 0; i < old->np6; i++)
		if (!covers6(want->v6, want->n6, &old->p6[i].r)) {
			n++;
			if (uncovered != NULL)
				rangelist_add6(uncovered, &old->p6[i].r);
		}
	return n;
}

/*
 * See allowsync.h.  want includes everything in cur, so an uncovered
 * entry of old is never already in cur.
 */
void
guard_hold(const struct entryset *old, const struct rangelist *want,
    struct entryset *cur)
{
	size_t i;

	for (i = 0; i < old->doc.n4; i++)
		if (!covers4(want->v4, want->n4, &old->doc.v4[i]))
			entryset_add_pend4(cur, &old->doc.v4[i], 1);
	for (i = 0; i < old->np4; i++)
		if (!covers4(want->v4, want->n4, &old->p4[i].r))
			entryset_add_pend4(cur, &old->p4[i].r,
			    miss_next(old->p4[i].miss));
	for (i = 0; i < old->doc.n6; i++)
		if (!covers6(want->v6, want->n6, &old->doc.v6[i]))
			entryset_add_pend6(cur, &old->doc.v6[i], 1);
	for (i = 0; i < old->np6; i++)
		if (!covers6(want->v6, want->n6, &old->p6[i].r))
			entryset_add_pend6(cur, &old->p6[i].r,
			    miss_next(old->p6[i].miss));
	xqsort(cur->p4, cur->np4, sizeof(*cur->p4), pend4_cmp);
	xqsort(cur->p6, cur->np6, sizeof(*cur->p6), pend6_cmp);
}

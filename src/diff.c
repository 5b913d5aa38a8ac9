/*
 * The diff between what the kernel holds and what the lists want.  Both
 * sides are sorted and free of overlaps, so one merge walk per family
 * finds every range to keep, delete or add.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

/* An empty plan. */
void
plan_init(struct plan *pl)
{
	rangelist_init(&pl->add);
	rangelist_init(&pl->del);
	pl->odd = NULL;
	pl->nodd = 0;
	pl->rebuild = pl->drop_table = false;
	pl->nstale = 0;
}

/* Free what the plan holds; it is empty afterwards. */
void
plan_free(struct plan *pl)
{
	rangelist_free(&pl->add);
	rangelist_free(&pl->del);
	free(pl->odd);
	pl->odd = NULL;
	pl->nodd = 0;
	pl->rebuild = pl->drop_table = false;
	pl->nstale = 0;
}

/* True when the plan changes nothing. */
bool
plan_empty(const struct plan *pl)
{
	return pl->add.n4 == 0 && pl->add.n6 == 0 &&
	    pl->del.n4 == 0 && pl->del.n6 == 0 && pl->nodd == 0 &&
	    !pl->rebuild && pl->nstale == 0;
}

/* See allowsync.h. */
size_t
plan_odd_count(const struct plan *pl, int af)
{
	size_t i, n = 0;

	for (i = 0; i < pl->nodd; i++)
		n += pl->odd[i].af == af;
	return n;
}

/* See allowsync.h. */
const char *
odd_elem_format(const struct odd_elem *o, char *buf, size_t bufsz)
{
	struct range4 r4;
	struct range6 r6;
	char addr[RANGE_STRLEN];
	size_t i;

	if (o->catchall) {
		snprintf(buf, bufsz, "*");
		return buf;
	}
	if (o->keylen == 4) {
		r4.first = 0;
		for (i = 0; i < 4; i++)
			r4.first = r4.first << 8 | o->key[i];
		r4.last = r4.first;
		range4_format(&r4, addr, sizeof(addr));
	} else if (o->keylen == 16) {
		memset(&r6, 0, sizeof(r6));
		for (i = 0; i < 8; i++) {
			r6.first.hi = r6.first.hi << 8 | o->key[i];
			r6.first.lo = r6.first.lo << 8 | o->key[i + 8];
		}
		r6.last = r6.first;
		range6_format(&r6, addr, sizeof(addr));
	} else {
		snprintf(buf, bufsz, "unreadable element (flags 0x%x, "
		    "%zu-byte key)", (unsigned int)o->flags, o->keylen);
		return buf;
	}
	snprintf(buf, bufsz, "element %s%s%s", addr,
	    (o->flags & ODD_FLAG_END) ? " (end of an interval)" : "",
	    o->timed ? " with a timeout of its own" : "");
	return buf;
}
/* Order of two IPv4 ranges by first, then last. */
static int
cmp4(const struct range4 *a, const struct range4 *b)
{
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	if (a->last != b->last)
		return a->last < b->last ? -1 : 1;
	return 0;
}

/* Order of two IPv6 ranges by first, then last. */
static int
cmp6(const struct range6 *a, const struct range6 *b)
{
	int c;

	if ((c = u128_cmp(a->first, b->first)) != 0)
		return c;
	return u128_cmp(a->last, b->last);
}

/*
 * See allowsync.h.  The plan is appended to, so it must be empty (or
 * freshly initialised) for the result to be the plan alone.  A kernel
 * range that overlaps a wanted one without being equal to it is deleted
 * and the wanted one added whole: an interval set cannot be edited in
 * place, and deletes run before adds in the commit.
 */
void
diff_ranges(const struct rangelist *want, const struct rangelist *have,
    struct plan *pl)
{
	size_t i, j;
	int c;

	for (i = 0, j = 0; i < want->n4 || j < have->n4;) {
		if (i == want->n4)
			c = 1;
		else if (j == have->n4)
			c = -1;
		else
			c = cmp4(&want->v4[i], &have->v4[j]);
		if (c < 0)
			rangelist_add4(&pl->add, &want->v4[i++]);
		else if (c > 0)
			rangelist_add4(&pl->del, &have->v4[j++]);
		else {
			i++;
			j++;
		}
	}
	for (i = 0, j = 0; i < want->n6 || j < have->n6;) {
		if (i == want->n6)
			c = 1;
		else if (j == have->n6)
			c = -1;
		else
			c = cmp6(&want->v6[i], &have->v6[j]);
		if (c < 0)
			rangelist_add6(&pl->add, &want->v6[i++]);
		else if (c > 0)
			rangelist_add6(&pl->del, &have->v6[j++]);
		else {
			i++;
			j++;
		}
	}
}

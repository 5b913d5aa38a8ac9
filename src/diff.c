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
	rangelist_init(&pl->renote);
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
	rangelist_free(&pl->renote);
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
	    pl->renote.n4 == 0 && pl->renote.n6 == 0 &&
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

/* Append range i of family af of from to to, with its note when it has. */
static void
take(struct rangelist *to, const struct rangelist *from, int af, size_t i)
{
	if (af == 4)
		rangelist_add4(to, &from->v4[i]);
	else
		rangelist_add6(to, &from->v6[i]);
	if ((af == 4 ? from->note4 : from->note6) == NULL)
		return;
	rangelist_notes_on(to);
	rangelist_set_note(to, af, (af == 4 ? to->n4 : to->n6) - 1,
	    rangelist_note(from, af, i));
}

/*
 * See allowsync.h.  The plan is appended to, so it must be empty (or
 * freshly initialised) for the result to be the plan alone.  A kernel
 * range that overlaps a wanted one without being equal to it is deleted
 * and the wanted one added whole: an interval set cannot be edited in
 * place, and deletes run before adds in the commit.  When both lists have
 * notes, a range both hold whose comment differs goes to renote: deleted
 * and added again with the wanted comment, in the same transaction.
 */
void
diff_ranges(const struct rangelist *want, const struct rangelist *have,
    struct plan *pl)
{
	size_t i, j, n, m;
	bool notes;
	int c, af;

	for (af = 4; af <= 6; af += 2) {
		n = af == 4 ? want->n4 : want->n6;
		m = af == 4 ? have->n4 : have->n6;
		notes = (af == 4 ? want->note4 : want->note6) != NULL &&
		    (af == 4 ? have->note4 : have->note6) != NULL;
		for (i = 0, j = 0; i < n || j < m;) {
			if (i == n)
				c = 1;
			else if (j == m)
				c = -1;
			else if (af == 4)
				c = cmp4(&want->v4[i], &have->v4[j]);
			else
				c = cmp6(&want->v6[i], &have->v6[j]);
			if (c < 0)
				take(&pl->add, want, af, i++);
			else if (c > 0)
				take(&pl->del, have, af, j++);
			else {
				if (notes && rangelist_note(want, af, i) !=
				    rangelist_note(have, af, j))
					take(&pl->renote, want, af, i);
				i++;
				j++;
			}
		}
	}
}

/*
 * Element comments ("notes"): the text nft shows after an element,
 * `1.2.3.0/24 comment "docplanner"`, kept as small ids so that a million
 * ranges carry two bytes each.  Every distinct text, ours or read from the
 * kernel, is interned once in one table for the process.  Id 0 is no
 * comment; NOTE_OTHER stands for any text beyond the table's room, which
 * never equals one of ours, so such an element is rewritten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

#define NOTE_SLOTS	(1U << 17)	/* hash slots, twice the ids */

static char		*note_text[NOTE_OTHER + 1];
static uint16_t		 note_slot[NOTE_SLOTS];	/* 0: empty, else id */
static unsigned int	 note_count;		/* ids given, 1.. */

/* See allowsync.h. */
uint16_t
note_id(const char *s, size_t len)
{
	uint64_t h = FNV1A_INIT;
	size_t i, slot;
	uint16_t id;

	if (len == 0)
		return 0;
	if (len > NOTE_MAX)
		len = NOTE_MAX;
	for (i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	for (slot = h % NOTE_SLOTS;; slot = (slot + 1) % NOTE_SLOTS) {
		if ((id = note_slot[slot]) == 0)
			break;
		if (strncmp(note_text[id], s, len) == 0 &&
		    note_text[id][len] == '\0')
			return id;
	}
	if (note_count + 1 >= NOTE_OTHER)
		return NOTE_OTHER;
	id = (uint16_t)++note_count;
	note_text[id] = xmalloc(len + 1);
	memcpy(note_text[id], s, len);
	note_text[id][len] = '\0';
	note_slot[slot] = id;
	return id;
}

/* See allowsync.h. */
const char *
note_str(uint16_t id)
{
	if (id == NOTE_OTHER)
		return "(another comment)";
	return id != 0 && id <= note_count ? note_text[id] : "";
}

/* See allowsync.h. */
void
notes_reset(void)
{
	unsigned int i;

	for (i = 1; i <= note_count; i++)
		free(note_text[i]);
	memset(note_slot, 0, sizeof(note_slot));
	note_count = 0;
}

/*
 * The comment that names the labels of mask, joined by ", ", cut with
 * an ellipsis to fit NOTE_MAX bytes.
 */
static uint16_t
note_of_mask(uint64_t mask, const char *const *labels, size_t nlabels)
{
	char buf[NOTE_MAX + 1];
	size_t i, n = 0, len;

	buf[0] = '\0';
	for (i = 0; i < nlabels; i++) {
		if (!(mask & (uint64_t)1 << i))
			continue;
		len = strlen(labels[i]);
		if (n + (n > 0 ? 2 : 0) + len > NOTE_MAX) {
			if (n + 5 > NOTE_MAX)
				n = NOTE_MAX - 5;
			memcpy(buf + n, ", \xe2\x80\xa6", 5);	/* ", ..." */
			n += 5;
			break;
		}
		if (n > 0) {
			memcpy(buf + n, ", ", 2);
			n += 2;
		}
		memcpy(buf + n, labels[i], len);
		n += len;
	}
	return note_id(buf, n);
}

/*
 * Set bit j in masks[] of each range of the family af of final that one
 * of l's ranges falls in.  Both are sorted; every range of l lies in one
 * range of final, their union.
 */
static void
mark(const struct rangelist *final, const struct rangelist *l, int af,
    uint64_t *masks, uint64_t bit)
{
	size_t i, p = 0, n = af == 4 ? final->n4 : final->n6;
	size_t m = af == 4 ? l->n4 : l->n6;

	for (i = 0; i < m && p < n; i++) {
		if (af == 4)
			while (p < n && final->v4[p].last < l->v4[i].first)
				p++;
		else
			while (p < n && u128_cmp(final->v6[p].last,
			    l->v6[i].first) < 0)
				p++;
		if (p < n)
			masks[p] |= bit;
	}
}

/* See allowsync.h. */
void
notes_compute(struct rangelist *final, const struct note_label *lab,
    size_t nlab)
{
	const char *names[NOTE_LABELS];
	uint64_t *masks, last = 0, all = 0, bit[NOTE_LABELS];
	size_t i, j, k, n, nnames = 0;
	uint16_t id = 0;
	int af;

	rangelist_notes_on(final);
	/* Labels of one name share its bit. */
	for (j = 0; j < nlab && j < NOTE_LABELS; j++) {
		for (k = 0; k < nnames && strcmp(names[k], lab[j].name); k++)
			;
		if (k == nnames)
			names[nnames++] = lab[j].name;
		bit[j] = (uint64_t)1 << k;
		if (lab[j].list->n4 + lab[j].list->n6 > 0)
			all |= bit[j];
	}
	nlab = j;
	for (af = 4; af <= 6; af += 2) {
		n = af == 4 ? final->n4 : final->n6;
		/* One label for everything: no walk. */
		if ((all & (all - 1)) == 0) {
			id = note_of_mask(all, names, nnames);
			for (i = 0; i < n; i++)
				rangelist_set_note(final, af, i, id);
			continue;
		}
		masks = xcalloc(n > 0 ? n : 1, sizeof(*masks));
		for (j = 0; j < nlab; j++)
			mark(final, lab[j].list, af, masks, bit[j]);
		for (i = 0, last = 0; i < n; i++) {
			if (i == 0 || masks[i] != last)
				id = note_of_mask(masks[i], names, nnames);
			last = masks[i];
			rangelist_set_note(final, af, i, id);
		}
		free(masks);
	}
}

/*
 * The bit of note id in ids[] (the distinct notes seen, *n of them), added
 * when new; 0 once NOTE_LABELS are taken.
 */
static uint64_t
note_bit(uint16_t id, uint16_t *ids, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (ids[i] == id)
			return (uint64_t)1 << i;
	if (*n == NOTE_LABELS || id == 0)
		return 0;
	ids[*n] = id;
	return (uint64_t)1 << (*n)++;
}

/* See allowsync.h. */
void
notes_merge(struct rangelist *final, const struct rangelist *parts,
    size_t nparts)
{
	const char *names[NOTE_LABELS];
	uint16_t ids[NOTE_LABELS], id = 0;
	uint64_t *masks, last = 0;
	size_t i, j, p, n, m, nids = 0;
	int af;

	rangelist_notes_on(final);
	/* One part: the same ranges, the same notes. */
	if (nparts == 1 && parts->n4 == final->n4 && parts->n6 == final->n6) {
		for (i = 0; i < final->n4; i++)
			final->note4[i] = rangelist_note(parts, 4, i);
		for (i = 0; i < final->n6; i++)
			final->note6[i] = rangelist_note(parts, 6, i);
		return;
	}
	for (af = 4; af <= 6; af += 2) {
		n = af == 4 ? final->n4 : final->n6;
		masks = xcalloc(n > 0 ? n : 1, sizeof(*masks));
		for (j = 0; j < nparts; j++) {
			m = af == 4 ? parts[j].n4 : parts[j].n6;
			for (i = 0, p = 0; i < m && p < n; i++) {
				if (af == 4)
					while (p < n && final->v4[p].last <
					    parts[j].v4[i].first)
						p++;
				else
					while (p < n && u128_cmp(
					    final->v6[p].last,
					    parts[j].v6[i].first) < 0)
						p++;
				if (p < n)
					masks[p] |= note_bit(rangelist_note(
					    &parts[j], af, i), ids, &nids);
			}
		}
		for (i = 0; i < nids; i++)
			names[i] = note_str(ids[i]);
		for (i = 0; i < n; i++) {
			if (i == 0 || masks[i] != last)
				id = note_of_mask(masks[i], names, nids);
			last = masks[i];
			rangelist_set_note(final, af, i, id);
		}
		free(masks);
	}
}

/* See allowsync.h. */
uint64_t
notes_digest(const struct rangelist *rl, uint64_t h)
{
	char at[48];
	uint16_t note, last = 0;
	size_t i, n;
	int af;

	for (af = 4; af <= 6; af += 2) {
		n = af == 4 ? rl->n4 : rl->n6;
		if ((af == 4 ? rl->note4 : rl->note6) == NULL)
			continue;
		for (i = 0; i < n; i++) {
			if ((note = rangelist_note(rl, af, i)) == last)
				continue;
			snprintf(at, sizeof(at), "|%d:%zu|", af, i);
			h = fnv1a(note_str(note), fnv1a(at, h));
			last = note;
		}
	}
	return h;
}

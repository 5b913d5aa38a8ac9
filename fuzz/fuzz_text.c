/*
 * libFuzzer target: parse_text() over arbitrary bytes, then validation
 * and normalisation of what it accepts.  Checks every entry against the
 * text grammar: trimmed, no comment, printable ASCII or tab, within the
 * line limit, line numbers increasing.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "textfast.h"

/* libFuzzer calls this once before the first input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* Abort unless list is a well-formed result of parsing doc[0..size). */
static void
check_entries(const struct entrylist *list, const char *doc, size_t size)
{
	const struct entry *e;
	size_t i, j;
	unsigned char c;

	if (list->n == 0)
		fuzz_fail("parse_text accepted a document without entries");
	for (i = 0; i < list->n; i++) {
		e = &list->v[i];
		if (e->loc != NULL)
			fuzz_fail("text entry has a JSON location");
		if (e->len == 0 || e->len > MAX_TEXT_LINE)
			fuzz_fail("text entry length out of bounds");
		if (e->text < doc || e->text + e->len > doc + size)
			fuzz_fail("entry outside the document");
		if (e->text[0] == ' ' || e->text[0] == '\t' ||
		    e->text[e->len - 1] == ' ' || e->text[e->len - 1] == '\t')
			fuzz_fail("text entry not trimmed");
		for (j = 0; j < e->len; j++) {
			c = (unsigned char)e->text[j];
			if (c == '#' || c == '<' || c >= 0x7f ||
			    (c < 0x20 && c != '\t'))
				fuzz_fail("forbidden byte in a text entry");
		}
		if (e->where == 0 ||
		    (i > 0 && e->where <= list->v[i - 1].where))
			fuzz_fail("text line numbers out of order");
	}
}

/*
 * Abort unless doc, with a comment holding a tab added on a line of its
 * own (which sends it down the byte-by-byte path), parses to the same
 * entries as list: the word-at-a-time path must change nothing.
 */
static void
check_slow_path(const struct entrylist *list, const char *doc, size_t size)
{
	struct entrylist slow;
	char *copy;
	size_t i;

	copy = xmalloc(size + 3);
	memcpy(copy, doc, size);
	memcpy(copy + size, "\n#\t", 3);
	if (parse_text(copy, size + 3, "fuzz", &slow) != AS_OK)
		fuzz_fail("the byte-by-byte path refused a document");
	if (slow.n != list->n)
		fuzz_fail("the two paths found different entries");
	for (i = 0; i < list->n; i++)
		if (slow.v[i].len != list->v[i].len ||
		    slow.v[i].where != list->v[i].where ||
		    memcmp(slow.v[i].text, list->v[i].text,
		    list->v[i].len) != 0)
			fuzz_fail("the two paths found different entries");
	entrylist_free(&slow);
	free(copy);
}

/*
 * Abort unless text_ranges(), on doc repeated (a line apart) until it is
 * big enough for the fast path, gives what parse_text() and
 * validate_entries() give, whenever it gives anything: the usual path
 * must take the document, skip nothing and make the same ranges.  The
 * document's first byte picks the policy: families, private space
 * allowed or skipped, lenient, static entries, a small max-entries,
 * the widest prefixes.
 */
static void
check_fast_path(const char *doc, size_t size)
{
	unsigned char c = size > 0 ? (unsigned char)doc[0] : 0;
	struct policy pol = {
		.min_prefix4 = c & 0x80 ? 1 : DEFAULT_MIN_PREFIX4,
		.min_prefix6 = c & 0x80 ? 1 : DEFAULT_MIN_PREFIX6,
		.decide = { c & 0x04 ? DEC_ALLOW : c & 0x08 ? DEC_SKIP :
		    DEC_REJECT, c & 0x08 ? DEC_SKIP : DEC_REJECT,
		    DEC_REJECT },
		.max_entries = c & 0x20 ? 5 : 1000000,
		.lenient = (c & 0x10) != 0,
		.want4 = (c & 0x01) == 0,
		.want6 = (c & 0x02) == 0,
		.statics = (c & 0x40) != 0,
	};
	struct rangelist fast, slow;
	struct entrylist list;
	struct validation v;
	size_t reps = TEXT_FAST_MIN / (size + 1) + 1, i, len = 0;
	char *big = xmalloc(reps * (size + 1));

	for (i = 0; i < reps; i++) {
		memcpy(big + len, doc, size);
		len += size;
		big[len++] = '\n';
	}
	rangelist_init(&fast);
	rangelist_init(&slow);
	if (text_ranges(big, len, &pol, &fast)) {
		if (parse_text(big, len, "fuzz", &list) != AS_OK)
			fuzz_fail("fast path took what parse_text refuses");
		if (validate_entries(&list, "fuzz", &pol, &slow, &v) != AS_OK)
			fuzz_fail("fast path took what validation refuses");
		if (v.refused)
			fuzz_fail("fast path took a refused document");
		for (i = 0; i < NCLASSES; i++)
			if (v.skipped[i] != 0)
				fuzz_fail("fast path took a skipped entry");
		if (fast.n4 != slow.n4 || fast.n6 != slow.n6 ||
		    (fast.n4 > 0 && memcmp(fast.v4, slow.v4,
		    fast.n4 * sizeof(*fast.v4)) != 0) ||
		    (fast.n6 > 0 && memcmp(fast.v6, slow.v6,
		    fast.n6 * sizeof(*fast.v6)) != 0))
			fuzz_fail("the fast path made other ranges");
		entrylist_free(&list);
	}
	rangelist_free(&fast);
	rangelist_free(&slow);
	free(big);
}

/* One input: parse it; validate what parses. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entrylist list;

	check_fast_path((const char *)data, size);
	if (parse_text((const char *)data, size, "fuzz", &list) != AS_OK) {
		if (list.v != NULL || list.buf != NULL || list.n != 0)
			fuzz_fail("failed parse left entries behind");
		return 0;
	}
	check_entries(&list, (const char *)data, size);
	check_slow_path(&list, (const char *)data, size);
	fuzz_validate(&list);
	entrylist_free(&list);
	return 0;
}

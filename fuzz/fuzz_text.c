/*
 * libFuzzer target: parse_text() over arbitrary bytes, then validation
 * and normalisation of what it accepts.  Checks every entry against the
 * text grammar: trimmed, no comment, printable ASCII or tab, within the
 * line limit, line numbers increasing.
 */
#include <string.h>

#include "fuzz.h"

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

/* One input: parse it; validate what parses. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entrylist list;

	if (parse_text((const char *)data, size, "fuzz", &list) != AS_OK) {
		if (list.v != NULL || list.buf != NULL || list.n != 0)
			fuzz_fail("failed parse left entries behind");
		return 0;
	}
	check_entries(&list, (const char *)data, size);
	fuzz_validate(&list);
	entrylist_free(&list);
	return 0;
}

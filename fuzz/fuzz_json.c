/*
 * libFuzzer target: parse_json() over arbitrary bytes with the keys
 * {"API"} and {"API", "hooks"}, then validation and normalisation of what
 * it accepts.  Checks that every entry points into the list's own buffer
 * and names one of the requested keys.
 */
#include <string.h>

#include "fuzz.h"

static char	key_api[] = "API";
static char	key_hooks[] = "hooks";
static char	*const keys[] = { key_api, key_hooks };

/* libFuzzer calls this once before the first input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* Abort unless list is a well-formed result of parsing with nkeys keys. */
static void
check_entries(const struct entrylist *list, size_t nkeys)
{
	const struct entry *e;
	size_t i, k, total = 0, next = 0;

	if (list->nkeys != nkeys)
		fuzz_fail("parse_json kept the wrong number of keys");
	for (i = 0; i < list->n; i++)
		total += list->v[i].len;
	for (i = 0; i < list->n; i++) {
		e = &list->v[i];
		if (e->text < list->buf || e->text + e->len > list->buf + total)
			fuzz_fail("entry outside the list's buffer");
		if (memchr(e->text, '\0', e->len) != NULL)
			fuzz_fail("entry holds a NUL byte");
		for (k = 0; k < nkeys; k++)
			if (e->key == list->keys[k])
				break;
		if (k == nkeys || strcmp(e->key, keys[k]) != 0)
			fuzz_fail("entry names a key that was not asked for");
		if (i > 0 && e->key != list->v[i - 1].key)
			next = 0;
		if (e->where != next++)
			fuzz_fail("JSON index out of sequence");
	}
}

/* One input: parse with each key set; validate what parses. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entrylist list;
	size_t nkeys;

	for (nkeys = 1; nkeys <= 2; nkeys++) {
		if (parse_json((const char *)data, size, "fuzz", keys, nkeys,
		    &list) != AS_OK) {
			if (list.v != NULL || list.buf != NULL || list.n != 0)
				fuzz_fail("failed parse left entries behind");
			continue;
		}
		check_entries(&list, nkeys);
		fuzz_validate(&list);
		entrylist_free(&list);
	}
	return 0;
}

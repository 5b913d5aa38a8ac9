/*
 * libFuzzer target: parse_json() over arbitrary bytes with a few fixed
 * json-path sets (keys, objects in arrays, a match, a top-level array),
 * then validation and normalisation of what it accepts.  Checks that
 * every entry points into the list's own buffer and carries a location.
 */
#include <string.h>

#include "fuzz.h"

static const char *const path_texts[] = {
	"API[]",
	"API[],hooks[]",
	"prefixes[service=X].ip_prefix,ipv6_prefixes[].ipv6_prefix",
	"[],result.cidrs[]",
};
#define NPATHS	(sizeof(path_texts) / sizeof(path_texts[0]))
static struct jpaths	paths[NPATHS];

/* libFuzzer calls this once before the first input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	size_t i;

	(void)argc;
	(void)argv;
	fuzz_init();
	for (i = 0; i < NPATHS; i++)
		if (jpaths_compile(path_texts[i], &paths[i]) != NULL)
			fuzz_fail("a fixed path does not compile");
	return 0;
}

/* Abort unless list is a well-formed result of parse_json(). */
static void
check_entries(const struct entrylist *list)
{
	const struct entry *e;
	size_t i, total = 0;

	for (i = 0; i < list->n; i++)
		total += list->v[i].len;
	if (list->n == 0)
		fuzz_fail("accepted a document that selects nothing");
	for (i = 0; i < list->n; i++) {
		e = &list->v[i];
		if (e->text < list->buf || e->text + e->len > list->buf + total)
			fuzz_fail("entry outside the list's buffer");
		if (memchr(e->text, '\0', e->len) != NULL)
			fuzz_fail("entry holds a NUL byte");
		if (e->loc == NULL || strlen(e->loc) >= MAX_PATH_LOC)
			fuzz_fail("entry without a location");
		if (e->where != 0)
			fuzz_fail("JSON entry with a line number");
	}
}

/* One input: parse with each path set; validate what parses. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct entrylist list;
	size_t i;

	for (i = 0; i < NPATHS; i++) {
		if (parse_json((const char *)data, size, "fuzz", &paths[i],
		    &list) != AS_OK) {
			if (list.v != NULL || list.buf != NULL || list.n != 0 ||
			    list.locs != NULL)
				fuzz_fail("failed parse left entries behind");
			continue;
		}
		check_entries(&list);
		fuzz_validate(&list);
		entrylist_free(&list);
	}
	return 0;
}

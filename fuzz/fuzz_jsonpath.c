/*
 * libFuzzer target: the json-path language.  The input's first line is a
 * json-path, the rest a JSON document.  Whatever jpaths_compile()
 * accepts must format back to a text that compiles to the same paths,
 * keep every bound, and select from the document without breaking the
 * entry list's invariants.
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

/* Abort unless a and b are the same paths. */
static void
check_same(const struct jpaths *a, const struct jpaths *b)
{
	size_t i, j;
	const struct jstep *x, *y;

	if (a->n != b->n)
		fuzz_fail("paths changed number on a round trip");
	for (i = 0; i < a->n; i++) {
		if (a->v[i].nsteps != b->v[i].nsteps ||
		    a->v[i].nsteps == 0 || a->v[i].nsteps > MAX_PATH_STEPS)
			fuzz_fail("path steps changed on a round trip");
		for (j = 0; j < a->v[i].nsteps; j++) {
			x = &a->v[i].steps[j];
			y = &b->v[i].steps[j];
			if (x->kind != y->kind ||
			    (x->name == NULL) != (y->name == NULL) ||
			    (x->name && strcmp(x->name, y->name)) ||
			    (x->value == NULL) != (y->value == NULL) ||
			    (x->value && strcmp(x->value, y->value)))
				fuzz_fail("a step changed on a round trip");
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[MAX_PATH_TEXT + 2], back[2 * MAX_PATH_TEXT];
	const char *nl, *doc;
	struct jpaths ps, again;
	struct entrylist list;
	size_t n;

	nl = memchr(data, '\n', size);
	n = nl != NULL ? (size_t)(nl - (const char *)data) : size;
	if (n > MAX_PATH_TEXT + 1 || memchr(data, '\0', n) != NULL)
		return 0;
	memcpy(text, data, n);
	text[n] = '\0';
	if (jpaths_compile(text, &ps) != NULL) {
		jpaths_free(&ps);
		return 0;
	}
	if (ps.n == 0 || ps.n > MAX_JSON_PATHS)
		fuzz_fail("compiled path count out of bounds");
	jpaths_format(&ps, back, sizeof(back));
	if (jpaths_compile(back, &again) != NULL)
		fuzz_fail("a formatted path does not compile");
	check_same(&ps, &again);
	jpaths_free(&again);
	doc = nl != NULL ? nl + 1 : "";
	if (parse_json(doc, nl != NULL ? size - n - 1 : 0, "fuzz", &ps,
	    &list) == AS_OK) {
		if (list.n == 0)
			fuzz_fail("accepted a document that selects nothing");
		fuzz_validate(&list);
		entrylist_free(&list);
	} else if (list.v != NULL || list.locs != NULL)
		fuzz_fail("failed parse left entries behind");
	jpaths_free(&ps);
	return 0;
}

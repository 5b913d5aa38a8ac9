/*
 * The normaliser alone, for the benchmark: read a text list (file given
 * as argument), parse and validate it, normalise it, and print the merged
 * ranges on stdout, the same job `iprange --optimize` does.
 */
#include <stdio.h>
#include <stdlib.h>

#include "allowsync.h"

int
main(int argc, char *argv[])
{
	struct policy pol = {
		.min_prefix4 = 8, .min_prefix6 = 16,
		.max_entries = MAX_MAX_ENTRIES, .want4 = true, .want6 = true,
	};
	struct entrylist el;
	struct rangelist rl;
	char *buf, line[RANGE_STRLEN];
	size_t len = 0, cap = 1 << 20, n, i;
	FILE *f;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: normalise FILE\n");
		return 2;
	}
	buf = xmalloc(cap);
	while ((n = fread(buf + len, 1, cap - len, f)) > 0)
		if ((len += n) == cap)
			buf = xreallocarray(buf, cap *= 2, 1);
	fclose(f);
	log_init(LOG_LVL_ERR);
	rangelist_init(&rl);
	if (parse_text(buf, len, argv[1], &el) != AS_OK ||
	    validate_entries(&el, argv[1], &pol, &rl, NULL) != AS_OK)
		return 1;
	entrylist_free(&el);
	free(buf);
	rangelist_normalise(&rl);
	for (i = 0; i < rl.n4; i++) {
		range4_format(&rl.v4[i], line, sizeof(line));
		puts(line);
	}
	for (i = 0; i < rl.n6; i++) {
		range6_format(&rl.v6[i], line, sizeof(line));
		puts(line);
	}
	rangelist_free(&rl);
	return 0;
}

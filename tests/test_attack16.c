/*
 * Attack tests for issue 16 (per-class policy decisions): each test here
 * pins down one defect found by a hostile review.  See the commit that
 * added each test for the finding and its severity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "allowsync.h"
#include "run.h"
#include "testutil.h"

/* Write text to a temporary config file; returns its path (static). */
static const char *
tmpconf(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/allowsync-a16-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* config_load() of a file holding text, as "allowsync -c FILE" does. */
static enum as_status
load_file(struct config *cfg, const char *text)
{
	const char *path = tmpconf(text);
	const char *argv[] = { "allowsync", "-c", path, NULL };
	enum as_status rc;

	rc = config_load(3, (char **)argv, cfg);
	unlink(path);
	return rc;
}

/*
 * The decision for private space of every source of every section of
 * the config file text: the Docplanner default (private = skip) must hold
 * for each locale source, wherever the locale line is in the file.
 */
static int
expect_private(const char *text, enum decision want)
{
	const struct source_opts *so;
	struct config cfg;
	struct policy pol;
	size_t i, j;
	int bad = 0;

	assert_int_equal(load_file(&cfg, text), AS_OK);
	for (i = 0; i < config_nsections(&cfg); i++) {
		so = config_section(&cfg, i);
		assert_true(so->nsources > 0);
		for (j = 0; j < so->nsources; j++) {
			refresh_policy(so, &so->sources[j], &pol);
			if (pol.decide[CLASS_PRIVATE] != want && ++bad)
				print_error("config \"%s\": section %zu source "
				    "%s: private = %s, expected %s\n", text, i,
				    so->sources[j].name,
				    decision_name(pol.decide[CLASS_PRIVATE]),
				    decision_name(want));
		}
	}
	config_free(&cfg);
	return bad;
}

/*
 * Finding 1: struct source's key points into the config parser's line
 * buffer (a stack array that is gone once the file is read), and
 * sources_finish() decides the Docplanner default with strcmp(s->key,
 * "locale") long after.  So locale = pl from a file gets private = skip
 * only when its line happens to be the last one read; any line after it
 * (a comment, another key, a section header) makes it private = reject.
 */
static void
test_docplanner_default_from_file(void **state)
{
	int bad = 0;

	(void)state;
	/* The last line: works today, by luck. */
	bad += expect_private("locale = pl\n", DEC_SKIP);
	/* Any line after it. */
	bad += expect_private("locale = pl\n# a comment\n", DEC_SKIP);
	bad += expect_private("locale = pl\ntimeout = 30\n", DEC_SKIP);
	/* In a section, and inherited by one. */
	bad += expect_private("[dp]\nlocale = pl\ntimeout = 30\n", DEC_SKIP);
	bad += expect_private("locale = pl\n[dp]\n", DEC_SKIP);
	/* The preset, with a key after it. */
	bad += expect_private("preset = docplanner-pl\ntimeout = 30\n",
	    DEC_SKIP);
	/* What the operator says still wins. */
	bad += expect_private("locale = pl\nprivate = allow\n# end\n",
	    DEC_ALLOW);
	/* Another vendor's URL keeps the strict default. */
	bad += expect_private("url = https://example.com/a.json\n# end\n",
	    DEC_REJECT);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docplanner_default_from_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

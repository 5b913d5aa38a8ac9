/*
 * The per-class policy where it meets the rest of the program: the
 * Docplanner default from a config file, lists left empty by skipping,
 * static entries, /0 in a disabled family, and the skipped entries' record
 * that a 304 reports.  Each began as a defect a hostile review found.
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

	snprintf(path, sizeof(path), "/tmp/allowsync-policy-XXXXXX");
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

/* validate_entries() of the entries in, under pol; *res filled. */
static enum as_status
validate_list(const char *const *in, size_t n, const struct policy *pol,
    struct rangelist *out, struct validation *res)
{
	struct entrylist el;
	struct entry v[16];
	enum as_status st;
	size_t i;

	assert_true(n <= 16);
	memset(&el, 0, sizeof(el));
	memset(v, 0, sizeof(v));
	for (i = 0; i < n; i++) {
		v[i].text = in[i];
		v[i].len = strlen(in[i]);
		v[i].where = i + 1;
	}
	el.v = v;
	el.n = n;
	out->n4 = out->n6 = 0;
	capture_start();
	st = validate_entries(&el, "list", pol, out, res);
	capture_end();
	return st;
}

static const struct policy skip_private = {
	.min_prefix4 = DEFAULT_MIN_PREFIX4,
	.min_prefix6 = DEFAULT_MIN_PREFIX6,
	.decide = { DEC_SKIP, DEC_REJECT, DEC_REJECT },
	.max_entries = DEFAULT_MAX_ENTRIES,
	.want4 = true,
	.want6 = true,
};

/*
 * Finding 2: "a list whose every entry was skipped is rejected, never
 * applied empty" does not hold for a list that mixes both families when
 * one family is switched off: validate_finish() accepts any document
 * with an entry of the disabled family (the rule meant for Cloudflare's
 * one-list-per-family), so a list whose every entry of the enabled family
 * was skipped by the policy is accepted with nothing in it, and the
 * source's entries leave the set.
 */
static void
test_mixed_family_all_skipped(void **state)
{
	static const char *const mixed4[] = {
		"10.0.12.34", "172.20.123.123", "2a00:1450::1",
	};
	static const char *const mixed6[] = {
		"fd00::1", "fd12:3456::/48", "185.10.20.1",
	};
	static const char *const only6[] = { "2a00:1450::1" };
	struct policy pol = skip_private;
	struct validation v;
	struct rangelist out;

	(void)state;
	rangelist_init(&out);
	/* The guide's private IPv4 entries and one IPv6; IPv6 off. */
	pol.want6 = false;
	assert_int_equal(validate_list(mixed4, 3, &pol, &out, &v), AS_EDATA);
	assert_int_equal(out.n4 + out.n6, 0);
	/* The same the other way round. */
	pol.want6 = true;
	pol.want4 = false;
	assert_int_equal(validate_list(mixed6, 3, &pol, &out, &v), AS_EDATA);
	/* Guard: a list of the disabled family alone is still accepted. */
	pol.want4 = true;
	pol.want6 = false;
	assert_int_equal(validate_list(only6, 1, &pol, &out, &v), AS_OK);
	rangelist_free(&out);
}

/*
 * Finding 3: with keep_going (--restore) run_statics() validates the
 * static entries again as lenient, "going on without the bad ones".
 * Lenient used to drop a /0 too; since issue 16 a /0 rejects even a
 * lenient document, so the second pass fails as well and every static
 * entry is left out, the good ones included.
 */
static void
test_restore_keeps_good_statics(void **state)
{
	const struct source_opts *so;
	struct rangelist out;
	struct config cfg;

	(void)state;
	assert_int_equal(load_file(&cfg, "url = https://example.com/a.json\n"
	    "static = 185.99.0.1\nstatic = 185.99.0.2\n"
	    "static = 0.0.0.0/0\n"), AS_OK);
	so = config_section(&cfg, 0);
	rangelist_init(&out);
	capture_start();
	assert_int_equal(run_statics(&cfg, so, &out, true), AS_ECONFIG);
	capture_end();
	assert_int_equal(out.n4, 2);
	assert_int_equal(out.n6, 0);
	rangelist_free(&out);
	config_free(&cfg);
}

/*
 * Finding 6: "Whatever the keys say, a /0 prefix rejects the document"
 * (allowsync.conf(5)); issue 16: /0 rejects "whatever the class
 * settings".  validate_entries() clears the verdict of any entry of a
 * disabled family, /0 (CLASS_NEVER) included, so a document holding ::/0
 * is accepted, and its IPv4 entries applied, whenever set6 is empty (and
 * 0.0.0.0/0 with set4 empty).
 */
static void
test_zero_in_disabled_family(void **state)
{
	static const char *const v6zero[] = { "185.10.20.1", "::/0" };
	static const char *const v4zero[] = { "2a00:1450::1", "0.0.0.0/0" };
	struct policy pol = skip_private;
	struct validation v;
	struct rangelist out;

	(void)state;
	rangelist_init(&out);
	pol.want6 = false;
	assert_int_equal(validate_list(v6zero, 2, &pol, &out, &v), AS_EDATA);
	assert_true(v.refused);
	pol.want6 = true;
	pol.want4 = false;
	assert_int_equal(validate_list(v4zero, 2, &pol, &out, &v), AS_EDATA);
	rangelist_free(&out);
}

/*
 * A 304 reports what the document it stands for skipped, read back from
 * the saved summary: counts and first entries survive the round trip,
 * and a damaged summary gives what it can and never more.
 */
static void
test_summary_round_trip(void **state)
{
	struct validation v, back;
	char buf[NCLASSES * sizeof(v.first[0]) + 64];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.skipped[CLASS_PRIVATE] = 4;
	snprintf(v.first[CLASS_PRIVATE], sizeof(v.first[0]),
	    "10.0.12.34, 10.10.1.2, 172.20.123.123");
	v.skipped[CLASS_WIDE] = 1;
	snprintf(v.first[CLASS_WIDE], sizeof(v.first[0]), "185.0.0.0/8");
	assert_non_null(validation_summary(&v, buf, sizeof(buf)));
	validation_from_summary(buf, &back);
	assert_int_equal(back.skipped[CLASS_PRIVATE], 4);
	assert_int_equal(back.skipped[CLASS_SPECIAL], 0);
	assert_int_equal(back.skipped[CLASS_WIDE], 1);
	assert_string_equal(back.first[CLASS_PRIVATE], v.first[CLASS_PRIVATE]);
	assert_string_equal(back.first[CLASS_WIDE], "185.0.0.0/8");
	validation_from_summary(NULL, &back);
	assert_int_equal(back.skipped[CLASS_PRIVATE], 0);
	validation_from_summary("2 bogus (1.2.3.4); 3 special (::1", &back);
	assert_int_equal(back.skipped[CLASS_SPECIAL], 0);
	validation_from_summary("x; 1 wide (1.0.0.0/8)", &back);
	assert_int_equal(back.skipped[CLASS_WIDE], 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docplanner_default_from_file),
		cmocka_unit_test(test_mixed_family_all_skipped),
		cmocka_unit_test(test_restore_keeps_good_statics),
		cmocka_unit_test(test_zero_in_disabled_family),
		cmocka_unit_test(test_summary_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

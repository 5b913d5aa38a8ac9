/*
 * Unit tests for parse.c: the JSON and text document parsers, with good
 * documents and the hostile shapes of tests/data/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allowsync.h"

static struct jpaths api;

static enum as_status
pj(const char *doc, struct entrylist *el)
{
	return parse_json(doc, strlen(doc), "test", &api, el);
}

static enum as_status
pt(const char *doc, size_t len, struct entrylist *el)
{
	return parse_text(doc, len, "test", el);
}

static void
assert_entry(const struct entrylist *el, size_t i, const char *text,
    size_t where)
{
	assert_true(i < el->n);
	assert_int_equal(el->v[i].len, strlen(text));
	assert_memory_equal(el->v[i].text, text, strlen(text));
	assert_int_equal(el->v[i].where, where);
}

static void
test_json_good(void **state)
{
	struct entrylist el;

	(void)state;
	assert_int_equal(pj("{\"API\": [\"1.2.3.4\", \"2a00::/32\"]}", &el),
	    AS_OK);
	assert_int_equal(el.n, 2);
	assert_entry(&el, 0, "1.2.3.4", 0);
	assert_entry(&el, 1, "2a00::/32", 0);
	assert_string_equal(el.v[0].loc, "API[0]");
	assert_string_equal(el.v[1].loc, "API[1]");
	entrylist_free(&el);

	/* An escaped backslash before u0000 is not an escaped NUL. */
	assert_int_equal(pj("{\"API\": [\"1.2.3.4\"], \"x\": \"\\\\u0000\"}",
	    &el), AS_OK);
	entrylist_free(&el);

	/* Other keys are ignored whatever their type; blanks around too. */
	assert_int_equal(pj(" \n{\"other\": {\"a\": [1, true]}, \"x\": false, "
	    "\"API\": [\"1.2.3.4\"]}\r\n ", &el), AS_OK);
	assert_int_equal(el.n, 1);
	entrylist_free(&el);
	/* A path that selects nothing rejects the document. */
	assert_int_equal(pj("{\"API\": []}", &el), AS_EDATA);
	assert_non_null(strstr(log_last_error(), "\"API[]\" selects nothing"));
}

static void
test_json_keys(void **state)
{
	struct jpaths keys;
	const char *doc = "{\"hooks\": [\"1.2.3.4\"], \"WEBHOOKS\": "
	    "[\"5.6.7.8\", \"9.9.9.9\"], \"web\": [1]}";
	struct entrylist el;

	(void)state;
	assert_null(jpaths_compile("hooks[], WEBHOOKS[]", &keys));
	assert_int_equal(parse_json(doc, strlen(doc), "t", &keys, &el),
	    AS_OK);
	assert_int_equal(el.n, 3);
	assert_string_equal(el.v[0].loc, "hooks[0]");
	assert_string_equal(el.v[2].loc, "WEBHOOKS[1]");
	assert_entry(&el, 2, "9.9.9.9", 0);
	entrylist_free(&el);
	jpaths_free(&keys);
	/* Keys are case-sensitive. */
	assert_int_equal(pj("{\"api\": [\"1.2.3.4\"]}", &el), AS_EDATA);
}

static void
test_json_bad_shapes(void **state)
{
	static const char *bad[] = {
		"",
		"[\"1.2.3.4\"]",
		"\"1.2.3.4\"",
		"42",
		"null",
		"{}",
		"{\"API\": \"1.2.3.4\"}",
		"{\"API\": {\"a\": \"1.2.3.4\"}}",
		"{\"API\": [1, 2]}",
		"{\"API\": [\"1.2.3.4\", null]}",
		"{\"API\": [[\"1.2.3.4\"]]}",
		"{\"API\": [\"1.2.3.4\",]}",	/* the vendor's own example */
		"{\"API\": [\"1.2.3.4\"]",
		"{\"API\": [\"1.2.3.4\"]} {}",
		"{\"API\": [\"1.2.3.4\"]} x",
		"{\"API\": [\"1.2.3.4\"], \"API\": [\"0.0.0.0/0\"]}",
		"{'API': ['1.2.3.4']}",
		"{\"API\": [\"1.2.3.4\\u0000evil\"]}",
		"{\"API\": [\"1.2.3.4\"], \"x\\u0000\": 1}",
		"<html><body>Login</body></html>",
	};
	struct entrylist el;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pj(bad[i], &el) != AS_EDATA)
			fail_msg("accepted bad JSON #%zu: %s", i, bad[i]);
		assert_null(el.v);
	}
}

static void
test_json_nul_and_nesting(void **state)
{
	const char doc[] = "{\"API\": [\"1.2.3.4\"]}\0";
	struct entrylist el;
	char *deep;
	size_t n = 100000;

	(void)state;
	assert_int_equal(parse_json(doc, sizeof(doc), "t", &api, &el),
	    AS_EDATA);
	/* Huge nesting must be rejected, not overflow the stack. */
	deep = malloc(2 * n + 32);
	assert_non_null(deep);
	memcpy(deep, "{\"API\": ", 8);
	memset(deep + 8, '[', n);
	memset(deep + 8 + n, ']', n);
	strcpy(deep + 8 + 2 * n, "}");
	assert_int_equal(pj(deep, &el), AS_EDATA);
	free(deep);
}

static void
test_text_good(void **state)
{
	const char doc[] = "\xef\xbb\xbf# vendor list\r\n"
	    "1.2.3.4\r\n"
	    "\r\n"
	    "   \t 5.6.7.0/24 \t\n"
	    "2a00:1450::/32 # office\n"
	    "   # indented comment\n"
	    "9.9.9.9";
	struct entrylist el;

	(void)state;
	assert_int_equal(pt(doc, sizeof(doc) - 1, &el), AS_OK);
	assert_int_equal(el.n, 4);
	assert_entry(&el, 0, "1.2.3.4", 2);
	assert_entry(&el, 1, "5.6.7.0/24", 4);
	assert_entry(&el, 2, "2a00:1450::/32", 5);
	assert_entry(&el, 3, "9.9.9.9", 7);
	assert_null(el.v[0].loc);
	/* No copy of the document: the entries point into it. */
	assert_ptr_equal(el.v[0].text, doc + 18);
	assert_ptr_equal(el.v[3].text, doc + sizeof(doc) - 8);
	assert_null(el.buf);
	entrylist_free(&el);
}

/*
 * A document of printable ASCII alone takes the word-at-a-time path
 * (text_plain()); a tab anywhere sends it byte by byte.  Both give the
 * same entries, with and without comments.
 */
static void
test_text_plain(void **state)
{
	static const char *const docs[] = {
		"1.2.3.0/24\n# c\n 5.6.7.8 # office\n\n9.9.9.9",
		"1.2.3.0/24\n\n 5.6.7.8  \n9.9.9.9\n",
	};
	struct entrylist a, b;
	char slow[128];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		snprintf(slow, sizeof(slow), "%s\n#\t", docs[i]);
		assert_int_equal(pt(docs[i], strlen(docs[i]), &a), AS_OK);
		assert_int_equal(pt(slow, strlen(slow), &b), AS_OK);
		assert_int_equal(a.n, 3);
		assert_entry(&a, 0, "1.2.3.0/24", 1);
		assert_entry(&a, 1, "5.6.7.8", 3);
		assert_entry(&a, 2, "9.9.9.9", i == 0 ? 5 : 4);
		assert_int_equal(b.n, a.n);
		for (k = 0; k < a.n; k++) {
			assert_int_equal(b.v[k].len, a.v[k].len);
			assert_memory_equal(b.v[k].text, a.v[k].text,
			    a.v[k].len);
			assert_int_equal(b.v[k].where, a.v[k].where);
		}
		entrylist_free(&a);
		entrylist_free(&b);
	}
}

/*
 * Every byte value, at every place in an 8-byte word, inside a comment:
 * the document is accepted exactly when the byte is one a line may hold,
 * whichever path it takes.
 */
static void
test_text_every_byte(void **state)
{
	char doc[64];
	struct entrylist el;
	unsigned int b, k;
	size_t len;
	bool ok;

	(void)state;
	for (b = 0; b < 256; b++)
		for (k = 0; k < 16; k++) {
			len = (size_t)snprintf(doc, sizeof(doc),
			    "1.2.3.0/24 #%.*s", (int)k, "................");
			doc[len++] = (char)b;
			memcpy(doc + len, "x\n5.6.7.8", 9);
			len += 9;
			ok = (b >= 0x20 && b <= 0x7e && b != '<') ||
			    b == '\t' || b == '\n';
			if (pt(doc, len, &el) != (ok ? AS_OK : AS_EDATA))
				fail_msg("byte 0x%02x at %u: wrong verdict", b,
				    k);
			if (ok)
				entrylist_free(&el);
		}
}

static void
test_text_bad(void **state)
{
	static const struct {
		const char	*doc;
		size_t		 len;
	} bad[] = {
		{ "", 0 },
		{ "\n\n# only comments\n", 19 },
		{ "1.2.3.4\n5.6.7.8\0\n", 17 },
		{ "1.2.3.4\n\xc3\xa9\n", 11 },
		{ "<!DOCTYPE html>\n<html>", 22 },
		{ "1.2.3.4\n<p>oops</p>\n", 20 },
		{ "1.2.3.4\x1b[31m\n", 13 },
		{ "1.2.3.4\r5.6.7.8\n", 16 },
		{ "1.2.3.4\x7f\n", 9 },
		{ "\x01\n", 2 },
	};
	struct entrylist el;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pt(bad[i].doc, bad[i].len, &el) != AS_EDATA)
			fail_msg("accepted bad text #%zu", i);
		assert_null(el.v);
	}
}

static void
test_text_long_line(void **state)
{
	char doc[600];
	struct entrylist el;

	(void)state;
	memset(doc, ' ', sizeof(doc));
	memcpy(doc, "1.2.3.4", 7);
	doc[MAX_TEXT_LINE] = '\n';
	assert_int_equal(pt(doc, MAX_TEXT_LINE + 1, &el), AS_OK);
	entrylist_free(&el);
	doc[MAX_TEXT_LINE] = ' ';
	doc[MAX_TEXT_LINE + 1] = '\n';
	assert_int_equal(pt(doc, MAX_TEXT_LINE + 2, &el), AS_EDATA);
}

/* format auto: the first byte that is not blank decides. */
static void
test_sniff(void **state)
{
	(void)state;
	assert_int_equal(parse_sniff("{}", 2), FORM_JSON);
	assert_int_equal(parse_sniff(" \r\n\t[1]", 7), FORM_JSON);
	assert_int_equal(parse_sniff("\xef\xbb\xbf{", 4), FORM_JSON);
	assert_int_equal(parse_sniff("1.2.3.4\n", 8), FORM_TEXT);
	assert_int_equal(parse_sniff("# {\n", 4), FORM_TEXT);
	assert_int_equal(parse_sniff("<html>", 6), FORM_TEXT);
	assert_int_equal(parse_sniff("", 0), FORM_TEXT);
	assert_int_equal(parse_sniff("  ", 2), FORM_TEXT);
}

static void
test_html_message(void **state)
{
	const char *doc = "<html><head><title>Wi-Fi login</title>";
	struct entrylist el;

	(void)state;
	assert_int_equal(pt(doc, strlen(doc), &el), AS_EDATA);
	assert_non_null(strstr(log_last_error(), "HTML"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_good),
		cmocka_unit_test(test_json_keys),
		cmocka_unit_test(test_json_bad_shapes),
		cmocka_unit_test(test_json_nul_and_nesting),
		cmocka_unit_test(test_text_good),
		cmocka_unit_test(test_text_plain),
		cmocka_unit_test(test_text_every_byte),
		cmocka_unit_test(test_text_bad),
		cmocka_unit_test(test_text_long_line),
		cmocka_unit_test(test_html_message),
		cmocka_unit_test(test_sniff),
	};
	int rc;

	log_init(LOG_LVL_ERR);
	if (jpaths_compile("API[]", &api) != NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	jpaths_free(&api);
	return rc;
}

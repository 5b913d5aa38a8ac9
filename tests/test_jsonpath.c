/*
 * Unit tests for jsonpath.c: the json-path language, compiled and then
 * run over documents through parse_json().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allowsync.h"

/* Compile text, which must be good. */
static void
compile(const char *text, struct jpaths *ps)
{
	const char *why;

	if ((why = jpaths_compile(text, ps)) != NULL)
		fail_msg("%s refused: %s", text, why);
}

/*
 * Run path over doc and compare the selection, "loc=value" joined by
 * spaces, with want; NULL wants the document refused, with want_err in
 * the error line.
 */
static void
select_eq(const char *path, const char *doc, const char *want,
    const char *want_err)
{
	struct jpaths ps;
	struct entrylist el;
	char got[2048];
	size_t i, n = 0;
	enum as_status st;

	compile(path, &ps);
	st = parse_json(doc, strlen(doc), "t", &ps, &el);
	jpaths_free(&ps);
	if (want == NULL) {
		if (st != AS_EDATA)
			fail_msg("%s over %s: accepted", path, doc);
		if (strstr(log_last_error(), want_err) == NULL)
			fail_msg("%s over %s: error \"%s\" lacks \"%s\"", path,
			    doc, log_last_error(), want_err);
		assert_null(el.v);
		return;
	}
	if (st != AS_OK)
		fail_msg("%s over %s: refused: %s", path, doc,
		    log_last_error());
	got[0] = '\0';
	for (i = 0; i < el.n; i++)
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s=%.*s",
		    i ? " " : "", el.v[i].loc, (int)el.v[i].len, el.v[i].text);
	entrylist_free(&el);
	if (strcmp(got, want) != 0)
		fail_msg("%s over %s:\n got  %s\n want %s", path, doc, got,
		    want);
}

static void
test_compile_good(void **state)
{
	static const struct {
		const char	*text;
		size_t		 npaths, nsteps0;
		const char	*back;
	} good[] = {
		{ "API", 1, 1, "API" },
		{ "API[]", 1, 2, "API[]" },
		{ "result.ipv4_cidrs[]", 1, 3, "result.ipv4_cidrs[]" },
		{ "prefixes[].ip_prefix", 1, 3, "prefixes[].ip_prefix" },
		{ "prefixes[service=CLOUDFRONT_ORIGIN_FACING].ip_prefix", 1, 3,
		    "prefixes[service=CLOUDFRONT_ORIGIN_FACING].ip_prefix" },
		{ " a[] ,\tb[] ", 2, 2, "a[],b[]" },
		{ "[]", 1, 1, "[]" },
		{ "[kind=v 4].ip", 1, 2, "[kind=v 4].ip" },
		{ "a[][]", 1, 3, "a[][]" },
		{ "x-y_z$@:/+", 1, 1, "x-y_z$@:/+" },
		{ "a[k=a=b]", 1, 2, "a[k=a=b]" },
	};
	struct jpaths ps, cp;
	char buf[600];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		compile(good[i].text, &ps);
		assert_int_equal(ps.n, good[i].npaths);
		assert_int_equal(ps.v[0].nsteps, good[i].nsteps0);
		jpaths_copy(&cp, &ps);
		jpaths_free(&ps);
		jpaths_format(&cp, buf, sizeof(buf));
		assert_string_equal(buf, good[i].back);
		jpaths_free(&cp);
	}
	compile("prefixes[service=S].ip_prefix", &ps);
	assert_int_equal(ps.v[0].steps[1].kind, JSTEP_MATCH);
	assert_string_equal(ps.v[0].steps[1].name, "service");
	assert_string_equal(ps.v[0].steps[1].value, "S");
	assert_int_equal(ps.v[0].steps[2].kind, JSTEP_KEY);
	jpaths_free(&ps);
}

static void
test_compile_bad(void **state)
{
	static const char *bad[] = {
		"", " ", ",", "a,", ",a", "a,,b", "a.", ".a", "a..b", "a b",
		"a[", "a[x", "a[x]", "a[=v]", "a[x=]", "a[x=v", "a]", "a[]b",
		"a.[]", "a\"b", "a\\b", "a=b", "a[x=v,w]", "a,a", "a[] , a[]",
		"\x01", "caf\xc3\xa9", "a\tb",
		"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q",
		"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q",
	};
	struct jpaths ps;
	char longp[MAX_PATH_TEXT + 2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (jpaths_compile(bad[i], &ps) == NULL)
			fail_msg("accepted bad path #%zu \"%s\"", i, bad[i]);
		jpaths_free(&ps);
	}
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_non_null(jpaths_compile(longp, &ps));
	jpaths_free(&ps);
}

/* The shapes of the real lists the presets read. */
static void
test_select_vendor_shapes(void **state)
{
	(void)state;
	select_eq("prefixes[service=CF].ip_prefix,ipv6_prefixes[service=CF]"
	    ".ipv6_prefix",
	    "{\"syncToken\": \"1\", \"prefixes\": ["
	    "{\"ip_prefix\": \"1.0.0.0/24\", \"service\": \"AMAZON\"},"
	    "{\"ip_prefix\": \"2.0.0.0/24\", \"service\": \"CF\"},"
	    "{\"ip_prefix\": \"3.0.0.0/24\", \"service\": \"CF\"}],"
	    "\"ipv6_prefixes\": [{\"ipv6_prefix\": \"2600::/40\", "
	    "\"service\": \"CF\"}]}",
	    "prefixes[1].ip_prefix=2.0.0.0/24 prefixes[2].ip_prefix=3.0.0.0/24"
	    " ipv6_prefixes[0].ipv6_prefix=2600::/40", NULL);
	select_eq("hooks[]", "{\"verifiable_password_authentication\": false,"
	    "\"ssh_key_fingerprints\": {\"a\": \"b\"}, \"hooks\": "
	    "[\"192.30.252.0/22\"], \"domains\": {\"x\": [\"y\"]}}",
	    "hooks[0]=192.30.252.0/22", NULL);
	select_eq("result.ipv4_cidrs[]", "{\"result\": {\"ipv4_cidrs\": "
	    "[\"1.1.1.0/24\", \"1.0.0.0/24\"]}, \"success\": true}",
	    "result.ipv4_cidrs[0]=1.1.1.0/24 result.ipv4_cidrs[1]=1.0.0.0/24",
	    NULL);
	select_eq("[]", "[\"1.2.3.4\", \"5.6.7.8\"]",
	    "[0]=1.2.3.4 [1]=5.6.7.8", NULL);
	select_eq("[kind=a].ip", "[{\"kind\": \"a\", \"ip\": \"1.2.3.4\"}, "
	    "{\"kind\": \"b\", \"ip\": \"5.6.7.8\"}, {\"ip\": \"9.9.9.9\"}, "
	    "{\"kind\": 7, \"ip\": \"8.8.8.8\"}]", "[0].ip=1.2.3.4", NULL);
	select_eq("a.b", "{\"a\": {\"b\": \"1.2.3.4\"}}", "a.b=1.2.3.4", NULL);
	select_eq("a[][]", "{\"a\": [[\"1.2.3.4\"], [], [\"5.6.7.8\"]]}",
	    "a[0][0]=1.2.3.4 a[2][0]=5.6.7.8", NULL);
}

/* Every shape error refuses the whole document and says where. */
static void
test_select_refused(void **state)
{
	(void)state;
	select_eq("API[]", "{\"API\": []}", NULL, "\"API[]\" selects nothing");
	select_eq("p[s=X].ip", "{\"p\": [{\"s\": \"Y\", \"ip\": \"1.2.3.4\"}]}",
	    NULL, "selects nothing");
	select_eq("a[],b[]", "{\"a\": [\"1.2.3.4\"], \"b\": []}", NULL,
	    "\"b[]\" selects nothing");
	select_eq("API[]", "[\"1.2.3.4\"]", NULL,
	    "the top level is not an object");
	select_eq("[]", "{\"API\": []}", NULL,
	    "the top level is not an array");
	select_eq("API[]", "{\"api\": [\"1.2.3.4\"]}", NULL,
	    "the top level has no key \"API\"");
	select_eq("a.b[]", "{\"a\": {\"c\": []}}", NULL,
	    "a has no key \"b\"");
	select_eq("API[]", "{\"API\": [\"1.2.3.4\"], \"API\": [\"0.0.0.0/0\"]}",
	    NULL, "has the key \"API\" more than once");
	select_eq("API[]", "{\"API\": \"1.2.3.4\"}", NULL,
	    "API is not an array");
	select_eq("API", "{\"API\": [\"1.2.3.4\"]}", NULL,
	    "API is not a string");
	select_eq("API[]", "{\"API\": [\"1.2.3.4\", null]}", NULL,
	    "API[1] is not a string");
	select_eq("API[]", "{\"API\": [\"1.2.3.4\", 3]}", NULL,
	    "API[1] is not a string");
	select_eq("p[].ip", "{\"p\": [{\"ip\": \"1.2.3.4\"}, {\"ipx\": 1}]}",
	    NULL, "p[1] has no key \"ip\"");
	select_eq("p[].ip", "{\"p\": [\"1.2.3.4\"]}", NULL,
	    "p[0] is not an object");
	select_eq("p[s=X].ip", "{\"p\": [\"1.2.3.4\"]}", NULL,
	    "p[0] is not an object");
	select_eq("p[s=X].ip", "{\"p\": [{\"s\": \"X\", \"s\": \"Y\", "
	    "\"ip\": \"1.2.3.4\"}]}", NULL, "p[0] has the match field more");
	select_eq("p[s=X].ip", "{\"p\": [{\"s\": \"X\", \"ip\": 1}]}", NULL,
	    "p[0].ip is not a string");
}

/* The deepest path there is: every step and nearly the longest text. */
static void
test_select_deep(void **state)
{
	char path[MAX_PATH_TEXT + 1], doc[4096], want[MAX_PATH_TEXT + 16];
	size_t n = 0, d = 0, i;

	(void)state;
	for (i = 0; i < MAX_PATH_STEPS; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%s%.31s",
		    i ? "." : "", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	assert_true(n <= MAX_PATH_TEXT && n > MAX_PATH_TEXT - 8);
	for (i = 0; i < MAX_PATH_STEPS; i++)
		d += (size_t)snprintf(doc + d, sizeof(doc) - d, "{\"%.31s\": ",
		    "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	d += (size_t)snprintf(doc + d, sizeof(doc) - d, "\"1.2.3.4\"");
	for (i = 0; i < MAX_PATH_STEPS; i++)
		doc[d++] = '}';
	doc[d] = '\0';
	snprintf(want, sizeof(want), "%s=1.2.3.4", path);
	select_eq(path, doc, want, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compile_good),
		cmocka_unit_test(test_compile_bad),
		cmocka_unit_test(test_select_vendor_shapes),
		cmocka_unit_test(test_select_refused),
		cmocka_unit_test(test_select_deep),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

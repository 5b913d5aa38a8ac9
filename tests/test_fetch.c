/*
 * fetch.c against the real thing: tests/https_server.py on 127.0.0.1 with
 * a CA and certificates made at test time by tests/lib.sh's mkca.  The
 * server's request log shows what was sent and how often.  Everything
 * lives in one temporary directory that the group teardown removes; the
 * servers die with the test process (PR_SET_PDEATHSIG) even if it crashes.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "allowsync.h"

struct server {
	pid_t	pid;
	int	port;
	char	log[PATH_MAX];
};

static char		srcdir[PATH_MAX];
static char		tmpdir[] = "/tmp/allowsync-test-fetch.XXXXXX";
static int		tmpdir_made;
static struct server	main_srv;
static char		base[64];	/* https://127.0.0.1:PORT */
static char		ca_file[PATH_MAX];

/* Format into a static rotating buffer; good for a few paths at once. */
static const char * __attribute__((format(printf, 1, 2)))
fmt(const char *f, ...)
{
	static char bufs[8][PATH_MAX];
	static int i;
	va_list ap;
	char *b = bufs[i++ % 8];

	va_start(ap, f);
	vsnprintf(b, PATH_MAX, f, ap);
	va_end(ap);
	return b;
}

static void
write_file(const char *path, const char *data, size_t len)
{
	FILE *f;

	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Write ROOT/name and, unless behave is NULL, ROOT/name.behave. */
static void
serve(const char *name, const char *body, const char *behave)
{
	write_file(fmt("%s/root/%s", tmpdir, name), body, strlen(body));
	if (behave != NULL)
		write_file(fmt("%s/root/%s.behave", tmpdir, name), behave,
		    strlen(behave));
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Make the test CA and certificates in dir with lib.sh.  Returns 0 or -1. */
static int
mkca(const char *dir)
{
	pid_t pid;
	int st;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		execlp("bash", "bash", "-c", "source \"$1\" && mkca \"$2\"",
		    "bash", fmt("%s/tests/lib.sh", srcdir), dir, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return -1;
	return 0;
}

/* Start https_server.py with certificate name (server, expired, ...). */
static int
server_start(struct server *s, const char *name)
{
	char port[PATH_MAX], buf[32];
	double deadline;
	FILE *f;

	snprintf(port, sizeof(port), "%s/%s.port", tmpdir, name);
	snprintf(s->log, sizeof(s->log), "%s/%s.log", tmpdir, name);
	if ((s->pid = fork()) == -1)
		return -1;
	if (s->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execlp("python3", "python3",
		    fmt("%s/tests/https_server.py", srcdir),
		    "--root", fmt("%s/root", tmpdir),
		    "--cert", fmt("%s/ca/%s.pem", tmpdir, name),
		    "--key", fmt("%s/ca/%s.key", tmpdir, name),
		    "--port-file", port, "--log", s->log, (char *)NULL);
		_exit(127);
	}
	for (deadline = now() + 5; now() < deadline; usleep(20000)) {
		if ((f = fopen(port, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL)
			s->port = atoi(buf);
		fclose(f);
		if (s->port > 0)
			return 0;
	}
	return -1;
}

static void
server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
}

/* Number of requests the server logged for path. */
static int
requests(const struct server *s, const char *path)
{
	char line[8192];
	const char *needle = fmt("\"path\": \"%s\"", path);
	FILE *f;
	int n = 0;

	if ((f = fopen(s->log, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

/* True when the server logged a request for path holding text. */
static int
request_has(const struct server *s, const char *path, const char *text)
{
	char line[8192];
	const char *needle = fmt("\"path\": \"%s\"", path);
	FILE *f;
	int found = 0;

	if ((f = fopen(s->log, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL &&
		    strstr(line, text) != NULL;
	fclose(f);
	return found;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_teardown(void **state)
{
	(void)state;
	server_stop(&main_srv);
	if (tmpdir_made)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	fetch_global_cleanup();
	return 0;
}

/* The source tree: two levels above the test binary, build/test_fetch. */
static int
find_srcdir(void)
{
	ssize_t n;

	if ((n = readlink("/proc/self/exe", srcdir, sizeof(srcdir) - 1)) < 0)
		return -1;
	srcdir[n] = '\0';
	memmove(srcdir, dirname(srcdir), strlen(dirname(srcdir)) + 1);
	memmove(srcdir, dirname(srcdir), strlen(dirname(srcdir)) + 1);
	return access(fmt("%s/tests/lib.sh", srcdir), R_OK);
}

static int
group_setup(void **state)
{
	char big[4096];

	(void)state;
	setenv("no_proxy", "*", 1);
	setenv("NO_PROXY", "*", 1);
	fetch_global_init();
	if (find_srcdir() == -1 && getcwd(srcdir, sizeof(srcdir)) == NULL)
		return -1;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	tmpdir_made = 1;
	if (mkca(fmt("%s/ca", tmpdir)) == -1 ||
	    mkdir(fmt("%s/root", tmpdir), 0755) == -1)
		goto fail;

	memset(big, 'x', sizeof(big));
	write_file(fmt("%s/root/big.txt", tmpdir), big, sizeof(big));
	write_file(fmt("%s/root/big-chunked.txt", tmpdir), big, sizeof(big));
	write_file(fmt("%s/root/big-chunked.txt.behave", tmpdir),
	    "{\"no_length\": \"chunked\"}", 24);
	write_file(fmt("%s/root/big-close.txt", tmpdir), big, sizeof(big));
	write_file(fmt("%s/root/big-close.txt.behave", tmpdir),
	    "{\"no_length\": \"close\"}", 22);
	write_file(fmt("%s/root/ok.json", tmpdir), "{\"prefixes\": []}\n", 17);

	if (server_start(&main_srv, "server") == -1)
		goto fail;
	snprintf(base, sizeof(base), "https://127.0.0.1:%d", main_srv.port);
	snprintf(ca_file, sizeof(ca_file), "%s/ca/ca.pem", tmpdir);
	return 0;
 fail:
	group_teardown(NULL);
	return -1;
}

/* Options for tests: our CA, short timeouts, retries without waiting. */
static struct fetch_opts
opts_test(void)
{
	struct fetch_opts o = {
		.ca_file = ca_file,
		.timeout = 5,
		.connect_timeout = 2,
		.max_bytes = 64 * 1024,
		.retries = 2,
		.retry_delay = 0,
	};
	return o;
}

static void
assert_empty(const struct fetch_result *r)
{
	assert_null(r->body);
	assert_null(r->etag);
	assert_null(r->last_modified);
	assert_int_equal(r->len, 0);
}

/* Fetch base+path expecting failure; returns fetch_last_error(). */
static const char *
fetch_fails(const char *path, const struct fetch_opts *o)
{
	struct fetch_result r;

	assert_int_equal(fetch_document(fmt("%s%s", base, path), o, NULL, &r),
	    AS_ETEMPFAIL);
	assert_empty(&r);
	assert_true(fetch_last_error()[0] != '\0');
	return fetch_last_error();
}

static void
test_ok_json(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;

	(void)state;
	assert_int_equal(fetch_document(fmt("%s/ok.json", base), &o, NULL,
	    &r),
	    AS_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 17);
	assert_string_equal(r.body, "{\"prefixes\": []}\n");
	assert_non_null(r.etag);
	assert_int_equal(strlen(r.etag), 18);
	assert_true(r.etag[0] == '"' && r.etag[17] == '"');
	assert_non_null(r.last_modified);
	assert_non_null(strstr(r.last_modified, " GMT"));
	assert_string_equal(fetch_last_error(), "");
	assert_int_equal(requests(&main_srv, "/ok.json"), 1);
	assert_true(request_has(&main_srv, "/ok.json",
	    "\"User-Agent\": \"allowsync/" ALLOWSYNC_VERSION "\""));
	assert_true(request_has(&main_srv, "/ok.json", "gzip"));
	fetch_result_free(&r);
	assert_null(r.body);
	assert_null(r.etag);
}

static void
test_conditional_304(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r, r2;
	struct fetch_cond c = { NULL, NULL };

	(void)state;
	assert_int_equal(fetch_document(fmt("%s/ok.json", base), &o, NULL,
	    &r),
	    AS_OK);
	c.etag = r.etag;
	assert_int_equal(fetch_document(fmt("%s/ok.json", base), &o, &c, &r2),
	    AS_OK);
	assert_int_equal(r2.status, 304);
	assert_int_equal(r2.len, 0);
	assert_true(request_has(&main_srv, "/ok.json", "If-None-Match"));
	fetch_result_free(&r2);
	/* A stale validator gets the document again. */
	c.etag = "\"stale\"";
	assert_int_equal(fetch_document(fmt("%s/ok.json", base), &o, &c, &r2),
	    AS_OK);
	assert_int_equal(r2.status, 200);
	assert_int_equal(r2.len, 17);
	fetch_result_free(&r2);
	/* If-Modified-Since alone works too. */
	c.etag = NULL;
	c.last_modified = r.last_modified;
	assert_int_equal(fetch_document(fmt("%s/ok.json", base), &o, &c, &r2),
	    AS_OK);
	assert_int_equal(r2.status, 304);
	assert_true(request_has(&main_srv, "/ok.json", "If-Modified-Since"));
	fetch_result_free(&r2);
	fetch_result_free(&r);
}

static void
test_file_url(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;

	(void)state;
	write_file(fmt("%s/local.txt", tmpdir), "192.0.2.0/24\n", 13);
	assert_int_equal(fetch_document(fmt("file://%s/local.txt", tmpdir),
	    &o, NULL, &r), AS_OK);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.len, 13);
	assert_string_equal(r.body, "192.0.2.0/24\n");
	fetch_result_free(&r);

	assert_int_equal(fetch_document(fmt("file://%s/absent.txt", tmpdir),
	    &o, NULL, &r), AS_ETEMPFAIL);
	assert_empty(&r);

	o.max_bytes = 12;
	assert_int_equal(fetch_document(fmt("file://%s/local.txt", tmpdir),
	    &o, NULL, &r), AS_ETEMPFAIL);
	assert_empty(&r);
	assert_string_equal(fetch_last_error(),
	    "response larger than max-bytes (12)");
}

static void
test_url_check(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;
	char long_url[MAX_URL_LEN + 16];

	(void)state;
	assert_null(fetch_url_check("https://example.com/list.json"));
	assert_null(fetch_url_check("HTTPS://Example.COM:8443/a?b=c"));
	assert_null(fetch_url_check("https://[2001:db8::1]/x"));
	assert_null(fetch_url_check("file:///etc/allowsync/list.txt"));
	assert_null(fetch_url_check("FILE:///x"));

	assert_string_equal(fetch_url_check("http://example.com/x"),
	    "plain http is not allowed: use https:// (TLS is mandatory)");
	assert_string_equal(fetch_url_check("HTTP://example.com/x"),
	    "plain http is not allowed: use https:// (TLS is mandatory)");
	assert_string_equal(fetch_url_check("ftp://example.com/x"),
	    "unsupported scheme (only https:// and file:// are allowed)");
	assert_non_null(fetch_url_check("gopher://example.com/"));
	assert_non_null(fetch_url_check("example.com/list.json"));
	assert_non_null(fetch_url_check("https:example.com"));
	assert_non_null(fetch_url_check("https://"));
	assert_non_null(fetch_url_check("https:///path"));
	assert_non_null(fetch_url_check("https://exa mple.com/"));
	assert_non_null(fetch_url_check("https://example.com/\r\nX: y"));
	assert_non_null(fetch_url_check("https://example.com/\x1b[31m"));
	assert_non_null(fetch_url_check("https://ex\xc3\xa4mple.com/"));
	assert_non_null(fetch_url_check("file://host/etc/x"));
	assert_non_null(fetch_url_check("file:relative"));
	assert_non_null(fetch_url_check(""));

	/* Userinfo would go out as Basic auth and into every report. */
	assert_string_equal(fetch_url_check("https://user:pass@example.com/x"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("https://user@example.com/x"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("https://:@example.com/x"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("https://example.com@evil.test/"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("https://a%40b@example.com/"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("HTTPS://u:p@[2001:db8::1]:8443/"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("http://user:pass@example.com/"),
	    "credentials in URLs are not supported");
	assert_string_equal(fetch_url_check("file://user@localhost/etc/x"),
	    "credentials in URLs are not supported");
	assert_null(fetch_url_check("https://example.com/a@b/list.json"));
	assert_null(fetch_url_check("https://example.com/x?by=a@b#c@d"));
	assert_null(fetch_url_check("file:///srv/mirror@2/list.txt"));

	memcpy(long_url, "https://a/", 10);
	memset(long_url + 10, 'a', MAX_URL_LEN - 10);
	long_url[MAX_URL_LEN] = '\0';
	assert_null(fetch_url_check(long_url));
	long_url[MAX_URL_LEN] = 'a';
	long_url[MAX_URL_LEN + 1] = '\0';
	assert_non_null(fetch_url_check(long_url));

	assert_int_equal(fetch_document(fmt("http://127.0.0.1:%d/ok.json",
	    main_srv.port), &o, NULL, &r), AS_ECONFIG);
	assert_empty(&r);
	assert_non_null(strstr(fetch_last_error(), "plain http"));
	assert_int_equal(fetch_document("ftp://127.0.0.1/x", &o, NULL, &r),
	    AS_ECONFIG);
	assert_empty(&r);
}

static void
test_not_found(void **state)
{
	struct fetch_opts o = opts_test();

	(void)state;
	assert_string_equal(fetch_fails("/missing.json", &o), "HTTP 404");
	assert_int_equal(requests(&main_srv, "/missing.json"), 1);
}

static void
test_error_body_discarded(void **state)
{
	struct fetch_opts o = opts_test();

	(void)state;
	serve("forbidden.json", "{}",
	    "{\"status\": 403, \"body\": \"[\\\"0.0.0.0/0\\\"]\"}");
	assert_string_equal(fetch_fails("/forbidden.json", &o), "HTTP 403");
	assert_int_equal(requests(&main_srv, "/forbidden.json"), 1);
}

static void
test_retry_503(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;

	(void)state;
	serve("flaky.json", "[]",
	    "{\"sequence\": [{\"status\": 503}, {\"status\": 500}, {}]}");
	assert_int_equal(fetch_document(fmt("%s/flaky.json", base), &o, NULL,
	    &r),
	    AS_OK);
	assert_string_equal(r.body, "[]");
	assert_int_equal(r.status, 200);
	assert_int_equal(requests(&main_srv, "/flaky.json"), 3);
	fetch_result_free(&r);
}

static void
test_retry_exhausted(void **state)
{
	struct fetch_opts o = opts_test();

	(void)state;
	serve("down.json", "[]", "{\"status\": 502}");
	assert_string_equal(fetch_fails("/down.json", &o), "HTTP 502");
	assert_int_equal(requests(&main_srv, "/down.json"), 3);

	o.retries = 0;
	serve("down0.json", "[]", "{\"status\": 502}");
	fetch_fails("/down0.json", &o);
	assert_int_equal(requests(&main_srv, "/down0.json"), 1);
}

static void
test_retry_after(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;
	double t0, dt;

	(void)state;
	serve("busy.json", "[1]", "{\"sequence\": [{\"status\": 429, "
	    "\"headers\": {\"Retry-After\": \"1\"}}, {}]}");
	t0 = now();
	assert_int_equal(fetch_document(fmt("%s/busy.json", base), &o, NULL,
	    &r),
	    AS_OK);
	dt = now() - t0;
	assert_string_equal(r.body, "[1]");
	assert_int_equal(requests(&main_srv, "/busy.json"), 2);
	assert_true(dt >= 0.9 && dt < 3);
	fetch_result_free(&r);
}

static void
test_redirect_https(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;

	(void)state;
	serve("moved.json", "", fmt("{\"redirect\": \"%s/ok.json\"}", base));
	assert_int_equal(fetch_document(fmt("%s/moved.json", base), &o, NULL,
	    &r),
	    AS_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"prefixes\": []}\n");
	assert_non_null(r.etag);
	fetch_result_free(&r);

	/* Headers of the redirect response must not leak into the result. */
	serve("plain.txt", "", "{\"status\": 200, \"body\": \"plain\\n\"}");
	serve("moved-etag.txt", "", fmt("{\"redirect\": \"%s/plain.txt\", "
	    "\"headers\": {\"ETag\": \"\\\"from-302\\\"\", "
	    "\"Last-Modified\": \"Sat, 01 Jan 2000 00:00:00 GMT\"}}", base));
	assert_int_equal(fetch_document(fmt("%s/moved-etag.txt", base), &o,
	    NULL, &r), AS_OK);
	assert_string_equal(r.body, "plain\n");
	assert_null(r.etag);
	assert_null(r.last_modified);
	fetch_result_free(&r);
}

static void
test_header_bounds(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;
	char tag[300];

	(void)state;
	memset(tag, 'a', sizeof(tag));
	tag[256] = '\0';
	serve("tag256.txt", "x", fmt("{\"headers\": {\"ETag\": \"%s\", "
	    "\"Last-Modified\": \"\\u001b[31mred\"}}", tag));
	assert_int_equal(fetch_document(fmt("%s/tag256.txt", base), &o, NULL,
	    &r),
	    AS_OK);
	assert_string_equal(r.etag, tag);
	assert_null(r.last_modified);
	fetch_result_free(&r);

	tag[256] = 'a';
	tag[257] = '\0';
	serve("tag257.txt", "x", fmt("{\"headers\": {\"ETag\": \"%s\"}}",
	    tag));
	assert_int_equal(fetch_document(fmt("%s/tag257.txt", base), &o, NULL,
	    &r),
	    AS_OK);
	assert_null(r.etag);
	assert_non_null(r.last_modified);
	fetch_result_free(&r);

	/*
	 * Bytes past ASCII (sent raw: the server writes header values as
	 * latin-1) would reach the terminal through --status.
	 */
	serve("tag8bit.txt", "x", "{\"headers\": {\"ETag\": "
	    "\"\\\"caf\\u00e9\\u00ff\\\"\", \"Last-Modified\": "
	    "\"Sat, 01 Jan 2000\\u00a000:00:00 GMT\"}}");
	assert_int_equal(fetch_document(fmt("%s/tag8bit.txt", base), &o, NULL,
	    &r), AS_OK);
	assert_null(r.etag);
	assert_null(r.last_modified);
	fetch_result_free(&r);
	serve("tag7e.txt", "x", "{\"headers\": {\"ETag\": "
	    "\"W/\\\"~ !}\\\"\"}}");
	assert_int_equal(fetch_document(fmt("%s/tag7e.txt", base), &o, NULL,
	    &r), AS_OK);
	assert_string_equal(r.etag, "W/\"~ !}\"");
	fetch_result_free(&r);
}

static void
test_redirect_http(void **state)
{
	struct fetch_opts o = opts_test();
	const char *why;

	(void)state;
	serve("downgrade.json", "", fmt("{\"redirect\": "
	    "\"http://127.0.0.1:%d/ok.json\"}", main_srv.port));
	why = fetch_fails("/downgrade.json", &o);
	assert_non_null(strstr(why, "redirect to http://127.0.0.1:"));
	assert_non_null(strstr(why, "not https"));
	assert_int_equal(requests(&main_srv, "/downgrade.json"), 1);

	serve("tofile.json", "", "{\"redirect\": \"file:///etc/passwd\"}");
	why = fetch_fails("/tofile.json", &o);
	assert_non_null(strstr(why, "redirect to file:///etc/passwd"));

	/* An https target that is down is a transient failure. */
	serve("todead.json", "", "{\"redirect\": \"https://127.0.0.1:1/\"}");
	why = fetch_fails("/todead.json", &o);
	assert_null(strstr(why, "HTTP"));
	assert_int_equal(requests(&main_srv, "/todead.json"), 3);
}

static void
test_redirect_loop(void **state)
{
	struct fetch_opts o = opts_test();

	(void)state;
	serve("loop.json", "", fmt("{\"redirect\": \"%s/loop.json\"}", base));
	assert_string_equal(fetch_fails("/loop.json", &o),
	    "too many redirects (more than 5)");
	assert_int_equal(requests(&main_srv, "/loop.json"), MAX_REDIRS + 1);
}

static void
test_too_large(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;
	const char *paths[] = { "/big.txt", "/big-chunked.txt",
	    "/big-close.txt" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		o.max_bytes = 4096;
		assert_int_equal(fetch_document(fmt("%s%s", base, paths[i]),
		    &o, NULL, &r), AS_OK);
		assert_int_equal(r.len, 4096);
		assert_int_equal(strlen(r.body), 4096);
		fetch_result_free(&r);

		o.max_bytes = 4095;
		assert_string_equal(fetch_fails(paths[i], &o),
		    "response larger than max-bytes (4095)");
		assert_int_equal(requests(&main_srv, paths[i]), 2);
	}
}

static void
test_gzip(void **state)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;
	size_t i;
	double t0;

	(void)state;
	serve("zeros.json", "", "{\"gzip_bomb\": 1}");
	o.max_bytes = 1024 * 1024;
	assert_int_equal(fetch_document(fmt("%s/zeros.json", base), &o, NULL,
	    &r),
	    AS_OK);
	assert_int_equal(r.len, 1024 * 1024);
	for (i = 0; i < r.len && r.body[i] == '\0'; i++)
		;
	assert_int_equal(i, r.len);
	fetch_result_free(&r);

	serve("bomb.json", "", "{\"gzip_bomb\": 64}");
	t0 = now();
	assert_string_equal(fetch_fails("/bomb.json", &o),
	    "response larger than max-bytes (1048576)");
	assert_true(now() - t0 < 5);
}

static void
test_hang(void **state)
{
	struct fetch_opts o = opts_test();
	double t0, dt;

	(void)state;
	serve("hang.json", "[]", "{\"hang\": 10}");
	o.timeout = 2;
	o.retries = 0;
	t0 = now();
	assert_non_null(strstr(fetch_fails("/hang.json", &o), "timed out"));
	dt = now() - t0;
	assert_true(dt >= 1.5 && dt < 4);
}

static void
test_trickle(void **state)
{
	struct fetch_opts o = opts_test();
	double t0;

	(void)state;
	serve("slow.json", "[\"192.0.2.1\", \"192.0.2.2\", \"192.0.2.3\"]",
	    "{\"trickle\": 0.2}");
	o.timeout = 2;
	o.retries = 0;
	t0 = now();
	fetch_fails("/slow.json", &o);
	assert_true(now() - t0 < 4);
}

static void
test_short(void **state)
{
	struct fetch_opts o = opts_test();

	(void)state;
	serve("short.json", "[\"192.0.2.1\"]", "{\"short\": 100}");
	o.retries = 1;
	fetch_fails("/short.json", &o);
	assert_int_equal(requests(&main_srv, "/short.json"), 2);
}

/* TLS failures: never retried, so a 1 s backoff would show. */
static void
tls_fails(int port, const char *ca)
{
	struct fetch_opts o = opts_test();
	struct fetch_result r;
	double t0;

	o.ca_file = ca;
	o.retry_delay = 1;
	t0 = now();
	assert_int_equal(fetch_document(fmt("https://127.0.0.1:%d/ok.json",
	    port), &o, NULL, &r), AS_ETEMPFAIL);
	assert_true(now() - t0 < 1);
	assert_empty(&r);
}

static void
test_tls_unknown_ca(void **state)
{
	(void)state;
	tls_fails(main_srv.port, NULL);
	tls_fails(main_srv.port, fmt("%s/ca/otherca.pem", tmpdir));
	assert_int_equal(requests(&main_srv, "/ok.json"), 0);
}

/* Start a server with certificate name and check that fetches fail. */
static void
tls_server_fails(const char *name)
{
	struct server s = { 0 };

	assert_int_equal(server_start(&s, name), 0);
	tls_fails(s.port, ca_file);
	assert_int_equal(requests(&s, "/ok.json"), 0);
	server_stop(&s);
}

static void
test_tls_wrong_name(void **state)
{
	(void)state;
	tls_server_fails("wrongname");
}

static void
test_tls_self_signed(void **state)
{
	(void)state;
	tls_server_fails("selfsigned");
}

static void
test_tls_expired(void **state)
{
	(void)state;
	tls_server_fails("expired");
	assert_non_null(strstr(fetch_last_error(), "certificate has expired"));
}

/* GnuTLS status bits in words, whichever TLS backend libcurl has. */
static void
test_gnutls_reason(void **state)
{
	char buf[256], small[24];

	(void)state;
	assert_string_equal(fetch_gnutls_reason((1UL << 1) | (1UL << 10),
	    buf, sizeof(buf)), "certificate has expired");
	assert_string_equal(fetch_gnutls_reason((1UL << 1) | (1UL << 6) |
	    (1UL << 9), buf, sizeof(buf)), "certificate issuer is not "
	    "trusted (unknown CA, or a self-signed certificate); "
	    "certificate is not yet valid");
	/* Bits with no words still give a line that names them. */
	assert_string_equal(fetch_gnutls_reason(1UL << 1, buf, sizeof(buf)),
	    "certificate rejected (GnuTLS status 0x2)");
	/* Truncation stays inside the buffer and NUL-terminated. */
	fetch_gnutls_reason(~0UL, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_string_equal(fetch_gnutls_reason(0, buf, 0), "certificate "
	    "rejected (GnuTLS status 0x2)");
}

/*
 * fetch_global_init() (run by group_setup) keeps libssh2 from setting up
 * OpenSSL: no builtin engine is loaded.  Skipped when no libcrypto is
 * in the process (a libcurl without libssh2).
 */
static void
test_global_init_no_openssl(void **state)
{
	void *(*engine_first)(void);

	(void)state;
	*(void **)&engine_first = dlsym(RTLD_DEFAULT, "ENGINE_get_first");
	if (engine_first == NULL)
		skip();
	assert_null(engine_first());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_check),
		cmocka_unit_test(test_tls_unknown_ca),
		cmocka_unit_test(test_ok_json),
		cmocka_unit_test(test_conditional_304),
		cmocka_unit_test(test_file_url),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_error_body_discarded),
		cmocka_unit_test(test_retry_503),
		cmocka_unit_test(test_retry_exhausted),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_redirect_https),
		cmocka_unit_test(test_header_bounds),
		cmocka_unit_test(test_redirect_http),
		cmocka_unit_test(test_redirect_loop),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_hang),
		cmocka_unit_test(test_trickle),
		cmocka_unit_test(test_short),
		cmocka_unit_test(test_tls_wrong_name),
		cmocka_unit_test(test_tls_self_signed),
		cmocka_unit_test(test_tls_expired),
		cmocka_unit_test(test_gnutls_reason),
		cmocka_unit_test(test_global_init_no_openssl),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

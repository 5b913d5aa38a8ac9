/*
 * Unit tests for config.c: the config file grammar, every key's checks,
 * source resolution and command-line precedence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <cmocka.h>

#include "allowsync.h"

static enum as_status
parse(struct config *cfg, const char *text)
{
	enum as_status rc;

	config_defaults(cfg);
	rc = config_parse_buffer(cfg, text, strlen(text), "test.conf");
	return rc == AS_OK ? config_finish(cfg) : rc;
}

/* Write text to a temporary file; returns its path (static buffer). */
static const char *
tmpconf(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/allowsync-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static enum as_status
load(struct config *cfg, int argc, const char **argv)
{
	return config_load(argc, (char **)argv, cfg);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, ""), AS_OK);
	assert_string_equal(cfg.src.family, "inet");
	assert_string_equal(cfg.src.table, "filter");
	assert_string_equal(cfg.src.set4, "docplanner_v4");
	assert_string_equal(cfg.src.set6, "docplanner_v6");
	assert_int_equal(cfg.src.paths.n, 1);
	assert_string_equal(cfg.src.paths.v[0].text, "API[]");
	assert_int_equal(cfg.src.fetch.timeout, 30);
	assert_int_equal(cfg.src.fetch.max_bytes, 1048576);
	assert_int_equal(cfg.src.policy.min_prefix4, 16);
	assert_int_equal(cfg.src.policy.min_prefix6, 32);
	assert_int_equal(cfg.src.policy.max_entries, 10000);
	assert_int_equal(cfg.src.policy.decide[CLASS_PRIVATE], DEC_REJECT);
	assert_false(cfg.src.policy.lenient);
	assert_int_equal(cfg.src.nsources, 0);
	config_free(&cfg);
}

static void
test_file_grammar(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg,
	    "# comment\n"
	    "\n"
	    "   # indented comment\n"
	    "locale = pl\r\n"
	    "domain=example.com\n"
	    "url = https://mirror.example.net/ips.json\n"
	    "url-txt = https://mirror.example.net/other.txt\n"
	    "\ttable\t=\tfw \n"
	    "set6 =\n"
	    "json-keys = API, WEBHOOKS\n"
	    "timeout = 5\n"
	    "allow-private = yes\n"
	    "lenient = off\n"
	    "static = 8.8.8.8\n"
	    "static = 9.9.9.0/24\n"), AS_OK);
	assert_int_equal(cfg.src.nsources, 3);
	assert_string_equal(cfg.src.sources[0].url,
	    "https://www.znanylekarz.pl/public/docs/public-ips.json");
	assert_string_equal(cfg.src.sources[0].url_txt,
	    "https://www.znanylekarz.pl/public/docs/public-ips.txt");
	assert_string_equal(cfg.src.sources[1].url,
	    "https://www.example.com/public/docs/public-ips.json");
	assert_string_equal(cfg.src.sources[2].url_txt,
	    "https://mirror.example.net/other.txt");
	assert_string_equal(cfg.src.table, "fw");
	assert_false(cfg.src.sources[0].text_only);
	assert_string_equal(cfg.src.set6, "");
	assert_int_equal(cfg.src.paths.n, 2);
	assert_string_equal(cfg.src.paths.v[1].text, "WEBHOOKS[]");
	assert_int_equal(cfg.src.fetch.timeout, 5);
	assert_int_equal(cfg.src.policy.decide[CLASS_PRIVATE], DEC_ALLOW);
	assert_int_equal(cfg.src.nstatics, 2);
	assert_int_equal(cfg.src.statics[1].line, 15);
	config_free(&cfg);
}

static void
test_text_only_url(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, "url = file:///srv/mirror/ips.txt\n"
	    "url = https://a.example/list\n"), AS_OK);
	assert_true(cfg.src.sources[0].text_only);
	assert_string_equal(cfg.src.sources[0].url_txt,
	    "file:///srv/mirror/ips.txt");
	assert_false(cfg.src.sources[1].text_only);
	assert_null(cfg.src.sources[1].url_txt);
	config_free(&cfg);
}

static void
test_all_locales(void **state)
{
	static const char *codes[] = { "ar", "br", "cl", "co", "cz", "de",
	    "es", "it", "mx", "pe", "pl", "pt", "tr" };
	struct config cfg;
	char line[64];
	size_t i;

	(void)state;
	for (i = 0; i < 13; i++) {
		snprintf(line, sizeof(line), "locale = %s\n", codes[i]);
		assert_int_equal(parse(&cfg, line), AS_OK);
		assert_int_equal(cfg.src.nsources, 1);
		assert_non_null(strstr(cfg.src.sources[0].url, "https://www."));
		config_free(&cfg);
	}
	assert_int_equal(parse(&cfg, "locale = uk\n"), AS_ECONFIG);
	config_free(&cfg);
}

static void
test_bad_lines(void **state)
{
	static const char *bad[] = {
		"bogus = 1\n",
		"locale pl\n",
		"= pl\n",
		"[Section]\n",
		"[section\n",
		"[]\n",
		"[-a]\n",
		"[a b]\n",
		"[a]\n[a]\n",
		"[a]\nstate-dir = /tmp\n",
		"[a]\nwait = 3\n",
		"[a]\nmetrics-file = /tmp/m.prom\n",
		"[a]\ncreate = yes\n",
		"[a]\nbogus = 1\n",
		"[a]\nurl-txt = https://example.com/a.txt\n",
		"[a]\npreset = nosuchvendor\n",
		"[a]\njson-path = a..b\n",
		"[a]\ntimeout = 5\ntimeout = 6\n",
		"[abcdefghijklmnopqrstuvwxyz0123456]\n",
		"url = http://www.example.com/ips.json\n",
		"url = ftp://example.com/ips.json\n",
		"url = https://ex ample.com/ips.json\n",
		"url-txt = https://example.com/a.txt\n",
		"domain = exa_mple.com\n",
		"domain = ..com\n",
		"timeout = 0\n",
		"timeout = 601\n",
		"timeout = 1x\n",
		"timeout = -1\n",
		"timeout =\n",
		"min-prefix4 = 33\n",
		"min-prefix4 = 0\n",
		"min-prefix6 = 129\n",
		"max-entries = 0\n",
		"max-bytes = 99999999999999999999\n",
		"allow-private = maybe\n",
		"family = bridge\n",
		"table = a b\n",
		"table =\n",
		"set4 = x;y\n",
		"json-keys = API,,X\n",
		"json-keys =\n",
		"help = yes\n",
		"config = /etc/x\n",
		"dry-run = yes\x1b[2J\n",
	};
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&cfg, bad[i]) != AS_ECONFIG)
			fail_msg("accepted bad config line #%zu: %s", i,
			    bad[i]);
		config_free(&cfg);
	}
}

static void
test_error_names_line(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(parse(&cfg, "# ok\nlocale = pl\n\ntimeout = x\n"),
	    AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "test.conf: line 4: "
	    "timeout"));
	config_free(&cfg);
}

/*
 * An unknown key names the closest key when it is near enough to be a
 * typo, and nothing when it is not; the key itself is escaped.
 */
static void
test_unknown_key_suggestion(void **state)
{
	static const struct {
		const char	*line;
		const char	*want;
	} cases[] = {
		{ "timeot = 30\n",
		    "timeot: unknown key (did you mean timeout?)" },
		{ "lokale = pl\n", "(did you mean locale?)" },
		{ "allow_private = yes\n", "(did you mean allow-private?)" },
		{ "minprefix6 = 30\n", "(did you mean min-prefix6?)" },
		{ "xyzzy = 1\n", "xyzzy: unknown key" },
		{ "\"q\" = 1\n", "\\\"q\\\": unknown key" },
	};
	struct config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(&cfg, cases[i].line), AS_ECONFIG);
		if (strstr(log_last_error(), cases[i].want) == NULL)
			fail_msg("%s: got \"%s\"", cases[i].line,
			    log_last_error());
		config_free(&cfg);
	}
	assert_null(strstr(log_last_error(), "did you mean"));
}

/*
 * A URL with userinfo is refused wherever a URL is taken, and the error
 * line names where it was written without repeating the secret.
 */
static void
test_url_credentials(void **state)
{
	static const char *bad[] = {
		"url = https://user:s3cret@example.com/ips.json\n",
		"url = https://s3cret@example.com/ips.json\n",
		"url = https://example.com@s3cret.example/ips.json\n",
		"url = https://a%40s3cret@example.com/ips.json\n",
		"url = http://user:s3cret@example.com/ips.json\n",
		"url = https://example.com/ips.json\n"
		    "url-txt = https://user:s3cret@example.com/ips.txt\n",
	};
	struct config cfg;
	const char *argv[] = { "allowsync", "--url",
	    "https://user:s3cret@example.com/ips.json", NULL };
	const char *argv_txt[] = { "allowsync", "--url",
	    "https://example.com/ips.json", "--url-txt",
	    "https://user:s3cret@example.com/ips.txt", NULL };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&cfg, bad[i]) != AS_ECONFIG)
			fail_msg("accepted credentials #%zu: %s", i, bad[i]);
		assert_non_null(strstr(log_last_error(), "test.conf: line "));
		assert_non_null(strstr(log_last_error(),
		    "credentials in URLs are not supported"));
		assert_null(strstr(log_last_error(), "s3cret"));
		config_free(&cfg);
	}
	assert_int_equal(load(&cfg, 3, argv), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "--url: credentials in URLs "
	    "are not supported"));
	assert_null(strstr(log_last_error(), "s3cret"));
	config_free(&cfg);
	assert_int_equal(load(&cfg, 5, argv_txt), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "--url-txt: credentials"));
	assert_null(strstr(log_last_error(), "s3cret"));
	config_free(&cfg);
}

/* Parse "key = val\n" alone; returns the status. */
static enum as_status
parse_kv(struct config *cfg, const char *key, const char *val)
{
	char line[MAX_CONFIG_LINE];

	snprintf(line, sizeof(line), "%s = %s\n", key, val);
	return parse(cfg, line);
}

/*
 * Table and set names go unquoted into the include file: only names nft
 * reads back as names are accepted, for each of the three keys.
 */
static void
test_nft_names(void **state)
{
	static const char *good[] = {
		"fw", "filter", "x", "FwTable", "Counter", "SET", "t2x",
		"set4x", "v4", "allow_v4", "my.table", "a.b_c.9",
		"docplanner_v4",
	};
	static const struct {
		const char	*name;
		const char	*why;
	} bad[] = {
		{ "counter", "is an nft keyword" },
		{ "set", "is an nft keyword" },
		{ "table", "is an nft keyword" },
		{ "ip6", "is an nft keyword" },
		{ "name", "is an nft keyword" },
		{ "abort", "is an nft keyword" },
		{ "accept", "is an nft keyword" },
		{ "zone", "is an nft keyword" },
		{ "xt", "is an nft keyword" },
		{ "4set", "does not start with a letter" },
		{ "0x10", "does not start with a letter" },
		{ "_x", "does not start with a letter" },
		{ ".x", "does not start with a letter" },
		{ "-x", "does not start with a letter" },
		{ "docplanner-v4", "holds a character other than" },
		{ "a/b", "holds a character other than" },
		{ "a\\b", "holds a character other than" },
		{ "a*", "holds a character other than" },
		{ "a;b", "holds a character other than" },
		{ "a\"b", "holds a character other than" },
		{ "caf\xc3\xa9", "holds a character other than" },
	};
	static const char *keys[] = { "table", "set4", "set6" };
	char longest[MAX_NFT_NAME + 2], line[MAX_CONFIG_LINE];
	struct config cfg;
	const char *argv[] = { "allowsync", "--set4", "counter", "--locale",
	    "pl", NULL };
	size_t i, k;

	(void)state;
	memset(longest, 'a', MAX_NFT_NAME);
	longest[MAX_NFT_NAME] = '\0';
	for (k = 0; k < 3; k++) {
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			if (parse_kv(&cfg, keys[k], good[i]) != AS_OK)
				fail_msg("%s refused \"%s\"", keys[k], good[i]);
			config_free(&cfg);
		}
		assert_int_equal(parse_kv(&cfg, keys[k], longest), AS_OK);
		config_free(&cfg);
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (parse_kv(&cfg, keys[k], bad[i].name) != AS_ECONFIG)
				fail_msg("%s accepted \"%s\"", keys[k],
				    bad[i].name);
			snprintf(line, sizeof(line), "test.conf: line 1: %s: ",
			    keys[k]);
			assert_non_null(strstr(log_last_error(), line));
			assert_non_null(strstr(log_last_error(), bad[i].why));
			config_free(&cfg);
		}
	}
	longest[MAX_NFT_NAME] = 'a';
	longest[MAX_NFT_NAME + 1] = '\0';
	for (k = 0; k < 3; k++) {
		assert_int_equal(parse_kv(&cfg, keys[k], longest), AS_ECONFIG);
		assert_non_null(strstr(log_last_error(), "longer than 255"));
		config_free(&cfg);
	}

	/* An empty set switches a family off; an empty table is an error. */
	assert_int_equal(parse(&cfg, "set4 =\n"), AS_OK);
	config_free(&cfg);
	assert_int_equal(parse(&cfg, "table =\n"), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "table: \"\" is empty"));
	config_free(&cfg);

	assert_int_equal(load(&cfg, 5, argv), AS_ECONFIG);
	assert_string_equal(log_last_error(), "--set4: \"counter\" is an nft "
	    "keyword: nft could not read it back from the include file");
	config_free(&cfg);
}

/*
 * dry-run = yes in the file would silently turn every timer run into a
 * no-op: a command-line decision only.  --dry-run works as before.
 */
static void
test_dry_run_in_file(void **state)
{
	static const char *yes[] = { "yes", "YES", "true", "on", "1" };
	struct config cfg;
	char line[64];
	const char *path = tmpconf("locale = pl\n");
	const char *a1[] = { "allowsync", "-c", path, "--dry-run", NULL };
	const char *a2[] = { "allowsync", "-c", path, "--dry-run=yes", NULL };
	const char *a3[] = { "allowsync", "-c", path, "-n", NULL };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(line, sizeof(line), "locale = pl\ndry-run = %s\n",
		    yes[i]);
		assert_int_equal(parse(&cfg, line), AS_ECONFIG);
		assert_non_null(strstr(log_last_error(),
		    "test.conf: line 2: dry-run: "));
		assert_non_null(strstr(log_last_error(),
		    "command-line decision"));
		config_free(&cfg);
	}
	assert_int_equal(parse(&cfg, "dry-run = no\n"), AS_OK);
	assert_false(cfg.dry_run);
	config_free(&cfg);

	assert_int_equal(load(&cfg, 4, a1), AS_OK);
	assert_true(cfg.dry_run);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 4, a2), AS_OK);
	assert_true(cfg.dry_run);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 4, a3), AS_OK);
	assert_true(cfg.dry_run);
	config_free(&cfg);
	unlink(path);
}

/*
 * A key set twice in the file is an error naming both lines, except the
 * repeatable keys.  The command line overriding the file is no duplicate.
 */
static void
test_duplicate_keys(void **state)
{
	static const char *dups[] = {
		"set6 =\nset6 =\n",
		"lenient = yes\nlenient = no\n",
		"verbose = yes\nverbose = yes\n",
		"json-keys = API\njson-keys = hooks\n",
		"table = fw\nlocale = pl\ntable = fw\n",
		"ca-file = /a\nca-file = /b\n",
		"dry-run = no\ndry-run = no\n",
	};
	struct config cfg;
	const char *path = tmpconf("timeout = 5\nlocale = pl\n");
	const char *argv[] = { "allowsync", "-c", path, "--timeout", "6",
	    "--timeout", "7", NULL };
	size_t i;

	(void)state;
	assert_int_equal(parse(&cfg, "timeout = 5\nlocale = pl\n\n# x\n"
	    "retries = 1\nstatic = 8.8.8.8\ntimeout = 6\n"), AS_ECONFIG);
	assert_string_equal(log_last_error(),
	    "test.conf: line 7: timeout: already set on line 1");
	config_free(&cfg);
	for (i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
		if (parse(&cfg, dups[i]) != AS_ECONFIG)
			fail_msg("accepted duplicate #%zu: %s", i, dups[i]);
		assert_non_null(strstr(log_last_error(),
		    "already set on line"));
		config_free(&cfg);
	}

	/* The documented repeatable keys. */
	assert_int_equal(parse(&cfg, "locale = pl\nlocale = es\n"
	    "domain = a.example\ndomain = b.example\n"
	    "url = https://c.example/x.json\n"
	    "url-txt = https://c.example/x.txt\n"
	    "url = https://d.example/x.json\n"
	    "url-txt = https://d.example/x.txt\n"
	    "static = 8.8.8.8\nstatic = 9.9.9.9\n"), AS_OK);
	assert_int_equal(cfg.src.nsources, 6);
	assert_int_equal(cfg.src.nstatics, 2);
	config_free(&cfg);

	assert_int_equal(load(&cfg, 7, argv), AS_OK);
	assert_int_equal(cfg.src.fetch.timeout, 7);
	config_free(&cfg);
	unlink(path);
}

static void
test_cli_overrides_file(void **state)
{
	struct config cfg;
	const char *path = tmpconf("locale = pl\ntable = fromfile\n"
	    "static = 8.8.8.8\ndry-run = no\n");
	const char *argv[] = { "allowsync", "-c", path, "--table", "cli",
	    "--url", "https://a.example/x.json", "--url-txt",
	    "https://a.example/y.txt", "--domain", "b.example", "-n",
	    "--lenient", NULL };

	(void)state;
	assert_int_equal(load(&cfg, 13, argv), AS_OK);
	unlink(path);
	assert_string_equal(cfg.src.table, "cli");
	assert_int_equal(cfg.src.nsources, 2);	/* file's locale replaced */
	assert_string_equal(cfg.src.sources[0].url_txt,
	    "https://a.example/y.txt");
	assert_string_equal(cfg.src.sources[1].url_txt,
	    "https://www.b.example/public/docs/public-ips.txt");
	assert_string_equal(cfg.src.sources[1].url,
	    "https://www.b.example/public/docs/public-ips.json");
	assert_int_equal(cfg.src.nstatics, 1);	/* file statics kept */
	assert_true(cfg.dry_run);
	assert_true(cfg.src.policy.lenient);
	config_free(&cfg);
}

static void
test_cli_errors(void **state)
{
	struct config cfg;
	const char *a1[] = { "allowsync", "--no-such-option", NULL };
	const char *a2[] = { "allowsync", "--timeout", "abc", NULL };
	const char *a3[] = { "allowsync", "-c", "/nonexistent/allowsync.conf",
	    NULL };
	const char *a4[] = { "allowsync", "--url", "http://x.example/a.json",
	    NULL };
	const char *a5[] = { "allowsync", "stray", NULL };
	const char *a6[] = { "allowsync", "--set4=", "--set6=", "--locale",
	    "pl", NULL };

	(void)state;
	assert_int_equal(load(&cfg, 2, a1), AS_EUSAGE);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 3, a2), AS_ECONFIG);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 3, a3), AS_ECONFIG);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 3, a4), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "https"));
	config_free(&cfg);
	assert_int_equal(load(&cfg, 2, a5), AS_EUSAGE);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 5, a6), AS_ECONFIG);
	config_free(&cfg);
}

/*
 * A CA file that cannot be used is a configuration error when the config
 * is read, naming the file and where it was set, not an outage later.
 */
static void
test_ca_file(void **state)
{
	struct config cfg;
	char expect[128], conf[64];
	const char *a1[] = { "allowsync", "--ca-file", "/nonexistent/ca.pem",
	    "--locale", "pl", NULL };
	const char *a2[] = { "allowsync", "--ca-file", "/tmp", "--locale",
	    "pl", NULL };
	const char *a3[] = { "allowsync", "--ca-file", "/dev/null", "--locale",
	    "pl", NULL };
	const char *a4[] = { "allowsync", "-c", conf, NULL };
	const char *a5[] = { "allowsync", "-c", conf, "--ca-file", conf, NULL };

	(void)state;
	assert_int_equal(load(&cfg, 5, a1), AS_ECONFIG);
	assert_string_equal(log_last_error(), "--ca-file: "
	    "\"/nonexistent/ca.pem\" cannot be read: No such file or "
	    "directory");
	config_free(&cfg);
	assert_int_equal(load(&cfg, 5, a2), AS_ECONFIG);
	assert_string_equal(log_last_error(), "--ca-file: \"/tmp\" is a "
	    "directory, not a file");
	config_free(&cfg);
	assert_int_equal(load(&cfg, 5, a3), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "not a regular file"));
	config_free(&cfg);

	snprintf(conf, sizeof(conf), "%s",
	    tmpconf("locale = pl\nca-file = /nonexistent/ca.pem\n"));
	assert_int_equal(load(&cfg, 3, a4), AS_ECONFIG);
	snprintf(expect, sizeof(expect), "%s: line 2: ca-file: "
	    "\"/nonexistent/ca.pem\" cannot be read", conf);
	assert_non_null(strstr(log_last_error(), expect));
	config_free(&cfg);
	/* The command line wins: only the file it names is checked. */
	assert_int_equal(load(&cfg, 5, a5), AS_OK);
	assert_string_equal(cfg.src.ca_file, conf);
	assert_string_equal(cfg.src.fetch.ca_file, conf);
	config_free(&cfg);
	unlink(conf);
}

static void
test_missing_default_ok(void **state)
{
	struct config cfg;
	const char *argv[] = { "allowsync", "--locale", "de", "--set6=", NULL };

	(void)state;
	/* The default file may be absent: not an error. */
	if (access(DEFAULT_CONFIG_FILE, F_OK) == 0)
		skip();
	assert_int_equal(load(&cfg, 4, argv), AS_OK);
	assert_int_equal(cfg.src.nsources, 1);
	assert_true(cfg.src.policy.want4);
	assert_false(cfg.src.policy.want6);
	config_free(&cfg);
}

static void
test_flags_take_values(void **state)
{
	struct config cfg;
	const char *path = tmpconf("allow-private = yes\nlocale = pl\n");
	const char *argv[] = { "allowsync", "-c", path, "--allow-private=no",
	    "-v", "-v", NULL };

	(void)state;
	assert_int_equal(load(&cfg, 6, argv), AS_OK);
	unlink(path);
	assert_int_equal(cfg.src.policy.decide[CLASS_PRIVATE], DEC_REJECT);
	assert_int_equal(cfg.verbosity, 2);
	config_free(&cfg);
}

/*
 * A value to set for every key of the table, and what config_value()
 * must give back.  A key missing here fails test_table_round_trip: a new
 * key must be tested.
 */
static const struct {
	const char	*key;
	const char	*set;		/* as written in the file, or argv */
	const char	*get;		/* NULL: the same */
} samples[] = {
	{ "config", "/etc/other.conf", NULL },
	{ "dry-run", "yes", NULL },
	{ "json", "yes", NULL },
	{ "verbose", "yes", NULL },
	{ "quiet", "yes", NULL },
	{ "version", "yes", NULL },
	{ "help", "yes", NULL },
	{ "list-presets", "yes", NULL },
	{ "locale", "PL", "pl" },
	{ "domain", "example.com", NULL },
	{ "url", "https://mirror.example.net/ips.json", NULL },
	{ "url-txt", "https://mirror.example.net/ips-text", NULL },
	{ "ca-file", "/etc/ssl/certs/ca-certificates.crt", NULL },
	{ "preset", "github-hooks", NULL },
	{ "format", "text", NULL },
	{ "json-keys", "API , WEBHOOKS", "API,WEBHOOKS" },
	{ "json-path", "prefixes[service=X Y].ip_prefix , hooks[]",
	    "prefixes[service=X Y].ip_prefix,hooks[]" },
	{ "timeout", "600", NULL },
	{ "connect-timeout", "7", NULL },
	{ "max-bytes", "268435456", NULL },
	{ "retries", "10", NULL },
	{ "retry-delay", "0", NULL },
	{ "family", "ip6", NULL },
	{ "table", "fw.main_1", NULL },
	{ "set4", "", NULL },
	{ "set6", "v6_list", NULL },
	{ "create", "on", "yes" },
	{ "guard-ports", "tcp/8443, udp/53,tcp/9000-9100",
	    "tcp/8443,udp/53,tcp/9000-9100" },
	{ "guard-table", "fw_guard", NULL },
	{ "min-prefix4", "32", NULL },
	{ "min-prefix6", "128", NULL },
	{ "private", "skip", NULL },
	{ "special", "skip", NULL },
	{ "wide", "reject", NULL },
	{ "allow-private", "true", "yes" },
	{ "max-entries", "16777216", NULL },
	{ "lenient", "1", "yes" },
	{ "static", "185.1.2.3", NULL },
	{ "state-dir", "/srv/allowsync", NULL },
	{ "remove-after", "1000", NULL },
	{ "max-remove-percent", "0", NULL },
	{ "force", "yes", NULL },
	{ "stale-warn", "3650", NULL },
	{ "wait", "3600", NULL },
	{ "metrics-file", "/var/lib/prometheus/allowsync.prom", NULL },
	{ "annotate", "no", NULL },
	{ "restore", "yes", NULL },
	{ "check", "yes", NULL },
	{ "status", "yes", NULL },
	{ "uninstall", "yes", NULL },
	{ "section", "stripe", NULL },
	{ "explain", "185.10.20.7", NULL },
	{ "is-configured", "yes", NULL },
};

/*
 * Every key of the table: set through the file (or, for the
 * command-line-only keys, argv) and read back with config_value().
 */
static void
test_table_round_trip(void **state)
{
	struct config cfg;
	const char *key, *argv[4];
	char text[512], buf[512], arg[256];
	unsigned int flags;
	size_t i, j, n = sizeof(samples) / sizeof(samples[0]);

	(void)state;
	for (i = 0; (key = config_key(i, &flags)) != NULL; i++) {
		for (j = 0; j < n && strcmp(samples[j].key, key) != 0; j++)
			;
		if (j == n)
			fail_msg("key %s has no sample value", key);
		if (flags & KEY_CLI_ONLY || strcmp(key, "dry-run") == 0) {
			/* An empty config file: /dev/null. */
			snprintf(arg, sizeof(arg), "--%s", key);
			if (strcmp(key, "section") == 0 ||
			    strcmp(key, "explain") == 0)
				snprintf(arg, sizeof(arg), "--%s=%s", key,
				    samples[j].set);
			argv[0] = "allowsync";
			argv[1] = arg;
			argv[2] = strcmp(key, "config") == 0 ?
			    samples[j].set : "--config=/dev/null";
			argv[3] = NULL;
			(void)load(&cfg, 3, argv);
		} else {
			snprintf(text, sizeof(text), "%s%s = %s\n",
			    strcmp(key, "url-txt") == 0 ?
			    "url = https://a.example/x.json\n" : "", key,
			    samples[j].set);
			if (parse(&cfg, text) != AS_OK)
				fail_msg("%s = %s refused", key,
				    samples[j].set);
		}
		assert_non_null(config_value(&cfg, key, buf, sizeof(buf)));
		if (strcmp(buf, samples[j].get ? samples[j].get :
		    samples[j].set) != 0)
			fail_msg("%s: set %s, got %s", key, samples[j].set,
			    buf);
		config_free(&cfg);
	}
	assert_int_equal(i, n);
	assert_null(config_value(&cfg, "no-such-key", buf, sizeof(buf)));
}

/* The contents of path, or NULL; the caller frees it. */
static char *
slurp(const char *path)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	buf = malloc(1 << 20);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * Every key is documented: the file's keys in allowsync.conf(5) (".It Cm
 * KEY") and every option in allowsync(8) ("Fl Fl KEY").  The README is a
 * newcomer's page and points there.
 */
static void
test_table_documented(void **state)
{
	char *conf5, *man8, needle[128];
	const char *key;
	unsigned int flags;
	size_t i;

	(void)state;
	conf5 = slurp("docs/allowsync.conf.5");
	man8 = slurp("docs/allowsync.8");
	if (conf5 == NULL || man8 == NULL)
		fail_msg("run from the top of the source tree");
	for (i = 0; (key = config_key(i, &flags)) != NULL; i++) {
		snprintf(needle, sizeof(needle), ".It Cm %s ", key);
		if (!(flags & KEY_CLI_ONLY) && strstr(conf5, needle) == NULL)
			fail_msg("allowsync.conf.5 lacks %s", needle);
		snprintf(needle, sizeof(needle), "Fl Fl %s", key);
		if (strstr(man8, needle) == NULL)
			fail_msg("allowsync.8 lacks %s", needle);
	}
	free(conf5);
	free(man8);
}

/*
 * Every exit code main.c can return has an entry in allowsync(8)'s EXIT
 * STATUS: the sysexits names it uses, and 1 (drift, a denied address).
 */
static void
test_exit_codes_documented(void **state)
{
	static const struct {
		const char	*name;
		int		 code;
	} ex[] = {
		{ "EX_OK", EX_OK }, { "EX_USAGE", EX_USAGE },
		{ "EX_DATAERR", EX_DATAERR }, { "EX_NOINPUT", EX_NOINPUT },
		{ "EX_NOUSER", EX_NOUSER }, { "EX_NOHOST", EX_NOHOST },
		{ "EX_UNAVAILABLE", EX_UNAVAILABLE },
		{ "EX_SOFTWARE", EX_SOFTWARE }, { "EX_OSERR", EX_OSERR },
		{ "EX_OSFILE", EX_OSFILE }, { "EX_CANTCREAT", EX_CANTCREAT },
		{ "EX_IOERR", EX_IOERR }, { "EX_TEMPFAIL", EX_TEMPFAIL },
		{ "EX_PROTOCOL", EX_PROTOCOL }, { "EX_NOPERM", EX_NOPERM },
		{ "EX_CONFIG", EX_CONFIG },
	};
	char *mainc, *man8, *sec, needle[32];
	size_t i, found = 0;

	(void)state;
	mainc = slurp("src/main.c");
	man8 = slurp("docs/allowsync.8");
	if (mainc == NULL || man8 == NULL)
		fail_msg("run from the top of the source tree");
	if ((sec = strstr(man8, "\n.Sh EXIT STATUS\n")) == NULL)
		fail_msg("allowsync.8 has no EXIT STATUS");
	if (strstr(sec + 1, "\n.Sh ") != NULL)
		strstr(sec + 1, "\n.Sh ")[1] = '\0';
	if (strstr(mainc, "return 1;") == NULL ||
	    strstr(sec, "\n.It 1\n") == NULL)
		fail_msg("exit 1 is not both returned and documented");
	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		snprintf(needle, sizeof(needle), "return %s;", ex[i].name);
		if (strstr(mainc, needle) == NULL)
			continue;
		found++;
		snprintf(needle, sizeof(needle), "\n.It %d\n", ex[i].code);
		if (strstr(sec, needle) == NULL)
			fail_msg("allowsync.8 EXIT STATUS lacks %d (%s)",
			    ex[i].code, ex[i].name);
	}
	assert_true(found >= 10);
	free(mainc);
	free(man8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_grammar),
		cmocka_unit_test(test_text_only_url),
		cmocka_unit_test(test_all_locales),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_error_names_line),
		cmocka_unit_test(test_unknown_key_suggestion),
		cmocka_unit_test(test_url_credentials),
		cmocka_unit_test(test_nft_names),
		cmocka_unit_test(test_dry_run_in_file),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_cli_overrides_file),
		cmocka_unit_test(test_cli_errors),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_missing_default_ok),
		cmocka_unit_test(test_flags_take_values),
		cmocka_unit_test(test_table_round_trip),
		cmocka_unit_test(test_table_documented),
		cmocka_unit_test(test_exit_codes_documented),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

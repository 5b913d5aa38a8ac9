/*
 * Unit tests for the config file's sections (config.c, sections.c) and
 * what a section may hold: presets and formats.
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

/*
 * Load text as the config file, with the command-line arguments args
 * (NULL-terminated) after --config.  Returns config_load()'s status.
 */
static enum as_status
load_text(struct config *cfg, const char *text, const char *const *args)
{
	char path[] = "/tmp/allowsync-sections-XXXXXX", conf[64];
	const char *argv[16] = { "allowsync", conf };
	enum as_status rc;
	size_t n = 2;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	snprintf(conf, sizeof(conf), "--config=%s", path);
	while (args != NULL && *args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	rc = config_load((int)n, (char **)argv, cfg);
	unlink(path);
	return rc;
}

/* The section called name, which must be there. */
static const struct source_opts *
section(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nsections; i++)
		if (strcmp(cfg->sections[i].name, name) == 0)
			return &cfg->sections[i];
	fail_msg("no section %s", name);
	return NULL;
}

static const char two_vendors[] =
    "# defaults\n"
    "state-dir = /tmp/allowsync-sections-state\n"
    "min-prefix4 = 24\n"
    "timeout = 20\n"
    "\n"
    "[docplanner]\n"
    "locale = pl\n"
    "\n"
    "[stripe]\n"
    "preset = stripe-webhooks\n"
    "set4 = stripe_v4\n"
    "set6 =\n"
    "\n"
    "[github]\n"
    "preset = github-hooks\n"
    "min-prefix6 = 30\n"
    "set4 = github_v4\n"
    "set6 = github_v6\n";

/* Keys before the first section are every section's defaults. */
static void
test_defaults_and_overrides(void **state)
{
	const struct source_opts *dp, *st, *gh;
	struct config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, two_vendors, NULL), AS_OK);
	assert_int_equal(cfg.nsections, 3);
	assert_int_equal(config_nsections(&cfg), 3);
	dp = section(&cfg, "docplanner");
	st = section(&cfg, "stripe");
	gh = section(&cfg, "github");
	assert_ptr_equal(config_section(&cfg, 0), dp);
	/* Inherited. */
	assert_int_equal(dp->policy.min_prefix4, 24);
	assert_int_equal(dp->fetch.timeout, 20);
	assert_int_equal(gh->fetch.timeout, 20);
	assert_string_equal(dp->set4, "docplanner_v4");
	assert_int_equal(dp->nsources, 1);
	assert_string_equal(dp->sources[0].url,
	    "https://www.znanylekarz.pl/public/docs/public-ips.json");
	assert_int_equal(dp->line, 6);
	/* The preset beats an inherited value, a key in the section it. */
	assert_int_equal(st->policy.min_prefix4, 32);
	assert_int_equal(gh->policy.min_prefix4, 20);
	assert_int_equal(gh->policy.min_prefix6, 30);
	assert_string_equal(st->sources[0].url,
	    "https://stripe.com/files/ips/ips_webhooks.json");
	assert_string_equal(st->sources[0].url_txt,
	    "https://stripe.com/files/ips/ips_webhooks.txt");
	assert_string_equal(st->paths.v[0].text, "WEBHOOKS[]");
	assert_false(st->policy.want6);
	assert_string_equal(gh->sources[0].url, "https://api.github.com/meta");
	assert_null(gh->sources[0].url_txt);
	assert_string_equal(gh->paths.v[0].text, "hooks[]");
	assert_string_equal(dp->paths.v[0].text, "API[]");
	/* Everything runs without --section. */
	assert_true(dp->selected && st->selected && gh->selected);
	/* Program-wide keys stay program-wide. */
	assert_string_equal(cfg.state_dir, "/tmp/allowsync-sections-state");
	config_free(&cfg);
}

/* The command line overrides a key in every section; --section picks. */
static void
test_command_line(void **state)
{
	static const char *const args[] = { "--timeout=7", "--section=stripe",
	    "--section", "github", NULL };
	static const char *const url[] = { "--url=https://x.example/a.json",
	    NULL };
	static const char *const bad[] = { "--section=nosuch", NULL };
	static const char *const stat[] = { "--static=1.2.3.4", NULL };
	struct config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, two_vendors, args), AS_OK);
	assert_int_equal(section(&cfg, "docplanner")->fetch.timeout, 7);
	assert_int_equal(section(&cfg, "github")->fetch.timeout, 7);
	assert_false(section(&cfg, "docplanner")->selected);
	assert_true(section(&cfg, "stripe")->selected);
	assert_true(section(&cfg, "github")->selected);
	config_free(&cfg);
	/* Sources and static entries belong in a section. */
	assert_int_equal(load_text(&cfg, two_vendors, url), AS_EUSAGE);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, two_vendors, stat), AS_EUSAGE);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, two_vendors, bad), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "no section [nosuch]"));
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "locale = pl\n", bad), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "has no sections"));
	config_free(&cfg);
}

/* What sections share, and what they may not. */
static void
test_shared_targets(void **state)
{
	static const struct {
		const char	*text;
		const char	*err;	/* NULL: fine */
	} cases[] = {
		{ "[a]\nlocale = pl\n[b]\nlocale = de\n", NULL },
		{ "[a]\nlocale = pl\n[b]\nlocale = de\nset6 = other\n",
		    "share a set but not the other" },
		{ "[a]\nlocale = pl\n[b]\nlocale = de\nset4 = docplanner_v6\n"
		    "set6 = x\n", "share a set but not the other" },
		{ "[a]\nlocale = pl\n[b]\nlocale = de\ntable = other\n"
		    "set6 = other\n", NULL },
		{ "[a]\nlocale = pl\n[b]\nlocale = de\nfamily = ip\nset6 =\n",
		    NULL },
		{ "[a]\nlocale = pl\nguard-ports = tcp/443\n[b]\nlocale = de\n"
		    "guard-ports = tcp/8443\nset4 = b4\nset6 = b6\n", NULL },
		{ "[a]\nlocale = pl\nguard-ports = tcp/1,tcp/2,tcp/3,tcp/4,"
		    "tcp/5,tcp/6,tcp/7,tcp/8,tcp/9\n[b]\nlocale = de\n"
		    "guard-ports = tcp/11,tcp/12,tcp/13,tcp/14,tcp/15,tcp/16,"
		    "tcp/17,tcp/18\nset4 = b4\nset6 = b6\n",
		    "guard 17 port items in all: at most 16" },
		{ "[a]\nlocale = pl\nguard-ports = tcp/443\n[b]\nlocale = de\n"
		    "guard-ports = tcp/8443\n", NULL },
		{ "[a]\nlocale = pl\nguard-ports = tcp/443\n[b]\nlocale = de\n"
		    "guard-ports = tcp/400-500\nset4 = b4\nset6 = b6\n",
		    "both guard tcp/443 with different sets" },
		{ "[a]\nlocale = pl\nguard-ports = tcp/443\n[b]\nlocale = de\n"
		    "guard-ports = tcp/443,udp/53\n", NULL },
		{ "[a]\nlocale = pl\nguard-ports = udp/443\n[b]\nlocale = de\n"
		    "guard-ports = tcp/443\n", NULL },
		{ "[a]\nlocale = pl\nguard-ports = tcp/443\n[b]\nlocale = de\n"
		    "guard-ports = tcp/8443\nguard-table = other\n",
		    "different guard-table" },
		{ "[a]\nlocale = pl\nguard-ports = tcp/443\n[b]\nlocale = de\n"
		    "table = allowsync\nset4 = b4\nset6 = b6\n",
		    "guard mode owns it in one" },
		{ "[a]\n[b]\nlocale = de\n", "[a] (line 1): has no source" },
		{ "table = t\n[a]\nlocale = pl\nguard-ports = tcp/1\n", NULL },
		{ "[a]\nlocale = pl\ntable = t\nguard-ports = tcp/1\n",
		    "[a] (line 1): guard-ports with table" },
		{ "[a]\nlocale = pl\nset4 =\nset6 =\n",
		    "[a] (line 1): set4 and set6 are both empty" },
		{ "[a]\nlocale = pl\njson-keys = A\njson-path = B[]\n",
		    "[a] (line 1): json-keys and json-path" },
		{ "json-keys = A\n[a]\nlocale = pl\njson-path = B[]\n", NULL },
	};
	struct config cfg;
	enum as_status rc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = load_text(&cfg, cases[i].text, NULL);
		if (cases[i].err == NULL && rc != AS_OK)
			fail_msg("#%zu refused: %s", i, log_last_error());
		if (cases[i].err != NULL && (rc != AS_ECONFIG ||
		    strstr(log_last_error(), cases[i].err) == NULL))
			fail_msg("#%zu: exit %d, \"%s\" lacks \"%s\"", i, rc,
			    log_last_error(), cases[i].err);
		config_free(&cfg);
	}
}

/* A config without sections is the one section there is. */
static void
test_no_sections(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, "locale = pl\n", NULL), AS_OK);
	assert_int_equal(cfg.nsections, 0);
	assert_int_equal(config_nsections(&cfg), 1);
	assert_ptr_equal(config_section(&cfg, 0), &cfg.src);
	assert_null(cfg.src.name);
	assert_true(cfg.src.selected);
	config_free(&cfg);
}

/* Each preset fills in what the table says; a bad name lists them all. */
static void
test_presets(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, "preset = cloudflare\n", NULL), AS_OK);
	assert_int_equal(cfg.src.nsources, 2);
	assert_true(cfg.src.sources[0].text_only);
	assert_true(cfg.src.sources[1].text_only);
	assert_string_equal(cfg.src.sources[1].url_txt,
	    "https://www.cloudflare.com/ips-v6");
	assert_int_equal(cfg.src.policy.min_prefix4, 13);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "preset = aws-cloudfront-origin\n"
	    "min-prefix4 = 20\n", NULL), AS_OK);
	assert_int_equal(cfg.src.fetch.max_bytes, 4194304);
	assert_int_equal(cfg.src.policy.min_prefix4, 20);
	assert_int_equal(cfg.src.policy.min_prefix6, 39);
	assert_int_equal(cfg.src.paths.n, 2);
	assert_false(cfg.src.sources[0].sniff);
	config_free(&cfg);
	/* A url replaces all of the preset's. */
	assert_int_equal(load_text(&cfg, "preset = cloudflare\n"
	    "url = https://mirror.example/cf-v4\n", NULL), AS_OK);
	assert_int_equal(cfg.src.nsources, 1);
	assert_true(cfg.src.sources[0].text_only);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "preset = DOCPLANNER-pl\n", NULL),
	    AS_OK);
	assert_string_equal(cfg.src.sources[0].name, "pl");
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "preset = github\n", NULL),
	    AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "unknown preset (one of "
	    "docplanner-CC github-hooks stripe-webhooks cloudflare fastly "
	    "aws-cloudfront-origin)"));
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "preset = docplanner-uk\n", NULL),
	    AS_ECONFIG);
	config_free(&cfg);
}

/* format decides which forms a source has. */
static void
test_formats(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(load_text(&cfg, "url = https://a.example/list\n"
	    "url = https://a.example/l.json\nurl = https://a.example/l.txt\n",
	    NULL), AS_OK);
	assert_true(cfg.src.sources[0].sniff);
	assert_null(cfg.src.sources[0].url_txt);
	assert_true(cfg.src.sources[1].sniff);
	assert_string_equal(cfg.src.sources[1].url_txt,
	    "https://a.example/l.txt");
	assert_true(cfg.src.sources[2].text_only);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "format = text\n"
	    "url = https://a.example/l.json\n", NULL), AS_OK);
	assert_true(cfg.src.sources[0].text_only);
	assert_string_equal(cfg.src.sources[0].url_txt,
	    "https://a.example/l.json");
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "format = json\n"
	    "url = https://a.example/list\n", NULL), AS_OK);
	assert_false(cfg.src.sources[0].sniff);
	assert_false(cfg.src.sources[0].text_only);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "format = text\n"
	    "url = https://a.example/l\nurl-txt = https://a.example/m\n",
	    NULL), AS_ECONFIG);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "format = yaml\n", NULL),
	    AS_ECONFIG);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "locale = pl\n"
	    "url-txt = https://a.example/m\n", NULL), AS_ECONFIG);
	config_free(&cfg);
	assert_int_equal(load_text(&cfg, "locale = pl\ndomain = "
	    "znanylekarz.pl\n", NULL), AS_ECONFIG);
	assert_non_null(strstr(log_last_error(), "the same list"));
	config_free(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_overrides),
		cmocka_unit_test(test_command_line),
		cmocka_unit_test(test_shared_targets),
		cmocka_unit_test(test_no_sections),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_formats),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

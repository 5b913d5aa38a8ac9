/*
 * libFuzzer target: the config file parser, sections included.  Every
 * input starts from the defaults; whatever config_parse_buffer() and
 * config_finish() (presets, forms) accept must leave every bound the
 * options promise in the defaults and in every section, the sections
 * named well and once, and config_free() must release all of it; the
 * checks between sections (sections_check()) must not crash on it.
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

/* Abort unless the section so keeps every limit the options promise. */
static void
check_section(const struct source_opts *so)
{
	const struct fetch_opts *f = &so->fetch;
	const struct policy *p = &so->policy;
	size_t i;

	if (so->nsources > MAX_SOURCES || so->nstatics > MAX_STATIC ||
	    so->paths.n == 0 || so->paths.n > MAX_JSON_PATHS)
		fuzz_fail("config list over its limit");
	for (i = 0; i < so->nsources; i++)
		if (so->sources[i].name == NULL || so->sources[i].url == NULL ||
		    fetch_url_check(so->sources[i].url) != NULL ||
		    (so->sources[i].url_txt != NULL &&
		    fetch_url_check(so->sources[i].url_txt) != NULL))
			fuzz_fail("config kept a source URL it must refuse");
	for (i = 0; i < so->paths.n; i++)
		if (so->paths.v[i].nsteps == 0 ||
		    so->paths.v[i].nsteps > MAX_PATH_STEPS)
			fuzz_fail("config kept an empty JSON path");
	if (f->timeout < 1 || f->timeout > MAX_TIMEOUT ||
	    f->connect_timeout < 1 || f->connect_timeout > MAX_TIMEOUT ||
	    f->max_bytes > MAX_MAX_BYTES || f->retries > MAX_RETRIES ||
	    p->min_prefix4 < 1 || p->min_prefix4 > 32 ||
	    p->min_prefix6 < 1 || p->min_prefix6 > 128 ||
	    p->max_entries < 1 || p->max_entries > MAX_MAX_ENTRIES)
		fuzz_fail("config number out of its range");
	if (strcmp(so->family, "inet") != 0 && strcmp(so->family, "ip") != 0 &&
	    strcmp(so->family, "ip6") != 0)
		fuzz_fail("config kept a bad family");
	if (so->table[0] == '\0' || strlen(so->table) > MAX_NFT_NAME ||
	    strlen(so->set4) > MAX_NFT_NAME || strlen(so->set6) > MAX_NFT_NAME)
		fuzz_fail("config kept a bad table or set name");
}

/* Abort unless cfg keeps every limit the options promise. */
static void
check_config(const struct config *cfg)
{
	size_t i, j;

	check_section(&cfg->src);
	if (cfg->nsections > MAX_SECTIONS)
		fuzz_fail("more sections than MAX_SECTIONS");
	for (i = 0; i < cfg->nsections; i++) {
		check_section(&cfg->sections[i]);
		if (cfg->sections[i].name == NULL ||
		    section_name_check(cfg->sections[i].name) != NULL)
			fuzz_fail("config kept a bad section name");
		for (j = 0; j < i; j++)
			if (strcmp(cfg->sections[i].name,
			    cfg->sections[j].name) == 0)
				fuzz_fail("config kept a section twice");
	}
	if (cfg->help || cfg->version ||
	    strcmp(cfg->config_file, DEFAULT_CONFIG_FILE) != 0)
		fuzz_fail("config file set a command-line-only key");
}

/* One input: defaults, then the input as a config file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;

	config_defaults(&cfg);
	if (config_parse_buffer(&cfg, (const char *)data, size,
	    "fuzz.conf") == AS_OK && config_finish(&cfg) == AS_OK) {
		check_config(&cfg);
		(void)sections_check(&cfg);
	}
	config_free(&cfg);
	return 0;
}

/*
 * libFuzzer target: the config file parser.  Every input starts from the
 * defaults; whatever config_parse_buffer() accepts must leave every bound
 * the options promise, and config_free() must release all of it.
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

/* Abort unless cfg keeps every limit the options promise. */
static void
check_config(const struct config *cfg)
{
	size_t i;

	if (cfg->src.nsources > MAX_SOURCES || cfg->src.nstatics > MAX_STATIC ||
	    cfg->src.njson_keys > MAX_JSON_KEYS)
		fuzz_fail("config list over its limit");
	for (i = 0; i < cfg->src.nsources; i++)
		if (cfg->src.sources[i].name == NULL ||
		    cfg->src.sources[i].url == NULL ||
		    fetch_url_check(cfg->src.sources[i].url) != NULL ||
		    (cfg->src.sources[i].url_txt != NULL &&
		    fetch_url_check(cfg->src.sources[i].url_txt) != NULL))
			fuzz_fail("config kept a source URL it must refuse");
	for (i = 0; i < cfg->src.njson_keys; i++)
		if (cfg->src.json_keys[i] == NULL || cfg->src.json_keys[i][0] == '\0')
			fuzz_fail("config kept an empty JSON key");
	if (cfg->src.fetch.timeout < 1 || cfg->src.fetch.timeout > MAX_TIMEOUT ||
	    cfg->src.fetch.connect_timeout < 1 ||
	    cfg->src.fetch.connect_timeout > MAX_TIMEOUT ||
	    cfg->src.fetch.max_bytes > MAX_MAX_BYTES ||
	    cfg->src.fetch.retries > MAX_RETRIES ||
	    cfg->src.policy.min_prefix4 < 1 || cfg->src.policy.min_prefix4 > 32 ||
	    cfg->src.policy.min_prefix6 < 1 || cfg->src.policy.min_prefix6 > 128 ||
	    cfg->src.policy.max_entries < 1 ||
	    cfg->src.policy.max_entries > MAX_MAX_ENTRIES)
		fuzz_fail("config number out of its range");
	if (strcmp(cfg->src.family, "inet") != 0 &&
	    strcmp(cfg->src.family, "ip") != 0 && strcmp(cfg->src.family, "ip6") != 0)
		fuzz_fail("config kept a bad family");
	if (cfg->src.table[0] == '\0' || strlen(cfg->src.table) > MAX_NFT_NAME ||
	    strlen(cfg->src.set4) > MAX_NFT_NAME ||
	    strlen(cfg->src.set6) > MAX_NFT_NAME)
		fuzz_fail("config kept a bad table or set name");
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
	    "fuzz.conf") == AS_OK)
		check_config(&cfg);
	config_free(&cfg);
	return 0;
}

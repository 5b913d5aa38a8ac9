/*
 * Presets: the source keys of a vendor's published list, and the narrowest
 * policy that accepts the list as the vendor publishes it today (measured
 * on the copies in tests/data/vendor-lists, see SOURCES.md there).  A
 * preset is a list of key = value lines that config.c applies to a
 * section for each key the section does not set itself.  All of them are
 * in this one table.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "allowsync.h"

struct preset {
	const char	*name;
	const char	*what;			/* --list-presets */
	const char	*keys[MAX_PRESET_KEYS];	/* "key=value", NULL-ended */
};

/*
 * docplanner-CC is one row per market, made from the locale table by
 * preset_keys(); the rows below are the other vendors.
 */
static const struct preset presets[] = {
	{ "github-hooks", "GitHub's webhook senders (meta API, hooks)", {
	    "url=https://api.github.com/meta", "format=json",
	    "json-path=hooks[]", "min-prefix4=20", "min-prefix6=29" } },
	{ "stripe-webhooks", "Stripe's webhook senders", {
	    "url=https://stripe.com/files/ips/ips_webhooks.json",
	    "url-txt=https://stripe.com/files/ips/ips_webhooks.txt",
	    "format=json", "json-path=WEBHOOKS[]", "min-prefix4=32",
	    "min-prefix6=128" } },
	{ "cloudflare", "Cloudflare's proxy ranges (text lists)", {
	    "url=https://www.cloudflare.com/ips-v4",
	    "url=https://www.cloudflare.com/ips-v6", "format=text",
	    "min-prefix4=13", "min-prefix6=29" } },
	{ "fastly", "Fastly's edge ranges", {
	    "url=https://api.fastly.com/public-ip-list", "format=json",
	    "json-path=addresses[],ipv6_addresses[]", "min-prefix4=16",
	    "min-prefix6=32" } },
	{ "aws-cloudfront-origin", "AWS CloudFront's origin-facing ranges", {
	    "url=https://ip-ranges.amazonaws.com/ip-ranges.json",
	    "format=json",
	    "json-path=prefixes[service=CLOUDFRONT_ORIGIN_FACING].ip_prefix,"
	    "ipv6_prefixes[service=CLOUDFRONT_ORIGIN_FACING].ipv6_prefix",
	    "max-bytes=4194304", "min-prefix4=16", "min-prefix6=39" } },
};
#define NPRESETS	(sizeof(presets) / sizeof(presets[0]))

#define DOCPLANNER	"docplanner-"

/*
 * See allowsync.h.  docplanner-CC takes the locale's code in any case,
 * as locale does.
 */
size_t
preset_keys(const char *name, char keys[][MAX_PRESET_LINE], size_t max)
{
	size_t i, n = 0;
	char codes[64], *c, *save = NULL;

	if (strncasecmp(name, DOCPLANNER, strlen(DOCPLANNER)) == 0) {
		key_locale_codes(codes, sizeof(codes));
		for (c = strtok_r(codes, " ", &save); c != NULL;
		    c = strtok_r(NULL, " ", &save))
			if (strcasecmp(name + strlen(DOCPLANNER), c) == 0) {
				snprintf(keys[0], MAX_PRESET_LINE, "locale=%s",
				    c);
				return 1;
			}
		return 0;
	}
	for (i = 0; i < NPRESETS; i++) {
		if (strcmp(presets[i].name, name) != 0)
			continue;
		for (; n < max && n < MAX_PRESET_KEYS &&
		    presets[i].keys[n] != NULL; n++)
			snprintf(keys[n], MAX_PRESET_LINE, "%s",
			    presets[i].keys[n]);
		return n;
	}
	return 0;
}

/* See allowsync.h. */
const char *
preset_names(char *buf, size_t bufsz)
{
	size_t i, n;

	n = (size_t)snprintf(buf, bufsz, DOCPLANNER "CC");
	for (i = 0; i < NPRESETS && n < bufsz; i++)
		n += (size_t)snprintf(buf + n, bufsz - n, " %s",
		    presets[i].name);
	return buf;
}

/* See allowsync.h. */
void
preset_list(void *fp)
{
	FILE *f = fp;
	const char *eq;
	char codes[64];
	size_t i, k;

	fprintf(f, DOCPLANNER "CC\n    Docplanner's webhook senders in "
	    "market CC (%s): the same as locale = CC\n",
	    key_locale_codes(codes, sizeof(codes)));
	for (i = 0; i < NPRESETS; i++) {
		fprintf(f, "%s\n    %s\n", presets[i].name, presets[i].what);
		for (k = 0; k < MAX_PRESET_KEYS && presets[i].keys[k] != NULL;
		    k++) {
			eq = strchr(presets[i].keys[k], '=');
			fprintf(f, "    %.*s = %s\n",
			    (int)(eq - presets[i].keys[k]),
			    presets[i].keys[k], eq + 1);
		}
	}
}

/* Keys a preset fills as one: a section that sets one keeps them all. */
static const char *const key_groups[][4] = {
	{ "url", "url-txt", "locale", "domain" },
	{ "json-path", "json-keys", NULL, NULL },
};

/* True when key, or a key of its group, is in given. */
static bool
key_in(uint64_t given, const char *key)
{
	size_t g, k;

	for (g = 0; g < sizeof(key_groups) / sizeof(key_groups[0]); g++)
		for (k = 0; k < 4 && key_groups[g][k] != NULL; k++)
			if (strcmp(key_groups[g][k], key) == 0)
				goto group;
	return (given & config_key_bit(key)) != 0;
group:
	for (k = 0; k < 4 && key_groups[g][k] != NULL; k++)
		if (given & config_key_bit(key_groups[g][k]))
			return true;
	return false;
}

/*
 * See allowsync.h.  A value inherited from the defaults gives way to the
 * preset's.  An error would be a bug in the table.
 */
enum as_status
preset_apply(struct config *cfg, struct source_opts *so)
{
	char lines[MAX_PRESET_KEYS][MAX_PRESET_LINE], *eq;
	struct config_origin o = { .so = so, .preset = true };
	uint64_t given = so->given;
	size_t i, n;
	enum as_status rc;

	if (so->preset == NULL)
		return AS_OK;
	n = preset_keys(so->preset, lines, MAX_PRESET_KEYS);
	for (i = 0; i < n; i++) {
		if ((eq = strchr(lines[i], '=')) == NULL)
			return AS_ESOFTWARE;
		*eq = '\0';
		if (key_in(given, lines[i]))
			continue;
		if ((rc = config_set(cfg, &o, lines[i], eq + 1)) != AS_OK)
			return rc;
	}
	return AS_OK;
}

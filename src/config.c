/*
 * Configuration: defaults, then the config file, then the command line.
 *
 * Every key is one row of options[] below: its name, type and bounds,
 * where its value goes (an offset into struct config or, for the keys
 * that belong to a source, into struct source_opts), where it may be
 * written, and its line of --help.  The parser, getopt's tables, --help
 * and config_value() are all made from that table, so a key means the
 * same thing in the file and on the command line, and a new key is one
 * new row.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "allowsync.h"

/* Where a key's value lives: struct config, or the struct source_opts so. */
static void *
opt_dest(struct config *cfg, struct source_opts *so,
    const struct option_def *d)
{
	char *base = d->flags & KEY_SOURCE ? (char *)so : (char *)cfg;

	return base + d->off;
}

static const void *
opt_src(const struct config *cfg, const struct source_opts *so,
    const struct option_def *d)
{
	const char *base = d->flags & KEY_SOURCE ? (const char *)so :
	    (const char *)cfg;

	return base + d->off;
}

/* See allowsync.h. */
int
parse_bool(const char *v)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") ||
	    !strcasecmp(v, "on") || !strcmp(v, "1"))
		return 1;
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") ||
	    !strcasecmp(v, "off") || !strcmp(v, "0"))
		return 0;
	return -1;
}

/* Parse a decimal in [min, max]; returns 0 or -1. */
static int
parse_uint(const char *v, unsigned long min, unsigned long max,
    unsigned long *out)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* OPT_STRING checks: NULL when val is fine, else why not. */
static const char *
check_path(const char *val)
{
	return *val == '\0' ? "is empty: a path is needed" : NULL;
}

static const char *
check_family(const char *val)
{
	return strcmp(val, "inet") && strcmp(val, "ip") && strcmp(val, "ip6") ?
	    "is not inet, ip or ip6" : NULL;
}

/* A set name may be empty: that switches its family off. */
static const char *
check_set_name(const char *val)
{
	return *val == '\0' ? NULL : nft_name_check(val);
}

/* ----------------------------------------------------------- the table */

/*
 * A row is: name, short option, type and what it needs (the macros
 * below), KEY_* flags, destination (G: in struct config, S: in struct
 * source_opts, NONE: custom), --help group heading, value name, help.
 */
#define G(m)	offsetof(struct config, m), sizeof(((struct config *)0)->m)
#define S(m)	offsetof(struct source_opts, m), \
		sizeof(((struct source_opts *)0)->m)
#define NONE	0, 0
#define CUSTOM(s, g)	OPT_CUSTOM, 0, 0, NULL, s, g
#define FLAG	OPT_FLAG, 0, 0, NULL, NULL, NULL
#define UINT(lo, hi)	OPT_UINT, lo, hi, NULL, NULL, NULL
#define STR(chk)	OPT_STRING, 0, 0, chk, NULL, NULL

const struct option_def options[] = {
	{ "config", 'c', STR(check_path), KEY_CLI_ONLY, G(config_file), NULL,
	    "FILE", "config file (default " DEFAULT_CONFIG_FILE ")" },
	{ "dry-run", 'n', CUSTOM(key_set_dry_run, key_get_dry_run), 0, NONE,
	    NULL, NULL, "fetch, validate and plan; change nothing" },
	{ "json", 0, FLAG, 0, G(json), NULL, NULL,
	    "print the plan and result as one JSON object" },
	{ "verbose", 'v', CUSTOM(key_set_verbosity, key_get_verbosity), 0,
	    NONE, NULL, NULL, "more log lines (twice: debug)" },
	{ "quiet", 'q', CUSTOM(key_set_verbosity, key_get_verbosity), 0,
	    NONE, NULL, NULL, "errors only, no plan on stdout" },
	{ "version", 0, FLAG, KEY_CLI_ONLY, G(version), NULL, NULL,
	    "print the version" },
	{ "help", 'h', FLAG, KEY_CLI_ONLY, G(help), NULL, NULL, "this text" },
	{ "list-presets", 0, FLAG, KEY_CLI_ONLY, G(list_presets), NULL, NULL,
	    "print the presets and what each fills in" },
	{ "locale", 0, CUSTOM(key_set_source, key_get_source),
	    KEY_REPEAT | KEY_SOURCE, NONE,
	    "Sources (repeatable; the result is their union):", "CC",
	    "vendor market:" },
	{ "domain", 0, CUSTOM(key_set_source, key_get_source),
	    KEY_REPEAT | KEY_SOURCE, NONE, NULL, "DOMAIN",
	    "https://www.DOMAIN/public/docs/public-ips.json" },
	{ "url", 0, CUSTOM(key_set_source, key_get_source),
	    KEY_REPEAT | KEY_SOURCE, NONE, NULL, "URL",
	    "JSON URL (https:// or file://)" },
	{ "url-txt", 0, CUSTOM(key_set_url_txt, key_get_url_txt),
	    KEY_REPEAT | KEY_SOURCE, NONE, NULL, "URL",
	    "text fallback of the preceding --url" },
	{ "ca-file", 0, STR(check_path), KEY_SOURCE, S(ca_file), NULL, "FILE",
	    "trust only this CA bundle (TLS is always verified)" },
	{ "preset", 0, CUSTOM(key_set_preset, key_get_preset), KEY_SOURCE,
	    NONE, NULL, "NAME", "a vendor's list and policy (--list-presets)" },
	{ "format", 0, CUSTOM(key_set_format, key_get_format), KEY_SOURCE,
	    NONE, NULL, "F", "auto, json or text (default auto)" },
	{ "json-keys", 0, CUSTOM(key_set_json_keys, key_get_json_keys),
	    KEY_SOURCE, NONE, NULL, "K1,K2",
	    "JSON arrays to read: the paths K1[],K2[] (default API)" },
	{ "json-path", 0, CUSTOM(key_set_json_path, key_get_json_path),
	    KEY_SOURCE, NONE, NULL, "PATHS",
	    "JSON values to read, e.g. prefixes[].ip_prefix" },
	{ "timeout", 0, UINT(1, MAX_TIMEOUT), KEY_SOURCE, S(fetch.timeout),
	    NULL, "S", "whole transfer limit (default 30)" },
	{ "connect-timeout", 0, UINT(1, MAX_TIMEOUT), KEY_SOURCE,
	    S(fetch.connect_timeout), NULL, "S", "connect limit (default 10)" },
	{ "max-bytes", 0, UINT(1024, MAX_MAX_BYTES), KEY_SOURCE,
	    S(fetch.max_bytes), NULL, "N",
	    "body size limit (default 1048576)" },
	{ "retries", 0, UINT(0, MAX_RETRIES), KEY_SOURCE, S(fetch.retries),
	    NULL, "N", "retries on transient errors (default 2)" },
	{ "retry-delay", 0, UINT(0, MAX_RETRY_AFTER), KEY_SOURCE,
	    S(fetch.retry_delay), NULL, "S",
	    "first retry backoff (default 1)" },
	{ "family", 0, STR(check_family), KEY_SOURCE, S(family), "Firewall:",
	    "F", "inet, ip or ip6 (default inet)" },
	{ "table", 0, STR(nft_name_check), KEY_SOURCE, S(table), NULL, "T",
	    "table (default filter)" },
	{ "set4", 0, STR(check_set_name), KEY_SOURCE, S(set4), NULL, "NAME",
	    "IPv4 set (default docplanner_v4; empty: off)" },
	{ "set6", 0, STR(check_set_name), KEY_SOURCE, S(set6), NULL, "NAME",
	    "IPv6 set (default docplanner_v6; empty: off)" },
	{ "create", 0, FLAG, 0, G(create), NULL, NULL,
	    "create a missing table and sets" },
	{ "guard-ports", 0, CUSTOM(key_set_guard_ports, key_get_guard_ports),
	    KEY_SOURCE, NONE, NULL, "P,...",
	    "guard mode: drop other sources to tcp/PORT, udp/PORT, tcp/LO-HI" },
	{ "guard-table", 0, STR(nft_name_check), KEY_SOURCE, S(guard_table),
	    NULL, "T", "the inet table guard mode owns (default allowsync)" },
	{ "min-prefix4", 0, UINT(1, 32), KEY_SOURCE, S(policy.min_prefix4),
	    "Policy:", "N", "widest IPv4 prefix allowed (default 16)" },
	{ "min-prefix6", 0, UINT(1, 128), KEY_SOURCE, S(policy.min_prefix6),
	    NULL, "N", "widest IPv6 prefix allowed (default 32)" },
	{ "private", 0, CUSTOM(key_set_class, key_get_class), KEY_SOURCE, NONE,
	    NULL, "D", "private space: reject, skip or allow (reject; "
	    "skip for locale)" },
	{ "special", 0, CUSTOM(key_set_class, key_get_class), KEY_SOURCE, NONE,
	    NULL, "D", "other special-purpose space: reject or skip" },
	{ "wide", 0, CUSTOM(key_set_class, key_get_class), KEY_SOURCE, NONE,
	    NULL, "D", "wider than min-prefix4/6: reject or skip" },
	{ "allow-private", 0, CUSTOM(key_set_allow_private,
	    key_get_allow_private), KEY_SOURCE, NONE, NULL, NULL,
	    "private = allow (=no: private = reject)" },
	{ "max-entries", 0, UINT(1, MAX_MAX_ENTRIES), KEY_SOURCE,
	    S(policy.max_entries), NULL, "N",
	    "entries per document (default 10000)" },
	{ "lenient", 0, FLAG, KEY_SOURCE, S(policy.lenient), NULL, NULL,
	    "drop bad entries instead of rejecting the list" },
	{ "static", 0, CUSTOM(key_set_static, key_get_static),
	    KEY_REPEAT | KEY_SOURCE, NONE, NULL, "ENTRY",
	    "local entry always in the set (repeatable)" },
	{ "state-dir", 0, STR(check_path), 0, G(state_dir),
	    "State and safety:", "DIR",
	    "last accepted lists (default " DEFAULT_STATE_DIR ")" },
	{ "remove-after", 0, UINT(1, MAX_REMOVE_AFTER), KEY_SOURCE,
	    S(remove_after), NULL, "N",
	    "remove an entry after N accepted lists lack it (2)" },
	{ "max-remove-percent", 0, UINT(0, 100), KEY_SOURCE,
	    S(max_remove_percent), NULL, "N",
	    "hold back removals above N% of entries (50)" },
	{ "force", 0, FLAG, KEY_CLI_ONLY, G(force), NULL, NULL,
	    "apply removals the shrink guard held back" },
	{ "stale-warn", 0, UINT(1, MAX_STALE_WARN), KEY_SOURCE,
	    S(stale_warn), NULL, "DAYS",
	    "warn when a cached list is older (default 3)" },
	{ "wait", 0, UINT(0, MAX_WAIT), 0, G(wait), NULL, "S",
	    "wait up to S seconds for another run's lock" },
	{ "metrics-file", 0, STR(check_path), 0, G(metrics_file), NULL,
	    "PATH", "Prometheus metrics after every sync, restore, check" },
	{ "annotate", 0, FLAG, 0, G(annotate), NULL, NULL,
	    "comment each element with its sources (default yes)" },
	{ "restore", 0, FLAG, KEY_CLI_ONLY, G(restore), "Modes (no network):",
	    NULL, "load the saved lists into the sets (boot, reload)" },
	{ "check", 0, FLAG, KEY_CLI_ONLY, G(check), NULL, NULL,
	    "compare the sets with the saved lists; 1 on drift" },
	{ "status", 0, FLAG, KEY_CLI_ONLY, G(status), NULL, NULL,
	    "print each source's state and the set sizes" },
	{ "uninstall", 0, FLAG, KEY_CLI_ONLY, G(uninstall), NULL, NULL,
	    "delete guard mode's table and the include file" },
	{ "explain", 0, STR(check_path), KEY_CLI_ONLY, G(explain), NULL,
	    "ADDR", "is ADDR allowed, and why (saved lists and kernel)" },
	{ "is-configured", 0, FLAG, KEY_CLI_ONLY, G(is_configured), NULL,
	    NULL, "exit 0 if a source is configured, else 1 (ExecCondition)" },
	{ "section", 0, CUSTOM(key_set_section, key_get_section),
	    KEY_CLI_ONLY | KEY_REPEAT, NONE, NULL, "NAME",
	    "run only this [section] of the file (repeatable)" },
};
#define NOPTIONS	(sizeof(options) / sizeof(options[0]))
/* cfg->given has a bit for each key. */
_Static_assert(NOPTIONS <= MAX_OPTIONS, "struct config's given holds 64 "
    "keys");
const size_t noptions = NOPTIONS;

static const struct option_def *
option_find(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

#define MAX_KEY_LEN	32	/* longer than any key */

/*
 * The edit distance between a and b (insertions, deletions, changes and
 * swaps of neighbours), computed up to MAX_KEY_LEN bytes of each.
 */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t d[3][MAX_KEY_LEN + 1], la, lb, i, j, best;

	la = strnlen(a, MAX_KEY_LEN);
	lb = strnlen(b, MAX_KEY_LEN);
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		d[i % 3][0] = i;
		for (j = 1; j <= lb; j++) {
			best = d[(i - 1) % 3][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[(i - 1) % 3][j] + 1 < best)
				best = d[(i - 1) % 3][j] + 1;
			if (d[i % 3][j - 1] + 1 < best)
				best = d[i % 3][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[(i - 2) % 3][j - 2] + 1 <
			    best)
				best = d[(i - 2) % 3][j - 2] + 1;
			d[i % 3][j] = best;
		}
	}
	return d[la % 3][lb];
}

/* The key closest to name, when one is close enough to be a typo. */
static const char *
option_suggest(const char *name)
{
	const char *best = NULL;
	size_t i, dist, least = strlen(name) / 3 + 2;

	if (least < 3)
		least = 3;
	for (i = 0; i < NOPTIONS; i++)
		if ((dist = edit_distance(name, options[i].name)) < least) {
			least = dist;
			best = options[i].name;
		}
	return best;
}

/* Store n in the unsigned value of size bytes at p. */
static void
store_uint(void *p, size_t size, unsigned long n)
{
	unsigned int u = (unsigned int)n;

	if (size == sizeof(u))
		memcpy(p, &u, sizeof(u));
	else
		memcpy(p, &n, sizeof(n));
}

/* The unsigned value of size bytes at p. */
static unsigned long
load_uint(const void *p, size_t size)
{
	unsigned long n;
	unsigned int u;

	if (size == sizeof(u)) {
		memcpy(&u, p, sizeof(u));
		return u;
	}
	memcpy(&n, p, sizeof(n));
	return n;
}

/*
 * Set one key from the file or the command line, as the table says.
 * Returns AS_OK, or AS_ECONFIG after logging: a bad value is a
 * configuration error wherever it is written.
 */
enum as_status
config_set(struct config *cfg, struct config_origin *o, const char *key,
    const char *val)
{
	const struct option_def *d;
	struct source_opts *so;
	const char *why;
	char what[96], ek[ESCAPE_BUF];
	unsigned long n;
	int b;

	if ((d = option_find(key)) == NULL) {
		why = option_suggest(key);
		snprintf(what, sizeof(what), "unknown key%s%s%s", why != NULL ?
		    " (did you mean " : "", why != NULL ? why : "",
		    why != NULL ? "?)" : "");
		return config_error(o, log_escape(key, strlen(key), ek,
		    sizeof(ek)), what, NULL);
	}
	if ((d->flags & KEY_CLI_ONLY) && o->file != NULL)
		return config_error(o, key, "only allowed on the command line",
		    val);
	if (o->so == NULL)
		o->so = &cfg->src;
	so = o->so;
	cfg->given |= (uint64_t)1 << (d - options);
	if (d->flags & KEY_SOURCE)
		so->given |= (uint64_t)1 << (d - options);
	switch (d->type) {
	case OPT_CUSTOM:
		return d->set(cfg, o, key, val);
	case OPT_FLAG:
		if ((b = parse_bool(val)) < 0)
			return config_error(o, key, "expected yes or no, got",
			    val);
		*(bool *)opt_dest(cfg, so, d) = b;
		return AS_OK;
	case OPT_UINT:
		if (parse_uint(val, d->min, d->max, &n) < 0) {
			snprintf(what, sizeof(what), "expected a number from "
			    "%lu to %lu, got", d->min, d->max);
			return config_error(o, key, what, val);
		}
		store_uint(opt_dest(cfg, so, d), d->size, n);
		return AS_OK;
	case OPT_STRING:
		if ((why = d->check(val)) != NULL)
			return config_bad_value(o, key, val, why);
		free(*(char **)opt_dest(cfg, so, d));
		*(char **)opt_dest(cfg, so, d) = xstrdup(val);
		if (strcmp(key, "ca-file") == 0)
			so->ca_file_line = o->file != NULL ? o->line : 0;
		return AS_OK;
	}
	return AS_ESOFTWARE;
}

/* See allowsync.h. */
const char *
config_value(const struct config *cfg, const char *key, char *buf,
    size_t bufsz)
{
	const struct source_opts *so = &cfg->src;
	const struct option_def *d;
	const char *s;

	if ((d = option_find(key)) == NULL || bufsz == 0)
		return NULL;
	switch (d->type) {
	case OPT_CUSTOM:
		d->get(cfg, so, key, buf, bufsz);
		break;
	case OPT_FLAG:
		snprintf(buf, bufsz, "%s", *(const bool *)opt_src(cfg, so, d) ?
		    "yes" : "no");
		break;
	case OPT_UINT:
		snprintf(buf, bufsz, "%lu", load_uint(opt_src(cfg, so, d),
		    d->size));
		break;
	case OPT_STRING:
		s = *(char *const *)opt_src(cfg, so, d);
		snprintf(buf, bufsz, "%s", s != NULL ? s : "");
		break;
	}
	return buf;
}

/* True when key was given in the file or on the command line. */
static bool
config_given(const struct config *cfg, const char *key)
{
	const struct option_def *d = option_find(key);

	return d != NULL && (cfg->given & (uint64_t)1 << (d - options));
}

/* See allowsync.h. */
const char *
config_key(size_t i, unsigned int *flags)
{
	if (i >= NOPTIONS)
		return NULL;
	*flags = options[i].flags;
	return options[i].name;
}

/* See allowsync.h. */
void
config_defaults(struct config *cfg)
{
	struct source_opts *so = &cfg->src;

	memset(cfg, 0, sizeof(*cfg));
	cfg->config_file = xstrdup(DEFAULT_CONFIG_FILE);
	cfg->state_dir = xstrdup(DEFAULT_STATE_DIR);
	cfg->annotate = true;
	so->family = xstrdup("inet");
	so->table = xstrdup("filter");
	so->set4 = xstrdup("docplanner_v4");
	so->set6 = xstrdup("docplanner_v6");
	so->guard_table = xstrdup(DEFAULT_GUARD_TABLE);
	jpaths_compile("API[]", &so->paths);
	so->fetch.timeout = DEFAULT_TIMEOUT;
	so->fetch.connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	so->fetch.max_bytes = DEFAULT_MAX_BYTES;
	so->fetch.retries = DEFAULT_RETRIES;
	so->fetch.retry_delay = RETRY_BASE_DELAY;
	so->policy.min_prefix4 = DEFAULT_MIN_PREFIX4;
	so->policy.min_prefix6 = DEFAULT_MIN_PREFIX6;
	so->policy.max_entries = DEFAULT_MAX_ENTRIES;
	so->remove_after = DEFAULT_REMOVE_AFTER;
	so->max_remove_percent = DEFAULT_MAX_REMOVE_PCT;
	so->stale_warn = DEFAULT_STALE_WARN;
}

/* Free what the section so owns: its lists and its string keys. */
static void
section_free(struct source_opts *so)
{
	size_t i;

	keys_free(so);
	for (i = 0; i < NOPTIONS; i++)
		if (options[i].type == OPT_STRING &&
		    (options[i].flags & KEY_SOURCE))
			free(*(char **)opt_dest(NULL, so, &options[i]));
	free(so->name);
}

/*
 * A new section, name from line, made from the defaults in src: a deep
 * copy of every key, none of them given in it yet.
 */
static void
section_copy(struct source_opts *dst, const struct source_opts *src,
    const char *name, size_t line)
{
	char **p;
	size_t i;

	memcpy(dst, src, sizeof(*dst));
	for (i = 0; i < NOPTIONS; i++)
		if (options[i].type == OPT_STRING &&
		    (options[i].flags & KEY_SOURCE)) {
			p = opt_dest(NULL, dst, &options[i]);
			*p = *p != NULL ? xstrdup(*p) : NULL;
		}
	keys_copy(dst, src);
	dst->given = 0;
	dst->name = xstrdup(name);
	dst->line = line;
}

/* See allowsync.h.  Every string key of the table is freed by the table. */
void
config_free(struct config *cfg)
{
	size_t i;

	section_free(&cfg->src);
	for (i = 0; i < cfg->nsections; i++)
		section_free(&cfg->sections[i]);
	free(cfg->sections);
	for (i = 0; i < cfg->nonly; i++)
		free(cfg->only[i]);
	for (i = 0; i < NOPTIONS; i++)
		if (options[i].type == OPT_STRING &&
		    !(options[i].flags & KEY_SOURCE))
			free(*(char **)opt_dest(cfg, NULL, &options[i]));
	memset(cfg, 0, sizeof(*cfg));
}

/* Remove blanks (space, tab) around the text at s, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*e = '\0';
	return s;
}

/*
 * Split the config line at line (NUL-terminated, CR removed) into *key
 * and *val, in place.  Returns 1 for a key = value line, 0 for a blank
 * or comment line, or AS_ECONFIG as a negative after logging.
 */
static int
config_split_line(struct config_origin *o, char *line, char **key, char **val)
{
	char *k, *eq;
	size_t i;

	for (i = 0; line[i] != '\0'; i++)
		if ((unsigned char)line[i] < 0x20 && line[i] != '\t') {
			config_error(o, "line", "control character in", line);
			return -1;
		}
	k = line;
	while (*k == ' ' || *k == '\t')
		k++;
	if (*k == '\0' || *k == '#')
		return 0;
	if ((eq = strchr(k, '=')) == NULL) {
		config_error(o, "line", "expected key = value, got", k);
		return -1;
	}
	*eq = '\0';
	*key = trim(k);
	*val = trim(eq + 1);
	if (**key == '\0') {
		config_error(o, "line", "missing key before '=' in", *val);
		return -1;
	}
	return 1;
}

/*
 * A "[name]" line: start section name, a copy of the defaults, and send
 * the following keys there.  Returns 1 for such a line, 0 for another,
 * or -1 after logging a bad or repeated name.
 */
static int
section_line(struct config *cfg, struct config_origin *o, char *line)
{
	char *s = line, *e;
	const char *why;
	size_t i;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '[')
		return 0;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e - s < 2 || e[-1] != ']') {
		config_error(o, "section", "expected [name], got", s);
		return -1;
	}
	e[-1] = '\0';
	if ((why = section_name_check(s + 1)) != NULL) {
		config_bad_value(o, "section", s + 1, why);
		return -1;
	}
	for (i = 0; i < cfg->nsections; i++)
		if (strcmp(cfg->sections[i].name, s + 1) == 0) {
			log_err("%s: line %zu: section [%s] is already on line "
			    "%zu", o->file, o->line, s + 1,
			    cfg->sections[i].line);
			return -1;
		}
	if (cfg->nsections == MAX_SECTIONS) {
		config_error(o, "section", "more than 32 sections:", s + 1);
		return -1;
	}
	cfg->sections = xreallocarray(cfg->sections, cfg->nsections + 1,
	    sizeof(*cfg->sections));
	section_copy(&cfg->sections[cfg->nsections], &cfg->src, s + 1,
	    o->line);
	o->so = &cfg->sections[cfg->nsections++];
	o->url_txt_ok = false;
	return 1;
}

/*
 * See allowsync.h.  Lines are "key = value", blank, or comments starting
 * with '#' (after optional blanks).  The value runs to the end of the line
 * with surrounding blanks removed; it may be empty (set4 =).  A key other
 * than the repeatable ones may appear once (in each section): a second
 * line would silently override the first, which is the one a reader
 * finds.  A "[name]" line starts a section.
 */
enum as_status
config_parse_buffer(struct config *cfg, const char *buf, size_t len,
    const char *fname)
{
	struct config_origin o = { .file = fname };
	char line[MAX_CONFIG_LINE + 1], *k, *v;
	const char *p = buf, *end = buf + len, *eol;
	const struct option_def *d;
	size_t n, seen[NOPTIONS] = { 0 };
	int r;
	enum as_status rc;

	for (; p < end; p = eol + 1) {
		o.line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((n = (size_t)(eol - p)) > MAX_CONFIG_LINE)
			return config_error(&o, "line", "longer than 4096 "
			    "bytes", "");
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if ((r = section_line(cfg, &o, line)) != 0) {
			if (r < 0)
				return AS_ECONFIG;
			memset(seen, 0, sizeof(seen));
			continue;
		}
		if ((r = config_split_line(&o, line, &k, &v)) <= 0) {
			if (r < 0)
				return AS_ECONFIG;
			continue;
		}
		if ((d = option_find(k)) != NULL && o.so != NULL &&
		    o.so != &cfg->src && !(d->flags & (KEY_SOURCE |
		    KEY_CLI_ONLY)))
			return config_error(&o, k, "is program-wide: allowed "
			    "only before the first section", NULL);
		if ((d = option_find(k)) != NULL && !(d->flags & KEY_REPEAT)) {
			if (seen[d - options] != 0) {
				log_err("%s: line %zu: %s: already set on line "
				    "%zu", fname, o.line, k, seen[d - options]);
				return AS_ECONFIG;
			}
			seen[d - options] = o.line;
		}
		if ((rc = config_set(cfg, &o, k, v)) != AS_OK)
			return rc;
	}
	return AS_OK;
}

/* See config.h. */
enum as_status
config_read_file(struct config *cfg, const char *path, bool explicit)
{
	FILE *f;
	char *buf;
	size_t n;
	enum as_status rc;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !explicit)
			return AS_OK;
		log_err("%s: %s", path, strerror(errno));
		return AS_ECONFIG;
	}
	buf = xmalloc(MAX_CONFIG_SIZE + 1);
	n = fread(buf, 1, MAX_CONFIG_SIZE + 1, f);
	if (ferror(f)) {
		log_err("%s: read error", path);
		rc = AS_ECONFIG;
	} else if (n > MAX_CONFIG_SIZE) {
		log_err("%s: larger than %d bytes", path, MAX_CONFIG_SIZE);
		rc = AS_ECONFIG;
	} else
		rc = config_parse_buffer(cfg, buf, n, path);
	free(buf);
	fclose(f);
	return rc;
}

/* See allowsync.h. */
uint64_t
config_key_bit(const char *key)
{
	const struct option_def *d = option_find(key);

	return d != NULL ? (uint64_t)1 << (d - options) : 0;
}

/* See allowsync.h. */
enum as_status
config_finish(struct config *cfg)
{
	struct source_opts *so;
	size_t i;
	enum as_status rc;

	for (i = 0; i < config_nsections(cfg); i++) {
		so = (struct source_opts *)config_section(cfg, i);
		if ((rc = preset_apply(cfg, so)) != AS_OK ||
		    (rc = sources_finish(cfg, so)) != AS_OK)
			return rc;
	}
	return AS_OK;
}

/*
 * The checks of one section that involve several keys; messages start
 * with "[name] " in a file with sections.
 */
static enum as_status
section_check(struct config *cfg, struct source_opts *so)
{
	char pre[PATH_MAX + MAX_SECTION_NAME + 32] = "";

	if (so->name != NULL)
		snprintf(pre, sizeof(pre), "%s: [%s] (line %zu): ",
		    cfg->config_file, so->name, so->line);
	if ((so->given & config_key_bit("json-keys")) &&
	    (so->given & config_key_bit("json-path"))) {
		log_err("%sjson-keys and json-path both given: json-keys K is "
		    "short for json-path K[], keep one", pre);
		return AS_ECONFIG;
	}
	if (so->set4[0] == '\0' && so->set6[0] == '\0') {
		log_err("%sset4 and set6 are both empty: nothing to sync", pre);
		return AS_ECONFIG;
	}
	if (strcmp(so->family, "ip") == 0 && so->set6[0] != '\0') {
		log_err("%sfamily ip holds no IPv6 set: set set6 = (empty) or "
		    "use family inet", pre);
		return AS_ECONFIG;
	}
	if (strcmp(so->family, "ip6") == 0 && so->set4[0] != '\0') {
		log_err("%sfamily ip6 holds no IPv4 set: set set4 = (empty) or "
		    "use family inet", pre);
		return AS_ECONFIG;
	}
	if (so->set4[0] != '\0' && strcmp(so->set4, so->set6) == 0) {
		log_err("%sset4 and set6 are both %s: each family needs a set "
		    "of its own", pre, so->set4);
		return AS_ECONFIG;
	}
	if (so->nports > 0 && (so->given & (config_key_bit("table") |
	    config_key_bit("family")))) {
		log_err("%sguard-ports with table or family: guard mode owns "
		    "table inet %s (guard-table), the two modes are separate",
		    pre, so->guard_table);
		return AS_ECONFIG;
	}
	if (so->name != NULL && so->nsources == 0 && !cfg->uninstall) {
		log_err("%shas no source: give it url, locale, domain or "
		    "preset", pre);
		return AS_ECONFIG;
	}
	return AS_OK;
}

/* Settle the keys of so that follow from others. */
static void
section_settle(struct source_opts *so)
{
	if (so->fetch.connect_timeout > so->fetch.timeout)
		so->fetch.connect_timeout = so->fetch.timeout;
	/* Guard mode's target: the inet table it owns. */
	if (so->nports > 0) {
		free(so->family);
		so->family = xstrdup("inet");
		free(so->table);
		so->table = xstrdup(so->guard_table);
	}
	so->fetch.ca_file = so->ca_file;
	so->policy.want4 = so->set4[0] != '\0';
	so->policy.want6 = so->set6[0] != '\0';
}

/* See config.h. */
enum as_status
config_check(struct config *cfg)
{
	struct source_opts *so;
	size_t i;
	enum as_status rc;

	if (cfg->restore + cfg->check + cfg->status + cfg->uninstall +
	    (cfg->explain != NULL) > 1) {
		log_err("--restore, --check, --status, --uninstall and "
		    "--explain exclude each other");
		return AS_EUSAGE;
	}
	if ((rc = config_finish(cfg)) != AS_OK)
		return rc;
	for (i = 0; i < config_nsections(cfg); i++) {
		so = (struct source_opts *)config_section(cfg, i);
		if ((rc = section_check(cfg, so)) != AS_OK)
			return rc;
		/*
		 * Only a run that fetches needs the CA file: --restore must
		 * bring the sets back at boot whatever became of it.
		 */
		if (so->ca_file != NULL && !cfg->restore && !cfg->check &&
		    !cfg->status && (rc = config_check_ca_file(cfg, so)) !=
		    AS_OK)
			return rc;
		section_settle(so);
	}
	if (cfg->restore && !config_given(cfg, "wait"))
		cfg->wait = DEFAULT_RESTORE_WAIT;
	return sections_check(cfg);
}

/*
 * Configuration: defaults, then the config file, then the command line.
 * Every long option is also a config key of the same name, and both go
 * through config_set(), so a key means the same thing wherever it is
 * written.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "allowsync.h"

/* The market domains of the vendor, by --locale code. */
static const struct {
	const char	*code;
	const char	*domain;
} locales[] = {
	{ "ar", "doctoraliar.com" },
	{ "br", "doctoralia.com.br" },
	{ "cl", "doctoralia.cl" },
	{ "co", "doctoralia.co" },
	{ "cz", "znamylekar.cz" },
	{ "de", "jameda.de" },
	{ "es", "doctoralia.es" },
	{ "it", "miodottore.it" },
	{ "mx", "doctoralia.mx" },
	{ "pe", "doctoralia.pe" },
	{ "pl", "znanylekarz.pl" },
	{ "pt", "doctoralia.com.pt" },
	{ "tr", "doktortakvimi.com" },
};

enum opt_kind {
	OPT_FLAG,	/* boolean: no argument on the command line */
	OPT_STRING,
	OPT_UINT,	/* unsigned with a range */
	OPT_LIST,	/* repeatable */
	OPT_CLI,	/* command line only */
};

/* Every option and config key, with its short option if any. */
static const struct option_def {
	const char	*name;
	enum opt_kind	 kind;
	int		 shortopt;
	unsigned long	 min, max;	/* OPT_UINT */
} options[] = {
	{ "config",		OPT_CLI,    'c', 0, 0 },
	{ "help",		OPT_CLI,    'h', 0, 0 },
	{ "version",		OPT_CLI,    0,   0, 0 },
	{ "dry-run",		OPT_FLAG,   'n', 0, 0 },
	{ "json",		OPT_FLAG,   0,   0, 0 },
	{ "verbose",		OPT_FLAG,   'v', 0, 0 },
	{ "quiet",		OPT_FLAG,   'q', 0, 0 },
	{ "create",		OPT_FLAG,   0,   0, 0 },
	{ "locale",		OPT_LIST,   0,   0, 0 },
	{ "domain",		OPT_LIST,   0,   0, 0 },
	{ "url",		OPT_LIST,   0,   0, 0 },
	{ "url-txt",		OPT_LIST,   0,   0, 0 },
	{ "static",		OPT_LIST,   0,   0, 0 },
	{ "ca-file",		OPT_STRING, 0,   0, 0 },
	{ "family",		OPT_STRING, 0,   0, 0 },
	{ "table",		OPT_STRING, 0,   0, 0 },
	{ "set4",		OPT_STRING, 0,   0, 0 },
	{ "set6",		OPT_STRING, 0,   0, 0 },
	{ "json-keys",		OPT_STRING, 0,   0, 0 },
	{ "timeout",		OPT_UINT,   0,   1, MAX_TIMEOUT },
	{ "connect-timeout",	OPT_UINT,   0,   1, MAX_TIMEOUT },
	{ "max-bytes",		OPT_UINT,   0,   1024, MAX_MAX_BYTES },
	{ "retries",		OPT_UINT,   0,   0, MAX_RETRIES },
	{ "retry-delay",	OPT_UINT,   0,   0, MAX_RETRY_AFTER },
	{ "min-prefix4",	OPT_UINT,   0,   1, 32 },
	{ "min-prefix6",	OPT_UINT,   0,   1, 128 },
	{ "max-entries",	OPT_UINT,   0,   1, MAX_MAX_ENTRIES },
	{ "allow-private",	OPT_FLAG,   0,   0, 0 },
	{ "lenient",		OPT_FLAG,   0,   0, 0 },
	{ "state-dir",		OPT_STRING, 0,   0, 0 },
	{ "metrics-file",	OPT_STRING, 0,   0, 0 },
	{ "remove-after",	OPT_UINT,   0,   1, MAX_REMOVE_AFTER },
	{ "max-remove-percent",	OPT_UINT,   0,   0, 100 },
	{ "stale-warn",		OPT_UINT,   0,   1, MAX_STALE_WARN },
	{ "wait",		OPT_UINT,   0,   0, MAX_WAIT },
	{ "restore",		OPT_CLI,    0,   0, 0 },
	{ "check",		OPT_CLI,    0,   0, 0 },
	{ "status",		OPT_CLI,    0,   0, 0 },
	{ "force",		OPT_CLI,    0,   0, 0 },
};
#define NOPTIONS	(sizeof(options) / sizeof(options[0]))

/* Where a value came from, for error messages. */
struct origin {
	const char	*file;		/* NULL: command line */
	size_t		 line;
	bool		 cli_sources;	/* CLI has replaced file sources */
	bool		 cli_statics;	/* CLI has replaced file statics */
	bool		 url_txt_ok;	/* the last source was a --url */
};

/*
 * Log a configuration error at its origin, "FILE: line N: KEY: WHAT" or
 * "--KEY: WHAT", followed by the escaped value in quotes unless val is
 * NULL (a value that must not be logged).  Returns AS_ECONFIG.
 */
static enum as_status
config_error(const struct origin *o, const char *key, const char *what,
    const char *val)
{
	char ev[ESCAPE_BUF], tail[ESCAPE_BUF + 4] = "";

	if (val != NULL)
		snprintf(tail, sizeof(tail), " \"%s\"",
		    log_escape(val, strlen(val), ev, sizeof(ev)));
	if (o->file != NULL)
		log_err("%s: line %zu: %s: %s%s", o->file, o->line, key, what,
		    tail);
	else
		log_err("--%s: %s%s", key, what, tail);
	return AS_ECONFIG;
}

/*
 * Log that the value val of key is bad, the value first:
 * "FILE: line N: KEY: "VAL" WHY" or "--KEY: "VAL" WHY".  Returns
 * AS_ECONFIG.
 */
static enum as_status
config_bad_value(const struct origin *o, const char *key, const char *val,
    const char *why)
{
	char ev[ESCAPE_BUF];

	log_escape(val, strlen(val), ev, sizeof(ev));
	if (o->file != NULL)
		log_err("%s: line %zu: %s: \"%s\" %s", o->file, o->line, key,
		    ev, why);
	else
		log_err("--%s: \"%s\" %s", key, ev, why);
	return AS_ECONFIG;
}

/*
 * Log why fetch_url_check() refused url.  A URL with credentials is not
 * repeated: the password would end up in the journal.
 */
static enum as_status
config_url_error(const struct origin *o, const char *key, const char *why,
    const char *url)
{
	return config_error(o, key, why,
	    strcmp(why, URL_CREDENTIALS) == 0 ? NULL : url);
}

static const struct option_def *
option_find(const char *name)
{
	size_t i;

	for (i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

/* Parse a boolean as written in the config file; -1 when not one. */
static int
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

/* True when s is a plausible DNS name (letters, digits, '-', '.'). */
static bool
domain_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return false;
	return strstr(s, "..") == NULL;
}

/*
 * Every word that nft's scanner turns into a keyword token, in any of its
 * start conditions: the quoted patterns of src/scanner.l in nftables
 * 1.0.6 (tag v1.0.6, commit a01fe3e48835981b9cfb739edda16b0ec0f4f34d),
 * the version Debian 12 ships; 342 words.  Only the words are taken.
 *
 * The table and set names are written unquoted into the include file
 * ("add element inet filter NAME { ... }"), and nft 1.0.6 refuses a
 * keyword there ("unexpected counter, expecting string"), quoted or not.
 * The include file would then fail to load, and with it the whole
 * nftables.conf that includes it.  Some keywords happen to be accepted
 * as names in that position; all are refused, so that no release's
 * grammar needs to be known.  Sorted in strcmp(3) order for bsearch(3).
 */
static const char *const nft_keywords[] = {
	"8021ad", "8021q", "a-rwnd", "abort", "accept", "ackseq", "add", "addr",
	"ah", "all", "and", "arp", "asconf", "asconf-ack", "auto-merge",
	"avgpkt", "bridge", "burst", "bypass", "bytes", "cfi", "cgroup",
	"cgroupv2", "chain", "chains", "checksum", "chunk", "classid", "code",
	"comment", "comp", "constant", "continue", "cookie-ack", "cookie-echo",
	"count", "counter", "counters", "cpi", "cpu", "create", "csumcov", "ct",
	"cum-tsn-ack", "cwr", "daddr", "data", "day", "dccp", "define", "dei",
	"delete", "describe", "device", "devices", "direction", "dnat", "doff",
	"dport", "drop", "dscp", "dst", "dup", "dynamic", "echo", "ecn", "ecne",
	"element", "elements", "eol", "eq", "error", "esp", "ether", "event",
	"exists", "expectation", "expiration", "expires", "export", "exthdr",
	"fanout", "fastopen", "fib", "flags", "flow", "flowlabel", "flowtable",
	"flowtables", "flush", "forward-tsn", "frag", "frag-off",
	"fully-random", "fwd", "gateway", "gc-interval", "ge", "get", "goto",
	"group", "gt", "handle", "hbh", "hdrlength", "heartbeat",
	"heartbeat-ack", "helper", "helpers", "hlen", "hook", "hooks",
	"hoplimit", "hour", "htype", "ibriport", "ibrname", "icmp", "icmpv6",
	"icmpx", "id", "igmp", "iif", "iifgroup", "iifname", "iiftype",
	"import", "in", "inc", "include", "index", "inet", "init", "init-ack",
	"init-tag", "initial-tsn", "insert", "interval", "ip", "ip6", "ipsec",
	"jhash", "json", "jump", "l3proto", "label", "last-entry", "le", "left",
	"length", "level", "limit", "limits", "list", "ll", "log", "lowest-tsn",
	"lshift", "lsrr", "lt", "map", "maps", "mark", "masquerade",
	"max-delay", "maxseg", "md5sig", "memory", "meta", "meter", "meters",
	"mh", "minute", "missing", "mod", "monitor", "more-fragments", "mptcp",
	"mrt", "mss", "mtu", "name", "ne", "netdev", "new-cum-tsn", "nexthdr",
	"nexthop", "nftrace", "nh", "noop", "nop", "not", "notrack", "num",
	"num-dup-tsns", "num-gap-ack-blocks", "num-inbound-streams",
	"num-outbound-streams", "numgen", "obriport", "obrname", "offload",
	"offset", "oif", "oifgroup", "oifname", "oiftype", "operation",
	"option", "options", "or", "original", "osf", "out", "over", "packets",
	"param-problem", "pcp", "performance", "persistent", "pkttype", "plen",
	"policy", "port", "position", "ppid", "prefix", "priority", "proto-dst",
	"proto-src", "protocol", "ptr", "ptype", "queue", "queue-threshold",
	"quota", "quotas", "ra", "random", "rate", "redefine", "redirect",
	"reject", "rename", "replace", "reply", "reqid", "reserved",
	"reserved2", "reset", "return", "right", "rr", "rshift", "rt", "rt0",
	"rt2", "rtclassid", "rule", "rules", "ruleset", "sack", "sack-perm",
	"sack-permitted", "sack0", "sack1", "sack2", "sack3", "saddr", "sctp",
	"secmark", "secmarks", "second", "seed", "seg-left", "seqno",
	"sequence", "set", "sets", "shutdown", "shutdown-ack",
	"shutdown-complete", "sid", "size", "skgid", "skuid", "snaplen", "snat",
	"socket", "spi", "spnum", "sport", "srh", "ssn", "ssrr", "state",
	"status", "stream", "subtype", "symhash", "synproxy", "synproxys",
	"table", "tables", "tag", "tcp", "th", "time", "timeout", "timestamp",
	"to", "tproxy", "trace", "transparent", "tsecr", "tsn", "tsval", "ttl",
	"type", "typeof", "udp", "udplite", "undefine", "until", "update",
	"urgptr", "used", "value", "version", "vlan", "vm", "vmap", "vtag",
	"week", "wildcard", "window", "with", "wscale", "xml", "xor", "xt",
	"zone",
};

/* True for an ASCII letter, whatever the locale. */
static bool
ascii_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* bsearch(3) comparison of a name with an entry of nft_keywords. */
static int
nft_keyword_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/*
 * Check a table or set name for the include file.  Returns NULL when it
 * is allowed, else why not.  Allowed are letters, digits, '_' and '.',
 * starting with a letter, and no keyword: nft(8)'s identifiers without
 * '/' and '\'.  That is narrower than nft 1.0.6 needs there, on purpose:
 * one short rule that every release reads back.  The empty set name,
 * which switches a family off, is the caller's business.
 */
static const char *
nftname_check(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0)
		return "is empty";
	if (n > MAX_NFT_NAME)
		return "is longer than 255 bytes, the kernel's limit";
	if (!ascii_letter(s[0]))
		return "does not start with a letter";
	for (i = 1; i < n; i++)
		if (!ascii_letter(s[i]) && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '_' && s[i] != '.')
			return "holds a character other than a letter, digit, "
			    "'_' or '.'";
	if (bsearch(s, nft_keywords, sizeof(nft_keywords) /
	    sizeof(nft_keywords[0]), sizeof(nft_keywords[0]),
	    nft_keyword_cmp) != NULL)
		return "is an nft keyword: nft could not read it back from "
		    "the include file";
	return NULL;
}

static void
source_free(struct source *s)
{
	free(s->name);
	free(s->url);
	free(s->url_txt);
	memset(s, 0, sizeof(*s));
}

static void
sources_clear(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nsources; i++)
		source_free(&cfg->sources[i]);
	cfg->nsources = 0;
}

static void
statics_clear(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nstatics; i++)
		free(cfg->statics[i].text);
	free(cfg->statics);
	cfg->statics = NULL;
	cfg->nstatics = 0;
}

/*
 * Add a source with JSON URL url.  The text fallback is the URL with a
 * final ".json" changed to ".txt"; url-txt may replace it later.  A URL
 * ending in ".txt" is the text form itself, with no JSON form.
 */
static enum as_status
source_add(struct config *cfg, struct origin *o, const char *key,
    const char *name, const char *url)
{
	struct source *s;
	const char *why;
	size_t n;

	if ((why = fetch_url_check(url)) != NULL)
		return config_url_error(o, key, why, url);
	if (cfg->nsources == MAX_SOURCES)
		return config_error(o, key, "too many sources", name);
	s = &cfg->sources[cfg->nsources++];
	s->name = xstrdup(name);
	s->url = xstrdup(url);
	n = strlen(url);
	if (n > 5 && strcmp(url + n - 5, ".json") == 0) {
		s->url_txt = xmalloc(n);
		memcpy(s->url_txt, url, n - 5);
		memcpy(s->url_txt + n - 5, ".txt", 5);
	} else if (n > 4 && strcmp(url + n - 4, ".txt") == 0) {
		s->url_txt = xstrdup(url);
		s->text_only = true;
	}
	o->url_txt_ok = true;
	return AS_OK;
}

/* Handle the repeatable keys: sources and static entries. */
static enum as_status
config_set_list(struct config *cfg, struct origin *o, const char *key,
    const char *val)
{
	char url[MAX_URL_LEN + 1];
	const char *why;
	size_t i;

	if (strcmp(key, "static") == 0) {
		if (o->file == NULL && !o->cli_statics) {
			statics_clear(cfg);
			o->cli_statics = true;
		}
		if (cfg->nstatics == MAX_STATIC)
			return config_error(o, key, "too many entries", val);
		cfg->statics = xreallocarray(cfg->statics, cfg->nstatics + 1,
		    sizeof(*cfg->statics));
		cfg->statics[cfg->nstatics].text = xstrdup(val);
		cfg->statics[cfg->nstatics].line = o->file ? o->line : 0;
		cfg->nstatics++;
		return AS_OK;
	}
	if (strcmp(key, "url-txt") == 0) {
		if (!o->url_txt_ok)
			return config_error(o, key,
			    "must follow the url it belongs to", val);
		if ((why = fetch_url_check(val)) != NULL)
			return config_url_error(o, key, why, val);
		free(cfg->sources[cfg->nsources - 1].url_txt);
		cfg->sources[cfg->nsources - 1].url_txt = xstrdup(val);
		o->url_txt_ok = false;
		return AS_OK;
	}
	if (o->file == NULL && !o->cli_sources) {
		sources_clear(cfg);
		o->cli_sources = true;
	}
	o->url_txt_ok = false;
	if (strcmp(key, "url") == 0)
		return source_add(cfg, o, key, val, val);
	if (strcmp(key, "domain") == 0) {
		if (!domain_ok(val))
			return config_error(o, key, "not a domain name", val);
		snprintf(url, sizeof(url),
		    "https://www.%s/public/docs/public-ips.json", val);
		return source_add(cfg, o, key, val, url);
	}
	for (i = 0; i < sizeof(locales) / sizeof(locales[0]); i++) {
		if (strcasecmp(val, locales[i].code) == 0) {
			snprintf(url, sizeof(url),
			    "https://www.%s/public/docs/public-ips.json",
			    locales[i].domain);
			return source_add(cfg, o, key, locales[i].code, url);
		}
	}
	return config_error(o, key, "unknown locale (one of ar br cl co cz "
	    "de es it mx pe pl pt tr)", val);
}

/* Split the json-keys list at commas into cfg->json_keys. */
static enum as_status
config_set_json_keys(struct config *cfg, struct origin *o, const char *val)
{
	const char *p = val, *c;
	size_t i, n;

	for (i = 0; i < cfg->njson_keys; i++)
		free(cfg->json_keys[i]);
	cfg->njson_keys = 0;
	for (;;) {
		c = strchr(p, ',');
		n = c ? (size_t)(c - p) : strlen(p);
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return config_error(o, "json-keys", "empty key in",
			    val);
		if (cfg->njson_keys == MAX_JSON_KEYS)
			return config_error(o, "json-keys", "too many keys",
			    val);
		cfg->json_keys[cfg->njson_keys++] = xstrndup(p, n);
		if (c == NULL)
			break;
		p = c + 1;
	}
	return AS_OK;
}

/* Replace a string setting. */
static void
set_string(char **dst, const char *val)
{
	free(*dst);
	*dst = xstrdup(val);
}

/*
 * Set one key from the file or the command line.  Returns AS_OK, or
 * AS_ECONFIG after logging: a bad value is a configuration error wherever
 * it is written; only a malformed command line is a usage error.
 */
static enum as_status
config_set(struct config *cfg, struct origin *o, const char *key,
    const char *val)
{
	const struct option_def *d;
	const char *why;
	unsigned long n;
	int b;

	if ((d = option_find(key)) == NULL)
		return config_error(o, key, "unknown key", key);
	switch (d->kind) {
	case OPT_CLI:
		if (o->file != NULL)
			return config_error(o, key,
			    "only allowed on the command line", val);
		if (strcmp(key, "config") == 0)
			set_string(&cfg->config_file, val);
		else if (strcmp(key, "help") == 0)
			cfg->help = true;
		else if (strcmp(key, "restore") == 0)
			cfg->restore = true;
		else if (strcmp(key, "check") == 0)
			cfg->check = true;
		else if (strcmp(key, "status") == 0)
			cfg->status = true;
		else if (strcmp(key, "force") == 0)
			cfg->force = true;
		else
			cfg->version = true;
		return AS_OK;
	case OPT_LIST:
		return config_set_list(cfg, o, key, val);
	case OPT_FLAG:
		if ((b = parse_bool(val)) < 0)
			return config_error(o, key,
			    "expected yes or no, got", val);
		/* "no" in the file is harmless and stays accepted. */
		if (strcmp(key, "dry-run") == 0 && b && o->file != NULL)
			return config_error(o, key, "is a command-line "
			    "decision (--dry-run): in the file it would "
			    "silently turn every timer run into a no-op",
			    NULL);
		if (strcmp(key, "dry-run") == 0)
			cfg->dry_run = b;
		else if (strcmp(key, "json") == 0)
			cfg->json = b;
		else if (strcmp(key, "create") == 0)
			cfg->create = b;
		else if (strcmp(key, "allow-private") == 0)
			cfg->policy.allow_private = b;
		else if (strcmp(key, "lenient") == 0)
			cfg->policy.lenient = b;
		else if (strcmp(key, "verbose") == 0)
			cfg->verbosity = b ? (o->file == NULL &&
			    cfg->verbosity > 0 ? 2 : 1) : 0;
		else if (strcmp(key, "quiet") == 0)
			cfg->verbosity = b ? -1 : 0;
		return AS_OK;
	case OPT_UINT:
		if (parse_uint(val, d->min, d->max, &n) < 0) {
			char what[96];

			snprintf(what, sizeof(what),
			    "expected a number from %lu to %lu, got", d->min,
			    d->max);
			return config_error(o, key, what, val);
		}
		if (strcmp(key, "timeout") == 0)
			cfg->fetch.timeout = (long)n;
		else if (strcmp(key, "connect-timeout") == 0)
			cfg->fetch.connect_timeout = (long)n;
		else if (strcmp(key, "max-bytes") == 0)
			cfg->fetch.max_bytes = n;
		else if (strcmp(key, "retries") == 0)
			cfg->fetch.retries = (unsigned int)n;
		else if (strcmp(key, "retry-delay") == 0)
			cfg->fetch.retry_delay = (unsigned int)n;
		else if (strcmp(key, "min-prefix4") == 0)
			cfg->policy.min_prefix4 = (unsigned int)n;
		else if (strcmp(key, "min-prefix6") == 0)
			cfg->policy.min_prefix6 = (unsigned int)n;
		else if (strcmp(key, "remove-after") == 0)
			cfg->remove_after = (unsigned int)n;
		else if (strcmp(key, "max-remove-percent") == 0)
			cfg->max_remove_percent = (unsigned int)n;
		else if (strcmp(key, "stale-warn") == 0)
			cfg->stale_warn = (unsigned int)n;
		else if (strcmp(key, "wait") == 0)
			cfg->wait = (unsigned int)n;
		else
			cfg->policy.max_entries = n;
		return AS_OK;
	case OPT_STRING:
		break;
	}
	if (strcmp(key, "json-keys") == 0)
		return config_set_json_keys(cfg, o, val);
	if (strcmp(key, "ca-file") == 0 || strcmp(key, "state-dir") == 0 ||
	    strcmp(key, "metrics-file") == 0) {
		if (*val == '\0')
			return config_error(o, key, "empty path", val);
		set_string(strcmp(key, "ca-file") == 0 ? &cfg->ca_file :
		    strcmp(key, "state-dir") == 0 ? &cfg->state_dir :
		    &cfg->metrics_file, val);
		if (strcmp(key, "ca-file") == 0)
			cfg->ca_file_line = o->file != NULL ? o->line : 0;
	} else if (strcmp(key, "family") == 0) {
		if (strcmp(val, "inet") && strcmp(val, "ip") &&
		    strcmp(val, "ip6"))
			return config_error(o, key,
			    "expected inet, ip or ip6, got", val);
		set_string(&cfg->family, val);
	} else if (strcmp(key, "table") == 0) {
		if ((why = nftname_check(val)) != NULL)
			return config_bad_value(o, key, val, why);
		set_string(&cfg->table, val);
	} else {
		/* An empty set name switches its family off. */
		if (*val != '\0' && (why = nftname_check(val)) != NULL)
			return config_bad_value(o, key, val, why);
		set_string(strcmp(key, "set4") == 0 ? &cfg->set4 : &cfg->set6,
		    val);
	}
	return AS_OK;
}

/* See allowsync.h. */
void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->config_file = xstrdup(DEFAULT_CONFIG_FILE);
	cfg->family = xstrdup("inet");
	cfg->table = xstrdup("filter");
	cfg->set4 = xstrdup("docplanner_v4");
	cfg->set6 = xstrdup("docplanner_v6");
	cfg->json_keys[cfg->njson_keys++] = xstrdup("API");
	cfg->fetch.timeout = DEFAULT_TIMEOUT;
	cfg->fetch.connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	cfg->fetch.max_bytes = DEFAULT_MAX_BYTES;
	cfg->fetch.retries = DEFAULT_RETRIES;
	cfg->fetch.retry_delay = RETRY_BASE_DELAY;
	cfg->policy.min_prefix4 = DEFAULT_MIN_PREFIX4;
	cfg->policy.min_prefix6 = DEFAULT_MIN_PREFIX6;
	cfg->policy.max_entries = DEFAULT_MAX_ENTRIES;
	cfg->state_dir = xstrdup(DEFAULT_STATE_DIR);
	cfg->remove_after = DEFAULT_REMOVE_AFTER;
	cfg->max_remove_percent = DEFAULT_MAX_REMOVE_PCT;
	cfg->stale_warn = DEFAULT_STALE_WARN;
}

/* See allowsync.h. */
void
config_free(struct config *cfg)
{
	size_t i;

	sources_clear(cfg);
	statics_clear(cfg);
	for (i = 0; i < cfg->njson_keys; i++)
		free(cfg->json_keys[i]);
	free(cfg->config_file);
	free(cfg->ca_file);
	free(cfg->family);
	free(cfg->table);
	free(cfg->set4);
	free(cfg->set6);
	free(cfg->state_dir);
	free(cfg->metrics_file);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * See allowsync.h.  Lines are "key = value", blank, or comments starting
 * with '#' (after optional blanks).  The value runs to the end of the line
 * with surrounding blanks removed; it may be empty (set4 =).  A key other
 * than the repeatable ones (OPT_LIST) may appear once: a second line
 * would silently override the first, which is the one a reader finds.
 */
enum as_status
config_parse_buffer(struct config *cfg, const char *buf, size_t len,
    const char *fname)
{
	struct origin o = { .file = fname };
	char line[MAX_CONFIG_LINE + 1];
	const char *p = buf, *end = buf + len, *eol;
	const struct option_def *d;
	char *k, *ke, *v, *ve, *eq;
	size_t n, i, seen[NOPTIONS] = { 0 };
	enum as_status rc;

	for (; p < end; p = eol + 1) {
		o.line++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		n = (size_t)(eol - p);
		if (n > MAX_CONFIG_LINE)
			return config_error(&o, "line", "longer than 4096 "
			    "bytes", "");
		memcpy(line, p, n);
		line[n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		for (i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
				return config_error(&o, "line",
				    "control character in", line);
		k = line;
		while (*k == ' ' || *k == '\t')
			k++;
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			return config_error(&o, "line", "expected key = value, "
			    "got", k);
		for (ke = eq; ke > k && (ke[-1] == ' ' || ke[-1] == '\t');)
			ke--;
		*ke = '\0';
		v = eq + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		ve = v + strlen(v);
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		*ve = '\0';
		if (*k == '\0')
			return config_error(&o, "line", "missing key before "
			    "'=' in", v);
		if ((d = option_find(k)) != NULL && d->kind != OPT_LIST) {
			i = (size_t)(d - options);
			if (seen[i] != 0) {
				log_err("%s: line %zu: %s: already set on line "
				    "%zu", fname, o.line, k, seen[i]);
				return AS_ECONFIG;
			}
			seen[i] = o.line;
		}
		if ((rc = config_set(cfg, &o, k, v)) != AS_OK)
			return rc;
	}
	return AS_OK;
}

/* Read and apply a config file.  A missing default file is fine. */
static enum as_status
config_read_file(struct config *cfg, const char *path, bool explicit)
{
	FILE *f;
	char *buf;
	size_t n;
	enum as_status rc;

	if ((f = fopen(path, "r")) == NULL) {
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

/*
 * The CA file must be a regular file this user can open, or every fetch
 * fails later and the run exits 75 as if the vendor were down.  Returns
 * AS_OK, or AS_ECONFIG after logging one line that names the file and
 * the config line or option it came from.
 */
static enum as_status
config_check_ca_file(const struct config *cfg)
{
	struct origin o = { .file = NULL };
	struct stat sb;
	const char *why = NULL;
	char buf[128];
	int fd;

	if (cfg->ca_file_line != 0) {
		o.file = cfg->config_file;
		o.line = cfg->ca_file_line;
	}
	/* O_NONBLOCK: a FIFO must not hang the run here. */
	if ((fd = open(cfg->ca_file, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1) {
		snprintf(buf, sizeof(buf), "cannot be read: %s",
		    strerror(errno));
		why = buf;
	} else if (fstat(fd, &sb) == -1) {
		snprintf(buf, sizeof(buf), "cannot be read: %s",
		    strerror(errno));
		why = buf;
	} else if (S_ISDIR(sb.st_mode))
		why = "is a directory, not a file";
	else if (!S_ISREG(sb.st_mode))
		why = "is not a regular file";
	if (fd != -1)
		close(fd);
	return why == NULL ? AS_OK : config_bad_value(&o, "ca-file",
	    cfg->ca_file, why);
}

/* Checks that involve several keys, after everything is read. */
static enum as_status
config_check(struct config *cfg)
{
	enum as_status rc;

	if (cfg->set4[0] == '\0' && cfg->set6[0] == '\0') {
		log_err("set4 and set6 are both empty: nothing to sync");
		return AS_ECONFIG;
	}
	if (strcmp(cfg->family, "ip") == 0 && cfg->set6[0] != '\0') {
		log_err("family ip holds no IPv6 set: set set6 = (empty) or "
		    "use family inet");
		return AS_ECONFIG;
	}
	if (strcmp(cfg->family, "ip6") == 0 && cfg->set4[0] != '\0') {
		log_err("family ip6 holds no IPv4 set: set set4 = (empty) or "
		    "use family inet");
		return AS_ECONFIG;
	}
	if (cfg->restore + cfg->check + cfg->status > 1) {
		log_err("--restore, --check and --status exclude each other");
		return AS_EUSAGE;
	}
	/*
	 * Only a run that fetches needs the CA file: --restore must bring
	 * the sets back at boot whatever became of it.
	 */
	if (cfg->ca_file != NULL && !cfg->restore && !cfg->check &&
	    !cfg->status && (rc = config_check_ca_file(cfg)) != AS_OK)
		return rc;
	if (cfg->fetch.connect_timeout > cfg->fetch.timeout)
		cfg->fetch.connect_timeout = cfg->fetch.timeout;
	cfg->fetch.ca_file = cfg->ca_file;
	cfg->policy.want4 = cfg->set4[0] != '\0';
	cfg->policy.want6 = cfg->set6[0] != '\0';
	return AS_OK;
}

/*
 * See allowsync.h.  argv is read twice: first to find --config, --help
 * and --version and to reject malformed options, then, after the file,
 * to apply the options in order so the command line wins.
 */
enum as_status
config_load(int argc, char **argv, struct config *cfg)
{
	struct option lopts[NOPTIONS + 1];
	struct origin o = { 0 };
	char shorts[32], *p = shorts, val1[] = "yes";
	const char *key, *arg;
	bool explicit = false;
	size_t i;
	int c, idx, pass;
	enum as_status rc;

	config_defaults(cfg);
	memset(lopts, 0, sizeof(lopts));
	for (i = 0; i < NOPTIONS; i++) {
		lopts[i].name = options[i].name;
		if (options[i].kind == OPT_FLAG)
			lopts[i].has_arg = optional_argument;
		else if (options[i].kind == OPT_CLI &&
		    strcmp(options[i].name, "config") != 0)
			lopts[i].has_arg = no_argument;
		else
			lopts[i].has_arg = required_argument;
		lopts[i].val = 256 + (int)i;
		if (options[i].shortopt) {
			*p++ = (char)options[i].shortopt;
			if (lopts[i].has_arg == required_argument)
				*p++ = ':';
		}
	}
	*p = '\0';

	for (pass = 0; pass < 2; pass++) {
		optind = 1;
		opterr = pass == 0;
		while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) !=
		    -1) {
			if (c == '?' || c == ':') {
				log_err("bad command line; see --help");
				return AS_EUSAGE;
			}
			if (c < 256) {
				for (i = 0; i < NOPTIONS; i++)
					if (options[i].shortopt == c)
						break;
			} else
				i = (size_t)(c - 256);
			if (i >= NOPTIONS) {
				log_err("bad command line; see --help");
				return AS_EUSAGE;
			}
			key = options[i].name;
			if (pass == 0 && options[i].kind != OPT_CLI)
				continue;
			if (pass == 1 && options[i].kind == OPT_CLI)
				continue;
			if (strcmp(key, "config") == 0)
				explicit = true;
			/* A short flag leaves optarg undefined. */
			if (optarg != NULL && (c >= 256 ||
			    lopts[i].has_arg == required_argument))
				arg = optarg;
			else
				arg = val1;
			rc = config_set(cfg, &o, key, arg);
			if (rc != AS_OK)
				return rc;
		}
		if (pass == 0) {
			if (optind < argc) {
				log_err("unexpected argument \"%s\"; see "
				    "--help", argv[optind]);
				return AS_EUSAGE;
			}
			if (cfg->help || cfg->version)
				return AS_OK;
			if ((rc = config_read_file(cfg, cfg->config_file,
			    explicit)) != AS_OK)
				return rc;
		}
	}
	return config_check(cfg);
}

/* See allowsync.h. */
void
config_usage(void *fp)
{
	FILE *f = fp;

	fprintf(f,
"usage: allowsync [options]\n"
"Keep nftables sets in step with a vendor's published IP allowlist.\n"
"\n"
"  -c, --config FILE       config file (default " DEFAULT_CONFIG_FILE ")\n"
"  -n, --dry-run           fetch, validate and plan; change nothing\n"
"                          (flags also take =yes or =no)\n"
"      --json              print the plan and result as one JSON object\n"
"  -v, --verbose           more log lines (twice: debug)\n"
"  -q, --quiet             errors only, no plan on stdout\n"
"      --version           print the version\n"
"  -h, --help              this text\n"
"Sources (repeatable; the result is their union):\n"
"      --locale CC         vendor market: ar br cl co cz de es it mx pe pl pt tr\n"
"      --domain DOMAIN     https://www.DOMAIN/public/docs/public-ips.json\n"
"      --url URL           JSON URL (https:// or file://)\n"
"      --url-txt URL       text fallback of the preceding --url\n"
"      --ca-file FILE      trust only this CA bundle (TLS is always verified)\n"
"      --json-keys K1,K2   JSON arrays to read (default API)\n"
"      --timeout S         whole transfer limit (default 30)\n"
"      --connect-timeout S connect limit (default 10)\n"
"      --max-bytes N       body size limit (default 1048576)\n"
"      --retries N         retries on transient errors (default 2)\n"
"      --retry-delay S     first retry backoff (default 1)\n"
"Firewall:\n"
"      --family F          inet, ip or ip6 (default inet)\n"
"      --table T           table (default filter)\n"
"      --set4 NAME         IPv4 set (default docplanner_v4; empty: off)\n"
"      --set6 NAME         IPv6 set (default docplanner_v6; empty: off)\n"
"      --create            create a missing table and sets\n"
"Policy:\n"
"      --min-prefix4 N     widest IPv4 prefix allowed (default 16)\n"
"      --min-prefix6 N     widest IPv6 prefix allowed (default 32)\n"
"      --allow-private     accept private space (default no; =no to undo)\n"
"      --max-entries N     entries per document (default 10000)\n"
"      --lenient           drop bad entries instead of rejecting the list\n"
"      --static ENTRY      local entry always in the set (repeatable)\n"
"State and safety:\n"
"      --state-dir DIR     last accepted lists (default " DEFAULT_STATE_DIR ")\n"
"      --remove-after N    remove an entry after N accepted lists lack it (2)\n"
"      --max-remove-percent N  hold back removals above N%% of entries (50)\n"
"      --force             apply removals the shrink guard held back\n"
"      --stale-warn DAYS   warn when a cached list is older (default 3)\n"
"      --wait S            wait up to S seconds for another run's lock\n"
"      --metrics-file PATH write Prometheus metrics after every sync/restore\n"
"Modes (no network):\n"
"      --restore           load the saved lists into the sets (boot, reload)\n"
"      --check             compare the sets with the saved lists; 1 on drift\n"
"      --status            print each source's state and the set sizes\n"
"\n"
"Exit status: 0 in sync, 1 drift (--check), 64 usage, 65 list rejected or\n"
"removals held, 66 no saved state (--restore), 69 firewall objects missing\n"
"or wrong, 70 internal error, 71 kernel error, 75 no source reachable or\n"
"lock busy, 77 no permission, 78 config error.\n");
}

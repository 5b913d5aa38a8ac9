/*
 * The configuration keys that need more than a value stored: the sources
 * (locale, domain, url, url-txt), the lists (static, json-keys), and the
 * flags with a rule of their own (verbose, quiet, dry-run).  config.c's
 * table points at a setter and a getter here for each; this file also
 * logs configuration errors for both.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <netinet/in.h>

#include "allowsync.h"

#define VENDOR_PATH	"/public/docs/public-ips.json"	/* on www.DOMAIN */

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
#define NLOCALES	(sizeof(locales) / sizeof(locales[0]))

/*
 * Log a configuration error at its origin, "FILE: line N: KEY: WHAT" or
 * "--KEY: WHAT", followed by the escaped value in quotes unless val is
 * NULL (a value that must not be logged).  Returns AS_ECONFIG.
 */
enum as_status
config_error(const struct config_origin *o, const char *key, const char *what,
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
enum as_status
config_bad_value(const struct config_origin *o, const char *key,
    const char *val, const char *why)
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
 * See allowsync.h.  A refused URL that holds an '@' anywhere is not
 * repeated: whatever the refusal says, the text before the '@' may be a
 * password, malformed or not ("https:/user:pw@host").
 */
enum as_status
config_url_error(const struct config_origin *o, const char *key,
    const char *why, const char *url)
{
	return config_error(o, key, why, strchr(url, '@') != NULL ? NULL :
	    url);
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

/* See allowsync.h. */
const char *
key_locale_codes(char *buf, size_t bufsz)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NLOCALES && n < bufsz; i++)
		n += (size_t)snprintf(buf + n, bufsz - n, "%s%s", i ? " " : "",
		    locales[i].code);
	return buf;
}

/* --------------------------------------------------------- lists of keys */

/* Free the sources of so and empty the list. */
static void
sources_clear(struct source_opts *so)
{
	size_t i;

	for (i = 0; i < so->nsources; i++) {
		free(so->sources[i].name);
		free(so->sources[i].url);
		free(so->sources[i].url_txt);
	}
	memset(so->sources, 0, sizeof(so->sources));
	so->nsources = 0;
}

/* Free the static entries of so and empty the list. */
static void
statics_clear(struct source_opts *so)
{
	size_t i;

	for (i = 0; i < so->nstatics; i++)
		free(so->statics[i].text);
	free(so->statics);
	so->statics = NULL;
	so->nstatics = 0;
}

/*
 * Add a source with JSON URL url, added by key.  The text fallback is the
 * URL with a final ".json" changed to ".txt"; url-txt may replace it
 * later.  A URL ending in ".txt" is the text form itself, with no JSON
 * form.
 */
static enum as_status
source_add(struct config *cfg, struct config_origin *o, const char *key,
    const char *name, const char *url)
{
	struct source_opts *so = o->so;
	struct source *s;
	const char *why;
	size_t i;

	(void)cfg;
	if ((why = fetch_url_check(url)) != NULL)
		return config_url_error(o, key, why, url);
	if (so->nsources == MAX_SOURCES)
		return config_error(o, key, "too many sources", name);
	for (i = 0; i < so->nsources; i++)
		if (strcmp(so->sources[i].url, url) == 0)
			return config_url_error(o, key, "the same list as an "
			    "earlier source", url);
	s = &so->sources[so->nsources++];
	s->name = xstrdup(name);
	s->key = strcmp(key, "locale") == 0 ? "locale" :
	    strcmp(key, "domain") == 0 ? "domain" : "url";
	s->url = xstrdup(url);
	/* url-txt follows a url line, not locale or domain. */
	o->url_txt_ok = strcmp(key, "url") == 0;
	return AS_OK;
}

/*
 * locale, domain, url: add a source.  The command line's sources replace
 * the file's.
 */
enum as_status
key_set_source(struct config *cfg, struct config_origin *o, const char *key,
    const char *val)
{
	char url[MAX_URL_LEN + 1], codes[64], what[128];
	size_t i;

	if (o->file == NULL && !o->cli_sources) {
		sources_clear(o->so);
		o->cli_sources = true;
	}
	/* A section's first source replaces the defaults'. */
	if (o->so->inherited_sources) {
		sources_clear(o->so);
		o->so->inherited_sources = false;
	}
	o->url_txt_ok = false;
	if (strcmp(key, "url") == 0)
		return source_add(cfg, o, key, val, val);
	if (strcmp(key, "domain") == 0) {
		if (!domain_ok(val))
			return config_error(o, key, "not a domain name",
			    val);
		snprintf(url, sizeof(url), "https://www.%s" VENDOR_PATH, val);
		return source_add(cfg, o, key, val, url);
	}
	for (i = 0; i < NLOCALES; i++) {
		if (strcasecmp(val, locales[i].code) == 0) {
			snprintf(url, sizeof(url), "https://www.%s"
			    VENDOR_PATH, locales[i].domain);
			return source_add(cfg, o, key, locales[i].code,
			    url);
		}
	}
	snprintf(what, sizeof(what), "unknown locale (one of %s)",
	    key_locale_codes(codes, sizeof(codes)));
	return config_error(o, key, what, val);
}

/* locale, domain, url: the sources that key added, joined by ",". */
void
key_get_source(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	size_t i, n = 0;

	(void)cfg;
	buf[0] = '\0';
	for (i = 0; i < so->nsources && n < bufsz; i++)
		if (strcmp(so->sources[i].key, key) == 0)
			n += (size_t)snprintf(buf + n, bufsz - n, "%s%s",
			    n ? "," : "", so->sources[i].name);
}

/* url-txt: the text form of the source the preceding url added. */
enum as_status
key_set_url_txt(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	struct source *s;
	const char *why;

	(void)cfg;
	if (!o->url_txt_ok)
		return config_error(o, key,
		    "must follow the url it belongs to", val);
	if ((why = fetch_url_check(val)) != NULL)
		return config_url_error(o, key, why, val);
	s = &o->so->sources[o->so->nsources - 1];
	free(s->url_txt);
	s->url_txt = xstrdup(val);
	s->url_txt_line = o->file != NULL ? o->line : 0;
	s->url_txt_preset = o->preset;
	o->url_txt_ok = false;
	return AS_OK;
}

void
key_get_url_txt(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	const struct source *s = so->nsources > 0 ?
	    &so->sources[so->nsources - 1] : NULL;

	(void)cfg;
	(void)key;
	snprintf(buf, bufsz, "%s", s != NULL && s->url_txt ? s->url_txt :
	    "");
}

/* static: one more entry.  The command line's entries replace the file's. */
enum as_status
key_set_static(struct config *cfg, struct config_origin *o, const char *key,
    const char *val)
{
	struct source_opts *so = o->so;

	(void)cfg;
	if (o->file == NULL && !o->cli_statics) {
		statics_clear(so);
		o->cli_statics = true;
	}
	if (so->inherited_statics) {
		statics_clear(so);
		so->inherited_statics = false;
	}
	if (so->nstatics == MAX_STATIC)
		return config_error(o, key, "too many entries", val);
	so->statics = xreallocarray(so->statics, so->nstatics + 1,
	    sizeof(*so->statics));
	so->statics[so->nstatics].text = xstrdup(val);
	so->statics[so->nstatics].line = o->file ? o->line : 0;
	so->nstatics++;
	return AS_OK;
}

void
key_get_static(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	size_t i, n = 0;

	(void)cfg;
	(void)key;
	buf[0] = '\0';
	for (i = 0; i < so->nstatics && n < bufsz; i++)
		n += (size_t)snprintf(buf + n, bufsz - n, "%s%s",
		    i ? "," : "", so->statics[i].text);
}

/*
 * Compile text as the paths of so, or log why it is bad (naming key and
 * val, as written).
 */
static enum as_status
paths_set(struct config_origin *o, const char *key, const char *val,
    const char *text)
{
	struct jpaths ps;
	const char *why;

	if ((why = jpaths_compile(text, &ps)) != NULL) {
		jpaths_free(&ps);
		return config_bad_value(o, key, val, why);
	}
	jpaths_free(&o->so->paths);
	o->so->paths = ps;
	return AS_OK;
}

/*
 * json-keys K1,K2: shorthand for the paths K1[],K2[].  An empty item is
 * left empty, for jpaths_compile() to refuse.
 */
enum as_status
key_set_json_keys(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	char text[MAX_PATH_TEXT + 1];
	const char *p = val, *c;
	size_t n = 0, l;

	(void)cfg;
	/* On the command line, it replaces json-path from the file. */
	if (o->file == NULL && !o->preset)
		o->so->given &= ~config_key_bit("json-path");
	for (;;) {
		c = strchr(p, ',');
		l = c != NULL ? (size_t)(c - p) : strlen(p);
		while (l > 0 && (*p == ' ' || *p == '\t'))
			p++, l--;
		while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (n + l + 4 > sizeof(text))
			return config_error(o, key, "longer than 512 bytes",
			    NULL);
		memcpy(text + n, p, l);
		n += l;
		if (l > 0)
			text[n++] = '[', text[n++] = ']';
		if (c == NULL)
			break;
		text[n++] = ',';
		p = c + 1;
	}
	text[n] = '\0';
	return paths_set(o, key, val, text);
}

/* json-keys: the keys, when every path is KEY[]; else empty. */
void
key_get_json_keys(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	const struct jpath *p;
	size_t i, n = 0;

	(void)cfg;
	(void)key;
	buf[0] = '\0';
	for (i = 0; i < so->paths.n; i++) {
		p = &so->paths.v[i];
		if (p->nsteps != 2 || p->steps[0].kind != JSTEP_KEY ||
		    p->steps[1].kind != JSTEP_ALL) {
			buf[0] = '\0';
			return;
		}
		if (n < bufsz)
			n += (size_t)snprintf(buf + n, bufsz - n, "%s%s",
			    i ? "," : "", p->steps[0].name);
	}
}

/* json-path: the paths of jsonpath.c's language. */
enum as_status
key_set_json_path(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	(void)cfg;
	/* On the command line, it replaces json-keys from the file. */
	if (o->file == NULL && !o->preset)
		o->so->given &= ~config_key_bit("json-keys");
	return paths_set(o, key, val, val);
}

void
key_get_json_path(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	(void)cfg;
	(void)key;
	jpaths_format(&so->paths, buf, bufsz);
}

/* preset: the name, checked here and applied by config.c at the end. */
enum as_status
key_set_preset(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	char lines[MAX_PRESET_KEYS][MAX_PRESET_LINE], names[256], what[320];

	(void)cfg;
	if (preset_keys(val, lines, MAX_PRESET_KEYS) == 0) {
		snprintf(what, sizeof(what), "unknown preset (one of %s)",
		    preset_names(names, sizeof(names)));
		return config_error(o, key, what, val);
	}
	free(o->so->preset);
	o->so->preset = xstrdup(val);
	return AS_OK;
}

void
key_get_preset(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	(void)cfg;
	(void)key;
	snprintf(buf, bufsz, "%s", so->preset != NULL ? so->preset : "");
}

/*
 * private, special, wide: what an entry of that class does.  allow is
 * for private space only: every other class is never applied.
 */
enum as_status
key_set_class(struct config *cfg, struct config_origin *o, const char *key,
    const char *val)
{
	enum entry_class c;
	enum decision d;

	(void)cfg;
	for (c = 0; c < NCLASSES && strcmp(class_name(c), key) != 0; c++)
		;
	for (d = DEC_REJECT; d <= DEC_ALLOW && strcmp(decision_name(d), val)
	    != 0; d++)
		;
	if (c == NCLASSES)
		return AS_ESOFTWARE;
	if (d > DEC_ALLOW || (d == DEC_ALLOW && c != CLASS_PRIVATE))
		return config_bad_value(o, key, val, c == CLASS_PRIVATE ?
		    "is not reject, skip or allow" : "is not reject or skip");
	o->so->policy.decide[c] = d;
	return AS_OK;
}

void
key_get_class(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	enum entry_class c;

	(void)cfg;
	for (c = 0; c < NCLASSES && strcmp(class_name(c), key) != 0; c++)
		;
	snprintf(buf, bufsz, "%s", c < NCLASSES ?
	    decision_name(so->policy.decide[c]) : "");
}

/* allow-private: yes is private = allow, no private = reject. */
enum as_status
key_set_allow_private(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	int b;

	(void)cfg;
	if ((b = parse_bool(val)) < 0)
		return config_error(o, key, "expected yes or no, got", val);
	o->so->policy.decide[CLASS_PRIVATE] = b ? DEC_ALLOW : DEC_REJECT;
	/* It is private by another name, for the Docplanner default too. */
	o->so->given |= config_key_bit("private");
	return AS_OK;
}

void
key_get_allow_private(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	(void)cfg;
	(void)key;
	snprintf(buf, bufsz, "%s", so->policy.decide[CLASS_PRIVATE] ==
	    DEC_ALLOW ? "yes" : "no");
}

/* format: auto (FORM_NONE), json or text. */
enum as_status
key_set_format(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	(void)cfg;
	if (strcmp(val, "auto") == 0)
		o->so->format = FORM_NONE;
	else if (!form_parse(val, &o->so->format))
		return config_bad_value(o, key, val,
		    "is not auto, json or text");
	return AS_OK;
}

void
key_get_format(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	(void)cfg;
	(void)key;
	snprintf(buf, bufsz, "%s", so->format == FORM_NONE ? "auto" :
	    form_name(so->format));
}

/*
 * verbose and quiet: one verbosity.  -v twice on the command line is
 * debug.
 */
enum as_status
key_set_verbosity(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	int b;

	if ((b = parse_bool(val)) < 0)
		return config_error(o, key, "expected yes or no, got",
		    val);
	if (strcmp(key, "quiet") == 0)
		cfg->verbosity = b ? -1 : 0;
	else
		cfg->verbosity = b ? (o->file == NULL && cfg->verbosity > 0 ?
		    2 : 1) : 0;
	return AS_OK;
}

void
key_get_verbosity(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	bool on = strcmp(key, "quiet") == 0 ? cfg->verbosity < 0 :
	    cfg->verbosity > 0;

	(void)so;
	snprintf(buf, bufsz, "%s", on ? "yes" : "no");
}

/* dry-run = yes in the file is refused; "no" is harmless. */
enum as_status
key_set_dry_run(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	int b;

	if ((b = parse_bool(val)) < 0)
		return config_error(o, key, "expected yes or no, got",
		    val);
	if (b && o->file != NULL)
		return config_error(o, key, "is a command-line decision "
		    "(--dry-run): in the file it would silently turn every "
		    "timer run into a no-op", NULL);
	cfg->dry_run = b;
	return AS_OK;
}

void
key_get_dry_run(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	(void)so;
	(void)key;
	snprintf(buf, bufsz, "%s", cfg->dry_run ? "yes" : "no");
}


/* See allowsync.h. */
void
keys_copy(struct source_opts *dst, const struct source_opts *src)
{
	struct static_entry *statics;
	size_t i;

	for (i = 0; i < src->nsources; i++) {
		dst->sources[i] = src->sources[i];
		dst->sources[i].name = xstrdup(src->sources[i].name);
		dst->sources[i].url = xstrdup(src->sources[i].url);
		dst->sources[i].url_txt = src->sources[i].url_txt != NULL ?
		    xstrdup(src->sources[i].url_txt) : NULL;
	}
	dst->nsources = src->nsources;
	dst->statics = NULL;
	dst->nstatics = src->nstatics;
	if (dst->nstatics > 0) {
		statics = xcalloc(dst->nstatics, sizeof(*statics));
		for (i = 0; i < dst->nstatics; i++) {
			statics[i].text = xstrdup(src->statics[i].text);
			statics[i].line = src->statics[i].line;
		}
		dst->statics = statics;
	}
	dst->inherited_sources = src->nsources > 0;
	dst->inherited_statics = src->nstatics > 0;
	jpaths_copy(&dst->paths, &src->paths);
	dst->preset = src->preset != NULL ? xstrdup(src->preset) : NULL;
}

/* See allowsync.h. */
const char *
section_name_check(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > MAX_SECTION_NAME)
		return "is not 1 to 32 bytes";
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    (i > 0 && (name[i] == '_' || name[i] == '-'))))
			return "is not a section name: lowercase letters, "
			    "digits, '_' and '-', not starting with '_' or "
			    "'-'";
	return NULL;
}

/* --section: one more section to run. */
enum as_status
key_set_section(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	const char *why;

	if ((why = section_name_check(val)) != NULL)
		return config_bad_value(o, key, val, why);
	if (cfg->nonly == MAX_SECTIONS)
		return config_error(o, key, "given too often", val);
	cfg->only[cfg->nonly++] = xstrdup(val);
	return AS_OK;
}

void
key_get_section(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	size_t i, n = 0;

	(void)so;
	(void)key;
	buf[0] = '\0';
	for (i = 0; i < cfg->nonly && n < bufsz; i++)
		n += (size_t)snprintf(buf + n, bufsz - n, "%s%s",
		    i ? "," : "", cfg->only[i]);
}

/* See allowsync.h. */
void
keys_free(struct source_opts *so)
{
	sources_clear(so);
	statics_clear(so);
	jpaths_free(&so->paths);
	free(so->preset);
	so->preset = NULL;
}

/*
 * Parse one port of a guard-ports item, s[0..n): 1 to 65535 in decimal,
 * no sign, no leading zero.  Returns 0 with *port set, or -1.
 */
static int
parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Parse one guard-ports item, s[0..n) trimmed: "tcp/PORT", "udp/PORT",
 * "tcp/LOW-HIGH" or "udp/LOW-HIGH".  Returns 0, or -1.
 */
static int
parse_guard_port(const char *s, size_t n, struct guard_port *gp)
{
	const char *dash;

	if (n > 4 && strncmp(s, "tcp/", 4) == 0)
		gp->proto = IPPROTO_TCP;
	else if (n > 4 && strncmp(s, "udp/", 4) == 0)
		gp->proto = IPPROTO_UDP;
	else
		return -1;
	s += 4;
	n -= 4;
	if ((dash = memchr(s, '-', n)) == NULL) {
		if (parse_port(s, n, &gp->lo) == -1)
			return -1;
		gp->hi = gp->lo;
		return 0;
	}
	if (parse_port(s, (size_t)(dash - s), &gp->lo) == -1 ||
	    parse_port(dash + 1, n - (size_t)(dash - s) - 1, &gp->hi) == -1 ||
	    gp->lo > gp->hi)
		return -1;
	return 0;
}

/* See allowsync.h.  Empty switches guard mode off. */
enum as_status
key_set_guard_ports(struct config *cfg, struct config_origin *o,
    const char *key, const char *val)
{
	struct source_opts *so = o->so;
	const char *p = val, *c;
	size_t n;

	(void)cfg;
	so->nports = 0;
	while (*p != '\0') {
		c = strchr(p, ',');
		n = c ? (size_t)(c - p) : strlen(p);
		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (so->nports == MAX_GUARD_PORTS)
			return config_error(o, key, "more than 16 items in",
			    val);
		if (parse_guard_port(p, n, &so->ports[so->nports]) == -1)
			return config_bad_value(o, key, val, "is not a list of "
			    "tcp/PORT, udp/PORT or tcp/LOW-HIGH (ports 1 to "
			    "65535)");
		so->nports++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return AS_OK;
}

/* See allowsync.h. */
void
guard_ports_text(const struct guard_port *ports, size_t n, char *buf,
    size_t bufsz)
{
	const struct guard_port *gp;
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < bufsz; i++) {
		gp = &ports[i];
		len += (size_t)snprintf(buf + len, bufsz - len, "%s%s/%u",
		    i ? "," : "", gp->proto == IPPROTO_TCP ? "tcp" : "udp",
		    gp->lo);
		if (gp->hi != gp->lo && len < bufsz)
			len += (size_t)snprintf(buf + len, bufsz - len, "-%u",
			    gp->hi);
	}
}

/* See allowsync.h. */
void
key_get_guard_ports(const struct config *cfg, const struct source_opts *so,
    const char *key, char *buf, size_t bufsz)
{
	(void)cfg;
	(void)key;
	guard_ports_text(so->ports, so->nports, buf, bufsz);
}

/* True when url ends in ext. */
static bool
url_ends(const char *url, const char *ext)
{
	size_t n = strlen(url), e = strlen(ext);

	return n > e && strcmp(url + n - e, ext) == 0;
}

/*
 * Log that the url-txt of s has no JSON form to stand beside (its url is
 * a text list), naming the file, line and section, or the option.
 * Returns AS_ECONFIG.
 */
static enum as_status
url_txt_refused(const struct config *cfg, const struct source_opts *so,
    const struct source *s)
{
	char eu[ESCAPE_BUF], where[PATH_MAX + MAX_SECTION_NAME + 64];

	if (s->url_txt_line == 0)
		snprintf(where, sizeof(where), "--");
	else
		snprintf(where, sizeof(where), "%s: line %zu: %s%s%s",
		    cfg->config_file, s->url_txt_line, so->name ? "[" : "",
		    so->name ? so->name : "", so->name ? "] " : "");
	log_err("%surl-txt: the url before it is already a text list "
	    "(format text, or a .txt URL): %s", where, log_escape(s->url_txt,
	    strlen(s->url_txt), eu, sizeof(eu)));
	return AS_ECONFIG;
}

/*
 * See allowsync.h.  A text list (format text, or auto and a .txt URL)
 * has no JSON form; a .json URL has the text form beside it unless
 * url-txt names another; format auto lets the body of the first form
 * decide (a { or [ first is JSON).  A preset's url-txt gives way to format
 * text; one the operator wrote is an error there.
 */
enum as_status
sources_finish(const struct config *cfg, struct source_opts *so)
{
	struct source *s;
	size_t i, n;

	for (i = 0; i < so->nsources; i++) {
		s = &so->sources[i];
		n = strlen(s->url);
		if (so->format == FORM_TEXT || (so->format == FORM_NONE &&
		    url_ends(s->url, ".txt"))) {
			if (s->url_txt != NULL && !s->url_txt_preset)
				return url_txt_refused(cfg, so, s);
			free(s->url_txt);
			s->url_txt = xstrdup(s->url);
			s->text_only = true;
		} else if (s->url_txt == NULL && url_ends(s->url, ".json")) {
			s->url_txt = xmalloc(n);
			memcpy(s->url_txt, s->url, n - 5);
			memcpy(s->url_txt + n - 5, ".txt", 5);
		}
		s->sniff = so->format == FORM_NONE && !s->text_only;
		/*
		 * Docplanner's own example lists private addresses: its
		 * markets skip them unless the operator decides.
		 */
		s->private_skip = strcmp(s->key, "locale") == 0 &&
		    !((so->given | cfg->src.given) &
		    config_key_bit("private"));
	}
	return AS_OK;
}

/*
 * See allowsync.h.  Without a usable CA file every fetch fails later and
 * the run exits 75 as if the vendor were down.  The error names the file
 * and the config line or option it came from.
 */
enum as_status
config_check_ca_file(const struct config *cfg, const struct source_opts *so)
{
	struct config_origin o = { .file = NULL };
	struct stat sb;
	const char *why = NULL;
	char buf[128];
	int fd;

	if (so->ca_file_line != 0) {
		o.file = cfg->config_file;
		o.line = so->ca_file_line;
	}
	/* O_NONBLOCK: a FIFO must not hang the run here. */
	if ((fd = open(so->ca_file, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1) {
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
	    so->ca_file, why);
}

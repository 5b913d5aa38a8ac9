/*
 * The command line: getopt's tables and --help from the key table, and
 * config_load(), which puts defaults, the config file and the command
 * line together.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "allowsync.h"

#define HELP_COLUMN	26		/* where --help's descriptions start */

/*
 * getopt_long's tables from options[]: flags take an optional =yes|no
 * (the command-line-only ones none), everything else an argument.  The
 * long option's val is 256 + its index.
 */
static void
getopt_tables(struct option *lopts, char *shorts)
{
	const struct option_def *d;
	size_t i;

	memset(lopts, 0, (MAX_OPTIONS + 1) * sizeof(*lopts));
	for (i = 0; i < noptions; i++) {
		d = &options[i];
		lopts[i].name = d->name;
		if (d->arg != NULL)
			lopts[i].has_arg = required_argument;
		else if (d->flags & KEY_CLI_ONLY)
			lopts[i].has_arg = no_argument;
		else
			lopts[i].has_arg = optional_argument;
		lopts[i].val = 256 + (int)i;
		if (d->shortopt) {
			*shorts++ = (char)d->shortopt;
			if (lopts[i].has_arg == required_argument)
				*shorts++ = ':';
		}
	}
	*shorts = '\0';
}

/*
 * Set key d from the command line.  With sections in the file, a source
 * key is set in the defaults and in every section, after the file, so the
 * command line wins there too; sources and static entries, which are
 * lists of one section, are refused.
 */
static enum as_status
config_set_cli(struct config *cfg, struct config_origin *o,
    const struct option_def *d, const char *val)
{
	size_t i;
	enum as_status rc;

	o->so = &cfg->src;
	if (!(d->flags & KEY_SOURCE) || cfg->nsections == 0)
		return config_set(cfg, o, d->name, val);
	if (d->flags & KEY_REPEAT) {
		log_err("--%s: %s has sections: sources and static entries "
		    "belong in a section", d->name, cfg->config_file);
		return AS_EUSAGE;
	}
	if ((rc = config_set(cfg, o, d->name, val)) != AS_OK)
		return rc;
	for (i = 0; i < cfg->nsections; i++) {
		o->so = &cfg->sections[i];
		if ((rc = config_set(cfg, o, d->name, val)) != AS_OK)
			return rc;
	}
	return AS_OK;
}

/*
 * One pass over argv: the command-line-only keys (pass 0), the others
 * (pass 1), or after a config error only those that say where and how to
 * report it, and whether it was a dry run (pass 2, errors ignored), each
 * set through config_set().
 * *explicit tells whether --config was given.
 */
static enum as_status
config_argv_pass(struct config *cfg, int argc, char **argv, int pass,
    bool *explicit)
{
	struct option lopts[MAX_OPTIONS + 1];
	struct config_origin o = { 0 };
	char shorts[2 * MAX_OPTIONS + 1], yes[] = "yes";
	const struct option_def *d;
	int c, idx;
	enum as_status rc;

	getopt_tables(lopts, shorts);
	optind = 1;
	opterr = pass == 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, &idx)) != -1) {
		if (c == '?' || c == ':') {
			log_err("bad command line; see --help");
			return AS_EUSAGE;
		}
		for (d = options; c < 256 && d < options + noptions; d++)
			if (d->shortopt == c)
				break;
		if (c >= 256)
			d = &options[c - 256];
		if (d >= options + noptions)
			return AS_EUSAGE;
		if ((pass == 0) != ((d->flags & KEY_CLI_ONLY) != 0))
			continue;
		if (pass == 2 && strcmp(d->name, "json") != 0 &&
		    strcmp(d->name, "metrics-file") != 0 &&
		    strcmp(d->name, "state-dir") != 0 &&
		    strcmp(d->name, "dry-run") != 0)
			continue;
		if (strcmp(d->name, "config") == 0)
			*explicit = true;
		/* A short flag leaves optarg undefined. */
		rc = config_set_cli(cfg, &o, d, optarg != NULL &&
		    (c >= 256 || d->arg != NULL) ? optarg : yes);
		if (rc != AS_OK && pass != 2)
			return rc;
	}
	if (pass == 0 && optind < argc) {
		log_err("unexpected argument \"%s\"; see --help",
		    argv[optind]);
		return AS_EUSAGE;
	}
	return AS_OK;
}

/*
 * See allowsync.h.  argv is read twice: first for --config, --help, the
 * modes and malformed options, then, after the file, to apply the other
 * options in order so the command line wins.
 */
enum as_status
config_load(int argc, char **argv, struct config *cfg)
{
	bool explicit = false;
	enum as_status rc;

	config_defaults(cfg);
	if ((rc = config_argv_pass(cfg, argc, argv, 0, &explicit)) != AS_OK)
		return rc;
	if (cfg->help || cfg->version || cfg->list_presets)
		return AS_OK;
	if ((rc = config_read_file(cfg, cfg->config_file, explicit)) != AS_OK ||
	    (rc = config_argv_pass(cfg, argc, argv, 1, &explicit)) != AS_OK)
		return rc;
	return config_check(cfg);
}

/* See allowsync.h. */
void
config_rescue(int argc, char **argv, struct config *cfg)
{
	bool explicit = false;

	(void)config_argv_pass(cfg, argc, argv, 2, &explicit);
}

/* See allowsync.h. */
void
config_usage(void *fp)
{
	const struct option_def *d;
	FILE *f = fp;
	char codes[64];
	int n;

	fprintf(f, "usage: allowsync [options]\n"
	    "Keep nftables sets in step with a vendor's published IP "
	    "allowlist.\n"
	    "Every option is also a key of the config file; flags take "
	    "=yes or =no.\n\n");
	for (d = options; d < options + noptions; d++) {
		if (d->group != NULL)
			fprintf(f, "%s\n", d->group);
		if (d->shortopt)
			n = fprintf(f, "  -%c, --%s", d->shortopt, d->name);
		else
			n = fprintf(f, "      --%s", d->name);
		if (d->arg != NULL)
			n += fprintf(f, " %s", d->arg);
		fprintf(f, "%*s%s", n < HELP_COLUMN ? HELP_COLUMN - n : 2, "",
		    d->help);
		if (strcmp(d->name, "locale") == 0)
			fprintf(f, " %s", key_locale_codes(codes,
			    sizeof(codes)));
		fputc('\n', f);
	}
	fprintf(f, "\n"
"Exit status: 0 in sync, 1 drift (--check), 64 usage, 65 list rejected or\n"
"removals held, 66 no saved state (--restore, --check), 69 firewall objects\n"
"missing or wrong, 70 internal error, 71 kernel error, 73 state file cannot\n"
"be written, 74 standard output cannot be written, 75 no source reachable or\n"
"lock busy, 77 no permission, 78 config error.\n");
}

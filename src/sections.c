/*
 * Sections: the [name] parts of the config file, each a vendor with its
 * own sources, policy and sets.  config.c reads them; this file answers
 * which sections a run goes through and checks what they share: sections
 * that name the same sets fill them together, so they must name the same
 * pair, and a guarded port belongs to one pair only.
 */
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "allowsync.h"

/* See allowsync.h. */
size_t
config_nsections(const struct config *cfg)
{
	return cfg->nsections > 0 ? cfg->nsections : 1;
}

/* See allowsync.h. */
const struct source_opts *
config_section(const struct config *cfg, size_t i)
{
	return cfg->nsections > 0 ? &cfg->sections[i] : &cfg->src;
}

/* True when a and b write to the same table. */
static bool
same_table(const struct source_opts *a, const struct source_opts *b)
{
	return strcmp(a->family, b->family) == 0 &&
	    strcmp(a->table, b->table) == 0;
}

/* True when set name s (maybe "") is one of b's sets. */
static bool
names_set(const char *s, const struct source_opts *b)
{
	return s[0] != '\0' && (strcmp(s, b->set4) == 0 ||
	    strcmp(s, b->set6) == 0);
}

/* True when a and b fill the same sets: the same pair. */
static bool
same_pair(const struct source_opts *a, const struct source_opts *b)
{
	return same_table(a, b) && strcmp(a->set4, b->set4) == 0 &&
	    strcmp(a->set6, b->set6) == 0;
}

/* A port that both a and b guard, into buf; false when none. */
static bool
shared_port(const struct source_opts *a, const struct source_opts *b,
    char *buf, size_t bufsz)
{
	const struct guard_port *x, *y;
	size_t i, j;

	for (i = 0; i < a->nports; i++)
		for (j = 0; j < b->nports; j++) {
			x = &a->ports[i];
			y = &b->ports[j];
			if (x->proto != y->proto || x->hi < y->lo ||
			    y->hi < x->lo)
				continue;
			snprintf(buf, bufsz, "%s/%u",
			    x->proto == IPPROTO_TCP ? "tcp" : "udp",
			    (unsigned int)(x->lo > y->lo ? x->lo : y->lo));
			return true;
		}
	return false;
}

/* Log that sections a and b clash: why. */
static enum as_status
clash(const struct config *cfg, const struct source_opts *a,
    const struct source_opts *b, const char *why)
{
	log_err("%s: sections [%s] (line %zu) and [%s] (line %zu) %s",
	    cfg->config_file, a->name, a->line, b->name, b->line, why);
	return AS_ECONFIG;
}

/* The checks between two sections a and b. */
static enum as_status
pair_check(const struct config *cfg, const struct source_opts *a,
    const struct source_opts *b)
{
	char port[16], why[160];

	if (same_table(a, b) && (names_set(a->set4, b) ||
	    names_set(a->set6, b)) && !same_pair(a, b))
		return clash(cfg, a, b, "share a set but not the other: "
		    "sections that fill the same sets must name the same "
		    "set4 and set6");
	if (same_table(a, b) && (a->nports > 0) != (b->nports > 0))
		return clash(cfg, a, b, "use one table, but guard mode owns "
		    "it in one and not in the other");
	if (a->nports > 0 && b->nports > 0 &&
	    strcmp(a->guard_table, b->guard_table) != 0)
		return clash(cfg, a, b, "are both in guard mode with "
		    "different guard-table: guard mode owns one table");
	if (shared_port(a, b, port, sizeof(port)) && !same_pair(a, b)) {
		snprintf(why, sizeof(why), "both guard %s with different "
		    "sets: a guarded port belongs to one set pair, so give "
		    "them the same set4 and set6", port);
		return clash(cfg, a, b, why);
	}
	return AS_OK;
}

/* Mark the sections --section names; each name must be one. */
static enum as_status
sections_select(struct config *cfg)
{
	size_t i, j;

	cfg->src.selected = true;
	for (i = 0; i < cfg->nsections; i++)
		cfg->sections[i].selected = cfg->nonly == 0;
	if (cfg->nonly > 0 && cfg->nsections == 0) {
		log_err("--section: %s has no sections", cfg->config_file);
		return AS_ECONFIG;
	}
	for (j = 0; j < cfg->nonly; j++) {
		for (i = 0; i < cfg->nsections; i++)
			if (strcmp(cfg->sections[i].name, cfg->only[j]) == 0)
				break;
		if (i == cfg->nsections) {
			log_err("--section: %s has no section [%s]",
			    cfg->config_file, cfg->only[j]);
			return AS_ECONFIG;
		}
		cfg->sections[i].selected = true;
	}
	return AS_OK;
}

/*
 * The guard table guards the port items of every guard section, at most
 * MAX_GUARD_PORTS different ones in all.
 */
static enum as_status
guard_ports_check(const struct config *cfg)
{
	const struct guard_port *p, *q;
	size_t i, j, k, l, n = 0;
	bool seen;

	for (i = 0; i < cfg->nsections; i++)
		for (j = 0; j < cfg->sections[i].nports; j++) {
			p = &cfg->sections[i].ports[j];
			seen = false;
			for (k = 0; k < i && !seen; k++)
				for (l = 0; l < cfg->sections[k].nports; l++) {
					q = &cfg->sections[k].ports[l];
					seen |= p->proto == q->proto &&
					    p->lo == q->lo && p->hi == q->hi;
				}
			n += !seen;
		}
	if (n <= MAX_GUARD_PORTS)
		return AS_OK;
	log_err("%s: the sections in guard mode guard %zu port items in all: "
	    "at most %d", cfg->config_file, n, MAX_GUARD_PORTS);
	return AS_ECONFIG;
}

/* See allowsync.h. */
enum as_status
sections_check(struct config *cfg)
{
	size_t i, j;
	enum as_status rc;

	if ((rc = sections_select(cfg)) != AS_OK ||
	    (rc = guard_ports_check(cfg)) != AS_OK)
		return rc;
	for (i = 0; i < cfg->nsections; i++)
		for (j = i + 1; j < cfg->nsections; j++)
			if ((rc = pair_check(cfg, &cfg->sections[i],
			    &cfg->sections[j])) != AS_OK)
				return rc;
	return AS_OK;
}

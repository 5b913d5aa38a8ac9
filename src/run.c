/*
 * The layout of a run, and a section's list between fetching and
 * applying it.  Every section of the config is a run_section; the set
 * pairs they name are the run_targets, each filled with the union of its
 * sections' lists.  Sections that --section leaves out still bring their
 * saved lists to a target they share, so running one section never takes
 * another's entries out of a shared set.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

#define MAX_LOGGED	50	/* ranges listed one by one in the log */

/* True when section so fills target rt. */
static bool
target_is(const struct run_target *rt, const struct source_opts *so)
{
	return strcmp(rt->tgt.family, so->family) == 0 &&
	    strcmp(rt->tgt.table, so->table) == 0 &&
	    strcmp(rt->tgt.set4, so->set4) == 0 &&
	    strcmp(rt->tgt.set6, so->set6) == 0;
}

/* Add the guard ports of so to rt's; false when there are too many. */
static bool
ports_merge(struct run_target *rt, const struct source_opts *so)
{
	const struct guard_port *p;
	size_t i, j;

	for (i = 0; i < so->nports; i++) {
		p = &so->ports[i];
		for (j = 0; j < rt->tgt.nports; j++)
			if (rt->ports[j].proto == p->proto &&
			    rt->ports[j].lo == p->lo &&
			    rt->ports[j].hi == p->hi)
				break;
		if (j < rt->tgt.nports)
			continue;
		if (rt->tgt.nports == MAX_GUARD_PORTS)
			return false;
		rt->ports[rt->tgt.nports++] = *p;
	}
	return true;
}

/* A new target for section so. */
static void
target_init(struct run_target *rt, const struct source_opts *so)
{
	memset(rt, 0, sizeof(*rt));
	rt->tgt.family = so->family;
	rt->tgt.table = so->table;
	rt->tgt.set4 = so->set4;
	rt->tgt.set6 = so->set6;
	rt->tgt.ports = rt->ports;
	rangelist_init(&rt->want);
	rangelist_init(&rt->have);
	rangelist_init(&rt->prev);
	plan_init(&rt->plan);
}

/* See allowsync.h. */
enum as_status
run_layout(const struct config *cfg, struct run_report *rep)
{
	struct run_section *sec;
	struct run_target *rt;
	size_t i, j, n = config_nsections(cfg);

	rep->sections = xcalloc(n, sizeof(*rep->sections));
	rep->targets = xcalloc(n, sizeof(*rep->targets));
	for (i = 0; i < n; i++) {
		sec = &rep->sections[rep->nsections++];
		sec->so = config_section(cfg, i);
		sec->status = AS_OK;
		rangelist_init(&sec->want);
		sec->results = xcalloc(sec->so->nsources + 1,
		    sizeof(*sec->results));
		sec->old = xcalloc(sec->so->nsources + 1, sizeof(*sec->old));
		sec->cur = xcalloc(sec->so->nsources + 1, sizeof(*sec->cur));
		for (j = 0; j < sec->so->nsources; j++) {
			sec->results[j].src = &sec->so->sources[j];
			sec->results[j].status = AS_ETEMPFAIL;
			entryset_init(&sec->old[j].ent);
			entryset_init(&sec->cur[j].ent);
		}
		for (j = 0; j < rep->ntargets; j++)
			if (target_is(&rep->targets[j], sec->so))
				break;
		if (j == rep->ntargets)
			target_init(&rep->targets[rep->ntargets++], sec->so);
		sec->target = j;
		rt = &rep->targets[j];
		rt->touched |= sec->so->selected;
		if (!ports_merge(rt, sec->so)) {
			log_err("table inet %s: more than %d guarded ports in "
			    "all", rt->tgt.table, MAX_GUARD_PORTS);
			return AS_ECONFIG;
		}
	}
	return AS_OK;
}

/* See allowsync.h. */
void
run_free(struct run_report *rep)
{
	struct run_section *sec;
	size_t i, j;

	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		for (j = 0; j < sec->so->nsources; j++) {
			free(sec->results[j].error);
			free(sec->results[j].json_rejected);
			srcstate_free(&sec->old[j]);
			srcstate_free(&sec->cur[j]);
		}
		free(sec->results);
		free(sec->old);
		free(sec->cur);
		rangelist_free(&sec->want);
		rangelist_free(&sec->statics);
	}
	for (i = 0; i < rep->ntargets; i++) {
		rangelist_free(&rep->targets[i].want);
		rangelist_free(&rep->targets[i].have);
		rangelist_free(&rep->targets[i].prev);
		plan_free(&rep->targets[i].plan);
	}
	free(rep->sections);
	free(rep->targets);
	rep->sections = NULL;
	rep->targets = NULL;
	rep->nsections = rep->ntargets = 0;
}

/* The number of sources of all sections with URL url. */
static size_t
url_users(const struct config *cfg, const char *url)
{
	const struct source_opts *so;
	size_t i, j, n = 0;

	for (i = 0; i < config_nsections(cfg); i++) {
		so = config_section(cfg, i);
		for (j = 0; j < so->nsources; j++)
			n += strcmp(so->sources[j].url, url) == 0;
	}
	return n;
}

/*
 * Whether a state read from the file of the config without sections may
 * stand for src of section so: only when the same reader read it (the
 * same URL, format, paths and policy), or, for a file older than readers,
 * when no other section reads the URL another way.
 */
static bool
legacy_fits(const struct config *cfg, const struct source_opts *so,
    const struct source *src, const struct srcstate *st)
{
	char r0[17], r1[17];

	if (st->reader == NULL)
		return url_users(cfg, src->url) == 1;
	refresh_reader(so, src, 0, r0, sizeof(r0));
	refresh_reader(so, src, 1, r1, sizeof(r1));
	return strcmp(st->reader, r0) == 0 || strcmp(st->reader, r1) == 0;
}

/* See allowsync.h. */
size_t
run_load_states(const struct config *cfg, struct run_section *sec)
{
	const struct source_opts *so = sec->so;
	struct srcstate *st;
	struct policy pol;
	size_t i;

	sec->have_old = 0;
	for (i = 0; i < so->nsources; i++) {
		st = &sec->old[i];
		srcstate_free(st);
		refresh_policy(so, &so->sources[i], &pol);
		state_load(cfg->state_dir, so->name, so->sources[i].url, &pol,
		    st);
		if (st->present && st->legacy &&
		    !legacy_fits(cfg, so, &so->sources[i], st)) {
			log_info("[%s] %s: not starting from the list saved "
			    "without sections: it was read another way",
			    so->name, so->sources[i].name);
			srcstate_free(st);
			st->section = so->name;
			st->url = xstrdup(so->sources[i].url);
		}
		sec->have_old += st->present;
	}
	return sec->have_old;
}

/* See allowsync.h. */
enum as_status
run_statics(const struct config *cfg, const struct source_opts *so,
    struct rangelist *out, bool keep_going)
{
	struct entrylist el, one;
	struct policy pol = so->policy;
	char where[PATH_MAX + MAX_SECTION_NAME + 8];
	size_t i;
	enum as_status st;

	if (so->nstatics == 0)
		return AS_OK;
	memset(&el, 0, sizeof(el));
	el.v = xcalloc(so->nstatics, sizeof(*el.v));
	for (i = 0; i < so->nstatics; i++) {
		el.v[i].text = so->statics[i].text;
		el.v[i].len = strlen(so->statics[i].text);
		el.v[i].where = so->statics[i].line;
	}
	el.n = so->nstatics;
	pol.lenient = false;
	pol.statics = true;
	pol.max_entries = MAX_STATIC;
	/* Statics come from the file or, replacing those, the command line. */
	if (so->statics[0].line == 0)
		snprintf(where, sizeof(where), "--static");
	else if (so->name != NULL)
		snprintf(where, sizeof(where), "%s [%s]", cfg->config_file,
		    so->name);
	else
		snprintf(where, sizeof(where), "%s", cfg->config_file);
	st = keep_going ? AS_OK : validate_entries(&el, where, &pol, out,
	    NULL);
	/* One at a time, so that a /0 cannot take the good ones. */
	for (i = 0; keep_going && i < so->nstatics; i++) {
		one = el;
		one.v = &el.v[i];
		one.n = 1;
		if (validate_entries(&one, where, &pol, out, NULL) != AS_OK)
			st = AS_EDATA;
	}
	if (st != AS_OK && keep_going)
		log_err("%s: a static entry is bad: going on without the bad "
		    "ones", where);
	free(el.v);
	return st == AS_OK ? AS_OK : AS_ECONFIG;
}

/* Copy s up to a char of stop into buf, any char but [A-Za-z0-9.-_:] as _. */
static size_t
label_copy(const char *s, const char *stop, char *buf, size_t bufsz)
{
	size_t n = 0;

	for (; *s != '\0' && strchr(stop, *s) == NULL && n + 1 < bufsz; s++)
		buf[n++] = strchr(".-_:", *s) != NULL || (*s >= 'a' &&
		    *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' &&
		    *s <= '9') ? *s : '_';
	buf[n] = '\0';
	return n;
}

/*
 * The host of an https URL, for an element's comment: no port, no
 * brackets, and nothing but letters, digits, '.', '-', '_' and ':'.  A
 * file:// URL has no host: its file's name stands in, or "file".
 */
static const char *
url_host(const char *url, char *buf, size_t bufsz)
{
	const char *p = strstr(url, "://"), *slash;

	p = p != NULL ? p + 3 : url;
	if (*p == '[') {
		if (label_copy(p + 1, "]/", buf, bufsz) > 0)
			return buf;
	} else if (label_copy(p, ":/", buf, bufsz) > 0)
		return buf;
	if ((slash = strrchr(p, '/')) != NULL &&
	    label_copy(slash + 1, "?#", buf, bufsz) > 0)
		return buf;
	snprintf(buf, bufsz, "file");
	return buf;
}

/*
 * A view of n4 and n6 ranges of rl from o4 and o6, for a label (no notes,
 * owns nothing).
 */
static struct rangelist
view(const struct rangelist *rl, size_t o4, size_t n4, size_t o6, size_t n6)
{
	struct rangelist v;

	rangelist_init(&v);
	v.v4 = rl->v4 + o4;
	v.n4 = n4;
	v.v6 = rl->v6 + o6;
	v.n6 = n6;
	return v;
}

/*
 * The notes of a section's list want (normalised), from raw: the same
 * ranges before, statics first (s4 and s6 of them), then each source's
 * entries, sorted, from off4[i] and off6[i] (off*[nsources] the end).
 * Sources are named by the section, or without sections by their host.
 */
static void
section_notes(const struct config *cfg, const struct run_section *sec,
    struct rangelist *want, struct rangelist *raw, const size_t *off4,
    const size_t *off6)
{
	char hosts[MAX_SOURCES][128];
	struct note_label lab[MAX_SOURCES + 1];
	struct rangelist views[MAX_SOURCES + 1];
	const struct source_opts *so = sec->so;
	size_t i, n = 0;

	xqsort(raw->v4, off4[0], sizeof(*raw->v4), range4_cmp);
	xqsort(raw->v6, off6[0], sizeof(*raw->v6), range6_cmp);
	views[n] = view(raw, 0, off4[0], 0, off6[0]);
	lab[n].name = "static";
	lab[n].list = &views[n];
	n++;
	for (i = 0; i < so->nsources; i++, n++) {
		views[n] = view(raw, off4[i], off4[i + 1] - off4[i], off6[i],
		    off6[i + 1] - off6[i]);
		lab[n].name = so->name != NULL ? so->name :
		    url_host(so->sources[i].url, hosts[i], sizeof(hosts[i]));
		lab[n].list = &views[n];
	}
	(void)cfg;
	notes_compute(want, lab, n);
}

/*
 * The one label of a section's list when only one has ranges (statics,
 * the section, or one source's host), into buf; NULL when several do.
 */
static const char *
single_label(const struct run_section *sec, const size_t *off4,
    const size_t *off6, char *buf, size_t bufsz)
{
	const struct source_opts *so = sec->so;
	const char *name = NULL;
	size_t i, n = 0;

	if (off4[0] + off6[0] > 0) {
		name = "static";
		n++;
	}
	for (i = 0; i < so->nsources; i++) {
		if (off4[i + 1] + off6[i + 1] == off4[i] + off6[i])
			continue;
		if (so->name != NULL && name == so->name)
			continue;
		name = so->name != NULL ? so->name :
		    url_host(so->sources[i].url, buf, bufsz);
		n++;
	}
	return n <= 1 ? (name != NULL ? name : "") : NULL;
}

/* See run.h. */
enum as_status
run_section_statics(const struct config *cfg, struct run_section *sec,
    bool keep_going)
{
	if (!sec->statics_done || sec->statics_keep != keep_going) {
		sec->statics.n4 = sec->statics.n6 = 0;
		sec->statics_st = run_statics(cfg, sec->so, &sec->statics,
		    keep_going);
		sec->statics_done = true;
		sec->statics_keep = keep_going;
	}
	return sec->statics_st;
}

/* See run.h. */
enum as_status
run_section_want(const struct config *cfg, const struct run_section *sec,
    const struct srcstate *states, struct rangelist *want, bool keep_going)
{
	size_t i, off4[MAX_SOURCES + 1], off6[MAX_SOURCES + 1];
	struct note_label lab;
	struct rangelist raw;
	const char *one = NULL;
	char host[128];
	enum as_status st;

	want->n4 = want->n6 = 0;
	if (sec->statics_done && sec->statics_keep == keep_going) {
		rangelist_append(want, &sec->statics);
		st = sec->statics_st;
	} else
		st = run_statics(cfg, sec->so, want, keep_going);
	if (st != AS_OK && !keep_going)
		return st;
	for (i = 0; i < sec->so->nsources; i++) {
		off4[i] = want->n4;
		off6[i] = want->n6;
		if (states[i].present)
			entryset_append(want, &states[i].ent);
	}
	off4[i] = want->n4;
	off6[i] = want->n6;
	if (!cfg->annotate ||
	    (one = single_label(sec, off4, off6, host, sizeof(host))) != NULL) {
		rangelist_normalise(want);
		lab.name = one;
		lab.list = want;
		if (cfg->annotate)
			notes_compute(want, &lab, 1);
		return st;
	}
	rangelist_init(&raw);
	rangelist_append(&raw, want);
	rangelist_normalise(want);
	section_notes(cfg, sec, want, &raw, off4, off6);
	rangelist_free(&raw);
	return st;
}

/*
 * Add the union of n sorted and noted lists to dst.  One list into an
 * empty dst is dst's as it is; otherwise dst is normalised and the notes
 * merged.
 */
static void
lists_union(struct rangelist *dst, const struct rangelist *parts, size_t n,
    bool annotate)
{
	bool one = n == 1 && dst->n4 + dst->n6 == 0;
	size_t i;

	if (one && annotate)
		rangelist_notes_on(dst);
	for (i = 0; i < n; i++)
		rangelist_append(dst, &parts[i]);
	if (one)
		return;
	rangelist_normalise(dst);
	if (annotate)
		notes_merge(dst, parts, n);
}

/* See run.h. */
void
run_prev(const struct config *cfg, struct run_report *rep)
{
	struct rangelist tmp[MAX_SECTIONS], parts[MAX_SECTIONS], *prev;
	struct run_section *sec;
	size_t i, k, n, one = 0;

	/* A section without a saved list adds its statics, as it did. */
	for (i = 0; i < rep->nsections; i++) {
		rangelist_init(&tmp[i]);
		sec = &rep->sections[i];
		run_section_want(cfg, sec, sec->old, &tmp[i], false);
	}
	for (k = 0; k < rep->ntargets; k++) {
		prev = &rep->targets[k].prev;
		for (i = n = 0; i < rep->nsections; i++)
			if (rep->sections[i].target == k) {
				one = i;
				n++;
			}
		/* One section's list, sorted and noted: the target's. */
		if (n == 1 && prev->n4 + prev->n6 == 0) {
			rangelist_free(prev);
			*prev = tmp[one];
			rangelist_init(&tmp[one]);
			continue;
		}
		for (i = n = 0; i < rep->nsections; i++)
			if (rep->sections[i].target == k)
				parts[n++] = tmp[i];
		lists_union(prev, parts, n, cfg->annotate);
	}
	for (i = 0; i < rep->nsections; i++)
		rangelist_free(&tmp[i]);
}

/* See allowsync.h. */
void
run_targets_want(struct run_report *rep)
{
	struct rangelist parts[MAX_SECTIONS];
	struct run_section *sec;
	struct run_target *rt;
	size_t i, k, data, n;

	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		rt->want.n4 = rt->want.n6 = 0;
		/* A port is guarded only with a list of its own section. */
		rt->tgt.nports = 0;
		data = n = 0;
		for (i = 0; i < rep->nsections; i++) {
			sec = &rep->sections[i];
			if (sec->target != k)
				continue;
			data += sec->have_data;
			parts[n++] = sec->want;
			if (sec->have_data > 0)
				(void)ports_merge(rt, sec->so);
		}
		/* None: the ports there would be, for the message. */
		for (i = 0; data == 0 && i < rep->nsections; i++)
			if (rep->sections[i].target == k)
				(void)ports_merge(rt, rep->sections[i].so);
		lists_union(&rt->want, parts, n, rep->cfg->annotate);
		rt->nodata = data == 0;
		rt->skip = data == 0 || rt->want.n4 + rt->want.n6 == 0;
	}
	run_guard_pairs(rep);
}

/* See allowsync.h. */
void
run_guard_pairs(struct run_report *rep)
{
	struct run_target *rt;
	struct nft_pair *p;
	size_t k, n = 0;
	bool any = false;

	/*
	 * The guard table is one: when a selected section's pair is in it,
	 * so are the others' (their saved lists), or a change of the table
	 * would drop their sets.
	 */
	for (k = 0; k < rep->ntargets; k++)
		any |= rep->targets[k].tgt.nports > 0 &&
		    rep->targets[k].touched && !rep->targets[k].skip;
	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (rt->tgt.nports > 0 && !rt->skip)
			rt->touched |= any;
		rt->tgt.pairs = NULL;
		rt->tgt.npairs = 0;
		rt->tgt.secondary = false;
		if (rt->tgt.nports == 0 || !rt->touched || rt->skip)
			continue;
		p = &rep->guard_pairs[n++];
		p->set4 = rt->tgt.set4;
		p->set6 = rt->tgt.set6;
		p->ports = rt->tgt.ports;
		p->nports = rt->tgt.nports;
		rt->tgt.secondary = n > 1;
	}
	for (k = 0; k < rep->ntargets; k++)
		if (rep->targets[k].tgt.nports > 0) {
			rep->targets[k].tgt.pairs = rep->guard_pairs;
			rep->targets[k].tgt.npairs = n;
		}
}

/* See allowsync.h. */
void
run_guard_ports_text(const struct nft_target *t, char *buf, size_t bufsz)
{
	const struct nft_pair *pairs;
	struct nft_pair one;
	size_t j, n = 0, np = nftguard_pairs(t, &pairs, &one);

	buf[0] = '\0';
	for (j = 0; j < np && n < bufsz; j++) {
		if (j > 0)
			n += (size_t)snprintf(buf + n, bufsz - n, ",");
		if (n < bufsz)
			guard_ports_text(pairs[j].ports, pairs[j].nports,
			    buf + n, bufsz - n);
		n = strlen(buf);
	}
}

/* Log each range in rl with a verb, at most MAX_LOGGED lines. */
void
run_log_ranges(const struct nft_target *t, const struct rangelist *rl,
    const char *what)
{
	char buf[RANGE_STRLEN];
	size_t i, n = 0, total = rl->n4 + rl->n6;

	for (i = 0; i < rl->n4 && n < MAX_LOGGED; i++, n++) {
		range4_format(&rl->v4[i], buf, sizeof(buf));
		log_notice("%s %s (set %s)", what, buf, t->set4);
	}
	for (i = 0; i < rl->n6 && n < MAX_LOGGED; i++, n++) {
		range6_format(&rl->v6[i], buf, sizeof(buf));
		log_notice("%s %s (set %s)", what, buf, t->set6);
	}
	if (total > n)
		log_notice("%s %zu more", what, total - n);
}

/* See allowsync.h. */
enum as_status
run_shrink_guard(const struct config *cfg, struct run_section *sec)
{
	const struct source_opts *so = sec->so;
	struct rangelist gone;
	size_t i;
	enum as_status st = AS_OK;

	rangelist_init(&gone);
	for (i = 0; i < so->nsources; i++) {
		if (!sec->old[i].present)
			continue;
		sec->old_entries += entryset_count(&sec->old[i].ent);
		sec->removing += guard_uncovered(&sec->old[i].ent, &sec->want,
		    &gone);
	}
	if (sec->removing == 0)
		goto out;
	if (sec->removing * 100 <= (size_t)so->max_remove_percent *
	    sec->old_entries) {
		log_info("%zu of %zu entries left the list", sec->removing,
		    sec->old_entries);
		goto out;
	}
	if (cfg->force) {
		log_notice("--force: removing %zu of %zu entries",
		    sec->removing, sec->old_entries);
		goto out;
	}
	log_err("%s%s%sholding back the removal of %zu of %zu entries (more "
	    "than max-remove-percent = %u%%); check the list, then run with "
	    "--force to remove them", so->name ? "[" : "",
	    so->name ? so->name : "", so->name ? "] " : "", sec->removing,
	    sec->old_entries, so->max_remove_percent);
	rangelist_unique(&gone);
	run_log_ranges(&(struct nft_target){ .set4 = so->set4,
	    .set6 = so->set6 }, &gone, "held back");
	for (i = 0; i < so->nsources; i++)
		if (sec->old[i].present)
			guard_hold(&sec->old[i].ent, &sec->want,
			    &sec->cur[i].ent);
	sec->held = sec->removing;
	run_section_want(cfg, sec, sec->cur, &sec->want, false);
	st = AS_EDATA;
 out:
	rangelist_free(&gone);
	return st;
}

/* See allowsync.h. */
enum as_status
run_save_lists(const struct config *cfg, const struct run_section *sec)
{
	size_t i;
	enum as_status st = AS_OK, st1;

	for (i = 0; i < sec->so->nsources; i++)
		if (sec->results[i].status == AS_OK &&
		    sec->cur[i].reaccepted == 0 &&
		    (st1 = state_save(cfg->state_dir, &sec->cur[i])) != AS_OK)
			st = st1;
	return st;
}

/* See allowsync.h. */
void
run_save_attempts(const struct config *cfg, const struct run_section *sec)
{
	size_t i;

	for (i = 0; i < sec->so->nsources; i++)
		state_save_attempt(cfg->state_dir, &sec->cur[i]);
}

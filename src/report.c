/*
 * Report a run on stdout: the plan as "+ range" / "- range" lines and a
 * summary, or the whole run as one JSON object (--json).  The fields of
 * the JSON object are documented in docs/formats.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "allowsync.h"

/* See allowsync.h. */
void
run_report_init(struct run_report *rep, const struct config *cfg)
{
	memset(rep, 0, sizeof(*rep));
	rep->cfg = cfg;
	rep->outcome = "failed";
}

/* See allowsync.h. */
void
run_report_free(struct run_report *rep)
{
	run_free(rep);
}

/*
 * Print the ranges of both families, each line prefixed with sign; with
 * sign '~' (a comment to change), the new comment too.
 */
static void
print_ranges(char sign, const struct rangelist *rl)
{
	char buf[RANGE_STRLEN];
	size_t i;

	for (i = 0; i < rl->n4 + rl->n6; i++) {
		if (i < rl->n4)
			range4_format(&rl->v4[i], buf, sizeof(buf));
		else
			range6_format(&rl->v6[i - rl->n4], buf, sizeof(buf));
		if (sign == '~')
			printf("~ %s comment \"%s\"\n", buf, note_str(
			    rangelist_note(rl, i < rl->n4 ? 4 : 6, i < rl->n4 ?
			    i : i - rl->n4)));
		else
			printf("%c %s\n", sign, buf);
	}
}

/*
 * Print what a dry run with --create would create, as "+ table ..." and
 * "+ set ..." lines.
 */
static void
print_creates(const struct run_target *rt)
{
	const struct nft_target *t = &rt->tgt;

	if (rt->create_table)
		printf("+ table %s %s\n", t->family, t->table);
	if (rt->create_set[0])
		printf("+ set %s %s %s { type ipv4_addr; flags interval; }\n",
		    t->family, t->table, t->set4);
	if (rt->create_set[1])
		printf("+ set %s %s %s { type ipv6_addr; flags interval; }\n",
		    t->family, t->table, t->set6);
}

/*
 * Guard mode: print the table the plan makes again, "+ table ..." when it
 * was missing, "~ table ... (why)" when it was not ours any more.
 */
static void
print_rebuild(const struct run_target *rt)
{
	char ports[256];

	size_t i;

	for (i = 0; i < rt->plan.nstale; i++)
		printf("- table inet %s (guard mode's table before "
		    "guard-table changed)\n", rt->plan.stale[i]);
	if (!rt->plan.rebuild)
		return;
	run_guard_ports_text(&rt->tgt, ports, sizeof(ports));
	if (rt->plan.drop_table)
		printf("~ table inet %s made again (%s): guard chain for %s\n",
		    rt->tgt.table, rt->guard_why, ports);
	else
		printf("+ table inet %s: guard chain for %s\n",
		    rt->tgt.table, ports);
}

/* Print the odd elements the plan deletes: "- * (set NAME)". */
static void
print_odd(const struct run_target *rt)
{
	const struct plan *p = &rt->plan;
	char buf[RANGE_STRLEN + 64];
	size_t i;

	for (i = 0; i < p->nodd; i++)
		printf("- %s (set %s)\n",
		    odd_elem_format(&p->odd[i], buf, sizeof(buf)),
		    p->odd[i].af == 4 ? rt->tgt.set4 : rt->tgt.set6);
}

/* Removals the shrink guard held back in the sections of target k. */
static size_t
held_of(const struct run_report *r, size_t k)
{
	size_t i, n = 0;

	for (i = 0; i < r->nsections; i++)
		if (r->sections[i].target == k)
			n += r->sections[i].held;
	return n;
}

/* The plan lines and the summary line of target k. */
static void
report_target(const struct run_report *r, size_t k)
{
	const struct run_target *rt = &r->targets[k];
	const struct nft_target *t = &rt->tgt;
	size_t held = held_of(r, k);

	print_creates(rt);
	print_rebuild(rt);
	print_odd(rt);
	print_ranges('-', &rt->plan.del);
	/* A table made again gets its whole list, which it may have held. */
	if (rt->plan.drop_table)
		printf("+ %zu ranges, the whole list\n", rt->plan.add.n4 +
		    rt->plan.add.n6);
	else
		print_ranges('+', &rt->plan.add);
	print_ranges('~', &rt->plan.renote);
	printf("%s %s:", t->family, t->table);
	if (t->set4[0] != '\0')
		printf(" %s %zu ranges (+%zu -%zu)", t->set4, rt->want.n4,
		    rt->plan.add.n4,
		    rt->plan.del.n4 + plan_odd_count(&rt->plan, 4));
	if (t->set6[0] != '\0')
		printf(" %s %zu ranges (+%zu -%zu)", t->set6, rt->want.n6,
		    rt->plan.add.n6,
		    rt->plan.del.n6 + plan_odd_count(&rt->plan, 6));
	if (rt->plan.renote.n4 + rt->plan.renote.n6 > 0)
		printf(", %zu comments corrected", rt->plan.renote.n4 +
		    rt->plan.renote.n6);
	printf(": %s", r->outcome);
	if (held > 0)
		printf("; %zu removals held back (--force applies them)",
		    held);
	printf("\n");
}

/* "skipped ...": what the policy left out of each source's list. */
static void
report_skipped(const struct run_report *r)
{
	const struct run_section *sec;
	char buf[NCLASSES * sizeof(((struct validation *)0)->first[0]) + 64];
	size_t i, j;

	for (i = 0; i < r->nsections; i++) {
		sec = &r->sections[i];
		for (j = 0; sec->so->selected && j < sec->so->nsources; j++)
			if (validation_summary(&sec->results[j].val, buf,
			    sizeof(buf)) != NULL)
				printf("skipped from %s: %s\n",
				    sec->results[j].src->name, buf);
	}
}

/*
 * See allowsync.h.  Prints nothing with --quiet.  A target that was not
 * read (no list, or no selected section fills it) has no lines.
 */
void
report_text(const struct run_report *r)
{
	size_t k;

	if (r->cfg->verbosity < 0 || !r->planned)
		return;
	for (k = 0; k < r->ntargets; k++)
		if (r->targets[k].planned)
			report_target(r, k);
	report_skipped(r);
	out_flush();
}

/*
 * An array of formatted ranges of one family (4 or 6) of rl, after the
 * odd elements of that family in p (when not NULL).
 */
static cJSON *
json_ranges(const struct rangelist *rl, const struct plan *p, int family)
{
	cJSON *a = cJSON_CreateArray();
	char buf[RANGE_STRLEN];
	size_t i;

	for (i = 0; p != NULL && i < p->nodd; i++)
		if (p->odd[i].af == family)
			cJSON_AddItemToArray(a, cJSON_CreateString(
			    odd_elem_format(&p->odd[i], buf, sizeof(buf))));
	if (rl == NULL)
		return a;
	if (family == 4)
		for (i = 0; i < rl->n4; i++) {
			range4_format(&rl->v4[i], buf, sizeof(buf));
			cJSON_AddItemToArray(a, cJSON_CreateString(buf));
		}
	else
		for (i = 0; i < rl->n6; i++) {
			range6_format(&rl->v6[i], buf, sizeof(buf));
			cJSON_AddItemToArray(a, cJSON_CreateString(buf));
		}
	return a;
}

/* The object describing one set of target rt. */
static cJSON *
json_set(const struct run_target *rt, const char *name, int family)
{
	cJSON *o = cJSON_CreateObject();
	bool p = rt->planned;

	cJSON_AddStringToObject(o, "set", name);
	cJSON_AddNumberToObject(o, "desired", (double)(family == 4 ?
	    rt->want.n4 : rt->want.n6));
	if (p)
		cJSON_AddNumberToObject(o, "current", (double)(family == 4 ?
		    rt->have.n4 : rt->have.n6));
	cJSON_AddItemToObject(o, "add",
	    json_ranges(p ? &rt->plan.add : NULL, NULL, family));
	cJSON_AddItemToObject(o, "remove",
	    json_ranges(p ? &rt->plan.del : NULL, p ? &rt->plan : NULL,
	    family));
	if (p)
		cJSON_AddNumberToObject(o, "comments_corrected", (double)(
		    family == 4 ? rt->plan.renote.n4 : rt->plan.renote.n6));
	if (family == 4 ? rt->create_set[0] : rt->create_set[1])
		cJSON_AddBoolToObject(o, "create", true);
	return o;
}

/*
 * Guard mode's part of the report: the table, its ports, and whether the
 * run made it (again), and why.
 */
static void
json_guard_mode(cJSON *root, const struct run_target *rt)
{
	cJSON *o = cJSON_AddObjectToObject(root, "guard_mode");
	char ports[256];

	run_guard_ports_text(&rt->tgt, ports, sizeof(ports));
	cJSON_AddStringToObject(o, "table", rt->tgt.table);
	cJSON_AddStringToObject(o, "ports", ports);
	cJSON_AddBoolToObject(o, "made", rt->planned && rt->plan.rebuild);
	if (rt->planned && rt->plan.drop_table)
		cJSON_AddStringToObject(o, "why", rt->guard_why);
}

/*
 * A target's part: "target" (family, table), "ipv4" and "ipv6", and
 * "guard_mode", into o.
 */
static void
json_target(cJSON *o, const struct run_target *rt)
{
	cJSON *t = cJSON_AddObjectToObject(o, "target");

	cJSON_AddStringToObject(t, "family", rt->tgt.family);
	cJSON_AddStringToObject(t, "table", rt->tgt.table);
	if (rt->create_table)
		cJSON_AddBoolToObject(t, "create", true);
	if (rt->skip && rt->touched)
		cJSON_AddBoolToObject(t, "left_unchanged", true);
	if (rt->tgt.set4[0] != '\0')
		cJSON_AddItemToObject(o, "ipv4", json_set(rt, rt->tgt.set4, 4));
	if (rt->tgt.set6[0] != '\0')
		cJSON_AddItemToObject(o, "ipv6", json_set(rt, rt->tgt.set6, 6));
	if (rt->tgt.nports > 0)
		json_guard_mode(o, rt);
}

/*
 * "skipped": per class with skipped entries, "count" and "first" (the
 * first few, escaped), when the policy skipped any.
 */
static void
json_skipped(cJSON *o, const struct validation *v)
{
	cJSON *s = NULL, *c;
	int k;

	for (k = 0; k < NCLASSES; k++) {
		if (v->skipped[k] == 0)
			continue;
		if (s == NULL)
			s = cJSON_AddObjectToObject(o, "skipped");
		c = cJSON_AddObjectToObject(s, class_name(k));
		cJSON_AddNumberToObject(c, "count", (double)v->skipped[k]);
		cJSON_AddStringToObject(c, "first", v->first[k]);
	}
}

/* One source's object. */
static cJSON *
json_source(const struct run_section *sec, const struct source_result *sr)
{
	cJSON *o = cJSON_CreateObject();

	if (sec->so->name != NULL)
		cJSON_AddStringToObject(o, "section", sec->so->name);
	cJSON_AddStringToObject(o, "name", sr->src->name);
	cJSON_AddStringToObject(o, "url", sr->src->url);
	if (sr->document != FORM_NONE)
		cJSON_AddStringToObject(o, "document",
		    form_name(sr->document));
	else
		cJSON_AddNullToObject(o, "document");
	cJSON_AddStringToObject(o, "status", sr->status == AS_OK ? "ok" :
	    sr->status == AS_EDATA ? "rejected" : "failed");
	cJSON_AddBoolToObject(o, "not_modified", sr->not_modified);
	cJSON_AddBoolToObject(o, "cached", sr->cached);
	cJSON_AddNumberToObject(o, "entries", (double)sr->entries);
	if (sr->error != NULL)
		cJSON_AddStringToObject(o, "error", sr->error);
	if (sr->json_rejected != NULL)
		cJSON_AddStringToObject(o, "json_rejected", sr->json_rejected);
	json_skipped(o, &sr->val);
	return o;
}

/* The shrink guard's counts of a section, or of all (sec NULL). */
static void
json_guard(cJSON *root, const struct run_report *r,
    const struct run_section *sec)
{
	cJSON *o = cJSON_AddObjectToObject(root, "guard");
	size_t i, before = 0, removing = 0, held = 0;

	for (i = 0; i < r->nsections; i++)
		if (sec == NULL || sec == &r->sections[i]) {
			before += r->sections[i].old_entries;
			removing += r->sections[i].removing;
			held += r->sections[i].held;
		}
	cJSON_AddNumberToObject(o, "entries_before", (double)before);
	cJSON_AddNumberToObject(o, "removing", (double)removing);
	cJSON_AddNumberToObject(o, "held", (double)held);
}

/* In a file with sections: "sections" and "targets", all of them. */
static void
json_sections(cJSON *root, const struct run_report *r)
{
	const struct run_section *sec;
	cJSON *arr, *o;
	size_t i;

	arr = cJSON_AddArrayToObject(root, "sections");
	for (i = 0; i < r->nsections; i++) {
		sec = &r->sections[i];
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", sec->so->name);
		cJSON_AddBoolToObject(o, "selected", sec->so->selected);
		if (sec->so->selected && r->exit_of != NULL)
			cJSON_AddNumberToObject(o, "exit_code",
			    r->exit_of(sec->status));
		cJSON_AddNumberToObject(o, "target", (double)sec->target);
		json_guard(o, r, sec);
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "targets");
	for (i = 0; i < r->ntargets; i++) {
		o = cJSON_CreateObject();
		json_target(o, &r->targets[i]);
		cJSON_AddItemToArray(arr, o);
	}
}

/*
 * See allowsync.h.  Never fails: cJSON allocation failure aborts.  The
 * top-level target, ipv4, ipv6 and guard_mode are the first target's.
 */
void
report_json(const struct run_report *r)
{
	const struct config *cfg = r->cfg;
	const struct run_section *sec;
	cJSON *root, *arr, *o;
	size_t i, j;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version", ALLOWSYNC_VERSION);
	cJSON_AddBoolToObject(root, "dry_run", cfg->dry_run);
	cJSON_AddStringToObject(root, "result", r->outcome);
	cJSON_AddNumberToObject(root, "exit_code", r->exit_code);
	if (r->error != NULL)
		cJSON_AddStringToObject(root, "error", r->error);
	if (r->ntargets > 0)
		json_target(root, &r->targets[0]);
	arr = cJSON_AddArrayToObject(root, "sources");
	for (i = 0; i < r->nsections; i++) {
		sec = &r->sections[i];
		for (j = 0; sec->so->selected && j < sec->so->nsources; j++)
			cJSON_AddItemToArray(arr, json_source(sec,
			    &sec->results[j]));
	}
	json_guard(root, r, NULL);
	if (cfg->nsections > 0)
		json_sections(root, r);
	if (r->gen_before != 0 || r->gen_after != 0) {
		o = cJSON_AddObjectToObject(root, "generation");
		cJSON_AddNumberToObject(o, "before", r->gen_before);
		cJSON_AddNumberToObject(o, "after", r->gen_after);
	}
	json_print(root);
}

/* See allowsync.h. */
void
json_print(cJSON *root)
{
	char *text;

	if ((text = cJSON_PrintUnformatted(root)) == NULL) {
		log_err("out of memory");
		abort();
	}
	printf("%s\n", text);
	out_flush();
	free(text);
	cJSON_Delete(root);
}

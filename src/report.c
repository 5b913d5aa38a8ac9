/*
 * Report a run on stdout: the plan as "+ range" / "- range" lines and a
 * summary, or the whole run as one JSON object (--json).  The fields of
 * the JSON object are documented in README.md.
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
	rangelist_init(&rep->want);
	rangelist_init(&rep->have);
	plan_init(&rep->plan);
	rep->outcome = "failed";
}

/* See allowsync.h. */
void
run_report_free(struct run_report *rep)
{
	size_t i;

	for (i = 0; i < rep->nresults; i++) {
		free(rep->results[i].error);
		free(rep->results[i].json_rejected);
	}
	free(rep->results);
	rangelist_free(&rep->want);
	rangelist_free(&rep->have);
	plan_free(&rep->plan);
}

/* Print one family's ranges, each line prefixed with sign. */
static void
print_ranges(char sign, const struct rangelist *rl)
{
	char buf[RANGE_STRLEN];
	size_t i;

	for (i = 0; i < rl->n4; i++) {
		range4_format(&rl->v4[i], buf, sizeof(buf));
		printf("%c %s\n", sign, buf);
	}
	for (i = 0; i < rl->n6; i++) {
		range6_format(&rl->v6[i], buf, sizeof(buf));
		printf("%c %s\n", sign, buf);
	}
}

/*
 * Print what a dry run with --create would create, as "+ table ..." and
 * "+ set ..." lines.
 */
static void
print_creates(const struct run_report *r)
{
	const struct config *cfg = r->cfg;

	if (r->create_table)
		printf("+ table %s %s\n", cfg->src.family, cfg->src.table);
	if (r->create_set[0])
		printf("+ set %s %s %s { type ipv4_addr; flags interval; }\n",
		    cfg->src.family, cfg->src.table, cfg->src.set4);
	if (r->create_set[1])
		printf("+ set %s %s %s { type ipv6_addr; flags interval; }\n",
		    cfg->src.family, cfg->src.table, cfg->src.set6);
}

/*
 * Guard mode: print the table the plan makes again, "+ table ..." when it
 * was missing, "~ table ... (why)" when it was not ours any more.
 */
static void
print_rebuild(const struct run_report *r)
{
	const struct config *cfg = r->cfg;
	char ports[256];

	if (!r->plan.rebuild)
		return;
	key_get_guard_ports(cfg, &cfg->src, "guard-ports", ports,
	    sizeof(ports));
	if (r->plan.drop_table)
		printf("~ table inet %s made again (%s): guard chain for %s\n",
		    cfg->src.table, r->guard_why, ports);
	else
		printf("+ table inet %s: guard chain for %s\n",
		    cfg->src.table, ports);
}

/* Print the odd elements the plan deletes: "- * (set NAME)". */
static void
print_odd(const struct run_report *r)
{
	const struct plan *p = &r->plan;
	char buf[RANGE_STRLEN + 64];
	size_t i;

	for (i = 0; i < p->nodd; i++)
		printf("- %s (set %s)\n",
		    odd_elem_format(&p->odd[i], buf, sizeof(buf)),
		    p->odd[i].af == 4 ? r->cfg->src.set4 : r->cfg->src.set6);
}

/* See allowsync.h.  Prints nothing with --quiet. */
void
report_text(const struct run_report *r)
{
	const struct config *cfg = r->cfg;

	if (cfg->verbosity < 0 || !r->planned)
		return;
	print_creates(r);
	print_rebuild(r);
	print_odd(r);
	print_ranges('-', &r->plan.del);
	/* A table made again gets its whole list, which it may have held. */
	if (r->plan.drop_table)
		printf("+ %zu ranges, the whole list\n", r->plan.add.n4 +
		    r->plan.add.n6);
	else
		print_ranges('+', &r->plan.add);
	printf("%s %s:", cfg->src.family, cfg->src.table);
	if (cfg->src.set4[0] != '\0')
		printf(" %s %zu ranges (+%zu -%zu)", cfg->src.set4, r->want.n4,
		    r->plan.add.n4,
		    r->plan.del.n4 + plan_odd_count(&r->plan, 4));
	if (cfg->src.set6[0] != '\0')
		printf(" %s %zu ranges (+%zu -%zu)", cfg->src.set6, r->want.n6,
		    r->plan.add.n6,
		    r->plan.del.n6 + plan_odd_count(&r->plan, 6));
	printf(": %s", r->outcome);
	if (r->held > 0)
		printf("; %zu removals held back (--force applies them)",
		    r->held);
	printf("\n");
	fflush(stdout);
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

/* The object describing one set. */
static cJSON *
json_set(const struct run_report *r, const char *name, int family)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "set", name);
	cJSON_AddNumberToObject(o, "desired", (double)(family == 4 ?
	    r->want.n4 : r->want.n6));
	if (r->planned)
		cJSON_AddNumberToObject(o, "current", (double)(family == 4 ?
		    r->have.n4 : r->have.n6));
	cJSON_AddItemToObject(o, "add",
	    json_ranges(r->planned ? &r->plan.add : NULL, NULL, family));
	cJSON_AddItemToObject(o, "remove",
	    json_ranges(r->planned ? &r->plan.del : NULL,
	    r->planned ? &r->plan : NULL, family));
	if (family == 4 ? r->create_set[0] : r->create_set[1])
		cJSON_AddBoolToObject(o, "create", true);
	return o;
}

/*
 * Guard mode's part of the report: the table, its ports, and whether the
 * run made it (again), and why.
 */
static void
json_guard_mode(cJSON *root, const struct run_report *r)
{
	cJSON *o = cJSON_AddObjectToObject(root, "guard_mode");
	char ports[256];

	key_get_guard_ports(r->cfg, &r->cfg->src, "guard-ports", ports,
	    sizeof(ports));
	cJSON_AddStringToObject(o, "table", r->cfg->src.table);
	cJSON_AddStringToObject(o, "ports", ports);
	cJSON_AddBoolToObject(o, "made", r->planned && r->plan.rebuild);
	if (r->planned && r->plan.drop_table)
		cJSON_AddStringToObject(o, "why", r->guard_why);
}

/* See allowsync.h.  Never fails: cJSON allocation failure aborts. */
void
report_json(const struct run_report *r)
{
	const struct config *cfg = r->cfg;
	const struct source_result *sr;
	cJSON *root, *arr, *o;
	char *text;
	size_t i;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version", ALLOWSYNC_VERSION);
	cJSON_AddBoolToObject(root, "dry_run", cfg->dry_run);
	cJSON_AddStringToObject(root, "result", r->outcome);
	cJSON_AddNumberToObject(root, "exit_code", r->exit_code);
	o = cJSON_AddObjectToObject(root, "target");
	cJSON_AddStringToObject(o, "family", cfg->src.family);
	cJSON_AddStringToObject(o, "table", cfg->src.table);
	if (r->create_table)
		cJSON_AddBoolToObject(o, "create", true);
	arr = cJSON_AddArrayToObject(root, "sources");
	for (i = 0; i < r->nresults; i++) {
		sr = &r->results[i];
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", sr->src->name);
		cJSON_AddStringToObject(o, "url", sr->src->url);
		if (sr->document != FORM_NONE)
			cJSON_AddStringToObject(o, "document",
			    form_name(sr->document));
		else
			cJSON_AddNullToObject(o, "document");
		cJSON_AddStringToObject(o, "status", sr->status == AS_OK ?
		    "ok" : sr->status == AS_EDATA ? "rejected" : "failed");
		cJSON_AddBoolToObject(o, "not_modified", sr->not_modified);
		cJSON_AddBoolToObject(o, "cached", sr->cached);
		cJSON_AddNumberToObject(o, "entries", (double)sr->entries);
		if (sr->error != NULL)
			cJSON_AddStringToObject(o, "error", sr->error);
		if (sr->json_rejected != NULL)
			cJSON_AddStringToObject(o, "json_rejected",
			    sr->json_rejected);
		cJSON_AddItemToArray(arr, o);
	}
	if (cfg->src.set4[0] != '\0')
		cJSON_AddItemToObject(root, "ipv4",
		    json_set(r, cfg->src.set4, 4));
	if (cfg->src.set6[0] != '\0')
		cJSON_AddItemToObject(root, "ipv6",
		    json_set(r, cfg->src.set6, 6));
	if (cfg->src.nports > 0)
		json_guard_mode(root, r);
	o = cJSON_AddObjectToObject(root, "guard");
	cJSON_AddNumberToObject(o, "entries_before", (double)r->old_entries);
	cJSON_AddNumberToObject(o, "removing", (double)r->removing);
	cJSON_AddNumberToObject(o, "held", (double)r->held);
	if (r->gen_before != 0 || r->gen_after != 0) {
		o = cJSON_AddObjectToObject(root, "generation");
		cJSON_AddNumberToObject(o, "before", r->gen_before);
		cJSON_AddNumberToObject(o, "after", r->gen_after);
	}
	if ((text = cJSON_PrintUnformatted(root)) == NULL) {
		log_err("out of memory");
		abort();
	}
	printf("%s\n", text);
	fflush(stdout);
	free(text);
	cJSON_Delete(root);
}

/*
 * --status: what is saved about each source (its last attempt and its
 * last accepted list) and what the kernel holds, as text or, with
 * --json, as one object.  No network, nothing written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "allowsync.h"

/* --status --json: the last attempt's object a, from the saved state st. */
static void
json_attempt(cJSON *a, const struct srcstate *st)
{
	char t[32];

	if (st->result != RESULT_NONE) {
		cJSON_AddStringToObject(a, "time", state_time(st->attempt, t,
		    sizeof(t)));
		cJSON_AddStringToObject(a, "result", result_name(st->result));
	}
	if (st->error != NULL)
		cJSON_AddStringToObject(a, "error", st->error);
	if (st->json_rejected != NULL)
		cJSON_AddStringToObject(a, "json_rejected", st->json_rejected);
	if (st->skipped != NULL)
		cJSON_AddStringToObject(a, "skipped", st->skipped);
}

/*
 * --status --json: one source's object, from its saved state st; null
 * for an attempt or a success there has not been.
 */
static cJSON *
json_source(const struct source_opts *so, const struct source *src,
    const struct srcstate *st, time_t now)
{
	cJSON *o = cJSON_CreateObject(), *a;
	char t[32];

	if (so->name != NULL)
		cJSON_AddStringToObject(o, "section", so->name);
	cJSON_AddStringToObject(o, "name", src->name);
	cJSON_AddStringToObject(o, "url", src->url);
	if (st->result == RESULT_NONE && st->error == NULL &&
	    st->json_rejected == NULL && st->skipped == NULL)
		cJSON_AddNullToObject(o, "last_attempt");
	else
		json_attempt(cJSON_AddObjectToObject(o, "last_attempt"), st);
	if (!st->present) {
		cJSON_AddNullToObject(o, "last_success");
		return o;
	}
	a = cJSON_AddObjectToObject(o, "last_success");
	cJSON_AddStringToObject(a, "time", state_time(st->fetched, t,
	    sizeof(t)));
	cJSON_AddStringToObject(a, "accepted", state_time(st->accepted, t,
	    sizeof(t)));
	cJSON_AddNumberToObject(a, "age_seconds", (double)(now -
	    st->accepted));
	cJSON_AddStringToObject(a, "document", form_name(st->document));
	cJSON_AddNumberToObject(a, "entries", (double)entryset_count(
	    &st->ent));
	cJSON_AddNumberToObject(a, "pending_removal", (double)
	    entryset_pending(&st->ent));
	if (st->etag != NULL)
		cJSON_AddStringToObject(a, "etag", st->etag);
	else
		cJSON_AddNullToObject(a, "etag");
	return o;
}

/*
 * --status: what is saved about one source, printed, or added to arr
 * (--json).
 */
static void
status_source(const struct config *cfg, const struct source_opts *so,
    const struct source *src, time_t now, cJSON *arr)
{
	char t1[32], t2[32], age[32];
	struct srcstate st = { 0 };
	struct policy pol;

	refresh_policy(so, src, &pol);
	state_load(cfg->state_dir, so->name, src->url, &pol, &st);
	if (arr != NULL) {
		cJSON_AddItemToArray(arr, json_source(so, src, &st, now));
		srcstate_free(&st);
		return;
	}
	printf("source %s\n  url: %s\n", src->name, src->url);
	printf("  last attempt: %s (%s)\n", state_time(st.attempt, t1,
	    sizeof(t1)), st.result != RESULT_NONE ? result_name(st.result) :
	    "never");
	if (st.error != NULL)
		printf("  last error: %s\n", st.error);
	if (st.json_rejected != NULL)
		printf("  JSON form rejected (the text form was used): %s\n",
		    st.json_rejected);
	if (st.skipped != NULL)
		printf("  skipped by the policy: %s\n", st.skipped);
	if (st.present)
		printf("  last success: %s, %s document, %zu entries (%zu "
		    "pending removal), accepted %s, age %s, etag %s\n",
		    state_time(st.fetched, t1, sizeof(t1)),
		    form_name(st.document), entryset_count(&st.ent),
		    entryset_pending(&st.ent),
		    state_time(st.accepted, t2, sizeof(t2)),
		    age_text(now - st.accepted, age, sizeof(age)),
		    st.etag ? st.etag : "-");
	else
		printf("  last success: never\n");
	srcstate_free(&st);
}

/* --status --json: what the kernel holds, target by target. */
static void
json_targets(cJSON *root, const struct run_report *rep, enum as_status rc)
{
	const struct run_target *rt;
	cJSON *arr = cJSON_AddArrayToObject(root, "sets"), *o;
	char ports[256];
	size_t k;
	int af;

	if (rc != AS_OK)
		cJSON_AddStringToObject(root, "kernel_error", log_last_error());
	else
		cJSON_AddNumberToObject(root, "generation", rep->gen_before);
	for (k = 0; rc == AS_OK && k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!rt->touched)
			continue;
		for (af = 4; af <= 6; af += 2) {
			if ((af == 4 ? rt->tgt.set4 : rt->tgt.set6)[0] == '\0')
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "family", rt->tgt.family);
			cJSON_AddStringToObject(o, "table", rt->tgt.table);
			cJSON_AddStringToObject(o, "set", af == 4 ?
			    rt->tgt.set4 : rt->tgt.set6);
			cJSON_AddNumberToObject(o, "ranges", (double)(af == 4 ?
			    rt->have.n4 : rt->have.n6));
			cJSON_AddItemToArray(arr, o);
		}
		if (rt->tgt.nports > 0 && !rt->tgt.secondary) {
			o = cJSON_AddObjectToObject(root, "guard");
			run_guard_ports_text(&rt->tgt, ports, sizeof(ports));
			cJSON_AddStringToObject(o, "table", rt->tgt.table);
			cJSON_AddStringToObject(o, "ports", ports);
			cJSON_AddBoolToObject(o, "in_place", !rt->plan.rebuild);
			if (rt->plan.rebuild)
				cJSON_AddStringToObject(o, "why",
				    rt->guard_why);
		}
	}
}

/* --status: what the kernel holds in each target. */
static void
status_targets(const struct run_report *rep)
{
	const struct run_target *rt;
	char ports[256];
	size_t k;

	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!rt->touched)
			continue;
		if (rt->tgt.nports > 0 && !rt->tgt.secondary) {
			run_guard_ports_text(&rt->tgt, ports, sizeof(ports));
			printf("guard: table inet %s, ports %s: %s%s\n",
			    rt->tgt.table, ports, rt->plan.rebuild ?
			    "not as configured, " : "in place",
			    rt->plan.rebuild ? rt->guard_why : "");
		}
		printf("kernel: %s %s", rt->tgt.family, rt->tgt.table);
		if (rt->tgt.set4[0] != '\0')
			printf(" %s %zu ranges", rt->tgt.set4, rt->have.n4);
		if (rt->tgt.set6[0] != '\0')
			printf(" %s %zu ranges", rt->tgt.set6, rt->have.n6);
		printf(" (generation %u)\n", rep->gen_before);
	}
}

/* See allowsync.h. */
enum as_status
status_run(const struct config *cfg)
{
	const struct source_opts *so;
	struct run_report rep;
	cJSON *root = NULL, *arr = NULL;
	char holder[64];
	enum as_status rc;
	size_t i, j, k;
	time_t now = time(NULL);

	if ((rc = state_dir_check(cfg->state_dir)) != AS_OK)
		return rc;
	run_report_init(&rep, cfg);
	if ((rc = run_layout(cfg, &rep)) != AS_OK)
		goto out;
	if (cfg->json) {
		root = cJSON_CreateObject();
		cJSON_AddStringToObject(root, "version", ALLOWSYNC_VERSION);
		cJSON_AddStringToObject(root, "state_dir", cfg->state_dir);
		if (state_lock_holder(cfg->state_dir, holder, sizeof(holder)))
			cJSON_AddStringToObject(root, "lock_holder", holder);
		else
			cJSON_AddNullToObject(root, "lock_holder");
		arr = cJSON_AddArrayToObject(root, "sources");
	}
	for (i = 0; i < rep.nsections; i++) {
		so = rep.sections[i].so;
		if (!so->selected)
			continue;
		if (so->name != NULL && root == NULL)
			printf("section %s\n", so->name);
		for (j = 0; j < so->nsources; j++)
			status_source(cfg, so, &so->sources[j], now, arr);
	}
	/* Read every target of a selected section, lists or not. */
	for (k = 0; k < rep.ntargets; k++)
		rep.targets[k].skip = false;
	run_guard_pairs(&rep);
	rc = sync_read_kernel(cfg, &rep);
	if (root != NULL)
		json_targets(root, &rep, rc);
	else if (rc == AS_OK)
		status_targets(&rep);
	else
		printf("kernel: sets unreadable (%s)\n", log_last_error());
 out:
	if (root != NULL)
		json_print(root);
	run_report_free(&rep);
	out_flush();
	return rc;
}


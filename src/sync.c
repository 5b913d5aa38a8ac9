/*
 * The run modes: the stages wired together.
 *
 * A sync fetches every source of every selected section, ages its
 * entries (remove-after), unites them with the cached lists of sources
 * that failed and the static entries, applies each section's shrink
 * guard, and applies the union of the sections' lists to each target in
 * one transaction for all of them.  Only after the kernel has accepted it
 * is the new state saved, so a failed run leaves the old state for the
 * next one.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowsync.h"
#include "run.h"

/* True when the run reads and may change target rt. */
static bool
active(const struct run_target *rt)
{
	return rt->touched && !rt->skip;
}

/*
 * The nft_list of every target with a list (active ones only, unless
 * all), with its want or, with prev, its prev.  Returns how many.
 */
static size_t
lists_of(const struct run_report *rep, struct nft_list *l, bool prev,
    bool all)
{
	const struct run_target *rt;
	size_t k, n = 0;

	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (rt->skip || (!all && !rt->touched))
			continue;
		l[n].t = &rt->tgt;
		l[n++].want = prev ? &rt->prev : &rt->want;
	}
	return n;
}

/* Log each odd element of target rt's plan (a catch-all, ...). */
static void
log_odd(const struct run_target *rt, const char *what)
{
	const struct plan *p = &rt->plan;
	char buf[RANGE_STRLEN + 64];
	size_t i;

	for (i = 0; i < p->nodd; i++)
		log_notice("%s %s (set %s)", what,
		    odd_elem_format(&p->odd[i], buf, sizeof(buf)),
		    p->odd[i].af == 4 ? rt->tgt.set4 : rt->tgt.set6);
}

/*
 * True when the kernel record says the active targets held exactly their
 * prev after the last run, in this boot and namespace; *rec is the record.
 */
static bool
kernel_known(const struct config *cfg, const struct run_report *rep,
    struct kernel_record *rec)
{
	struct nft_list l[MAX_SECTIONS];
	struct kernel_record here;
	size_t k, n;

	for (k = 0; k < rep->ntargets; k++)
		if (active(&rep->targets[k]) &&
		    rep->targets[k].prev.n4 + rep->targets[k].prev.n6 == 0)
			return false;
	if ((n = lists_of(rep, l, true, false)) == 0)
		return false;
	return kernel_record_here(l, n, &here) &&
	    state_load_kernel(cfg->state_dir, rec) &&
	    strcmp(rec->boot_id, here.boot_id) == 0 &&
	    rec->netns_cookie == here.netns_cookie &&
	    strcmp(rec->target, here.target) == 0 &&
	    rec->digest == nft_lists_digest(l, n);
}

/*
 * Record that the active targets hold their want at rep->gen_after; the
 * digest of their lists comes from the staging thread sg when it took it.
 */
static void
kernel_remember(const struct config *cfg, const struct run_report *rep,
    struct stage *sg)
{
	struct nft_list l[MAX_SECTIONS];
	struct kernel_record rec;
	size_t n;

	if ((n = lists_of(rep, l, false, false)) == 0 ||
	    !kernel_record_here(l, n, &rec))
		return;
	rec.generation = rep->gen_after;
	if (sg == NULL || !stage_digest(sg, l, n, &rec.digest))
		rec.digest = nft_lists_digest(l, n);
	state_save_kernel(cfg->state_dir, &rec);
}

/*
 * Read what the active targets hold now into their have, and the rest
 * into found[k].  With rec (the kernel record, when it matches their
 * prev), the slow dumps are skipped if the ruleset generation is still
 * the recorded one and no set can change without a commit; *from_record
 * then says prev stands in for the dumps: an active target's prev moves
 * into its have, and is empty afterwards.  rep->gen_before is the first
 * generation read: a commit made after it makes ours fail and retry.
 */
static enum as_status
kernel_read(struct nftset *ns, enum nft_create create,
    const struct kernel_record *rec, struct run_report *rep,
    struct nft_found *found, bool *from_record)
{
	struct run_target *rt;
	enum as_status st;
	bool first = true, same = rec != NULL, unstable = false;
	size_t k;

	*from_record = false;
	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!active(rt))
			continue;
		if ((st = nftset_read(ns, &rt->tgt, create, rec != NULL ?
		    NULL : &rt->have, &found[k])) != AS_OK)
			return st;
		if (first)
			rep->gen_before = found[k].genid;
		first = false;
		unstable |= found[k].unstable;
		same = same && found[k].genid == rec->generation &&
		    !found[k].unstable;
	}
	if (rec == NULL)
		return AS_OK;
	if (same) {
		log_info("ruleset unchanged since the last run "
		    "(generation %u): not dumping the sets", rep->gen_before);
		/* prev has done its part (kernel_known()): it moves. */
		for (k = 0; k < rep->ntargets; k++) {
			rt = &rep->targets[k];
			rt->have.n4 = rt->have.n6 = 0;
			if (active(rt)) {
				rangelist_free(&rt->have);
				rt->have = rt->prev;
				rangelist_init(&rt->prev);
			} else if (rt->prev.note4 != NULL)
				rangelist_notes_on(&rt->have);
		}
		*from_record = true;
		return AS_OK;
	}
	if (unstable)
		log_info("a set has the timeout or dynamic flag, so its "
		    "contents change without a commit: reading it");
	return kernel_read(ns, NFT_CREATE_NO, NULL, rep, found, from_record);
}

/*
 * Plan each active target's change from have to want: the ranges to
 * delete and add, and every odd element found (taken over from found).
 * Guard mode: a table that is not exactly ours is made again.
 */
static void
kernel_plan(struct run_report *rep, struct nft_found *found)
{
	struct run_target *rt;
	size_t k;

	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!active(rt))
			continue;
		plan_free(&rt->plan);
		plan_init(&rt->plan);
		diff_ranges(&rt->want, &rt->have, &rt->plan);
		rt->plan.odd = found[k].odd;
		rt->plan.nodd = found[k].nodd;
		found[k].odd = NULL;
		found[k].nodd = 0;
		rt->create_table = found[k].missing_table;
		rt->create_set[0] = found[k].missing_set[0];
		rt->create_set[1] = found[k].missing_set[1];
		memcpy(rt->set_size, found[k].set_size, sizeof(rt->set_size));
		memcpy(rt->plan.stale, found[k].stale, sizeof(rt->plan.stale));
		rt->plan.nstale = found[k].nstale;
		if (rt->tgt.nports > 0 && !found[k].guard_ok &&
		    !rt->tgt.secondary) {
			rt->plan.rebuild = true;
			rt->plan.drop_table = found[k].table_exists;
			snprintf(rt->guard_why, sizeof(rt->guard_why), "%s",
			    found[k].guard_why);
		}
		rt->planned = true;
	}
	rep->planned = true;
	rep->gen_after = rep->gen_before;
}

/* True when no active target's plan changes anything. */
static bool
plans_empty(const struct run_report *rep)
{
	size_t k;

	for (k = 0; k < rep->ntargets; k++)
		if (active(&rep->targets[k]) &&
		    !plan_empty(&rep->targets[k].plan))
			return false;
	return true;
}

/*
 * After a commit that moved the generation by more than our own: read
 * the active targets again and check they hold exactly their want.
 * Returns AS_OK or AS_EKERNEL after logging.
 */
static enum as_status
kernel_verify(struct nftset *ns, struct run_report *rep)
{
	struct nft_found found = { 0 };
	struct run_target *rt;
	struct rangelist check;
	enum as_status st = AS_OK;
	size_t k;

	rangelist_init(&check);
	for (k = 0; st == AS_OK && k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!active(rt))
			continue;
		st = nftset_read(ns, &rt->tgt, NFT_CREATE_NO, &check, &found);
		if (st == AS_OK && (!rangelist_equal(&check, &rt->want) ||
		    found.nodd > 0 || (rt->tgt.nports > 0 &&
		    !found.guard_ok))) {
			log_err("%s %s: sets differ from the plan after "
			    "commit: another process changed them",
			    rt->tgt.family, rt->tgt.table);
			st = AS_EKERNEL;
		}
		if (st == AS_OK)
			rep->gen_after = found.genid;
		free(found.odd);
		found.odd = NULL;
	}
	rangelist_free(&check);
	return st;
}

/*
 * Commit the plans of the active targets in one transaction, staging the
 * files that follow it meanwhile when sg is given.
 */
static enum as_status
kernel_commit(const struct config *cfg, struct nftset *ns,
    struct run_report *rep, struct stage *sg, uint32_t *newgen)
{
	struct nft_list l[MAX_SECTIONS], r[MAX_SECTIONS];
	struct nft_change c[MAX_SECTIONS];
	struct run_target *rt;
	enum as_status st;
	size_t k, n = 0;

	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!active(rt))
			continue;
		c[n].t = &rt->tgt;
		c[n].p = &rt->plan;
		memcpy(c[n++].set_size, rt->set_size, sizeof(rt->set_size));
	}
	/* The files to write afterwards are written meanwhile. */
	if (sg != NULL)
		stage_start(sg, cfg, rep, l, lists_of(rep, l, false, true), r,
		    lists_of(rep, r, false, false));
	st = nftset_commit_all(ns, c, n, rep->gen_before, newgen);
	if (sg != NULL)
		stage_join(sg);
	return st;
}

/* Log what the commit did to each active target. */
static void
kernel_log(const struct run_report *rep)
{
	const struct run_target *rt;
	size_t i, k;

	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!active(rt))
			continue;
		for (i = 0; i < rt->plan.nstale; i++)
			log_notice("deleted table inet %s: guard mode's table "
			    "before guard-table named %s", rt->plan.stale[i],
			    rt->tgt.table);
		if (rt->plan.drop_table)
			log_notice("made table inet %s again: %s",
			    rt->tgt.table, rt->guard_why);
		else if (rt->plan.rebuild)
			log_notice("created table inet %s: the guard is in "
			    "place", rt->tgt.table);
		run_log_ranges(&rt->tgt, &rt->plan.del, "removed");
		log_odd(rt, "removed");
	}
}

/*
 * Without guard mode in the configuration, a table guard mode made is
 * left behind: it still drops packets to its ports from sources not on
 * an old list.  Say so, every run, until --uninstall deletes it.
 */
static void
warn_left_guard(struct nftset *ns, const struct run_report *rep)
{
	char names[MAX_STALE][MAX_NFT_NAME + 1];
	size_t k, n;

	for (k = 0; k < rep->ntargets; k++)
		if (rep->targets[k].tgt.nports > 0)
			return;
	if (nftset_guard_tables(ns, names, MAX_STALE, &n) != AS_OK)
		return;
	for (k = 0; k < n; k++)
		log_warnx("table inet %s is guard mode's, but guard-ports is "
		    "not set any more: it still drops packets to the ports it "
		    "guards from sources not on its old list; allowsync "
		    "--uninstall --guard-table %s deletes it", names[k],
		    names[k]);
}

/*
 * Read the active targets into their have and plan the change to their
 * want.  With commit, apply all of it in one transaction, retrying when
 * another commit raced ours (ERESTART) a bounded number of times (the
 * targets and their want lists stay as they are across attempts: sg's
 * thread, started once, writes and digests them); with
 * record, use the last kernel record to skip the slow dumps (a dry run
 * too) and, when committing, write down what the sets hold afterwards.
 * Fills rep.
 */
static enum as_status
sync_kernel(const struct config *cfg, struct run_report *rep, bool commit,
    bool record, struct stage *sg)
{
	/* On the heap: 37 KiB of stack touched by every run, for one. */
	struct nft_found *found = xcalloc(MAX_SECTIONS, sizeof(*found));
	struct nftset *ns = NULL;
	struct kernel_record rec;
	/* --check and --status report a missing object, never plan it. */
	enum nft_create create = !cfg->create ? NFT_CREATE_NO :
	    commit ? NFT_CREATE_YES : cfg->dry_run ? NFT_CREATE_PLAN :
	    NFT_CREATE_NO;
	uint32_t newgen = 0;
	/* A dry run reads the record too (without the lock: read only). */
	bool known = record && kernel_known(cfg, rep, &rec);
	bool skip = false;
	int attempt;
	size_t k;
	enum as_status st;

	if ((st = nftset_open(&ns)) != AS_OK) {
		free(found);
		return st;
	}
	warn_left_guard(ns, rep);
	for (attempt = 0; attempt <= MAX_GENID_RETRIES; attempt++) {
		st = kernel_read(ns, create, known && attempt == 0 ? &rec :
		    NULL, rep, found, &skip);
		if (st == AS_ETEMPFAIL)
			continue;	/* the dump raced a commit */
		for (k = 0; st == AS_OK && commit && k < rep->ntargets; k++)
			if (active(&rep->targets[k]))
				st = nftset_writable(&found[k],
				    &rep->targets[k].tgt);
		if (st != AS_OK)
			goto out;
		kernel_plan(rep, found);
		if (!commit) {
			rep->outcome = "dry run: nothing changed";
			goto out;
		}
		if (plans_empty(rep)) {
			rep->outcome = "in sync, nothing to do";
			/* A record that held already holds; keep its files. */
			rep->unchanged = skip;
			if (!rep->unchanged && record)
				kernel_remember(cfg, rep, NULL);
			goto out;
		}
		st = kernel_commit(cfg, ns, rep, sg, &newgen);
		if (st == AS_EKERNEL && skip) {
			/* Nothing was applied: trust the kernel now. */
			log_warnx("commit planned from the kernel record "
			    "failed; reading the sets and trying again");
			continue;
		}
		if (st != AS_ETEMPFAIL)
			break;
		log_info("ruleset changed during the run (generation %u); "
		    "re-reading", rep->gen_before);
	}
	if (st == AS_ETEMPFAIL) {
		log_err("ruleset kept changing: gave up after %d attempts",
		    MAX_GENID_RETRIES + 1);
		st = AS_EKERNEL;
	}
	if (st != AS_OK)
		goto out;
	rep->gen_after = newgen;
	rep->outcome = "applied";
	kernel_log(rep);
	/* Someone else committed too: check what the kernel holds. */
	if (newgen != rep->gen_before + 1)
		st = kernel_verify(ns, rep);
	if (st == AS_OK && record)
		kernel_remember(cfg, rep, sg);
 out:
	for (k = 0; k < MAX_SECTIONS; k++)
		free(found[k].odd);
	free(found);
	stage_hold(sg, ns);
	return st;
}

/*
 * Write the include file for every target with a list, unless nothing
 * changed and the file is the one written for them (a failed write
 * leaves an older one).
 */
static enum as_status
save_include(const struct config *cfg, const struct run_report *rep)
{
	struct nft_list l[MAX_SECTIONS];
	size_t n = lists_of(rep, l, false, true);

	if (n == 0 || (rep->unchanged &&
	    state_include_current(cfg->state_dir, l, n)))
		return AS_OK;
	return state_write_include(cfg->state_dir, l, n);
}

/* Take the state directory and its lock for a run that writes. */
static enum as_status
take_lock(const struct config *cfg, int *fd)
{
	enum as_status st;

	if ((st = state_init(cfg->state_dir)) != AS_OK)
		return st;
	return state_lock(cfg->state_dir, cfg->wait, fd);
}

/*
 * Say why a selected section's target is left as it is: guard mode
 * without any list (the guard goes in only with the first accepted list,
 * never empty: it would drop every source), or no list at all.
 */
static void
log_skipped(const struct run_report *rep)
{
	const struct run_section *sec;
	const struct run_target *rt;
	char ports[256];
	size_t k;

	for (k = 0; k < rep->nsections; k++) {
		sec = &rep->sections[k];
		rt = &rep->targets[sec->target];
		if (!sec->so->selected || sec->have_data > 0 || rt->skip ||
		    sec->so->nports == 0)
			continue;
		guard_ports_text(sec->so->ports, sec->so->nports, ports,
		    sizeof(ports));
		log_err("[%s] port%s %s %s not guarded yet: no list accepted",
		    sec->so->name, sec->so->nports > 1 ? "s" : "", ports,
		    sec->so->nports > 1 ? "are" : "is");
	}
	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!rt->touched || !rt->skip)
			continue;
		if (!rt->nodata)
			log_err("%s %s: the list is empty: sets left "
			    "unchanged", rt->tgt.family, rt->tgt.table);
		else if (rt->tgt.nports > 0) {
			guard_ports_text(rt->ports, rt->tgt.nports, ports,
			    sizeof(ports));
			log_err("port%s %s %s not guarded yet: no list "
			    "accepted", rt->tgt.nports > 1 ? "s" : "", ports,
			    rt->tgt.nports > 1 ? "are" : "is");
		} else if (rep->ntargets == 1)
			log_err("no source has a fresh or cached list: sets "
			    "left unchanged");
		else
			log_err("%s %s: no section that fills it has a fresh "
			    "or cached list: sets left unchanged",
			    rt->tgt.family, rt->tgt.table);
	}
}

/*
 * Fetch every source of the selected sections into their cur, and build
 * every section's want: the selected ones' from this run, the others'
 * from their saved lists.  Returns the worst source status: AS_EDATA (a
 * document refused, or a JSON form refused while the text form stood
 * in) outranks AS_ETEMPFAIL (a source could not be fetched).
 */
static enum as_status
sync_fetch(const struct config *cfg, struct run_report *rep, time_t now)
{
	struct run_section *sec;
	const struct source_result *res;
	enum as_status worst = AS_OK;
	struct preload pl;
	struct srcstate hint;
	struct saved sv = { NULL, NULL, preload_wait, &pl };
	size_t i, j;

	/* libcurl's global set-up first: it need not be thread-safe. */
	fetch_global_init();
	preload_start(&pl, cfg, rep);
	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		if (!sec->so->selected)
			continue;
		for (j = 0; j < sec->so->nsources; j++) {
			/* The states being read, the request takes a guess. */
			if (pl.started)
				state_peek(cfg->state_dir, sec->so->name,
				    sec->so->sources[j].url, &hint);
			sv.old = &sec->old[j];
			sv.hint = pl.started ? &hint : NULL;
			refresh_source(sec->so, &sec->so->sources[j], &sv,
			    &sec->cur[j], &sec->results[j], now);
			if (sv.hint != NULL)
				srcstate_free(&hint);
			res = &sec->results[j];
			sec->have_data += sec->cur[j].present;
			if (res->status == AS_EDATA ||
			    res->json_rejected != NULL)
				sec->status = AS_EDATA;
			else if (res->status != AS_OK && sec->status == AS_OK)
				sec->status = AS_ETEMPFAIL;
		}
		if (sec->status == AS_EDATA || worst == AS_OK)
			worst = sec->status;
	}
	preload_wait(&pl);
	fetch_global_cleanup();
	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		if (!sec->so->selected)
			sec->have_data = sec->have_old;
		run_section_want(cfg, sec, sec->so->selected ? sec->cur :
		    sec->old, &sec->want, false);
	}
	return worst;
}

/*
 * The shrink guard of every selected section with a list, and the
 * sections whose target has data but an empty list.  Returns AS_EDATA
 * when one of them held removals back or had nothing to apply.
 */
static enum as_status
sync_guards(const struct config *cfg, struct run_report *rep)
{
	struct run_section *sec;
	enum as_status st = AS_OK;
	size_t i;

	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		if (sec->so->selected && sec->have_data > 0 &&
		    run_shrink_guard(cfg, sec) != AS_OK)
			st = sec->status = AS_EDATA;
	}
	run_targets_want(rep);
	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		if (sec->so->selected && rep->targets[sec->target].skip &&
		    !rep->targets[sec->target].nodata)
			st = sec->status = AS_EDATA;
	}
	log_skipped(rep);
	return st;
}

/* True when some target is active. */
static bool
any_active(const struct run_report *rep)
{
	size_t k;

	for (k = 0; k < rep->ntargets; k++)
		if (active(&rep->targets[k]))
			return true;
	return false;
}

/*
 * A failure after the lists were made (the kernel, the state files) is
 * every selected section's whose target the run was changing.
 */
static void
sections_failed(struct run_report *rep, enum as_status st)
{
	struct run_section *sec;
	size_t i;

	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		if (sec->so->selected && active(&rep->targets[sec->target]))
			sec->status = st;
	}
}

/* See allowsync.h. */
enum as_status
sync_run(const struct config *cfg, struct run_report *rep)
{
	enum as_status st, worst, guard;
	struct stage sg;
	time_t now = time(NULL);
	size_t i, j;
	int lockfd = -1;
	bool saved = false;

	memset(&sg, 0, sizeof(sg));

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK ||
	    (st = run_layout(cfg, rep)) != AS_OK)
		return st;
	/* A bad static entry is a configuration error, found first. */
	for (i = 0; i < rep->nsections; i++)
		if ((st = run_section_statics(cfg, &rep->sections[i],
		    false)) != AS_OK)
			return st;
	if (!cfg->dry_run && (st = take_lock(cfg, &lockfd)) != AS_OK)
		return st;
	worst = sync_fetch(cfg, rep, now);
	guard = sync_guards(cfg, rep);
	if (guard != AS_OK)
		worst = guard;
	st = worst;
	if (!any_active(rep))
		goto attempts;
	if ((st = sync_kernel(cfg, rep, !cfg->dry_run, true, cfg->dry_run ?
	    NULL : &sg)) != AS_OK) {
		sections_failed(rep, st);
		goto attempts;
	}
	if (sg.started)
		st = stage_publish(&sg);
	for (i = 0; !sg.started && !cfg->dry_run && st == AS_OK &&
	    i < rep->nsections; i++)
		if (rep->sections[i].so->selected)
			st = run_save_lists(cfg, &rep->sections[i]);
	if (!sg.started && !cfg->dry_run && st == AS_OK)
		st = save_include(cfg, rep);
	if (st != AS_OK)
		sections_failed(rep, st);
	else {
		saved = true;
		st = worst;
	}
 attempts:
	stage_free(&sg);
	/*
	 * A 304's new time goes to the attempt record of a saved run only;
	 * a run that saved nothing keeps the one recorded before.
	 */
	for (i = 0; !saved && i < rep->nsections; i++)
		for (j = 0; j < rep->sections[i].so->nsources; j++)
			rep->sections[i].cur[j].reaccepted =
			    rep->sections[i].old[j].reaccepted;
	/* Accepted lists change only above; attempts are always recorded. */
	for (i = 0; !cfg->dry_run && lockfd != -1 && i < rep->nsections; i++)
		if (rep->sections[i].so->selected)
			run_save_attempts(cfg, &rep->sections[i]);
	if (lockfd != -1)
		close(lockfd);
	return st;
}

/*
 * Build every section's want from its saved lists alone (no network), and
 * the targets'.  Returns AS_OK; AS_ENOINPUT when no selected section has
 * anything saved (logged with what, the mode's purpose); AS_EDATA when a
 * saved list is there but unusable (corrupt, unreadable, refused by the
 * policy), with the wants built from the others; or AS_ECONFIG for bad
 * static entries (with keep_going, the wants are built without them).  A
 * file that cannot be used is not "nothing saved": the restore unit takes
 * 66 for a new host and would stay quiet.
 */
static enum as_status
saved_want(const struct config *cfg, struct run_report *rep,
    const char *what, bool keep_going)
{
	struct run_section *sec;
	size_t i, j, present = 0, bad = 0;
	enum as_status st = AS_OK;

	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		sec->have_data = run_load_states(cfg, sec);
		for (j = 0; sec->so->selected && j < sec->so->nsources; j++)
			bad += sec->old[j].unusable;
		if (sec->so->selected)
			present += sec->have_data;
	}
	if (present == 0 && bad > 0) {
		log_err("no usable saved list in %s: %zu could not be used "
		    "(see above): nothing to %s", cfg->state_dir, bad, what);
		return AS_EDATA;
	}
	if (present == 0) {
		log_err("no saved list in %s: nothing to %s (run a sync "
		    "first)", cfg->state_dir, what);
		return AS_ENOINPUT;
	}
	for (i = 0; i < rep->nsections; i++) {
		sec = &rep->sections[i];
		if (run_section_want(cfg, sec, sec->old, &sec->want,
		    keep_going) != AS_OK)
			st = sec->status = AS_ECONFIG;
		for (j = 0; sec->so->selected && j < sec->so->nsources; j++)
			if (sec->old[j].unusable) {
				log_err("%s: the saved list could not be used "
				    "(see above): going on without it",
				    sec->so->sources[j].name);
				if (st == AS_OK)
					st = sec->status = AS_EDATA;
			}
	}
	run_targets_want(rep);
	return st;
}

/*
 * Whether a restore may write the state directory: take the lock, rewrite
 * the include file and the kernel record.  Not in a dry run, not when
 * there is no directory (there is nothing to restore either), and not
 * when it cannot be written (a read-only mount, permissions); then the
 * restore goes ahead from the saved lists alone, after one warning.
 */
static bool
restore_may_write(const struct config *cfg)
{
	struct stat sb;

	if (cfg->dry_run || stat(cfg->state_dir, &sb) == -1)
		return false;
	if (faccessat(AT_FDCWD, cfg->state_dir, W_OK, AT_EACCESS) == 0)
		return true;
	log_warnx("state directory %s is not writable (%s): restoring from "
	    "the saved lists without taking the lock; the include file and "
	    "the kernel record are not written", cfg->state_dir,
	    strerror(errno));
	return false;
}

/* See allowsync.h. */
enum as_status
restore_run(const struct config *cfg, struct run_report *rep)
{
	enum as_status st, late;
	bool writes = restore_may_write(cfg);
	int lockfd = -1;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK ||
	    (st = run_layout(cfg, rep)) != AS_OK)
		return st;
	if (writes && (st = take_lock(cfg, &lockfd)) != AS_OK) {
		if (st == AS_ETEMPFAIL)
			return st;
		log_warnx("restoring from the saved lists without the lock; "
		    "the include file and the kernel record are not written");
		writes = false;
	}
	/*
	 * A bad static entry or an unusable saved list fails the restore,
	 * but only after the rest is in the sets.
	 */
	late = saved_want(cfg, rep, "restore", true);
	if (late == AS_ENOINPUT || !any_active(rep)) {
		st = late != AS_OK ? late : AS_ENOINPUT;
		goto out;
	}
	if ((st = sync_kernel(cfg, rep, !cfg->dry_run, writes, NULL)) !=
	    AS_OK)
		goto out;
	if (writes)
		st = save_include(cfg, rep);
	if (st == AS_OK)
		st = late;
 out:
	if (lockfd != -1)
		close(lockfd);
	return st;
}

/* See allowsync.h. */
enum as_status
check_run(const struct config *cfg, struct run_report *rep)
{
	enum as_status st;
	size_t k;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK ||
	    (st = run_layout(cfg, rep)) != AS_OK)
		return st;
	if ((st = saved_want(cfg, rep, "check against", false)) != AS_OK)
		return st;
	if (!any_active(rep))
		return AS_ENOINPUT;
	if ((st = sync_kernel(cfg, rep, false, false, NULL)) != AS_OK)
		return st;
	/* Drift is in the ranges; the next sync corrects comments. */
	for (k = 0; k < rep->ntargets; k++)
		rangelist_free(&rep->targets[k].plan.renote);
	if (plans_empty(rep))
		rep->outcome = "in sync";
	else {
		rep->outcome = "drift";
		st = AS_EDRIFT;
	}
	return st;
}

/* See allowsync.h. */
enum as_status
sync_read_kernel(const struct config *cfg, struct run_report *rep)
{
	return sync_kernel(cfg, rep, false, false, NULL);
}

/* The table guard mode owns: a guard section's, or the default's. */
static const char *
guard_table_of(const struct config *cfg)
{
	const struct source_opts *so;
	size_t i;

	for (i = 0; i < config_nsections(cfg); i++)
		if ((so = config_section(cfg, i))->nports > 0)
			return so->guard_table;
	return cfg->src.guard_table;
}

/*
 * Delete every table guard mode made (the one configured, and any left
 * from an earlier guard-table), each in a transaction of its own.
 * Returns AS_OK or the first failure.
 */
static enum as_status
drop_guard_tables(struct nftset *ns, const char *configured)
{
	char names[MAX_STALE + 1][MAX_NFT_NAME + 1];
	struct nft_target t = { .family = "inet" };
	enum as_status st;
	bool deleted;
	size_t i, n;

	if ((st = nftset_guard_tables(ns, names, MAX_STALE + 1, &n)) != AS_OK)
		return st;
	if (n == 0)
		log_notice("table inet %s does not exist: nothing to delete",
		    configured);
	for (i = 0; i < n; i++) {
		t.table = names[i];
		if ((st = nftset_drop_table(ns, &t, &deleted)) != AS_OK)
			return st;
		if (deleted)
			log_notice("deleted table inet %s: the ports it "
			    "guarded are open to every source again, as far "
			    "as the host's other rules allow", t.table);
	}
	return AS_OK;
}

/* See allowsync.h. */
enum as_status
uninstall_run(const struct config *cfg)
{
	const char *table = guard_table_of(cfg);
	const struct source_opts *so;
	struct nftset *ns = NULL;
	char path[PATH_MAX];
	enum as_status st;
	size_t i;
	int lockfd = -1;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK)
		return st;
	for (i = 0; i < config_nsections(cfg); i++) {
		so = config_section(cfg, i);
		if (so->nports == 0 && strcmp(so->family, "inet") == 0 &&
		    strcmp(so->table, table) == 0) {
			log_err("table inet %s holds the sets of this "
			    "configuration, which is not in guard mode: not "
			    "deleting it", table);
			return AS_ECONFIG;
		}
	}
	/*
	 * Keep a sync from putting the table back meanwhile; a state
	 * directory that cannot be written must not keep the guard in.
	 */
	if (faccessat(AT_FDCWD, cfg->state_dir, W_OK, AT_EACCESS) == 0 &&
	    (st = state_lock(cfg->state_dir, cfg->wait, &lockfd)) != AS_OK)
		return st;
	if ((st = nftset_open(&ns)) == AS_OK &&
	    (st = drop_guard_tables(ns, table)) == AS_OK) {
		snprintf(path, sizeof(path), "%s/%s", cfg->state_dir,
		    STATE_INCLUDE);
		if (unlink(path) == 0)
			log_notice("removed %s", path);
		else if (errno != ENOENT)
			log_warnx("%s: %s", path, strerror(errno));
		snprintf(path, sizeof(path), "%s/%s", cfg->state_dir,
		    STATE_KERNEL);
		unlink(path);
	}
	nftset_close(ns);
	if (lockfd != -1)
		close(lockfd);
	return st;
}

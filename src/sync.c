/*
 * The run modes: the stages wired together.
 *
 * A sync fetches every source, ages its entries (remove-after), unites
 * them with the cached lists of sources that failed and the static
 * entries, applies the shrink guard, and applies the result to the kernel
 * in one transaction.  Only after the kernel has accepted it is the new
 * state saved, so a failed run leaves the old state for the next one.
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

#define MAX_LOGGED	50	/* ranges listed one by one in the log */

/* The target the config names. */
static struct nft_target
target_of(const struct config *cfg)
{
	struct nft_target t = { cfg->src.family, cfg->src.table,
	    cfg->src.set4, cfg->src.set6, cfg->src.ports, cfg->src.nports };

	return t;
}

/*
 * One result per source in rep, each naming its source, so that a run
 * that fails before it fetches still reports every source.
 */
static void
results_init(const struct config *cfg, struct run_report *rep)
{
	size_t i;

	rep->results = xcalloc(cfg->src.nsources, sizeof(*rep->results));
	rep->nresults = cfg->src.nsources;
	for (i = 0; i < rep->nresults; i++) {
		rep->results[i].src = &cfg->src.sources[i];
		rep->results[i].status = AS_ETEMPFAIL;
	}
}

/*
 * Validate the static entries into out.  Returns AS_OK or AS_ECONFIG.
 * With keep_going (--restore) the good entries go into out all the same:
 * one bad line must not keep the saved lists out of the sets at boot.
 */
static enum as_status
load_statics(const struct config *cfg, struct rangelist *out,
    bool keep_going)
{
	struct entrylist el;
	struct policy pol = cfg->src.policy;
	const char *where;
	size_t i;
	enum as_status st;

	if (cfg->src.nstatics == 0)
		return AS_OK;
	memset(&el, 0, sizeof(el));
	el.v = xcalloc(cfg->src.nstatics, sizeof(*el.v));
	for (i = 0; i < cfg->src.nstatics; i++) {
		el.v[i].text = cfg->src.statics[i].text;
		el.v[i].len = strlen(cfg->src.statics[i].text);
		el.v[i].where = cfg->src.statics[i].line;
	}
	el.n = cfg->src.nstatics;
	pol.lenient = false;
	pol.max_entries = MAX_STATIC;
	/* Statics come from the file or, replacing those, the command line. */
	where = cfg->src.statics[0].line > 0 ? cfg->config_file : "--static";
	st = validate_entries(&el, where, &pol, out, NULL);
	if (st != AS_OK && keep_going) {
		log_err("%s: a static entry is bad: going on without the bad "
		    "ones", where);
		pol.lenient = true;
		(void)validate_entries(&el, where, &pol, out, NULL);
	}
	free(el.v);
	return st == AS_OK ? AS_OK : AS_ECONFIG;
}

/* Log each range in rl with a verb, at most MAX_LOGGED lines. */
static void
log_ranges(const struct config *cfg, const struct rangelist *rl,
    const char *what)
{
	char buf[RANGE_STRLEN];
	size_t i, n = 0, total = rl->n4 + rl->n6;

	for (i = 0; i < rl->n4 && n < MAX_LOGGED; i++, n++) {
		range4_format(&rl->v4[i], buf, sizeof(buf));
		log_notice("%s %s (set %s)", what, buf, cfg->src.set4);
	}
	for (i = 0; i < rl->n6 && n < MAX_LOGGED; i++, n++) {
		range6_format(&rl->v6[i], buf, sizeof(buf));
		log_notice("%s %s (set %s)", what, buf, cfg->src.set6);
	}
	if (total > n)
		log_notice("%s %zu more", what, total - n);
}

/* Log each odd element of the plan (a catch-all, ...) with a verb. */
static void
log_odd(const struct config *cfg, const struct plan *p, const char *what)
{
	char buf[RANGE_STRLEN + 64];
	size_t i;

	for (i = 0; i < p->nodd; i++)
		log_notice("%s %s (set %s)", what,
		    odd_elem_format(&p->odd[i], buf, sizeof(buf)),
		    p->odd[i].af == 4 ? cfg->src.set4 : cfg->src.set6);
}

/*
 * True when the kernel record says the sets held exactly prev after the
 * last run, in this boot and namespace; *rec is the record.
 */
static bool
kernel_known(const struct config *cfg, const struct rangelist *prev,
    struct kernel_record *rec)
{
	struct nft_target tgt = target_of(cfg);
	struct kernel_record here;

	return prev != NULL && kernel_record_here(&tgt, &here) &&
	    state_load_kernel(cfg->state_dir, rec) &&
	    strcmp(rec->boot_id, here.boot_id) == 0 &&
	    rec->netns_cookie == here.netns_cookie &&
	    strcmp(rec->target, here.target) == 0 &&
	    rec->digest == rangelist_digest(prev);
}

/* Record that the sets hold rep->want at generation rep->gen_after. */
static void
kernel_remember(const struct config *cfg, const struct run_report *rep)
{
	struct nft_target tgt = target_of(cfg);
	struct kernel_record rec;

	if (!kernel_record_here(&tgt, &rec))
		return;
	rec.generation = rep->gen_after;
	rec.digest = rangelist_digest(&rep->want);
	state_save_kernel(cfg->state_dir, &rec);
}

/*
 * Read what the sets hold now into rep->have, and the rest into found.
 * With rec (the kernel record, when it matches prev: what the last run
 * left in the sets), the slow dump is skipped if the ruleset generation
 * is still the recorded one and no set can change without a commit;
 * *from_record then says prev stands in for the dump.
 */
static enum as_status
kernel_read(const struct config *cfg, struct nftset *ns,
    enum nft_create create, const struct rangelist *prev,
    const struct kernel_record *rec, struct run_report *rep,
    struct nft_found *found, bool *from_record)
{
	struct nft_target tgt = target_of(cfg);
	enum as_status st;

	*from_record = false;
	if (rec == NULL || prev == NULL)
		return nftset_read(ns, &tgt, create, &rep->have, found);
	if ((st = nftset_read(ns, &tgt, create, NULL, found)) != AS_OK)
		return st;
	if (found->genid == rec->generation && !found->unstable) {
		log_info("ruleset unchanged since the last run "
		    "(generation %u): not dumping the sets", found->genid);
		rep->have.n4 = rep->have.n6 = 0;
		rangelist_append(&rep->have, prev);
		*from_record = true;
		return AS_OK;
	}
	if (found->unstable)
		log_info("a set has the timeout or dynamic flag, so its "
		    "contents change without a commit: reading it");
	return nftset_read(ns, &tgt, NFT_CREATE_NO, &rep->have, found);
}

/*
 * Plan the change from rep->have to rep->want: the ranges to delete and
 * add, and every odd element found (taken over from found).
 */
static void
kernel_plan(struct run_report *rep, struct nft_found *found)
{
	plan_free(&rep->plan);
	plan_init(&rep->plan);
	diff_ranges(&rep->want, &rep->have, &rep->plan);
	rep->plan.odd = found->odd;
	rep->plan.nodd = found->nodd;
	found->odd = NULL;
	found->nodd = 0;
	rep->create_table = found->missing_table;
	rep->create_set[0] = found->missing_set[0];
	rep->create_set[1] = found->missing_set[1];
	/* Guard mode: a table that is not exactly ours is made again. */
	if (rep->cfg->src.nports > 0 && !found->guard_ok) {
		rep->plan.rebuild = true;
		rep->plan.drop_table = found->table_exists;
		snprintf(rep->guard_why, sizeof(rep->guard_why), "%s",
		    found->guard_why);
	}
	rep->planned = true;
	rep->gen_before = rep->gen_after = found->genid;
}

/*
 * After a commit that moved the generation by more than our own: read
 * the sets again and check they hold exactly rep->want.  Returns AS_OK or
 * AS_EKERNEL after logging.
 */
static enum as_status
kernel_verify(const struct config *cfg, struct nftset *ns,
    struct run_report *rep)
{
	struct nft_target tgt = target_of(cfg);
	struct nft_found found = { 0 };
	struct rangelist check;
	enum as_status st;

	rangelist_init(&check);
	st = nftset_read(ns, &tgt, NFT_CREATE_NO, &check, &found);
	if (st == AS_OK && (!rangelist_equal(&check, &rep->want) ||
	    found.nodd > 0 || (cfg->src.nports > 0 && !found.guard_ok))) {
		log_err("sets differ from the plan after commit: another "
		    "process changed them");
		st = AS_EKERNEL;
	}
	if (st == AS_OK)
		rep->gen_after = found.genid;
	free(found.odd);
	rangelist_free(&check);
	return st;
}

/*
 * Read the kernel sets into rep->have and plan the change to rep->want.
 * With commit, apply it, retrying when another commit raced ours
 * (ERESTART) a bounded number of times.  prev, when not NULL, is what
 * the last run left in the sets: if the ruleset generation has not moved
 * since (kernel record), it stands in for the slow dump.  With record,
 * what the sets hold afterwards is written down as the kernel record.
 * Fills rep.
 */
static enum as_status
sync_kernel(const struct config *cfg, struct run_report *rep, bool commit,
    const struct rangelist *prev, bool record)
{
	struct nft_target tgt = target_of(cfg);
	struct nftset *ns = NULL;
	struct nft_found found = { 0 };
	struct kernel_record rec;
	/* --check and --status report a missing object, never plan it. */
	enum nft_create create = !cfg->create ? NFT_CREATE_NO :
	    commit ? NFT_CREATE_YES : cfg->dry_run ? NFT_CREATE_PLAN :
	    NFT_CREATE_NO;
	uint32_t newgen = 0;
	bool known = commit && kernel_known(cfg, prev, &rec), skip = false;
	int attempt;
	enum as_status st;

	if ((st = nftset_open(&ns)) != AS_OK)
		return st;
	for (attempt = 0; attempt <= MAX_GENID_RETRIES; attempt++) {
		st = kernel_read(cfg, ns, create, prev,
		    known && attempt == 0 ? &rec : NULL, rep, &found, &skip);
		if (st == AS_ETEMPFAIL)
			continue;	/* the dump raced a commit */
		if (st == AS_OK && commit)
			st = nftset_writable(&found, &tgt);
		if (st != AS_OK)
			goto out;
		kernel_plan(rep, &found);
		if (!commit) {
			rep->outcome = "dry run: nothing changed";
			goto out;
		}
		if (plan_empty(&rep->plan)) {
			rep->outcome = "in sync, nothing to do";
			/* A record that held already holds; keep its files. */
			rep->unchanged = skip;
			if (!rep->unchanged && record)
				kernel_remember(cfg, rep);
			goto out;
		}
		st = nftset_commit(ns, &tgt, &rep->plan, rep->gen_before,
		    &newgen);
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
	if (rep->plan.drop_table)
		log_notice("made table inet %s again: %s", cfg->src.table,
		    rep->guard_why);
	else if (rep->plan.rebuild)
		log_notice("created table inet %s: the guard is in place",
		    cfg->src.table);
	log_ranges(cfg, &rep->plan.del, "removed");
	log_odd(cfg, &rep->plan, "removed");
	/* Someone else committed too: check what the kernel holds. */
	if (newgen != rep->gen_before + 1)
		st = kernel_verify(cfg, ns, rep);
	if (st == AS_OK && record)
		kernel_remember(cfg, rep);
 out:
	free(found.odd);
	nftset_close(ns);
	return st;
}

/*
 * Load every source's saved state into states (cfg->src.nsources entries).
 * Returns how many have an accepted list.
 */
static size_t
load_states(const struct config *cfg, struct srcstate *states)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->src.nsources; i++) {
		state_load(cfg->state_dir, cfg->src.sources[i].url,
		    &cfg->src.policy, &states[i]);
		if (states[i].present)
			n++;
	}
	return n;
}

static void
free_states(struct srcstate *states, size_t n)
{
	size_t i;

	for (i = 0; states != NULL && i < n; i++)
		srcstate_free(&states[i]);
	free(states);
}

/*
 * want = union of the present states' entries and the statics.  Returns
 * AS_OK or AS_ECONFIG (a bad static entry; with keep_going want is
 * built without it).
 */
static enum as_status
build_want(const struct config *cfg, const struct srcstate *states,
    struct rangelist *want, bool keep_going)
{
	size_t i;
	enum as_status st;

	want->n4 = want->n6 = 0;
	if ((st = load_statics(cfg, want, keep_going)) != AS_OK &&
	    !keep_going)
		return st;
	for (i = 0; i < cfg->src.nsources; i++)
		if (states[i].present)
			entryset_append(want, &states[i].ent);
	rangelist_normalise(want);
	return st;
}

/*
 * The shrink guard.  Counts the entries of the old lists that want no
 * longer covers; above max-remove-percent, and without --force, they are
 * kept (as pending entries of cur) and want is rebuilt.  Returns AS_OK,
 * or AS_EDATA when removals were held back.
 */
static enum as_status
shrink_guard(const struct config *cfg, const struct srcstate *old,
    struct srcstate *cur, struct run_report *rep)
{
	struct rangelist gone;
	size_t i;
	enum as_status st = AS_OK;

	rangelist_init(&gone);
	for (i = 0; i < cfg->src.nsources; i++) {
		if (!old[i].present)
			continue;
		rep->old_entries += entryset_count(&old[i].ent);
		rep->removing += guard_uncovered(&old[i].ent, &rep->want,
		    &gone);
	}
	if (rep->removing == 0)
		goto out;
	if (rep->removing * 100 <= (size_t)cfg->src.max_remove_percent *
	    rep->old_entries) {
		log_info("%zu of %zu entries left the list", rep->removing,
		    rep->old_entries);
		goto out;
	}
	if (cfg->force) {
		log_notice("--force: removing %zu of %zu entries",
		    rep->removing, rep->old_entries);
		goto out;
	}
	log_err("holding back the removal of %zu of %zu entries (more than "
	    "max-remove-percent = %u%%); check the list, then run with "
	    "--force to remove them", rep->removing, rep->old_entries,
	    cfg->src.max_remove_percent);
	rangelist_unique(&gone);
	log_ranges(cfg, &gone, "held back");
	for (i = 0; i < cfg->src.nsources; i++)
		if (old[i].present)
			guard_hold(&old[i].ent, &rep->want, &cur[i].ent);
	rep->held = rep->removing;
	build_want(cfg, cur, &rep->want, false);
	st = AS_EDATA;
 out:
	rangelist_free(&gone);
	return st;
}

/*
 * After the kernel took the new lists: save the list of every source that
 * was refreshed (the others keep their files untouched).
 */
static enum as_status
save_lists(const struct config *cfg, const struct srcstate *states,
    const struct source_result *res)
{
	size_t i;
	enum as_status st = AS_OK, st1;

	for (i = 0; i < cfg->src.nsources; i++)
		if (res[i].status == AS_OK &&
		    (st1 = state_save(cfg->state_dir, &states[i])) != AS_OK)
			st = st1;
	return st;
}

/* Record every source's attempt; a failure here is only logged. */
static void
save_attempts(const struct config *cfg, const struct srcstate *states)
{
	size_t i;

	for (i = 0; i < cfg->src.nsources; i++)
		state_save_attempt(cfg->state_dir, &states[i]);
}

/*
 * Write the include file for rep->want, unless nothing changed and the
 * file is the one written for it (a failed write leaves an older one).
 */
static enum as_status
save_include(const struct config *cfg, const struct run_report *rep)
{
	struct nft_target tgt = target_of(cfg);

	if (rep->unchanged && state_include_current(cfg->state_dir, &tgt,
	    &rep->want))
		return AS_OK;
	return state_write_include(cfg->state_dir, &tgt, &rep->want);
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
 * Guard mode without any list: the guard goes in only with the first
 * accepted list, never empty (it would drop every source).
 */
static void
not_guarded(const struct config *cfg)
{
	char ports[256];

	key_get_guard_ports(cfg, &cfg->src, "guard-ports", ports,
	    sizeof(ports));
	log_err("port%s %s %s not guarded yet: no list accepted",
	    cfg->src.nports > 1 ? "s" : "", ports,
	    cfg->src.nports > 1 ? "are" : "is");
}

/* See allowsync.h. */
enum as_status
sync_run(const struct config *cfg, struct run_report *rep)
{
	struct srcstate *old, *cur;
	struct rangelist prev;
	enum as_status st, guard, worst = AS_OK;
	size_t i, have_data = 0, have_old;
	bool prev_ok = false;
	time_t now = time(NULL);
	int lockfd = -1;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK)
		return st;

	rangelist_init(&prev);
	old = xcalloc(cfg->src.nsources, sizeof(*old));
	cur = xcalloc(cfg->src.nsources, sizeof(*cur));
	results_init(cfg, rep);
	if ((st = load_statics(cfg, &rep->want, false)) != AS_OK)
		goto out;
	if (!cfg->dry_run && (st = take_lock(cfg, &lockfd)) != AS_OK)
		goto out;
	have_old = load_states(cfg, old);

	fetch_global_init();
	for (i = 0; i < cfg->src.nsources; i++) {
		refresh_source(&cfg->src, &cfg->src.sources[i], &old[i],
		    &cur[i], &rep->results[i], now);
		if (cur[i].present)
			have_data++;
		if (rep->results[i].status == AS_EDATA ||
		    rep->results[i].json_rejected != NULL)
			worst = AS_EDATA;
		else if (rep->results[i].status != AS_OK && worst == AS_OK)
			worst = AS_ETEMPFAIL;
	}
	fetch_global_cleanup();

	if (have_data == 0) {
		if (cfg->src.nports > 0)
			not_guarded(cfg);
		else
			log_err("no source has a fresh or cached list: sets "
			    "left unchanged");
		st = worst;
		goto attempts;
	}
	build_want(cfg, cur, &rep->want, false);
	if (rep->want.n4 + rep->want.n6 == 0) {
		log_err("the list is empty: sets left unchanged");
		st = AS_EDATA;
		goto attempts;
	}
	guard = shrink_guard(cfg, old, cur, rep);
	/* What the last run left in the sets, if it ran here. */
	prev_ok = !cfg->dry_run && have_old > 0 &&
	    build_want(cfg, old, &prev, false) == AS_OK;
	if ((st = sync_kernel(cfg, rep, !cfg->dry_run, prev_ok ? &prev :
	    NULL, true)) != AS_OK)
		goto attempts;
	if (!cfg->dry_run) {
		if ((st = save_lists(cfg, cur, rep->results)) == AS_OK)
			st = save_include(cfg, rep);
		if (st != AS_OK)
			goto attempts;
	}
	st = guard != AS_OK ? guard : worst;

 attempts:
	/* Accepted lists change only above; attempts are always recorded. */
	if (!cfg->dry_run && lockfd != -1)
		save_attempts(cfg, cur);
 out:
	if (lockfd != -1)
		close(lockfd);
	rangelist_free(&prev);
	free_states(old, cfg->src.nsources);
	free_states(cur, cfg->src.nsources);
	return st;
}

/*
 * Build rep->want from the saved lists alone (no network).  Returns
 * AS_OK; AS_ENOINPUT when nothing is saved (logged with what, the mode's
 * purpose); AS_EDATA when a saved list is there but unusable (corrupt,
 * unreadable, refused by the policy), with want built from the others;
 * or AS_ECONFIG for bad static entries (with keep_going, want is built
 * without them).  A file that cannot be used is not "nothing saved": the
 * restore unit takes 66 for a new host and would stay quiet.
 */
static enum as_status
saved_want(const struct config *cfg, struct srcstate *states,
    struct run_report *rep, const char *what, bool keep_going)
{
	size_t i, bad = 0;
	enum as_status st;

	if (load_states(cfg, states) == 0) {
		for (i = 0; i < cfg->src.nsources; i++)
			bad += states[i].unusable;
		if (bad > 0) {
			log_err("no usable saved list in %s: %zu could not be "
			    "used (see above): nothing to %s", cfg->state_dir,
			    bad, what);
			return AS_EDATA;
		}
		log_err("no saved list in %s: nothing to %s (run a sync "
		    "first)", cfg->state_dir, what);
		return AS_ENOINPUT;
	}
	st = build_want(cfg, states, &rep->want, keep_going);
	for (i = 0; i < cfg->src.nsources; i++)
		if (states[i].unusable) {
			log_err("%s: the saved list could not be used (see "
			    "above): going on without it",
			    cfg->src.sources[i].name);
			if (st == AS_OK)
				st = AS_EDATA;
		}
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

/*
 * See allowsync.h.  A restore brings the sets back whatever else is
 * wrong with the state directory: when its lock cannot be used (but for
 * another run holding it), it goes ahead without writing anything.
 */
enum as_status
restore_run(const struct config *cfg, struct run_report *rep)
{
	struct srcstate *states;
	enum as_status st, late;
	bool writes = restore_may_write(cfg);
	int lockfd = -1;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK)
		return st;

	states = xcalloc(cfg->src.nsources, sizeof(*states));
	if (writes && (st = take_lock(cfg, &lockfd)) != AS_OK) {
		if (st == AS_ETEMPFAIL)
			goto out;
		log_warnx("restoring from the saved lists without the lock; "
		    "the include file and the kernel record are not written");
		writes = false;
	}
	/*
	 * A bad static entry or an unusable saved list fails the restore,
	 * but only after the rest is in the sets.
	 */
	late = saved_want(cfg, states, rep, "restore", true);
	if (late != AS_OK && late != AS_ECONFIG && (late != AS_EDATA ||
	    rep->want.n4 + rep->want.n6 == 0)) {
		st = late;
		goto out;
	}
	if ((st = sync_kernel(cfg, rep, !cfg->dry_run, NULL, writes)) !=
	    AS_OK)
		goto out;
	if (writes)
		st = save_include(cfg, rep);
	if (st == AS_OK)
		st = late;
 out:
	if (lockfd != -1)
		close(lockfd);
	free_states(states, cfg->src.nsources);
	return st;
}

/* See allowsync.h. */
enum as_status
check_run(const struct config *cfg, struct run_report *rep)
{
	struct srcstate *states;
	enum as_status st;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK)
		return st;

	states = xcalloc(cfg->src.nsources, sizeof(*states));
	if ((st = saved_want(cfg, states, rep, "check against", false)) !=
	    AS_OK)
		goto out;
	if ((st = sync_kernel(cfg, rep, false, NULL, false)) != AS_OK)
		goto out;
	if (plan_empty(&rep->plan))
		rep->outcome = "in sync";
	else {
		rep->outcome = "drift";
		st = AS_EDRIFT;
	}
 out:
	free_states(states, cfg->src.nsources);
	return st;
}

/* See allowsync.h. */
enum as_status
status_run(const struct config *cfg)
{
	char ports[256];
	struct srcstate st;
	struct run_report rep;
	char t1[32], t2[32], age[32];
	enum as_status rc;
	size_t i;
	time_t now = time(NULL);

	if ((rc = state_dir_check(cfg->state_dir)) != AS_OK)
		return rc;

	for (i = 0; i < cfg->src.nsources; i++) {
		state_load(cfg->state_dir, cfg->src.sources[i].url,
		    &cfg->src.policy, &st);
		printf("source %s\n  url: %s\n", cfg->src.sources[i].name,
		    cfg->src.sources[i].url);
		printf("  last attempt: %s (%s)\n",
		    state_time(st.attempt, t1, sizeof(t1)),
		    st.result != RESULT_NONE ? result_name(st.result) :
		    "never");
		if (st.error != NULL)
			printf("  last error: %s\n", st.error);
		if (st.json_rejected != NULL)
			printf("  JSON form rejected (the text form was used): "
			    "%s\n", st.json_rejected);
		if (st.present)
			printf("  last success: %s, %s document, %zu entries "
			    "(%zu pending removal), accepted %s, age %s, "
			    "etag %s\n",
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
	run_report_init(&rep, cfg);
	rc = sync_kernel(cfg, &rep, false, NULL, false);
	if (rc == AS_OK && cfg->src.nports > 0) {
		key_get_guard_ports(cfg, &cfg->src, "guard-ports", ports,
		    sizeof(ports));
		printf("guard: table inet %s, ports %s: %s%s\n",
		    cfg->src.table, ports, rep.plan.rebuild ?
		    "not as configured, " : "in place", rep.plan.rebuild ?
		    rep.guard_why : "");
	}
	if (rc == AS_OK) {
		printf("kernel: %s %s", cfg->src.family, cfg->src.table);
		if (cfg->src.set4[0] != '\0')
			printf(" %s %zu ranges", cfg->src.set4, rep.have.n4);
		if (cfg->src.set6[0] != '\0')
			printf(" %s %zu ranges", cfg->src.set6, rep.have.n6);
		printf(" (generation %u)\n", rep.gen_before);
	} else
		printf("kernel: sets unreadable (%s)\n", log_last_error());
	run_report_free(&rep);
	fflush(stdout);
	return rc;
}

/* See allowsync.h. */
enum as_status
uninstall_run(const struct config *cfg)
{
	struct nft_target t = { "inet", cfg->src.guard_table, NULL, NULL,
	    NULL, 0 };
	struct nftset *ns = NULL;
	char path[PATH_MAX];
	enum as_status st;
	bool deleted;
	int lockfd = -1;

	if ((st = state_dir_check(cfg->state_dir)) != AS_OK)
		return st;
	if (cfg->src.nports == 0 && strcmp(cfg->src.family, "inet") == 0 &&
	    strcmp(cfg->src.table, cfg->src.guard_table) == 0) {
		log_err("table inet %s holds the sets of this configuration, "
		    "which is not in guard mode: not deleting it", t.table);
		return AS_ECONFIG;
	}
	/* Keep a sync from putting the table back meanwhile. */
	if (access(cfg->state_dir, F_OK) == 0 &&
	    (st = state_lock(cfg->state_dir, cfg->wait, &lockfd)) != AS_OK)
		return st;
	if ((st = nftset_open(&ns)) == AS_OK &&
	    (st = nftset_drop_table(ns, &t, &deleted)) == AS_OK) {
		if (deleted)
			log_notice("deleted table inet %s: the ports it "
			    "guarded are open to every source again, as far "
			    "as the host's other rules allow", t.table);
		else
			log_notice("table inet %s does not exist: nothing to "
			    "delete", t.table);
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

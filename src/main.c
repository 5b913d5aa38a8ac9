/*
 * allowsync: wire the stages together and map results to exit codes.
 * This is the only file that knows about sysexits.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "allowsync.h"

/* The one place results become exit codes (see README, EXIT STATUS). */
static int
exit_code(enum as_status st)
{
	switch (st) {
	case AS_OK:
		return EX_OK;
	case AS_EUSAGE:
		return EX_USAGE;
	case AS_EDATA:
		return EX_DATAERR;
	case AS_ENOINPUT:
		return EX_NOINPUT;
	case AS_EUNAVAIL:
		return EX_UNAVAILABLE;
	case AS_EKERNEL:
		return EX_OSERR;
	case AS_ETEMPFAIL:
		return EX_TEMPFAIL;
	case AS_EPERM:
		return EX_NOPERM;
	case AS_ECONFIG:
		return EX_CONFIG;
	case AS_ESOFTWARE:
		break;
	}
	return EX_SOFTWARE;
}

/*
 * Fetch, parse and validate one document into out.  Returns AS_OK,
 * AS_ETEMPFAIL (could not fetch) or AS_EDATA (fetched but rejected).
 */
static enum as_status
load_document(const struct config *cfg, const char *url, bool json,
    struct rangelist *out)
{
	struct fetch_result fr;
	struct entrylist el;
	enum as_status st;

	if ((st = fetch_document(url, &cfg->fetch, NULL, &fr)) != AS_OK)
		return st == AS_ECONFIG ? AS_ETEMPFAIL : st;
	if (json)
		st = parse_json(fr.body, fr.len, url, cfg->json_keys,
		    cfg->njson_keys, &el);
	else
		st = parse_text(fr.body, fr.len, url, &el);
	fetch_result_free(&fr);
	if (st != AS_OK)
		return st;
	st = validate_entries(&el, url, &cfg->policy, out);
	entrylist_free(&el);
	return st;
}

/*
 * Load one source: the JSON document, else its text form.  The ranges go
 * into out; res records what happened.  Returns the source's status.
 */
static enum as_status
load_source(const struct config *cfg, const struct source *src,
    struct rangelist *out, struct source_result *res)
{
	struct rangelist rl;
	char err[2048];
	enum as_status st, st2;

	memset(res, 0, sizeof(*res));
	res->src = src;
	rangelist_init(&rl);
	st = load_document(cfg, src->url, true, &rl);
	if (st == AS_OK)
		res->document = "json";
	else {
		snprintf(err, sizeof(err), "%s", log_last_error());
		if (src->url_txt != NULL) {
			log_warn("%s: JSON form failed, trying the text form %s",
			    src->name, src->url_txt);
			rangelist_free(&rl);
			rangelist_init(&rl);
			st2 = load_document(cfg, src->url_txt, false, &rl);
			if (st2 == AS_OK) {
				res->document = "text";
				st = AS_OK;
			} else {
				/* A rejected document outranks an outage. */
				if (st2 == AS_EDATA)
					st = AS_EDATA;
				snprintf(err, sizeof(err), "%s",
				    log_last_error());
			}
		}
		if (st != AS_OK)
			res->error = xstrdup(err);
	}
	res->status = st;
	if (st == AS_OK) {
		res->entries = rl.n4 + rl.n6;
		log_info("%s: %zu entries from the %s form", src->name,
		    res->entries, res->document);
		rangelist_append(out, &rl);
	}
	rangelist_free(&rl);
	return st;
}

/* Validate the static entries into out.  Returns AS_OK or AS_ECONFIG. */
static enum as_status
load_statics(const struct config *cfg, struct rangelist *out)
{
	struct entrylist el;
	struct policy pol = cfg->policy;
	size_t i;
	enum as_status st;

	if (cfg->nstatics == 0)
		return AS_OK;
	memset(&el, 0, sizeof(el));
	el.v = xcalloc(cfg->nstatics, sizeof(*el.v));
	for (i = 0; i < cfg->nstatics; i++) {
		el.v[i].text = cfg->statics[i].text;
		el.v[i].len = strlen(cfg->statics[i].text);
		el.v[i].where = cfg->statics[i].line;
	}
	el.n = cfg->nstatics;
	pol.lenient = false;
	pol.max_entries = MAX_STATIC;
	/* Statics come from the file or, replacing those, the command line. */
	st = validate_entries(&el, cfg->statics[0].line > 0 ?
	    cfg->config_file : "--static", &pol, out);
	free(el.v);
	return st == AS_OK ? AS_OK : AS_ECONFIG;
}

/*
 * Log each range the commit removed: anything in the sets that is not in
 * the list, including elements someone else added, goes, and an operator
 * must be able to see that.  At most MAX_LOGGED lines, then a count.
 */
#define MAX_LOGGED	50
static void
log_removals(const struct config *cfg, const struct plan *plan)
{
	char buf[RANGE_STRLEN];
	size_t i, n = 0, total = plan->del.n4 + plan->del.n6;

	for (i = 0; i < plan->del.n4 && n < MAX_LOGGED; i++, n++) {
		range4_format(&plan->del.v4[i], buf, sizeof(buf));
		log_notice("removed %s from set %s: not in the list", buf,
		    cfg->set4);
	}
	for (i = 0; i < plan->del.n6 && n < MAX_LOGGED; i++, n++) {
		range6_format(&plan->del.v6[i], buf, sizeof(buf));
		log_notice("removed %s from set %s: not in the list", buf,
		    cfg->set6);
	}
	if (total > n)
		log_notice("removed %zu more ranges", total - n);
}

/*
 * Read the kernel sets, plan, and commit, retrying when another commit
 * raced ours (ERESTART) a bounded number of times.  Fills the report.
 */
static enum as_status
sync_kernel(const struct config *cfg, const struct rangelist *want,
    struct rangelist *have, struct plan *plan, struct run_report *rep)
{
	struct nft_target tgt = { cfg->family, cfg->table, cfg->set4,
	    cfg->set6 };
	struct nftset *ns = NULL;
	struct rangelist check;
	uint32_t gen, newgen;
	int attempt;
	enum as_status st;

	if ((st = nftset_open(&ns)) != AS_OK)
		return st;
	for (attempt = 0; attempt <= MAX_GENID_RETRIES; attempt++) {
		rangelist_free(have);
		rangelist_init(have);
		plan_free(plan);
		plan_init(plan);
		st = nftset_read(ns, &tgt, cfg->create && !cfg->dry_run, have,
		    &gen);
		if (st == AS_ETEMPFAIL)
			continue;	/* the dump raced a commit */
		if (st != AS_OK)
			goto out;
		diff_ranges(want, have, plan);
		rep->gen_before = rep->gen_after = gen;
		if (cfg->dry_run) {
			rep->outcome = "dry run: nothing changed";
			goto out;
		}
		if (plan_empty(plan)) {
			rep->outcome = "in sync, nothing to do";
			goto out;
		}
		st = nftset_commit(ns, &tgt, plan, gen, &newgen);
		if (st != AS_ETEMPFAIL)
			break;
		log_info("ruleset changed during the run (generation %u); "
		    "re-reading", gen);
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
	log_removals(cfg, plan);
	if (newgen != gen + 1) {
		/* Someone else committed too: check what the kernel holds. */
		rangelist_init(&check);
		st = nftset_read(ns, &tgt, false, &check, &newgen);
		if (st == AS_OK && !rangelist_equal(&check, want)) {
			log_err("sets differ from the plan after commit: "
			    "another process changed them");
			st = AS_EKERNEL;
		}
		rangelist_free(&check);
	}
out:
	nftset_close(ns);
	return st;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct rangelist want, have;
	struct plan plan;
	struct source_result *results = NULL;
	struct run_report rep;
	enum as_status st, worst = AS_OK;
	size_t i, nfailed = 0;
	int code;

	log_init(LOG_LVL_NOTICE);
	rangelist_init(&want);
	rangelist_init(&have);
	plan_init(&plan);
	memset(&rep, 0, sizeof(rep));
	rep.cfg = &cfg;
	rep.outcome = "failed";

	if ((st = config_load(argc, argv, &cfg)) != AS_OK)
		goto done;
	if (cfg.help) {
		config_usage(stdout);
		goto done;
	}
	if (cfg.version) {
		printf("allowsync %s\n", ALLOWSYNC_VERSION);
		goto done;
	}
	log_init(cfg.verbosity < 0 ? LOG_LVL_ERR :
	    cfg.verbosity == 0 ? LOG_LVL_NOTICE :
	    cfg.verbosity == 1 ? LOG_LVL_INFO : LOG_LVL_DEBUG);
	if (cfg.nsources == 0) {
		log_err("no source configured: choose one with --locale CC "
		    "(e.g. --locale pl), --domain DOMAIN or --url URL, or the "
		    "same keys in %s", cfg.config_file);
		st = AS_ECONFIG;
		goto done;
	}
	if ((st = load_statics(&cfg, &want)) != AS_OK)
		goto done;

	fetch_global_init();
	results = xcalloc(cfg.nsources, sizeof(*results));
	rep.results = results;
	rep.nresults = cfg.nsources;
	for (i = 0; i < cfg.nsources; i++) {
		st = load_source(&cfg, &cfg.sources[i], &want, &results[i]);
		if (st != AS_OK) {
			nfailed++;
			if (worst != AS_EDATA)
				worst = st;
		}
	}
	fetch_global_cleanup();
	if (nfailed > 0) {
		/* Without every source the union would drop live entries. */
		log_err("%zu of %zu sources failed: sets left unchanged",
		    nfailed, cfg.nsources);
		st = worst;
		goto done;
	}
	rangelist_normalise(&want);
	rep.want = &want;
	if (want.n4 + want.n6 == 0) {
		log_err("the list is empty: sets left unchanged");
		st = AS_EDATA;
		goto done;
	}
	st = sync_kernel(&cfg, &want, &have, &plan, &rep);
	if (st == AS_OK || cfg.dry_run) {
		rep.have = &have;
		rep.plan = &plan;
	}
	if (st == AS_OK && rep.outcome != NULL && !cfg.json)
		report_text(&rep);

done:
	code = exit_code(st);
	rep.exit_code = code;
	if (st != AS_OK)
		rep.outcome = "failed";
	if (cfg.json && st != AS_EUSAGE && !cfg.help && !cfg.version)
		report_json(&rep);
	for (i = 0; results != NULL && i < cfg.nsources; i++)
		free(results[i].error);
	free(results);
	plan_free(&plan);
	rangelist_free(&want);
	rangelist_free(&have);
	config_free(&cfg);
	return code;
}

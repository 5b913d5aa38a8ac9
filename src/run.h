/*
 * allowsync: the run's part of the internal header (report.c, metrics.c,
 * refresh.c, run.c, sync.c): what a run found and did, and the modes.
 * Included by allowsync.h after the types it needs; never on its own.
 */
#ifndef ALLOWSYNC_RUN_H
#define ALLOWSYNC_RUN_H

#include <pthread.h>

/* --------------------------------------------------------------- report.c */

/* What happened to one source this run, for the report. */
struct source_result {
	const struct source	*src;
	enum as_status		 status;	/* OK, ETEMPFAIL, EDATA */
	enum form		 document;	/* of the list used; or NONE */
	bool			 not_modified;	/* answered 304 */
	bool			 cached;	/* the cached list stood in */
	time_t			 accepted;	/* of the list used; 0: none */
	size_t			 entries;	/* entries contributed */
	char			*error;		/* escaped reason or NULL */
	/*
	 * The JSON form parsed but an entry broke the grammar or the
	 * policy: why (escaped), even when the text form was applied.
	 */
	char			*json_rejected;
	/*
	 * Per form (JSON, text): its document was refused.  A JSON form
	 * that does not parse while a text form stands by is a fallback,
	 * not a refusal.
	 */
	bool			 rejected[2];
	/* Of the document accepted this run: the entries skipped. */
	struct validation	 val;
};

/*
 * One set pair a run fills (a target), from the sections that name it.
 * want is the union of their lists; a target none of whose sections has a
 * list, or whose union is empty, is left as it is (skip).
 */
struct run_target {
	struct nft_target	 tgt;
	struct guard_port	 ports[MAX_GUARD_PORTS];	/* union */
	struct rangelist	 want;		/* desired contents */
	struct rangelist	 have;		/* kernel contents read */
	/* What the last run left; kernel_read() may move it into have. */
	struct rangelist	 prev;
	struct plan		 plan;
	bool			 touched;	/* a selected section's */
	bool			 skip;		/* no list: left as it is */
	bool			 nodata;	/* no section had a list */
	bool			 planned;	/* have and plan are valid */
	bool			 create_table;	/* dry run: would be created */
	bool			 create_set[2];	/* IPv4, IPv6 set, likewise */
	char			 guard_why[96];	/* plan.rebuild: why */
	uint32_t		 set_size[2];	/* as read */
};

/* One section of a run: its sources, states, list and guards. */
struct run_section {
	const struct source_opts *so;
	size_t			 target;	/* in run_report.targets */
	struct source_result	*results;	/* one per source */
	struct srcstate		*old;		/* saved states */
	struct srcstate		*cur;		/* states to save */
	size_t			 have_old;	/* old lists present */
	size_t			 have_data;	/* lists for this run */
	struct rangelist	 want;		/* its list, statics too */
	struct rangelist	 statics;	/* run_section_statics() */
	enum as_status		 statics_st;
	bool			 statics_done;
	bool			 statics_keep;	/* its keep_going */
	size_t			 old_entries;	/* entries accepted before */
	size_t			 removing;	/* of those, not covered */
	size_t			 held;		/* removals held back */
	enum as_status		 status;	/* its own outcome */
};

/*
 * Everything a run found and did, filled in by sync.c.  exit_of maps a
 * status to the exit code (main.c's), for the per-section codes.
 */
struct run_report {
	const struct config	*cfg;
	/* Guard mode: the pairs of the active guard targets. */
	struct nft_pair		 guard_pairs[MAX_SECTIONS];
	struct run_section	*sections;
	size_t			 nsections;
	struct run_target	*targets;
	size_t			 ntargets;
	bool			 planned;	/* the targets were read */
	bool			 unchanged;	/* kernel record still held */
	const char		*outcome;	/* "applied", ... */
	const char		*error;		/* the config error, if any */
	int			 exit_code;
	int			 (*exit_of)(enum as_status);
	uint32_t		 gen_before;
	uint32_t		 gen_after;
};

void	 run_report_init(struct run_report *, const struct config *);
void	 run_report_free(struct run_report *);
/* Print the plan lines ("+ 1.2.3.4", "- 5.6.0.0/16") and a summary. */
void	 report_text(const struct run_report *);
/* Print the whole run as one JSON object on stdout. */
void	 report_json(const struct run_report *);
/* Print root as one line of JSON on stdout, flush, and free it. */
void	 json_print(struct cJSON *);

/* -------------------------------------------------------------- metrics.c */

/*
 * Write the metrics of the run in rep (a sync, a --restore or a --check,
 * as cfg says) to cfg->metrics_file in the Prometheus textfile format,
 * atomically, together with the last block of the other two modes (kept
 * in the state directory).  Returns AS_OK or AS_ECANTCREAT after
 * logging; a failure never changes the exit code.
 */
enum as_status metrics_write(const struct config *,
	    const struct run_report *);

/* -------------------------------------------------------------- refresh.c */

/*
 * The saved state of a source as refresh_source() takes it: old, which
 * may still be being read by another thread until wait(arg) returns
 * (wait NULL: it is read), and hint, state_peek()'s guess at it (NULL:
 * none), whose validators the request carries meanwhile.
 */
struct saved {
	const struct srcstate	*old;
	const struct srcstate	*hint;
	void			(*wait)(void *);
	void			*arg;
};

/*
 * Refresh one source src of the section so from its saved state sv; cur
 * receives the state to save after a successful apply; res what
 * happened.  A source that fails keeps its cached list in cur.
 */
void	 refresh_source(const struct source_opts *so,
	    const struct source *src, const struct saved *sv,
	    struct srcstate *cur, struct source_result *res, time_t now);
/*
 * The reader of form i (0: the url, 1: its text form) of src under so, as
 * 16 hex digits into buf: a fingerprint of everything that decides what
 * a document there yields (that URL, format, paths, policy).
 */
void	 refresh_reader(const struct source_opts *so,
	    const struct source *src, int i, char *buf, size_t bufsz);
/*
 * The policy of src under so: the section's, but private = skip for a
 * Docplanner market (locale, preset docplanner-CC) unless private is
 * given.
 */
void	 refresh_policy(const struct source_opts *so,
	    const struct source *src, struct policy *pol);

/* ------------------------------------------------------------------ run.c */

/*
 * Lay out rep for cfg: a run_section for every section (selected or not)
 * and a run_target for every set pair they name.  Returns AS_OK, or
 * AS_ECONFIG after logging (too many guarded ports in one table).
 */
enum as_status run_layout(const struct config *, struct run_report *);
/* Free what run_layout() and the run put into rep. */
void	 run_free(struct run_report *);
/* Load sec's saved states into sec->old; returns how many have a list. */
size_t	 run_load_states(const struct config *, struct run_section *sec);
/*
 * Validate the static entries of so into out.  Returns AS_OK or
 * AS_ECONFIG; with keep_going (--restore) the good ones go in all the
 * same: one bad line must not keep the saved lists out of the sets.
 */
enum as_status run_statics(const struct config *, const struct source_opts *,
	    struct rangelist *out, bool keep_going);
/*
 * Validate sec's static entries once a run, as run_statics() does, into
 * sec->statics; later calls, and run_section_want() with the same
 * keep_going, take them from there without saying their warnings again.
 * Returns run_statics()'s status.
 */
enum as_status run_section_statics(const struct config *,
	    struct run_section *sec, bool keep_going);
/*
 * want = sec's statics and the lists of states (its old or cur), sorted
 * and merged.  Returns run_statics()'s status.
 */
enum as_status run_section_want(const struct config *,
	    const struct run_section *sec, const struct srcstate *states,
	    struct rangelist *want, bool keep_going);
/*
 * Each target's prev: what the last run left in it, for the kernel
 * record: the union of its sections' saved lists (their old) and static
 * entries.
 */
void	 run_prev(const struct config *, struct run_report *);
/*
 * Each target's want: the union of its sections' want.  A target none of
 * whose sections has a list (have_data), or with an empty union, is
 * marked skip: left as it is.
 */
void	 run_targets_want(struct run_report *);
/*
 * The shrink guard of one section: counts the entries of its old lists
 * that its want no longer covers; above max-remove-percent, and without
 * --force, they are kept (as pending entries of cur) and want is rebuilt.
 * Returns AS_OK, or AS_EDATA when removals were held back.
 */
enum as_status run_shrink_guard(const struct config *,
	    struct run_section *sec);
/* Save the list of every source of sec that was refreshed. */
enum as_status run_save_lists(const struct config *,
	    const struct run_section *sec);
/* Record every source's attempt; a failure here is only logged. */
void	 run_save_attempts(const struct config *,
	    const struct run_section *sec);
/*
 * Guard mode: the pairs of the active guard targets, in order, into
 * rep->guard_pairs; the first is the primary, which checks and makes the
 * table for all.
 */
void	 run_guard_pairs(struct run_report *);
/* The ports guard target t's table guards (all its pairs), into buf. */
void	 run_guard_ports_text(const struct nft_target *, char *buf,
	    size_t bufsz);
/* Log each range in rl with a verb, at most 50 lines. */
void	 run_log_ranges(const struct nft_target *, const struct rangelist *rl,
	    const char *what);

/*
 * (sync.c) Read what the targets of rep hold into their have, and plan
 * as a check would, committing nothing (--status).
 */
enum as_status sync_read_kernel(const struct config *, struct run_report *);

/* -------------------------------------------------------------- explain.c */

/*
 * --explain ADDR (cfg->explain): whether the sets allow the address, and
 * why, from the saved state and the kernel, on stdout (as JSON with
 * --json).  Returns AS_OK when a set holds it, AS_EDENIED when none does,
 * AS_EUSAGE for a malformed address, or a failure after logging.
 */
enum as_status explain_run(const struct config *);

/* ---------------------------------------------------------------- stage.c */

/*
 * The state files and the include file of a sync, staged by a thread of
 * their own while the kernel applies the commit (stage.c says why).
 */
struct stage {
	const struct config	*cfg;
	const struct run_report	*rep;
	struct nft_list		 lists[MAX_SECTIONS];	/* the include's */
	size_t			 nlists;
	struct staged		*files;		/* states, then include */
	size_t			 nfiles;
	/* The kernel record's lists, their sizes, their nft_lists_digest(). */
	struct nft_list		 rec[MAX_SECTIONS];
	size_t			 rec_n[MAX_SECTIONS][2];
	size_t			 nrec;
	uint64_t		 rec_digest;	/* valid once joined */
	/*
	 * The commit's netlink socket, closed by stage_free() after the
	 * files are put in place (or thrown away).  Its close waits for
	 * the kernel to finish freeing what the commit took out
	 * (NETLINK_URELEASE flushes nf_tables' destroy work, an RCU grace
	 * period: about 8 ms after a million-range update), which it does
	 * by itself meanwhile.
	 */
	struct nftset		*ns;
	pthread_t		 thread;
	bool			 started;	/* the thread runs or ran */
	bool			 joined;
};

/*
 * Start staging the files of rep (l[0..n): the include's lists), once,
 * and taking the digest of the kernel record's lists r[0..nr); a thread
 * that cannot start leaves sg not started, and the run writes its files
 * itself.
 */
void	 stage_start(struct stage *, const struct config *,
	    const struct run_report *, const struct nft_list *l, size_t n,
	    const struct nft_list *r, size_t nr);
/*
 * The digest of the record's lists r[0..n) that the staging thread took
 * into *digest: true when it ran and its lists were these (the same
 * targets and want lists, of the same sizes).
 */
bool	 stage_digest(struct stage *, const struct nft_list *r, size_t n,
	    uint64_t *digest);
/* Wait for the staging thread, if any. */
void	 stage_join(struct stage *);
/*
 * Put the staged files in place (the include only when every state file
 * went in); AS_OK or AS_ECANTCREAT after logging.
 */
enum as_status stage_publish(struct stage *);
/*
 * Keep the commit's socket ns in sg (NULL, or a stage that never started:
 * close it now) for stage_free() to close.
 */
void	 stage_hold(struct stage *, struct nftset *ns);
/* Remove what was staged and not published, close ns, and free sg. */
void	 stage_free(struct stage *);

/* -------------------------------------------------------------- preload.c */

/* The saved states of a sync, read by a thread of their own (preload.c). */
struct preload {
	const struct config	*cfg;
	struct run_report	*rep;
	pthread_t		 thread;
	bool			 started;	/* running, not joined */
	struct log_capture	 cap;		/* its log lines */
};

/*
 * Start reading the saved states of every section of rep into their old
 * (run_load_states()), then the targets' prev from them (run_prev()); a
 * thread that cannot start leaves both done.
 */
void	 preload_start(struct preload *, const struct config *,
	    struct run_report *);
/*
 * Wait until the states are read and prev made, and print what the
 * thread logged; a struct preload * as arg, for struct saved.
 */
void	 preload_wait(void *);

/* ----------------------------------------------------------------- sync.c */

/*
 * The modes.  Each returns an as_status for main.c to map, fills rep for
 * the report, and logs its own errors.
 *
 * sync_run: fetch every source, age and guard the entries, apply, save
 * the state and the include file.  restore_run: apply the saved lists
 * without the network.  check_run: compare the kernel with the saved
 * lists (AS_EDRIFT when they differ).  status_run: print what is saved
 * and the kernel set sizes.
 */
enum as_status sync_run(const struct config *, struct run_report *);
enum as_status restore_run(const struct config *, struct run_report *);
enum as_status check_run(const struct config *, struct run_report *);
enum as_status status_run(const struct config *);
/*
 * uninstall_run: delete guard mode's table (inet guard-table) in one
 * transaction and the include file; the cached lists stay.  AS_OK also
 * when there was nothing to delete.
 */
enum as_status uninstall_run(const struct config *);

#endif /* ALLOWSYNC_RUN_H */

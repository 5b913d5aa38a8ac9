/*
 * allowsync: read the configuration, run the chosen mode, report, and map
 * the result to an exit code.  This is the only file that knows about
 * sysexits.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "allowsync.h"

/*
 * A build whose tools report or write their data from exit handlers,
 * which exit_now() skips, returns from main: sanitizers (LeakSanitizer,
 * ThreadSanitizer), gcov and gprof.  The Makefile says so with
 * ALLOWSYNC_FULL_EXIT; the compilers' own sanitizer macros count too.
 */
#if defined(ALLOWSYNC_FULL_EXIT) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__)
#define FULL_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(leak_sanitizer)
#define FULL_EXIT 1
#endif
#endif

/* The one place results become exit codes (allowsync(8), EXIT STATUS). */
static int
exit_code(enum as_status st)
{
	switch (st) {
	case AS_OK:
		return EX_OK;
	case AS_EDRIFT:
	case AS_EDENIED:
		return 1;
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
	case AS_ECANTCREAT:
		return EX_CANTCREAT;
	case AS_ESOFTWARE:
		break;
	}
	return EX_SOFTWARE;
}

/*
 * Open /dev/null on any of descriptors 0 to 2 that is closed (a by-hand
 * `allowsync >&-`): the first files this run opens would take their
 * numbers, and the plan or a log line would be written into the lock, a
 * state file or the netlink socket.  Returns false, having said why on
 * descriptor 2 when that one is open, when it cannot.
 */
static bool
std_fds_open(void)
{
	int fd, e;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) == fd)
			continue;
		e = errno;
		if (fcntl(2, F_GETFD) != -1)
			dprintf(2, "allowsync: /dev/null for closed descriptor "
			    "%d: %s\n", fd, strerror(e));
		return false;
	}
	return true;
}

/*
 * The exit code with standard output flushed: a plan or a JSON object
 * that could not be written (a full disk, a reader that went away) fails
 * a run that was otherwise fine, as metrics that could not be written
 * do.  Said once, with the reason of the first failed flush.
 */
static int
stdout_flushed(int code)
{
	static bool said;
	int e;

	out_flush();
	if (!ferror(stdout) && out_error() == 0)
		return code;
	if (!said) {
		e = out_error();
		log_err("standard output: %s", e != 0 ? strerror(e) :
		    "write error");
		said = true;
	}
	return code == EX_OK ? EX_IOERR : code;
}

/*
 * The end of every run: its exit code, its metrics and its JSON object,
 * when the mode has them.  Every sync, restore or check, whatever its
 * end, leaves metrics, a config error too once the file's path is known;
 * every --json run prints an object, a config error's too.
 * Metrics that cannot be written fail a run that was otherwise fine:
 * monitoring would go stale without a word.
 */
static int
report(const struct config *cfg, struct run_report *rep, bool loaded,
    enum as_status st)
{
	bool other = !loaded || cfg->help || cfg->version ||
	    cfg->list_presets || cfg->status || cfg->uninstall ||
	    cfg->explain != NULL || cfg->is_configured;
	bool metrics = !other && cfg->metrics_file != NULL && !cfg->dry_run;
	enum as_status mst = AS_OK;
	int code;

	/* The plan, printed already, counts for the metrics' exit code. */
	rep->exit_code = stdout_flushed(exit_code(st));
	if (metrics && (mst = metrics_write(cfg, rep)) != AS_OK &&
	    rep->exit_code == EX_OK)
		rep->exit_code = exit_code(mst);
	/* --status and --explain --json say why there is no answer. */
	if (!cfg->json || !loaded || (other && st != AS_ECONFIG))
		return rep->exit_code;
	report_json(rep);
	/*
	 * The object carries the metrics' outcome, so they come first; when
	 * it is lost, they are written again to say 74 (metrics_write()
	 * keeps the last success it read the first time).
	 */
	code = stdout_flushed(rep->exit_code);
	if (code != rep->exit_code && metrics && mst == AS_OK) {
		rep->exit_code = code;
		(void)metrics_write(cfg, rep);
	}
	return code;
}

/* Run the mode the configuration chose; its status. */
static enum as_status
run_mode(const struct config *cfg, struct run_report *rep)
{
	enum as_status st;

	log_init(cfg->verbosity < 0 ? LOG_LVL_ERR :
	    cfg->verbosity == 0 ? LOG_LVL_NOTICE :
	    cfg->verbosity == 1 ? LOG_LVL_INFO : LOG_LVL_DEBUG);
	if (cfg->uninstall)
		return uninstall_run(cfg);
	if (cfg->is_configured) {
		st = cfg->nsections > 0 || cfg->src.nsources > 0 ? AS_OK :
		    AS_EDENIED;
		if (st != AS_OK)
			log_notice("not configured: %s names no source "
			    "(locale, domain, url or preset); nothing to do",
			    cfg->config_file);
		return st;
	}
	if (cfg->nsections == 0 && cfg->src.nsources == 0) {
		log_err("no source configured: choose one with --locale CC "
		    "(e.g. --locale pl), --domain DOMAIN or --url URL, or the "
		    "same keys in %s", cfg->config_file);
		rep->error = log_last_error();
		return AS_ECONFIG;
	}
	if (cfg->status)
		return status_run(cfg);
	if (cfg->explain != NULL)
		return explain_run(cfg);
	if (cfg->restore)
		st = restore_run(cfg, rep);
	else if (cfg->check)
		st = check_run(cfg, rep);
	else
		st = sync_run(cfg, rep);
	if (rep->planned && !cfg->json)
		report_text(rep);
	return st;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct run_report rep;
	enum as_status st;
	char error[512];
	bool loaded = false;
	int code;

	/*
	 * Big blocks (a list, a batch) come from mmap(2) and go back when
	 * freed.  glibc would raise this threshold (128 KiB, set here to
	 * keep it there) each time one is freed, and keep the next ones of
	 * up to 32 MiB on the heap, resident after their use: a
	 * million-entry sync then peaked 40 MiB higher.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 << 10);
	if (!std_fds_open())
		_exit(EX_OSERR);
	/* A reader that went away is a write error (EPIPE), not death. */
	signal(SIGPIPE, SIG_IGN);
	out_open();
	log_init(LOG_LVL_NOTICE);
	run_report_init(&rep, &cfg);
	rep.exit_of = exit_code;
	if ((st = config_load(argc, argv, &cfg)) != AS_OK) {
		/* --is-configured: the run itself is to fail, loudly. */
		if (cfg.is_configured && st == AS_ECONFIG) {
			st = AS_OK;
			goto done;
		}
		/* Monitoring sees a broken config, not silence. */
		if (st == AS_ECONFIG) {
			snprintf(error, sizeof(error), "%s", log_last_error());
			rep.error = error;
			config_rescue(argc, argv, &cfg);
			loaded = true;
		}
		goto done;
	}
	loaded = true;
	if (cfg.help) {
		config_usage(stdout);
		goto done;
	}
	if (cfg.version) {
		printf("allowsync %s\n", ALLOWSYNC_VERSION);
		goto done;
	}
	if (cfg.list_presets) {
		preset_list(stdout);
		goto done;
	}
	st = run_mode(&cfg, &rep);

 done:
	code = stdout_flushed(report(&cfg, &rep, loaded, st));
	run_report_free(&rep);
	config_free(&cfg);
#ifdef FULL_EXIT
	return code;
#else
	exit_now(code);
#endif
}

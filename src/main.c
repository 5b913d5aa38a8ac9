/*
 * allowsync: read the configuration, run the chosen mode, report, and map
 * the result to an exit code.  This is the only file that knows about
 * sysexits.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "allowsync.h"

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

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct run_report rep;
	enum as_status st;
	bool loaded = false;
	int code;

	log_init(LOG_LVL_NOTICE);
	run_report_init(&rep, &cfg);
	rep.exit_of = exit_code;
	if ((st = config_load(argc, argv, &cfg)) != AS_OK)
		goto done;
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
	log_init(cfg.verbosity < 0 ? LOG_LVL_ERR :
	    cfg.verbosity == 0 ? LOG_LVL_NOTICE :
	    cfg.verbosity == 1 ? LOG_LVL_INFO : LOG_LVL_DEBUG);
	if (cfg.uninstall) {
		st = uninstall_run(&cfg);
		goto done;
	}
	if (cfg.nsections == 0 && cfg.src.nsources == 0) {
		log_err("no source configured: choose one with --locale CC "
		    "(e.g. --locale pl), --domain DOMAIN or --url URL, or the "
		    "same keys in %s", cfg.config_file);
		st = AS_ECONFIG;
		goto done;
	}
	if (cfg.status) {
		st = status_run(&cfg);
		goto done;
	}
	if (cfg.explain != NULL) {
		st = explain_run(&cfg);
		goto done;
	}
	if (cfg.restore)
		st = restore_run(&cfg, &rep);
	else if (cfg.check)
		st = check_run(&cfg, &rep);
	else
		st = sync_run(&cfg, &rep);
	if (rep.planned && !cfg.json)
		report_text(&rep);

 done:
	code = exit_code(st);
	rep.exit_code = code;
	/*
	 * Every sync, restore or check, whatever its end, leaves metrics;
	 * a configuration that did not load cannot say where.
	 */
	if (loaded && cfg.metrics_file != NULL && !cfg.help && !cfg.version &&
	    !cfg.list_presets && !cfg.status && !cfg.dry_run &&
	    !cfg.uninstall && cfg.explain == NULL)
		metrics_write(&cfg, &rep);
	if (cfg.json && st != AS_EUSAGE && !cfg.help && !cfg.version &&
	    !cfg.list_presets && !cfg.status && !cfg.uninstall &&
	    cfg.explain == NULL)
		report_json(&rep);
	run_report_free(&rep);
	config_free(&cfg);
	return code;
}

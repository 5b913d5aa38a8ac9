/*
 * Metrics in the Prometheus textfile-collector format, written atomically
 * at the end of every run, success or failure, so node_exporter never
 * reads half a file.  The time of the last success survives a failed run:
 * it is read back from the previous file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"

#define LAST_SUCCESS	"allowsync_last_success_timestamp_seconds"

/* What fill_metrics() needs. */
struct metrics_arg {
	const struct run_report	*rep;
	time_t			 now;
	time_t			 last_success;
};

/* The last-success time recorded in an earlier file at path, or 0. */
static time_t
previous_success(const char *path)
{
	char line[256];
	long long t = 0;
	FILE *f;

	if ((f = safe_fopen_read(path)) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, LAST_SUCCESS " ", sizeof(LAST_SUCCESS)) == 0 &&
		    sscanf(line + sizeof(LAST_SUCCESS), "%lld", &t) == 1)
			break;
	fclose(f);
	return t > 0 ? (time_t)t : 0;
}

/* Print a label value with the escapes the exposition format needs. */
static void
print_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* HELP and TYPE lines of one metric. */
static void
header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP allowsync_%s %s\n# TYPE allowsync_%s %s\n", name,
	    help, name, type);
}

/* One sample per enabled family: value4 and value6. */
static void
per_family(FILE *f, const struct config *cfg, const char *name,
    size_t value4, size_t value6)
{
	if (cfg->src.set4[0] != '\0')
		fprintf(f, "allowsync_%s{family=\"ipv4\",set=\"%s\"} %zu\n",
		    name, cfg->src.set4, value4);
	if (cfg->src.set6[0] != '\0')
		fprintf(f, "allowsync_%s{family=\"ipv6\",set=\"%s\"} %zu\n",
		    name, cfg->src.set6, value6);
}

/* Print the whole file; returns <0 on a write error. */
static int
fill_metrics(FILE *f, const void *v)
{
	const struct metrics_arg *m = v;
	const struct run_report *r = m->rep;
	const struct config *cfg = r->cfg;
	const struct source_result *sr;
	size_t i;
	int form;

	header(f, "last_run_timestamp_seconds", "gauge",
	    "Time the last run ended.");
	fprintf(f, "allowsync_last_run_timestamp_seconds %lld\n",
	    (long long)m->now);
	header(f, "last_success_timestamp_seconds", "gauge",
	    "Time of the last run that exited 0.");
	fprintf(f, LAST_SUCCESS " %lld\n", (long long)m->last_success);
	header(f, "exit_code", "gauge", "Exit status of the last run.");
	fprintf(f, "allowsync_exit_code %d\n", r->exit_code);
	header(f, "set_ranges", "gauge",
	    "Ranges the last run wanted in each set.");
	per_family(f, cfg, "set_ranges", r->want.n4, r->want.n6);
	header(f, "additions", "gauge", "Ranges the last run added.");
	per_family(f, cfg, "additions", r->planned ? r->plan.add.n4 : 0,
	    r->planned ? r->plan.add.n6 : 0);
	header(f, "removals", "gauge", "Ranges the last run removed.");
	per_family(f, cfg, "removals", r->planned ? r->plan.del.n4 +
	    plan_odd_count(&r->plan, 4) : 0, r->planned ? r->plan.del.n6 +
	    plan_odd_count(&r->plan, 6) : 0);
	header(f, "removals_held", "gauge",
	    "Entries whose removal the shrink guard held back.");
	fprintf(f, "allowsync_removals_held %zu\n", r->held);
	header(f, "source_up", "gauge",
	    "1 when the source was refreshed (200 or 304) by the last run.");
	for (i = 0; i < r->nresults; i++) {
		sr = &r->results[i];
		fputs("allowsync_source_up{source=\"", f);
		print_label(f, sr->src->url);
		fprintf(f, "\"} %d\n", sr->status == AS_OK);
	}
	header(f, "source_rejected", "gauge",
	    "1 when the last run refused the document of that form (the "
	    "JSON form even when the text form was applied).");
	for (i = 0; i < r->nresults; i++) {
		sr = &r->results[i];
		for (form = 0; form < 2; form++) {
			if (form == 0 ? sr->src->text_only :
			    sr->src->url_txt == NULL)
				continue;
			fputs("allowsync_source_rejected{source=\"", f);
			print_label(f, sr->src->url);
			fprintf(f, "\",document=\"%s\"} %d\n",
			    form == 0 ? "json" : "text", sr->rejected[form]);
		}
	}
	header(f, "source_age_seconds", "gauge",
	    "Age of the list each source contributed (cached or fresh).");
	for (i = 0; i < r->nresults; i++) {
		sr = &r->results[i];
		if (sr->accepted == 0)
			continue;
		fputs("allowsync_source_age_seconds{source=\"", f);
		print_label(f, sr->src->url);
		fprintf(f, "\"} %lld\n", (long long)(m->now - sr->accepted));
	}
	header(f, "source_document", "gauge",
	    "The document each source's list came from (json or text).");
	for (i = 0; i < r->nresults; i++) {
		sr = &r->results[i];
		if (sr->document == NULL)
			continue;
		fputs("allowsync_source_document{source=\"", f);
		print_label(f, sr->src->url);
		fprintf(f, "\",document=\"%s\"} 1\n", sr->document);
	}
	return ferror(f) ? -1 : 0;
}

/*
 * Write the metrics of the run in rep to path.  Returns AS_OK or
 * AS_ESOFTWARE after logging; a failure never changes the exit code.
 */
enum as_status
metrics_write(const char *path, const struct run_report *rep)
{
	struct metrics_arg m;

	m.rep = rep;
	m.now = time(NULL);
	m.last_success = rep->exit_code == 0 ? m.now : previous_success(path);
	return atomic_write(path, fill_metrics, &m);
}

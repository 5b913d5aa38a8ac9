/*
 * Metrics in the Prometheus textfile-collector format.  Each mode that
 * changes or checks the sets (a sync, --restore, --check) has metrics of
 * its own; the block of its last run is kept in the state directory
 * (DIR/metrics-MODE.prom), and after every run of any of them, success
 * or failure, the metrics file is rewritten atomically from the blocks of
 * all three.  So a restore at boot never hides a sync that has failed for
 * days, and the time of the last successful sync is state, kept in the
 * sync's block.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowsync.h"

#define LAST_SUCCESS	"allowsync_last_success_timestamp_seconds"
#define MAX_BLOCK	(1024 * 1024)	/* bytes of one mode's block */

/* The modes with a block, in the order they appear in the file. */
enum metrics_mode {
	MODE_SYNC,
	MODE_RESTORE,
	MODE_CHECK,
	NMODES,
};
static const char *const mode_names[NMODES] = { "sync", "restore",
    "check" };

/* What fill_metrics() needs: each mode's block. */
struct metrics_arg {
	char	*block[NMODES];
	size_t	 len[NMODES];
};

/* The path of mode's block in the state directory, into buf. */
static const char *
block_path(const struct config *cfg, enum metrics_mode mode, char *buf,
    size_t bufsz)
{
	snprintf(buf, bufsz, "%s/metrics-%s.prom", cfg->state_dir,
	    mode_names[mode]);
	return buf;
}

/*
 * The saved block of mode, read into *block (malloc'ed, *len bytes);
 * nothing when there is none or it is unusable.
 */
static void
block_load(const struct config *cfg, enum metrics_mode mode, char **block,
    size_t *len)
{
	char path[PATH_MAX];
	FILE *f;

	*block = NULL;
	*len = 0;
	if ((f = safe_fopen_read(block_path(cfg, mode, path,
	    sizeof(path)))) == NULL)
		return;
	*block = xmalloc(MAX_BLOCK + 1);
	*len = fread(*block, 1, MAX_BLOCK + 1, f);
	if (ferror(f) || *len > MAX_BLOCK) {
		free(*block);
		*block = NULL;
		*len = 0;
	}
	fclose(f);
}

/* The last-success time in the metrics text block (len bytes), or 0. */
static time_t
success_in(char *block, size_t len)
{
	char *p;
	long long t = 0;

	block[len] = '\0';
	for (p = block; p != NULL; p = (p = strchr(p, '\n')) ? p + 1 : NULL)
		if (strncmp(p, LAST_SUCCESS " ", sizeof(LAST_SUCCESS)) == 0 &&
		    sscanf(p + sizeof(LAST_SUCCESS), "%lld", &t) == 1)
			break;
	return t > 0 ? (time_t)t : 0;
}

/*
 * The last-success time a version before the blocks kept in the metrics
 * file itself, or 0: read once, on the first run after an upgrade, when
 * the state directory has no sync block yet.
 */
static time_t
legacy_success(const struct config *cfg)
{
	char *buf;
	size_t len;
	time_t t = 0;
	FILE *f;

	if ((f = safe_fopen_read(cfg->metrics_file)) == NULL)
		return 0;
	buf = xmalloc(MAX_BLOCK + 1);
	len = fread(buf, 1, MAX_BLOCK, f);
	if (!ferror(f))
		t = success_in(buf, len);
	fclose(f);
	free(buf);
	return t;
}

/*
 * The last-success time in the saved sync block (*block, *len; NULL when
 * there is none), or else in a metrics file an older version wrote.
 */
static time_t
previous_success(const struct config *cfg, char *block, size_t len)
{
	return block != NULL ? success_in(block, len) : legacy_success(cfg);
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

/* What per_target() prints for a target and a family. */
enum target_value {
	TV_WANT,	/* ranges wanted */
	TV_ADD,		/* ranges added */
	TV_DEL,		/* ranges and other elements removed */
};

/* The value v of target rt in family af. */
static size_t
target_value(const struct run_target *rt, enum target_value v, int af)
{
	const struct plan *p = &rt->plan;

	switch (v) {
	case TV_WANT:
		return af == 4 ? rt->want.n4 : rt->want.n6;
	case TV_ADD:
		return !rt->planned ? 0 : af == 4 ? p->add.n4 : p->add.n6;
	case TV_DEL:
		return !rt->planned ? 0 : (af == 4 ? p->del.n4 : p->del.n6) +
		    plan_odd_count(p, af);
	}
	return 0;
}

/*
 * One sample per set of every target a selected section fills.  Without
 * sections the labels are family and set, as before sections; with them,
 * the table too, with its family ("inet filter", "ip filter").
 */
static void
per_target(FILE *f, const struct run_report *r, const char *name,
    enum target_value v)
{
	const struct run_target *rt;
	const char *set;
	size_t k;
	int af;

	for (k = 0; k < r->ntargets; k++) {
		rt = &r->targets[k];
		if (!rt->touched)
			continue;
		for (af = 4; af <= 6; af += 2) {
			if ((set = af == 4 ? rt->tgt.set4 : rt->tgt.set6)[0] ==
			    '\0')
				continue;
			fprintf(f, "allowsync_%s{family=\"ipv%d\"", name, af);
			if (r->cfg->nsections > 0) {
				fprintf(f, ",table=\"%s ", rt->tgt.family);
				print_label(f, rt->tgt.table);
				fputc('"', f);
			}
			fputs(",set=\"", f);
			print_label(f, set);
			fprintf(f, "\"} %zu\n", target_value(rt, v, af));
		}
	}
}

/* The labels of a source's samples: its section (if any) and URL. */
static void
source_labels(FILE *f, const struct run_section *sec,
    const struct source_result *sr)
{
	if (sec->so->name != NULL) {
		fputs("section=\"", f);
		print_label(f, sec->so->name);
		fputs("\",", f);
	}
	fputs("source=\"", f);
	print_label(f, sr->src->url);
	fputc('"', f);
}

/* The selected sections' sources, one by one: sec, sr for each. */
#define FOR_SOURCES(r, i, j, sec, sr)					\
	for ((i) = 0; (i) < (r)->nsections; (i)++)			\
		for ((sec) = &(r)->sections[i], (j) = 0;		\
		    (sec)->so->selected && (j) < (sec)->so->nsources &&	\
		    ((sr) = &(sec)->results[j]) != NULL; (j)++)

/* The per-source lines of a sync's block. */
static void
fill_sources(FILE *f, const struct run_report *r, time_t now)
{
	const struct run_section *sec;
	const struct source_result *sr;
	size_t i, j;
	int form;

	header(f, "source_up", "gauge",
	    "1 when the source was refreshed (200 or 304) by the last sync.");
	FOR_SOURCES(r, i, j, sec, sr) {
		fputs("allowsync_source_up{", f);
		source_labels(f, sec, sr);
		fprintf(f, "} %d\n", sr->status == AS_OK);
	}
	header(f, "source_rejected", "gauge",
	    "1 when the last sync refused the document of that form (the "
	    "JSON form even when the text form was applied).");
	FOR_SOURCES(r, i, j, sec, sr)
		for (form = 0; form < 2; form++) {
			if (form == 0 ? sr->src->text_only :
			    sr->src->url_txt == NULL)
				continue;
			fputs("allowsync_source_rejected{", f);
			source_labels(f, sec, sr);
			fprintf(f, ",document=\"%s\"} %d\n",
			    form == 0 ? "json" : "text", sr->rejected[form]);
		}
	header(f, "source_age_seconds", "gauge",
	    "Age of the list each source contributed (cached or fresh), at "
	    "the last sync.");
	FOR_SOURCES(r, i, j, sec, sr) {
		if (sr->accepted == 0)
			continue;
		fputs("allowsync_source_age_seconds{", f);
		source_labels(f, sec, sr);
		fprintf(f, "} %lld\n", (long long)(now - sr->accepted));
	}
	header(f, "entries_skipped", "gauge",
	    "Entries of the source's last accepted document the policy "
	    "skipped, by class.");
	FOR_SOURCES(r, i, j, sec, sr) {
		if (sr->accepted == 0)
			continue;
		for (form = 0; form < NCLASSES; form++) {
			fputs("allowsync_entries_skipped{", f);
			source_labels(f, sec, sr);
			fprintf(f, ",class=\"%s\"} %zu\n", class_name(form),
			    sr->val.skipped[form]);
		}
	}
	header(f, "source_document", "gauge",
	    "The document each source's list came from (json or text).");
	FOR_SOURCES(r, i, j, sec, sr) {
		if (sr->document == FORM_NONE)
			continue;
		fputs("allowsync_source_document{", f);
		source_labels(f, sec, sr);
		fprintf(f, ",document=\"%s\"} 1\n",
		    form_name(sr->document));
	}
}

/* The per-section lines of a sync's block, in a file with sections. */
static void
fill_sections(FILE *f, const struct run_report *r)
{
	const struct run_section *sec;
	size_t i;

	if (r->cfg->nsections == 0)
		return;
	header(f, "section_exit_code", "gauge",
	    "The exit status the last sync would have had for that section "
	    "alone.");
	for (i = 0; i < r->nsections; i++) {
		sec = &r->sections[i];
		if (!sec->so->selected)
			continue;
		fputs("allowsync_section_exit_code{section=\"", f);
		print_label(f, sec->so->name);
		fprintf(f, "\"} %d\n", r->exit_of != NULL ?
		    r->exit_of(sec->status) : 0);
	}
	header(f, "section_removals_held", "gauge",
	    "Entries of that section whose removal the shrink guard held "
	    "back.");
	for (i = 0; i < r->nsections; i++) {
		sec = &r->sections[i];
		if (!sec->so->selected)
			continue;
		fputs("allowsync_section_removals_held{section=\"", f);
		print_label(f, sec->so->name);
		fprintf(f, "\"} %zu\n", sec->held);
	}
}

/* Entries whose removal the shrink guard held back, in all sections. */
static size_t
held_total(const struct run_report *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nsections; i++)
		n += r->sections[i].held;
	return n;
}

/* A sync's block. */
static void
fill_sync(FILE *f, const struct run_report *r, time_t now,
    time_t last_success)
{
	header(f, "last_run_timestamp_seconds", "gauge",
	    "Time the last sync ended.");
	fprintf(f, "allowsync_last_run_timestamp_seconds %lld\n",
	    (long long)now);
	header(f, "last_success_timestamp_seconds", "gauge",
	    "Time of the last sync that exited 0.");
	fprintf(f, LAST_SUCCESS " %lld\n", (long long)last_success);
	header(f, "exit_code", "gauge", "Exit status of the last sync.");
	fprintf(f, "allowsync_exit_code %d\n", r->exit_code);
	header(f, "set_ranges", "gauge",
	    "Ranges the last sync wanted in each set.");
	per_target(f, r, "set_ranges", TV_WANT);
	header(f, "additions", "gauge", "Ranges the last sync added.");
	per_target(f, r, "additions", TV_ADD);
	header(f, "removals", "gauge", "Ranges the last sync removed.");
	per_target(f, r, "removals", TV_DEL);
	header(f, "removals_held", "gauge",
	    "Entries whose removal the shrink guard held back.");
	fprintf(f, "allowsync_removals_held %zu\n", held_total(r));
	fill_sources(f, r, now);
	fill_sections(f, r);
}

/* A restore's block. */
static void
fill_restore(FILE *f, const struct run_report *r, time_t now)
{
	header(f, "restore_timestamp_seconds", "gauge",
	    "Time the last --restore ended.");
	fprintf(f, "allowsync_restore_timestamp_seconds %lld\n",
	    (long long)now);
	header(f, "restore_exit_code", "gauge",
	    "Exit status of the last --restore.");
	fprintf(f, "allowsync_restore_exit_code %d\n", r->exit_code);
	header(f, "restore_additions", "gauge",
	    "Ranges the last --restore put back.");
	per_target(f, r, "restore_additions", TV_ADD);
}

/* True when the plan of some target changes something. */
static bool
drifted(const struct run_report *r)
{
	size_t k;

	for (k = 0; k < r->ntargets; k++)
		if (r->targets[k].planned && !plan_empty(&r->targets[k].plan))
			return true;
	return false;
}

/* A check's block. */
static void
fill_check(FILE *f, const struct run_report *r, time_t now)
{
	header(f, "last_check_timestamp_seconds", "gauge",
	    "Time the last --check ended.");
	fprintf(f, "allowsync_last_check_timestamp_seconds %lld\n",
	    (long long)now);
	header(f, "check_exit_code", "gauge",
	    "Exit status of the last --check.");
	fprintf(f, "allowsync_check_exit_code %d\n", r->exit_code);
	header(f, "drift", "gauge",
	    "1 when the last --check found the sets differ from the saved "
	    "lists.");
	fprintf(f, "allowsync_drift %d\n", drifted(r));
	header(f, "drift_missing_ranges", "gauge",
	    "Ranges of the saved lists the sets lacked at the last --check.");
	per_target(f, r, "drift_missing_ranges", TV_ADD);
	header(f, "drift_extra_ranges", "gauge",
	    "Elements the sets held beyond the saved lists at the last "
	    "--check.");
	per_target(f, r, "drift_extra_ranges", TV_DEL);
}

/* Print the blocks, in mode order; returns <0 on a write error. */
static int
fill_metrics(FILE *f, const void *v)
{
	const struct metrics_arg *m = v;
	int i;

	for (i = 0; i < NMODES; i++)
		if (m->block[i] != NULL)
			fwrite(m->block[i], 1, m->len[i], f);
	return ferror(f) ? -1 : 0;
}

/* fill() for atomic_write() of one block: the bytes in arg. */
static int
fill_block(FILE *f, const void *arg)
{
	const struct metrics_arg *m = arg;

	fwrite(m->block[0], 1, m->len[0], f);
	return ferror(f) ? -1 : 0;
}

/*
 * Render the block of this run (mode) into *block, *len: malloc'ed by
 * open_memstream(3).  last_success is the sync's, from before this run.
 */
static void
block_render(const struct run_report *rep, enum metrics_mode mode,
    time_t last_success, char **block, size_t *len)
{
	time_t now = time(NULL);
	FILE *f;

	if ((f = open_memstream(block, len)) == NULL) {
		log_err("out of memory");
		abort();
	}
	/* Only a run of every section is the last successful sync. */
	if (mode == MODE_SYNC)
		fill_sync(f, rep, now, rep->exit_code == 0 &&
		    rep->cfg->nonly == 0 ? now : last_success);
	else if (mode == MODE_RESTORE)
		fill_restore(f, rep, now);
	else
		fill_check(f, rep, now);
	if (fclose(f) != 0) {
		log_err("out of memory");
		abort();
	}
}

/* The length of the next line of text at p (end: one past the last). */
static size_t
line_len(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);
}

/* The length of the metric name at the start of a sample line. */
static size_t
name_len(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && p[i] != '{' && p[i] != ' ')
		i++;
	return i;
}

/* The length of a sample line's series: everything before the value. */
static size_t
series_len(const char *p, size_t n)
{
	while (n > 0 && p[n - 1] != ' ')
		n--;
	return n;
}

/* True when the lines grp[0..glen) hold a sample of series s (sl bytes). */
static bool
has_series(const char *grp, size_t glen, const char *s, size_t sl)
{
	const char *p, *end = grp + glen;
	size_t n;

	for (p = grp; p < end; p += n) {
		n = line_len(p, end);
		if (*p != '#' && series_len(p, n) == sl &&
		    memcmp(p, s, sl) == 0)
			return true;
	}
	return false;
}

/*
 * Print the samples of metric name (nl bytes) in old that the group
 * grp[0..glen) of the new block lacks.
 */
static void
carry(FILE *f, const char *old, size_t oldlen, const char *name, size_t nl,
    const char *grp, size_t glen)
{
	const char *p, *end = old + oldlen;
	size_t n;

	for (p = old; p < end; p += n) {
		n = line_len(p, end);
		if (*p == '#' || name_len(p, n) != nl ||
		    memcmp(p, name, nl) != 0 ||
		    has_series(grp, glen, p, series_len(p, n)))
			continue;
		fwrite(p, 1, n, f);
		if (p[n - 1] != '\n')
			fputc('\n', f);
	}
}

/*
 * A run of some sections only (--section): the series of this run's
 * block win, and every series of the last block (old) this run did not
 * write stays, in its metric's group, so the other sections and their
 * sets keep reporting what their last run found.  *block is replaced.
 */
static void
block_merge(char **block, size_t *len, const char *old, size_t oldlen)
{
	const char *p, *end = *block + *len, *grp = NULL, *name = NULL;
	char *out;
	size_t n, olen, nl = 0;
	FILE *f;

	if ((f = open_memstream(&out, &olen)) == NULL) {
		log_err("out of memory");
		abort();
	}
	for (p = *block; p <= end; p += n) {
		n = p < end ? line_len(p, end) : 0;
		if (p == end || strncmp(p, "# HELP ", 7) == 0) {
			if (name != NULL)
				carry(f, old, oldlen, name, nl, grp,
				    (size_t)(p - grp));
			if (p == end)
				break;
			name = p + 7;
			nl = name_len(name, n - 7);
			grp = p;
		}
		fwrite(p, 1, n, f);
	}
	if (fclose(f) != 0) {
		log_err("out of memory");
		abort();
	}
	free(*block);
	*block = out;
	*len = olen;
}

/*
 * A sync block that holds only the last success an older version kept
 * in the metrics file, so that a restore or check after an upgrade does
 * not drop it.  Into *block, *len (malloc'ed), or nothing.
 */
static void
legacy_block(time_t last_success, char **block, size_t *len)
{
	FILE *f;

	if (last_success == 0 || (f = open_memstream(block, len)) == NULL)
		return;
	header(f, "last_success_timestamp_seconds", "gauge",
	    "Time of the last sync that exited 0.");
	fprintf(f, LAST_SUCCESS " %lld\n", (long long)last_success);
	if (fclose(f) != 0) {
		log_err("out of memory");
		abort();
	}
}

/*
 * True when the metrics file is one of the blocks in the state directory:
 * it would take in its own lines at every run.
 */
static bool
file_is_block(const struct config *cfg)
{
	char dir[PATH_MAX], real_dir[PATH_MAX], real_state[PATH_MAX];
	const char *base;
	char *slash;
	int i;

	snprintf(dir, sizeof(dir), "%s", cfg->metrics_file);
	if ((slash = strrchr(dir, '/')) == NULL) {
		base = cfg->metrics_file;
		snprintf(dir, sizeof(dir), ".");
	} else {
		base = cfg->metrics_file + (slash - dir) + 1;
		slash[slash == dir] = '\0';
	}
	if (realpath(dir, real_dir) == NULL ||
	    realpath(cfg->state_dir, real_state) == NULL ||
	    strcmp(real_dir, real_state) != 0)
		return false;
	for (i = 0; i < NMODES; i++)
		if (strncmp(base, "metrics-", 8) == 0 &&
		    strncmp(base + 8, mode_names[i], strlen(mode_names[i])) ==
		    0 && strcmp(base + 8 + strlen(mode_names[i]), ".prom") == 0)
			return true;
	return false;
}

/*
 * See allowsync.h.  This run's block is saved in the state directory when
 * it can be written (a read-only one, say for a restore, keeps the old
 * block); the others come from there.
 */
enum as_status
metrics_write(const struct config *cfg, const struct run_report *rep)
{
	static time_t first_last;
	static bool have_last;
	struct metrics_arg m, one;
	struct run_report failed;
	enum metrics_mode mode = cfg->restore ? MODE_RESTORE :
	    cfg->check ? MODE_CHECK : MODE_SYNC;
	char path[PATH_MAX], *old;
	time_t last_success;
	enum as_status st;
	size_t oldlen;
	bool trusted;
	int i;

	memset(&m, 0, sizeof(m));
	if (file_is_block(cfg)) {
		log_err("metrics-file %s is one of the blocks allowsync keeps "
		    "in %s: choose another name", cfg->metrics_file,
		    cfg->state_dir);
		return AS_ECONFIG;
	}
	/* Blocks from a directory others may write would be theirs. */
	trusted = state_dir_trusted(cfg->state_dir);
	for (i = 0; trusted && i < NMODES; i++)
		block_load(cfg, (enum metrics_mode)i, &m.block[i],
		    &m.len[i]);
	/*
	 * A second write in a run (main.c's, when the --json object written
	 * after the first was lost) must not take the success that the
	 * first one recorded for the last one.
	 */
	if (!have_last) {
		first_last = previous_success(cfg, m.block[MODE_SYNC],
		    m.len[MODE_SYNC]);
		have_last = true;
	}
	last_success = first_last;
	old = m.block[mode];
	oldlen = m.len[mode];
	m.block[mode] = NULL;
	block_render(rep, mode, last_success, &m.block[mode], &m.len[mode]);
	if (cfg->nonly > 0 && old != NULL)
		block_merge(&m.block[mode], &m.len[mode], old, oldlen);
	if (m.block[MODE_SYNC] == NULL)
		legacy_block(last_success, &m.block[MODE_SYNC],
		    &m.len[MODE_SYNC]);
	st = atomic_write(cfg->metrics_file, fill_metrics, &m);
	/*
	 * A run that could not write them fails (exit 73): the block kept
	 * for the next run's file says so, with no new last success.
	 */
	if (st != AS_OK && rep->exit_code == 0 && rep->exit_of != NULL) {
		failed = *rep;
		failed.exit_code = rep->exit_of(st);
		free(m.block[mode]);
		m.block[mode] = NULL;
		block_render(&failed, mode, last_success, &m.block[mode],
		    &m.len[mode]);
		if (cfg->nonly > 0 && old != NULL)
			block_merge(&m.block[mode], &m.len[mode], old, oldlen);
	}
	free(old);
	if (trusted && m.block[mode] != NULL && faccessat(AT_FDCWD,
	    cfg->state_dir, W_OK, AT_EACCESS) == 0) {
		memset(&one, 0, sizeof(one));
		one.block[0] = m.block[mode];
		one.len[0] = m.len[mode];
		atomic_write(block_path(cfg, mode, path, sizeof(path)),
		    fill_block, &one);
	}
	for (i = 0; i < NMODES; i++)
		free(m.block[i]);
	return st;
}

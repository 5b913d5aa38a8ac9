/*
 * --explain ADDR: is this address allowed, and why or why not.  With no
 * network, from the saved state (each source's accepted entries and those
 * pending removal, and the static entries) and from the kernel, asked for
 * the one element that holds the address (a get, never a dump: instant on
 * a set of a million ranges).  Where the saved lists and the kernel
 * disagree it says so, and what to run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "allowsync.h"

#define MAX_EXPLAIN	8	/* entries named per source */

/* What the explanation found about one source. */
struct source_why {
	const struct source_opts *so;
	const struct source	*src;
	struct srcstate		 st;
	char			 listed[MAX_EXPLAIN][RANGE_STRLEN];
	size_t			 nlisted;
	unsigned int		 miss;		/* of a pending entry; 0 */
	char			 pending[RANGE_STRLEN];
	const char		*skip_why;	/* the policy would skip it */
	enum entry_class	 skip_class;
	bool			 skipped;	/* listed, and skipped */
};

/* What the explanation found about one target's set. */
struct set_why {
	const struct run_target	*rt;
	const char		*set;
	enum as_status		 st;		/* of reading it */
	struct nft_lookup	 lk;
	char			 range[RANGE_STRLEN];
};

/* The address, as a prefix of its full length, and its range. */
struct addr {
	struct prefix	p;
	struct range4	r4;
	struct range6	r6;
	char		text[RANGE_STRLEN];
};

/* True when entry range e (of the address's family) holds the address. */
static bool
covers4(const struct range4 *e, const struct addr *a)
{
	return e->first <= a->r4.first && a->r4.last <= e->last;
}

static bool
covers6(const struct range6 *e, const struct addr *a)
{
	return u128_cmp(e->first, a->r6.first) <= 0 &&
	    u128_cmp(a->r6.last, e->last) <= 0;
}

/*
 * True when an entry of class c that the attempt record names as skipped
 * (its summary: "2 private (10.0.12.0/24, FD00::1)") holds the address.
 * The record names the first few of each class only.
 */
static bool
skipped_covers(const char *summary, enum entry_class c, const struct addr *a)
{
	struct validation v;
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	const char *s, *why;
	size_t n;

	if (summary == NULL || c >= NCLASSES)
		return false;
	validation_from_summary(summary, &v);
	for (s = v.first[c]; *s != '\0'; s += n + (s[n] == ',' ? 2 : 0)) {
		n = strcspn(s, ",");
		if (prefix_parse(s, n, &p, &why) == -1 ||
		    p.family != a->p.family)
			continue;
		if (p.family == 4) {
			prefix_range4(&p, &r4);
			if (covers4(&r4, a))
				return true;
		} else {
			prefix_range6(&p, &r6);
			if (covers6(&r6, a))
				return true;
		}
	}
	return false;
}

/* Note entry r of source w (miss absences) if it holds the address. */
static void
source_entry(struct source_why *w, const struct addr *a, const void *r,
    unsigned int miss)
{
	char buf[RANGE_STRLEN];

	if (a->p.family == 4 ? !covers4(r, a) : !covers6(r, a))
		return;
	if (a->p.family == 4)
		range4_format(r, buf, sizeof(buf));
	else
		range6_format(r, buf, sizeof(buf));
	if (miss > 0) {
		w->miss = miss;
		snprintf(w->pending, sizeof(w->pending), "%s", buf);
	} else if (w->nlisted < MAX_EXPLAIN)
		snprintf(w->listed[w->nlisted++], RANGE_STRLEN, "%s", buf);
}

/* Load what source src of so saved, and find the address in it. */
static void
source_explain(const struct config *cfg, const struct source_opts *so,
    const struct source *src, const struct addr *a, struct source_why *w)
{
	static const char *const class_why[NCLASSES] = {
		[CLASS_PRIVATE] = "private address space",
		[CLASS_SPECIAL] = "special-purpose address space",
		[CLASS_WIDE] = "a prefix wider than the policy allows",
	};
	struct policy pol;
	const char *why;
	size_t i;
	int c;

	memset(w, 0, sizeof(*w));
	w->so = so;
	w->src = src;
	refresh_policy(so, src, &pol);
	state_load(cfg->state_dir, so->name, src->url, &pol, &w->st);
	for (i = 0; a->p.family == 4 && i < w->st.ent.n4; i++)
		source_entry(w, a, &w->st.ent.v4[i].r, w->st.ent.v4[i].miss);
	for (i = 0; a->p.family == 6 && i < w->st.ent.n6; i++)
		source_entry(w, a, &w->st.ent.v6[i].r, w->st.ent.v6[i].miss);
	w->skip_class = policy_classify(&pol, &a->p, &why);
	if (w->skip_class < NCLASSES &&
	    policy_decision(&pol, w->skip_class) == DEC_SKIP) {
		w->skip_why = why;
		w->skipped = skipped_covers(w->st.skipped, w->skip_class, a);
	}
	/* A wider entry of another class (a wide /7 over a private /8). */
	for (c = 0; !w->skipped && c < NCLASSES; c++)
		if (skipped_covers(w->st.skipped, c, a)) {
			w->skipped = true;
			w->skip_class = c;
			w->skip_why = class_why[c];
		}
}

/* The static entries of so that hold the address, into buf. */
static const char *
statics_explain(const struct config *cfg, const struct source_opts *so,
    const struct addr *a, char *buf, size_t bufsz)
{
	struct rangelist rl;
	size_t i, n = 0;

	buf[0] = '\0';
	rangelist_init(&rl);
	(void)run_statics(cfg, so, &rl, true);
	for (i = 0; a->p.family == 4 && i < rl.n4 && n < bufsz; i++)
		if (covers4(&rl.v4[i], a)) {
			n += (size_t)snprintf(buf + n, bufsz - n, "%s",
			    n ? ", " : "");
			n += range4_format(&rl.v4[i], buf + n, bufsz - n);
		}
	for (i = 0; a->p.family == 6 && i < rl.n6 && n < bufsz; i++)
		if (covers6(&rl.v6[i], a)) {
			n += (size_t)snprintf(buf + n, bufsz - n, "%s",
			    n ? ", " : "");
			n += range6_format(&rl.v6[i], buf + n, bufsz - n);
		}
	rangelist_free(&rl);
	return buf[0] != '\0' ? buf : NULL;
}

/* A kernel range first..last of family af, formatted into buf. */
static void
range_text(int af, struct u128 first, struct u128 last, char *buf,
    size_t bufsz)
{
	struct range4 r4 = { (uint32_t)first.lo, (uint32_t)last.lo };
	struct range6 r6 = { first, last };

	if (af == 4)
		range4_format(&r4, buf, bufsz);
	else
		range6_format(&r6, buf, bufsz);
}

/*
 * Ask the kernel, for each target with a set of the address's family,
 * whether that set holds it, into sw (*n of them).
 */
static enum as_status
kernel_explain(const struct run_report *rep, const struct addr *a,
    struct set_why *sw, size_t *n)
{
	const struct run_target *rt;
	struct nftset *ns;
	struct u128 key;
	enum as_status st;
	size_t k;

	*n = 0;
	if ((st = nftset_open(&ns)) != AS_OK)
		return st;
	key.hi = 0;
	key.lo = a->r4.first;
	if (a->p.family == 6)
		key = a->r6.first;
	for (k = 0; k < rep->ntargets; k++) {
		rt = &rep->targets[k];
		if (!rt->touched || (a->p.family == 4 ? rt->tgt.set4 :
		    rt->tgt.set6)[0] == '\0')
			continue;
		sw[*n].rt = rt;
		sw[*n].set = a->p.family == 4 ? rt->tgt.set4 : rt->tgt.set6;
		sw[*n].st = nftset_lookup(ns, &rt->tgt, a->p.family, key,
		    &sw[*n].lk);
		if (sw[*n].st == AS_OK && sw[*n].lk.holds)
			range_text(a->p.family, sw[*n].lk.first,
			    sw[*n].lk.last, sw[*n].range,
			    sizeof(sw[*n].range));
		if (sw[*n].lk.catchall)
			snprintf(sw[*n].range, sizeof(sw[*n].range), "*");
		(*n)++;
	}
	nftset_close(ns);
	return AS_OK;
}

/*
 * The one line to add where the saved lists and the kernel disagree, and
 * what to run; NULL where they agree.
 */
static const char *
explain_note(const struct set_why *sw, size_t nsw, bool saved, bool holds)
{
	size_t i;

	if (!saved && holds)
		return "a set holds it, but no saved list or static entry "
		    "does: the next sync removes it";
	if (!saved || holds)
		return NULL;
	for (i = 0; i < nsw; i++)
		if (sw[i].st == AS_OK && sw[i].lk.missing)
			return sw[i].rt->tgt.nports > 0 ? "the saved lists "
			    "allow it, but the guard table is gone: run "
			    "allowsync --restore" : "the saved lists allow it, "
			    "but its set does not exist: load the ruleset that "
			    "defines the set, then run allowsync --restore";
	return "the saved lists allow it, but no set holds it: run "
	    "allowsync --restore";
}

/* One source's line. */
static void
print_source(const struct source_why *w, time_t now)
{
	char t[32], age[32];
	size_t i;

	printf("  source %s%s%s%s: ", w->so->name ? "[" : "",
	    w->so->name ? w->so->name : "", w->so->name ? "] " : "",
	    w->src->name);
	if (!w->st.present)
		printf("no saved list");
	else if (w->nlisted > 0) {
		printf("listed as");
		for (i = 0; i < w->nlisted; i++)
			printf("%s %s", i ? "," : "", w->listed[i]);
		printf(", in the list accepted %s (%s ago)",
		    state_time(w->st.accepted, t, sizeof(t)),
		    age_text(now - w->st.accepted, age, sizeof(age)));
	} else if (w->miss > 0)
		printf("pending removal as %s: absent from the last %u "
		    "accepted lists (remove-after = %u)", w->pending, w->miss,
		    w->so->remove_after);
	else if (w->skipped)
		printf("listed by the vendor, skipped: %s (%s = skip)",
		    w->skip_why, class_name(w->skip_class));
	else
		printf("not listed");
	if (w->skip_why != NULL && w->nlisted == 0 && !w->skipped)
		printf("; if listed, skipped: %s", w->skip_why);
	printf("\n");
}

/* The whole answer as text; returns whether a set holds the address. */
static void
print_text(const struct addr *a, const struct source_why *w, size_t nw,
    const struct set_why *sw, size_t nsw, const char *statics,
    bool saved, bool holds)
{
	time_t now = time(NULL);
	const char *note;
	size_t i;

	printf("%s: %s\n", a->text, holds ? "allowed" : "not allowed");
	for (i = 0; i < nsw; i++) {
		printf("  set %s %s %s: ", sw[i].rt->tgt.family,
		    sw[i].rt->tgt.table, sw[i].set);
		if (sw[i].st != AS_OK)
			printf("cannot be read (%s)\n", log_last_error());
		else if (sw[i].lk.missing)
			printf("does not exist\n");
		else if (sw[i].lk.catchall)
			printf("holds it, through a catch-all element (*), "
			    "which matches every address\n");
		else if (sw[i].lk.holds)
			printf("holds it, in %s\n", sw[i].range);
		else
			printf("does not hold it\n");
	}
	for (i = 0; i < nw; i++)
		print_source(&w[i], now);
	if (statics != NULL)
		printf("  static: %s\n", statics);
	if ((note = explain_note(sw, nsw, saved, holds)) != NULL)
		printf("  note: %s\n", note);
}

/* The whole answer as one JSON object on stdout. */
static void
print_json(const struct addr *a, const struct source_why *w, size_t nw,
    const struct set_why *sw, size_t nsw, const char *statics,
    bool saved, bool holds)
{
	cJSON *root = cJSON_CreateObject(), *arr, *o, *l;
	const char *note;
	size_t i, j;

	cJSON_AddStringToObject(root, "address", a->text);
	cJSON_AddBoolToObject(root, "allowed", holds);
	cJSON_AddBoolToObject(root, "listed", saved);
	arr = cJSON_AddArrayToObject(root, "sets");
	for (i = 0; i < nsw; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "family", sw[i].rt->tgt.family);
		cJSON_AddStringToObject(o, "table", sw[i].rt->tgt.table);
		cJSON_AddStringToObject(o, "set", sw[i].set);
		if (sw[i].st != AS_OK || sw[i].lk.missing) {
			cJSON_AddNullToObject(o, "holds");
			cJSON_AddStringToObject(o, "error", sw[i].st != AS_OK ?
			    log_last_error() : "does not exist");
		} else
			cJSON_AddBoolToObject(o, "holds", sw[i].lk.holds);
		if (sw[i].lk.holds)
			cJSON_AddStringToObject(o, "range", sw[i].range);
		if (sw[i].lk.catchall)
			cJSON_AddTrueToObject(o, "catchall");
		cJSON_AddItemToArray(arr, o);
	}
	arr = cJSON_AddArrayToObject(root, "sources");
	for (i = 0; i < nw; i++) {
		o = cJSON_CreateObject();
		if (w[i].so->name != NULL)
			cJSON_AddStringToObject(o, "section", w[i].so->name);
		cJSON_AddStringToObject(o, "name", w[i].src->name);
		cJSON_AddStringToObject(o, "url", w[i].src->url);
		cJSON_AddBoolToObject(o, "saved", w[i].st.present);
		l = cJSON_AddArrayToObject(o, "listed");
		for (j = 0; j < w[i].nlisted; j++)
			cJSON_AddItemToArray(l,
			    cJSON_CreateString(w[i].listed[j]));
		if (w[i].st.present)
			cJSON_AddNumberToObject(o, "accepted",
			    (double)w[i].st.accepted);
		if (w[i].miss > 0) {
			cJSON_AddStringToObject(o, "pending", w[i].pending);
			cJSON_AddNumberToObject(o, "absent", w[i].miss);
		}
		if (w[i].skipped)
			cJSON_AddStringToObject(o, "skipped", w[i].skip_why);
		else if (w[i].skip_why != NULL)
			cJSON_AddStringToObject(o, "skipped_if_listed",
			    w[i].skip_why);
		cJSON_AddItemToArray(arr, o);
	}
	if (statics != NULL)
		cJSON_AddStringToObject(root, "static", statics);
	if ((note = explain_note(sw, nsw, saved, holds)) != NULL)
		cJSON_AddStringToObject(root, "note", note);
	json_print(root);
}

/* Parse the address of --explain into a; false after logging. */
static bool
addr_parse(const char *text, struct addr *a)
{
	const char *why = NULL;
	char esc[ESCAPE_BUF];

	memset(a, 0, sizeof(*a));
	if (prefix_parse(text, strlen(text), &a->p, &why) == -1 ||
	    a->p.len != (a->p.family == 4 ? 32U : 128U)) {
		/* Pasted from a webhook's logs: escaped like any input. */
		log_escape(text, strlen(text), esc, sizeof(esc));
		log_err("--explain: \"%s\" is not an IPv4 or IPv6 address%s%s",
		    esc, why != NULL ? ": " : "", why != NULL ? why : "");
		return false;
	}
	if (a->p.family == 4) {
		prefix_range4(&a->p, &a->r4);
		range4_format(&a->r4, a->text, sizeof(a->text));
	} else {
		prefix_range6(&a->p, &a->r6);
		range6_format(&a->r6, a->text, sizeof(a->text));
	}
	return true;
}

/* See allowsync.h. */
enum as_status
explain_run(const struct config *cfg)
{
	struct source_why *w = NULL;
	struct set_why sw[MAX_SECTIONS];
	struct run_report rep;
	const struct source_opts *so;
	char statics[1024] = "", one[512];
	struct addr a;
	size_t i, j, nw = 0, nsw = 0, n = 0;
	bool saved = false, holds = false;
	enum as_status st;

	if (!addr_parse(cfg->explain, &a))
		return AS_EUSAGE;
	if ((st = state_dir_check(cfg->state_dir)) != AS_OK)
		return st;
	run_report_init(&rep, cfg);
	if ((st = run_layout(cfg, &rep)) != AS_OK)
		goto out;
	for (i = 0; i < rep.nsections; i++)
		n += rep.sections[i].so->nsources;
	w = xcalloc(n + 1, sizeof(*w));
	n = 0;
	for (i = 0; i < rep.nsections; i++) {
		so = rep.sections[i].so;
		if (!so->selected)
			continue;
		for (j = 0; j < so->nsources; j++) {
			source_explain(cfg, so, &so->sources[j], &a, &w[nw]);
			saved |= w[nw].nlisted > 0 || w[nw].miss > 0;
			nw++;
		}
		if (statics_explain(cfg, so, &a, one, sizeof(one)) != NULL &&
		    n < sizeof(statics)) {
			n += (size_t)snprintf(statics + n, sizeof(statics) - n,
			    "%s%s", n ? ", " : "", one);
			saved = true;
		}
	}
	if ((st = kernel_explain(&rep, &a, sw, &nsw)) != AS_OK)
		goto out;
	for (i = 0; i < nsw; i++)
		holds |= sw[i].st == AS_OK && sw[i].lk.holds;
	if (cfg->json)
		print_json(&a, w, nw, sw, nsw, n ? statics : NULL, saved,
		    holds);
	else
		print_text(&a, w, nw, sw, nsw, n ? statics : NULL, saved,
		    holds);
	/* Not known to be allowed is not "not allowed": say why not. */
	st = holds ? AS_OK : AS_EDENIED;
	for (i = 0; !holds && i < nsw; i++)
		if (sw[i].st != AS_OK) {
			st = sw[i].st;
			break;
		}
 out:
	for (i = 0; i < nw; i++)
		srcstate_free(&w[i].st);
	free(w);
	run_report_free(&rep);
	out_flush();
	return st;
}

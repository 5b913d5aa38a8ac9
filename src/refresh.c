/*
 * Refresh one source: fetch its forms in turn, parse and validate the
 * first that answers, and age its entries into the state to save; or
 * let its cached list stand in when none is accepted.  Everything here
 * is about one source of one section, under that section's keys.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"
#include "textfast.h"

/* What fetch_forms() got. */
struct fetched {
	int			 form;		/* forms[form] was accepted */
	enum form		 parsed;	/* as what it was parsed */
	char			 reader[17];	/* of that form */
	bool			 not_modified;	/* it answered 304 */
	struct rangelist	 doc;		/* its entries, sorted */
	struct fetch_result	 fr;		/* its validators */
	char			 err[2048];	/* why the worst failure */
	char			 json_err[2048];	/* why JSON was not */
	struct policy		 pol;		/* the source's */
	struct validation	 val;		/* of the last document */
};

/*
 * Fetch, parse and validate the document at url into f->doc (sorted,
 * unique entries) under f->pol.  f->parsed says how to parse it
 * (FORM_NONE: as its first byte says) and then how it was parsed.  With
 * cond the request is conditional; a 304 sets f->not_modified and leaves
 * the list empty.  Returns AS_OK, AS_ETEMPFAIL (could not fetch) or
 * AS_EDATA (fetched but rejected); f->val.refused tells a document that
 * parsed but holds an entry the grammar or the policy refuses from one
 * that could not be parsed at all.
 */
static enum as_status
load_document(const struct source_opts *so, const char *url,
    const struct fetch_cond *cond, struct fetched *f)
{
	struct entrylist el;
	enum as_status st;

	f->not_modified = false;
	memset(&f->val, 0, sizeof(f->val));
	if ((st = fetch_document(url, &so->fetch, cond, &f->fr)) != AS_OK)
		return st == AS_ECONFIG ? AS_ETEMPFAIL : st;
	if (f->fr.status == 304) {
		f->not_modified = true;
		return AS_OK;
	}
	if (f->parsed == FORM_NONE)
		f->parsed = parse_sniff(f->fr.body, f->fr.len);
	/* A big plain list: the same ranges, without the entry list. */
	if (f->parsed == FORM_TEXT &&
	    text_ranges(f->fr.body, f->fr.len, &f->pol, &f->doc)) {
		rangelist_unique(&f->doc);
		return AS_OK;
	}
	if (f->parsed == FORM_JSON)
		st = parse_json(f->fr.body, f->fr.len, url, &so->paths, &el);
	else
		st = parse_text(f->fr.body, f->fr.len, url, &el);
	if (st != AS_OK)
		return st;
	/* The text form's entries point into f->fr.body: free them first. */
	st = validate_entries(&el, url, &f->pol, &f->doc, &f->val);
	entrylist_free(&el);
	rangelist_unique(&f->doc);
	return st;
}

/* Replace *dst with a copy of src (or NULL). */
static void
set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src != NULL ? xstrdup(src) : NULL;
}

/* See allowsync.h. */
void
refresh_policy(const struct source_opts *so, const struct source *src,
    struct policy *pol)
{
	*pol = so->policy;
	if (src->private_skip)
		pol->decide[CLASS_PRIVATE] = DEC_SKIP;
}

/* See allowsync.h. */
void
refresh_reader(const struct source_opts *so, const struct source *src,
    int i, char *buf, size_t bufsz)
{
	struct policy p;
	char text[MAX_URL_LEN + MAX_PATH_TEXT + 128];
	char paths[MAX_PATH_TEXT + 1];

	refresh_policy(so, src, &p);
	jpaths_format(&so->paths, paths, sizeof(paths));
	snprintf(text, sizeof(text), "%s|%d|%d|%s|%u|%u|%d%d%d|%zu|%d|%d|%d",
	    i == 0 ? src->url : src->url_txt, i, src->sniff, i == 0 ? paths :
	    "", p.min_prefix4, p.min_prefix6, p.decide[CLASS_PRIVATE],
	    p.decide[CLASS_SPECIAL], p.decide[CLASS_WIDE], p.max_entries,
	    p.lenient, p.want4, p.want6);
	snprintf(buf, bufsz, "%016llx",
	    (unsigned long long)fnv1a(text, FNV1A_INIT));
}

/*
 * The validators of old that a request for the form read by reader
 * carries: old's own, when old was read that way.
 */
static void
cond_of(const struct srcstate *old, const char *reader,
    struct fetch_cond *cond)
{
	memset(cond, 0, sizeof(*cond));
	if (old->present && old->reader != NULL &&
	    strcmp(old->reader, reader) == 0) {
		cond->etag = old->etag;
		cond->last_modified = old->last_modified;
	}
}

/* The forms of a source, in the order they are tried (index i). */
static const enum form forms[2] = { FORM_JSON, FORM_TEXT };


/*
 * Fetch, parse and validate the forms of src in turn (the JSON form, then
 * the text form) until one is accepted, into *f.  old is the source's
 * saved state, whose validators make the request for its own form
 * conditional.  Marks in res each form whose document was refused.
 * Returns AS_OK, or the worst failure: AS_EDATA (a document refused)
 * outranks AS_ETEMPFAIL (none could be fetched).
 */
static enum as_status
fetch_forms(const struct source_opts *so, const struct source *src,
    const struct srcstate *old, struct source_result *res,
    struct fetched *f)
{
	const char *urls[2] = { src->text_only ? NULL : src->url,
	    src->url_txt };
	struct fetch_cond cond;
	enum as_status st = AS_ETEMPFAIL, st1;

	for (f->form = 0; f->form < 2; f->form++) {
		if (urls[f->form] == NULL)
			continue;
		if (f->form == 1 && urls[0] != NULL)
			log_warnx("%s: JSON form failed, trying the text form "
			    "%s", src->name, urls[1]);
		/*
		 * Validators only fit the form they came with, read as they
		 * were: a 304 re-accepts the list as it was kept.
		 */
		refresh_reader(so, src, f->form, f->reader, sizeof(f->reader));
		cond_of(old, f->reader, &cond);
		rangelist_free(&f->doc);
		f->parsed = f->form == 1 ? FORM_TEXT : src->sniff ? FORM_NONE :
		    FORM_JSON;
		st1 = load_document(so, urls[f->form], &cond, f);
		if (st1 == AS_OK)
			return AS_OK;
		/*
		 * A JSON form that parsed but broke the grammar or the policy
		 * is not a format problem: it is reported even when the text
		 * form is applied.
		 */
		if (f->form == 0 && f->val.refused)
			snprintf(f->json_err, sizeof(f->json_err), "%s",
			    log_last_error());
		res->rejected[f->form] = st1 == AS_EDATA &&
		    (f->val.refused || f->form == 1 || urls[1] == NULL);
		/* The error reported is the one of the worst failure. */
		if (st1 == AS_EDATA || st != AS_EDATA) {
			st = st1;
			snprintf(f->err, sizeof(f->err), "%s",
			    log_last_error());
		}
		fetch_result_free(&f->fr);
	}
	return st;
}

/* strcmp(3) that takes NULLs: true when both are NULL or equal. */
static bool
same_str(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/*
 * True when the state cur would save differs from old's file in its
 * times alone (a 304 with no entry waiting out remove-after): the file
 * need not be written again (srcstate.reaccepted).
 */
static bool
only_times_moved(const struct srcstate *old, const struct srcstate *cur)
{
	return old->present && !old->legacy && !old->unusable &&
	    old->document == cur->document &&
	    entryset_pending(&old->ent) == 0 &&
	    entryset_count(&old->ent) == entryset_count(&cur->ent) &&
	    same_str(old->etag, cur->etag) &&
	    same_str(old->last_modified, cur->last_modified) &&
	    same_str(old->reader, cur->reader) &&
	    same_str(old->skipped, cur->skipped);
}

/*
 * The form f->form of the source was accepted at now: age the entries of
 * old into cur with it (a 304 re-accepts the cached document as it was),
 * keep its validators, and say so in res.
 */
static void
accept_document(const struct source_opts *so, const struct srcstate *old,
    struct srcstate *cur, struct source_result *res, struct fetched *f,
    time_t now)
{
	bool nm = f->not_modified;
	/* A 304 is the document the reader read last time: as it was. */
	enum form parsed = f->parsed != FORM_NONE ? f->parsed : nm &&
	    old->document != FORM_NONE ? old->document : forms[f->form];

	char skipped[NCLASSES * sizeof(f->val.first[0]) + 64];

	res->document = parsed;
	res->not_modified = nm;
	res->accepted = now;
	/* A 304 is the document as it was: skipped as it was too. */
	if (!nm) {
		res->val = f->val;
		set_str(&cur->skipped, validation_summary(&f->val, skipped,
		    sizeof(skipped)));
	} else {
		set_str(&cur->skipped, old->skipped);
		validation_from_summary(old->skipped, &res->val);
		validation_warn(res->src->name, &res->val);
	}
	if (f->json_err[0] != '\0') {
		set_str(&res->json_rejected, f->json_err);
		set_str(&cur->json_rejected, f->json_err);
	}
	cur->document = parsed;
	/* A 304 re-accepts the cached document as it was. */
	guard_age(&old->ent, nm ? NULL : &f->doc, so->remove_after,
	    &cur->ent);
	set_str(&cur->reader, f->reader);
	set_str(&cur->etag, f->fr.etag != NULL || !nm ? f->fr.etag :
	    old->etag);
	set_str(&cur->last_modified, f->fr.last_modified != NULL || !nm ?
	    f->fr.last_modified : old->last_modified);
	cur->fetched = cur->accepted = now;
	cur->result = nm ? RESULT_NOT_MODIFIED : RESULT_OK;
	cur->present = true;
	if (nm && only_times_moved(old, cur))
		cur->reaccepted = now;
	log_info("%s: %s form %s, %zu entries", res->src->name,
	    form_name(parsed), nm ? "not modified" : "accepted",
	    entryset_count(&cur->ent));
}

/*
 * The source failed this run: its last accepted list, whatever its age,
 * stands in for it (copied from old into cur), with a warning, and one
 * more once it is older than stale-warn.
 */
static void
stand_on_cache(const struct source_opts *so, const struct srcstate *old,
    struct srcstate *cur, struct source_result *res, time_t now)
{
	char age[32];

	entryset_copy(&cur->ent, &old->ent);
	cur->document = old->document;
	set_str(&cur->etag, old->etag);
	set_str(&cur->last_modified, old->last_modified);
	set_str(&cur->reader, old->reader);
	set_str(&cur->skipped, old->skipped);
	validation_from_summary(old->skipped, &res->val);
	cur->fetched = old->fetched;
	cur->accepted = old->accepted;
	/* The file stays as it is: so does a 304's later time. */
	cur->reaccepted = old->reaccepted;
	cur->present = true;
	res->cached = true;
	res->document = old->document;
	res->accepted = old->accepted;
	age_text(now - old->accepted, age, sizeof(age));
	log_warnx("%s: using the cached list accepted %s ago", res->src->name,
	    age);
	if (now - old->accepted > (time_t)so->stale_warn * 86400)
		log_warnx("%s: the cached list is older than stale-warn (%u "
		    "days)", res->src->name, so->stale_warn);
}

/*
 * True when a 304 got with the validators of hint (for the form read by
 * reader) is one that old's would have got too: the same were sent.
 */
static bool
same_cond(const struct srcstate *hint, const struct srcstate *old,
    const char *reader)
{
	struct fetch_cond a, b;

	cond_of(hint, reader, &a);
	cond_of(old, reader, &b);
	return same_str(a.etag, b.etag) &&
	    same_str(a.last_modified, b.last_modified);
}

/* See run.h. */
void
refresh_source(const struct source_opts *so, const struct source *src,
    const struct saved *sv, struct srcstate *cur, struct source_result *res,
    time_t now)
{
	const struct srcstate *old = sv->old;
	struct fetched f;
	enum as_status st;

	memset(&f, 0, sizeof(f));
	rangelist_init(&f.doc);
	refresh_policy(so, src, &f.pol);
	memset(cur, 0, sizeof(*cur));
	cur->section = so->name;
	entryset_init(&cur->ent);
	cur->url = xstrdup(src->url);
	cur->attempt = now;
	res->status = st = fetch_forms(so, src, sv->hint != NULL ? sv->hint :
	    old, res, &f);
	if (sv->wait != NULL)
		sv->wait(sv->arg);
	/*
	 * A 304 to the guessed validators stands only if the saved state,
	 * now read whole, has them too; else (it was corrupt, or saved
	 * another way) the source is asked again with the right ones.
	 */
	if (st == AS_OK && f.not_modified && sv->hint != NULL &&
	    !same_cond(sv->hint, old, f.reader)) {
		log_warnx("%s: the saved state was not what its head said: "
		    "fetching again", src->name);
		fetch_result_free(&f.fr);
		f.err[0] = f.json_err[0] = '\0';
		res->rejected[0] = res->rejected[1] = false;
		res->status = st = fetch_forms(so, src, old, res, &f);
	}
	if (st == AS_OK)
		accept_document(so, old, cur, res, &f, now);
	else {
		res->error = xstrdup(f.err);
		set_str(&cur->error, f.err);
		cur->result = st == AS_EDATA ? RESULT_REJECTED : RESULT_FAILED;
		if (old->present)
			stand_on_cache(so, old, cur, res, now);
	}
	res->entries = entryset_count(&cur->ent);
	fetch_result_free(&f.fr);
	rangelist_free(&f.doc);
}


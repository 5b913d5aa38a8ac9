/*
 * The json-path language: which strings of a JSON document are the list.
 *
 *	paths	:= path ("," path)*
 *	path	:= name? bracket* ("." name bracket*)*
 *	bracket	:= "[]" | "[" name "=" value "]"
 *
 * "key" and "key.sub" walk objects, "key[]" takes every element of an
 * array and "key[field=value]" the elements whose string member field is
 * exactly value.  A path may start with a bracket, which applies to a
 * top-level array.  Names are printable ASCII without spaces or any of
 * . [ ] = , " \; values may not hold ] or , either.  Compiling is pure;
 * selecting (jpaths_select) reports a shape error through the logger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "allowsync.h"

/* True for the bytes a name may hold. */
static int
name_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr(".[]=,\"\\", c) == NULL;
}

/* True for the bytes a [field=value] value may hold. */
static int
value_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != ']' && c != ',';
}

/* The length of the run of bytes at s that ok() accepts, stopping at end. */
static size_t
span(const char *s, const char *end, int (*ok)(unsigned char))
{
	const char *p = s;

	while (p < end && ok((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

/* Append a step to p, or return why not. */
static const char *
step_add(struct jpath *p, enum jstep_kind kind, const char *name, size_t nl,
    const char *value, size_t vl)
{
	struct jstep *s;

	if (p->nsteps == MAX_PATH_STEPS)
		return "path has too many steps";
	s = &p->steps[p->nsteps++];
	s->kind = kind;
	s->name = name != NULL ? xstrndup(name, nl) : NULL;
	s->value = value != NULL ? xstrndup(value, vl) : NULL;
	return NULL;
}

/* Compile the bracket at *sp (just after its '['), or return why not. */
static const char *
bracket_compile(struct jpath *p, const char **sp, const char *end)
{
	const char *s = *sp, *v;
	size_t nl, vl;

	if (s < end && *s == ']') {
		*sp = s + 1;
		return step_add(p, JSTEP_ALL, NULL, 0, NULL, 0);
	}
	if ((nl = span(s, end, name_byte)) == 0)
		return "expected ] or field=value after [";
	if (s + nl == end || s[nl] != '=')
		return "expected = after the field name in [field=value]";
	v = s + nl + 1;
	if ((vl = span(v, end, value_byte)) == 0)
		return "empty value in [field=value]";
	if (v + vl == end || v[vl] != ']')
		return "expected ] after the value in [field=value]";
	*sp = v + vl + 1;
	return step_add(p, JSTEP_MATCH, s, nl, v, vl);
}

/* Compile the one path text s[0..end) into p, or return why not. */
static const char *
path_compile(const char *s, const char *end, struct jpath *p)
{
	const char *why;
	size_t nl;
	bool first = true;

	p->text = xstrndup(s, (size_t)(end - s));
	for (;;) {
		nl = span(s, end, name_byte);
		if (nl == 0 && (!first || s == end || *s != '['))
			return s == end ? "empty path (or a path ending in .)" :
			    "a name may not hold spaces or any of . [ ] = , "
			    "\" \\";
		if (nl > 0 && (why = step_add(p, JSTEP_KEY, s, nl, NULL, 0)))
			return why;
		s += nl;
		while (s < end && *s == '[') {
			s++;
			if ((why = bracket_compile(p, &s, end)) != NULL)
				return why;
		}
		if (s == end)
			return NULL;
		if (*s != '.')
			return "a name may not hold spaces or any of . [ ] = , "
			    "\" \\";
		s++;
		first = false;
	}
}

/* See allowsync.h. */
const char *
jpaths_compile(const char *text, struct jpaths *out)
{
	const char *s = text, *c, *e, *why;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (strlen(text) > MAX_PATH_TEXT)
		return "longer than 512 bytes";
	for (;;) {
		c = strchr(s, ',');
		e = c != NULL ? c : s + strlen(s);
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (out->n == MAX_JSON_PATHS)
			return "too many paths";
		if ((why = path_compile(s, e, &out->v[out->n++])) != NULL)
			return why;
		for (i = 0; i + 1 < out->n; i++)
			if (strcmp(out->v[i].text, out->v[out->n - 1].text) ==
			    0)
				return "a path is given twice";
		if (c == NULL)
			return NULL;
		s = c + 1;
	}
}

/* See allowsync.h. */
void
jpaths_free(struct jpaths *ps)
{
	size_t i, j;

	for (i = 0; i < ps->n; i++) {
		for (j = 0; j < ps->v[i].nsteps; j++) {
			free(ps->v[i].steps[j].name);
			free(ps->v[i].steps[j].value);
		}
		free(ps->v[i].text);
	}
	memset(ps, 0, sizeof(*ps));
}

/* See allowsync.h. */
void
jpaths_format(const struct jpaths *ps, char *buf, size_t bufsz)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < ps->n && n < bufsz; i++)
		n += (size_t)snprintf(buf + n, bufsz - n, "%s%s",
		    i ? "," : "", ps->v[i].text);
}

/* See allowsync.h. */
void
jpaths_copy(struct jpaths *dst, const struct jpaths *src)
{
	size_t i, j;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->n; i++) {
		dst->v[i] = src->v[i];
		dst->v[i].text = xstrdup(src->v[i].text);
		for (j = 0; j < src->v[i].nsteps; j++) {
			struct jstep *d = &dst->v[i].steps[j];

			d->name = d->name != NULL ? xstrdup(d->name) : NULL;
			d->value = d->value != NULL ? xstrdup(d->value) : NULL;
		}
	}
	dst->n = src->n;
}

/* A walk of one path over a document. */
struct walk {
	const struct jpath	*path;
	const char		*src;		/* for messages */
	struct jselection	*sel;
	char			 loc[MAX_PATH_LOC];	/* where we are */
};

/* Log that the walk failed at its location, and return -1. */
static int
walk_fail(const struct walk *w, const char *what)
{
	char ep[ESCAPE_BUF];

	log_escape(w->path->text, strlen(w->path->text), ep, sizeof(ep));
	log_err("%s: JSON path \"%s\": %s %s", w->src, ep,
	    w->loc[0] != '\0' ? w->loc : "the top level", what);
	return -1;
}

/*
 * The member of object obj named name, or NULL.  Sets *dup when it is
 * there more than once: cJSON would quietly pick the first.
 */
static const cJSON *
member(const cJSON *obj, const char *name, bool *dup)
{
	const cJSON *it, *found = NULL;

	*dup = false;
	for (it = obj->child; it != NULL; it = it->next)
		if (it->string != NULL && strcmp(it->string, name) == 0) {
			if (found != NULL)
				*dup = true;
			found = it;
		}
	return found;
}

/* Take the string node into the selection, at the walk's location. */
static int
select_leaf(struct walk *w, const cJSON *node)
{
	struct jselection *sel = w->sel;
	size_t l = strlen(w->loc) + 1;

	if (!cJSON_IsString(node) || node->valuestring == NULL)
		return walk_fail(w, "is not a string");
	if (sel->n == sel->cap) {
		sel->cap = sel->cap ? sel->cap * 2 : 64;
		sel->v = xreallocarray(sel->v, sel->cap, sizeof(*sel->v));
	}
	if (sel->locn + l > sel->loccap) {
		sel->loccap = (sel->locn + l) * 2;
		sel->locs = xreallocarray(sel->locs, sel->loccap, 1);
	}
	memcpy(sel->locs + sel->locn, w->loc, l);
	sel->v[sel->n].node = node;
	sel->v[sel->n].loc = sel->locn;
	sel->n++;
	sel->locn += l;
	return 0;
}

static int walk_step(struct walk *, const cJSON *, size_t);

/* Walk into the i-th element of an array, then on from step k. */
static int
walk_element(struct walk *w, const cJSON *el, size_t i, size_t k)
{
	size_t l = strlen(w->loc);
	int rc;

	if (snprintf(w->loc + l, sizeof(w->loc) - l, "[%zu]", i) >=
	    (int)(sizeof(w->loc) - l))
		return walk_fail(w, "is nested too deeply");
	rc = walk_step(w, el, k);
	w->loc[l] = '\0';
	return rc;
}

/* Step [field=value]: does array element el match? */
static int
element_matches(struct walk *w, const cJSON *el, const struct jstep *s,
    size_t i, bool *match)
{
	const cJSON *f;
	bool dup;

	*match = false;
	if (!cJSON_IsObject(el)) {
		size_t l = strlen(w->loc);

		snprintf(w->loc + l, sizeof(w->loc) - l, "[%zu]", i);
		return walk_fail(w, "is not an object");
	}
	f = member(el, s->name, &dup);
	if (dup) {
		size_t l = strlen(w->loc);

		snprintf(w->loc + l, sizeof(w->loc) - l, "[%zu]", i);
		return walk_fail(w, "has the match field more than once");
	}
	*match = f != NULL && cJSON_IsString(f) && f->valuestring != NULL &&
	    strcmp(f->valuestring, s->value) == 0;
	return 0;
}

/* Step through an array: every element, or those that match. */
static int
walk_array(struct walk *w, const cJSON *node, size_t k)
{
	const struct jstep *s = &w->path->steps[k];
	const cJSON *el;
	size_t i = 0;
	bool match = true;

	if (!cJSON_IsArray(node))
		return walk_fail(w, "is not an array");
	cJSON_ArrayForEach(el, node) {
		if (s->kind == JSTEP_MATCH &&
		    element_matches(w, el, s, i, &match) < 0)
			return -1;
		if (match && walk_element(w, el, i, k + 1) < 0)
			return -1;
		i++;
	}
	return 0;
}

/* Walk node from step k of the path on. */
static int
walk_step(struct walk *w, const cJSON *node, size_t k)
{
	const struct jstep *s;
	const cJSON *child;
	char what[MAX_PATH_TEXT + 64];
	size_t l;
	bool dup;
	int rc;

	if (k == w->path->nsteps)
		return select_leaf(w, node);
	s = &w->path->steps[k];
	if (s->kind != JSTEP_KEY)
		return walk_array(w, node, k);
	if (!cJSON_IsObject(node))
		return walk_fail(w, "is not an object");
	child = member(node, s->name, &dup);
	l = strlen(w->loc);
	if (snprintf(w->loc + l, sizeof(w->loc) - l, "%s%s", l ? "." : "",
	    s->name) >= (int)(sizeof(w->loc) - l))
		return walk_fail(w, "is nested too deeply");
	if (child == NULL || dup) {
		w->loc[l] = '\0';
		snprintf(what, sizeof(what), "has %s \"%s\"%s",
		    child == NULL ? "no key" : "the key", s->name,
		    child == NULL ? "" : " more than once");
		return walk_fail(w, what);
	}
	rc = walk_step(w, child, k + 1);
	w->loc[l] = '\0';
	return rc;
}

/* See allowsync.h. */
enum as_status
jpaths_select(const cJSON *root, const struct jpaths *ps, const char *src,
    struct jselection *sel)
{
	struct walk w;
	size_t i, before;
	char ep[ESCAPE_BUF];

	memset(sel, 0, sizeof(*sel));
	for (i = 0; i < ps->n; i++) {
		memset(&w, 0, sizeof(w));
		w.path = &ps->v[i];
		w.src = src;
		w.sel = sel;
		before = sel->n;
		if (walk_step(&w, root, 0) < 0)
			goto fail;
		if (sel->n == before) {
			log_escape(w.path->text, strlen(w.path->text), ep,
			    sizeof(ep));
			log_err("%s: JSON path \"%s\" selects nothing", src,
			    ep);
			goto fail;
		}
	}
	return AS_OK;
fail:
	jselection_free(sel);
	return AS_EDATA;
}

/* See allowsync.h. */
void
jselection_free(struct jselection *sel)
{
	free(sel->v);
	free(sel->locs);
	memset(sel, 0, sizeof(*sel));
}

/*
 * Parse a fetched document into raw entries.  The JSON form is parsed
 * strictly with cJSON; the text form by hand.  Neither looks at what an
 * entry says: that is validate.c's job.  No I/O apart from logging.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "allowsync.h"
#include "textfast.h"

static const char *const form_names[] = { NULL, "json", "text" };

/* See allowsync.h. */
const char *
form_name(enum form f)
{
	return f == FORM_JSON || f == FORM_TEXT ? form_names[f] : NULL;
}

/* See allowsync.h. */
bool
form_parse(const char *s, enum form *f)
{
	if (strcmp(s, "json") == 0)
		*f = FORM_JSON;
	else if (strcmp(s, "text") == 0)
		*f = FORM_TEXT;
	else
		return false;
	return true;
}

/* Append one entry; text must outlive list (see struct entry). */
static void
entrylist_push(struct entrylist *list, const char *text, size_t len,
    size_t where, const char *loc)
{
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 64;
		list->v = xreallocarray(list->v, list->cap, sizeof(*list->v));
	}
	list->v[list->n].text = text;
	list->v[list->n].len = len;
	list->v[list->n].where = where;
	list->v[list->n].loc = loc;
	list->n++;
}

/* Free everything a parse_* call put into list and zero it. */
void
entrylist_free(struct entrylist *list)
{
	free(list->v);
	free(list->buf);
	free(list->locs);
	memset(list, 0, sizeof(*list));
}

/*
 * True when a string of the (already valid) JSON text doc holds the escape
 * \u0000.  cJSON keeps strings NUL-terminated, so it would silently cut
 * "1.2.3.4\u0000..." down to "1.2.3.4".
 */
static int
json_has_nul_escape(const char *doc, size_t len)
{
	size_t i = 0;
	int instr = 0;

	while (i < len) {
		if (doc[i] == '"')
			instr = !instr;
		else if (instr && doc[i] == '\\') {
			if (len - i >= 6 &&
			    memcmp(doc + i + 1, "u0000", 5) == 0)
				return 1;
			i++;
		}
		i++;
	}
	return 0;
}

/*
 * Parse doc with cJSON into *root, refusing a NUL byte, an escaped NUL and
 * trailing bytes.  Returns AS_OK or AS_EDATA after logging why.
 */
static enum as_status
json_load(const char *doc, size_t len, const char *src, cJSON **root)
{
	const char *end = NULL;

	*root = NULL;
	if (len == 0) {
		log_err("%s: empty document", src);
		return AS_EDATA;
	}
	if (memchr(doc, '\0', len) != NULL) {
		log_err("%s: document contains a NUL byte", src);
		return AS_EDATA;
	}
	if ((*root = cJSON_ParseWithLengthOpts(doc, len, &end, 0)) == NULL) {
		log_err("%s: not valid JSON (error near byte %zu)", src,
		    end != NULL && end >= doc ? (size_t)(end - doc) :
		    (size_t)0);
		return AS_EDATA;
	}
	for (; end != NULL && end < doc + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
			break;
	if (end != NULL && end < doc + len) {
		log_err("%s: trailing data after JSON at byte %zu", src,
		    (size_t)(end - doc));
		return AS_EDATA;
	}
	if (json_has_nul_escape(doc, len)) {
		log_err("%s: JSON string holds an escaped NUL (\\u0000)", src);
		return AS_EDATA;
	}
	return AS_OK;
}

/*
 * See allowsync.h.  The whole document is rejected on any shape error
 * (jsonpath.c) or any of json_load()'s.  Other keys are ignored, whatever
 * their type.
 */
enum as_status
parse_json(const char *doc, size_t len, const char *src,
    const struct jpaths *paths, struct entrylist *out)
{
	cJSON *root = NULL;
	struct jselection sel;
	const char *v;
	size_t i, off = 0, total = 0, slen;
	enum as_status rc;

	memset(out, 0, sizeof(*out));
	memset(&sel, 0, sizeof(sel));
	if ((rc = json_load(doc, len, src, &root)) != AS_OK ||
	    (rc = jpaths_select(root, paths, src, &sel)) != AS_OK)
		goto out;
	for (i = 0; i < sel.n; i++)
		total += strlen(sel.v[i].node->valuestring);
	out->buf = xmalloc(total + 1);
	out->locs = sel.locs;
	sel.locs = NULL;
	for (i = 0; i < sel.n; i++) {
		v = sel.v[i].node->valuestring;
		slen = strlen(v);
		memcpy(out->buf + off, v, slen);
		entrylist_push(out, out->buf + off, slen, 0,
		    out->locs + sel.v[i].loc);
		off += slen;
	}
out:
	jselection_free(&sel);
	cJSON_Delete(root);
	return rc;
}

/* See allowsync.h. */
enum form
parse_sniff(const char *doc, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(doc, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\r' ||
	    doc[i] == '\n'))
		i++;
	return i < len && (doc[i] == '{' || doc[i] == '[') ? FORM_JSON :
	    FORM_TEXT;
}

/* True for the bytes trimmed around an entry. */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * True when line p[0..n) holds only printable ASCII and tabs, as almost
 * every line does: one test a byte.  Otherwise logs why not, naming the
 * first byte at fault, and returns false.
 */
static bool
line_clean(const char *p, size_t n, const char *src, size_t lineno)
{
	const unsigned char *c = (const unsigned char *)p, *e = c + n;

	for (; c < e; c++) {
		/* Below 0x20 or above 0x7e wraps to 0x5f or more. */
		if ((unsigned char)(*c - 0x20) < 0x5f && *c != '<')
			continue;
		if (*c == '\t')
			continue;
		if (*c == '\0')
			log_err("%s: line %zu: NUL byte", src, lineno);
		else if (*c >= 0x80)
			log_err("%s: line %zu: non-ASCII byte", src, lineno);
		else if (*c == '<')
			log_err("%s: line %zu: looks like HTML, not an address "
			    "list (captive portal or error page?)", src,
			    lineno);
		else
			log_err("%s: line %zu: control character 0x%02x", src,
			    lineno, *c);
		return false;
	}
	return true;
}

/*
 * See allowsync.h.  One entry per line.  Allowed and ignored: spaces and
 * tabs around an entry, CRLF line ends, blank lines, '#' comments (a whole
 * line, or after an entry), a UTF-8 BOM and a missing final newline.
 * Rejected: NUL bytes, other control characters, non-ASCII bytes, lines
 * over MAX_TEXT_LINE bytes and anything that looks like HTML.
 */
enum as_status
parse_text(const char *doc, size_t len, const char *src,
    struct entrylist *out)
{
	const char *p = doc, *end = doc + len, *eol, *s, *e, *c;
	size_t lineno = 0, llen;
	enum as_status rc = AS_EDATA;
	bool plain, hash;

	memset(out, 0, sizeof(*out));
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	plain = text_plain(p, (size_t)(end - p), &hash);

	for (; p < end; p = eol + 1) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		llen = (size_t)(eol - p);
		if (!plain && llen > 0 && p[llen - 1] == '\r')
			llen--;
		if (!plain && !line_clean(p, llen, src, lineno))
			goto out;
		if (llen > MAX_TEXT_LINE) {
			log_err("%s: line %zu: longer than %d bytes", src,
			    lineno, MAX_TEXT_LINE);
			goto out;
		}
		s = p;
		e = p + llen;
		if (hash && (c = memchr(s, '#', llen)) != NULL)
			e = c;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e)
			continue;
		entrylist_push(out, s, (size_t)(e - s), lineno, NULL);
		if (eol == end)
			break;
	}
	if (out->n == 0) {
		log_err("%s: document holds no entries", src);
		goto out;
	}
	rc = AS_OK;
out:
	if (rc != AS_OK)
		entrylist_free(out);
	return rc;
}

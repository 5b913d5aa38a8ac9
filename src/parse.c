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

/* Append one entry; text must point into list->buf. */
static void
entrylist_push(struct entrylist *list, const char *text, size_t len,
    size_t where, const char *key)
{
	if (list->n == list->cap) {
		list->cap = list->cap ? list->cap * 2 : 64;
		list->v = xreallocarray(list->v, list->cap, sizeof(*list->v));
	}
	list->v[list->n].text = text;
	list->v[list->n].len = len;
	list->v[list->n].where = where;
	list->v[list->n].key = key;
	list->n++;
}

/* Free everything a parse_* call put into list and zero it. */
void
entrylist_free(struct entrylist *list)
{
	size_t i;

	free(list->v);
	free(list->buf);
	for (i = 0; i < list->nkeys; i++)
		free(list->keys[i]);
	free(list->keys);
	memset(list, 0, sizeof(*list));
}

/* Count the members of object obj whose name is exactly key. */
static size_t
json_count_key(const cJSON *obj, const char *key)
{
	const cJSON *it;
	size_t n = 0;

	for (it = obj->child; it != NULL; it = it->next)
		if (it->string != NULL && strcmp(it->string, key) == 0)
			n++;
	return n;
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
 * Check one array named key of the document and return the total length
 * of its strings, or -1 after logging why the shape is wrong.
 */
static long long
json_check_array(const cJSON *root, const char *key, const char *src)
{
	const cJSON *arr, *it;
	char ek[ESCAPE_BUF];
	long long total = 0;
	size_t i = 0, n;

	log_escape(key, strlen(key), ek, sizeof(ek));
	if ((n = json_count_key(root, key)) == 0) {
		log_err("%s: JSON has no key \"%s\"", src, ek);
		return -1;
	}
	if (n > 1) {
		log_err("%s: JSON has key \"%s\" more than once", src, ek);
		return -1;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, key);
	if (!cJSON_IsArray(arr)) {
		log_err("%s: JSON \"%s\" is not an array", src, ek);
		return -1;
	}
	cJSON_ArrayForEach(it, arr) {
		if (!cJSON_IsString(it) || it->valuestring == NULL) {
			log_err("%s: JSON %s[%zu] is not a string", src, ek, i);
			return -1;
		}
		total += (long long)strlen(it->valuestring);
		i++;
	}
	return total;
}

/*
 * See allowsync.h.  The whole document is rejected on any shape error: a
 * top level other than an object, a key missing, duplicated or not an
 * array, an element that is not a string, an escaped NUL in any string,
 * or trailing bytes.  Keys are matched case-sensitively; other keys are
 * ignored.
 */
enum as_status
parse_json(const char *doc, size_t len, const char *src, char *const *keys,
    size_t nkeys, struct entrylist *out)
{
	cJSON *root = NULL;
	const cJSON *arr, *it;
	const char *end = NULL;
	long long total = 0, t;
	size_t i, idx, off = 0, slen;
	enum as_status rc = AS_EDATA;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		log_err("%s: empty document", src);
		return AS_EDATA;
	}
	if (memchr(doc, '\0', len) != NULL) {
		log_err("%s: document contains a NUL byte", src);
		return AS_EDATA;
	}
	root = cJSON_ParseWithLengthOpts(doc, len, &end, 0);
	if (root == NULL) {
		log_err("%s: not valid JSON (error near byte %zu)", src,
		    end != NULL && end >= doc ? (size_t)(end - doc) :
		    (size_t)0);
		goto out;
	}
	for (; end != NULL && end < doc + len; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')
			break;
	if (end != NULL && end < doc + len) {
		log_err("%s: trailing data after JSON at byte %zu", src,
		    (size_t)(end - doc));
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		log_err("%s: JSON top level is not an object", src);
		goto out;
	}
	if (json_has_nul_escape(doc, len)) {
		log_err("%s: JSON string holds an escaped NUL (\\u0000)", src);
		goto out;
	}
	for (i = 0; i < nkeys; i++) {
		if ((t = json_check_array(root, keys[i], src)) < 0)
			goto out;
		total += t;
	}

	out->buf = xmalloc((size_t)total + 1);
	out->keys = xcalloc(nkeys, sizeof(*out->keys));
	for (i = 0; i < nkeys; i++) {
		out->keys[out->nkeys++] = xstrdup(keys[i]);
		arr = cJSON_GetObjectItemCaseSensitive(root, keys[i]);
		idx = 0;
		cJSON_ArrayForEach(it, arr) {
			slen = strlen(it->valuestring);
			memcpy(out->buf + off, it->valuestring, slen);
			entrylist_push(out, out->buf + off, slen, idx++,
			    out->keys[i]);
			off += slen;
		}
	}
	rc = AS_OK;
out:
	cJSON_Delete(root);
	if (rc != AS_OK)
		entrylist_free(out);
	return rc;
}

/* True for the bytes trimmed around an entry. */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
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
	const char *p, *end, *eol, *s, *e, *c;
	size_t lineno = 0, llen;
	enum as_status rc = AS_EDATA;

	memset(out, 0, sizeof(*out));
	out->buf = xmalloc(len + 1);
	memcpy(out->buf, doc, len);
	p = out->buf;
	end = out->buf + len;
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;

	for (; p < end; p = eol + 1) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		llen = (size_t)(eol - p);
		if (llen > 0 && p[llen - 1] == '\r')
			llen--;
		for (c = p; c < p + llen; c++) {
			unsigned char u = (unsigned char)*c;

			if (u == '\0') {
				log_err("%s: line %zu: NUL byte", src, lineno);
				goto out;
			}
			if (u >= 0x80) {
				log_err("%s: line %zu: non-ASCII byte", src,
				    lineno);
				goto out;
			}
			if (u == '<') {
				log_err("%s: line %zu: looks like HTML, not an "
				    "address list (captive portal or error "
				    "page?)", src, lineno);
				goto out;
			}
			if (u < 0x20 && u != '\t') {
				log_err("%s: line %zu: control character "
				    "0x%02x", src, lineno, u);
				goto out;
			}
			if (u == 0x7f) {
				log_err("%s: line %zu: control character "
				    "0x7f", src, lineno);
				goto out;
			}
		}
		if (llen > MAX_TEXT_LINE) {
			log_err("%s: line %zu: longer than %d bytes", src,
			    lineno, MAX_TEXT_LINE);
			goto out;
		}
		s = p;
		e = p + llen;
		if ((c = memchr(s, '#', llen)) != NULL)
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

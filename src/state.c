/*
 * The files of the state directory: the last accepted list of every
 * source with its metadata, the record of its last attempt and the kernel
 * record (the include file is include.c's; the directory itself, its lock
 * and its temporaries are statedir.c's).  Every file is written whole to
 * a temporary file in the same directory, fsync'ed and renamed into
 * place, and then the directory is fsync'ed, so a crash at any moment
 * leaves the old file or the new one, never a torn one.  A file that does
 * not parse is ignored with one warning and never applied.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allowsync.h"

#define STATE_VERSION	1
#define MAX_STATE_LINE	(MAX_URL_LEN + 64)	/* longest line written */
#define MAX_RECORD_SIZE	(64 * 1024)	/* attempt or kernel record, bytes */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71		/* Linux 5.14; newer than the headers */
#endif

static const char *const result_names[] = { NULL, "ok", "not-modified",
    "failed", "rejected" };

/* See allowsync.h. */
const char *
result_name(enum attempt_result r)
{
	return r > RESULT_NONE && r <= RESULT_REJECTED ? result_names[r] :
	    NULL;
}

/* See allowsync.h. */
bool
result_parse(const char *s, enum attempt_result *r)
{
	int i;

	for (i = RESULT_OK; i <= RESULT_REJECTED; i++)
		if (strcmp(s, result_names[i]) == 0) {
			*r = (enum attempt_result)i;
			return true;
		}
	return false;
}

/* Free what a srcstate owns and zero it. */
void
srcstate_free(struct srcstate *st)
{
	free(st->url);
	free(st->etag);
	free(st->last_modified);
	free(st->reader);
	free(st->error);
	free(st->json_rejected);
	free(st->skipped);
	entryset_free(&st->ent);
	memset(st, 0, sizeof(*st));
	entryset_init(&st->ent);
}

/* See allowsync.h. */
const char *
state_time(time_t t, char *buf, size_t bufsz)
{
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, bufsz, "-");
	return buf;
}

/* Why safe_fopen_read() failed with e, in words. */
static const char *
open_error(int e)
{
	switch (e) {
	case ELOOP:
		return "is a symbolic link";
	case EINVAL:
		return "not a regular file";
	case EFBIG:
		return "larger than any list this policy accepts";
	default:
		return strerror(e);
	}
}

/* Parse a state_time() string; returns 0 or -1. */
static int
parse_time(const char *s, time_t *t)
{
	struct tm tm;
	const char *end;

	if (strcmp(s, "-") == 0) {
		*t = 0;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return -1;
	*t = timegm(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}

/*
 * The path of the state file (suffix "state" or "attempt") for url in
 * section (NULL: a file without sections, whose files keep the name they
 * had before sections existed).
 */
static void
state_path(const char *dir, const char *section, const char *url,
    const char *suffix, char *buf, size_t bufsz)
{
	uint64_t h = FNV1A_INIT;

	if (section != NULL) {
		h = fnv1a("[", h);
		h = fnv1a(section, h);
		h = fnv1a("]", h);
	}
	snprintf(buf, bufsz, "%s/source-%016llx.%s", dir,
	    (unsigned long long)fnv1a(url, h), suffix);
}

/*
 * After the file of a section's source at path could not be opened with
 * err: the path of the file the source had before the config had
 * sections, when that is the one to try (the section's own file does not
 * exist yet).  False when there is none to try.
 */
static bool
state_path_before_sections(int err, const char *dir, const char *section,
    const char *url, char *path, size_t pathsz)
{
	if (err != ENOENT || section == NULL)
		return false;
	state_path(dir, NULL, url, "state", path, pathsz);
	return true;
}

/*
 * Print one entry line: "entry R" for a document entry, "pending R MISS"
 * for one pending removal.  r is range4 or range6 by af.  Made in place
 * in ob: a million of them are most of a big state file.
 */
static void
print_entry(struct outbuf *ob, int af, const void *r, unsigned int miss)
{
	char *p = outbuf_room(ob, RANGE_STRLEN + 32);

	if (miss > 0) {
		memcpy(p, "pending ", 8);
		p += 8;
	} else {
		memcpy(p, "entry ", 6);
		p += 6;
	}
	p += af == 4 ? range4_format(r, p, RANGE_STRLEN) :
	    range6_format(r, p, RANGE_STRLEN);
	if (miss > 0)
		p += snprintf(p, 16, " %u", miss);
	*p++ = '\n';
	outbuf_done(ob, p);
}

/*
 * Print a source state file; returns <0 on a write error.  Entries come
 * in the entry set's order, so document and pending lines interleave.
 */
static int
fill_state(FILE *f, const void *arg)
{
	const struct srcstate *st = arg;
	const struct entryset *es = &st->ent;
	struct outbuf *ob;
	char t1[32], t2[32];
	size_t i, npending = entryset_pending(es);

	fprintf(f, "# allowsync source state; written by allowsync, see "
	    "formats.md\n"
	    "version %d\nurl %s\ndocument %s\netag %s\nlast-modified %s\n"
	    "reader %s\nfetched %s\naccepted %s\n",
	    STATE_VERSION, st->url, st->document != FORM_NONE ?
	    form_name(st->document) : "-",
	    st->etag ? st->etag : "-",
	    st->last_modified ? st->last_modified : "-",
	    st->reader ? st->reader : "-",
	    state_time(st->fetched, t1, sizeof(t1)),
	    state_time(st->accepted, t2, sizeof(t2)));
	ob = outbuf_new(f);
	for (i = 0; i < es->n4; i++)
		print_entry(ob, 4, &es->v4[i].r, es->v4[i].miss);
	for (i = 0; i < es->n6; i++)
		print_entry(ob, 6, &es->v6[i].r, es->v6[i].miss);
	outbuf_free(ob);
	return fprintf(f, "end %zu %zu\n", entryset_count(es) - npending,
	    npending);
}

/* See allowsync.h. */
enum as_status
state_save(const char *dir, const struct srcstate *st)
{
	char path[PATH_MAX];

	state_path(dir, st->section, st->url, "state", path, sizeof(path));
	return atomic_write(path, fill_state, st);
}

/* See allowsync.h. */
void
state_stage(const char *dir, const struct srcstate *st, struct staged *sf)
{
	char path[PATH_MAX];

	state_path(dir, st->section, st->url, "state", path, sizeof(path));
	atomic_stage(path, fill_state, st, sf);
}

/*
 * A file of "key value" lines being read, whole, from memory: a state
 * file of a million entries is one read, not a million fgets() calls.
 * The source state file, the attempt record and the kernel record all go
 * through kv_next(); each reader has a table of its key names, and seen
 * tells which it has read.
 */
struct kvfile {
	char		*buf;		/* the file, NUL-terminated */
	size_t		 len;
	size_t		 pos;		/* of the next line */
	size_t		 lineno;	/* of the last line read */
	uint32_t	 seen;		/* keys read, one bit by index */
};

/*
 * Read path for kv_next() with safe_fopen_read(), which refuses links,
 * and only when it holds at most max bytes: a huge (or sparse) file
 * planted in the directory must not stall a restore at boot.  Returns
 * false with errno set (EFBIG for a file too big).
 */
static bool
kv_open(struct kvfile *kv, const char *path, off_t max)
{
	struct stat sb;
	size_t n;
	FILE *f;
	int e;

	memset(kv, 0, sizeof(*kv));
	if ((f = safe_fopen_read(path)) == NULL)
		return false;
	if (fstat(fileno(f), &sb) == -1 || sb.st_size > max) {
		fclose(f);
		errno = EFBIG;
		return false;
	}
	/* One byte more than it said: a file that grew is too big too. */
	if ((kv->buf = malloc((size_t)sb.st_size + 2)) == NULL) {
		fclose(f);
		errno = ENOMEM;
		return false;
	}
	n = fread(kv->buf, 1, (size_t)sb.st_size + 1, f);
	e = ferror(f) ? EIO : n > (size_t)sb.st_size ? EFBIG : 0;
	fclose(f);
	if (e != 0) {
		free(kv->buf);
		kv->buf = NULL;
		errno = e;
		return false;
	}
	kv->buf[n] = '\0';
	kv->len = n;
	return true;
}

/* Free what kv_open() read. */
static void
kv_close(struct kvfile *kv)
{
	free(kv->buf);
	kv->buf = NULL;
}

/*
 * The most a state file for pol may hold: a line of at most 128 bytes
 * for each entry of a document and of 31 more documents' worth of
 * pending entries, and the header.
 */
static off_t
state_size_max(const struct policy *pol)
{
	return (off_t)MAX_RECORD_SIZE + (off_t)pol->max_entries * 32 * 128;
}

/*
 * Read the next line of kv that is not a "#" comment and split it at its
 * first space.  Returns 1 with *k the index of its key in keys (nkeys
 * names, at most 32; -1 for another key) and *val the rest of the line,
 * 0 at the end of the file, or -1 with *why set: a line longer than
 * MAX_STATE_LINE or without its newline (a truncated file), a line
 * without a space, or a read error.
 */
static int
kv_next(struct kvfile *kv, const char *const *keys, int nkeys, int *k,
    char **val, const char **why)
{
	char *line, *nl, *sp;
	size_t len;

	do {
		if (kv->pos >= kv->len)
			return 0;
		line = kv->buf + kv->pos;
		kv->lineno++;
		nl = memchr(line, '\n', kv->len - kv->pos);
		len = nl != NULL ? (size_t)(nl - line) : kv->len - kv->pos;
		/* As fgets() into a line buffer saw it: a NUL cuts it. */
		if (nl == NULL || len > MAX_STATE_LINE ||
		    memchr(line, '\0', len) != NULL) {
			*why = "line too long or unterminated";
			return -1;
		}
		*nl = '\0';
		kv->pos += len + 1;
	} while (line[0] == '#');
	if ((sp = memchr(line, ' ', len)) == NULL) {
		*why = "expected \"key value\"";
		return -1;
	}
	*sp = '\0';
	*val = sp + 1;
	for (*k = 0; *k < nkeys; (*k)++)
		if (strcmp(line, keys[*k]) == 0)
			return 1;
	*k = -1;
	return 1;
}

/* Note that key k was read; returns false when it had been read before. */
static bool
kv_first(struct kvfile *kv, int k)
{
	uint32_t bit = 1U << k;
	bool first = (kv->seen & bit) == 0;

	kv->seen |= bit;
	return first;
}

/*
 * Parse s as a number in base 10 or 16 of at most max: digits only, no
 * sign, space or prefix.  Returns 0 or -1.
 */
static int
parse_number(const char *s, int base, unsigned long long max,
    unsigned long long *n)
{
	const char *digits = base == 16 ? "0123456789abcdefABCDEF" :
	    "0123456789";
	char *end;

	if (*s == '\0' || s[strspn(s, digits)] != '\0')
		return -1;
	errno = 0;
	*n = strtoull(s, &end, base);
	return errno != 0 || *end != '\0' || *n > max ? -1 : 0;
}

/*
 * Keep the first value of a string key: a value read later for the same
 * key is ignored, never leaked.
 */
static void
set_once(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = xstrdup(v);
}

/* set_once() of a state file value, where "-" stands for none. */
static void
set_value(char **dst, const char *v)
{
	if (strcmp(v, "-") != 0)
		set_once(dst, v);
}

/*
 * Copy v into the buffer dst of size dstsz.  Returns false when it does
 * not fit.
 */
static bool
copy_value(char *dst, size_t dstsz, const char *v)
{
	size_t n = strlen(v);

	if (n >= dstsz)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

/* The keys of a source state file; kv_next() tries the commonest first. */
enum {
	SK_ENTRY, SK_PENDING, SK_VERSION, SK_URL, SK_DOCUMENT, SK_ETAG,
	SK_LAST_MODIFIED, SK_READER, SK_FETCHED, SK_ACCEPTED, SK_END, SK_NKEYS
};

static const char *const state_keys[SK_NKEYS] = {
	[SK_VERSION] = "version",	[SK_URL] = "url",
	[SK_DOCUMENT] = "document",	[SK_ETAG] = "etag",
	[SK_LAST_MODIFIED] = "last-modified",	[SK_READER] = "reader",
	[SK_FETCHED] = "fetched",	[SK_ACCEPTED] = "accepted",
	[SK_ENTRY] = "entry",		[SK_PENDING] = "pending",
	[SK_END] = "end",
};

/* What state_read() keeps while it reads a state file. */
struct state_read {
	struct srcstate		*st;
	const struct policy	*pol;
	size_t			 nentries;	/* entry lines read */
	size_t			 npending;	/* pending lines read */
	bool			 ended;		/* the end line was read */
};

/*
 * Parse an entry (a prefix) and add it to es with miss absences (0: a
 * document entry).  Entries of a disabled family are dropped.  Returns
 * NULL or the reason the entry is bad.
 */
static const char *
load_entry(struct entryset *es, const char *text, unsigned int miss,
    const struct policy *pol)
{
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	enum entry_class c;
	const char *why;

	if (prefix_parse(text, strlen(text), &p, &why) == -1)
		return why;
	/* An entry the policy now skips is dropped; one it rejects spoils. */
	c = policy_classify(pol, &p, &why);
	if (c != CLASS_NONE && policy_decision(pol, c) == DEC_SKIP)
		return NULL;
	if (c != CLASS_NONE)
		return why;
	if (p.family == 4 && pol->want4) {
		prefix_range4(&p, &r4);
		entryset_add4(es, &r4, miss);
	} else if (p.family == 6 && pol->want6) {
		prefix_range6(&p, &r6);
		entryset_add6(es, &r6, miss);
	}
	return NULL;
}

/*
 * "pending R MISS": an entry absent from MISS accepted fetches, at least
 * one (0 would make it a document entry).  Returns NULL or why it is bad.
 */
static const char *
load_pending(struct state_read *rd, char *val)
{
	unsigned long long miss;
	char *sp;

	if ((sp = strchr(val, ' ')) == NULL)
		return "pending entry without a count";
	*sp++ = '\0';
	if (parse_number(sp, 10, UINT_MAX, &miss) == -1 || miss == 0)
		return "bad pending count";
	rd->npending++;
	return load_entry(&rd->st->ent, val, (unsigned int)miss, rd->pol);
}

/* "end N M": the numbers of entry and pending lines before it. */
static const char *
load_end(struct state_read *rd, char *val)
{
	unsigned long long a, b;
	char *sp;

	if ((sp = strchr(val, ' ')) == NULL)
		return "bad end line";
	*sp++ = '\0';
	if (parse_number(val, 10, SIZE_MAX, &a) == -1 ||
	    parse_number(sp, 10, SIZE_MAX, &b) == -1 ||
	    a != rd->nentries || b != rd->npending)
		return "entry counts do not match: truncated file?";
	rd->ended = true;
	return NULL;
}

/* Apply the value of key k of a state file.  Returns NULL or why not. */
static const char *
state_value(struct state_read *rd, int k, char *val)
{
	struct srcstate *st = rd->st;

	switch (k) {
	case SK_VERSION:
		return strcmp(val, "1") == 0 ? NULL : "unknown version";
	case SK_URL:
		set_once(&st->url, val);
		return NULL;
	case SK_DOCUMENT:
		if (strcmp(val, "-") != 0 && !form_parse(val, &st->document))
			return "document is neither json nor text";
		return NULL;
	case SK_ETAG:
		set_value(&st->etag, val);
		return NULL;
	case SK_LAST_MODIFIED:
		set_value(&st->last_modified, val);
		return NULL;
	case SK_READER:
		set_value(&st->reader, val);
		return NULL;
	case SK_FETCHED:
	case SK_ACCEPTED:
		return parse_time(val, k == SK_FETCHED ? &st->fetched :
		    &st->accepted) == -1 ? "bad time" : NULL;
	case SK_ENTRY:
		rd->nentries++;
		return load_entry(&st->ent, val, 0, rd->pol);
	case SK_PENDING:
		return load_pending(rd, val);
	case SK_END:
		return load_end(rd, val);
	}
	return "unknown key";
}

/*
 * Read a state file, up to its end line, into rd.  The version line comes
 * first; entry and pending lines repeat, any other key given twice makes
 * the file corrupt.  Returns NULL or why the file is corrupt, at line
 * kv->lineno.
 */
static const char *
state_read(struct kvfile *kv, struct state_read *rd)
{
	const char *why = NULL;
	char *val;
	int k, r;

	while ((r = kv_next(kv, state_keys, SK_NKEYS, &k, &val, &why)) == 1) {
		if (kv->seen == 0 && k != SK_VERSION)
			return "unknown version";
		if (k == -1)
			return "unknown key";
		if (!kv_first(kv, k) && k != SK_ENTRY && k != SK_PENDING)
			return "key given twice";
		if ((why = state_value(rd, k, val)) != NULL)
			return why;
		if (rd->ended) {
			kv->lineno++;
			return kv->pos < kv->len ? "data after the end line" :
			    NULL;
		}
	}
	return r == -1 ? why : "no end line: truncated file?";
}

/* True when s holds only printable ASCII (0x20-0x7e). */
static bool
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* The keys of an attempt record. */
enum {
	AK_ATTEMPT, AK_RESULT, AK_ERROR, AK_JSON_REJECTED, AK_SKIPPED,
	AK_REACCEPTED, AK_NKEYS
};

static const char *const attempt_keys[AK_NKEYS] = {
	[AK_ATTEMPT] = "attempt",	[AK_RESULT] = "result",
	[AK_ERROR] = "error",		[AK_JSON_REJECTED] = "json-rejected",
	[AK_SKIPPED] = "skipped",	[AK_REACCEPTED] = "reaccepted",
};

/*
 * Read the record of the last attempt, DIR/source-HASH.attempt, into st.
 * It is informational only (--status), so it is read leniently: another
 * key (url) is ignored, a bad time reads as none, a value with a byte
 * outside printable ASCII (we write them escaped) is ignored, and of a
 * key given twice the first value wins.  A line the reader refuses drops
 * the whole record, silently.
 */
static void
load_attempt(const char *dir, const char *section, const char *url,
    struct srcstate *st)
{
	char path[PATH_MAX], *val;
	struct kvfile kv;
	const char *why;
	time_t t;
	int k, r;

	state_path(dir, section, url, "attempt", path, sizeof(path));
	if (!kv_open(&kv, path, MAX_RECORD_SIZE))
		return;
	while ((r = kv_next(&kv, attempt_keys, AK_NKEYS, &k, &val,
	    &why)) == 1) {
		/* We write it escaped: anything else is not ours to print. */
		if (k == -1 || !kv_first(&kv, k) || !printable_ascii(val))
			continue;
		if (k == AK_ATTEMPT && parse_time(val, &t) == 0)
			st->attempt = t;
		else if (k == AK_RESULT && !result_parse(val, &st->result))
			st->result = RESULT_NONE;
		else if (k == AK_ERROR)
			set_once(&st->error, val);
		else if (k == AK_JSON_REJECTED)
			set_once(&st->json_rejected, val);
		else if (k == AK_SKIPPED)
			set_once(&st->skipped, val);
		else if (k == AK_REACCEPTED && parse_time(val, &t) == 0)
			st->reaccepted = t;
	}
	kv_close(&kv);
	if (r == -1) {
		free(st->error);
		free(st->json_rejected);
		free(st->skipped);
		st->error = st->json_rejected = st->skipped = NULL;
		st->result = RESULT_NONE;
		st->attempt = st->reaccepted = 0;
	}
}

/* What state_peek() reads: more than the header lines can take. */
#define STATE_HEAD	(16 * MAX_STATE_LINE)

/*
 * The head of path for kv_next(): at most STATE_HEAD bytes, cut after
 * the last whole line.  Returns false with errno set.
 */
static bool
kv_open_head(struct kvfile *kv, const char *path)
{
	FILE *f;
	size_t n;

	memset(kv, 0, sizeof(*kv));
	if ((f = safe_fopen_read(path)) == NULL)
		return false;
	kv->buf = xmalloc(STATE_HEAD + 1);
	n = fread(kv->buf, 1, STATE_HEAD, f);
	fclose(f);
	while (n > 0 && kv->buf[n - 1] != '\n')
		n--;
	kv->buf[n] = '\0';
	kv->len = n;
	return true;
}

/* See allowsync.h. */
off_t
state_size(const char *dir, const char *section, const char *url)
{
	char path[PATH_MAX];
	struct stat sb;

	state_path(dir, section, url, "state", path, sizeof(path));
	if (lstat(path, &sb) == -1 && (!state_path_before_sections(errno, dir,
	    section, url, path, sizeof(path)) || lstat(path, &sb) == -1))
		return 0;
	return S_ISREG(sb.st_mode) ? sb.st_size : 0;
}

/*
 * See allowsync.h.  The header lines are read as state_read() reads them,
 * up to the first line that is not one: nothing is checked that only the
 * whole file can prove, and nothing is logged.
 */
void
state_peek(const char *dir, const char *section, const char *url,
    struct srcstate *h)
{
	char path[PATH_MAX], *val;
	struct kvfile kv;
	const char *why;
	int k;

	memset(h, 0, sizeof(*h));
	entryset_init(&h->ent);
	state_path(dir, section, url, "state", path, sizeof(path));
	if (!kv_open_head(&kv, path) && (!state_path_before_sections(errno,
	    dir, section, url, path, sizeof(path)) || !kv_open_head(&kv, path)))
		return;
	while (kv_next(&kv, state_keys, SK_NKEYS, &k, &val, &why) == 1 &&
	    k != -1 && k != SK_ENTRY && k != SK_PENDING && k != SK_END &&
	    kv_first(&kv, k)) {
		/* state_load() drops such a validator, and reads on. */
		if (!printable_ascii(val))
			continue;
		if (k == SK_URL)
			set_once(&h->url, val);
		else if (k == SK_ETAG)
			set_value(&h->etag, val);
		else if (k == SK_LAST_MODIFIED)
			set_value(&h->last_modified, val);
		else if (k == SK_READER)
			set_value(&h->reader, val);
	}
	kv_close(&kv);
	h->present = h->url != NULL && strcmp(h->url, url) == 0;
}

/*
 * Drop a stored validator (*v, named key) holding a byte outside printable
 * ASCII, which fetch.c never keeps: it would be sent back in a request
 * and printed raw by --status.  The list itself is still good.
 */
static void
drop_bad_validator(char **v, const char *key, const char *path)
{
	if (*v == NULL || printable_ascii(*v))
		return;
	log_warnx("%s: %s holds bytes outside printable ASCII: ignored", path,
	    key);
	free(*v);
	*v = NULL;
}

/*
 * See allowsync.h.  A source of a section without a file of its own yet
 * starts from the file it had before the config had sections, if any:
 * moving a config into sections loses no cached list.
 */
void
state_load(const char *dir, const char *section, const char *url,
    const struct policy *pol, struct srcstate *st)
{
	struct state_read rd = { st, pol, 0, 0, false };
	char path[PATH_MAX];
	struct kvfile kv;
	const char *why;
	bool open;

	memset(st, 0, sizeof(*st));
	entryset_init(&st->ent);
	st->section = section;
	load_attempt(dir, section, url, st);
	state_path(dir, section, url, "state", path, sizeof(path));
	open = kv_open(&kv, path, state_size_max(pol));
	if (!open && state_path_before_sections(errno, dir, section, url,
	    path, sizeof(path)))
		open = st->legacy = kv_open(&kv, path, state_size_max(pol));
	if (!open) {
		if (errno != ENOENT) {
			log_warnx("%s: %s: ignored", path, open_error(errno));
			st->unusable = true;
		}
		goto absent;
	}
	why = state_read(&kv, &rd);
	kv_close(&kv);
	if (why == NULL && (st->url == NULL || strcmp(st->url, url) != 0))
		why = "written for another URL";
	if (why == NULL && st->accepted != 0 && st->document == FORM_NONE)
		why = "accepted list without a document";
	if (why == NULL && st->accepted == 0 && entryset_count(&st->ent))
		why = "entries without an accepted time";
	if (why != NULL) {
		log_warnx("%s: corrupt state (line %zu: %s): ignored", path,
		    kv.lineno, why);
		st->unusable = true;
		goto absent;
	}
	drop_bad_validator(&st->etag, "etag", path);
	drop_bad_validator(&st->last_modified, "last-modified", path);
	entryset_sort(&st->ent);
	st->present = st->accepted != 0;
	/* A later 304 re-accepted this very list (see srcstate). */
	if (st->present && !st->legacy && st->reaccepted > st->accepted)
		st->fetched = st->accepted = st->reaccepted;
	return;
 absent:
	/* No accepted list; the record of the last attempt stays. */
	free(st->url);
	free(st->etag);
	free(st->last_modified);
	free(st->reader);
	entryset_free(&st->ent);
	st->url = xstrdup(url);
	st->document = FORM_NONE;
	st->etag = st->last_modified = st->reader = NULL;
	st->fetched = st->accepted = st->reaccepted = 0;
	st->present = false;
}
/* Print an attempt file; returns <0 on a write error. */
static int
fill_attempt(FILE *f, const void *arg)
{
	const struct srcstate *st = arg;
	char t[32];

	fprintf(f, "# allowsync: the last attempt for one source\n"
	    "url %s\nattempt %s\nresult %s\n", st->url,
	    state_time(st->attempt, t, sizeof(t)),
	    st->result != RESULT_NONE ? result_name(st->result) : "-");
	if (st->error != NULL)
		fprintf(f, "error %s\n", st->error);
	if (st->json_rejected != NULL)
		fprintf(f, "json-rejected %s\n", st->json_rejected);
	if (st->skipped != NULL)
		fprintf(f, "skipped %s\n", st->skipped);
	if (st->reaccepted != 0)
		fprintf(f, "reaccepted %s\n", state_time(st->reaccepted, t,
		    sizeof(t)));
	return ferror(f) ? -1 : 0;
}

/* See allowsync.h. */
enum as_status
state_save_attempt(const char *dir, const struct srcstate *st)
{
	char path[PATH_MAX];

	state_path(dir, st->section, st->url, "attempt", path,
	    sizeof(path));
	return atomic_write(path, fill_attempt, st);
}

/*
 * The network namespace's cookie (SO_NETNS_COOKIE, Linux 5.14): unique
 * for the boot, unlike the inode of /proc/self/ns/net, which the kernel
 * hands to a new namespace once the old one is gone.  Returns false when
 * the kernel has no cookie to give.
 */
static bool
netns_cookie(uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);
	bool ok;
	int fd;

	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	ok = getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &len) == 0 &&
	    len == sizeof(*cookie) && *cookie != 0;
	close(fd);
	return ok;
}

/* See allowsync.h. */
bool
kernel_record_here(const struct nft_list *l, size_t n,
    struct kernel_record *rec)
{
	const struct nft_target *t = l[0].t;
	FILE *f;
	size_t len, i;

	memset(rec, 0, sizeof(*rec));
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return false;
	len = fread(rec->boot_id, 1, sizeof(rec->boot_id) - 1, f);
	fclose(f);
	rec->boot_id[len] = '\0';
	rec->boot_id[strcspn(rec->boot_id, "\n")] = '\0';
	if (len == 0 || !netns_cookie(&rec->netns_cookie))
		return false;
	if (n > 1) {
		snprintf(rec->target, sizeof(rec->target), "%zu targets", n);
		return true;
	}
	len = (size_t)snprintf(rec->target, sizeof(rec->target),
	    "%s %s %s %s", t->family, t->table, t->set4 && *t->set4 ?
	    t->set4 : "-", t->set6 && *t->set6 ? t->set6 : "-");
	/* Guard mode: its ports are part of what the commit made. */
	for (i = 0; i < t->nports && len < sizeof(rec->target); i++)
		len += (size_t)snprintf(rec->target + len,
		    sizeof(rec->target) - len, " %u/%u-%u", t->ports[i].proto,
		    t->ports[i].lo, t->ports[i].hi);
	return true;
}

static int
fill_kernel(FILE *f, const void *arg)
{
	const struct kernel_record *rec = arg;

	fprintf(f, "# allowsync: what the last run left in the kernel\n"
	    "boot %s\nnetns-cookie %llu\ntarget %s\ngeneration %u\n"
	    "digest %016llx\n", rec->boot_id,
	    (unsigned long long)rec->netns_cookie, rec->target,
	    rec->generation, (unsigned long long)rec->digest);
	return ferror(f) ? -1 : 0;
}

/* See allowsync.h. */
enum as_status
state_save_kernel(const char *dir, const struct kernel_record *rec)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_KERNEL);
	return atomic_write(path, fill_kernel, rec);
}

/* The keys of the kernel record. */
enum {
	KK_BOOT, KK_NETNS_COOKIE, KK_TARGET, KK_GENERATION, KK_DIGEST,
	KK_NKEYS
};

static const char *const kernel_keys[KK_NKEYS] = {
	[KK_BOOT] = "boot",		[KK_NETNS_COOKIE] = "netns-cookie",
	[KK_TARGET] = "target",		[KK_GENERATION] = "generation",
	[KK_DIGEST] = "digest",
};

/* Store the value of key k of the kernel record; false when it is bad. */
static bool
kernel_value(struct kernel_record *rec, int k, const char *val)
{
	unsigned long long n;

	switch (k) {
	case KK_BOOT:
		return copy_value(rec->boot_id, sizeof(rec->boot_id), val);
	case KK_TARGET:
		return copy_value(rec->target, sizeof(rec->target), val);
	case KK_NETNS_COOKIE:
		if (parse_number(val, 10, UINT64_MAX, &n) == -1)
			return false;
		rec->netns_cookie = n;
		return true;
	case KK_GENERATION:
		if (parse_number(val, 10, UINT32_MAX, &n) == -1)
			return false;
		rec->generation = (uint32_t)n;
		return true;
	case KK_DIGEST:
		if (parse_number(val, 16, UINT64_MAX, &n) == -1)
			return false;
		rec->digest = n;
		return true;
	}
	return false;
}

/*
 * See allowsync.h.  Every key must be there once; any other line, a key
 * given twice or a bad value makes the record unusable.
 */
bool
state_load_kernel(const char *dir, struct kernel_record *rec)
{
	char path[PATH_MAX], *val;
	struct kvfile kv;
	const char *why;
	int k, r;

	memset(rec, 0, sizeof(*rec));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_KERNEL);
	if (!kv_open(&kv, path, MAX_RECORD_SIZE))
		return false;
	while ((r = kv_next(&kv, kernel_keys, KK_NKEYS, &k, &val,
	    &why)) == 1)
		if (k == -1 || !kv_first(&kv, k) ||
		    !kernel_value(rec, k, val)) {
			r = -1;
			break;
		}
	kv_close(&kv);
	return r == 0 && kv.seen == (1U << KK_NKEYS) - 1;
}

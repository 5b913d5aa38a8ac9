/*
 * The state directory: the last accepted list of every source with its
 * metadata, the run lock, and the nft include file.  Every file is written
 * whole to a temporary file in the same directory, fsync'ed and renamed
 * into place, and then the directory is fsync'ed, so a crash at any moment
 * leaves the old file or the new one, never a torn one.  A file that does
 * not parse is ignored with one warning and never applied.
 */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
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
#define LOCK_POLL_MS	100			/* --wait polling interval */
#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE	71		/* Linux 5.14; newer than the headers */
#endif

/* Free what a srcstate owns and zero it. */
void
srcstate_free(struct srcstate *st)
{
	free(st->url);
	free(st->document);
	free(st->etag);
	free(st->last_modified);
	free(st->result);
	free(st->error);
	free(st->json_rejected);
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
	case EMLINK:
		return "has more than one link";
	case EINVAL:
		return "not a regular file";
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

/* FNV-1a, 64 bits: a stable file name for a URL. */
static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The path of the state file (suffix "state" or "attempt") for url. */
static void
state_path(const char *dir, const char *url, const char *suffix, char *buf,
    size_t bufsz)
{
	snprintf(buf, bufsz, "%s/source-%016llx.%s", dir,
	    (unsigned long long)fnv1a(url), suffix);
}

/* See allowsync.h. */
enum as_status
state_init(const char *dir)
{
	struct stat sb;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_err("state directory %s: cannot create: %s", dir,
		    strerror(errno));
		return errno == EACCES || errno == EPERM || errno == EROFS ?
		    AS_ECANTCREAT : AS_ECONFIG;
	}
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		log_err("state directory %s: not a directory", dir);
		return AS_ECONFIG;
	}
	return AS_OK;
}

/* True for the bytes mkostemp(3) puts in place of its XXXXXX. */
static bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/*
 * True when name is the name of a file this program keeps in the state
 * directory: source-HASH.state, source-HASH.attempt (HASH: 16 lowercase
 * hex digits), kernel.state or the include file.
 */
static bool
is_state_name(const char *name, size_t n)
{
	size_t i;

	if ((n == sizeof(STATE_INCLUDE) - 1 &&
	    memcmp(name, STATE_INCLUDE, n) == 0) ||
	    (n == sizeof(STATE_KERNEL) - 1 &&
	    memcmp(name, STATE_KERNEL, n) == 0))
		return true;
	if (n < 7 + 16 || memcmp(name, "source-", 7) != 0)
		return false;
	for (i = 7; i < 7 + 16; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return (n == 23 + 6 && memcmp(name + 23, ".state", 6) == 0) ||
	    (n == 23 + 8 && memcmp(name + 23, ".attempt", 8) == 0);
}

/*
 * True when name is a temporary file of atomic_write() for one of this
 * program's own files: ".NAME.XXXXXX".  Anything else in the directory,
 * dot files included, belongs to someone else and is left alone.
 */
static bool
is_own_temporary(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 1 + 1 + 7 || name[0] != '.' || name[n - 7] != '.')
		return false;
	for (i = n - 6; i < n; i++)
		if (!is_alnum(name[i]))
			return false;
	return is_state_name(name + 1, n - 8);
}

/*
 * Remove the temporary files of writes that a killed run left behind.
 * Only called with the lock held, so no write is in progress.
 */
static void
remove_temporaries(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int dfd;

	if ((d = opendir(dir)) == NULL)
		return;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL)
		if (is_own_temporary(de->d_name))
			unlinkat(dfd, de->d_name, 0);
	closedir(d);
}

/*
 * Open the lock file path for writing: created when missing (and then
 * handed to the directory's owner), never through a symbolic link, and
 * only if it is a regular file with one link, since it is truncated and
 * written in place.  Returns the descriptor, or -1 after logging, with
 * *st the status to return.
 */
static int
lock_open(const char *path, const char *dir, enum as_status *st)
{
	struct stat sb;
	const char *why = NULL;
	bool created = true;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST) {
		created = false;
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	}
	if (fd == -1) {
		*st = AS_ECANTCREAT;
		if (errno == ELOOP)
			log_err("%s: is a symbolic link: refusing to follow it",
			    path);
		else
			log_err("%s: cannot create: %s", path,
			    strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) == -1)
		why = strerror(errno);
	else if (!S_ISREG(sb.st_mode))
		why = "not a regular file: refusing to use it";
	else if (sb.st_nlink != 1)
		why = "has more than one link: refusing to use it";
	if (why != NULL) {
		log_err("%s: %s", path, why);
		close(fd);
		*st = AS_ECANTCREAT;
		return -1;
	}
	if (created)
		own_like_dir(fd, dir);
	return fd;
}

/* See allowsync.h. */
enum as_status
state_lock(const char *dir, unsigned int wait, int *fdp)
{
	char path[PATH_MAX], holder[64], line[32], esc[ESCAPE_BUF];
	struct timespec ts = { 0, LOCK_POLL_MS * 1000000L };
	unsigned long polls = (unsigned long)wait * (1000 / LOCK_POLL_MS);
	enum as_status st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK);
	if ((fd = lock_open(path, dir, &st)) == -1)
		return st;
	while (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			log_err("%s: %s", path, strerror(errno));
			close(fd);
			return AS_ESOFTWARE;
		}
		if (polls-- == 0) {
			n = pread(fd, holder, sizeof(holder) - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			log_escape(holder, strlen(holder), esc, sizeof(esc));
			log_err("another allowsync run (%s) holds %s%s",
			    esc[0] ? esc : "pid unknown", path,
			    wait ? "; gave up waiting" :
			    "; use --wait SECONDS to wait for it");
			close(fd);
			return AS_ETEMPFAIL;
		}
		nanosleep(&ts, NULL);
	}
	remove_temporaries(dir);
	snprintf(line, sizeof(line), "pid %ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 ||
	    pwrite(fd, line, strlen(line), 0) != (ssize_t)strlen(line))
		log_warnx("%s: cannot record our pid: %s", path,
		    strerror(errno));
	*fdp = fd;
	return AS_OK;
}

/* Print one entry line: "entry R" or "pending R MISS". */
static int
print_entry4(FILE *f, const struct range4 *r, int pending, unsigned int miss)
{
	char buf[RANGE_STRLEN];

	range4_format(r, buf, sizeof(buf));
	if (pending)
		return fprintf(f, "pending %s %u\n", buf, miss);
	fputs("entry ", f);
	fputs(buf, f);
	return putc('\n', f);
}

static int
print_entry6(FILE *f, const struct range6 *r, int pending, unsigned int miss)
{
	char buf[RANGE_STRLEN];

	range6_format(r, buf, sizeof(buf));
	return pending ? fprintf(f, "pending %s %u\n", buf, miss) :
	    fprintf(f, "entry %s\n", buf);
}

/* Print a source state file; returns <0 on a write error. */
static int
fill_state(FILE *f, const void *arg)
{
	const struct srcstate *st = arg;
	const struct entryset *es = &st->ent;
	char t1[32], t2[32];
	size_t i;

	fprintf(f, "# allowsync source state; written by allowsync, see "
	    "README.md\n"
	    "version %d\nurl %s\ndocument %s\netag %s\nlast-modified %s\n"
	    "fetched %s\naccepted %s\n",
	    STATE_VERSION, st->url, st->document ? st->document : "-",
	    st->etag ? st->etag : "-",
	    st->last_modified ? st->last_modified : "-",
	    state_time(st->fetched, t1, sizeof(t1)),
	    state_time(st->accepted, t2, sizeof(t2)));
	for (i = 0; i < es->doc.n4; i++)
		print_entry4(f, &es->doc.v4[i], 0, 0);
	for (i = 0; i < es->doc.n6; i++)
		print_entry6(f, &es->doc.v6[i], 0, 0);
	for (i = 0; i < es->np4; i++)
		print_entry4(f, &es->p4[i].r, 1, es->p4[i].miss);
	for (i = 0; i < es->np6; i++)
		print_entry6(f, &es->p6[i].r, 1, es->p6[i].miss);
	return fprintf(f, "end %zu %zu\n", es->doc.n4 + es->doc.n6,
	    es->np4 + es->np6);
}

/* See allowsync.h. */
enum as_status
state_save(const char *dir, const struct srcstate *st)
{
	char path[PATH_MAX];

	state_path(dir, st->url, "state", path, sizeof(path));
	return atomic_write(path, fill_state, st);
}

/* "-" in the file stands for an absent value. */
static char *
dup_value(const char *v)
{
	return strcmp(v, "-") == 0 ? NULL : xstrdup(v);
}

/*
 * Parse an entry (a prefix) and add it to es, as a document entry or a
 * pending one.  Entries of a disabled family are dropped.  Returns NULL
 * or the reason the entry is bad.
 */
static const char *
load_entry(struct entryset *es, const char *text, bool pending,
    unsigned int miss, const struct policy *pol)
{
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	const char *why;

	if (prefix_parse(text, strlen(text), &p, &why) == -1)
		return why;
	if ((why = policy_check(pol, &p)) != NULL)
		return why;
	if (p.family == 4 && pol->want4) {
		prefix_range4(&p, &r4);
		if (pending)
			entryset_add_pend4(es, &r4, miss);
		else
			rangelist_add4(&es->doc, &r4);
	} else if (p.family == 6 && pol->want6) {
		prefix_range6(&p, &r6);
		if (pending)
			entryset_add_pend6(es, &r6, miss);
		else
			rangelist_add6(&es->doc, &r6);
	}
	return NULL;
}

/*
 * Parse one "key value" line into st.  Returns NULL or why the line is
 * bad.  *ended is set by the "end" line, which checks the counts.
 */
static const char *
load_line(struct srcstate *st, char *line, const struct policy *pol,
    size_t *nentries, size_t *npending, bool *ended)
{
	char *val, *sp, *end;
	unsigned long miss;
	size_t a, b;

	if ((val = strchr(line, ' ')) == NULL)
		return "expected \"key value\"";
	*val++ = '\0';
	if (strcmp(line, "entry") == 0) {
		(*nentries)++;
		return load_entry(&st->ent, val, false, 0, pol);
	}
	if (strcmp(line, "pending") == 0) {
		if ((sp = strchr(val, ' ')) == NULL)
			return "pending entry without a count";
		*sp++ = '\0';
		errno = 0;
		miss = strtoul(sp, &end, 10);
		if (errno || *end != '\0' || *sp < '0' || *sp > '9' ||
		    miss > UINT32_MAX)
			return "bad pending count";
		(*npending)++;
		return load_entry(&st->ent, val, true, (unsigned int)miss,
		    pol);
	}
	if (strcmp(line, "url") == 0)
		st->url = xstrdup(val);
	else if (strcmp(line, "document") == 0) {
		if (strcmp(val, "json") && strcmp(val, "text") &&
		    strcmp(val, "-"))
			return "document is neither json nor text";
		st->document = dup_value(val);
	} else if (strcmp(line, "etag") == 0)
		st->etag = dup_value(val);
	else if (strcmp(line, "last-modified") == 0)
		st->last_modified = dup_value(val);
	else if (strcmp(line, "fetched") == 0) {
		if (parse_time(val, &st->fetched) == -1)
			return "bad time";
	} else if (strcmp(line, "accepted") == 0) {
		if (parse_time(val, &st->accepted) == -1)
			return "bad time";
	} else if (strcmp(line, "end") == 0) {
		if (sscanf(val, "%zu %zu", &a, &b) != 2 || a != *nentries ||
		    b != *npending)
			return "entry counts do not match: truncated file?";
		*ended = true;
	} else
		return "unknown key";
	return NULL;
}

static void load_attempt(const char *, const char *, struct srcstate *);

/* Keep the first value of a key; later duplicates are ignored. */
static void
set_once(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = xstrdup(v);
}

/*
 * Drop a stored validator (*v, named key) holding a byte outside printable
 * ASCII, which fetch.c never keeps: it would be sent back in a request
 * and printed raw by --status.  The list itself is still good.
 */
static void
drop_bad_validator(char **v, const char *key, const char *path)
{
	const unsigned char *p;

	if (*v == NULL)
		return;
	for (p = (const unsigned char *)*v; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			break;
	if (*p == '\0')
		return;
	log_warnx("%s: %s holds bytes outside printable ASCII: ignored", path,
	    key);
	free(*v);
	*v = NULL;
}

/* See allowsync.h. */
void
state_load(const char *dir, const char *url, const struct policy *pol,
    struct srcstate *st)
{
	char path[PATH_MAX], line[MAX_STATE_LINE + 2];
	const char *why = NULL;
	size_t lineno = 0, len, nentries = 0, npending = 0;
	bool ended = false, versioned = false;
	FILE *f;

	memset(st, 0, sizeof(*st));
	entryset_init(&st->ent);
	load_attempt(dir, url, st);
	state_path(dir, url, "state", path, sizeof(path));
	if ((f = safe_fopen_read(path)) == NULL) {
		if (errno != ENOENT)
			log_warnx("%s: %s: ignored", path, open_error(errno));
		goto absent;
	}
	while (why == NULL && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n') {
			why = "line too long or unterminated";
			break;
		}
		line[len - 1] = '\0';
		if (ended)
			why = "data after the end line";
		else if (line[0] == '#')
			continue;
		else if (!versioned) {
			if (strcmp(line, "version 1") != 0)
				why = "unknown version";
			versioned = true;
		} else
			why = load_line(st, line, pol, &nentries, &npending,
			    &ended);
	}
	if (why == NULL && ferror(f))
		why = "read error";
	fclose(f);
	if (why == NULL && !ended)
		why = "no end line: truncated file?";
	if (why == NULL && (st->url == NULL || strcmp(st->url, url) != 0))
		why = "written for another URL";
	if (why == NULL && st->accepted != 0 && st->document == NULL)
		why = "accepted list without a document";
	if (why == NULL && st->accepted == 0 && entryset_count(&st->ent))
		why = "entries without an accepted time";
	if (why != NULL) {
		log_warnx("%s: corrupt state (line %zu: %s): ignored", path,
		    lineno, why);
		goto absent;
	}
	drop_bad_validator(&st->etag, "etag", path);
	drop_bad_validator(&st->last_modified, "last-modified", path);
	rangelist_unique(&st->ent.doc);
	st->present = st->accepted != 0;
	return;
 absent:
	/* No accepted list; the record of the last attempt stays. */
	free(st->url);
	free(st->document);
	free(st->etag);
	free(st->last_modified);
	entryset_free(&st->ent);
	st->url = xstrdup(url);
	st->document = st->etag = st->last_modified = NULL;
	st->fetched = st->accepted = 0;
	st->present = false;
}

/*
 * Read the record of the last attempt, DIR/source-HASH.attempt, into st.
 * It is informational only (--status): a bad one is skipped silently.
 */
static void
load_attempt(const char *dir, const char *url, struct srcstate *st)
{
	char path[PATH_MAX], line[MAX_STATE_LINE + 2];
	size_t len;
	FILE *f;

	state_path(dir, url, "attempt", path, sizeof(path));
	if ((f = safe_fopen_read(path)) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (strncmp(line, "attempt ", 8) == 0)
			parse_time(line + 8, &st->attempt);
		else if (strncmp(line, "result ", 7) == 0)
			set_once(&st->result, line + 7);
		else if (strncmp(line, "error ", 6) == 0)
			set_once(&st->error, line + 6);
		else if (strncmp(line, "json-rejected ", 14) == 0)
			set_once(&st->json_rejected, line + 14);
	}
	fclose(f);
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
	    st->result ? st->result : "-");
	if (st->error != NULL)
		fprintf(f, "error %s\n", st->error);
	if (st->json_rejected != NULL)
		fprintf(f, "json-rejected %s\n", st->json_rejected);
	return ferror(f) ? -1 : 0;
}

/* See allowsync.h. */
enum as_status
state_save_attempt(const char *dir, const struct srcstate *st)
{
	char path[PATH_MAX];

	state_path(dir, st->url, "attempt", path, sizeof(path));
	return atomic_write(path, fill_attempt, st);
}

/* What fill_include() needs. */
struct include_arg {
	const struct nft_target	*tgt;
	const struct rangelist	*want;
};

/* Print the include file; returns <0 on a write error. */
static int
fill_include(FILE *f, const void *arg)
{
	const struct include_arg *ia = arg;
	const struct rangelist *w = ia->want;
	char buf[RANGE_STRLEN];
	size_t i;

	fprintf(f, "# Written by allowsync after every successful apply or "
	    "restore; do not edit.\n"
	    "# Include it after the definitions of the sets, so that a "
	    "ruleset reload\n# brings the allowlist back with it.\n");
	if (w->n4 > 0 && ia->tgt->set4 != NULL && ia->tgt->set4[0] != '\0') {
		fprintf(f, "add element %s %s %s {\n", ia->tgt->family,
		    ia->tgt->table, ia->tgt->set4);
		for (i = 0; i < w->n4; i++) {
			range4_format(&w->v4[i], buf, sizeof(buf));
			putc('\t', f);
			fputs(buf, f);
			fputs(i + 1 < w->n4 ? ",\n" : "\n", f);
		}
		fprintf(f, "}\n");
	}
	if (w->n6 > 0 && ia->tgt->set6 != NULL && ia->tgt->set6[0] != '\0') {
		fprintf(f, "add element %s %s %s {\n", ia->tgt->family,
		    ia->tgt->table, ia->tgt->set6);
		for (i = 0; i < w->n6; i++) {
			range6_format(&w->v6[i], buf, sizeof(buf));
			fprintf(f, "\t%s%s\n", buf, i + 1 < w->n6 ? "," : "");
		}
		fprintf(f, "}\n");
	}
	return ferror(f) ? -1 : 0;
}

/* See allowsync.h. */
enum as_status
state_write_include(const char *dir, const struct nft_target *tgt,
    const struct rangelist *want)
{
	struct include_arg ia = { tgt, want };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_INCLUDE);
	return atomic_write(path, fill_include, &ia);
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
kernel_record_here(const struct nft_target *t, struct kernel_record *rec)
{
	FILE *f;
	size_t n;

	memset(rec, 0, sizeof(*rec));
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "re")) == NULL)
		return false;
	n = fread(rec->boot_id, 1, sizeof(rec->boot_id) - 1, f);
	fclose(f);
	rec->boot_id[n] = '\0';
	rec->boot_id[strcspn(rec->boot_id, "\n")] = '\0';
	if (n == 0 || !netns_cookie(&rec->netns_cookie))
		return false;
	snprintf(rec->target, sizeof(rec->target), "%s %s %s %s", t->family,
	    t->table, t->set4 && *t->set4 ? t->set4 : "-",
	    t->set6 && *t->set6 ? t->set6 : "-");
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

/* See allowsync.h.  Any line out of place makes the record unusable. */
bool
state_load_kernel(const char *dir, struct kernel_record *rec)
{
	char path[PATH_MAX], line[sizeof(rec->target) + 16];
	unsigned long long digest, cookie;
	unsigned int gen;
	int seen = 0;
	size_t n;
	FILE *f;

	memset(rec, 0, sizeof(*rec));
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_KERNEL);
	if ((f = safe_fopen_read(path)) == NULL)
		return false;
	while (fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n')
			break;
		line[n - 1] = '\0';
		if (line[0] == '#')
			continue;
		if (strncmp(line, "boot ", 5) == 0 &&
		    n - 6 < sizeof(rec->boot_id)) {
			memcpy(rec->boot_id, line + 5, n - 5);
			seen |= 1;
		} else if (sscanf(line, "netns-cookie %llu", &cookie) == 1) {
			rec->netns_cookie = cookie;
			seen |= 2;
		}
		else if (strncmp(line, "target ", 7) == 0) {
			snprintf(rec->target, sizeof(rec->target), "%.*s",
			    (int)sizeof(rec->target) - 1, line + 7);
			seen |= 4;
		} else if (sscanf(line, "generation %u", &gen) == 1) {
			rec->generation = gen;
			seen |= 8;
		} else if (sscanf(line, "digest %llx", &digest) == 1) {
			rec->digest = digest;
			seen |= 16;
		} else {
			seen = 0;
			break;
		}
	}
	fclose(f);
	return seen == 31;
}

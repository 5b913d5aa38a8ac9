/*
 * Unit tests for state.c: round trips, every kind of corrupt file, the
 * lock, and the include file.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "allowsync.h"

#define URL	"https://www.example.com/public/docs/public-ips.json"

static char dir[64];
static struct policy pol = {
	.min_prefix4 = 16, .min_prefix6 = 32, .max_entries = 100,
	.want4 = true, .want6 = true,
};

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/allowsync-state-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int
teardown(void **state)
{
	struct dirent *de;
	char path[PATH_MAX];
	DIR *d;

	(void)state;
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
			    strcmp(de->d_name, "..") == 0))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
	return 0;
}

/* A state with two document entries and one pending entry. */
static void
sample(struct srcstate *st)
{
	struct range4 r1 = { 0xb90a1400, 0xb90a14ff }, r2 = { 0xb90a1501,
	    0xb90a1501 }, r3 = { 0xb90a1601, 0xb90a1601 };
	struct range6 r6 = { { 0x2a0104f800100000ULL, 0 },
	    { 0x2a0104f80010ffffULL, ~0ULL } };

	memset(st, 0, sizeof(*st));
	entryset_init(&st->ent);
	st->present = true;
	st->url = xstrdup(URL);
	st->document = FORM_JSON;
	st->etag = xstrdup("\"abc def\"");
	st->last_modified = xstrdup("Sat, 28 Nov 2026 10:00:00 GMT");
	st->reader = xstrdup("0123456789abcdef");
	st->fetched = st->accepted = st->attempt = 1795860000;
	st->result = RESULT_OK;
	entryset_add4(&st->ent, &r1, 0);
	entryset_add4(&st->ent, &r2, 0);
	entryset_add4(&st->ent, &r3, 1);
	entryset_add6(&st->ent, &r6, 0);
}

/* The path of the one state file in dir. */
static const char *
state_file(void)
{
	static char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	path[0] = '\0';
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "source-", 7) == 0)
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	closedir(d);
	return path;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Assert that a and b hold the same entries with the same misses. */
static void
same_entries(const struct entryset *a, const struct entryset *b)
{
	size_t i;

	assert_int_equal(a->n4, b->n4);
	assert_int_equal(a->n6, b->n6);
	for (i = 0; i < a->n4; i++) {
		assert_int_equal(range4_cmp(&a->v4[i].r, &b->v4[i].r), 0);
		assert_int_equal(a->v4[i].miss, b->v4[i].miss);
	}
	for (i = 0; i < a->n6; i++) {
		assert_int_equal(range6_cmp(&a->v6[i].r, &b->v6[i].r), 0);
		assert_int_equal(a->v6[i].miss, b->v6[i].miss);
	}
}

static void
test_roundtrip(void **state)
{
	struct srcstate a, b;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	assert_int_equal(b.document, FORM_JSON);
	assert_string_equal(b.etag, "\"abc def\"");
	assert_string_equal(b.last_modified, a.last_modified);
	assert_int_equal(b.accepted, a.accepted);
	assert_int_equal(b.ent.n4, 3);
	assert_int_equal(b.ent.n6, 1);
	assert_int_equal(entryset_pending(&b.ent), 1);
	assert_int_equal(b.ent.v4[0].miss, 0);
	assert_int_equal(b.ent.v4[2].miss, 1);
	same_entries(&b.ent, &a.ent);
	srcstate_free(&a);
	srcstate_free(&b);
}

static void
test_absent(void **state)
{
	struct srcstate b;

	(void)state;
	state_load(dir, NULL, URL, &pol, &b);
	assert_false(b.present);
	assert_string_equal(b.url, URL);
	srcstate_free(&b);
}

/* An accepted-time line, for the corrupt files below. */
#define ACC	"accepted 2026-11-28T10:00:00Z\n"

static void
test_corrupt(void **state)
{
	static const char *bad[] = {
		"",
		"garbage\n",
		"version 2\nurl " URL "\nend 0 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 185.10.20.1\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 185.10.20.1\nend 2 0\n",
		"version 1\nurl https://other.example/x.json\ndocument json\n"
		    ACC "entry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 0.0.0.0/0\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 10.0.0.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 185.10.20.1/8\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted yesterday\nentry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument xml\n"
		    ACC "entry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "pending 185.10.20.1 x\n"
		    "end 0 1\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 185.10.20.1\nend 1 0\n"
		    "entry 185.10.20.2\n",
		"version 1\nurl " URL "\nbogus 1\nend 0 0\n",
		"version 1\nurl " URL "\ndocument -\n"
		    ACC "entry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\naccepted -\n"
		    "entry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    ACC "entry 185.10.20.1\nend 1 0",
	};
	struct srcstate a, b;
	size_t i;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(state_file(), bad[i]);
		state_load(dir, NULL, URL, &pol, &b);
		if (b.present || entryset_count(&b.ent) != 0)
			fail_msg("corrupt state #%zu accepted", i);
		srcstate_free(&b);
	}
	srcstate_free(&a);
}

static void
test_disabled_family_dropped(void **state)
{
	struct srcstate a, b;
	struct policy p4 = pol;

	(void)state;
	p4.want6 = false;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	state_load(dir, NULL, URL, &p4, &b);
	assert_true(b.present);
	assert_int_equal(b.ent.n6, 0);
	assert_int_equal(b.ent.n4, 3);
	srcstate_free(&a);
	srcstate_free(&b);
}

/*
 * A stored validator holding a byte outside printable ASCII (a file from
 * an older version, or edited) is treated as absent: never sent back and
 * never printed raw.  The list itself stays usable.
 */
static void
test_validator_bytes(void **state)
{
	static const char *bad[] = {
		"\"\xff\x1b[31m\"", "\"caf\xc3\xa9\"", "\"\x7f\"", "W/\"\x80\"",
		"\"a\tb\"",
	};
	struct srcstate a, b;
	char text[512];
	size_t i;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "version 1\nurl " URL "\n"
		    "document json\netag %s\nlast-modified %s\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\n"
		    "end 1 0\n", bad[i], bad[i]);
		write_file(state_file(), text);
		state_load(dir, NULL, URL, &pol, &b);
		assert_true(b.present);
		assert_int_equal(entryset_count(&b.ent), 1);
		if (b.etag != NULL || b.last_modified != NULL)
			fail_msg("validator #%zu kept", i);
		srcstate_free(&b);
	}
	snprintf(text, sizeof(text), "version 1\nurl " URL "\n"
	    "document json\netag W/\"~ ok\"\nlast-modified \xff\n"
	    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 1 0\n");
	write_file(state_file(), text);
	state_load(dir, NULL, URL, &pol, &b);
	assert_string_equal(b.etag, "W/\"~ ok\"");
	assert_null(b.last_modified);
	srcstate_free(&b);
	srcstate_free(&a);
}

static void
test_lock(void **state)
{
	int fd1 = -1, fd2 = -1;
	char path[PATH_MAX + 8];

	(void)state;
	assert_int_equal(state_lock(dir, 0, &fd1), AS_OK);
	assert_int_equal(state_lock(dir, 0, &fd2), AS_ETEMPFAIL);
	assert_non_null(strstr(log_last_error(), "pid "));
	assert_int_equal(state_lock(dir, 1, &fd2), AS_ETEMPFAIL);
	close(fd1);
	assert_int_equal(state_lock(dir, 0, &fd2), AS_OK);
	close(fd2);
	snprintf(path, sizeof(path), "%s/" STATE_LOCK, dir);
	unlink(path);
}

/* Only atomic_write()'s temporaries of this program's files go. */
static void
test_temporaries_removed(void **state)
{
	static const char *const ours[] = {
		".source-0123456789abcdef.state.AbCdEf",
		".source-0123456789abcdef.attempt.Zz9Yy8",
		".kernel.state.XyZ123", ".allowsync.nft.a1B2c3",
	};
	static const char *const theirs[] = {
		".bashrc", ".netrc", ".source-0123.state.AbCdEf",
		".kernel.state.XyZ12", ".kernel.state.XyZ12!",
		".source-0123456789ABCDEF.state.AbCdEf", ".other.nft.a1B2c3",
		".kernel.state", "..kernel.state.XyZ123",
	};
	char path[PATH_MAX + 64];
	size_t i;
	int fd;

	(void)state;
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ours[i]);
		write_file(path, "half a file");
	}
	for (i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, theirs[i]);
		write_file(path, "not ours");
	}
	assert_int_equal(state_lock(dir, 0, &fd), AS_OK);
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ours[i]);
		assert_int_equal(access(path, F_OK), -1);
	}
	for (i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, theirs[i]);
		if (access(path, F_OK) != 0)
			fail_msg("%s was removed", theirs[i]);
	}
	close(fd);
}

/* The contents of path, into buf. */
static const char *
read_all(const char *path, char *buf, size_t bufsz)
{
	FILE *f;
	size_t n;

	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, bufsz - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * A lock that is a symbolic link or a hard link is refused (73), and the
 * file it points to keeps its contents, mode and owner.
 */
static void
test_lock_link_refused(void **state)
{
	char lock[PATH_MAX + 16], victim[PATH_MAX + 16], buf[64];
	struct stat sb;
	int fd = -1, hard;

	(void)state;
	snprintf(lock, sizeof(lock), "%s/" STATE_LOCK, dir);
	snprintf(victim, sizeof(victim), "%s-victim", dir);
	for (hard = 0; hard < 2; hard++) {
		write_file(victim, "root:secret\n");
		assert_int_equal(chmod(victim, 0640), 0);
		assert_int_equal(hard ? link(victim, lock) :
		    symlink(victim, lock), 0);
		assert_int_equal(state_lock(dir, 0, &fd), AS_ECANTCREAT);
		assert_non_null(strstr(log_last_error(), lock));
		assert_string_equal(read_all(victim, buf, sizeof(buf)),
		    "root:secret\n");
		assert_int_equal(stat(victim, &sb), 0);
		assert_int_equal(sb.st_mode & 07777, 0640);
		assert_int_equal(sb.st_uid, getuid());
		unlink(lock);
		unlink(victim);
	}
	/* Not a plain file either. */
	assert_int_equal(mkfifo(lock, 0600), 0);
	assert_int_equal(state_lock(dir, 0, &fd), AS_ECANTCREAT);
	unlink(lock);
}

/*
 * Run as root in a directory another user owns: a new lock file is handed
 * to that user, but an existing one keeps its owner.
 */
static void
test_lock_owner(void **state)
{
	char lock[PATH_MAX + 16];
	struct stat sb;
	int fd;

	(void)state;
	if (geteuid() != 0)
		skip();
	snprintf(lock, sizeof(lock), "%s/" STATE_LOCK, dir);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	assert_int_equal(state_lock(dir, 0, &fd), AS_OK);
	close(fd);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_uid, 65534);
	assert_int_equal(chown(lock, 0, 0), 0);
	assert_int_equal(state_lock(dir, 0, &fd), AS_OK);
	close(fd);
	assert_int_equal(stat(lock, &sb), 0);
	assert_int_equal(sb.st_uid, 0);
	assert_int_equal(chown(dir, 0, 0), 0);
}

/* The path of the one source state file in dir, into buf. */
static void
find_state_file(char *buf, size_t bufsz)
{
	struct dirent *de;
	DIR *d;

	buf[0] = '\0';
	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, "source-", 7) == 0 &&
		    strstr(de->d_name, ".state") != NULL)
			snprintf(buf, bufsz, "%s/%s", dir, de->d_name);
	closedir(d);
	assert_true(buf[0] != '\0');
}

/* A state file reached through a link is not read: the list is absent. */
static void
test_state_link_ignored(void **state)
{
	struct srcstate a, b;
	char path[PATH_MAX + 64], elsewhere[PATH_MAX + 64];

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	srcstate_free(&b);
	/* Move the real file away and leave a symbolic link in its place. */
	find_state_file(path, sizeof(path));
	snprintf(elsewhere, sizeof(elsewhere), "%s/moved", dir);
	assert_int_equal(rename(path, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, path), 0);
	state_load(dir, NULL, URL, &pol, &b);
	assert_false(b.present);
	srcstate_free(&b);
	/* A hard link is fine: the file is only read (a backup made it). */
	unlink(path);
	assert_int_equal(link(elsewhere, path), 0);
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	srcstate_free(&b);
	srcstate_free(&a);
}

/*
 * A key given twice makes a state file corrupt, whichever value comes
 * first; nothing read from it is kept, or leaked (run under valgrind).
 */
static void
test_duplicate_key(void **state)
{
	static const char *const dup[] = {
		"", "url " URL "\n", "document json\n", "document -\n",
		"etag \"x\"\n", "etag -\n", "last-modified x\n",
		"fetched 2026-11-28T10:00:00Z\n",
		"accepted 2026-11-28T10:00:00Z\n", "version 1\n",
	};
	struct srcstate a, b;
	char text[1024];
	size_t i;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	for (i = 0; i < sizeof(dup) / sizeof(dup[0]); i++) {
		snprintf(text, sizeof(text), "version 1\nurl " URL "\n"
		    "document json\netag \"abc\"\nlast-modified y\n"
		    "fetched 2026-11-28T10:00:00Z\n"
		    "accepted 2026-11-28T10:00:00Z\n%sentry 185.10.20.1\n"
		    "end 1 0\n", dup[i]);
		write_file(state_file(), text);
		state_load(dir, NULL, URL, &pol, &b);
		assert_string_equal(b.url, URL);
		/* The file without a repeated key is good. */
		if (i == 0) {
			assert_true(b.present);
			assert_string_equal(b.etag, "\"abc\"");
		} else if (b.present || entryset_count(&b.ent) != 0 ||
		    b.document != FORM_NONE || b.etag != NULL ||
		    b.last_modified != NULL)
			fail_msg("duplicated key #%zu accepted", i);
		srcstate_free(&b);
	}
	srcstate_free(&a);
}

/*
 * Entry lines: a range written twice, or both as an entry and as pending,
 * is one entry (the document wins); a pending count of 0 is not pending;
 * counts are digits and nothing else.
 */
static void
test_entry_lines(void **state)
{
	static const char *const bad[] = {
		"pending 185.10.20.2 0\nend 1 1\n",
		"pending 185.10.20.2 -1\nend 1 1\n",
		"pending 185.10.20.2 4294967296\nend 1 1\n",
		"end 1 0 0\n", "end 1  0\n", "end 1\n", "end +1 0\n",
	};
	const char *head = "version 1\nurl " URL "\ndocument json\n"
	    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\n";
	struct srcstate a, b;
	char text[1024];
	size_t i;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	snprintf(text, sizeof(text), "%spending 185.10.20.1 2\n"
	    "pending 185.10.20.2 4294967295\nentry 185.10.20.1/32\n"
	    "pending 185.10.20.2 3\nend 2 3\n", head);
	write_file(state_file(), text);
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	assert_int_equal(b.ent.n4, 2);
	assert_int_equal(b.ent.v4[0].miss, 0);
	assert_int_equal(b.ent.v4[1].miss, 3);
	srcstate_free(&b);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s%s", head, bad[i]);
		write_file(state_file(), text);
		state_load(dir, NULL, URL, &pol, &b);
		if (b.present || entryset_count(&b.ent) != 0)
			fail_msg("bad entry line #%zu accepted", i);
		srcstate_free(&b);
	}
	srcstate_free(&a);
}

/*
 * A file in the order the previous version wrote (all entry lines, then
 * the pending ones) loads, and a file written now keeps its keys and
 * counts: entries in order, document and pending lines interleaved.
 */
static void
test_file_order(void **state)
{
	struct srcstate a, b;
	char text[1024];
	const char *p;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	read_all(state_file(), text, sizeof(text));
	assert_non_null(p = strstr(text, "entry 185.10.20.0/24\n"
	    "entry 185.10.21.1\npending 185.10.22.1 1\n"
	    "entry 2a01:4f8:10::/48\nend 3 1\n"));
	assert_int_equal(p[strlen(p) - 1], '\n');
	write_file(state_file(), "# allowsync source state\nversion 1\n"
	    "url " URL "\ndocument text\netag -\nlast-modified -\n"
	    "fetched 2026-11-28T10:00:00Z\naccepted 2026-11-28T10:00:00Z\n"
	    "entry 185.10.21.1\nentry 185.10.20.0/24\n"
	    "entry 2a01:4f8:10::/48\npending 185.10.22.1 1\nend 3 1\n");
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	assert_int_equal(b.document, FORM_TEXT);
	assert_null(b.etag);
	assert_int_equal(b.ent.n4, 3);
	same_entries(&b.ent, &a.ent);
	srcstate_free(&b);
	srcstate_free(&a);
}

/* The path of the attempt record in dir, into buf. */
static void
attempt_file(char *buf, size_t bufsz)
{
	size_t n;

	snprintf(buf, bufsz, "%s", state_file());
	n = strlen(buf);
	assert_true(n > 6 && strcmp(buf + n - 6, ".state") == 0);
	snprintf(buf + n - 6, bufsz - (n - 6), ".attempt");
}

/*
 * The attempt record is read leniently: the first value of a key wins
 * (the others are not leaked), another key is ignored; a line without
 * its newline drops the whole record.
 */
static void
test_attempt_record(void **state)
{
	struct srcstate a, b;
	char path[PATH_MAX];

	(void)state;
	sample(&a);
	a.error = xstrdup("boom");
	assert_int_equal(state_save(dir, &a), AS_OK);
	assert_int_equal(state_save_attempt(dir, &a), AS_OK);
	state_load(dir, NULL, URL, &pol, &b);
	assert_int_equal(b.attempt, a.attempt);
	assert_int_equal(b.result, RESULT_OK);
	assert_string_equal(b.error, "boom");
	assert_null(b.json_rejected);
	srcstate_free(&b);

	attempt_file(path, sizeof(path));
	write_file(path, "# x\nurl " URL "\nresult failed\nerror first\n"
	    "json-rejected one\nfuture-key 1\nresult ok\nerror second\n"
	    "json-rejected two\nattempt 2026-11-28T10:00:00Z\n"
	    "attempt 2026-11-29T10:00:00Z\n");
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	assert_int_equal(b.result, RESULT_FAILED);
	assert_string_equal(b.error, "first");
	assert_string_equal(b.json_rejected, "one");
	assert_int_equal(b.attempt, 1795860000);
	srcstate_free(&b);

	write_file(path, "result failed\nerror first\nattempt -");
	state_load(dir, NULL, URL, &pol, &b);
	assert_true(b.present);
	assert_int_equal(b.result, RESULT_NONE);
	assert_null(b.error);
	assert_int_equal(b.attempt, 0);
	srcstate_free(&b);
	srcstate_free(&a);
}

/* The lines of a good kernel record. */
#define K_BOOT		"boot abc-123\n"
#define K_COOKIE	"netns-cookie 42\n"
#define K_TARGET	"target inet filter v4 -\n"
#define K_GEN		"generation 7\n"
#define K_DIGEST	"digest 00ff\n"
#define K_ALL		"# x\n" K_BOOT K_COOKIE K_TARGET K_GEN K_DIGEST

/*
 * The kernel record: every key once, each value as written; anything
 * else makes it unusable.
 */
static void
test_kernel_record(void **state)
{
	static const char *const bad[] = {
		K_ALL "generation 8\n", K_ALL "boot 1234\n", K_ALL "extra 1\n",
		K_ALL "\n", K_BOOT K_COOKIE K_TARGET K_GEN,
		K_BOOT K_COOKIE K_TARGET "generation 0x7\n" K_DIGEST,
		K_BOOT K_COOKIE K_TARGET "generation 4294967296\n" K_DIGEST,
		K_BOOT "netns-cookie -1\n" K_TARGET K_GEN K_DIGEST,
		K_BOOT K_COOKIE K_TARGET K_GEN "digest 10000000000000000\n",
		"boot 0123456789012345678901234567890123456789\n" K_COOKIE
		    K_TARGET K_GEN K_DIGEST,
		K_BOOT K_COOKIE K_TARGET K_DIGEST "generation 7",
	};
	struct kernel_record r, back;
	char path[PATH_MAX + 16];
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	snprintf(r.boot_id, sizeof(r.boot_id), "0e6fc5b4-a1d2");
	r.netns_cookie = 18446744073709551615ULL;
	snprintf(r.target, sizeof(r.target), "inet filter s4 s6");
	r.generation = 4294967295U;
	r.digest = 0x0123456789abcdefULL;
	assert_int_equal(state_save_kernel(dir, &r), AS_OK);
	assert_true(state_load_kernel(dir, &back));
	assert_memory_equal(&r, &back, sizeof(r));

	snprintf(path, sizeof(path), "%s/" STATE_KERNEL, dir);
	write_file(path, K_ALL);
	assert_true(state_load_kernel(dir, &back));
	assert_string_equal(back.boot_id, "abc-123");
	assert_string_equal(back.target, "inet filter v4 -");
	assert_int_equal(back.netns_cookie, 42);
	assert_int_equal(back.generation, 7);
	assert_int_equal(back.digest, 0xff);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i]);
		if (state_load_kernel(dir, &back))
			fail_msg("bad kernel record #%zu accepted", i);
	}
	unlink(path);
	assert_false(state_load_kernel(dir, &back));
}

static void
test_include(void **state)
{
	struct nft_target t = {
		.family = "inet",
		.table = "filter",
		.set4 = "docplanner_v4",
		.set6 = "docplanner_v6"
	};
	struct srcstate a;
	struct rangelist want;
	struct nft_list l = { &t, &want };
	char path[PATH_MAX + 16], buf[1024];
	size_t n;
	FILE *f;

	(void)state;
	sample(&a);
	rangelist_init(&want);
	entryset_append(&want, &a.ent);
	rangelist_normalise(&want);
	assert_int_equal(state_write_include(dir, &l, 1), AS_OK);
	assert_true(state_include_current(dir, &l, 1));
	snprintf(path, sizeof(path), "%s/" STATE_INCLUDE, dir);
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "add element inet filter docplanner_v4 "
	    "{\n\t185.10.20.0/24,\n\t185.10.21.1,\n\t185.10.22.1\n}\n"));
	assert_non_null(strstr(buf, "add element inet filter docplanner_v6 "
	    "{\n\t2a01:4f8:10::/48\n}\n"));
	unlink(path);
	rangelist_free(&want);
	srcstate_free(&a);
}

static void
test_init_mode(void **state)
{
	char sub[PATH_MAX];
	struct stat sb;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/new", dir);
	assert_int_equal(state_init(sub), AS_OK);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(state_init(sub), AS_OK);
	rmdir(sub);
}

/* state_peek() finds what state_load() will, from the head alone. */
static void
test_peek(void **state)
{
	struct srcstate a, h;
	char path[PATH_MAX];

	(void)state;
	state_peek(dir, NULL, URL, &h);
	assert_false(h.present);
	srcstate_free(&h);
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	state_peek(dir, NULL, URL, &h);
	assert_true(h.present);
	assert_string_equal(h.etag, a.etag);
	assert_string_equal(h.last_modified, a.last_modified);
	assert_string_equal(h.reader, a.reader);
	assert_int_equal(entryset_count(&h.ent), 0);
	srcstate_free(&h);
	/* Another URL's file, or a head that is not a header: no hint. */
	state_peek(dir, NULL, "https://other.example/x.json", &h);
	assert_false(h.present);
	srcstate_free(&h);
	write_file(state_file(), "version 1\nurl " URL "\nurl " URL "\n"
	    "etag \"x\"\nend 0 0\n");
	state_peek(dir, NULL, URL, &h);
	assert_null(h.etag);
	srcstate_free(&h);
	/* A section without a file of its own peeks at the old one. */
	assert_int_equal(state_save(dir, &a), AS_OK);
	state_peek(dir, "docplanner", URL, &h);
	assert_true(h.present);
	assert_string_equal(h.etag, a.etag);
	srcstate_free(&h);
	/* A validator state_load() would drop is skipped, not the end. */
	write_file(state_file(), "version 1\nurl " URL "\netag \"\x01\"\n"
	    "last-modified Sat, 28 Nov 2026 10:00:00 GMT\nend 0 0\n");
	state_peek(dir, NULL, URL, &h);
	assert_true(h.present);
	assert_null(h.etag);
	assert_string_equal(h.last_modified, "Sat, 28 Nov 2026 10:00:00 GMT");
	srcstate_free(&h);
	/* A file cut in its header: the whole lines before the cut. */
	snprintf(path, sizeof(path), "%s", state_file());
	write_file(path, "version 1\nurl " URL "\netag \"y\"\nlast-mod");
	state_peek(dir, NULL, URL, &h);
	assert_true(h.present);
	assert_string_equal(h.etag, "\"y\"");
	assert_null(h.last_modified);
	srcstate_free(&h);
	srcstate_free(&a);
}

/*
 * exit_now() ends the process without the libraries' destructors, but
 * what stdio still holds gets out: a child prints to a pipe (so stdout is
 * fully buffered) and a file, and ends with exit_now(3).
 */
static void
test_exit_now_flushes(void **state)
{
	char path[PATH_MAX], buf[64] = "";
	int fds[2], status;
	ssize_t n;
	FILE *f;
	pid_t pid;

	(void)state;
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	assert_true((pid = fork()) != -1);
	if (pid == 0) {
		if (dup2(fds[1], STDOUT_FILENO) == -1 ||
		    (f = fopen(path, "w")) == NULL)
			_exit(99);
		printf("to stdout");
		fprintf(f, "to a file");
		exit_now(3);
	}
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_int_equal(n, 9);
	assert_string_equal(buf, "to stdout");
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "to a file");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disabled_family_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_validator_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_temporaries_removed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_link_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lock_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_link_ignored, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_entry_lines, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_attempt_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_kernel_record, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_include, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_mode, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_peek, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_now_flushes, setup,
		    teardown),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

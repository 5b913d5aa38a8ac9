/*
 * Unit tests for state.c: round trips, every kind of corrupt file, the
 * lock, and the include file.
 */
#include <sys/stat.h>

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
	st->document = xstrdup("json");
	st->etag = xstrdup("\"abc def\"");
	st->last_modified = xstrdup("Sat, 28 Nov 2026 10:00:00 GMT");
	st->fetched = st->accepted = st->attempt = 1795860000;
	st->result = xstrdup("ok");
	rangelist_add4(&st->ent.doc, &r1);
	rangelist_add4(&st->ent.doc, &r2);
	rangelist_add6(&st->ent.doc, &r6);
	entryset_add_pend4(&st->ent, &r3, 1);
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

static void
test_roundtrip(void **state)
{
	struct srcstate a, b;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	state_load(dir, URL, &pol, &b);
	assert_true(b.present);
	assert_string_equal(b.document, "json");
	assert_string_equal(b.etag, "\"abc def\"");
	assert_string_equal(b.last_modified, a.last_modified);
	assert_int_equal(b.accepted, a.accepted);
	assert_int_equal(b.ent.doc.n4, 2);
	assert_int_equal(b.ent.doc.n6, 1);
	assert_int_equal(b.ent.np4, 1);
	assert_int_equal(b.ent.p4[0].miss, 1);
	assert_memory_equal(b.ent.doc.v6, a.ent.doc.v6, sizeof(*a.ent.doc.v6));
	srcstate_free(&a);
	srcstate_free(&b);
}

static void
test_absent(void **state)
{
	struct srcstate b;

	(void)state;
	state_load(dir, URL, &pol, &b);
	assert_false(b.present);
	assert_string_equal(b.url, URL);
	srcstate_free(&b);
}

static void
test_corrupt(void **state)
{
	static const char *bad[] = {
		"",
		"garbage\n",
		"version 2\nurl " URL "\nend 0 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 2 0\n",
		"version 1\nurl https://other.example/x.json\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 0.0.0.0/0\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 10.0.0.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1/8\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted yesterday\nentry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument xml\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\npending 185.10.20.1 x\n"
		    "end 0 1\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 1 0\n"
		    "entry 185.10.20.2\n",
		"version 1\nurl " URL "\nbogus 1\nend 0 0\n",
		"version 1\nurl " URL "\ndocument -\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\naccepted -\n"
		    "entry 185.10.20.1\nend 1 0\n",
		"version 1\nurl " URL "\ndocument json\n"
		    "accepted 2026-11-28T10:00:00Z\nentry 185.10.20.1\nend 1 0",
	};
	struct srcstate a, b;
	size_t i;

	(void)state;
	sample(&a);
	assert_int_equal(state_save(dir, &a), AS_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(state_file(), bad[i]);
		state_load(dir, URL, &pol, &b);
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
	state_load(dir, URL, &p4, &b);
	assert_true(b.present);
	assert_int_equal(b.ent.doc.n6, 0);
	assert_int_equal(b.ent.doc.n4, 2);
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
		state_load(dir, URL, &pol, &b);
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
	state_load(dir, URL, &pol, &b);
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

static void
test_temporaries_removed(void **state)
{
	char path[PATH_MAX + 32], path2[PATH_MAX + 32];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/.source-0123.state.AbCdEf", dir);
	snprintf(path2, sizeof(path2), "%s/.kernel.state.XyZ123", dir);
	write_file(path, "half a file");
	write_file(path2, "half a file");
	assert_int_equal(state_lock(dir, 0, &fd), AS_OK);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(path2, F_OK), -1);
	close(fd);
	snprintf(path, sizeof(path), "%s/" STATE_LOCK, dir);
	unlink(path);
}

static void
test_include(void **state)
{
	struct nft_target t = { "inet", "filter", "docplanner_v4",
	    "docplanner_v6" };
	struct srcstate a;
	struct rangelist want;
	char path[PATH_MAX + 16], buf[1024];
	size_t n;
	FILE *f;

	(void)state;
	sample(&a);
	rangelist_init(&want);
	entryset_append(&want, &a.ent);
	rangelist_normalise(&want);
	assert_int_equal(state_write_include(dir, &t, &want), AS_OK);
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
		cmocka_unit_test_setup_teardown(test_include, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_mode, setup,
		    teardown),
	};

	log_init(LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

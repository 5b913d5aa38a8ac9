/*
 * Unit tests for log.c: escaping of untrusted text, thresholds, the
 * journal priority prefixes and the last-error record.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* Run fn with stderr captured; returns what it wrote (static buffer). */
static const char *
capture(void (*fn)(void))
{
	capture_start();
	fn();
	return capture_end();
}

static void
test_escape(void **state)
{
	char buf[ESCAPE_BUF];
	const char hostile[] = "1.2.3.4\x1b[2J\r\nallowsync: fake\x00\"\\\xff";

	(void)state;
	assert_string_equal(log_escape("1.2.3.4/24", 10, buf, sizeof(buf)),
	    "1.2.3.4/24");
	log_escape(hostile, sizeof(hostile) - 1, buf, sizeof(buf));
	assert_string_equal(buf, "1.2.3.4\\x1b[2J\\x0d\\x0aallowsync: fake"
	    "\\x00\\\"\\\\\\xff");
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\x1b'));
}

static void
test_escape_truncates(void **state)
{
	char big[1000], buf[32];
	size_t i;

	(void)state;
	memset(big, '\x01', sizeof(big));
	log_escape(big, sizeof(big), buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "..."));
	for (i = 0; buf[i] != '\0'; i++)
		assert_true(buf[i] >= 0x20 && buf[i] < 0x7f);
}

static void
emit_all(void)
{
	log_err("e%d", 1);
	log_warnx("w");
	log_notice("n");
	log_info("i");
	log_debug("d");
}

static void
test_threshold(void **state)
{
	const char *out;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_NOTICE);
	out = capture(emit_all);
	assert_string_equal(out, "allowsync: e1\nallowsync: w\n"
	    "allowsync: n\n");
	log_init(LOG_LVL_ERR);
	out = capture(emit_all);
	assert_string_equal(out, "allowsync: e1\n");
	assert_string_equal(log_last_error(), "e1");
}

static void
init_journal(void)
{
	struct stat st;
	char env[64];

	assert_int_equal(fstat(2, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init(LOG_LVL_DEBUG);
	emit_all();
}

static void
test_journal_prefixes(void **state)
{
	(void)state;
	assert_string_equal(capture(init_journal),
	    "<3>e1\n<4>w\n<5>n\n<6>i\n<7>d\n");
	/* A JOURNAL_STREAM naming another file is not the journal. */
	setenv("JOURNAL_STREAM", "1:1", 1);
	log_init(LOG_LVL_ERR);
	assert_string_equal(capture(emit_all), "allowsync: e1\n");
	unsetenv("JOURNAL_STREAM");
}

/* A thread's lines, kept by log_capture_start() in arg. */
static void *
captured_thread(void *arg)
{
	log_capture_start(arg);
	log_err("thread e%d", 2);
	log_info("thread i");
	log_warnx("thread w");
	log_capture_stop();
	return NULL;
}

static void
run_captured(void)
{
	struct log_capture c;
	pthread_t t;

	log_err("main e1");
	assert_int_equal(pthread_create(&t, NULL, captured_thread, &c), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	/* Nothing printed yet, and the main thread's last error stands. */
	assert_string_equal(log_last_error(), "main e1");
	log_notice("main n");
	log_capture_replay(&c);
	assert_null(c.buf);
	log_capture_replay(&c);
}

static void
test_capture(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_NOTICE);
	assert_string_equal(capture(run_captured), "allowsync: main e1\n"
	    "allowsync: main n\nallowsync: thread e2\nallowsync: thread w\n");
	/* Replayed, a kept error is the last one, as if logged then. */
	assert_string_equal(log_last_error(), "thread e2");
	log_init(LOG_LVL_ERR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_truncates),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_journal_prefixes),
		cmocka_unit_test(test_capture),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

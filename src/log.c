/*
 * Logging: one line per event on stderr.  When stderr is the journal
 * (JOURNAL_STREAM names its device and inode) every line carries a "<N>"
 * syslog priority prefix so journald files it at the right level.
 */
#include <sys/stat.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowsync.h"

static enum log_level	log_threshold = LOG_LVL_NOTICE;
static int		log_journal;
static char		log_lasterr[2048];
/* Where this thread's lines go instead (log_capture_start()), or NULL. */
static _Thread_local struct log_capture *log_cap;

/* Syslog priorities for each level, used as journal prefixes. */
static const int log_prio[] = { 3, 4, 5, 6, 7 };

/*
 * True when fd 2 is the stream JOURNAL_STREAM ("dev:ino") describes, as
 * systemd documents for services whose stderr goes to the journal.
 */
static int
stderr_is_journal(void)
{
	const char *e;
	unsigned long long dev, ino;
	struct stat st;

	if ((e = getenv("JOURNAL_STREAM")) == NULL)
		return 0;
	if (sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* Set the threshold and detect the journal. */
void
log_init(enum log_level threshold)
{
	log_threshold = threshold;
	log_journal = stderr_is_journal();
}

/* Keep line at level lvl in c, for log_capture_replay(). */
static void
capture(struct log_capture *c, enum log_level lvl, const char *line)
{
	size_t n = strlen(line) + 2;

	if (c->len + n > c->cap) {
		c->cap = c->len + n > 2 * c->cap ? c->len + n : 2 * c->cap;
		c->buf = xreallocarray(c->buf, c->cap, 1);
	}
	c->buf[c->len] = (char)lvl;
	memcpy(c->buf + c->len + 1, line, n - 1);
	c->len += n;
}

/* See allowsync.h. */
void
log_capture_start(struct log_capture *c)
{
	memset(c, 0, sizeof(*c));
	log_cap = c;
}

/* See allowsync.h. */
void
log_capture_stop(void)
{
	log_cap = NULL;
}

/* See allowsync.h. */
void
log_capture_replay(struct log_capture *c)
{
	size_t i;

	for (i = 0; i < c->len; i += strlen(c->buf + i + 1) + 2)
		log_msg((enum log_level)c->buf[i], "%s", c->buf + i + 1);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/*
 * Print one line.  The message must not contain untrusted text that has
 * not been through log_escape().  A trailing newline is added here.
 */
void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_cap != NULL) {
		capture(log_cap, lvl, line);
		return;
	}
	if (lvl == LOG_LVL_ERR)
		snprintf(log_lasterr, sizeof(log_lasterr), "%s", line);
	if (lvl > log_threshold)
		return;
	if (log_journal)
		fprintf(stderr, "<%d>%s\n", log_prio[lvl], line);
	else
		fprintf(stderr, "allowsync: %s\n", line);
}

/* The last error-level line; empty when none. */
const char *
log_last_error(void)
{
	return log_lasterr;
}

/* See allowsync.h.  Never emits a control byte, quote or raw backslash. */
const char *
log_escape(const char *s, size_t len, char *buf, size_t bufsz)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		/* Keep room for the longest escape, "..." and the NUL. */
		if (o + 4 + 3 + 1 > bufsz) {
			buf[o++] = '.';
			buf[o++] = '.';
			buf[o++] = '.';
			break;
		}
		if (c == '\\' || c == '"') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o] = '\0';
	return buf;
}

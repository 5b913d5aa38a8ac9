/*
 * The state directory itself: whether what it holds can be trusted, its
 * creation, the run lock, and the temporary files a killed run left.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "allowsync.h"

#define LOCK_POLL_MS	100			/* --wait polling interval */

/* See allowsync.h. */
bool
state_dir_trusted(const char *dir)
{
	struct stat sb;

	return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    !(sb.st_mode & (S_IWGRP | S_IWOTH));
}

/* See allowsync.h. */
enum as_status
state_dir_check(const char *dir)
{
	struct stat sb;

	/* Missing: nothing in it yet.  Unreadable: reads will say so. */
	if (stat(dir, &sb) == -1)
		return AS_OK;
	if (!S_ISDIR(sb.st_mode)) {
		log_err("state directory %s: not a directory", dir);
		return AS_ECONFIG;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		log_err("state directory %s is writable by %s (mode %04o): "
		    "anyone there could plant a list; make it 0700",
		    dir, sb.st_mode & S_IWOTH ? "others" : "its group",
		    (unsigned int)(sb.st_mode & 07777));
		return AS_ECONFIG;
	}
	return AS_OK;
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
 * hex digits), kernel.state, the include file or a metrics block
 * (metrics-MODE.prom).
 */
static bool
is_state_name(const char *name, size_t n)
{
	static const char *const fixed[] = { STATE_INCLUDE, STATE_KERNEL,
	    "metrics-sync.prom", "metrics-restore.prom",
	    "metrics-check.prom" };
	size_t i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (n == strlen(fixed[i]) && memcmp(name, fixed[i], n) == 0)
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
bool
state_lock_holder(const char *dir, char *buf, size_t bufsz)
{
	char path[PATH_MAX], line[256], holder[64];
	struct stat sb;
	unsigned long ino;
	unsigned int maj, min;
	long pid;
	bool held = false;
	FILE *f;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_LOCK);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return false;
	/* /proc/locks: asking flock() would make a starting run fail. */
	if (fstat(fd, &sb) == 0 && (f = fopen("/proc/locks", "re")) != NULL) {
		while (!held && fgets(line, sizeof(line), f) != NULL)
			held = sscanf(line, "%*s FLOCK %*s WRITE %ld "
			    "%x:%x:%lu", &pid, &maj, &min, &ino) == 4 &&
			    ino == (unsigned long)sb.st_ino &&
			    makedev(maj, min) == sb.st_dev;
		fclose(f);
	}
	if (held) {
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		log_escape(holder, strlen(holder), buf, bufsz);
	}
	close(fd);
	return held;
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

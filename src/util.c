/*
 * Helpers every stage uses: allocation that never fails (out of memory is
 * the one fatal error that does not travel back to main.c: there is
 * nothing sensible left to do), and the safe ways to read and write the
 * files this program keeps: never through a link, always whole.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allowsync.h"

/* stdio's buffer for the files atomic_stage() writes: an outbuf block. */
#define IOBUF_SIZE	(1 << 16)

/*
 * Out of memory: say so and abort.  A thread whose lines are being kept
 * (log_capture_start()) prints this one itself: nobody will replay them.
 */
static void
oom(void)
{
	log_capture_stop();
	log_err("out of memory");
	abort();
}

/* malloc that never returns NULL. */
void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		oom();
	return p;
}

/* calloc that never returns NULL. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		oom();
	return p;
}

/* reallocarray that never returns NULL and checks nmemb * size. */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		oom();
	if ((p = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size)) == NULL)
		oom();
	return p;
}

/* qsort that accepts an empty (possibly NULL) array. */
void
xqsort(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* strdup that never returns NULL. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* strndup that never returns NULL; the copy is NUL-terminated. */
char *
xstrndup(const char *s, size_t n)
{
	char *p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* The errno of the first failed write to standard output, 0 while none. */
static int out_errno;

/*
 * out_open()'s stream writes here, so the reason of a failure is kept
 * even when stdio flushes in the middle of a printf that returns none.
 * The bytes written; fewer than len on an error (fopencookie(3)).
 */
static ssize_t
out_write(void *cookie, const char *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	(void)cookie;
	while (done < len) {
		n = write(STDOUT_FILENO, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (out_errno == 0)
				out_errno = n < 0 ? errno : EIO;
			break;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* See allowsync.h. */
void
out_open(void)
{
	cookie_io_functions_t io = { .write = out_write };
	FILE *f;

	/* Without it, stdio's own stdout: the failure, not its reason. */
	if ((f = fopencookie(NULL, "w", io)) == NULL)
		return;
	if (isatty(STDOUT_FILENO))
		setvbuf(f, NULL, _IOLBF, 0);
	stdout = f;
}

/* See allowsync.h. */
void
out_flush(void)
{
	if (fflush(stdout) == EOF && out_errno == 0)
		out_errno = errno != 0 ? errno : EIO;
}

/* See allowsync.h. */
int
out_error(void)
{
	return out_errno;
}

/*
 * See allowsync.h.  At exit(3), each library libcurl brings (GnuTLS,
 * Kerberos, LDAP, nghttp2...) runs a destructor that faults in a window of
 * its code only to free memory the kernel is about to take back: 340 KiB,
 * the typical run's peak RSS, and some CPU.  Everything allowsync writes
 * is fsync'ed and closed before this; stdout and stderr are flushed here.
 * Builds whose tools report or write their data from exit handlers
 * (sanitizers, coverage, gprof) never get here: see main.c.
 */
_Noreturn void
exit_now(int code)
{
	fflush(NULL);
	_exit(code);
}

/* own_like_dir() without the warning: 0, or the errno of the fchown. */
static int
chown_like_dir(int fd, const char *dir)
{
	struct stat sb;

	if (geteuid() == 0 && stat(dir, &sb) == 0 && sb.st_uid != 0 &&
	    fchown(fd, sb.st_uid, sb.st_gid) == -1)
		return errno;
	return 0;
}

/*
 * When root writes into a directory someone else owns (a by-hand run
 * beside the service's DynamicUser), give the file the directory's owner,
 * so the service can still replace it.  Best effort.
 */
void
own_like_dir(int fd, const char *dir)
{
	int e;

	if ((e = chown_like_dir(fd, dir)) != 0)
		log_warnx("%s: cannot hand a new file to its owner: %s", dir,
		    strerror(e));
}


/* See allowsync.h. */
FILE *
safe_fopen_read(const char *path)
{
	struct stat sb;
	FILE *f;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1)
		return NULL;
	if (fstat(fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((f = fdopen(fd, "r")) == NULL)
		goto fail;
	return f;
 fail:
	e = errno;
	close(fd);
	errno = e;
	return NULL;
}

/* The directory of path, into dir. */
static void
dir_of(const char *path, char *dir, size_t dirsz)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, dirsz, ".");
	else
		snprintf(dir, dirsz, "%.*s",
		    (int)(slash == path ? 1 : slash - path), path);
}

/*
 * See allowsync.h.  The temporary file is ".NAME.XXXXXX" beside path, so
 * the rename stays within one file system.  Never logs: it may run in a
 * thread of its own (sync.c), and says why it failed in sf->err.
 */
void
atomic_stage(const char *path, int (*fill)(FILE *, const void *),
    const void *arg, struct staged *sf)
{
	char dir[PATH_MAX], *iobuf;
	const char *slash = strrchr(path, '/'), *base;
	FILE *f;
	int fd;

	memset(sf, 0, sizeof(*sf));
	dir_of(path, dir, sizeof(dir));
	snprintf(sf->path, sizeof(sf->path), "%s", path);
	if (strlen(path) + 9 > PATH_MAX) {
		sf->err = ENAMETOOLONG;
		return;
	}
	base = slash != NULL ? slash + 1 : path;
	snprintf(sf->tmp, sizeof(sf->tmp), "%.*s.%s.XXXXXX",
	    (int)(base - path), path, base);
	if ((fd = mkostemp(sf->tmp, O_CLOEXEC)) == -1) {
		sf->err = errno;
		sf->tmp[0] = '\0';
		return;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		sf->err = errno;
		close(fd);
		atomic_discard(sf);
		return;
	}
	/*
	 * Big files (a million ranges) go out in 64 KiB writes: stdio's
	 * own 4 KiB buffer would split each of an outbuf's 64 KiB blocks in
	 * two.  On the heap: on the stack, the buffer cost every run three
	 * pages of stack 64 KiB below the rest.
	 */
	iobuf = xmalloc(IOBUF_SIZE);
	setvbuf(f, iobuf, _IOFBF, IOBUF_SIZE);
	errno = EIO;
	if (fill(f, arg) < 0 || fflush(f) == EOF || ferror(f) ||
	    fchmod(fd, 0644) == -1 || fsync(fd) == -1) {
		sf->err = errno;
		fclose(f);
	} else {
		/* Best effort, as own_like_dir(); publish says why. */
		sf->chown_err = chown_like_dir(fd, dir);
		if (fclose(f) == EOF)
			sf->err = errno;
		else
			sf->ready = true;
	}
	free(iobuf);
	if (!sf->ready)
		atomic_discard(sf);
}

/* See allowsync.h. */
void
atomic_discard(struct staged *sf)
{
	if (sf->tmp[0] != '\0')
		unlink(sf->tmp);
	sf->tmp[0] = '\0';
	sf->ready = false;
}

/*
 * See allowsync.h.  After the rename the directory is fsync'ed so the new
 * name survives a crash.
 */
enum as_status
atomic_publish(struct staged *sf)
{
	char dir[PATH_MAX];
	int dfd, ok = 0;

	dir_of(sf->path, dir, sizeof(dir));
	if (sf->chown_err != 0)
		log_warnx("%s: cannot hand a new file to its owner: %s", dir,
		    strerror(sf->chown_err));
	if (!sf->ready)
		errno = sf->err != 0 ? sf->err : EINVAL;
	else if (rename(sf->tmp, sf->path) == -1)
		sf->err = errno;
	else {
		sf->tmp[0] = '\0';
		ok = 1;
		if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) !=
		    -1) {
			if (fsync(dfd) == -1)
				ok = 0;
			close(dfd);
		}
	}
	if (!ok) {
		if (sf->err == ENAMETOOLONG)
			log_err("%s: path too long", sf->path);
		else
			log_err("%s: cannot write: %s", sf->path,
			    strerror(sf->ready ? errno : sf->err));
		atomic_discard(sf);
		return AS_ECANTCREAT;
	}
	sf->ready = false;
	return AS_OK;
}

/* See allowsync.h. */
enum as_status
atomic_write(const char *path, int (*fill)(FILE *, const void *),
    const void *arg)
{
	struct staged sf;

	atomic_stage(path, fill, arg, &sf);
	return atomic_publish(&sf);
}

/* See allowsync.h. */
const char *
age_text(time_t secs, char *buf, size_t bufsz)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(buf, bufsz, "%lldd %lldh", (long long)secs / 86400,
		    (long long)secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(buf, bufsz, "%lldh %lldm", (long long)secs / 3600,
		    (long long)secs % 3600 / 60);
	else
		snprintf(buf, bufsz, "%llds", (long long)secs);
	return buf;
}

/* See allowsync.h. */
uint64_t
fnv1a(const char *s, uint64_t h)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Write what ob holds. */
static void
outbuf_flush(struct outbuf *ob)
{
	if (ob->len > 0)
		fwrite_unlocked(ob->buf, 1, ob->len, ob->f);
	ob->len = 0;
}

/* See allowsync.h. */
struct outbuf *
outbuf_new(FILE *f)
{
	struct outbuf *ob = xmalloc(sizeof(*ob));

	ob->f = f;
	ob->len = 0;
	return ob;
}

/* See allowsync.h. */
void
outbuf_free(struct outbuf *ob)
{
	outbuf_flush(ob);
	free(ob);
}

/* See allowsync.h. */
char *
outbuf_room(struct outbuf *ob, size_t n)
{
	if (n > sizeof(ob->buf) - ob->len)
		outbuf_flush(ob);
	return ob->buf + ob->len;
}

/* See allowsync.h. */
void
outbuf_done(struct outbuf *ob, const char *end)
{
	ob->len = (size_t)(end - ob->buf);
}

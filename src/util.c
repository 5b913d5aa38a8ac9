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

static void
oom(void)
{
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

/*
 * When root writes into a directory someone else owns (a by-hand run
 * beside the service's DynamicUser), give the file the directory's owner,
 * so the service can still replace it.  Best effort.
 */
void
own_like_dir(int fd, const char *dir)
{
	struct stat sb;

	if (geteuid() == 0 && stat(dir, &sb) == 0 && sb.st_uid != 0 &&
	    fchown(fd, sb.st_uid, sb.st_gid) == -1)
		log_warnx("%s: cannot hand a new file to its owner: %s", dir,
		    strerror(errno));
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

/*
 * See allowsync.h.  The temporary file is ".NAME.XXXXXX" beside path, so
 * the rename stays within one file system; after the rename the directory
 * is fsync'ed so the new name survives a crash.
 */
enum as_status
atomic_write(const char *path, int (*fill)(FILE *, const void *),
    const void *arg)
{
	static char iobuf[1 << 16];
	char tmp[PATH_MAX + 16], dir[PATH_MAX];
	const char *slash;
	FILE *f = NULL;
	int fd, dfd, ok = 0;

	if ((slash = strrchr(path, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash == path ? 1 : slash - path), path);
	if (strlen(path) + 9 > PATH_MAX) {
		log_err("%s: path too long", path);
		return AS_ECANTCREAT;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir,
	    slash ? slash + 1 : path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		log_err("%s: cannot create a temporary file: %s", path,
		    strerror(errno));
		return AS_ECANTCREAT;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		close(fd);
		goto out;
	}
	/* Big files (a million ranges) go out in big writes. */
	setvbuf(f, iobuf, _IOFBF, sizeof(iobuf));
	if (fill(f, arg) < 0 || fflush(f) == EOF || ferror(f) ||
	    fchmod(fd, 0644) == -1 || fsync(fd) == -1)
		goto out;
	own_like_dir(fd, dir);
	if (fclose(f) == EOF) {
		f = NULL;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) == -1)
		goto out;
	ok = 1;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(dfd) == -1)
			ok = 0;
		close(dfd);
	}
 out:
	if (!ok) {
		log_err("%s: cannot write: %s", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		unlink(tmp);
		return AS_ECANTCREAT;
	}
	return AS_OK;
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

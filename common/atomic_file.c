#include "common/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void release(struct ssmf_atomic_file *f)
{
	free(f->path);
	free(f->tmp);
	f->path = f->tmp = NULL;
	f->fd = -1;
	f->fp = NULL;
}

int ssmf_atomic_reserve(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen)
{
	size_t n = strlen(path) + 32;
	f->fd = -1;
	f->fp = NULL;
	f->failed_errno = 0;
	f->path = strdup(path);
	f->tmp = malloc(n);
	if (!f->path || !f->tmp) {
		snprintf(err, errlen, "%s: out of memory", path);
		release(f);
		return -1;
	}
	snprintf(f->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	return 0;
}

int ssmf_atomic_open(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen)
{
	if (ssmf_atomic_reserve(f, path, err, errlen) != 0)
		return -1;
	f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (f->fd < 0) {
		snprintf(err, errlen, "%s: cannot create %s: %s", path, f->tmp, strerror(errno));
		release(f);
		return -1;
	}
	return 0;
}

int ssmf_atomic_fopen(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen)
{
	if (ssmf_atomic_open(f, path, err, errlen) != 0)
		return -1;
	f->fp = fdopen(f->fd, "wb");
	if (!f->fp) {
		snprintf(err, errlen, "%s: cannot create %s: %s", path, f->tmp, strerror(errno));
		ssmf_atomic_abort(f);
		return -1;
	}
	f->fd = -1; /* the stream owns it now */
	return 0;
}

int ssmf_atomic_write(struct ssmf_atomic_file *f, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n && !f->failed_errno) {
		ssize_t w = write(f->fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			f->failed_errno = w < 0 ? errno : ENOSPC;
			break;
		}
		b += w;
		n -= (size_t)w;
	}
	return f->failed_errno ? -1 : 0;
}

static void fsync_dir(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return;
	char *slash = strrchr(dir, '/');
	const char *dname = ".";
	if (slash) {
		*slash = 0;
		dname = slash == dir ? "/" : dir;
	}
	int dfd = open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
}

/* Makes the temporary durable and closes it; 0 or an errno. */
static int sync_close(struct ssmf_atomic_file *f)
{
	int e = f->failed_errno;
	if (f->fp) {
		errno = 0;
		if (!e && (fflush(f->fp) != 0 || ferror(f->fp)))
			e = errno ? errno : EIO;
		if (!e && fsync(fileno(f->fp)) != 0)
			e = errno;
		if (fclose(f->fp) != 0 && !e)
			e = errno;
		f->fp = NULL;
		return e;
	}
	int fd = f->fd >= 0 ? f->fd : open(f->tmp, O_RDONLY | O_CLOEXEC); /* reserved: reopen */
	f->fd = -1;
	if (fd < 0)
		return e ? e : errno;
	if (!e && fsync(fd) != 0)
		e = errno;
	if (close(fd) != 0 && !e)
		e = errno;
	return e;
}

int ssmf_atomic_commit(struct ssmf_atomic_file *f, char *err, size_t errlen)
{
	int e = sync_close(f);
	if (!e && rename(f->tmp, f->path) != 0)
		e = errno;
	if (e) {
		snprintf(err, errlen, "%s: cannot write: %s", f->path, strerror(e));
		unlink(f->tmp);
		release(f);
		return -1;
	}
	fsync_dir(f->path);
	release(f);
	return 0;
}

void ssmf_atomic_abort(struct ssmf_atomic_file *f)
{
	if (f->fp)
		fclose(f->fp);
	else if (f->fd >= 0)
		close(f->fd);
	if (f->tmp)
		unlink(f->tmp);
	release(f);
}

int ssmf_atomic_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
	struct ssmf_atomic_file f;
	if (ssmf_atomic_open(&f, path, err, errlen) != 0)
		return -1;
	ssmf_atomic_write(&f, buf, len);
	return ssmf_atomic_commit(&f, err, errlen);
}

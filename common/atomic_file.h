/* atomic_file.h - a file appears complete under its final name or not at all.
 *
 * The one writer every output goes through (fd, FILE* or a library that creates the file
 * itself, like HDF5): writes go to PATH.tmp.PID beside the final name, in the same
 * directory so the rename cannot cross file systems; commit fsyncs the file, renames it over
 * PATH and fsyncs the directory, so the rename survives a crash too (SQLite's discipline).
 * Abort, or any failed write, leaves nothing behind. */
#ifndef SSMF_ATOMIC_FILE_H
#define SSMF_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

struct ssmf_atomic_file {
	int fd;           /* -1 for a stream or a reserved name */
	FILE *fp;         /* ssmf_atomic_fopen's stream, else NULL */
	int failed_errno; /* first write error, 0 if none; a caller may set it */
	char *path, *tmp;
};

/* Creates the temporary file for write(2). 0, or -1 with "PATH: reason" in err. */
int ssmf_atomic_open(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen);
/* The same as a stdio stream (f->fp, binary, seekable). */
int ssmf_atomic_fopen(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen);
/* Only names the temporary (f->tmp), for a writer that creates and closes the file itself
 * before commit (HDF5's H5Fcreate). */
int ssmf_atomic_reserve(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen);
/* Appends n bytes to the fd; a failure is remembered and reported by commit. 0 or -1. */
int ssmf_atomic_write(struct ssmf_atomic_file *f, const void *p, size_t n);
/* Flush (a stream), fsync, close, rename over the final name, fsync the directory. 0, or -1
 * with "PATH: cannot write: reason" in err (and nothing left behind). Frees f's resources
 * either way. */
int ssmf_atomic_commit(struct ssmf_atomic_file *f, char *err, size_t errlen);
/* Closes and removes the temporary file. */
void ssmf_atomic_abort(struct ssmf_atomic_file *f);
/* The whole of buf as PATH, atomically. */
int ssmf_atomic_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen);

#endif

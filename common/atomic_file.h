/* atomic_file.h - a file appears complete under its final name or not at all.
 *
 * Writes go to PATH.tmp.PID beside the final name; commit fsyncs it, renames it over PATH
 * and fsyncs the directory, so the rename survives a crash too (SQLite's discipline).
 * Abort, or any failed write, leaves nothing behind. */
#ifndef SSMF_ATOMIC_FILE_H
#define SSMF_ATOMIC_FILE_H

#include <stddef.h>

struct ssmf_atomic_file {
	int fd;
	int failed_errno; /* first write error, 0 if none */
	char *path, *tmp;
};

/* Creates the temporary file. 0, or -1 with "PATH: reason" in err. */
int ssmf_atomic_open(struct ssmf_atomic_file *f, const char *path, char *err, size_t errlen);
/* Appends n bytes; a failure is remembered and reported by commit. Returns 0 or -1. */
int ssmf_atomic_write(struct ssmf_atomic_file *f, const void *p, size_t n);
/* fsync, close, rename over the final name, fsync the directory. 0, or -1 with err
 * (and nothing left behind). Frees f's resources either way. */
int ssmf_atomic_commit(struct ssmf_atomic_file *f, char *err, size_t errlen);
/* Closes and removes the temporary file. */
void ssmf_atomic_abort(struct ssmf_atomic_file *f);
/* The whole of buf as PATH, atomically. */
int ssmf_atomic_write_file(const char *path, const void *buf, size_t len, char *err, size_t errlen);

#endif

/* read_file.h - a whole regular file into memory, bounded. */
#ifndef SSMF_READ_FILE_H
#define SSMF_READ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* Reads all of `path` (a regular file of at most max bytes) into a malloc'd *out of *len
 * bytes (one byte allocated when empty). 0, or -1 with "PATH: reason" in err; `what` names
 * the kind of file in the size error ("a checkpoint"). */
int ssmf_read_file(const char *path, uint64_t max, const char *what, unsigned char **out,
                   uint64_t *len, char *err, size_t errlen);

#endif

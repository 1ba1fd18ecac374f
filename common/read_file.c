#include "common/read_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ssmf_read_file(const char *path, uint64_t max, const char *what, unsigned char **out,
                   uint64_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	uint64_t n = (uint64_t)st.st_size;
	if (n > max) {
		snprintf(err, errlen, "%s: %llu bytes is too large for %s", path,
		         (unsigned long long)n, what);
		close(fd);
		return -1;
	}
	unsigned char *buf = malloc(n ? n : 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -1;
	}
	uint64_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, (size_t)(n - got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: read error: %s", path,
			         r < 0 ? strerror(errno) : "file shrank while reading");
			free(buf);
			close(fd);
			return -1;
		}
		got += (uint64_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

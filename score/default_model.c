#include "score/default_model.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* Generated at configure time from models/default.ssmf (score/CMakeLists.txt). */
extern const unsigned char ssmf_default_model_bytes[];
extern const size_t ssmf_default_model_len;

size_t ssmf_default_model_size(void)
{
	return ssmf_default_model_len;
}

struct ssmf_model *ssmf_default_model_load(char *err, size_t errlen)
{
	if (!ssmf_default_model_len) {
		snprintf(err, errlen,
		         "this build has no bundled model (models/default.ssmf was "
		         "missing at build time): give one with -m MODEL");
		return NULL;
	}
	/* The checkpoint loader reads files: give it an anonymous in-memory one. */
	int fd = memfd_create("ssmflow-default-model", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot load the bundled model: memfd_create failed");
		return NULL;
	}
	size_t off = 0;
	while (off < ssmf_default_model_len) {
		ssize_t n = write(fd, ssmf_default_model_bytes + off, ssmf_default_model_len - off);
		if (n <= 0) {
			close(fd);
			snprintf(err, errlen, "cannot load the bundled model: write failed");
			return NULL;
		}
		off += (size_t)n;
	}
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	char inner[512];
	struct ssmf_model *m = ssmf_checkpoint_load(path, inner, sizeof inner);
	close(fd);
	if (!m)
		snprintf(err, errlen, "the bundled model does not load: %s", inner);
	return m;
}

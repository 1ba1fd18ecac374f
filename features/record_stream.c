/* record_stream.c - the harvester's record stream, written by `extract --records`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/atomic_file.h"
#include "features/record_stream.h"

struct ssmf_record_stream {
	FILE *f;                     /* stdout, or out.fp */
	struct ssmf_atomic_file out; /* out.path NULL: stdout */
	uint64_t count;
	int failed, saved_errno;
};

/* value's `size` low bytes at p, little-endian */
static void put_le(unsigned char *p, uint64_t value, size_t size)
{
	for (size_t i = 0; i < size; i++)
		p[i] = (unsigned char)(value >> (8 * i));
}

/* The record as the stream carries it: each field of the record's table at its offset,
 * little-endian, whatever the host's byte order. */
static void encode(unsigned char *out, const struct ssmf_record *r)
{
#define ENCODE_FIELD(name, type, n, off, doc)                                                      \
	for (size_t i = 0; i < (n); i++)                                                           \
		put_le(out + (off) + i * sizeof(type), ((const type *)&r->name)[i], sizeof(type));
	SSMF_RECORD_FIELDS(ENCODE_FIELD)
#undef ENCODE_FIELD
}

static void header(unsigned char *h, uint64_t count)
{
	memset(h, 0, SSMF_RECS_HEADER);
	memcpy(h, SSMF_RECS_MAGIC, 8);
	put_le(h + 8, SSMF_RECS_VERSION, 4);
	put_le(h + 12, SSMF_RECORD_VERSION, 4);
	put_le(h + 16, SSMF_RECORD_SIZE, 4);
	put_le(h + 20, SSMF_RECS_HEADER, 4);
	put_le(h + 24, count, 8);
}

struct ssmf_record_stream *ssmf_record_stream_open(const char *path, char *err, size_t errlen)
{
	struct ssmf_record_stream *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		s->f = stdout;
	} else {
		if (ssmf_atomic_fopen(&s->out, path, err, errlen) != 0) {
			free(s);
			return NULL;
		}
		s->f = s->out.fp;
	}
	unsigned char h[SSMF_RECS_HEADER];
	header(h, s->out.path ? 0 : SSMF_RECS_COUNT_OPEN);
	if (fwrite(h, 1, sizeof h, s->f) != sizeof h) {
		s->failed = 1;
		s->saved_errno = errno;
	}
	return s;
}

int ssmf_record_stream_write(struct ssmf_record_stream *s, const struct ssmf_record *r)
{
	if (s->failed)
		return -1;
	unsigned char bytes[SSMF_RECORD_SIZE];
	encode(bytes, r);
	if (fwrite(bytes, SSMF_RECORD_SIZE, 1, s->f) != 1) {
		s->failed = 1;
		s->saved_errno = errno;
		return -1;
	}
	s->count++;
	return 0;
}

uint64_t ssmf_record_stream_count(const struct ssmf_record_stream *s)
{
	return s->count;
}

int ssmf_record_stream_commit(struct ssmf_record_stream *s, char *err, size_t errlen)
{
	int rc = s->failed ? -1 : 0;
	if (!s->out.path) {
		errno = s->saved_errno;
		if (rc == 0 && fflush(s->f) != 0)
			rc = -1;
		if (rc != 0)
			snprintf(err, errlen, "record stream to stdout: %s", strerror(errno));
		free(s);
		return rc;
	}
	/* the count goes into the header once it is known */
	unsigned char count[8];
	put_le(count, s->count, 8);
	if (rc == 0 && (fflush(s->f) != 0 || fseek(s->f, 24, SEEK_SET) != 0 ||
	                fwrite(count, 8, 1, s->f) != 1)) {
		s->failed = 1;
		s->saved_errno = errno;
	}
	if (s->failed)
		s->out.failed_errno = s->saved_errno ? s->saved_errno : EIO;
	rc = ssmf_atomic_commit(&s->out, err, errlen);
	free(s);
	return rc;
}

void ssmf_record_stream_abort(struct ssmf_record_stream *s)
{
	if (!s)
		return;
	if (s->out.path)
		ssmf_atomic_abort(&s->out);
	else
		fflush(s->f);
	free(s);
}

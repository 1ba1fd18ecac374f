/* record_stream.c - the harvester's record stream, written by `extract --records`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "features/record_stream.h"

struct ssmf_record_stream {
	FILE *f;
	char *path, *tmp; /* tmp NULL: stdout */
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
	if (!s || !(s->path = strdup(path))) {
		free(s);
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		s->f = stdout;
	} else {
		size_t n = strlen(path) + 32;
		s->tmp = malloc(n);
		if (s->tmp) {
			snprintf(s->tmp, n, "%s.tmp.%ld", path, (long)getpid());
			s->f = fopen(s->tmp, "wbx");
		}
		if (!s->f) {
			snprintf(err, errlen, "%s: cannot create: %s", s->tmp ? s->tmp : path,
			         strerror(errno));
			free(s->tmp);
			free(s->path);
			free(s);
			return NULL;
		}
	}
	unsigned char h[SSMF_RECS_HEADER];
	header(h, s->tmp ? 0 : SSMF_RECS_COUNT_OPEN);
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

static void release(struct ssmf_record_stream *s)
{
	free(s->tmp);
	free(s->path);
	free(s);
}

int ssmf_record_stream_commit(struct ssmf_record_stream *s, char *err, size_t errlen)
{
	int rc = s->failed ? -1 : 0;
	errno = s->saved_errno;
	if (!s->tmp) {
		if (rc == 0 && fflush(s->f) != 0)
			rc = -1;
		if (rc != 0)
			snprintf(err, errlen, "record stream to stdout: %s", strerror(errno));
		release(s);
		return rc;
	}
	/* the count goes into the header once it is known */
	unsigned char count[8];
	put_le(count, s->count, 8);
	if (rc == 0 &&
	    (fflush(s->f) != 0 || fseek(s->f, 24, SEEK_SET) != 0 ||
	     fwrite(count, 8, 1, s->f) != 1 || fflush(s->f) != 0 || fsync(fileno(s->f)) != 0))
		rc = -1;
	int saved = errno;
	if (fclose(s->f) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(s->tmp, s->path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: cannot write the record stream: %s", s->path,
		         strerror(saved));
		unlink(s->tmp);
	}
	release(s);
	return rc;
}

void ssmf_record_stream_abort(struct ssmf_record_stream *s)
{
	if (!s)
		return;
	if (s->tmp) {
		fclose(s->f);
		unlink(s->tmp);
	} else {
		fflush(s->f);
	}
	release(s);
}

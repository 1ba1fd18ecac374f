/* record_stream.h - per-packet records as the live harvester puts them into shared
 * memory: a 4096-byte header page, then fixed-size records in capture order.
 *
 * Header (little-endian): 0 magic "SSMFRECS", 8 u32 stream format version (1),
 * 12 u32 record version, 16 u32 record size (32), 20 u32 header size (4096),
 * 24 u64 record count (SSMF_RECS_COUNT_OPEN on a pipe: "until end of stream"),
 * rest zero. Documented in ssmflow-formats(5). */
#ifndef SSMF_RECORD_STREAM_H
#define SSMF_RECORD_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "features/ssmf_record.h"

#define SSMF_RECS_MAGIC      "SSMFRECS"
#define SSMF_RECS_VERSION    1u
#define SSMF_RECS_HEADER     4096u
#define SSMF_RECS_COUNT_OPEN UINT64_MAX

struct ssmf_record_stream;

/* path "-" is stdout (count left open); a file is written under a temporary name. */
struct ssmf_record_stream *ssmf_record_stream_open(const char *path, char *err, size_t errlen);
int ssmf_record_stream_write(struct ssmf_record_stream *s, const struct ssmf_record *r);
uint64_t ssmf_record_stream_count(const struct ssmf_record_stream *s);
/* File: writes the count, fsyncs, renames. Stdout: flushes. Frees s either way. */
int ssmf_record_stream_commit(struct ssmf_record_stream *s, char *err, size_t errlen);
/* Removes the temporary file (stdout: flushes what was written). Frees s. */
void ssmf_record_stream_abort(struct ssmf_record_stream *s);

#endif

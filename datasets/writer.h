/* writer.h - writes a dataset: flows as they end, then provenance and
 * parameters. The file is built under a temporary name in the destination's
 * directory and renamed over the final name only by ssmf_writer_commit. */
#ifndef SSMF_WRITER_H
#define SSMF_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/schema.h"
#include "features/flow_summary.h"
#include "features/ssmf_record.h"

struct ssmf_writer_opts {
	int zstd_level;         /* 1..19 */
	uint32_t packets_chunk; /* records per HDF5 chunk */
	uint32_t flows_chunk;   /* summaries per HDF5 chunk */
};

void ssmf_writer_opts_default(struct ssmf_writer_opts *o);

struct ssmf_writer;

struct ssmf_writer *ssmf_writer_create(const char *path, const struct ssmf_writer_opts *o,
                                       char *err, size_t errlen);
/* Appends one flow (its packet_offset is set here). 0 or -1 (see ssmf_writer_error). */
int ssmf_writer_add_flow(struct ssmf_writer *w, const struct ssmf_flow_summary *s,
                         const struct ssmf_record *records);
int ssmf_writer_add_input(struct ssmf_writer *w, const struct ssmf_input_info *in);
/* Root attributes (parameters, counters). */
int ssmf_writer_attr_u64(struct ssmf_writer *w, const char *name, uint64_t v);
int ssmf_writer_attr_f64(struct ssmf_writer *w, const char *name, double v);
int ssmf_writer_attr_str(struct ssmf_writer *w, const char *name, const char *v);
/* A named 1-D column at the root, e.g. scores row for row beside /flows. */
int ssmf_writer_column_f64(struct ssmf_writer *w, const char *name, const double *v, size_t n);
int ssmf_writer_column_u64(struct ssmf_writer *w, const char *name, const uint64_t *v, size_t n);
int ssmf_writer_column_str(struct ssmf_writer *w, const char *name, const char *const *v,
                           size_t n);
int ssmf_writer_label_names(struct ssmf_writer *w, const char *const *names, size_t n);
const char *ssmf_writer_error(const struct ssmf_writer *w);
uint64_t ssmf_writer_flows(const struct ssmf_writer *w);
uint64_t ssmf_writer_packets(const struct ssmf_writer *w);
/* Flushes, closes, fsyncs and renames to the final name. Frees w. 0 or -1 with err. */
int ssmf_writer_commit(struct ssmf_writer *w, char *err, size_t errlen);
/* Closes and removes the temporary file. Frees w. */
void ssmf_writer_abort(struct ssmf_writer *w);
/* The temporary file's name (for a signal handler's last-resort unlink). */
const char *ssmf_writer_temp_path(const struct ssmf_writer *w);

#endif

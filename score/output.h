/* output.h - scored flows as a table for people, CSV, JSON lines or HDF5 for
 * machines. Field names are documented in ssmflow-score(1). */
#ifndef SSMF_SCORE_OUTPUT_H
#define SSMF_SCORE_OUTPUT_H

#include <stdio.h>

#include "datasets/labels.h"
#include "score/evaluate.h"
#include "score/hosts.h"
#include "score/metrics.h"
#include "score/report.h"
#include "score/scorer.h"

enum ssmf_score_format { SSMF_FMT_TABLE, SSMF_FMT_CSV, SSMF_FMT_JSONL, SSMF_FMT_HDF5 };

/* Sorts by score (highest first), then flow id: the order of every output. */
void ssmf_scores_sort(struct ssmf_flow_score *r, size_t n);

/* The top `top` flows as an aligned table. */
void ssmf_write_table(FILE *out, const struct ssmf_flow_score *r, size_t n, size_t top,
                      const struct ssmf_labels *labels, int have_threshold);
/* All flows; with per_packet, each flow's packets too (CSV: a second file). */
int ssmf_write_csv(FILE *out, FILE *packets_out, const struct ssmf_flow_score *r, size_t n,
                   const struct ssmf_labels *labels);
int ssmf_write_jsonl(FILE *out, const struct ssmf_flow_score *r, size_t n,
                     const struct ssmf_labels *labels, int per_packet);
/* hosts (NULL-able): the host table, as host_* columns; inputs (NULL-able): the scored
 * inputs' provenance, as /inputs (the --calibrate inputs left out). */
int ssmf_write_scores_h5(const char *path, const struct ssmf_flow_score *r, size_t n,
                         const struct ssmf_host_results *hosts,
                         const struct ssmf_report_inputs *inputs, const struct ssmf_labels *labels,
                         int per_packet, double threshold, const struct ssmf_evaluation *ev,
                         char *err, size_t errlen);
void ssmf_write_metrics(FILE *out, const struct ssmf_metrics *m);

/* The packet level's component names, as the outputs spell them. */
extern const char *const ssmf_comp_names[SSMF_N_COMP];
/* The IP protocol's lowercase name ("tcp"), or its number in buf. */
const char *ssmf_proto_name(uint8_t p, char *buf, size_t len);
/* What makes the flow's score: its packets' largest component ("size"), its host event's
 * when that outweighs them ("host:interval"), "-" with neither. */
const char *ssmf_flow_reason(const struct ssmf_flow_score *r, char *buf, size_t len);
/* ISO 8601 in UTC with nanoseconds: 2026-12-02T13:59:01.123456789Z. */
void ssmf_iso_time(uint64_t ns, char *buf, size_t len);

#endif

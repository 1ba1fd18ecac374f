/* reader.h - reads datasets written by ssmf_writer: validated on open, flows
 * and records by range. */
#ifndef SSMF_READER_H
#define SSMF_READER_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/schema.h"
#include "features/flow_summary.h"
#include "features/ssmf_record.h"

struct ssmf_dataset;

/* Opens and validates `path`: format name, versions, record size, and that
 * every flow's packet range lies inside /packets. NULL with err on failure. */
struct ssmf_dataset *ssmf_dataset_open(const char *path, char *err, size_t errlen);
/* The same without the child-process metadata probe (see reader.c): for files this
 * process wrote itself, and for the fuzzer, which must see the code it drives. */
struct ssmf_dataset *ssmf_dataset_open_direct(const char *path, char *err, size_t errlen);
uint64_t ssmf_dataset_nflows(const struct ssmf_dataset *ds);
uint64_t ssmf_dataset_npackets(const struct ssmf_dataset *ds);
const char *ssmf_dataset_path(const struct ssmf_dataset *ds);
/* All flow summaries, in file order (loaded on open). */
const struct ssmf_flow_summary *ssmf_dataset_flows(const struct ssmf_dataset *ds);
/* Flows with more packets than their records in /packets (extract's --max-packets cut them):
 * a dataset scores only their first packet_count packets. */
uint64_t ssmf_dataset_flows_cut(const struct ssmf_dataset *ds);
/* Records [start, start+n). 0 or -1 with err. */
int ssmf_dataset_read_packets(struct ssmf_dataset *ds, uint64_t start, uint64_t n,
                              struct ssmf_record *out, char *err, size_t errlen);
/* Root attributes: 0 if present and of the right kind, else -1. */
int ssmf_dataset_attr_u64(const struct ssmf_dataset *ds, const char *name, uint64_t *v);
int ssmf_dataset_attr_f64(const struct ssmf_dataset *ds, const char *name, double *v);
int ssmf_dataset_attr_str(const struct ssmf_dataset *ds, const char *name, char *buf, size_t len);
/* Calls fn for each root attribute name in creation order. */
void ssmf_dataset_each_attr(const struct ssmf_dataset *ds, void (*fn)(const char *name, void *user),
                            void *user);
/* Provenance rows; the strings belong to the dataset. */
size_t ssmf_dataset_ninputs(const struct ssmf_dataset *ds);
const struct ssmf_input_info *ssmf_dataset_input(const struct ssmf_dataset *ds, size_t i);
/* Label names (/label_names) that flows' label fields index; NULL for an unknown id. */
size_t ssmf_dataset_nlabels(const struct ssmf_dataset *ds);
const char *ssmf_dataset_label_name(const struct ssmf_dataset *ds, int32_t id);
void ssmf_dataset_close(struct ssmf_dataset *ds);

#endif

/* host_output.h - the host table (score/hosts.h) in every output format of score; field
 * names are documented in ssmflow-score(1). */
#ifndef SSMF_HOST_OUTPUT_H
#define SSMF_HOST_OUTPUT_H

#include <stdio.h>

#include "datasets/writer.h"
#include "score/hosts.h"

/* The `top` highest-scoring hosts as an aligned table. */
void ssmf_write_host_table(FILE *out, const struct ssmf_host_results *h, size_t top);
/* Every host, a CSV row each. */
int ssmf_write_hosts_csv(FILE *out, const struct ssmf_host_results *h);
/* Every host, a JSON line each ("event_type": "host"). */
int ssmf_write_hosts_jsonl(FILE *out, const struct ssmf_host_results *h);
/* Every host as hosts_* columns of a scores file. */
int ssmf_write_hosts_h5(struct ssmf_writer *w, const struct ssmf_host_results *h);

#endif

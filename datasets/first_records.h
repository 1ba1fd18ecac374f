/* first_records.h - each flow's first packet record, read from a dataset in one pass. */
#ifndef SSMF_FIRST_RECORDS_H
#define SSMF_FIRST_RECORDS_H

#include "datasets/reader.h"
#include "features/ssmf_record.h"

/* out[i] receives the first record of /flows row i (zeros for a flow with no stored
 * record). The rows are visited in /packets order through a window, so each compressed
 * chunk is read about once. Returns 0, or -1 with err set. */
int ssmf_dataset_first_records(struct ssmf_dataset *ds, struct ssmf_record *out, char *err,
                               size_t errlen);

#endif

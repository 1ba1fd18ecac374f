/* labels.c - dataset labels (index into /label_names, read by the dataset reader) to the
 * binary target of the supervised head; which names are benign is datasets/labels.c's
 * ssmf_label_is_benign. When a dataset has labels but no names, label 0 is benign. */
#include <stdio.h>

#include "datasets/labels.h"
#include "datasets/reader.h"
#include "train/flowset.h"

int train_labels_map(const struct ssmf_dataset *ds, const int32_t *raw, size_t n, int32_t *out,
                     char *err, size_t errlen)
{
	size_t n_names = ssmf_dataset_nlabels(ds);
	for (size_t i = 0; i < n; i++) {
		if (raw[i] < 0)
			out[i] = -1;
		else if (n_names == 0)
			out[i] = raw[i] != 0;
		else if ((size_t)raw[i] >= n_names) {
			snprintf(err, errlen,
			         "%s: flow %zu has label %d, the dataset names %zu labels",
			         ssmf_dataset_path(ds), i, raw[i], n_names);
			return -1;
		} else
			out[i] = !ssmf_label_is_benign(ssmf_dataset_label_name(ds, raw[i]));
	}
	return 0;
}

/* labels.c - dataset labels (index into /label_names) to the binary target of the
 * supervised head. The dataset reader has no accessor for /label_names, so this reads it
 * with HDF5 directly; when a dataset has labels but no names, label 0 is benign. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datasets/schema.h"
#include "train/flowset.h"

static int benign_name(const char *s)
{
	static const char *const names[] = {"benign", "normal", "background", "legitimate"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (strcasecmp(s, names[i]) == 0)
			return 1;
	return 0;
}

/* is_benign[i] for each label name; *n = 0 when the dataset has no /label_names. */
static int read_names(const char *path, unsigned char **is_benign, size_t *n, char *err,
                      size_t errlen)
{
	*is_benign = NULL;
	*n = 0;
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	int rc = 0;
	if (H5Lexists(f, SSMF_DS_LABEL_NAMES, H5P_DEFAULT) <= 0) {
		H5Fclose(f);
		return 0;
	}
	hid_t d = H5Dopen2(f, SSMF_DS_LABEL_NAMES, H5P_DEFAULT);
	hid_t space = d >= 0 ? H5Dget_space(d) : -1;
	hssize_t cnt = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	/* HDF5 does not convert between character sets: read in the file's (h5py writes
	 * UTF-8, older tools ASCII) */
	hid_t ft = d >= 0 ? H5Dget_type(d) : -1;
	if (ft >= 0) {
		H5T_cset_t cs = H5Tget_cset(ft);
		if (cs >= 0)
			H5Tset_cset(t, cs);
		H5Tclose(ft);
	}
	char **names = cnt > 0 ? calloc((size_t)cnt, sizeof *names) : NULL;
	if (d < 0 || cnt < 0 || (cnt > 0 && !names) ||
	    (cnt > 0 && H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) < 0)) {
		snprintf(err, errlen, "%s: cannot read %s", path, SSMF_DS_LABEL_NAMES);
		rc = -1;
	} else if (cnt > 0) {
		*is_benign = malloc((size_t)cnt);
		if (!*is_benign) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		} else {
			for (hssize_t i = 0; i < cnt; i++)
				(*is_benign)[i] = names[i] && benign_name(names[i]);
			*n = (size_t)cnt;
		}
		H5Dvlen_reclaim(t, space, H5P_DEFAULT, names);
	}
	free(names);
	H5Tclose(t);
	if (space >= 0)
		H5Sclose(space);
	if (d >= 0)
		H5Dclose(d);
	H5Fclose(f);
	return rc;
}

int train_labels_map(const char *path, const int32_t *raw, size_t n, int32_t *out, char *err,
                     size_t errlen)
{
	int any = 0;
	for (size_t i = 0; i < n && !any; i++)
		any = raw[i] >= 0;
	if (!any) {
		for (size_t i = 0; i < n; i++)
			out[i] = -1;
		return 0;
	}
	unsigned char *is_benign;
	size_t n_names;
	if (read_names(path, &is_benign, &n_names, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (raw[i] < 0)
			out[i] = -1;
		else if (n_names == 0)
			out[i] = raw[i] != 0;
		else if ((size_t)raw[i] >= n_names) {
			snprintf(err, errlen,
			         "%s: flow %zu has label %d, the dataset names %zu labels", path, i,
			         raw[i], n_names);
			free(is_benign);
			return -1;
		} else
			out[i] = !is_benign[raw[i]];
	}
	free(is_benign);
	return 0;
}

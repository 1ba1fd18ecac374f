#include "datasets/reader.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

#include "datasets/h5zstd.h"

struct ssmf_dataset {
	hid_t file, packets, rec_type;
	uint64_t nflows, npackets;
	struct ssmf_flow_summary *flows;
	struct ssmf_input_info *inputs;
	size_t ninputs;
	hid_t input_type, input_space;
	char **label_names; /* /label_names, NULL-terminated; NULL when absent */
	size_t nlabels;
	char *path;
};

static uint64_t dataset_len(hid_t d)
{
	hid_t s = H5Dget_space(d);
	hsize_t n = 0;
	if (s >= 0 && H5Sget_simple_extent_ndims(s) == 1)
		H5Sget_simple_extent_dims(s, &n, NULL);
	if (s >= 0)
		H5Sclose(s);
	return n;
}

/* A NULL string in the file's /inputs reads as "" (callers print them); the
 * placeholder goes back to NULL before HDF5 frees the strings it allocated. */
static char empty_str[1];

static void input_strings(struct ssmf_input_info *in, int restore)
{
	char **s[] = {&in->path,   &in->format,  &in->sha256,
	              &in->status, &in->message, &in->linktype_name};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
		if (restore && *s[i] == empty_str)
			*s[i] = NULL;
		else if (!restore && !*s[i])
			*s[i] = empty_str;
	}
}

void ssmf_dataset_close(struct ssmf_dataset *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; ds->inputs && i < ds->ninputs; i++)
		input_strings(&ds->inputs[i], 1);
	if (ds->inputs && ds->ninputs)
		H5Dvlen_reclaim(ds->input_type, ds->input_space, H5P_DEFAULT, ds->inputs);
	if (ds->input_space > 0)
		H5Sclose(ds->input_space);
	if (ds->input_type > 0)
		H5Tclose(ds->input_type);
	if (ds->rec_type > 0)
		H5Tclose(ds->rec_type);
	if (ds->packets > 0)
		H5Dclose(ds->packets);
	if (ds->file > 0)
		H5Fclose(ds->file);
	for (size_t i = 0; i < ds->nlabels; i++)
		free(ds->label_names[i]);
	free(ds->label_names);
	free(ds->inputs);
	free(ds->flows);
	free(ds->path);
	free(ds);
}

/* Whether dataset `d` stores a compound type with every member of `want` (by
 * name, as HDF5 converts compounds) but `optional` (NULL: none): a member missing
 * from the file leaves that field of each row unset (zero: the rows are calloc'ed). */
static int has_members(hid_t d, hid_t want, const char *optional)
{
	hid_t t = H5Dget_type(d);
	int ok = t >= 0 && H5Tget_class(t) == H5T_COMPOUND;
	int n = ok ? H5Tget_nmembers(want) : 0;
	for (int i = 0; ok && i < n; i++) {
		char *name = H5Tget_member_name(want, (unsigned)i);
		ok = name && ((optional && strcmp(name, optional) == 0) ||
		              H5Tget_member_index(t, name) >= 0);
		H5free_memory(name);
	}
	if (t >= 0)
		H5Tclose(t);
	return ok;
}

/* /label_names (written by extract --labels): variable-length strings. */
static int read_label_names(struct ssmf_dataset *ds)
{
	if (H5Lexists(ds->file, SSMF_DS_LABEL_NAMES, H5P_DEFAULT) <= 0)
		return 0;
	hid_t d = H5Dopen2(ds->file, SSMF_DS_LABEL_NAMES, H5P_DEFAULT);
	if (d < 0)
		return -1;
	size_t n = (size_t)dataset_len(d);
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	char **raw = calloc(n ? n : 1, sizeof *raw);
	ds->label_names = calloc(n + 1, sizeof *ds->label_names);
	int rc =
	    raw && ds->label_names && (!n || H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0)
	        ? 0
	        : -1;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && ds->label_names) {
			ds->label_names[i] = strdup(raw[i] ? raw[i] : "");
			ds->nlabels = i + 1;
		}
		if (raw && raw[i])
			H5free_memory(raw[i]);
	}
	free(raw);
	H5Tclose(t);
	H5Dclose(d);
	return rc;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		ssmf_dataset_close(ds);                                                            \
		return NULL;                                                                       \
	} while (0)

/* Opens and validates path; with metadata_only, stops before reading the flows. */
static struct ssmf_dataset *open_dataset(const char *path, int metadata_only, char *err,
                                         size_t errlen)
{
	if (ssmf_h5zstd_register() != 0) {
		snprintf(err, errlen, "cannot register the HDF5 zstd filter");
		return NULL;
	}
	struct ssmf_dataset *ds = calloc(1, sizeof *ds);
	if (!ds || !(ds->path = strdup(path)))
		FAIL("%s: out of memory", path);
	htri_t is_h5 = H5Fis_hdf5(path);
	if (is_h5 <= 0)
		FAIL("%s: not an HDF5 file (or unreadable)", path);
	ds->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (ds->file < 0)
		FAIL("%s: cannot open as HDF5", path);
	char fmt[64];
	uint64_t version, rec_version, rec_size;
	if (ssmf_dataset_attr_str(ds, "format", fmt, sizeof fmt) != 0 ||
	    strcmp(fmt, SSMF_DATASET_FORMAT) != 0)
		FAIL("%s: not an ssmflow dataset (no format attribute '%s')", path,
		     SSMF_DATASET_FORMAT);
	if (ssmf_dataset_attr_u64(ds, "format_version", &version) != 0 ||
	    version != SSMF_DATASET_VERSION)
		FAIL("%s: dataset format version %llu is not supported (this build reads %u)", path,
		     (unsigned long long)version, SSMF_DATASET_VERSION);
	if (ssmf_dataset_attr_u64(ds, "record_version", &rec_version) != 0 ||
	    rec_version != SSMF_RECORD_VERSION ||
	    ssmf_dataset_attr_u64(ds, "record_size", &rec_size) != 0 ||
	    rec_size != SSMF_RECORD_SIZE)
		FAIL("%s: record version/size not supported (this build reads version %u, %u "
		     "bytes)",
		     path, SSMF_RECORD_VERSION, SSMF_RECORD_SIZE);

	/* Reads by flow land anywhere in /packets: a chunk cache of 64 chunks (128 MiB
	 * with extract's 2 MiB chunks) keeps HDF5 from inflating a chunk per flow. */
	hid_t dapl = H5Pcreate(H5P_DATASET_ACCESS);
	H5Pset_chunk_cache(dapl, 12421, (size_t)128 << 20, 1.0);
	ds->packets = H5Dopen2(ds->file, SSMF_DS_PACKETS, dapl);
	H5Pclose(dapl);
	hid_t flows = H5Dopen2(ds->file, SSMF_DS_FLOWS, H5P_DEFAULT);
	if (ds->packets < 0 || flows < 0) {
		if (flows >= 0)
			H5Dclose(flows);
		FAIL("%s: missing %s or %s", path, SSMF_DS_PACKETS, SSMF_DS_FLOWS);
	}
	ds->rec_type = ssmf_h5_record_type();
	hid_t ftype = ssmf_h5_flow_type();
	if (!has_members(ds->packets, ds->rec_type, NULL) ||
	    !has_members(flows, ftype, SSMF_FLOW_OPTIONAL_MEMBER)) {
		H5Tclose(ftype);
		H5Dclose(flows);
		FAIL("%s: %s or %s does not hold ssmflow rows", path, SSMF_DS_PACKETS,
		     SSMF_DS_FLOWS);
	}
	if (metadata_only) {
		H5Tclose(ftype);
		H5Dclose(flows);
		return ds;
	}
	ds->npackets = dataset_len(ds->packets);
	ds->nflows = dataset_len(flows);
	ds->flows = calloc(ds->nflows ? ds->nflows : 1, sizeof *ds->flows);
	herr_t rc = ds->flows && ds->nflows
	                ? H5Dread(flows, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->flows)
	                : 0;
	H5Tclose(ftype);
	H5Dclose(flows);
	if (!ds->flows)
		FAIL("%s: out of memory for %llu flows", path, (unsigned long long)ds->nflows);
	if (rc < 0)
		FAIL("%s: cannot read %s (corrupt, or the zstd filter failed)", path,
		     SSMF_DS_FLOWS);
	for (uint64_t i = 0; i < ds->nflows; i++) {
		const struct ssmf_flow_summary *f = &ds->flows[i];
		if (f->packet_offset > ds->npackets ||
		    f->packet_count > ds->npackets - f->packet_offset)
			FAIL("%s: flow %llu points outside %s", path, (unsigned long long)i,
			     SSMF_DS_PACKETS);
	}

	if (read_label_names(ds) != 0)
		FAIL("%s: cannot read %s", path, SSMF_DS_LABEL_NAMES);
	hid_t inputs = H5Dopen2(ds->file, SSMF_DS_INPUTS, H5P_DEFAULT);
	if (inputs >= 0) {
		ds->ninputs = dataset_len(inputs);
		ds->input_type = ssmf_h5_input_type();
		ds->input_space = H5Dget_space(inputs);
		ds->inputs = calloc(ds->ninputs ? ds->ninputs : 1, sizeof *ds->inputs);
		if (ds->ninputs &&
		    H5Dread(inputs, ds->input_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ds->inputs) < 0)
			ds->ninputs = 0;
		for (size_t i = 0; i < ds->ninputs; i++)
			input_strings(&ds->inputs[i], 0);
		H5Dclose(inputs);
	}
	return ds;
}

/* HDF5 parses a file's metadata with no defence against hostile structures (1.10.8 loops
 * forever on some crafted files, and may crash on others). So a child process reads the
 * metadata first: if it hangs or dies, the file is reported as such and we go on. */
#define PROBE_SECONDS 30 /* SSMF_HDF5_TIMEOUT overrides */

static int probe_metadata(const char *path, char *err, size_t errlen)
{
	int fds[2];
	if (pipe(fds) != 0)
		return 0; /* cannot probe: open directly */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		close(fds[0]);
		char e[1024] = "";
		struct ssmf_dataset *ds = open_dataset(path, 1, e, sizeof e);
		ssize_t w = write(fds[1], e, strlen(e));
		(void)w;
		_exit(ds ? 0 : 1);
	}
	close(fds[1]);
	int seconds = PROBE_SECONDS;
	const char *env = getenv("SSMF_HDF5_TIMEOUT");
	if (env && atoi(env) > 0)
		seconds = atoi(env);
	char msg[1024];
	size_t got = 0;
	int timed_out = 0;
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		int r = poll(&p, 1, seconds * 1000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			timed_out = 1;
			break;
		}
		ssize_t n = read(fds[0], msg + got, sizeof msg - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof msg - 1)
			break;
	}
	msg[got] = 0;
	close(fds[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		snprintf(
		    err, errlen,
		    "%s: HDF5 did not finish reading the file's metadata in %d s (a corrupt or "
		    "hostile file?)",
		    path, PROBE_SECONDS);
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(err, errlen,
		         "%s: HDF5 crashed reading the file (signal %d): a corrupt or "
		         "hostile file",
		         path, WTERMSIG(status));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "%s", got ? msg : "cannot open the dataset");
		return -1;
	}
	return 0;
}

struct ssmf_dataset *ssmf_dataset_open(const char *path, char *err, size_t errlen)
{
	if (probe_metadata(path, err, errlen) != 0)
		return NULL;
	return open_dataset(path, 0, err, errlen);
}

struct ssmf_dataset *ssmf_dataset_open_direct(const char *path, char *err, size_t errlen)
{
	return open_dataset(path, 0, err, errlen);
}

uint64_t ssmf_dataset_nflows(const struct ssmf_dataset *ds)
{
	return ds->nflows;
}

uint64_t ssmf_dataset_npackets(const struct ssmf_dataset *ds)
{
	return ds->npackets;
}

const char *ssmf_dataset_path(const struct ssmf_dataset *ds)
{
	return ds->path;
}

const struct ssmf_flow_summary *ssmf_dataset_flows(const struct ssmf_dataset *ds)
{
	return ds->flows;
}

uint64_t ssmf_dataset_flows_cut(const struct ssmf_dataset *ds)
{
	uint64_t n = 0;
	for (uint64_t i = 0; i < ds->nflows; i++)
		n +=
		    ds->flows[i].fwd_packets + ds->flows[i].bwd_packets > ds->flows[i].packet_count;
	return n;
}

int ssmf_dataset_read_packets(struct ssmf_dataset *ds, uint64_t start, uint64_t n,
                              struct ssmf_record *out, char *err, size_t errlen)
{
	if (start > ds->npackets || n > ds->npackets - start) {
		snprintf(err, errlen, "%s: packet range out of bounds", ds->path);
		return -1;
	}
	if (!n)
		return 0;
	hsize_t hstart = start, hcount = n;
	hid_t fspace = H5Dget_space(ds->packets);
	hid_t mspace = H5Screate_simple(1, &hcount, NULL);
	H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &hstart, NULL, &hcount, NULL);
	herr_t rc = H5Dread(ds->packets, ds->rec_type, mspace, fspace, H5P_DEFAULT, out);
	H5Sclose(mspace);
	H5Sclose(fspace);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot read %s (corrupt, or the zstd filter failed)",
		         ds->path, SSMF_DS_PACKETS);
		return -1;
	}
	return 0;
}

static hid_t open_attr(const struct ssmf_dataset *ds, const char *name)
{
	if (H5Aexists(ds->file, name) <= 0)
		return -1;
	return H5Aopen(ds->file, name, H5P_DEFAULT);
}

int ssmf_dataset_attr_u64(const struct ssmf_dataset *ds, const char *name, uint64_t *v)
{
	hid_t a = open_attr(ds, name);
	if (a < 0)
		return -1;
	hid_t t = H5Aget_type(a);
	int ok = H5Tget_class(t) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_UINT64, v) >= 0;
	H5Tclose(t);
	H5Aclose(a);
	return ok ? 0 : -1;
}

int ssmf_dataset_attr_f64(const struct ssmf_dataset *ds, const char *name, double *v)
{
	hid_t a = open_attr(ds, name);
	if (a < 0)
		return -1;
	hid_t t = H5Aget_type(a);
	int ok = H5Tget_class(t) == H5T_FLOAT && H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0;
	H5Tclose(t);
	H5Aclose(a);
	return ok ? 0 : -1;
}

int ssmf_dataset_attr_str(const struct ssmf_dataset *ds, const char *name, char *buf, size_t len)
{
	hid_t a = open_attr(ds, name);
	if (a < 0)
		return -1;
	hid_t t = H5Aget_type(a);
	int ok = -1;
	if (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
		char *s = NULL;
		hid_t mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		H5Tset_cset(mt, H5Tget_cset(t));
		if (H5Aread(a, mt, &s) >= 0 && s) {
			snprintf(buf, len, "%s", s);
			H5free_memory(s);
			ok = 0;
		}
		H5Tclose(mt);
	}
	H5Tclose(t);
	H5Aclose(a);
	return ok;
}

struct attr_iter {
	void (*fn)(const char *, void *);
	void *user;
};

static herr_t attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
	(void)loc;
	(void)info;
	struct attr_iter *it = op;
	it->fn(name, it->user);
	return 0;
}

void ssmf_dataset_each_attr(const struct ssmf_dataset *ds, void (*fn)(const char *, void *),
                            void *user)
{
	struct attr_iter it = {fn, user};
	hsize_t idx = 0;
	if (H5Aiterate2(ds->file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, attr_cb, &it) < 0) {
		idx = 0;
		H5Aiterate2(ds->file, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_cb, &it);
	}
}

size_t ssmf_dataset_ninputs(const struct ssmf_dataset *ds)
{
	return ds->ninputs;
}

const struct ssmf_input_info *ssmf_dataset_input(const struct ssmf_dataset *ds, size_t i)
{
	return i < ds->ninputs ? &ds->inputs[i] : NULL;
}

size_t ssmf_dataset_nlabels(const struct ssmf_dataset *ds)
{
	return ds->nlabels;
}

const char *ssmf_dataset_label_name(const struct ssmf_dataset *ds, int32_t id)
{
	return id >= 0 && (size_t)id < ds->nlabels ? ds->label_names[id] : NULL;
}

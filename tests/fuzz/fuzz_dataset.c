/* fuzz_dataset.c - the dataset reader's own validation (ssmf_dataset_open and
 * the reads after it) on hostile dataset contents.
 *
 * Structure-aware: the input describes a dataset and the target writes it as a
 * well-formed HDF5 file, so that what gets fuzzed is our validation (format
 * attributes and their types, record size, dataset shapes and types, every
 * flow's packet range inside /packets) rather than HDF5's file parser. Fuzzing
 * raw file bytes hangs and leaks inside HDF5 1.10.8 itself within seconds (see
 * docs/robustness.md and tests/fuzz/hdf5-known/).
 *
 * Input: byte 0 flags (bit 0 wrong format name, 1 format as an integer,
 * 2 wrong format version, 3 wrong record size, 4 no /packets, 5 /flows of the
 * wrong type: integers, or a compound without the packet range when byte 2
 * has bit 7; 6 an /inputs table, 7 a 2-D /packets), byte 1 the number of
 * records in /packets, byte 2 input rows and which of their strings are NULL;
 * then /flows rows as raw struct ssmf_flow_summary bytes (offsets and counts
 * included), at most 64.
 */
#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/reader.h"
#include "tests/fuzz/fuzz.h"

static void attr_u64(hid_t file, const char *name, uint64_t v)
{
	hid_t space = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(file, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_UINT64, &v);
	H5Aclose(a);
	H5Sclose(space);
}

static void attr_str(hid_t file, const char *name, const char *v)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t space = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(file, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, t, &v);
	H5Aclose(a);
	H5Sclose(space);
	H5Tclose(t);
}

static void dataset(hid_t file, const char *name, hid_t type, int rank, hsize_t n, const void *rows)
{
	hsize_t dims[2] = {n, 2};
	hid_t space = H5Screate_simple(rank, dims, NULL);
	hid_t d = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (n && rows)
		H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows);
	H5Dclose(d);
	H5Sclose(space);
}

/* Writes the dataset the input describes to `path`; 0 on success. */
static int write_dataset(const char *path, const uint8_t *data, size_t size)
{
	const uint8_t flags = data[0], npk = data[1], in_bits = data[2];
	hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	if (file < 0)
		return -1;
	if (flags & 2)
		attr_u64(file, "format", 1);
	else
		attr_str(file, "format", (flags & 1) ? "ssmflow-datasex" : SSMF_DATASET_FORMAT);
	attr_u64(file, "format_version",
	         (flags & 4) ? SSMF_DATASET_VERSION + 1 : SSMF_DATASET_VERSION);
	attr_u64(file, "record_version", SSMF_RECORD_VERSION);
	attr_u64(file, "record_size", (flags & 8) ? SSMF_RECORD_SIZE - 1 : SSMF_RECORD_SIZE);
	attr_u64(file, "packets_read", npk);

	if (!(flags & 16)) {
		struct ssmf_record *recs = calloc(npk ? npk * 2u : 1, sizeof *recs);
		for (unsigned i = 0; recs && i < npk; i++)
			recs[i].pkt_index = (uint16_t)i;
		hid_t rt = ssmf_h5_record_type();
		dataset(file, SSMF_DS_PACKETS, rt, (flags & 128) ? 2 : 1, npk, recs);
		H5Tclose(rt);
		free(recs);
	}
	size_t row = sizeof(struct ssmf_flow_summary);
	size_t nflows = (size - 3) / row;
	if (nflows > 64)
		nflows = 64;
	struct ssmf_flow_summary *flows = calloc(nflows ? nflows : 1, row);
	if (flows && nflows)
		memcpy(flows, data + 3, nflows * row);
	if ((flags & 32) && (in_bits & 128)) {
		dataset(file, SSMF_DS_FLOWS, H5T_NATIVE_INT, 1, nflows, NULL);
	} else if (flags & 32) { /* a compound without the packet range members */
		hid_t part = H5Tcreate(H5T_COMPOUND, row);
		H5Tinsert(part, "flow_id", offsetof(struct ssmf_flow_summary, flow_id),
		          H5T_NATIVE_UINT32);
		H5Tinsert(part, "fwd_packets", offsetof(struct ssmf_flow_summary, fwd_packets),
		          H5T_NATIVE_UINT64);
		dataset(file, SSMF_DS_FLOWS, part, 1, nflows, flows);
		H5Tclose(part);
	} else {
		hid_t ft = ssmf_h5_flow_type();
		dataset(file, SSMF_DS_FLOWS, ft, 1, nflows, flows);
		H5Tclose(ft);
	}
	free(flows);
	if (flags & 64) {
		struct ssmf_input_info in[3];
		unsigned n = in_bits & 3;
		for (unsigned i = 0; i < n; i++) {
			int null = (in_bits >> (2 + i)) & 1; /* a NULL string in the file */
			in[i] = (struct ssmf_input_info){.path = null ? NULL : "a.pcap",
			                                 .format = "pcap",
			                                 .sha256 = "",
			                                 .status = null ? NULL : "ok",
			                                 .message = "",
			                                 .size_bytes = 24,
			                                 .packets = npk,
			                                 .linktype = 1,
			                                 .linktype_name = null ? NULL : "EN10MB"};
		}
		hid_t it = ssmf_h5_input_type();
		dataset(file, SSMF_DS_INPUTS, it, 1, n, in);
		H5Tclose(it);
	}
	return H5Fclose(file) < 0 ? -1 : 0;
}

static void count_attr(const char *name, void *user)
{
	FUZZ_CHECK(name != NULL);
	(*(int *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096];
	if (!path[0]) {
		H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* as the CLI: errors are return codes */
		const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
		snprintf(path, sizeof path, "%s/ssmf-fuzz-dataset-%ld.h5", dir ? dir : "/tmp",
		         (long)getpid());
	}
	if (size < 3 || write_dataset(path, data, size) != 0)
		return 0;
	char err[1024] = "";
	struct ssmf_dataset *ds = ssmf_dataset_open_direct(path, err, sizeof err);
	if (!ds) {
		FUZZ_CHECK(err[0] != 0);
		unlink(path);
		return 0;
	}
	/* what a well-formed file with these flags must give */
	FUZZ_CHECK((data[0] & (1 | 2 | 4 | 8 | 16 | 32)) == 0);
	uint64_t nflows = ssmf_dataset_nflows(ds), npackets = ssmf_dataset_npackets(ds);
	const struct ssmf_flow_summary *flows = ssmf_dataset_flows(ds);
	struct ssmf_record *recs = malloc(256 * sizeof *recs);
	for (uint64_t i = 0; recs && i < nflows; i++) {
		const struct ssmf_flow_summary *f = &flows[i];
		FUZZ_CHECK(f->packet_offset <= npackets &&
		           f->packet_count <= npackets - f->packet_offset);
		uint64_t n = f->packet_count < 256 ? f->packet_count : 256;
		FUZZ_CHECK(
		    ssmf_dataset_read_packets(ds, f->packet_offset, n, recs, err, sizeof err) == 0);
		for (uint64_t k = 0; k < n; k++)
			FUZZ_CHECK(recs[k].pkt_index == f->packet_offset + k);
	}
	free(recs);
	struct ssmf_record one;
	FUZZ_CHECK(ssmf_dataset_read_packets(ds, npackets, 1, &one, err, sizeof err) != 0);
	FUZZ_CHECK(ssmf_dataset_read_packets(ds, UINT64_MAX, 2, &one, err, sizeof err) != 0);
	uint64_t u;
	double f64;
	char s[16];
	FUZZ_CHECK(ssmf_dataset_attr_u64(ds, "packets_read", &u) == 0 && u == data[1]);
	FUZZ_CHECK(ssmf_dataset_attr_f64(ds, "packets_read", &f64) != 0);
	FUZZ_CHECK(ssmf_dataset_attr_str(ds, "format", s, sizeof s) == 0 && strlen(s) < sizeof s);
	FUZZ_CHECK(ssmf_dataset_attr_u64(ds, "no_such_attribute", &u) != 0);
	int nattr = 0;
	ssmf_dataset_each_attr(ds, count_attr, &nattr);
	FUZZ_CHECK(nattr == 5);
	for (size_t i = 0; i < ssmf_dataset_ninputs(ds); i++) {
		const struct ssmf_input_info *in = ssmf_dataset_input(ds, i);
		/* callers print these: never NULL, even when the file stores NULL */
		FUZZ_CHECK(in && in->path && in->format && in->sha256 && in->status &&
		           in->message && in->linktype_name);
	}
	FUZZ_CHECK(ssmf_dataset_input(ds, ssmf_dataset_ninputs(ds)) == NULL);
	ssmf_dataset_close(ds);
	unlink(path);
	return 0;
}

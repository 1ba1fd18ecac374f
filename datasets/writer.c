#include "datasets/writer.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/atomic_file.h"
#include "datasets/h5zstd.h"

/* Chunks are shuffled and compressed here from memory as it is, and the
 * dataset's types are little-endian. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "datasets/writer.c writes chunks as stored in memory: little-endian hosts only"
#endif

struct appender {
	hid_t dset, type;
	size_t elem_size;
	uint32_t chunk;
	uint8_t *buf;   /* being filled by the caller */
	uint8_t *spare; /* being written by the worker, or free */
	uint32_t nbuf;
	uint64_t written; /* rows handed to the worker */
};

/* One chunk for the worker thread to write (and so compress). */
struct write_job {
	struct appender *a;
	uint8_t *buf; /* a whole chunk's room; rows past count are cleared */
	hsize_t start, count;
};

/* The worker's filter pipeline, run by hand: each chunk is byte-shuffled and
 * compressed here and stored with H5Dwrite_chunk, exactly the bytes HDF5's
 * shuffle and our zstd filter would store, without HDF5's byte-by-byte
 * shuffle, its per-chunk buffers and a new zstd context per chunk. */
struct chunk_coder {
	ZSTD_CCtx *zc;
	int level;
	uint8_t *shuffled; /* room for the largest chunk */
	uint8_t *packed;   /* its zstd bound */
	size_t packed_room;
};

struct ssmf_writer {
	hid_t file;
	struct appender packets, flows;
	struct ssmf_input_info *inputs;
	size_t ninputs;
	struct ssmf_atomic_file out; /* out.path final, out.tmp written */
	char error[512];
	/* Compression and HDF5 writes run on a worker thread, beside the caller's
	 * parsing. HDF5 is never called from two threads at once: the caller
	 * waits for the worker to be idle (writer_sync) before any other call. */
	pthread_t worker;
	int worker_started, quit, failed;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct write_job job;
	int job_pending;
	int mu_ready;
	struct chunk_coder coder;
};

void ssmf_writer_opts_default(struct ssmf_writer_opts *o)
{
	o->zstd_level = 1;        /* with the shuffle filter, within 3% of level 3's size, faster */
	o->packets_chunk = 65536; /* 2 MiB of records */
	o->flows_chunk = 4096;
}

static int appender_init(struct ssmf_writer *w, struct appender *a, const char *name, hid_t type,
                         uint32_t chunk, int level)
{
	a->type = type;
	a->elem_size = H5Tget_size(type);
	a->chunk = chunk;
	a->buf = malloc(a->elem_size * chunk);
	a->spare = malloc(a->elem_size * chunk);
	hsize_t dims = 0, maxdims = H5S_UNLIMITED, cdims = chunk;
	hid_t space = H5Screate_simple(1, &dims, &maxdims);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	unsigned int cd = (unsigned int)level;
	H5Pset_chunk(dcpl, 1, &cdims);
	/* Byte shuffle first: timestamps and counters differ mostly in their low
	 * bytes, and grouping bytes by position makes zstd both faster and tighter. */
	H5Pset_shuffle(dcpl);
	H5Pset_filter(dcpl, SSMF_H5Z_ZSTD_ID, H5Z_FLAG_MANDATORY, 1, &cd);
	a->dset = H5Dcreate2(w->file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	H5Pclose(dcpl);
	H5Sclose(space);
	if (a->dset < 0 || !a->buf || !a->spare) {
		snprintf(w->error, sizeof w->error, "%s: cannot create %s", w->out.path, name);
		return -1;
	}
	return 0;
}

static int coder_init(struct chunk_coder *c, int level, size_t room)
{
	c->level = level;
	c->packed_room = ZSTD_compressBound(room);
	c->zc = ZSTD_createCCtx();
	c->shuffled = malloc(room);
	c->packed = malloc(c->packed_room);
	return c->zc && c->shuffled && c->packed ? 0 : -1;
}

static void coder_free(struct chunk_coder *c)
{
	ZSTD_freeCCtx(c->zc);
	free(c->shuffled);
	free(c->packed);
	memset(c, 0, sizeof *c);
}

/* Transposes an 8x8 byte matrix held as 8 words: byte k of word e becomes
 * byte e of word k (little-endian words: byte k is bits 8k..8k+7). */
static void transpose8x8(uint64_t r[8])
{
	for (int e = 0; e < 4; e++) {
		uint64_t a = r[e], b = r[e + 4];
		r[e] = (a & 0x00000000ffffffffull) | (b << 32);
		r[e + 4] = (a >> 32) | (b & 0xffffffff00000000ull);
	}
	for (int h = 0; h < 8; h += 4) /* fixed trip counts: unrolled, r stays in registers */
		for (int e = h; e < h + 2; e++) {
			uint64_t a = r[e], b = r[e + 2];
			r[e] = (a & 0x0000ffff0000ffffull) | ((b & 0x0000ffff0000ffffull) << 16);
			r[e + 2] =
			    ((a >> 16) & 0x0000ffff0000ffffull) | (b & 0xffff0000ffff0000ull);
		}
	for (int e = 0; e < 8; e += 2) {
		uint64_t a = r[e], b = r[e + 1];
		r[e] = (a & 0x00ff00ff00ff00ffull) | ((b & 0x00ff00ff00ff00ffull) << 8);
		r[e + 1] = ((a >> 8) & 0x00ff00ff00ff00ffull) | (b & 0xff00ff00ff00ff00ull);
	}
}

/* HDF5's shuffle filter: byte 0 of each of the n elements of `size` bytes,
 * then byte 1 of each, and so on. Eight elements by eight bytes at a time
 * when both counts allow (our records and summaries), else byte by byte. */
static void shuffle(uint8_t *restrict out, const uint8_t *restrict in, size_t size, size_t n)
{
	if (size % 8 || n % 8) {
		for (size_t k = 0; k < size; k++)
			for (size_t i = 0; i < n; i++)
				out[k * n + i] = in[i * size + k];
		return;
	}
	for (size_t i = 0; i < n; i += 8)
		for (size_t k0 = 0; k0 < size; k0 += 8) {
			uint64_t r[8];
			for (int e = 0; e < 8; e++)
				memcpy(&r[e], in + (i + (size_t)e) * size + k0, 8);
			transpose8x8(r);
			for (int k = 0; k < 8; k++)
				memcpy(out + (k0 + (size_t)k) * n + i, &r[k], 8);
		}
}

/* Worker side: extends the dataset and writes one chunk, shuffled and
 * compressed as the dataset's filters say. A last, partial chunk is stored
 * whole, its unused rows zero (HDF5's default fill), as H5Dwrite stores it. */
static int write_rows(struct chunk_coder *c, struct appender *a, uint8_t *buf, hsize_t start,
                      hsize_t count)
{
	hsize_t size = start + count;
	if (H5Dset_extent(a->dset, &size) < 0)
		return -1;
	size_t bytes = a->elem_size * a->chunk;
	memset(buf + a->elem_size * count, 0, a->elem_size * (a->chunk - count));
	shuffle(c->shuffled, buf, a->elem_size, a->chunk);
	size_t n =
	    ZSTD_compressCCtx(c->zc, c->packed, c->packed_room, c->shuffled, bytes, c->level);
	if (ZSTD_isError(n))
		return -1;
	return H5Dwrite_chunk(a->dset, H5P_DEFAULT, 0, &start, n, c->packed) < 0 ? -1 : 0;
}

static void *worker_loop(void *arg)
{
	struct ssmf_writer *w = arg;
	pthread_setname_np(pthread_self(), "ssmf-write");
	/* HDF5's error stacks and their printing are per thread: this one reports
	 * failures through w->failed, like the main thread (cmd/main.c). */
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->job_pending && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->job_pending)
			break;
		struct write_job j = w->job;
		pthread_mutex_unlock(&w->mu);
		int rc = write_rows(&w->coder, j.a, j.buf, j.start, j.count);
		if (rc != 0) /* the failure is reported through w->failed; free its stack */
			H5Eclear2(H5E_DEFAULT);
		pthread_mutex_lock(&w->mu);
		if (rc != 0)
			w->failed = 1;
		w->job_pending = 0;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Waits until the worker is idle; returns -1 if a write has failed. */
static int writer_sync(struct ssmf_writer *w)
{
	if (w->worker_started) {
		pthread_mutex_lock(&w->mu);
		while (w->job_pending)
			pthread_cond_wait(&w->cv, &w->mu);
		pthread_mutex_unlock(&w->mu);
	}
	if (w->failed) {
		snprintf(w->error, sizeof w->error, "%s: write failed (disk full?)", w->out.tmp);
		return -1;
	}
	return 0;
}

static void stop_worker(struct ssmf_writer *w)
{
	if (!w->worker_started)
		return;
	writer_sync(w);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->worker, NULL);
	w->worker_started = 0;
}

/* Hands the filled buffer to the worker and continues in the spare one. */
static int appender_flush(struct ssmf_writer *w, struct appender *a)
{
	if (!a->nbuf)
		return 0;
	if (writer_sync(w) != 0)
		return -1;
	struct write_job j = {a, a->buf, a->written, a->nbuf};
	a->written += a->nbuf;
	a->nbuf = 0;
	uint8_t *t = a->buf;
	a->buf = a->spare;
	a->spare = t;
	if (!w->worker_started) {
		if (write_rows(&w->coder, j.a, j.buf, j.start, j.count) != 0) {
			w->failed = 1;
			return writer_sync(w);
		}
		return 0;
	}
	pthread_mutex_lock(&w->mu);
	w->job = j;
	w->job_pending = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

static int appender_add(struct ssmf_writer *w, struct appender *a, const void *elems, size_t n)
{
	const uint8_t *p = elems;
	while (n) {
		size_t take = a->chunk - a->nbuf;
		if (take > n)
			take = n;
		memcpy(a->buf + a->nbuf * a->elem_size, p, take * a->elem_size);
		a->nbuf += (uint32_t)take;
		p += take * a->elem_size;
		n -= take;
		if (a->nbuf == a->chunk && appender_flush(w, a) != 0)
			return -1;
	}
	return 0;
}

static void appender_close(struct appender *a)
{
	if (a->dset > 0)
		H5Dclose(a->dset);
	if (a->type > 0)
		H5Tclose(a->type);
	free(a->buf);
	free(a->spare);
	a->dset = a->type = 0;
	a->buf = a->spare = NULL;
}

struct ssmf_writer *ssmf_writer_create(const char *path, const struct ssmf_writer_opts *o,
                                       char *err, size_t errlen)
{
	if (ssmf_h5zstd_register() != 0) {
		snprintf(err, errlen, "cannot register the HDF5 zstd filter");
		return NULL;
	}
	struct ssmf_writer *w = calloc(1, sizeof *w);
	if (!w) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (ssmf_atomic_reserve(&w->out, path, err, errlen) != 0) {
		free(w);
		return NULL;
	}
	/* Check the directory first: HDF5's own message for this is a stack dump. */
	char *dir_copy = strdup(path);
	const char *dir = dir_copy ? dirname(dir_copy) : ".";
	if (access(dir, W_OK) != 0) {
		snprintf(err, errlen, "%s: cannot write in directory %s: %s", path, dir,
		         strerror(errno));
		free(dir_copy);
		ssmf_atomic_abort(&w->out);
		free(w);
		return NULL;
	}
	free(dir_copy);
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST);
	hid_t fcpl = H5Pcreate(H5P_FILE_CREATE); /* attributes listed in the order written */
	H5Pset_attr_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
	w->file = H5Fcreate(w->out.tmp, H5F_ACC_TRUNC, fcpl, fapl);
	H5Pclose(fcpl);
	H5Pclose(fapl);
	if (w->file < 0) {
		snprintf(err, errlen, "%s: cannot create %s", path, w->out.tmp);
		ssmf_atomic_abort(&w->out);
		free(w);
		return NULL;
	}
	if (appender_init(w, &w->packets, SSMF_DS_PACKETS, ssmf_h5_record_type(), o->packets_chunk,
	                  o->zstd_level) != 0 ||
	    appender_init(w, &w->flows, SSMF_DS_FLOWS, ssmf_h5_flow_type(), o->flows_chunk,
	                  o->zstd_level) != 0) {
		snprintf(err, errlen, "%s", w->error);
		ssmf_writer_abort(w);
		return NULL;
	}
	size_t room = w->packets.elem_size * w->packets.chunk;
	if (w->flows.elem_size * w->flows.chunk > room)
		room = w->flows.elem_size * w->flows.chunk;
	if (coder_init(&w->coder, o->zstd_level, room) != 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		ssmf_writer_abort(w);
		return NULL;
	}
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->mu_ready = 1;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old); /* signals go to the caller's thread */
	w->worker_started = pthread_create(&w->worker, NULL, worker_loop, w) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	ssmf_writer_attr_str(w, "format", SSMF_DATASET_FORMAT);
	ssmf_writer_attr_u64(w, "format_version", SSMF_DATASET_VERSION);
	ssmf_writer_attr_u64(w, "record_version", SSMF_RECORD_VERSION);
	ssmf_writer_attr_u64(w, "record_size", SSMF_RECORD_SIZE);
	return w;
}

int ssmf_writer_add_flow(struct ssmf_writer *w, const struct ssmf_flow_summary *s,
                         const struct ssmf_record *records)
{
	struct ssmf_flow_summary row = *s;
	row.packet_offset = w->packets.written + w->packets.nbuf;
	if (appender_add(w, &w->packets, records, s->packet_count) != 0)
		return -1;
	return appender_add(w, &w->flows, &row, 1);
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int ssmf_writer_add_input(struct ssmf_writer *w, const struct ssmf_input_info *in)
{
	struct ssmf_input_info *n = realloc(w->inputs, (w->ninputs + 1) * sizeof *n);
	if (!n)
		return -1;
	w->inputs = n;
	struct ssmf_input_info *c = &w->inputs[w->ninputs++];
	*c = *in;
	c->path = dup_or_empty(in->path);
	c->format = dup_or_empty(in->format);
	c->sha256 = dup_or_empty(in->sha256);
	c->status = dup_or_empty(in->status);
	c->message = dup_or_empty(in->message);
	c->linktype_name = dup_or_empty(in->linktype_name);
	return 0;
}

static int write_attr(struct ssmf_writer *w, const char *name, hid_t ftype, hid_t mtype,
                      const void *v)
{
	if (writer_sync(w) != 0)
		return -1;
	hid_t space = H5Screate(H5S_SCALAR);
	if (H5Aexists(w->file, name) > 0)
		H5Adelete(w->file, name);
	hid_t a = H5Acreate2(w->file, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
	herr_t rc = a < 0 ? -1 : H5Awrite(a, mtype, v);
	if (a >= 0)
		H5Aclose(a);
	H5Sclose(space);
	if (rc < 0) {
		snprintf(w->error, sizeof w->error, "%s: cannot write attribute %s", w->out.tmp,
		         name);
		return -1;
	}
	return 0;
}

int ssmf_writer_attr_u64(struct ssmf_writer *w, const char *name, uint64_t v)
{
	return write_attr(w, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

int ssmf_writer_attr_f64(struct ssmf_writer *w, const char *name, double v)
{
	return write_attr(w, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

int ssmf_writer_attr_str(struct ssmf_writer *w, const char *name, const char *v)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	int rc = write_attr(w, name, t, t, &v);
	H5Tclose(t);
	return rc;
}

static int write_small_dataset(struct ssmf_writer *w, const char *name, hid_t type, size_t n,
                               const void *data)
{
	if (writer_sync(w) != 0)
		return -1;
	hsize_t dims = n;
	hid_t space = H5Screate_simple(1, &dims, NULL);
	hid_t d = H5Dcreate2(w->file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	herr_t rc = d < 0 ? -1 : (n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
	if (d >= 0)
		H5Dclose(d);
	H5Sclose(space);
	if (rc < 0) {
		snprintf(w->error, sizeof w->error, "%s: cannot write %s", w->out.tmp, name);
		return -1;
	}
	return 0;
}

int ssmf_writer_column_f64(struct ssmf_writer *w, const char *name, const double *v, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "/%s", name);
	return write_small_dataset(w, path, H5T_NATIVE_DOUBLE, n, v);
}

int ssmf_writer_column_u64(struct ssmf_writer *w, const char *name, const uint64_t *v, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "/%s", name);
	return write_small_dataset(w, path, H5T_NATIVE_UINT64, n, v);
}

int ssmf_writer_column_str(struct ssmf_writer *w, const char *name, const char *const *v, size_t n)
{
	char path[256];
	snprintf(path, sizeof path, "/%s", name);
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	int rc = write_small_dataset(w, path, t, n, v);
	H5Tclose(t);
	return rc;
}

int ssmf_writer_label_names(struct ssmf_writer *w, const char *const *names, size_t n)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	int rc = write_small_dataset(w, SSMF_DS_LABEL_NAMES, t, n, names);
	H5Tclose(t);
	return rc;
}

const char *ssmf_writer_error(const struct ssmf_writer *w)
{
	return w->error;
}

uint64_t ssmf_writer_flows(const struct ssmf_writer *w)
{
	return w->flows.written + w->flows.nbuf;
}

uint64_t ssmf_writer_packets(const struct ssmf_writer *w)
{
	return w->packets.written + w->packets.nbuf;
}

const char *ssmf_writer_temp_path(const struct ssmf_writer *w)
{
	return w->out.tmp;
}

static void free_inputs(struct ssmf_writer *w)
{
	for (size_t i = 0; i < w->ninputs; i++) {
		struct ssmf_input_info *c = &w->inputs[i];
		free(c->path);
		free(c->format);
		free(c->sha256);
		free(c->status);
		free(c->message);
		free(c->linktype_name);
	}
	free(w->inputs);
}

static void writer_free(struct ssmf_writer *w)
{
	if (w->mu_ready) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
	}
	coder_free(&w->coder);
	free_inputs(w);
	ssmf_atomic_abort(&w->out); /* after a commit: nothing left to remove */
	free(w);
}

int ssmf_writer_commit(struct ssmf_writer *w, char *err, size_t errlen)
{
	int rc = appender_flush(w, &w->packets);
	if (rc == 0)
		rc = appender_flush(w, &w->flows);
	if (rc == 0)
		rc = writer_sync(w);
	stop_worker(w);
	if (rc == 0) {
		hid_t t = ssmf_h5_input_type();
		rc = write_small_dataset(w, SSMF_DS_INPUTS, t, w->ninputs, w->inputs);
		H5Tclose(t);
	}
	appender_close(&w->packets);
	appender_close(&w->flows);
	if (H5Fclose(w->file) < 0 && rc == 0) {
		snprintf(w->error, sizeof w->error, "%s: cannot close (disk full?)", w->out.tmp);
		rc = -1;
	}
	w->file = 0;
	if (rc == 0 && ssmf_atomic_commit(&w->out, w->error, sizeof w->error) != 0)
		rc = -1;
	if (rc != 0)
		snprintf(err, errlen, "%s", w->error);
	writer_free(w);
	return rc;
}

void ssmf_writer_abort(struct ssmf_writer *w)
{
	if (!w)
		return;
	stop_worker(w);
	appender_close(&w->packets);
	appender_close(&w->flows);
	if (w->file > 0)
		H5Fclose(w->file);
	writer_free(w); /* removes the temporary */
}

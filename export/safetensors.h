/* safetensors.h - write and validate safetensors files, every tensor 64-byte aligned.
 *
 * File: u64 little-endian header length N, N bytes of JSON, then the data buffer.
 * The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]}
 * (relative to the buffer) plus "__metadata__" (string -> string). The official
 * reader wants the tensors to tile the buffer exactly, so the aligned layout
 * fills each gap with a padding tensor: dtype U8, shape [n], n < 64, name
 * "__pad__.K", zero bytes. The JSON is padded with spaces so 8 + N is a
 * multiple of 64: every tensor then starts at a multiple of 64 in the file.
 */
#ifndef SSMF_EXPORT_SAFETENSORS_H
#define SSMF_EXPORT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define SSMF_ST_ALIGN      64u
#define SSMF_ST_PAD_PREFIX "__pad__."
#define SSMF_ST_MAX_DIMS   4
#define SSMF_ST_MAX_NAME   128
#define SSMF_ST_MAX_HEADER (100u << 20) /* the official reader's limit */

enum ssmf_st_dtype { SSMF_ST_F32 = 0, SSMF_ST_BF16, SSMF_ST_F16, SSMF_ST_U8, SSMF_ST_NDTYPES };

const char *ssmf_st_dtype_name(int dtype); /* "F32", "BF16", "F16", "U8" */
int ssmf_st_dtype_size(int dtype);
int ssmf_st_dtype_parse(const char *name); /* -1 when unknown */

struct ssmf_st_tensor {
	char name[SSMF_ST_MAX_NAME];
	int dtype;
	int ndim;
	uint64_t shape[SSMF_ST_MAX_DIMS];
	uint64_t begin, end; /* bytes in the data buffer (set by the writer and the reader) */
	const void *data;    /* write: the bytes (end - begin of them); read: into the file */
};

/* Writes `n` tensors (not padding: the writer adds it) and the metadata (an object of
 * strings; may be NULL) to `path` atomically: PATH.tmp.PID, fsync, rename, fsync dir. */
int ssmf_st_write(const char *path, struct ssmf_st_tensor *t, int n, const cJSON *metadata,
                  char *err, size_t errlen);

struct ssmf_st_file {
	unsigned char *buf; /* the whole file */
	uint64_t size;
	uint64_t header_len;      /* N */
	uint64_t data_start;      /* 8 + N */
	cJSON *metadata;          /* the "__metadata__" object, or NULL */
	struct ssmf_st_tensor *t; /* sorted by begin; padding included */
	int n;
};

/* Reads and checks what the official reader checks: header length, JSON, known dtypes,
 * shapes and offsets that agree, tensors tiling the buffer exactly, string metadata.
 * Errors: "PATH: what is wrong", one line. */
int ssmf_st_read(const char *path, struct ssmf_st_file *f, char *err, size_t errlen);
/* Our layout on top: 8 + N and every tensor's begin a multiple of 64, padding tensors
 * only where a gap is needed, U8, shorter than 64 and zero. */
int ssmf_st_check_aligned(const struct ssmf_st_file *f, char *err, size_t errlen);
void ssmf_st_free(struct ssmf_st_file *f);
int ssmf_st_is_padding(const char *name);
/* A metadata value, or NULL. */
const char *ssmf_st_meta(const struct ssmf_st_file *f, const char *key);


#endif

/* bundle.h - the model bundle for the live pipeline: a safetensors file holding the
 * model's tensors (F32, BF16 or F16) and, in __metadata__, everything else the
 * consumer needs: config, record version, input normalisation, provenance.
 * Format documented in ssmflow-formats(5). */
#ifndef SSMF_EXPORT_BUNDLE_H
#define SSMF_EXPORT_BUNDLE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "export/safetensors.h"
#include "ssm/ssm.h"

#define SSMF_BUNDLE_FORMAT  "ssmflow-model"
#define SSMF_BUNDLE_VERSION 1

/* The tensors a config needs, as this bundle version names and shapes them
 * (written from docs/model.md, independently of ssm/'s parameter table). */
struct ssmf_bundle_tensor {
	char name[SSMF_MAX_NAME];
	int ndim;
	int shape[2];
};
/* Fills up to `max` entries; returns how many the config needs. */
int ssmf_bundle_expected(const struct ssmf_config *c, struct ssmf_bundle_tensor *out, int max);

/* __metadata__ for a model: strings only. provenance (JSON text) and software may be NULL. */
cJSON *ssmf_bundle_metadata(const struct ssmf_config *c, int dtype, const char *provenance,
                            const char *software);

struct ssmf_export_opts {
	int dtype;             /* SSMF_ST_F32, SSMF_ST_BF16 or SSMF_ST_F16 */
	const char *software;  /* "ssmflow X.Y.Z", recorded in the metadata; may be NULL */
	const char *host_path; /* the host level's bundle (NULL: OUT.host.safetensors beside
	                          OUT.safetensors, when the model has a host level) */
	char *written_host;    /* receives the host bundle's path, "" if none (NULL-able) */
	size_t written_host_len;
};

/* Checkpoint to bundle: the packet level to out_path ("level": "packet" in the metadata)
 * and, for a model with a host level, the host level to o->host_path (same format,
 * "level": "host"). Refuses what it cannot fully describe. Returns 0, or -2 when the
 * checkpoint is unusable (bad input, or --host-output for a model without a host level),
 * -4 when the output failed, -5 out of memory. */
int ssmf_export(const char *ckpt_path, const char *out_path, const struct ssmf_export_opts *o,
                char *err, size_t errlen);

/* Opens a bundle and checks everything: the safetensors structure, 64-byte alignment,
 * coverage (tensors tile the buffer; every tensor the config needs is there with its
 * shape and the bundle's dtype; nothing else but padding), format and version, config. */
int ssmf_bundle_open(const char *path, struct ssmf_st_file *f, struct ssmf_config *cfg, char *err,
                     size_t errlen);

#endif

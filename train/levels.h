/* levels.h - one `ssmflow train` for both levels of the model: the packet level (the flow's
 * packets) and the host level (each endpoint's sequence of flow events), written into one
 * model file: the packet level as CONFIG/PARAMS/META, the host level as a whole model file
 * of its own inside the HOST section, beside it the host level's activity profile fitted
 * to the same events (PROFILE). A model without HOST scores as before; one with HOST but
 * no PROFILE (written before the profile existed) scores without the profile. */
#ifndef SSMF_TRAIN_LEVELS_H
#define SSMF_TRAIN_LEVELS_H

#include "features/host_profile.h"
#include "ssm/evidence.h"
#include "train/train.h"

enum train_host_mode {
	TRAIN_HOST_NO = 0,  /* the packet level alone */
	TRAIN_HOST_YES = 1, /* the packet level, then the host level */
	TRAIN_HOST_ONLY =
	    2, /* the host level alone; the packet level is copied from a base model */
};

/* Runs the levels `mode` asks for with the same hyper-parameters (the host level never
 * trains the supervised head); `base` is the model whose packet level TRAIN_HOST_ONLY
 * keeps. res receives the packet level's result, hres the host level's. Returns 0 or a
 * negative enum train_rc. */
int train_levels_run(const struct train_opts *o, enum train_host_mode mode, const char *base,
                     struct train_result *res, struct train_result *hres, char *err, size_t errlen);

/* Writes `out`: the model `base` (its META kept) with the model file `host` as its host
 * level, `profile` as its activity profile (PROFILE section; NULL: none) and `evidence` as
 * its packet level's evidence baseline (EVIDENCE section, ssm/evidence.h; NULL: none).
 * out may be base. */
int train_attach_host(const char *base, const char *host, const struct ssmf_host_profile *profile,
                      const struct ssmf_evidence *evidence, const char *out, char *err,
                      size_t errlen);

#endif

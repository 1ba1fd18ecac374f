#include "score/default_model.h"

#include <stdio.h>

/* Generated at configure time from models/default.ssmf (score/CMakeLists.txt). */
extern const unsigned char ssmf_default_model_bytes[];
extern const size_t ssmf_default_model_len;

size_t ssmf_default_model_size(void)
{
	return ssmf_default_model_len;
}

struct ssmf_model *ssmf_default_model_load(char *err, size_t errlen)
{
	return ssmf_default_model_load_sections(NULL, 0, err, errlen);
}

struct ssmf_model *ssmf_default_model_load_sections(struct ssmf_ckpt_section *want, int n_want,
                                                    char *err, size_t errlen)
{
	if (!ssmf_default_model_len) {
		snprintf(err, errlen,
		         "this build has no bundled model (models/default.ssmf was "
		         "missing at build time): give one with -m MODEL");
		return NULL;
	}
	char inner[512];
	struct ssmf_model *m = ssmf_checkpoint_load_mem_sections(
	    "the bundled model", ssmf_default_model_bytes, ssmf_default_model_len, want, n_want,
	    inner, sizeof inner);
	if (!m)
		snprintf(err, errlen, "the bundled model does not load: %s", inner);
	return m;
}

/* model_levels.c - loading both levels of a model file (model_levels.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/default_model.h"
#include "score/model_levels.h"

int ssmf_model_levels_load(const char *path, struct ssmf_model **packet, struct ssmf_model **host,
                           struct ssmf_host_profile *profile, char *err, size_t errlen)
{
	struct ssmf_ckpt_section want[2] = {{"HOST", NULL, 0}, {"PROFILE", NULL, 0}};
	struct ssmf_ckpt_section sec = want[0];
	*host = NULL;
	if (profile)
		memset(profile, 0, sizeof *profile);
	*packet = path ? ssmf_checkpoint_load_sections(path, want, 2, err, errlen)
	               : ssmf_default_model_load_sections(want, 2, err, errlen);
	if (!*packet)
		return -1;
	sec = want[0];
	if (want[1].data) {
		char inner[256];
		int bad = profile && ssmf_profile_decode(want[1].data, (size_t)want[1].size,
		                                         profile, inner, sizeof inner) < 0;
		free(want[1].data);
		if (bad) {
			snprintf(err, errlen, "%s: %s", path ? path : "the bundled model", inner);
			free(sec.data);
			ssmf_model_free(*packet);
			*packet = NULL;
			return -1;
		}
	}
	if (sec.data) {
		char inner[512];
		*host = ssmf_checkpoint_load_mem_sections("host level", sec.data, (size_t)sec.size,
		                                          NULL, 0, inner, sizeof inner);
		free(sec.data);
		if (!*host) {
			snprintf(err, errlen, "%s: HOST section: %s",
			         path ? path : "the bundled model", inner);
			ssmf_model_free(*packet);
			*packet = NULL;
			return -1;
		}
	}
	return 0;
}

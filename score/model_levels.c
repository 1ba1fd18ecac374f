/* model_levels.c - loading both levels of a model file (model_levels.h). */
#include <stdio.h>
#include <stdlib.h>

#include "score/default_model.h"
#include "score/model_levels.h"

int ssmf_model_levels_load(const char *path, struct ssmf_model **packet, struct ssmf_model **host,
                           char *err, size_t errlen)
{
	struct ssmf_ckpt_section sec = {"HOST", NULL, 0};
	*host = NULL;
	*packet = path ? ssmf_checkpoint_load_sections(path, &sec, 1, err, errlen)
	               : ssmf_default_model_load_sections(&sec, 1, err, errlen);
	if (!*packet)
		return -1;
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

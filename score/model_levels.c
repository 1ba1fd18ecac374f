/* model_levels.c - loading both levels of a model file (model_levels.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "score/default_model.h"
#include "score/model_levels.h"

int ssmf_model_levels_load(const char *path, struct ssmf_model **packet, struct ssmf_model **host,
                           struct ssmf_host_profile *profile, struct ssmf_evidence *evidence,
                           char *err, size_t errlen)
{
	enum { HOST, PROFILE, EVIDENCE, N };
	struct ssmf_ckpt_section want[N] = {
	    {"HOST", NULL, 0}, {"PROFILE", NULL, 0}, {"EVIDENCE", NULL, 0}};
	const char *name = path ? path : "the bundled model";
	char inner[512];
	int bad = 0;
	*host = NULL;
	if (profile)
		memset(profile, 0, sizeof *profile);
	if (evidence)
		memset(evidence, 0, sizeof *evidence);
	*packet = path ? ssmf_checkpoint_load_sections(path, want, N, err, errlen)
	               : ssmf_default_model_load_sections(want, N, err, errlen);
	if (!*packet)
		return -1;
	if (want[PROFILE].data && profile &&
	    ssmf_profile_decode(want[PROFILE].data, (size_t)want[PROFILE].size, profile, inner,
	                        sizeof inner) < 0)
		bad = 1;
	if (!bad && want[EVIDENCE].data && evidence &&
	    ssmf_evidence_decode(want[EVIDENCE].data, (size_t)want[EVIDENCE].size, evidence, inner,
	                         sizeof inner) < 0)
		bad = 1;
	if (bad)
		snprintf(err, errlen, "%s: %s", name, inner);
	if (!bad && want[HOST].data) {
		*host = ssmf_checkpoint_load_mem_sections("host level", want[HOST].data,
		                                          (size_t)want[HOST].size, NULL, 0, inner,
		                                          sizeof inner);
		if (!*host) {
			snprintf(err, errlen, "%s: HOST section: %s", name, inner);
			bad = 1;
		}
	}
	for (int k = 0; k < N; k++)
		free(want[k].data);
	if (bad) {
		ssmf_model_free(*packet);
		*packet = NULL;
		return -1;
	}
	return 0;
}

/* levels.c - training both levels into one model file (levels.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/read_file.h"
#include "train/hostset.h"
#include "train/dist.h"
#include "train/evidence_fit.h"
#include "train/levels.h"

int train_attach_host(const char *base, const char *host, const struct ssmf_host_profile *profile,
                      const struct ssmf_evidence *evidence, const char *out, char *err,
                      size_t errlen)
{
	unsigned char pb[SSMF_PROFILE_BYTES], eb[SSMF_EVIDENCE_BYTES];
	struct ssmf_ckpt_section meta = {"META", NULL, 0};
	struct ssmf_model *m = ssmf_checkpoint_load_sections(base, &meta, 1, err, errlen);
	if (!m)
		return TRAIN_E_INPUT;
	/* the host file must load as a model before it goes in */
	struct ssmf_model *hm = ssmf_checkpoint_load(host, err, errlen);
	unsigned char *hb = NULL;
	uint64_t hn = 0;
	int rc = TRAIN_E_INPUT;
	/* the bytes as they are: the host level is a model file of its own inside HOST */
	if (hm && ssmf_read_file(host, (uint64_t)1 << 34, "a model", &hb, &hn, err, errlen) == 0) {
		struct ssmf_ckpt_section sec[4];
		int ns = 0;
		if (meta.data)
			sec[ns++] = meta;
		sec[ns++] = (struct ssmf_ckpt_section){"HOST", hb, hn};
		if (profile) {
			ssmf_profile_encode(profile, pb);
			sec[ns++] = (struct ssmf_ckpt_section){"PROFILE", pb, sizeof pb};
		}
		if (evidence) {
			ssmf_evidence_encode(evidence, eb);
			sec[ns++] = (struct ssmf_ckpt_section){"EVIDENCE", eb, sizeof eb};
		}
		rc = ssmf_checkpoint_save_sections(out, m, sec, ns, err, errlen) < 0
		         ? TRAIN_E_OUTPUT
		         : 0;
	}
	free(hb);
	free(meta.data);
	ssmf_model_free(hm);
	ssmf_model_free(m);
	return rc;
}

int train_levels_run(const struct train_opts *o, enum train_host_mode mode, const char *base,
                     struct train_result *res, struct train_result *hres, char *err, size_t errlen)
{
	memset(res, 0, sizeof *res);
	memset(hres, 0, sizeof *hres);
	if (mode != TRAIN_HOST_ONLY) {
		int rc = train_run(o, res, err, errlen);
		if (rc < 0 || mode == TRAIN_HOST_NO)
			return rc;
	}
	size_t n = strlen(o->output) + 16, nc = strlen(o->checkpoint) + 16;
	char *tmp = malloc(n), *ckpt = malloc(nc);
	if (!tmp || !ckpt) {
		free(tmp);
		free(ckpt);
		snprintf(err, errlen, "out of memory");
		return TRAIN_E_INTERNAL;
	}
	/* rank 0 writes the files of a distributed run; its pid names the temporary one */
	struct train_dist solo = {.size = 1}, *dist = o->dist ? o->dist : &solo;
	const struct train_observer *obs = dist->rank == 0 ? o->obs : NULL;
	snprintf(tmp, n, "%s.host-%ld", o->output, (long)getpid());
	snprintf(ckpt, nc, "%s.host", o->checkpoint);
	struct train_opts h = *o;
	h.host_level = 1;
	h.hp.supervised = 0;
	h.output = tmp;
	h.checkpoint = ckpt;
	h.resume = NULL; /* the host level is small: it always trains from the start */
	if (obs && obs->on_level)
		obs->on_level(obs->user, 1);
	int rc = train_run(&h, hres, err, errlen);
	if (obs && obs->on_level)
		obs->on_level(obs->user, 0);
	/* train_run's outcome is the same on every process; the profile and the attaching
	 * are rank 0's */
	int trained = rc == 0;
	if (dist->rank == 0) {
		struct ssmf_host_profile prof;
		struct ssmf_evidence ev;
		const char *packets = mode == TRAIN_HOST_ONLY ? base : o->output;
		if (trained)
			rc = train_host_profile_fit(o->train_paths, o->n_train, &prof, err, errlen);
		if (trained && rc == 0)
			rc = train_evidence_fit(o, packets, &ev, err, errlen);
		if (trained && rc == 0)
			rc = train_attach_host(packets, tmp, &prof, ev.flows ? &ev : NULL,
			                       o->output, err, errlen);
		if (trained && rc == 0)
			hres->evidence_flows = ev.flows;
		unlink(tmp);
		if (rc == 0)
			unlink(ckpt);
	}
	if (trained)
		rc = train_dist_agree(dist, rc, err, errlen);
	free(tmp);
	free(ckpt);
	return rc;
}

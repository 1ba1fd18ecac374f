/* bundle_names.c - which tensors a bundle of a given config holds (docs/model.md,
 * "Parameters"); export and `info` check against this list, not against ssm/'s. */
#include <stdio.h>

#include "export/bundle.h"

static void add(struct ssmf_bundle_tensor *out, int max, int *n, const char *name, int d0, int d1)
{
	if (*n < max) {
		struct ssmf_bundle_tensor *t = &out[*n];
		snprintf(t->name, sizeof t->name, "%s", name);
		t->ndim = d1 ? 2 : 1;
		t->shape[0] = d0;
		t->shape[1] = d1;
	}
	(*n)++;
}

int ssmf_bundle_expected(const struct ssmf_config *c, struct ssmf_bundle_tensor *out, int max)
{
	int D = c->d_model, N = c->d_state, DI = c->expand * c->d_model;
	int H = DI / c->headdim, DP = 2 * DI + 2 * N + 3 * H + N / 2, n = 0;
	add(out, max, &n, "embed.weight", D, SSMF_N_FEATURES);
	add(out, max, &n, "embed.bias", D, 0);
	for (int l = 0; l < c->n_layer; l++) {
		static const struct {
			const char *suffix;
			char d0, d1; /* D, P (in_proj width), I (d_inner), H, N, 0 */
		} per_layer[] = {
		    {"norm.weight", 'D', 0},
		    {"mixer.in_proj.weight", 'P', 'D'},
		    {"mixer.dt_bias", 'H', 0},
		    {"mixer.a_bias", 'H', 0},
		    {"mixer.gap_w", 'H', 0},
		    {"mixer.B_norm.weight", 'N', 0},
		    {"mixer.B_bias", 'N', 0},
		    {"mixer.C_norm.weight", 'N', 0},
		    {"mixer.C_bias", 'N', 0},
		    {"mixer.D", 'H', 0},
		    {"mixer.out_proj.weight", 'D', 'I'},
		};
		for (size_t k = 0; k < sizeof per_layer / sizeof *per_layer; k++) {
			int dims[2];
			char sym[2] = {per_layer[k].d0, per_layer[k].d1};
			for (int j = 0; j < 2; j++)
				dims[j] = sym[j] == 'D'   ? D
				          : sym[j] == 'P' ? DP
				          : sym[j] == 'I' ? DI
				          : sym[j] == 'H' ? H
				          : sym[j] == 'N' ? N
				                          : 0;
			char name[SSMF_MAX_NAME];
			snprintf(name, sizeof name, "layers.%d.%s", l, per_layer[k].suffix);
			add(out, max, &n, name, dims[0], dims[1]);
		}
	}
	add(out, max, &n, "norm_f.weight", D, 0);
	add(out, max, &n, "head.weight", SSMF_N_LOGITS, D);
	add(out, max, &n, "head.bias", SSMF_N_LOGITS, 0);
	add(out, max, &n, "cls_head.weight", 1, D);
	add(out, max, &n, "cls_head.bias", 1, 0);
	return n;
}

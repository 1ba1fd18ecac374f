/* make_seed_checkpoint.c - writes a small valid checkpoint, a seed for the
 * checkpoint fuzz target. Usage: make_seed_checkpoint OUT [d_model n_layer]. */
#include <stdio.h>
#include <stdlib.h>

#include "ssm/ssm.h"

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: %s OUT [d_model n_layer]\n", argv[0]);
		return 2;
	}
	struct ssmf_config cfg = {
	    .d_model = 8, .n_layer = 1, .d_state = 2, .expand = 1, .headdim = 4};
	if (argc == 4) {
		cfg.d_model = atoi(argv[2]);
		cfg.n_layer = atoi(argv[3]);
	}
	char err[512];
	struct ssmf_model *m = ssmf_model_new(&cfg, 1, err, sizeof err);
	if (!m || ssmf_checkpoint_save(argv[1], m, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		ssmf_model_free(m);
		return 1;
	}
	ssmf_model_free(m);
	return 0;
}

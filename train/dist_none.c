/* dist_none.c - dist.h without MPI: one process. A launcher that started several gets an
 * error instead of several processes each training alone and writing the same files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/dist.h"
#include "train/train.h"

int train_dist_init(struct train_dist *d, int *argc, char ***argv, char *err, size_t errlen)
{
	(void)argc, (void)argv;
	memset(d, 0, sizeof *d);
	d->size = 1;
	static const char *const vars[] = {TRAIN_DIST_LAUNCHER_VARS};
	static const char *const ranks[] = {TRAIN_DIST_RANK_VARS};
	_Static_assert(sizeof vars == sizeof ranks, "a rank variable for each size variable");
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
		const char *v = getenv(vars[i]), *r = getenv(ranks[i]);
		if (v && atol(v) > 1 && r && atol(r) != 0) {
			err[0] = 0; /* rank 0 says it */
			return TRAIN_E_USAGE;
		}
		if (v && atol(v) > 1) {
			snprintf(
			    err, errlen,
			    "started as one of %ld processes (%s=%s), but this ssmflow was built "
			    "without MPI: install an MPI (Debian: libopenmpi-dev openmpi-bin) and "
			    "rebuild for data-parallel training, or run a single process",
			    atol(v), vars[i], v);
			return TRAIN_E_USAGE;
		}
	}
	return 0;
}

void train_dist_finish(struct train_dist *d, int failed)
{
	(void)d, (void)failed;
}

int train_dist_reduce_grads(struct train_dist *d, ssmf_real *grads, size_t n, train_dist_add_fn add,
                            void *user, char *err, size_t errlen)
{
	(void)d, (void)err, (void)errlen;
	add(user, 0, n, grads);
	return 0;
}

/* One process has no peer to send to or receive from (the engines never ask: a single
 * process has no reducer); a broadcast leaves buf as it is. */
static int no_peer(char *err, size_t errlen)
{
	snprintf(err, errlen, "a single process has no peer");
	return TRAIN_E_INTERNAL;
}

int train_dist_send(struct train_dist *d, const void *buf, size_t bytes, int peer, char *err,
                    size_t errlen)
{
	(void)d, (void)buf, (void)bytes, (void)peer;
	return no_peer(err, errlen);
}

int train_dist_recv(struct train_dist *d, void *buf, size_t bytes, int peer, char *err,
                    size_t errlen)
{
	(void)d, (void)buf, (void)bytes, (void)peer;
	return no_peer(err, errlen);
}

int train_dist_broadcast(struct train_dist *d, void *buf, size_t bytes, int root, char *err,
                         size_t errlen)
{
	(void)d, (void)buf, (void)bytes, (void)root, (void)err, (void)errlen;
	return 0;
}

int train_dist_sum_disjoint(struct train_dist *d, double *v, int n, char *err, size_t errlen)
{
	(void)d, (void)v, (void)n, (void)err, (void)errlen;
	return 0;
}

int train_dist_agree(struct train_dist *d, int rc, char *err, size_t errlen)
{
	(void)d, (void)err, (void)errlen;
	return rc;
}

int train_dist_any(struct train_dist *d, int flag, char *err, size_t errlen)
{
	(void)d, (void)err, (void)errlen;
	return flag != 0;
}

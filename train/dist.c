/* dist.c - what both builds of dist.h share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/dist.h"
#include "train/train.h"

void train_dist_share(const struct train_dist *d, int n, int *lo, int *hi)
{
	*lo = (int)((long)n * d->rank / d->size);
	*hi = (int)((long)n * (d->rank + 1) / d->size);
}

void train_dist_agree_message(struct train_dist *d, int rc, int rc0, int agreed, char *err,
                              size_t errlen)
{
	if (agreed == 0 || d->size == 1)
		return;
	if (d->rank == 0 && rc0 == 0)
		snprintf(err, errlen, "another process of the job failed (its rank says why)");
	else if (d->rank != 0 && rc < 0 && rc0 == 0) {
		char own[1024];
		snprintf(own, sizeof own, "%s", err);
		snprintf(err, errlen, "rank %d: %s", d->rank, own);
		d->speak = 1;
	}
}

/* The engine's view of the job (ssm/engine.h). */
static void r_share(void *user, int n, int *lo, int *hi)
{
	train_dist_share(user, n, lo, hi);
}

static int r_agree(void *user, int failed, char *err, size_t errlen)
{
	return train_dist_agree(user, failed ? TRAIN_E_INTERNAL : 0, err, errlen);
}

static int r_reduce_grads(void *user, ssmf_real *grads, size_t n, ssmf_reducer_add_fn add,
                          void *add_user, char *err, size_t errlen)
{
	return train_dist_reduce_grads(user, grads, n, add, add_user, err, errlen);
}

static int r_sum_disjoint(void *user, double *v, int n, char *err, size_t errlen)
{
	return train_dist_sum_disjoint(user, v, n, err, errlen);
}

static int r_send(void *user, const void *buf, size_t bytes, int peer, char *err, size_t errlen)
{
	return train_dist_send(user, buf, bytes, peer, err, errlen);
}

static int r_recv(void *user, void *buf, size_t bytes, int peer, char *err, size_t errlen)
{
	return train_dist_recv(user, buf, bytes, peer, err, errlen);
}

static int r_broadcast(void *user, void *buf, size_t bytes, int root, char *err, size_t errlen)
{
	return train_dist_broadcast(user, buf, bytes, root, err, errlen);
}

static void r_account(void *user, double seconds, double bytes_sent)
{
	struct train_dist *d = user;
	d->comm_s += seconds;
	d->comm_mib += bytes_sent / 1048576.0;
}

const struct ssmf_reducer *train_dist_reducer(struct train_dist *d, struct ssmf_reducer *r)
{
	if (!d || d->size < 2)
		return NULL;
	*r = (struct ssmf_reducer){.user = d,
	                           .rank = d->rank,
	                           .size = d->size,
	                           .share = r_share,
	                           .agree = r_agree,
	                           .reduce_grads = r_reduce_grads,
	                           .sum_disjoint = r_sum_disjoint,
	                           .send = r_send,
	                           .recv = r_recv,
	                           .broadcast = r_broadcast,
	                           .account = r_account,
	                           .lost_rc = TRAIN_E_DIST};
	const char *place = getenv(TRAIN_DIST_CHAIN_VAR);
	if (place && strcmp(place, "host") == 0)
		r->chain = SSMF_CHAIN_HOST;
	else if (place && strcmp(place, "device") == 0)
		r->chain = SSMF_CHAIN_DEVICE;
	return r;
}

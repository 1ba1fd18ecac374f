/* dist.c - what both builds of dist.h share. */
#include <stdio.h>
#include <string.h>

#include "train/dist.h"

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

/* grad_ring.c - the chain of grad_ring.h over any transport: the order of the sum is
 * decided here alone, so NCCL and the emulation add alike. */
#include "cuda/grad_ring.h"

int ssmf_grad_ring_reduce(const struct ssmf_grad_transport *t, double *bytes_sent, char *err,
                          size_t errlen)
{
	int prev = t->rank - 1, next = t->rank + 1, rc = 0;
	*bytes_sent = 0;
	for (size_t i0 = 0; i0 < t->n && rc == 0; i0 += t->chunk) {
		size_t count = t->n - i0 < t->chunk ? t->n - i0 : t->chunk;
		float *mine = t->grads + i0;
		const float *partial = NULL; /* rank 0 adds to zero */
		if (prev >= 0) {
			rc = t->recv(t->user, t->scratch, count, prev, err, errlen);
			partial = t->scratch;
		}
		if (rc == 0)
			rc = t->add(t->user, mine, partial, mine, count, err, errlen);
		if (rc == 0 && next < t->size) {
			rc = t->send(t->user, mine, count, next, err, errlen);
			*bytes_sent += (double)count * sizeof *mine;
		}
	}
	if (rc == 0)
		rc = t->broadcast(t->user, t->grads, t->n, t->size - 1, err, errlen);
	if (rc == 0 && t->rank == t->size - 1)
		*bytes_sent += (double)t->n * sizeof *t->grads;
	return rc == 0 ? t->finish(t->user, err, errlen) : rc;
}

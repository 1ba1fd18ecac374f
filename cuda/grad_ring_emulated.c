/* grad_ring_emulated.c - the transport of grad_ring.h for the host emulation of the
 * kernels (--device cuda-emulated): its "device" buffers are host memory, so the chain's
 * messages go through the job's own calls (the reducer's send, recv and broadcast over
 * MPI) and the add is a loop. The same chain as NCCL's, so the tests run its order. */
#include <stdio.h>
#include <stdlib.h>

#include "cuda/cx.h"
#include "cuda/grad_ring.h"

/* Elements per message: 32 KiB of floats, as the host chain's (train/dist_mpi.c). */
#define EMULATED_CHUNK ((size_t)8192)

struct emulated_ring {
	const struct ssmf_reducer *red;
	float *scratch;
};

/* A failed message returns the reducer's code (MPI's failure); the engine ends the job on
 * any failure of the chain alike (ssmf_reducer.lost_rc). */
static int emu_send(void *user, const float *buf, size_t count, int peer, char *err, size_t errlen)
{
	const struct emulated_ring *e = user;
	return e->red->send(e->red->user, buf, count * sizeof *buf, peer, err, errlen);
}

static int emu_recv(void *user, float *buf, size_t count, int peer, char *err, size_t errlen)
{
	const struct emulated_ring *e = user;
	return e->red->recv(e->red->user, buf, count * sizeof *buf, peer, err, errlen);
}

static int emu_broadcast(void *user, float *buf, size_t count, int root, char *err, size_t errlen)
{
	const struct emulated_ring *e = user;
	return e->red->broadcast(e->red->user, buf, count * sizeof *buf, root, err, errlen);
}

static int emu_add(void *user, float *dst, const float *partial, const float *mine, size_t count,
                   char *err, size_t errlen)
{
	(void)user, (void)err, (void)errlen;
	for (size_t i = 0; i < count; i++)
		dst[i] = (partial ? partial[i] : 0.0f) + mine[i];
	return 0;
}

static int emu_finish(void *user, char *err, size_t errlen)
{
	(void)user, (void)err, (void)errlen;
	return 0;
}

static void emu_close(void *user)
{
	struct emulated_ring *e = user;
	if (e)
		free(e->scratch);
	free(e);
}

int ssmf_cxh_grad_ring(struct ssmf_cxh *c, const struct ssmf_reducer *red,
                       struct ssmf_grad_transport *t, char *err, size_t errlen)
{
	size_t n = 0;
	float *grads = ssmf_cxh_grads(c, &n);
	size_t chunk = n < EMULATED_CHUNK ? (n ? n : 1) : EMULATED_CHUNK;
	struct emulated_ring *e = calloc(1, sizeof *e);
	if (e)
		e->scratch = malloc(chunk * sizeof *e->scratch);
	int failed = !e || !e->scratch;
	if (failed)
		snprintf(err, errlen, "out of memory");
	int rc = red->agree(red->user, failed, err, errlen);
	if (rc < 0) {
		emu_close(e);
		return rc;
	}
	e->red = red;
	*t = (struct ssmf_grad_transport){.user = e,
	                                  .rank = red->rank,
	                                  .size = red->size,
	                                  .grads = grads,
	                                  .n = n,
	                                  .scratch = e->scratch,
	                                  .chunk = chunk,
	                                  .send = emu_send,
	                                  .recv = emu_recv,
	                                  .broadcast = emu_broadcast,
	                                  .add = emu_add,
	                                  .finish = emu_finish,
	                                  .close = emu_close};
	return 0;
}

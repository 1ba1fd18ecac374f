/* grad_ring_gpu.c - the transport of grad_ring.h between GPUs: NCCL's, from the CUDA
 * module when it was built with NCCL. The communicator is made over the job's MPI (the
 * reducer's broadcast): rank 0 asks NCCL for a unique id, every process receives it and
 * joins. The processes agree after each step that one of them can fail alone, so none
 * waits in a join its peer never reaches. */
#include <stdio.h>
#include <string.h>

#include "cuda/grad_ring.h"
#include "cuda/ssm_cuda.h"

int ssmf_cuda_grad_ring(struct ssmf_cuda *c, const struct ssmf_reducer *red,
                        struct ssmf_grad_transport *t, char *err, size_t errlen)
{
	ssmf_nccl_prepare_fn *prepare = ssmf_cuda_module_symbol(SSMF_NCCL_PREPARE_SYMBOL);
	ssmf_nccl_id_fn *make_id = ssmf_cuda_module_symbol(SSMF_NCCL_ID_SYMBOL);
	ssmf_nccl_join_fn *join = ssmf_cuda_module_symbol(SSMF_NCCL_JOIN_SYMBOL);
	if (!prepare || !make_id || !join) { /* every process runs the same build */
		snprintf(err, errlen, "this ssmflow's CUDA module was built without NCCL");
		return SSMF_CUDA_E_NOBUILD;
	}
	memset(t, 0, sizeof *t);
	int failed = prepare(c, red->rank, red->size, t, err, errlen) < 0;
	int rc = red->agree(red->user, failed, err, errlen);
	unsigned char id[SSMF_NCCL_ID_BYTES] = {0};
	if (rc == 0) {
		failed = red->rank == 0 && make_id(id, err, errlen) < 0;
		rc = red->agree(red->user, failed, err, errlen);
	}
	if (rc == 0)
		rc = red->broadcast(red->user, id, sizeof id, 0, err, errlen);
	if (rc == 0) {
		failed = join(t, id, err, errlen) < 0;
		rc = red->agree(red->user, failed, err, errlen);
	}
	if (rc < 0 && t->close) {
		t->close(t->user);
		t->close = NULL;
	}
	return rc;
}

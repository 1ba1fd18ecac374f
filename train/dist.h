/* dist.h - training spread over the processes of an MPI job (mpirun, srun): data parallel,
 * every process holding the whole model and reading the same datasets.
 *
 * Each global batch is the batch one process would train on. Its flows fall into the fixed
 * gradient groups of ssm (ssmf_grad_groups); each process computes a contiguous share of the
 * groups, and the group gradients are added in group order along the ranks (rank 0 adds its
 * groups to zero, passes the partial sum to rank 1, which adds its own, and so on; the last
 * rank broadcasts the total). That is the order ssmf_forward_backward adds them in, so any
 * number of processes gives the losses and parameters of one, bit for bit. The optimizer step
 * then runs on every process over the same gradients, which keeps the parameters equal
 * without sending them.
 *
 * Two builds of this interface: dist_mpi.c (with MPI) and dist_none.c (without: one
 * process, and an error when a launcher started several). dist.c has what both share.
 * Calls that communicate return 0, or a negative enum train_rc with err: TRAIN_E_DIST when
 * MPI failed (a process of the job died, say). */
#ifndef SSMF_TRAIN_DIST_H
#define SSMF_TRAIN_DIST_H

#include <stddef.h>

#include "ssm/engine.h"
#include "ssm/ssm.h"

struct train_dist {
	int rank, size;  /* this process, the job's processes (0 and 1 for a single process) */
	int local_rank;  /* rank among the job's processes on this host: the GPU it takes */
	double comm_s;   /* seconds this process spent reducing gradients and losses */
	double comm_mib; /* MiB of gradients it sent */
	int speak;       /* not rank 0, and its error is its own, for it to print (agree) */
};

/* The environment variables launchers set to the number of processes they started, for
 * the build without MPI to notice it was launched as one of several. */
#define TRAIN_DIST_LAUNCHER_VARS "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS"
/* ... and to the process's rank, in the same order */
#define TRAIN_DIST_RANK_VARS "OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"

/* Joins the job (MPI_Init; errors come back as return codes, not aborts). Without MPI: a
 * single process, or TRAIN_E_USAGE with err saying how to get the distributed build when a
 * launcher variable says the job has several processes (err is empty but on rank 0, so the
 * job says it once). */
int train_dist_init(struct train_dist *d, int *argc, char ***argv, char *err, size_t errlen);
/* Leaves the job. failed: this process ends on an error its peers may not know of (an MPI
 * failure): the whole job is aborted rather than left waiting. */
void train_dist_finish(struct train_dist *d, int failed);

/* The share [*lo, *hi) of n items (groups, batches) of this process: contiguous, sizes
 * differing by one at most, a function of (n, rank, size) alone. */
void train_dist_share(const struct train_dist *d, int n, int *lo, int *hi);

/* Adds this process's group gradients, elements i0..i1-1, to dst (ssmf_add_group_grads). */
typedef ssmf_reducer_add_fn train_dist_add_fn;

/* grads (n elements) becomes the sum over all processes, rank by rank, of what their `add`
 * contributes, starting from grads' value on rank 0 (zero); every process receives it. */
int train_dist_reduce_grads(struct train_dist *d, ssmf_real *grads, size_t n, train_dist_add_fn add,
                            void *user, char *err, size_t errlen);

/* v (n doubles) becomes the element-wise sum over the processes, where each element is
 * non-zero on one process at most: exact whatever order MPI adds in. */
int train_dist_sum_disjoint(struct train_dist *d, double *v, int n, char *err, size_t errlen);

/* Bytes to and from another process, in the order both call them, and root's bytes to
 * every process: the CUDA engine's chain on the device is built on them (ssm/engine.h). */
int train_dist_send(struct train_dist *d, const void *buf, size_t bytes, int peer, char *err,
                    size_t errlen);
int train_dist_recv(struct train_dist *d, void *buf, size_t bytes, int peer, char *err,
                    size_t errlen);
int train_dist_broadcast(struct train_dist *d, void *buf, size_t bytes, int root, char *err,
                         size_t errlen);

/* The outcome every process agrees on after a step some of them could fail alone (a
 * checkpoint only rank 0 writes, a process's own share): the most negative of the
 * processes' rc. An error is printed once, by rank 0, whose err keeps its own message or
 * says another process failed; a process whose failure rank 0 did not share prefixes its
 * message with its rank and sets speak, to print it too. Errors every process meets alike
 * (a bad dataset, a diverged loss) are rank 0's to print. */
int train_dist_agree(struct train_dist *d, int rc, char *err, size_t errlen);

/* 1 when any process's flag is set (an interrupt that reached some of them), else 0;
 * negative on an MPI failure. */
int train_dist_any(struct train_dist *d, int flag, char *err, size_t errlen);

/* The job as the engines see it (ssm/engine.h), in *r: NULL for a single process, which
 * the engines run as before. Where the CUDA engine adds the gradients (r->chain) is the
 * environment's SSMF_CUDA_REDUCE: "host" (the path of a build without NCCL, for comparing
 * the two, which must give the same bits), "device" (an error where the device has no
 * transport), anything else or unset: the device where it can. */
#define TRAIN_DIST_CHAIN_VAR "SSMF_CUDA_REDUCE"
const struct ssmf_reducer *train_dist_reducer(struct train_dist *d, struct ssmf_reducer *r);

/* For the two builds: the err of train_dist_agree from this process's rc, rank 0's rc0
 * and the agreed rc. */
void train_dist_agree_message(struct train_dist *d, int rc, int rc0, int agreed, char *err,
                              size_t errlen);

#endif

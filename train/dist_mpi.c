/* dist_mpi.c - dist.h over MPI. Only the main thread calls MPI (the OpenMP threads of the
 * model never do). MPI is initialised only when a launcher started this process: a plain
 * `ssmflow train` of an MPI build runs as before, without MPI. */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/dist.h"
#include "train/train.h"

#ifdef SSMF_REAL_DOUBLE
#define MPI_SSMF_REAL MPI_DOUBLE
#else
#define MPI_SSMF_REAL MPI_FLOAT
#endif

/* Elements per message of the reduction chain (32 KiB of floats): ranks add chunk c while
 * chunk c - 1 travels on, so the chain's latency grows by a chunk per rank, not by the whole
 * gradient (the default model's is 8 chunks). */
#define CHAIN_CHUNK ((size_t)8192)
#define CHAIN_TAG   0x55f

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 0, or TRAIN_E_DIST with the MPI call and MPI's reason in err. */
static int mpi_check(int mrc, const char *call, char *err, size_t errlen)
{
	if (mrc == MPI_SUCCESS)
		return 0;
	char why[MPI_MAX_ERROR_STRING];
	int n = 0;
	if (MPI_Error_string(mrc, why, &n) != MPI_SUCCESS)
		snprintf(why, sizeof why, "error %d", mrc);
	snprintf(err, errlen,
	         "%s failed: %s (a process of the job died or lost its connection; the job "
	         "ends, the last complete checkpoint stays)",
	         call, why);
	return TRAIN_E_DIST;
}

static int launched(void)
{
	static const char *const vars[] = {TRAIN_DIST_LAUNCHER_VARS};
	for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
		if (getenv(vars[i]))
			return 1;
	return 0;
}

int train_dist_init(struct train_dist *d, int *argc, char ***argv, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->size = 1;
	if (!launched())
		return 0;
	int rc = mpi_check(MPI_Init(argc, argv), "MPI_Init", err, errlen);
	if (rc < 0)
		return rc;
	MPI_Comm local;
	MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
	MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &d->size);
	rc = mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank,
	                                   MPI_INFO_NULL, &local),
	               "MPI_Comm_split_type", err, errlen);
	if (rc < 0)
		return rc;
	MPI_Comm_rank(local, &d->local_rank);
	MPI_Comm_free(&local);
	return 0;
}

void train_dist_finish(struct train_dist *d, int failed)
{
	int on = 0;
	MPI_Initialized(&on);
	if (!on)
		return;
	if (failed && d->size > 1)
		MPI_Abort(MPI_COMM_WORLD, 1);
	MPI_Finalize();
}

int train_dist_reduce_grads(struct train_dist *d, ssmf_real *grads, size_t n, train_dist_add_fn add,
                            void *user, char *err, size_t errlen)
{
	if (d->size == 1) {
		add(user, 0, n, grads);
		return 0;
	}
	if (n > INT_MAX) {
		snprintf(err, errlen, "%zu parameters: more than one MPI message holds", n);
		return TRAIN_E_INTERNAL;
	}
	int prev = d->rank - 1, next = d->rank + 1, rc = 0;
	double t = 0;
	for (size_t i0 = 0; i0 < n && rc == 0; i0 += CHAIN_CHUNK) {
		size_t i1 = i0 + CHAIN_CHUNK < n ? i0 + CHAIN_CHUNK : n;
		int count = (int)(i1 - i0);
		double t0 = now_s();
		if (prev >= 0)
			rc = mpi_check(MPI_Recv(grads + i0, count, MPI_SSMF_REAL, prev, CHAIN_TAG,
			                        MPI_COMM_WORLD, MPI_STATUS_IGNORE),
			               "MPI_Recv", err, errlen);
		double t1 = now_s();
		if (rc == 0)
			add(user, i0, i1, grads);
		double t2 = now_s();
		if (rc == 0 && next < d->size) {
			rc = mpi_check(MPI_Send(grads + i0, count, MPI_SSMF_REAL, next, CHAIN_TAG,
			                        MPI_COMM_WORLD),
			               "MPI_Send", err, errlen);
			d->comm_mib += (double)count * sizeof *grads / 1048576.0;
		}
		t += (t1 - t0) + (now_s() - t2);
	}
	double t0 = now_s();
	if (rc == 0)
		rc = mpi_check(MPI_Bcast(grads, (int)n, MPI_SSMF_REAL, d->size - 1, MPI_COMM_WORLD),
		               "MPI_Bcast", err, errlen);
	if (d->rank == d->size - 1)
		d->comm_mib += (double)n * sizeof *grads / 1048576.0;
	d->comm_s += t + (now_s() - t0);
	return rc;
}

/* Bytes in messages of at most 1 GiB (an MPI count is an int). */
#define BYTES_PER_MESSAGE ((size_t)1 << 30)
#define BYTES_TAG         0x560

int train_dist_send(struct train_dist *d, const void *buf, size_t bytes, int peer, char *err,
                    size_t errlen)
{
	(void)d;
	int rc = 0;
	for (size_t i = 0; i < bytes && rc == 0; i += BYTES_PER_MESSAGE) {
		size_t k = bytes - i < BYTES_PER_MESSAGE ? bytes - i : BYTES_PER_MESSAGE;
		rc = mpi_check(MPI_Send((const char *)buf + i, (int)k, MPI_BYTE, peer, BYTES_TAG,
		                        MPI_COMM_WORLD),
		               "MPI_Send", err, errlen);
	}
	return rc;
}

int train_dist_recv(struct train_dist *d, void *buf, size_t bytes, int peer, char *err,
                    size_t errlen)
{
	(void)d;
	int rc = 0;
	for (size_t i = 0; i < bytes && rc == 0; i += BYTES_PER_MESSAGE) {
		size_t k = bytes - i < BYTES_PER_MESSAGE ? bytes - i : BYTES_PER_MESSAGE;
		rc = mpi_check(MPI_Recv((char *)buf + i, (int)k, MPI_BYTE, peer, BYTES_TAG,
		                        MPI_COMM_WORLD, MPI_STATUS_IGNORE),
		               "MPI_Recv", err, errlen);
	}
	return rc;
}

int train_dist_broadcast(struct train_dist *d, void *buf, size_t bytes, int root, char *err,
                         size_t errlen)
{
	(void)d;
	int rc = 0;
	for (size_t i = 0; i < bytes && rc == 0; i += BYTES_PER_MESSAGE) {
		size_t k = bytes - i < BYTES_PER_MESSAGE ? bytes - i : BYTES_PER_MESSAGE;
		rc = mpi_check(MPI_Bcast((char *)buf + i, (int)k, MPI_BYTE, root, MPI_COMM_WORLD),
		               "MPI_Bcast", err, errlen);
	}
	return rc;
}

int train_dist_sum_disjoint(struct train_dist *d, double *v, int n, char *err, size_t errlen)
{
	if (d->size == 1)
		return 0;
	double t0 = now_s();
	int rc = mpi_check(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
	                   "MPI_Allreduce", err, errlen);
	d->comm_s += now_s() - t0;
	return rc;
}

int train_dist_agree(struct train_dist *d, int rc, char *err, size_t errlen)
{
	if (d->size == 1)
		return rc;
	/* the most negative rc, and rank 0's (the others contribute 0) */
	int v[2] = {rc, d->rank == 0 ? rc : 0};
	char own[1024];
	snprintf(own, sizeof own, "%s", err);
	int mrc = mpi_check(MPI_Allreduce(MPI_IN_PLACE, v, 2, MPI_INT, MPI_MIN, MPI_COMM_WORLD),
	                    "MPI_Allreduce", err, errlen);
	if (mrc < 0)
		return mrc;
	snprintf(err, errlen, "%s", own);
	train_dist_agree_message(d, rc, v[1], v[0], err, errlen);
	return v[0];
}

int train_dist_any(struct train_dist *d, int flag, char *err, size_t errlen)
{
	if (d->size == 1)
		return flag != 0;
	int v = flag != 0;
	int rc = mpi_check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD),
	                   "MPI_Allreduce", err, errlen);
	return rc < 0 ? rc : v;
}

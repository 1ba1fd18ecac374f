/* test_grad_ring.c - the order of the gradient chain (cuda/grad_ring.c), with the
 * transport replaced by an in-process one: each rank a thread, each message handed over
 * from one thread to the next. On every rank, for 2 to 5 ranks and chunks that do and do
 * not divide the gradient, the result must be the bits of ((0 + g0) + g1) + ... + g(N-1),
 * element by element, the sum of the host chain (train/dist_mpi.c). The gradients are of
 * mixed magnitudes and signs, so that another order rounds otherwise (checked too), and
 * hold -0 on every rank in one place (0 + -0 is +0, as the host chain's zeroed sum gives,
 * where a copy of rank 0's gradient would keep -0). */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/check.h"
#include "cuda/grad_ring.h"

#define MAX_RANKS 5
#define N_GRADS   1000

/* One message at a time from one rank to another: send waits until it was taken. */
struct channel {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const float *buf;
	size_t count;
	int full;
};

struct job {
	int size;
	struct channel ch[MAX_RANKS][MAX_RANKS]; /* [from][to] */
};

struct rank_ctx {
	struct job *job;
	int rank;
	float grads[N_GRADS], scratch[N_GRADS];
	size_t chunk;
	double bytes_sent;
	int rc;
};

static int chan_send(struct channel *c, const float *buf, size_t count)
{
	pthread_mutex_lock(&c->mu);
	while (c->full)
		pthread_cond_wait(&c->cv, &c->mu);
	c->buf = buf;
	c->count = count;
	c->full = 1;
	pthread_cond_broadcast(&c->cv);
	while (c->full)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

static int chan_recv(struct channel *c, float *buf, size_t count, char *err, size_t errlen)
{
	pthread_mutex_lock(&c->mu);
	while (!c->full)
		pthread_cond_wait(&c->cv, &c->mu);
	int rc = 0;
	if (c->count != count) {
		snprintf(err, errlen, "received %zu elements, expected %zu", c->count, count);
		rc = -1;
	} else {
		memcpy(buf, c->buf, count * sizeof *buf);
	}
	c->full = 0;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static int t_send(void *user, const float *buf, size_t count, int peer, char *err, size_t errlen)
{
	struct rank_ctx *r = user;
	(void)err, (void)errlen;
	return chan_send(&r->job->ch[r->rank][peer], buf, count);
}

static int t_recv(void *user, float *buf, size_t count, int peer, char *err, size_t errlen)
{
	struct rank_ctx *r = user;
	return chan_recv(&r->job->ch[peer][r->rank], buf, count, err, errlen);
}

static int t_broadcast(void *user, float *buf, size_t count, int root, char *err, size_t errlen)
{
	struct rank_ctx *r = user;
	if (r->rank != root)
		return chan_recv(&r->job->ch[root][r->rank], buf, count, err, errlen);
	for (int to = 0; to < r->job->size; to++)
		if (to != root)
			chan_send(&r->job->ch[root][to], buf, count);
	return 0;
}

static int t_add(void *user, float *dst, const float *partial, const float *mine, size_t count,
                 char *err, size_t errlen)
{
	(void)user, (void)err, (void)errlen;
	for (size_t i = 0; i < count; i++)
		dst[i] = (partial ? partial[i] : 0.0f) + mine[i];
	return 0;
}

static int t_finish(void *user, char *err, size_t errlen)
{
	(void)user, (void)err, (void)errlen;
	return 0;
}

static void *run_rank(void *arg)
{
	struct rank_ctx *r = arg;
	struct ssmf_grad_transport t = {.user = r,
	                                .rank = r->rank,
	                                .size = r->job->size,
	                                .grads = r->grads,
	                                .n = N_GRADS,
	                                .scratch = r->scratch,
	                                .chunk = r->chunk,
	                                .send = t_send,
	                                .recv = t_recv,
	                                .broadcast = t_broadcast,
	                                .add = t_add,
	                                .finish = t_finish};
	char err[256] = "";
	r->rc = ssmf_grad_ring_reduce(&t, &r->bytes_sent, err, sizeof err);
	if (r->rc)
		fprintf(stderr, "rank %d: %s\n", r->rank, err);
	return NULL;
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* mixed signs and magnitudes (2^-20 to 2^20), +0 now and then, -0 last on every rank */
static float gradient_value(uint64_t *s, size_t i)
{
	if (i == N_GRADS - 1)
		return -0.0f;
	uint64_t v = next_random(s);
	if (v % 97 == 0)
		return 0.0f;
	float x = (float)((v >> 11) % 1000000) / 1000000.0f + 0.5f;
	int e = (int)((v >> 40) % 41) - 20;
	return (v >> 63 ? -1.0f : 1.0f) * ldexpf(x, e);
}

static void check_job(int size, size_t chunk)
{
	static struct rank_ctx ranks[MAX_RANKS];
	static struct job job;
	static float want[N_GRADS], reversed[N_GRADS];
	memset(&job, 0, sizeof job);
	job.size = size;
	for (int a = 0; a < size; a++)
		for (int b = 0; b < size; b++) {
			pthread_mutex_init(&job.ch[a][b].mu, NULL);
			pthread_cond_init(&job.ch[a][b].cv, NULL);
		}
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)size * 131 ^ chunk;
	for (int r = 0; r < size; r++) {
		ranks[r] = (struct rank_ctx){.job = &job, .rank = r, .chunk = chunk};
		for (size_t i = 0; i < N_GRADS; i++)
			ranks[r].grads[i] = gradient_value(&seed, i);
	}
	/* the host chain's sum, and the same terms in the other order */
	for (size_t i = 0; i < N_GRADS; i++) {
		float s = 0.0f, v = 0.0f;
		for (int r = 0; r < size; r++)
			s += ranks[r].grads[i];
		for (int r = size - 1; r >= 0; r--)
			v += ranks[r].grads[i];
		want[i] = s;
		reversed[i] = v;
	}
	if (size >= 3)
		CHECKF(memcmp(want, reversed, sizeof want) != 0,
		       "%d ranks: the data does not tell the orders apart", size);
	pthread_t th[MAX_RANKS];
	for (int r = 0; r < size; r++)
		pthread_create(&th[r], NULL, run_rank, &ranks[r]);
	for (int r = 0; r < size; r++)
		pthread_join(th[r], NULL);
	for (int r = 0; r < size; r++) {
		CHECKF(ranks[r].rc == 0, "%d ranks, chunk %zu: rank %d returned %d", size, chunk, r,
		       ranks[r].rc);
		size_t bad = N_GRADS;
		for (size_t i = 0; i < N_GRADS && bad == N_GRADS; i++)
			if (memcmp(&ranks[r].grads[i], &want[i], sizeof want[i]) != 0)
				bad = i;
		CHECKF(bad == N_GRADS, "%d ranks, chunk %zu: rank %d element %zu is %a, not %a",
		       size, chunk, r, bad, bad < N_GRADS ? ranks[r].grads[bad] : 0.0,
		       bad < N_GRADS ? want[bad] : 0.0);
		double sent = (r < size - 1 ? N_GRADS : 0) + (r == size - 1 ? N_GRADS : 0);
		CHECKF(ranks[r].bytes_sent == sent * sizeof(float),
		       "%d ranks: rank %d counts %.0f bytes sent", size, r, ranks[r].bytes_sent);
	}
	CHECKF(want[N_GRADS - 1] == 0.0f && !signbit(want[N_GRADS - 1]), "-0 + -0 from zero");
	for (int a = 0; a < size; a++)
		for (int b = 0; b < size; b++) {
			pthread_mutex_destroy(&job.ch[a][b].mu);
			pthread_cond_destroy(&job.ch[a][b].cv);
		}
}

int main(void)
{
	static const size_t chunks[] = {1, 7, 256, N_GRADS, 8192};
	for (int size = 2; size <= MAX_RANKS; size++)
		for (size_t k = 0; k < sizeof chunks / sizeof *chunks; k++)
			check_job(size, chunks[k]);
	return check_report("test_grad_ring");
}

#include "pcapio/hasher.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#define QUEUE_LEN 16

struct range {
	const uint8_t *p;
	size_t len;
};

struct ssmf_hasher {
	pthread_t thread;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t queued, done;
	struct range q[QUEUE_LEN];
	uint64_t issued; /* tickets handed out */
	uint64_t hashed; /* tickets finished */
	int quit;
	int file_fd; /* >= 0: hash this whole file instead of queued ranges */
	int file_done;
	uint64_t bytes;
	EVP_MD_CTX *sha;
	int final_done;
	uint8_t digest[32];
};

static void hash_file(struct ssmf_hasher *h)
{
	/* small enough to stay in L2: the kernel's copy into it and SHA-256's pass over it hit
	 * the cache (with 1 MiB, extract took 14 % more CPU, bench/README.md) */
	enum { CHUNK = 1 << 16 };
	uint8_t *buf = malloc(CHUNK);
	uint64_t off = 0;
	ssize_t n;
	while (buf && (n = pread(h->file_fd, buf, CHUNK, (off_t)off)) > 0) {
		EVP_DigestUpdate(h->sha, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	pthread_mutex_lock(&h->mu);
	h->bytes = off;
	h->file_done = 1;
	pthread_cond_broadcast(&h->done);
	pthread_mutex_unlock(&h->mu);
}

static void *hash_loop(void *arg)
{
	struct ssmf_hasher *h = arg;
	pthread_setname_np(pthread_self(), "ssmf-sha256");
	pthread_mutex_lock(&h->mu);
	while (h->file_fd < 0 && h->hashed == h->issued && !h->quit)
		pthread_cond_wait(&h->queued, &h->mu);
	if (h->file_fd >= 0) {
		pthread_mutex_unlock(&h->mu);
		hash_file(h);
		return NULL;
	}
	for (;;) {
		while (h->hashed == h->issued && !h->quit)
			pthread_cond_wait(&h->queued, &h->mu);
		if (h->hashed == h->issued)
			break;
		struct range r = h->q[h->hashed % QUEUE_LEN];
		pthread_mutex_unlock(&h->mu);
		EVP_DigestUpdate(h->sha, r.p, r.len);
		pthread_mutex_lock(&h->mu);
		h->bytes += r.len;
		h->hashed++;
		pthread_cond_broadcast(&h->done);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

struct ssmf_hasher *ssmf_hasher_new(void)
{
	struct ssmf_hasher *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->sha = EVP_MD_CTX_new();
	if (!h->sha || !EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(h->sha);
		free(h);
		return NULL;
	}
	h->file_fd = -1;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->queued, NULL);
	pthread_cond_init(&h->done, NULL);
	/* The thread takes no signals: SIGINT must reach the thread that polls for it. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->started = pthread_create(&h->thread, NULL, hash_loop, h) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return h;
}

uint64_t ssmf_hasher_update(struct ssmf_hasher *h, const void *p, size_t len)
{
	if (!h->started) { /* no thread could be made: hash here */
		EVP_DigestUpdate(h->sha, p, len);
		h->bytes += len;
		return ++h->issued, ++h->hashed;
	}
	pthread_mutex_lock(&h->mu);
	while (h->issued - h->hashed == QUEUE_LEN)
		pthread_cond_wait(&h->done, &h->mu);
	h->q[h->issued % QUEUE_LEN] = (struct range){p, len};
	uint64_t ticket = ++h->issued;
	pthread_cond_signal(&h->queued);
	pthread_mutex_unlock(&h->mu);
	return ticket;
}

void ssmf_hasher_wait(struct ssmf_hasher *h, uint64_t ticket)
{
	pthread_mutex_lock(&h->mu);
	while (h->hashed < ticket)
		pthread_cond_wait(&h->done, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

void ssmf_hasher_file(struct ssmf_hasher *h, int fd)
{
	if (!h->started) {
		h->file_fd = fd;
		hash_file(h);
		return;
	}
	pthread_mutex_lock(&h->mu);
	h->file_fd = fd;
	pthread_cond_signal(&h->queued);
	pthread_mutex_unlock(&h->mu);
}

uint64_t ssmf_hasher_bytes(struct ssmf_hasher *h)
{
	pthread_mutex_lock(&h->mu);
	uint64_t b = h->bytes;
	pthread_mutex_unlock(&h->mu);
	return b;
}

void ssmf_hasher_final(struct ssmf_hasher *h, uint8_t out[32])
{
	if (!h->final_done) {
		ssmf_hasher_wait(h, h->issued);
		pthread_mutex_lock(&h->mu);
		while (h->file_fd >= 0 && !h->file_done)
			pthread_cond_wait(&h->done, &h->mu);
		pthread_mutex_unlock(&h->mu);
		unsigned int n = 0;
		EVP_DigestFinal_ex(h->sha, h->digest, &n);
		h->final_done = 1;
	}
	for (int i = 0; i < 32; i++)
		out[i] = h->digest[i];
}

void ssmf_hasher_free(struct ssmf_hasher *h)
{
	if (!h)
		return;
	if (h->started) {
		pthread_mutex_lock(&h->mu);
		h->quit = 1;
		pthread_cond_signal(&h->queued);
		pthread_mutex_unlock(&h->mu);
		pthread_join(h->thread, NULL);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->queued);
	pthread_cond_destroy(&h->done);
	EVP_MD_CTX_free(h->sha);
	free(h);
}

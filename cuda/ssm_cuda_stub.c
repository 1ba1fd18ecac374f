/* ssm_cuda_stub.c - the CUDA API when ssmflow is built without nvcc: every call fails with
 * SSMF_CUDA_E_NOBUILD and says so, so train, score and selftest link unconditionally. */
#include <stdio.h>

#include "cuda/ssm_cuda.h"

#define NOBUILD                                                                                    \
	"this ssmflow was built without CUDA (no nvcc at configure time, or -DSSMF_CUDA=OFF)"

static int nobuild(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", NOBUILD);
	return SSMF_CUDA_E_NOBUILD;
}

int ssmf_cuda_available(char *err, size_t errlen)
{
	return nobuild(err, errlen);
}

int ssmf_cuda_device_name(int dev, char *buf, size_t len)
{
	(void)dev;
	return nobuild(buf, len);
}

int ssmf_cuda_new(struct ssmf_cuda **out, const struct ssmf_model *m,
                  const struct ssmf_cuda_opts *o, char *err, size_t errlen)
{
	(void)m;
	(void)o;
	*out = NULL;
	return nobuild(err, errlen);
}

void ssmf_cuda_free(struct ssmf_cuda *c)
{
	(void)c;
}

size_t ssmf_cuda_arena_bytes(const struct ssmf_cuda *c)
{
	(void)c;
	return 0;
}

int ssmf_cuda_upload_params(struct ssmf_cuda *c, const struct ssmf_model *m, char *err,
                            size_t errlen)
{
	(void)c;
	(void)m;
	return nobuild(err, errlen);
}

int ssmf_cuda_download_params(struct ssmf_cuda *c, struct ssmf_model *m, char *err, size_t errlen)
{
	(void)c;
	(void)m;
	return nobuild(err, errlen);
}

int ssmf_cuda_forward(struct ssmf_cuda *c, const struct ssmf_batch *batch, struct ssmf_outputs *out,
                      char *err, size_t errlen)
{
	(void)c;
	(void)batch;
	(void)out;
	return nobuild(err, errlen);
}

int ssmf_cuda_backward(struct ssmf_cuda *c, char *err, size_t errlen)
{
	(void)c;
	return nobuild(err, errlen);
}

int ssmf_cuda_zero_grad(struct ssmf_cuda *c, char *err, size_t errlen)
{
	(void)c;
	return nobuild(err, errlen);
}

int ssmf_cuda_download_grads(struct ssmf_cuda *c, ssmf_real *grads, char *err, size_t errlen)
{
	(void)c;
	(void)grads;
	return nobuild(err, errlen);
}

int ssmf_cuda_grad_norm(struct ssmf_cuda *c, double *norm, char *err, size_t errlen)
{
	(void)c;
	(void)norm;
	return nobuild(err, errlen);
}

int ssmf_cuda_adamw(struct ssmf_cuda *c, const struct ssmf_cuda_adamw_hp *hp, char *err,
                    size_t errlen)
{
	(void)c;
	(void)hp;
	return nobuild(err, errlen);
}

int ssmf_cuda_adamw_moments(struct ssmf_cuda *c, ssmf_real *m, ssmf_real *v, int to_device,
                            char *err, size_t errlen)
{
	(void)c;
	(void)m;
	(void)v;
	(void)to_device;
	return nobuild(err, errlen);
}

int ssmf_cuda_step(struct ssmf_cuda *c, const struct ssmf_record *rec, const int32_t *slot, int n,
                   ssmf_real *nll, ssmf_real *logits, char *err, size_t errlen)
{
	(void)c;
	(void)rec;
	(void)slot;
	(void)n;
	(void)nll;
	(void)logits;
	return nobuild(err, errlen);
}

int ssmf_cuda_step_reset(struct ssmf_cuda *c, const int32_t *slots, int n, char *err, size_t errlen)
{
	(void)c;
	(void)slots;
	(void)n;
	return nobuild(err, errlen);
}

int ssmf_cuda_step_state(struct ssmf_cuda *c, int slot, ssmf_real *state, int to_device, char *err,
                         size_t errlen)
{
	(void)c;
	(void)slot;
	(void)state;
	(void)to_device;
	return nobuild(err, errlen);
}

int ssmf_cuda_poison(struct ssmf_cuda *c, char *err, size_t errlen)
{
	(void)c;
	return nobuild(err, errlen);
}

long ssmf_cuda_fetch(struct ssmf_cuda *c, const char *name, int layer, float *dst, size_t cap,
                     char *err, size_t errlen)
{
	(void)c;
	(void)name;
	(void)layer;
	(void)dst;
	(void)cap;
	return nobuild(err, errlen);
}

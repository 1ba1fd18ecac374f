/* ssm_cuda_loader.c - the CUDA API in the ssmflow binary: every call goes to the CUDA module
 * (libssmflow-cuda.so: the kernels and cuBLAS), loaded with dlopen on first use.
 *
 * Linking cuBLAS into ssmflow itself made every command, `extract` included, map several
 * hundred MB of libraries at start (0.16 s and 230 MB RSS for --version); now only a GPU
 * run pays for them. Without the module (built without nvcc, or not installed) every call
 * fails with SSMF_CUDA_E_NOBUILD and says why, so train, score and selftest link as is. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda/grad_ring.h" /* ssmf_cuda_module_symbol */
#include "cuda/ssm_cuda.h"

#define MODULE_NAME "libssmflow-cuda.so"

struct cuda_api {
	__typeof__(ssmf_cuda_available) *available;
	__typeof__(ssmf_cuda_device_name) *device_name;
	__typeof__(ssmf_cuda_new) *new_;
	__typeof__(ssmf_cuda_free) *free_;
	__typeof__(ssmf_cuda_arena_bytes) *arena_bytes;
	__typeof__(ssmf_cuda_upload_params) *upload_params;
	__typeof__(ssmf_cuda_download_params) *download_params;
	__typeof__(ssmf_cuda_forward) *forward;
	__typeof__(ssmf_cuda_backward) *backward;
	__typeof__(ssmf_cuda_zero_grad) *zero_grad;
	__typeof__(ssmf_cuda_download_grads) *download_grads;
	__typeof__(ssmf_cuda_upload_grads) *upload_grads;
	__typeof__(ssmf_cuda_loss_norm) *loss_norm;
	__typeof__(ssmf_cuda_grad_norm) *grad_norm;
	__typeof__(ssmf_cuda_adamw) *adamw;
	__typeof__(ssmf_cuda_adamw_moments) *adamw_moments;
	__typeof__(ssmf_cuda_step) *step;
	__typeof__(ssmf_cuda_step_reset) *step_reset;
	__typeof__(ssmf_cuda_step_state) *step_state;
	__typeof__(ssmf_cuda_poison) *poison;
	__typeof__(ssmf_cuda_fetch) *fetch;
};

/* The one piece of process state: the module, loaded once (the CLI is single-threaded
 * where it calls this). */
static struct {
	int tried;
	int ok;
	void *handle;
	struct cuda_api api;
	char why[512];
} module;

#ifdef SSMF_CUDA_MODULE
static void *open_module(void)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	const char *env = getenv("SSMF_CUDA_MODULE");
	if (env && *env)
		return dlopen(env, RTLD_NOW | RTLD_LOCAL);
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return NULL;
	self[n] = 0;
	const char *dir = dirname(self);
	static const char *const places[] = {"%s/" MODULE_NAME, "%s/../lib/ssmflow/" MODULE_NAME,
	                                     "%s/../../" MODULE_NAME};
	for (size_t i = 0; i < sizeof places / sizeof *places; i++) {
		snprintf(path, sizeof path, places[i], dir);
		if (access(path, R_OK) == 0)
			return dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	return NULL;
}
#endif

static const struct cuda_api *api(void)
{
	if (module.tried)
		return module.ok ? &module.api : NULL;
	module.tried = 1;
#ifndef SSMF_CUDA_MODULE
	snprintf(module.why, sizeof module.why,
	         "this ssmflow was built without CUDA (no nvcc at configure time, or "
	         "-DSSMF_CUDA=OFF)");
	return NULL;
#else
	void *h = open_module();
	if (!h) {
		const char *e = dlerror();
		snprintf(
		    module.why, sizeof module.why,
		    "this ssmflow was built with CUDA, but its module %s could not be loaded "
		    "(next to the binary or in ../lib/ssmflow; SSMF_CUDA_MODULE names another)%s%s",
		    MODULE_NAME, e ? ": " : "", e ? e : "");
		return NULL;
	}
	struct cuda_api *a = &module.api;
	void **slot[] = {
	    (void **)&a->available,       (void **)&a->device_name,    (void **)&a->new_,
	    (void **)&a->free_,           (void **)&a->arena_bytes,    (void **)&a->upload_params,
	    (void **)&a->download_params, (void **)&a->forward,        (void **)&a->backward,
	    (void **)&a->zero_grad,       (void **)&a->download_grads, (void **)&a->upload_grads,
	    (void **)&a->loss_norm,       (void **)&a->grad_norm,      (void **)&a->adamw,
	    (void **)&a->adamw_moments,   (void **)&a->step,           (void **)&a->step_reset,
	    (void **)&a->step_state,      (void **)&a->poison,         (void **)&a->fetch};
	static const char *const names[] = {"ssmf_cuda_available",
	                                    "ssmf_cuda_device_name",
	                                    "ssmf_cuda_new",
	                                    "ssmf_cuda_free",
	                                    "ssmf_cuda_arena_bytes",
	                                    "ssmf_cuda_upload_params",
	                                    "ssmf_cuda_download_params",
	                                    "ssmf_cuda_forward",
	                                    "ssmf_cuda_backward",
	                                    "ssmf_cuda_zero_grad",
	                                    "ssmf_cuda_download_grads",
	                                    "ssmf_cuda_upload_grads",
	                                    "ssmf_cuda_loss_norm",
	                                    "ssmf_cuda_grad_norm",
	                                    "ssmf_cuda_adamw",
	                                    "ssmf_cuda_adamw_moments",
	                                    "ssmf_cuda_step",
	                                    "ssmf_cuda_step_reset",
	                                    "ssmf_cuda_step_state",
	                                    "ssmf_cuda_poison",
	                                    "ssmf_cuda_fetch"};
	_Static_assert(sizeof slot / sizeof *slot == sizeof names / sizeof *names, "one per name");
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		*slot[i] = dlsym(h, names[i]);
		if (!*slot[i]) {
			snprintf(module.why, sizeof module.why, "the CUDA module lacks %s",
			         names[i]);
			dlclose(h);
			return NULL;
		}
	}
	module.ok = 1;
	module.handle = h;
	return a;
#endif
}

void *ssmf_cuda_module_symbol(const char *name)
{
	return api() ? dlsym(module.handle, name) : NULL;
}

static int unavailable(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", module.why);
	return SSMF_CUDA_E_NOBUILD;
}

#define CALL(fn, err, errlen, ...)                                                                 \
	do {                                                                                       \
		const struct cuda_api *a_ = api();                                                 \
		return a_ ? a_->fn(__VA_ARGS__) : unavailable(err, errlen);                        \
	} while (0)

int ssmf_cuda_available(char *err, size_t errlen)
{
	CALL(available, err, errlen, err, errlen);
}

int ssmf_cuda_device_name(int dev, char *buf, size_t len)
{
	CALL(device_name, buf, len, dev, buf, len);
}

int ssmf_cuda_new(struct ssmf_cuda **out, const struct ssmf_model *m,
                  const struct ssmf_cuda_opts *o, char *err, size_t errlen)
{
	*out = NULL;
	CALL(new_, err, errlen, out, m, o, err, errlen);
}

void ssmf_cuda_free(struct ssmf_cuda *c)
{
	if (c && api())
		api()->free_(c);
}

size_t ssmf_cuda_arena_bytes(const struct ssmf_cuda *c)
{
	return c && api() ? api()->arena_bytes(c) : 0;
}

int ssmf_cuda_upload_params(struct ssmf_cuda *c, const struct ssmf_model *m, char *err,
                            size_t errlen)
{
	CALL(upload_params, err, errlen, c, m, err, errlen);
}

int ssmf_cuda_download_params(struct ssmf_cuda *c, struct ssmf_model *m, char *err, size_t errlen)
{
	CALL(download_params, err, errlen, c, m, err, errlen);
}

int ssmf_cuda_forward(struct ssmf_cuda *c, const struct ssmf_batch *batch, struct ssmf_outputs *out,
                      char *err, size_t errlen)
{
	CALL(forward, err, errlen, c, batch, out, err, errlen);
}

int ssmf_cuda_backward(struct ssmf_cuda *c, char *err, size_t errlen)
{
	CALL(backward, err, errlen, c, err, errlen);
}

int ssmf_cuda_zero_grad(struct ssmf_cuda *c, char *err, size_t errlen)
{
	CALL(zero_grad, err, errlen, c, err, errlen);
}

int ssmf_cuda_download_grads(struct ssmf_cuda *c, ssmf_real *grads, char *err, size_t errlen)
{
	CALL(download_grads, err, errlen, c, grads, err, errlen);
}

int ssmf_cuda_upload_grads(struct ssmf_cuda *c, const ssmf_real *grads, char *err, size_t errlen)
{
	CALL(upload_grads, err, errlen, c, grads, err, errlen);
}

int ssmf_cuda_loss_norm(struct ssmf_cuda *c, long n_pred, long n_lab, char *err, size_t errlen)
{
	CALL(loss_norm, err, errlen, c, n_pred, n_lab, err, errlen);
}

int ssmf_cuda_grad_norm(struct ssmf_cuda *c, double *norm, char *err, size_t errlen)
{
	CALL(grad_norm, err, errlen, c, norm, err, errlen);
}

int ssmf_cuda_adamw(struct ssmf_cuda *c, const struct ssmf_cuda_adamw_hp *hp, char *err,
                    size_t errlen)
{
	CALL(adamw, err, errlen, c, hp, err, errlen);
}

int ssmf_cuda_adamw_moments(struct ssmf_cuda *c, ssmf_real *m, ssmf_real *v, int to_device,
                            char *err, size_t errlen)
{
	CALL(adamw_moments, err, errlen, c, m, v, to_device, err, errlen);
}

int ssmf_cuda_step(struct ssmf_cuda *c, const struct ssmf_record *rec, const int32_t *slot, int n,
                   ssmf_real *nll, ssmf_real *logits, char *err, size_t errlen)
{
	CALL(step, err, errlen, c, rec, slot, n, nll, logits, err, errlen);
}

int ssmf_cuda_step_reset(struct ssmf_cuda *c, const int32_t *slots, int n, char *err, size_t errlen)
{
	CALL(step_reset, err, errlen, c, slots, n, err, errlen);
}

int ssmf_cuda_step_state(struct ssmf_cuda *c, int slot, ssmf_real *state, int to_device, char *err,
                         size_t errlen)
{
	CALL(step_state, err, errlen, c, slot, state, to_device, err, errlen);
}

int ssmf_cuda_poison(struct ssmf_cuda *c, char *err, size_t errlen)
{
	CALL(poison, err, errlen, c, err, errlen);
}

long ssmf_cuda_fetch(struct ssmf_cuda *c, const char *name, int layer, float *dst, size_t cap,
                     char *err, size_t errlen)
{
	const struct cuda_api *a = api();
	return a ? a->fetch(c, name, layer, dst, cap, err, errlen) : unavailable(err, errlen);
}

/* cx.h - inside the CUDA port: the host emulation of the kernels and the comparison with the
 * CPU reference used by tests/cuda, `ssmflow selftest` and bench/gpu. Plain C. */
#ifndef SSMF_CUDA_CX_H
#define SSMF_CUDA_CX_H

#include <stddef.h>
#include <stdint.h>

#include "cuda/ssm_cuda.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The host emulation: driver.inc with every grid run as a loop on the CPU (host_emu.cpp).
 * Same API as ssmf_cuda_* (ssm_cuda.h), context struct ssmf_cxh. */
struct ssmf_cxh;
int ssmf_cxh_new(struct ssmf_cxh **out, const struct ssmf_model *m, const struct ssmf_cuda_opts *o,
                 char *err, size_t errlen);
void ssmf_cxh_free(struct ssmf_cxh *c);
size_t ssmf_cxh_arena_bytes(const struct ssmf_cxh *c);
int ssmf_cxh_upload_params(struct ssmf_cxh *c, const struct ssmf_model *m, char *err,
                           size_t errlen);
int ssmf_cxh_download_params(struct ssmf_cxh *c, struct ssmf_model *m, char *err, size_t errlen);
int ssmf_cxh_forward(struct ssmf_cxh *c, const struct ssmf_batch *batch, struct ssmf_outputs *out,
                     char *err, size_t errlen);
int ssmf_cxh_backward(struct ssmf_cxh *c, char *err, size_t errlen);
int ssmf_cxh_zero_grad(struct ssmf_cxh *c, char *err, size_t errlen);
int ssmf_cxh_download_grads(struct ssmf_cxh *c, ssmf_real *grads, char *err, size_t errlen);
int ssmf_cxh_upload_grads(struct ssmf_cxh *c, const ssmf_real *grads, char *err, size_t errlen);
int ssmf_cxh_loss_norm(struct ssmf_cxh *c, long n_pred, long n_lab, char *err, size_t errlen);
int ssmf_cxh_grad_norm(struct ssmf_cxh *c, double *norm, char *err, size_t errlen);
int ssmf_cxh_adamw(struct ssmf_cxh *c, const struct ssmf_cuda_adamw_hp *hp, char *err,
                   size_t errlen);
int ssmf_cxh_adamw_moments(struct ssmf_cxh *c, ssmf_real *m, ssmf_real *v, int to_device, char *err,
                           size_t errlen);
int ssmf_cxh_step(struct ssmf_cxh *c, const struct ssmf_record *rec, const int32_t *slot, int n,
                  ssmf_real *nll, ssmf_real *logits, char *err, size_t errlen);
int ssmf_cxh_step_reset(struct ssmf_cxh *c, const int32_t *slots, int n, char *err, size_t errlen);
int ssmf_cxh_step_state(struct ssmf_cxh *c, int slot, ssmf_real *state, int to_device, char *err,
                        size_t errlen);
int ssmf_cxh_poison(struct ssmf_cxh *c, char *err, size_t errlen);
long ssmf_cxh_fetch(struct ssmf_cxh *c, const char *name, int layer, float *dst, size_t cap,
                    char *err, size_t errlen);

/* The context's gradient buffer on its device (n floats), for the chain of grad_ring.h;
 * the GPU's also gives its stream (a cudaStream_t) and device index. */
float *ssmf_cxh_grads(struct ssmf_cxh *c, size_t *n);
float *ssmf_cuda_grads_on_device(struct ssmf_cuda *c, size_t *n, void **stream, int *device);

/* ---- comparison with the CPU reference (check.c) ---- */

enum ssmf_cx_backend {
	SSMF_CX_HOST = 0,   /* host emulation of the kernels */
	SSMF_CX_DEVICE = 1, /* the GPU */
};

struct ssmf_cx_result {
	char name[64];
	double max_abs; /* largest |ours - reference| */
	double ref_max; /* largest |reference| */
	double rel;     /* max_abs / max(ref_max, 1e-30): the number judged */
	double tol;
	long count; /* elements compared */
	int pass;   /* rel <= tol and nothing NaN */
};

/* The results of one or more checks: start from {0}, release with ssmf_cx_report_free. The
 * list grows with the model (one result per tensor, per layer); a comparison whose result
 * cannot be stored (out of memory) is counted in n_lost and as a failure, never dropped. */
struct ssmf_cx_report {
	int n, n_fail;
	int n_lost; /* comparisons made but not stored; each is also in n_fail */
	/* Test hook: 1 + the index of a result to judge as if one element were off by the
	 * reference's largest magnitude (it must fail); 0: none. */
	int perturb_at;
	int cap;
	struct ssmf_cx_result *r;
};

void ssmf_cx_report_free(struct ssmf_cx_report *rep);

/* Random model (cfg, perturbed parameters), random flows (B x T, lengths incl. 0 and 1,
 * labels), fresh for each seed. Runs the CPU reference and the backend (outputs poisoned with
 * NaN first) in sequence mode forward + backward, AdamW, and step mode over interleaved flows
 * with a reset; appends one result per tensor to rep. Returns 0 when the comparison ran (see
 * rep->n_fail), or a negative code (backend unavailable, ...) with a message. tf32: device
 * only, judged with the TF32 tolerances. */
int ssmf_cx_check(int backend, const struct ssmf_config *cfg, int B, int T, uint64_t seed, int tf32,
                  struct ssmf_cx_report *rep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif

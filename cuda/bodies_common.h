/* bodies_common.h - what every kernel body shares: the __host__ __device__ marker, the
 * kernels' limits, the normalisation table and layer-pointer structs, the activations. */
#ifndef SSMF_CUDA_BODIES_COMMON_H
#define SSMF_CUDA_BODIES_COMMON_H

#ifdef __cplusplus
#ifndef _Static_assert
#define _Static_assert static_assert
#endif
extern "C" {
#endif
#include "ssm/ssm.h"
#ifdef __cplusplus
}
#endif
#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define SSMF_HD __host__ __device__
#else
#define SSMF_HD
#endif
#define SSMF_BODY static inline SSMF_HD

/* Largest d_state the register-resident scan supports. */
#define SSMF_CX_MAX_N 64
/* = SSMF_MAX_LAYERS of ssm/internal.h (checked in check.c) */
#define SSMF_CX_MAX_LAYERS 64
#define SSMF_CX_A_MIN      1e-4f
#define SSMF_CX_EPS        1e-5f
#define SSMF_CX_NL         SSMF_N_LOGITS
#define SSMF_CX_NC         SSMF_N_COMP

/* ssmf_norm_table() and ssmf_norm_consts() translated to a flat struct the device can read
 * (built once from the CPU tables by ssmf_cx_norm_build, so there is one source of truth). */
struct ssmf_cx_norm {
	uint32_t field_offset[SSMF_N_FEATURES]; /* the record field each feature reads, */
	uint32_t field_size[SSMF_N_FEATURES];   /* looked up by name (ssmf_record_field_u32) */
	int32_t kind[SSMF_N_FEATURES];
	uint32_t arg[SSMF_N_FEATURES];
	double scale[SSMF_N_FEATURES];
	double gap_dt_scale;
	uint32_t size_edges[SSMF_N_SIZE_BUCKETS - 1];
	uint32_t gap_edges[SSMF_N_GAP_BUCKETS - 1];
};

/* Pointers to one layer's parameters (or gradients) inside a flat buffer. */
struct ssmf_cx_layer {
	float *norm_w, *in_proj, *dt_bias, *a_bias, *gap_w, *bnorm_w, *bnorm_b, *cnorm_w, *cnorm_b,
	    *Dskip, *out_proj;
};

SSMF_BODY float cx_softplus(float x)
{
	return x > 20.0f ? x : log1pf(expf(x));
}

SSMF_BODY float cx_sigmoid(float x)
{
	if (x >= 0)
		return 1.0f / (1.0f + expf(-x));
	float e = expf(x);
	return e / (1.0f + e);
}

#endif

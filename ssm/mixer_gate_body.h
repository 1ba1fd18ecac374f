/* mixer_gate_body.h - the gate's rows, yg = y * silu(z), as one body for mixer_gate.c (the
 * SSMF_HOT clones) and kernels_notrap.c (the AVX2 copy built where it vectorises). */
#ifndef SSMF_MIXER_GATE_BODY_H
#define SSMF_MIXER_GATE_BODY_H

#include "ssm/internal.h"
#include "ssm/mathfn.h"

static inline __attribute__((always_inline)) void gate_rows_body(ssmf_real *restrict yg,
                                                                 const ssmf_real *restrict y,
                                                                 const ssmf_real *restrict proj,
                                                                 const struct ssmf_dims *d, int R)
{
	int DI = d->DI, DP = d->DP, OZ = d->O_Z;
	for (int r = 0; r < R; r++) {
		const ssmf_real *z = proj + (size_t)r * DP + OZ;
		const ssmf_real *yr = y + (size_t)r * DI;
		ssmf_real *o = yg + (size_t)r * DI;
		for (int c = 0; c < DI; c++)
			o[c] = yr[c] * z[c] * ssmf_sigmoid(z[c]);
	}
}

/* dy = dyg * silu(z); dz = dyg * y * silu'(z) */
static inline __attribute__((always_inline)) void
gate_backward_rows_body(ssmf_real *restrict dy, ssmf_real *restrict dproj,
                        const ssmf_real *restrict dyg, const ssmf_real *restrict y,
                        const ssmf_real *restrict proj, const struct ssmf_dims *d, int R)
{
	int DI = d->DI, DP = d->DP, OZ = d->O_Z;
	for (int r = 0; r < R; r++) {
		const ssmf_real *z = proj + (size_t)r * DP + OZ;
		ssmf_real *dz = dproj + (size_t)r * DP + OZ;
		const ssmf_real *yr = y + (size_t)r * DI;
		const ssmf_real *g = dyg + (size_t)r * DI;
		ssmf_real *dyr = dy + (size_t)r * DI;
		for (int c = 0; c < DI; c++) {
			ssmf_real s = ssmf_sigmoid(z[c]);
			dyr[c] = g[c] * z[c] * s;
			dz[c] = g[c] * yr[c] * s * (R(1) + z[c] * (R(1) - s));
		}
	}
}

#endif

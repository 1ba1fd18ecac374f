/* mixer_gate.c - yg = y * silu(z). */
#include "ssm/internal.h"
#include "ssm/mathfn.h"

void gate_forward(ssmf_real *yg, const ssmf_real *y, const ssmf_real *proj,
                  const struct ssmf_dims *d, int BT)
{
#pragma omp parallel for schedule(static) num_threads(ssmf_threads()) if (BT > 64)
	for (int r = 0; r < BT; r++) {
		const ssmf_real *z = proj + (size_t)r * d->DP + d->O_Z;
		const ssmf_real *yr = y + (size_t)r * d->DI;
		ssmf_real *o = yg + (size_t)r * d->DI;
		for (int c = 0; c < d->DI; c++)
			o[c] = yr[c] * z[c] * ssmf_sigmoid(z[c]);
	}
}

void gate_backward(ssmf_real *dy, ssmf_real *dproj, const ssmf_real *dyg, const ssmf_real *y,
                   const ssmf_real *proj, const struct ssmf_dims *d, int BT)
{
#pragma omp parallel for schedule(static) num_threads(ssmf_threads())
	for (int r = 0; r < BT; r++) {
		const ssmf_real *z = proj + (size_t)r * d->DP + d->O_Z;
		ssmf_real *dz = dproj + (size_t)r * d->DP + d->O_Z;
		const ssmf_real *yr = y + (size_t)r * d->DI;
		const ssmf_real *g = dyg + (size_t)r * d->DI;
		ssmf_real *dyr = dy + (size_t)r * d->DI;
		for (int c = 0; c < d->DI; c++) {
			ssmf_real s = ssmf_sigmoid(z[c]);
			dyr[c] = g[c] * z[c] * s;
			dz[c] += g[c] * yr[c] * s * (R(1) + z[c] * (R(1) - s));
		}
	}
}

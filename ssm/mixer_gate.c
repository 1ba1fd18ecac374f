/* mixer_gate.c - yg = y * silu(z). */
#include "ssm/internal.h"
#include "ssm/mathfn.h"
#include "ssm/mixer_gate_body.h"

SSMF_HOT
void gate_rows(ssmf_real *restrict yg, const ssmf_real *restrict y, const ssmf_real *restrict proj,
               const struct ssmf_dims *d, int R)
{
#if defined(SSMF_CLONES) && !defined(SSMF_REAL_DOUBLE)
	if (ssmf_cpu_level() == 3) { /* vectorised there only without trapping math */
		gate_rows_v3(yg, y, proj, d, R);
		return;
	}
#endif
	gate_rows_body(yg, y, proj, d, R);
}

void gate_forward(ssmf_real *yg, const ssmf_real *y, const ssmf_real *proj,
                  const struct ssmf_dims *d, int BT)
{
#pragma omp parallel for schedule(static) num_threads(ssmf_threads()) if (BT > 64)
	for (int r = 0; r < BT; r++)
		gate_rows(yg + (size_t)r * d->DI, y + (size_t)r * d->DI, proj + (size_t)r * d->DP,
		          d, 1);
}

SSMF_HOT
void gate_backward_rows(ssmf_real *restrict dy, ssmf_real *restrict dproj,
                        const ssmf_real *restrict dyg, const ssmf_real *restrict y,
                        const ssmf_real *restrict proj, const struct ssmf_dims *d, int R)
{
#if defined(SSMF_CLONES) && !defined(SSMF_REAL_DOUBLE)
	if (ssmf_cpu_level() == 3) {
		gate_backward_rows_v3(dy, dproj, dyg, y, proj, d, R);
		return;
	}
#endif
	gate_backward_rows_body(dy, dproj, dyg, y, proj, d, R);
}

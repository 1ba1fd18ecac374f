/* kernels_notrap.c - AVX2 copies of loops that GCC vectorises only without trapping math.
 *
 * The branch-free exp, sigmoid and softplus (mathfn.h) end in range selects. With
 * -ftrapping-math (GCC's default) the x86-64-v3 clones keep those loops scalar, with
 * branches, since AVX2 has no masked compare; the v4 clones vectorise them with AVX-512
 * masks. This file is built with -fno-trapping-math (ssm/CMakeLists.txt) and holds the v3
 * copies, which the SSMF_HOT functions call on a v3 CPU (ssmf_cpu_level); the v4 and
 * baseline clones are built as before. The gate's copies give the scalar loops' numbers bit
 * for bit. The prep's round differently from its scalar loop where a select feeds an add
 * (softplus: one FMA more, 1 ulp), so the v3 level's results moved when they came (the
 * golden outputs keep a level's own hashes); step mode (prep_row) and sequence mode
 * (prep_rows) both take the copy, so they still agree exactly.
 */
#include "ssm/internal.h"

#if defined(SSMF_CLONES) && !defined(SSMF_REAL_DOUBLE)
#include "ssm/mixer_gate_body.h"
#include "ssm/mixer_prep_body.h"

__attribute__((target("arch=x86-64-v3"))) void gate_rows_v3(ssmf_real *restrict yg,
                                                            const ssmf_real *restrict y,
                                                            const ssmf_real *restrict proj,
                                                            const struct ssmf_dims *d, int R)
{
	gate_rows_body(yg, y, proj, d, R);
}

__attribute__((target("arch=x86-64-v3"))) void
gate_backward_rows_v3(ssmf_real *restrict dy, ssmf_real *restrict dproj,
                      const ssmf_real *restrict dyg, const ssmf_real *restrict y,
                      const ssmf_real *restrict proj, const struct ssmf_dims *d, int R)
{
	gate_backward_rows_body(dy, dproj, dyg, y, proj, d, R);
}
__attribute__((target("arch=x86-64-v3"))) void
prep_row_v3(ssmf_real *restrict DT, ssmf_real *restrict A, ssmf_real *restrict alpha,
            ssmf_real *restrict lam, ssmf_real *bn, ssmf_real *cn, ssmf_real *rstd_b,
            ssmf_real *rstd_c, const ssmf_real *restrict proj, ssmf_real gdt,
            const struct ssmf_layer_params *p, const struct ssmf_dims *d)
{
	prep_row_body(DT, A, alpha, lam, bn, cn, rstd_b, rstd_c, proj, gdt, p, d);
}

__attribute__((target("arch=x86-64-v3"))) void
prep_rows_v3(struct ssmf_layer_acts *la, const ssmf_real *gdt, const struct ssmf_layer_params *p,
             const struct ssmf_dims *d, size_t r0, int R)
{
	prep_rows_body(la, gdt, p, d, r0, R);
}
#endif

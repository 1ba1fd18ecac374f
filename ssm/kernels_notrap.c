/* kernels_notrap.c - AVX2 copies of loops that GCC vectorises only without trapping math.
 *
 * The branch-free exp and sigmoid (mathfn.h) end in range selects. With -ftrapping-math
 * (GCC's default) the x86-64-v3 clones keep those loops scalar, with branches, since AVX2
 * has no masked compare; the v4 clones vectorise them with AVX-512 masks. This file is
 * built with -fno-trapping-math (ssm/CMakeLists.txt) and holds the v3 copies, which the
 * SSMF_HOT functions call on a v3 CPU (ssmf_cpu_level). A copy goes here only when it gives
 * the scalar loop's numbers bit for bit (the gate: the same operations per element, selects
 * instead of branches), so no level's results move; the golden outputs and
 * ssm.kernel_widths check it. The v4 and baseline clones are built as before.
 */
#include "ssm/internal.h"

#if defined(SSMF_CLONES) && !defined(SSMF_REAL_DOUBLE)
#include "ssm/mixer_gate_body.h"

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
#endif

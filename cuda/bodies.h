/* bodies.h - the per-thread bodies of every CUDA kernel, as functions of explicit indices.
 *
 * Each body is what one GPU thread does: scan_fwd_body(b, h, p, ...) is thread (b, h, p) of
 * the forward scan. The kernels in ssm_cuda.cu only map a thread id to these indices; the host
 * tests (tests/cuda) and `ssmflow selftest` run the very same bodies over the whole grid on the
 * CPU and compare with the reference in ssm/. Plain C99/C++ on the host, CUDA under nvcc.
 *
 * Arithmetic follows ssm/ op by op, in float (the GPU path has no double build): the same
 * formulas in the same order, except where a sum over p (channels) or over rows becomes a
 * per-thread partial followed by an ordered reduction (deterministic, but associated
 * differently from the CPU loop; docs/cuda.md states the tolerances).
 *
 * Layouts are the CPU's: per-token tensors are (B,T,...) with bt = b*T + t; proj is (B,T,DP)
 * with the column offsets of struct ssmf_dims.
 *
 * The bodies are grouped by the op they compute, forward and backward together, like ssm/:
 *   bodies_common.h  SSMF_HD, the limits, the normalisation table, activations
 *   bodies_dense.h   input stage, RMSNorm, column sums, bias fill (ssm/input.c, rmsnorm.c)
 *   bodies_mixer.h   discretisation, B/C norms, rotary, gate (ssm/mixer_prep.c, _rotary, _gate)
 *   bodies_scan.h    the scan and the reductions of its shares (ssm/mixer_scan.c)
 *   bodies_heads.h   next-packet losses and scores, the flow head (ssm/heads.c)
 *   bodies_adamw.h   gradient norm, AdamW (ssm/adamw.c)
 *   bodies_step.h    step mode against the per-flow state (ssm/step.c)
 * This header includes them all; a file that needs only some may include those.
 */
#ifndef SSMF_CUDA_BODIES_H
#define SSMF_CUDA_BODIES_H

#include "cuda/bodies_common.h"
#include "cuda/bodies_dense.h"
#include "cuda/bodies_mixer.h"
#include "cuda/bodies_scan.h"
#include "cuda/bodies_heads.h"
#include "cuda/bodies_adamw.h"
#include "cuda/bodies_step.h"

#endif

/* halfconv.h - float32 to bfloat16 / IEEE half, round to nearest even. */
#ifndef SSMF_EXPORT_HALFCONV_H
#define SSMF_EXPORT_HALFCONV_H

#include <stdint.h>

/* NaN stays NaN (quiet); values beyond the range round to +-inf, as a cast does. */
uint16_t ssmf_f32_to_bf16(float f);
uint16_t ssmf_f32_to_f16(float f);
float ssmf_bf16_to_f32(uint16_t h);
float ssmf_f16_to_f32(uint16_t h);

#endif

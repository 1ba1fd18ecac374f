#ifndef SSMF_PEAK_FLOPS_H
#define SSMF_PEAK_FLOPS_H
/* fp32 FLOP/s of one core at its widest FMA; *isa names the instruction set used. */
double peak_flops_per_core(const char **isa);
#endif

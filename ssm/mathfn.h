/* mathfn.h - scalar activation functions shared by the ops (ssmf_real). */
#ifndef SSMF_MATHFN_H
#define SSMF_MATHFN_H

#include "ssm/internal.h"

static inline ssmf_real ssmf_softplus(ssmf_real x)
{
	return x > R(20) ? x : log1p(exp(x));
}

static inline ssmf_real ssmf_sigmoid(ssmf_real x)
{
	if (x >= 0)
		return R(1) / (R(1) + exp(-x));
	ssmf_real e = exp(x);
	return e / (R(1) + e);
}

#endif

/* test_mathfn.c - the float activation functions of ssm/mathfn.h against libm in double.
 *
 * Sweeps each function densely over the ranges the model feeds it, plus the special
 * values (0, infinities, NaN, the overflow and underflow edges), and checks the largest
 * error against the bound the header documents. */
#include <math.h>
#include <stdio.h>

#include "ssm/mathfn.h"

static int failures;

static void check(const char *name, double worst, double bound, double at)
{
	printf("%-10s worst error %.3g (bound %.3g) at x = %.9g\n", name, worst, bound, at);
	if (!(worst <= bound)) {
		printf("FAIL: %s\n", name);
		failures++;
	}
}

/* relative error, with an absolute floor for results near zero */
static double rel(double got, double want, double floor)
{
	double d = fabs(got - want), m = fabs(want);
	return d / (m > floor ? m : floor);
}

static void sweep_exp(void)
{
	double worst = 0, at = 0;
	for (double x = -86.5; x <= 88.7; x += 1.1e-3) {
		float xf = (float)x;
		double e = rel(ssmf_expf(xf), exp((double)xf), 0);
		if (e > worst)
			worst = e, at = xf;
	}
	check("exp", worst, 3e-7, at);
}

static void sweep_softplus_sigmoid(void)
{
	double ws = 0, as = 0, wg = 0, ag = 0;
	for (double x = -60; x <= 60; x += 2.1e-4) {
		float xf = (float)x;
		double sp = xf > 30 ? xf : log1p(exp((double)xf));
		double e = rel(ssmf_softplus(xf), sp, 1e-30);
		if (e > ws)
			ws = e, as = xf;
		double sg = 1.0 / (1.0 + exp(-(double)xf));
		e = rel(ssmf_sigmoid(xf), sg, 1e-30);
		if (e > wg)
			wg = e, ag = xf;
	}
	check("softplus", ws, 4e-7, as);
	check("sigmoid", wg, 4e-7, ag);
}

static void sweep_sincos(void)
{
	double worst = 0, at = 0;
	for (double x = -65536; x <= 65536; x += 1.7e-2) {
		float xf = (float)x, s, c;
		ssmf_sincos(xf, &s, &c);
		double e = fmax(fabs(s - sin((double)xf)), fabs(c - cos((double)xf)));
		if (e > worst)
			worst = e, at = xf;
	}
	check("sincos", worst, 2e-7, at);
}

static void specials(void)
{
	float s, c;
	int ok = ssmf_expf(0) == 1 && ssmf_expf(-INFINITY) == 0 &&
	         ssmf_expf(INFINITY) == INFINITY && isnan(ssmf_expf(NAN)) && ssmf_expf(-100) == 0 &&
	         ssmf_expf(100) == INFINITY && isfinite(ssmf_expf(88.7f)) &&
	         ssmf_softplus(INFINITY) == INFINITY && ssmf_softplus(-INFINITY) == 0 &&
	         isnan(ssmf_softplus(NAN)) && ssmf_sigmoid(INFINITY) == 1 &&
	         ssmf_sigmoid(-INFINITY) == 0 && isnan(ssmf_sigmoid(NAN)) &&
	         ssmf_sigmoid(0) == 0.5f;
	ssmf_sincos(0, &s, &c);
	ok = ok && s == 0 && c == 1;
	ssmf_sincos(NAN, &s, &c);
	ok = ok && isnan(s) && isnan(c);
	printf("special values: %s\n", ok ? "ok" : "FAIL");
	failures += !ok;
}

int main(void)
{
	sweep_exp();
	sweep_softplus_sigmoid();
	sweep_sincos();
	specials();
	return failures != 0;
}

/* host_profile.c - the host level's activity profile (host_profile.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features/host_profile.h"

const char *const ssmf_profile_names[SSMF_PROFILE_N] = {"rate", "repeats", "new_peers", "returns"};
const double ssmf_profile_weights[SSMF_PROFILE_N] = {1.0, 1.0, 1.0, 0.2};

void ssmf_profile_values(const struct ssmf_host_event *e, double x[SSMF_PROFILE_N])
{
	const uint16_t c[SSMF_PROFILE_N] = {e->rate_events, e->rate_service, e->rate_new_peers,
	                                    e->rate_returns};
	for (int k = 0; k < SSMF_PROFILE_N; k++)
		x[k] = log1p((double)c[k] / SSMF_RATE_ONE);
}

void ssmf_profile_fit_add(struct ssmf_profile_fit *f, const struct ssmf_host_event *e)
{
	double x[SSMF_PROFILE_N];
	ssmf_profile_values(e, x);
	for (int k = 0; k < SSMF_PROFILE_N; k++) {
		f->sum[k] += x[k];
		f->sumsq[k] += x[k] * x[k];
	}
	f->n++;
}

int ssmf_profile_fit_done(const struct ssmf_profile_fit *f, struct ssmf_host_profile *p)
{
	memset(p, 0, sizeof *p);
	if (!f->n)
		return -1;
	double n = (double)f->n;
	for (int k = 0; k < SSMF_PROFILE_N; k++) {
		double m = f->sum[k] / n, var = f->sumsq[k] / n - m * m;
		p->mean[k] = m;
		p->sd[k] = fmax(sqrt(fmax(var, 0)), SSMF_PROFILE_SD_MIN);
	}
	p->events = f->n;
	p->counts = SSMF_PROFILE_N;
	return 0;
}

double ssmf_profile_score(const struct ssmf_host_profile *p, const struct ssmf_host_event *e,
                          double comp[SSMF_PROFILE_N])
{
	double x[SSMF_PROFILE_N], s = 0;
	ssmf_profile_values(e, x);
	for (int k = 0; k < SSMF_PROFILE_N; k++) {
		double z = k < p->counts ? (x[k] - p->mean[k]) / p->sd[k] - SSMF_PROFILE_MARGIN : 0,
		       t = z > 0 ? ssmf_profile_weights[k] * z * z / 2 : 0;
		if (comp)
			comp[k] = t;
		s += t;
	}
	return s;
}

static void put_u32(unsigned char *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *b)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void put_f64(unsigned char *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put_u64(b, v);
}

static double get_f64(const unsigned char *b)
{
	uint64_t v = get_u64(b);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

void ssmf_profile_encode(const struct ssmf_host_profile *p, unsigned char out[SSMF_PROFILE_BYTES])
{
	put_u32(out, SSMF_PROFILE_VERSION);
	put_u32(out + 4, SSMF_PROFILE_N);
	put_u64(out + 8, p->events);
	for (int k = 0; k < SSMF_PROFILE_N; k++) {
		put_f64(out + 16 + 8 * k, p->mean[k]);
		put_f64(out + 16 + 8 * (SSMF_PROFILE_N + k), p->sd[k]);
	}
}

int ssmf_profile_decode(const void *data, size_t n, struct ssmf_host_profile *p, char *err,
                        size_t errlen)
{
	const unsigned char *b = data;
	memset(p, 0, sizeof *p);
	if (n < 8) {
		snprintf(err, errlen, "PROFILE section has %zu bytes, expected %u", n,
		         SSMF_PROFILE_BYTES);
		return -1;
	}
	uint32_t version = (uint32_t)(get_u64(b) & 0xffffffffu),
	         counts = (uint32_t)(get_u64(b) >> 32);
	if (version != SSMF_PROFILE_VERSION || counts < SSMF_PROFILE_N_MIN ||
	    counts > SSMF_PROFILE_N) {
		snprintf(err, errlen,
		         "PROFILE section version %u with %u counts (this build reads "
		         "version %u with %d to %d)",
		         version, counts, SSMF_PROFILE_VERSION, SSMF_PROFILE_N_MIN, SSMF_PROFILE_N);
		return -1;
	}
	if (n != SSMF_PROFILE_SIZE(counts)) {
		snprintf(err, errlen, "PROFILE section has %zu bytes, expected %u for %u counts", n,
		         SSMF_PROFILE_SIZE(counts), counts);
		return -1;
	}
	p->events = get_u64(b + 8);
	p->counts = (int)counts;
	for (int k = 0; k < p->counts; k++) {
		p->mean[k] = get_f64(b + 16 + 8 * k);
		p->sd[k] = get_f64(b + 16 + 8 * ((int)counts + k));
		if (!isfinite(p->mean[k]) || !isfinite(p->sd[k]) ||
		    p->sd[k] < SSMF_PROFILE_SD_MIN) {
			snprintf(err, errlen, "PROFILE section: count %d has mean %g and spread %g",
			         k, p->mean[k], p->sd[k]);
			return -1;
		}
	}
	return 0;
}

/* evidence.c - the packet level's evidence (evidence.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ssm/evidence.h"

void ssmf_evidence_fit_add(struct ssmf_evidence_fit *f, double score, double predicted)
{
	if (!(predicted > 0) || !isfinite(score))
		return;
	f->flows++;
	f->n += predicted;
	f->ns += predicted * score;
	f->nss += predicted * score * score;
}

int ssmf_evidence_fit_done(const struct ssmf_evidence_fit *f, struct ssmf_evidence *e)
{
	memset(e, 0, sizeof *e);
	if (!(f->n > 0))
		return -1;
	double mean = f->ns / f->n;
	/* sum over flows of n (s - mean)^2, per flow: one packet's variance */
	double var = (f->nss - 2 * mean * f->ns + mean * mean * f->n) / (double)f->flows;
	if (!(var > 0))
		return -1;
	e->mean = mean;
	e->sd = sqrt(var);
	e->flows = f->flows;
	return 0;
}

double ssmf_evidence_score(const struct ssmf_evidence *e, double score, double predicted)
{
	if (!e || !e->flows || !(predicted > 0))
		return 0;
	double z = (score - e->mean) * sqrt(predicted) / e->sd - SSMF_EVIDENCE_MARGIN;
	return z > 0 ? z * z / 2 : 0;
}

static void put(unsigned char *b, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const unsigned char *b, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static void put_f64(unsigned char *b, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof v);
	put(b, v, 8);
}

static double get_f64(const unsigned char *b)
{
	uint64_t v = get(b, 8);
	double d;
	memcpy(&d, &v, sizeof d);
	return d;
}

void ssmf_evidence_encode(const struct ssmf_evidence *e, unsigned char out[SSMF_EVIDENCE_BYTES])
{
	put(out, SSMF_EVIDENCE_VERSION, 4);
	put(out + 4, 0, 4);
	put(out + 8, e->flows, 8);
	put_f64(out + 16, e->mean);
	put_f64(out + 24, e->sd);
}

int ssmf_evidence_decode(const void *data, size_t n, struct ssmf_evidence *e, char *err,
                         size_t errlen)
{
	const unsigned char *b = data;
	memset(e, 0, sizeof *e);
	if (n != SSMF_EVIDENCE_BYTES) {
		snprintf(err, errlen, "EVIDENCE section has %zu bytes, expected %u", n,
		         SSMF_EVIDENCE_BYTES);
		return -1;
	}
	uint32_t version = (uint32_t)get(b, 4);
	if (version != SSMF_EVIDENCE_VERSION) {
		snprintf(err, errlen, "EVIDENCE section version %u (this build reads %u)", version,
		         SSMF_EVIDENCE_VERSION);
		return -1;
	}
	struct ssmf_evidence v = {get_f64(b + 16), get_f64(b + 24), get(b + 8, 8)};
	if (!isfinite(v.mean) || !isfinite(v.sd) || !(v.sd > 0) || v.flows == 0) {
		snprintf(err, errlen, "EVIDENCE section: mean %g, spread %g over %llu flows",
		         v.mean, v.sd, (unsigned long long)v.flows);
		return -1;
	}
	*e = v;
	return 0;
}

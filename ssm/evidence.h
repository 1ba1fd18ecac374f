/* evidence.h - the packet level's evidence: how far a flow's packets, all of them together,
 * lie above what normal flows' packets cost.
 *
 * A flow's packet score is its mean surprise per predicted packet, which judges a
 * 3-packet flow and a 250-packet one alike. A long flow whose packets are each a little
 * more surprising than normal ones (a miner's job notifications and shares, twenty
 * minutes of small packets half a minute apart) then scores near normal flows, though
 * over so many packets a small excess is strong evidence. The evidence weighs the excess by
 * the number of packets: z = (score - mean) * sqrt(predicted packets) / sd, with mean the
 * surprise per packet over the validation flows of training and sd its spread per packet
 * (the flows' squared deviations weighted by their packets, i.e. what one packet's
 * surprise varies by if the flows' packets were independent: between-flow differences
 * included, so it errs on the high side). The evidence is z^2 / 2 for
 * z - SSMF_EVIDENCE_MARGIN when positive, a Gaussian's negative log-likelihood from one
 * spread above, as the activity profile (features/host_profile.h) counts its counts.
 */
#ifndef SSMF_EVIDENCE_H
#define SSMF_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#define SSMF_EVIDENCE_VERSION 1u
#define SSMF_EVIDENCE_BYTES   32u
#define SSMF_EVIDENCE_MARGIN  1.0
/* a spread from fewer flows than this says little: training then writes no baseline */
#define SSMF_EVIDENCE_MIN_FLOWS 8u

struct ssmf_evidence {
	double mean;    /* surprise per predicted packet of validation flows */
	double sd;      /* its spread per packet, > 0 */
	uint64_t flows; /* flows the fit saw; 0: no baseline (models written before it) */
};

/* The fit: sums over flows of their predicted packets n and score s. */
struct ssmf_evidence_fit {
	uint64_t flows;
	double n, ns, nss; /* sum n, sum n s, sum n s^2 */
};
void ssmf_evidence_fit_add(struct ssmf_evidence_fit *f, double score, double predicted);
/* Returns 0, or -1 when the fit saw no predicted packet or no spread. */
int ssmf_evidence_fit_done(const struct ssmf_evidence_fit *f, struct ssmf_evidence *e);

/* The evidence of a flow of this packet score over `predicted` predicted packets. */
double ssmf_evidence_score(const struct ssmf_evidence *e, double score, double predicted);

/* The EVIDENCE section of a model file: u32 version, u32 zero, u64 flows, f64 mean, f64 sd,
 * little-endian, SSMF_EVIDENCE_BYTES. Decoding checks every field; -1 with err. */
void ssmf_evidence_encode(const struct ssmf_evidence *e, unsigned char out[SSMF_EVIDENCE_BYTES]);
int ssmf_evidence_decode(const void *data, size_t n, struct ssmf_evidence *e, char *err,
                         size_t errlen);

#endif

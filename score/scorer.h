/* scorer.h - anomaly scores for flows. Captures: sequence mode by default (a flow's
 * records wait in the flow table; ended flows are scored in batches, long flows chunk after
 * chunk with the state carried), or step mode over the packets as they arrive (state per
 * active flow, as the live pipeline runs). Datasets: sequence mode over their flows.
 *
 * A flow's score is its mean surprise (summed negative log-likelihood of the
 * next-packet components) per predicted packet; the breakdown per component
 * (direction, size, gap, TCP flags) says why. The first packet of a flow is not
 * predicted: a one-packet flow scores 0.
 */
#ifndef SSMF_SCORER_H
#define SSMF_SCORER_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/reader.h"
#include "features/flow_summary.h"
#include "datasets/labels.h"
#include "cuda/devices.h"
#include "features/host_profile.h"
#include "ssm/ssm.h"

struct ssmf_packet_score {
	uint64_t ts_ns;
	float nll[SSMF_N_COMP]; /* zeros for the flow's first packet */
	uint16_t ip_len;        /* the record's, for the report's packet strips */
	uint8_t direction;
};

struct ssmf_flow_score {
	struct ssmf_flow_summary s;  /* key, times, counts, end reason, label */
	double score;                /* mean summed NLL per predicted packet */
	double comp[SSMF_N_COMP];    /* the same per component */
	double max_surprise;         /* largest summed NLL of one packet */
	uint32_t max_surprise_index; /* its index in the flow */
	uint64_t packets_scored;     /* packets given to the model */
	int flagged;                 /* score >= threshold */
	struct ssmf_record first; /* the flow's first packet (zeros if none reached the scorer) */
	uint32_t source;          /* the dataset it came from (0 for captures: one time line) */
	uint32_t input;           /* the input (capture or dataset) it started in */
	/* The host level (score/hosts.h): zeros without a host model. */
	double packet_score;           /* the flow's packets alone (score before the host level) */
	double host_score;             /* the larger of its two events' surprises */
	double event_surprise[2];      /* its event in the initiator's, the responder's sequence */
	double host_comp[SSMF_N_COMP]; /* the more surprising event's components */
	double activity;               /* the larger of its events' activity surprises */
	double activity_comp[SSMF_PROFILE_N]; /* that event's terms (rate, repeats, new peers) */
	double activity_part; /* what activity adds to score: --activity-weight x activity */
	double evidence;      /* its packets' evidence as a whole (ssm/evidence.h) */
	double evidence_part; /* what it adds to score: --evidence-weight x evidence */
	struct ssmf_packet_score *packets; /* (packets_scored) with per-packet output, else NULL */
};

/* The largest chunk: each thread's activations hold one chunk's rows, ~16 KB a row. */
#define SSMF_MAX_CHUNK 4096

enum ssmf_score_mode {
	SSMF_SCORE_SEQUENCE = 0, /* captures: ended flows in batches (ssmf_infer) */
	SSMF_SCORE_STEP = 1,     /* captures: every packet as it comes (ssmf_step) */
};

struct ssmf_scorer_opts {
	int mode;           /* enum ssmf_score_mode, for captures */
	int chunk_packets;  /* sequence mode: records of a flow scored at once (the flow table's
	                     * max_packets); a longer flow continues from its carried state */
	int per_packet;     /* keep every packet's surprise */
	int batch_flows;    /* flows per step-mode call (capture) */
	int buffer_packets; /* packets buffered before a step-mode flush (capture) */
	int batch_packets;  /* records per sequence-mode batch (dataset), B*T bound */
	const struct ssmf_labels *labels; /* may be NULL */
	const struct ssmf_cuda_api *gpu;  /* NULL: the CPU */
	int gpu_flows;                    /* flows whose state the GPU holds at once */
	int (*should_stop)(void);         /* polled between batches: nonzero stops (NULL-able) */
};

void ssmf_scorer_opts_default(struct ssmf_scorer_opts *o);

struct ssmf_scorer;

struct ssmf_scorer *ssmf_scorer_new(const struct ssmf_model *m, const struct ssmf_scorer_opts *o,
                                    char *err, size_t errlen);
void ssmf_scorer_free(struct ssmf_scorer *sc);

/* Capture, sequence mode: the flow table's chunk sink (chunk_packets records of an open
 * flow) and end sink (an ended flow and its s->packet_count last records). */
int ssmf_scorer_flow_chunk(struct ssmf_scorer *sc, uint32_t flow_id, const struct ssmf_record *rec,
                           uint32_t n);
int ssmf_scorer_flow_records(struct ssmf_scorer *sc, const struct ssmf_flow_summary *s,
                             const struct ssmf_record *rec);
/* Capture, step mode: the flow table's per-packet records and ended flows, in that
 * order (ssmf_ingest's record hook and the flow table's sink). */
int ssmf_scorer_record(struct ssmf_scorer *sc, const struct ssmf_record *r);
int ssmf_scorer_flow_end(struct ssmf_scorer *sc, const struct ssmf_flow_summary *s);
/* Capture mode: scores what is still buffered; call after the flow table's flush. */
int ssmf_scorer_finish(struct ssmf_scorer *sc);
/* After the last input: frees sequence mode's working memory (its engines, activations and
 * queue: tens of MB), so that what comes next, the host level and the outputs, does not
 * add to it. The results stay; scoring more inputs makes it again. */
void ssmf_scorer_release(struct ssmf_scorer *sc);
/* The input now being read, whose flows have ids from first_flow_id on (label globs match
 * flows by the input they start in). */
void ssmf_scorer_set_input(struct ssmf_scorer *sc, const char *path, uint32_t first_flow_id);

/* Dataset mode: every flow of ds, in sequence mode. */
int ssmf_scorer_dataset(struct ssmf_scorer *sc, struct ssmf_dataset *ds);

/* Bytes of model state per active flow (for the flow table's memory cap): step mode's
 * state; 0 in sequence mode, whose records the flow table counts itself. */
size_t ssmf_scorer_state_bytes(const struct ssmf_scorer *sc);
const char *ssmf_scorer_error(const struct ssmf_scorer *sc);

/* The scored flows so far (owned by the scorer). */
struct ssmf_flow_score *ssmf_scorer_results(struct ssmf_scorer *sc, size_t *n);
uint64_t ssmf_scorer_packets(const struct ssmf_scorer *sc);

#endif

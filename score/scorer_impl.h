/* scorer_impl.h - the scorer's state, shared by its step-mode (scorer.c) and sequence-mode
 * (scorer_seq.c) capture paths. Private to score/. */
#ifndef SSMF_SCORER_IMPL_H
#define SSMF_SCORER_IMPL_H

#include "score/scorer.h"

/* A flow being scored in capture mode. */
struct live_flow {
	uint32_t flow_id;
	uint32_t input;   /* index into sc->inputs of the input it started in */
	ssmf_real *state; /* ssmf_step_state_size floats (CPU) */
	int32_t slot;     /* its state's slot on the GPU */
	double comp[SSMF_N_COMP];
	double max_surprise;
	uint32_t max_index;
	uint64_t seen;
	uint32_t npend;  /* packets waiting in the scorer's buffer */
	uint32_t wave;   /* while flushing: the next wave index of this flow */
	int ended;       /* the flow table has ended it; finished after the flush */
	uint32_t queued; /* sequence mode: its items waiting in the queue */
	struct ssmf_flow_summary summary;
	struct ssmf_record first; /* its first packet, for the host level */
	struct ssmf_packet_score *packets;
	size_t npk, cappk;
};

struct ssmf_scorer {
	const struct ssmf_model *m;
	struct ssmf_scorer_opts o;
	size_t state_floats;
	/* flow id -> live flow: open addressing, linear probing, backward-shift delete */
	struct live_flow **table;
	size_t tcap, tlen;
	/* Step mode runs in waves over a buffer of packets: wave k holds the k-th
	 * buffered packet of every flow, so each step call sees many flows, each once. */
	struct ssmf_step_ws *ws;
	struct live_flow **pflow; /* (pend_cap) buffered packets and their flows */
	struct ssmf_record *prec;
	uint32_t *pwave;
	size_t *porder;
	size_t npend, pend_cap;
	struct live_flow **ended; /* flows ended while packets of theirs were buffered */
	size_t nended, ended_cap;
	struct live_flow **bflow; /* one step call: (batch_flows) */
	struct ssmf_record *brec;
	ssmf_real **bstate;
	int32_t *bslot;
	ssmf_real *bnll;
	int bn;
	/* step mode's engine (ssm/engine.h), opened on first use: the CPU's over the flows'
	 * host states, or the GPU's over its slots */
	struct ssmf_engine step_engine;
	int32_t *free_slots;
	int nfree;
	/* sequence mode (captures and datasets): flows' records waiting for the next flush
	 * (scorer_seq.c) */
	struct seq_item *q;
	size_t nq, q_cap;
	struct ssmf_record *q_rec;
	size_t q_nrec, q_rec_cap;
	struct seq_batcher *seq;    /* activations and batch buffers, made on first use */
	uint32_t *input_first_flow; /* (ninputs) the first flow id of each input */
	/* results */
	struct ssmf_flow_score *res;
	size_t nres, capres;
	uint64_t packets;
	char **inputs;
	size_t ninputs;
	char error[512];
};

/* Sequence mode: a flow's records in the queue (q_rec[off], n of them). */
struct seq_item {
	size_t off;
	uint32_t n;
	struct live_flow *carry; /* a chunked flow: its state and sums; NULL for a whole flow */
	size_t result;           /* its result's index, or SEQ_OPEN for a chunk of an open flow */
	uint32_t wave;           /* a chunked flow's: how many of its items are ahead of it */
};
#define SEQ_OPEN ((size_t)-1)

/* the flow id table (scorer.c) */
struct live_flow **scorer_find(struct ssmf_scorer *sc, uint32_t id);
int scorer_reserve(struct ssmf_scorer *sc); /* room for one more flow in the table */
void scorer_remove(struct ssmf_scorer *sc, struct live_flow **slot);
void scorer_free_live(struct live_flow *f);
/* a zeroed result at the end of sc->res; NULL when out of memory */
struct ssmf_flow_score *scorer_new_result(struct ssmf_scorer *sc);
void scorer_finish_score(struct ssmf_flow_score *r, const double comp[SSMF_N_COMP], uint64_t seen);
/* the label of a flow that started in input `input` (an index into sc->inputs) */
void scorer_label(struct ssmf_scorer *sc, struct ssmf_flow_score *r, uint32_t input);
/* Adds n packets' surprises (nll rows) of a flow that saw `seen` packets before them to comp
 * and to its largest surprise (packets after the first); with pk, each packet's row. */
void scorer_add_rows(double comp[SSMF_N_COMP], double *max_surprise, uint32_t *max_index,
                     uint64_t seen, const ssmf_real *nll, const struct ssmf_record *rec, int n,
                     struct ssmf_packet_score *pk);

/* scorer_seq.c */
int scorer_seq_flush(struct ssmf_scorer *sc);
/* Frees the queue, the batches' buffers and engines; the next flush makes them again. */
void scorer_seq_free(struct ssmf_scorer *sc);

#endif

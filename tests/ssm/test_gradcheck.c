/* test_gradcheck.c - finite differences in double precision, every op and the whole model.
 *
 * Linked against ssmf_ssm_f64 (the library compiled with ssmf_real = double). Each check
 * uses a random linear functional of the op's output as the loss, so every output element
 * carries gradient; central differences with step 1e-6 must match the analytic gradient
 * to a relative error of 1e-6 (scaled by the gradient's magnitude).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ssm/internal.h"
#include "testutil.h"

static int g_fail;
static char err[256];

#define EPS 1e-6

struct cmp {
	double max_abs, max_ref;
	long n;
};

static void cmp_add(struct cmp *c, double ana, double num)
{
	double e = fabs(ana - num);
	if (e > c->max_abs)
		c->max_abs = e;
	if (fabs(num) > c->max_ref)
		c->max_ref = fabs(num);
	c->n++;
}

static void cmp_report(const char *what, const struct cmp *c)
{
	double rel = c->max_abs / (c->max_ref > 1e-2 ? c->max_ref : 1e-2);
	int bad = !(rel < 1e-6) || c->n == 0;
	printf("%-42s n=%-6ld max|err|=%.3e  max|g|=%.3e  rel=%.3e %s\n", what, c->n, c->max_abs,
	       c->max_ref, rel, bad ? "FAIL" : "ok");
	g_fail |= bad;
}

static void fill(double *x, size_t n, double s)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (2 * tu_unif() - 1) * s;
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* ---- linear ---- */
static void check_linear(void)
{
	int R = 7, I = 9, O = 77; /* O > 64 exercises the GEMM's panel and tail paths */
	double *x = malloc(sizeof(double) * R * I), *w = malloc(sizeof(double) * O * I);
	double *wt = malloc(sizeof(double) * linear_packed_size(O, I)),
	       *b = malloc(sizeof(double) * O);
	double *y = malloc(sizeof(double) * R * O), *wy = malloc(sizeof(double) * R * O);
	double *dx = calloc((size_t)R * I, sizeof(double)),
	       *dw = calloc((size_t)O * I, sizeof(double));
	double *db = calloc(O, sizeof(double));
	fill(x, (size_t)R * I, 1);
	fill(w, (size_t)O * I, 1);
	fill(b, O, 1);
	fill(wy, (size_t)R * O, 1);
#define LOSS()                                                                                     \
	(linear_pack(wt, w, O, I), linear_forward(y, x, wt, b, R, I, O), dot(y, wy, (size_t)R * O))
	LOSS();
	linear_backward_input(dx, wy, w, R, I, O);
	linear_backward_weight(dw, db, wy, x, R, I, O);
	struct cmp cx = {0}, cw = {0}, cb = {0};
	double *vars[3] = {x, w, b}, *grads[3] = {dx, dw, db};
	size_t ns[3] = {(size_t)R * I, (size_t)O * I, (size_t)O};
	struct cmp *cs[3] = {&cx, &cw, &cb};
	for (int v = 0; v < 3; v++)
		for (size_t i = 0; i < ns[v]; i++) {
			double s = vars[v][i];
			vars[v][i] = s + EPS;
			double lp = LOSS();
			vars[v][i] = s - EPS;
			double lm = LOSS();
			vars[v][i] = s;
			cmp_add(cs[v], grads[v][i], (lp - lm) / (2 * EPS));
		}
#undef LOSS
	cmp_report("linear: d input", &cx);
	cmp_report("linear: d weight", &cw);
	cmp_report("linear: d bias", &cb);
	free(x), free(w), free(wt), free(b), free(y), free(wy), free(dx), free(dw), free(db);
}

/* ---- rmsnorm ---- */
static void check_rmsnorm(void)
{
	int R = 6, C = 11, G = 3;
	double x[66], w[11], y[66], wy[66], rstd[6], dx[66] = {0}, dw[11] = {0}, part[33];
	fill(x, 66, 2);
	fill(w, 11, 1);
	fill(wy, 66, 1);
#define LOSS() (rmsnorm_forward(y, rstd, x, w, R, C), dot(y, wy, 66))
	LOSS();
	rmsnorm_backward(dx, dw, part, wy, x, rstd, w, R, C, G);
	struct cmp cx = {0}, cw = {0};
	for (int i = 0; i < 66; i++) {
		double s = x[i];
		x[i] = s + EPS;
		double lp = LOSS();
		x[i] = s - EPS;
		double lm = LOSS();
		x[i] = s;
		cmp_add(&cx, dx[i], (lp - lm) / (2 * EPS));
	}
	for (int i = 0; i < 11; i++) {
		double s = w[i];
		w[i] = s + EPS;
		double lp = LOSS();
		w[i] = s - EPS;
		double lm = LOSS();
		w[i] = s;
		cmp_add(&cw, dw[i], (lp - lm) / (2 * EPS));
	}
#undef LOSS
	cmp_report("rmsnorm: d x", &cx);
	cmp_report("rmsnorm: d weight", &cw);
}

/* ---- the mixer ops, through a real model's activations ---- */
struct mix {
	struct ssmf_model *m;
	struct ssmf_acts *a;
	struct ssmf_layer_acts *la;
	struct ssmf_dims d;
	double *w_out; /* (B,T,DI) loss weights */
	int B, T;
	int upto; /* 0: prep+rotary+scan+gate, 1: scan only, 2: gate only */
};

static double mix_loss(struct mix *x)
{
	struct ssmf_acts *a = x->a;
	struct ssmf_layer_acts *la = x->la;
	const struct ssmf_layer_params *lp = &x->m->p.layer[0];
	int B = x->B, T = x->T, H = x->d.H;
	if (x->upto == 0)
		prep_rows(la, a->gdt, lp, &x->d, 0, B * T);
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			if (x->upto == 0)
				rotary_forward_bh(la, &x->d, b, h, a->len[b], T);
			if (x->upto <= 1)
				scan_forward_bhp(la->y, a->scan_ws, NULL, la, lp->Dskip, &x->d, b,
				                 h, 0, x->d.P, a->len[b], T);
		}
	gate_forward(la->yg, la->y, la->proj, &x->d, B * T);
	return dot(la->yg, x->w_out, (size_t)B * T * x->d.DI);
}

/* prep's backward over the whole batch from the kept per-row gradients (acts->keep): the
 * per-flow backward sequence mode runs, flow after flow, then the sum over flows */
static void prep_backward_batch(struct ssmf_acts *a, const struct ssmf_layer_acts *la,
                                const struct ssmf_layer_params *p, struct ssmf_layer_params *g,
                                const struct ssmf_dims *d)
{
	for (int b = 0; b < a->B; b++) {
		struct ssmf_flow_grads fg;
		flow_grads_batch(&fg, a, d, b);
		prep_backward_flow(a, &fg, la, p, d, b);
	}
	prep_backward_reduce(a, g, d);
}

static void mix_backward(struct mix *x)
{
	struct ssmf_acts *a = x->a;
	struct ssmf_layer_acts *la = x->la;
	const struct ssmf_layer_params *lp = &x->m->p.layer[0];
	struct ssmf_layer_params *lg = &x->m->g.layer[0];
	const struct ssmf_dims *d = &x->d;
	int B = x->B, T = x->T, H = d->H, N = d->N;
	size_t bth = (size_t)B * T * H;
	ssmf_zero_grad(x->m);
	memset(a->keep.d_proj, 0, (size_t)B * T * d->DP * sizeof(double));
	gate_backward_rows(a->keep.d_y, a->keep.d_proj, x->w_out, la->y, la->proj, d, B * T);
	if (x->upto == 2)
		return;
	memset(a->keep.d_dt, 0, bth * sizeof(double));
	memset(a->keep.d_alpha, 0, bth * sizeof(double));
	memset(a->keep.d_lam, 0, bth * sizeof(double));
	memset(a->keep.d_k, 0, bth * N * sizeof(double));
	memset(a->keep.d_q, 0, bth * N * sizeof(double));
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			struct ssmf_flow_grads g;
			flow_grads_batch(&g, a, d, b);
			double *S = a->scan_ws, *hist = S + (size_t)N * d->P;
			double dD = 0;
			scan_forward_bhp(a->keep.d_yg, S, hist, la, lp->Dskip, d, b, h, 0, d->P,
			                 a->len[b], T);
			scan_backward_bhp(&g, la, hist, lp->Dskip, &dD, d, b, h, 0, d->P, a->len[b],
			                  T);
			lg->Dskip[h] += dD;
			if (x->upto == 0)
				rotary_backward_bh(&g, la, d, b, h, a->len[b], T);
		}
	if (x->upto == 0)
		prep_backward_batch(a, la, lp, lg, d);
}

static void fd_array(struct mix *x, double *var, const double *grad, size_t n, size_t stride_skip,
                     const char *what, const int *mask_len, int row_len)
{
	struct cmp c = {0};
	for (size_t i = 0; i < n; i++) {
		if (mask_len) { /* only rows of real packets */
			size_t row = i / (size_t)row_len;
			int b = (int)(row / (size_t)x->T), t = (int)(row % (size_t)x->T);
			if (t >= mask_len[b])
				continue;
		}
		if (stride_skip > 1 && i % stride_skip)
			continue;
		double s = var[i];
		var[i] = s + EPS;
		double lp = mix_loss(x);
		var[i] = s - EPS;
		double lm = mix_loss(x);
		var[i] = s;
		cmp_add(&c, grad[i], (lp - lm) / (2 * EPS));
	}
	mix_loss(x);
	cmp_report(what, &c);
}

static void check_mixer(void)
{
	struct ssmf_config cfg = {
	    .d_model = 6, .n_layer = 1, .d_state = 6, .expand = 2, .headdim = 4};
	struct mix x = {0};
	x.B = 3;
	x.T = 7;
	x.m = ssmf_model_new(&cfg, 7, err, sizeof err);
	x.a = ssmf_acts_new_keep(x.m, x.B, x.T, err, sizeof err);
	if (!x.m || !x.a) {
		printf("alloc: %s\n", err);
		g_fail = 1;
		return;
	}
	ssmf_config_dims(&cfg, &x.d);
	const struct ssmf_dims *d = &x.d;
	struct ssmf_acts *a = x.a;
	x.la = &a->layer[0];
	int lens[3] = {7, 4, 1};
	struct ssmf_record rec[21];
	for (int b = 0; b < 3; b++)
		tu_random_flow(rec + b * 7, 7, (uint32_t)b);
	a->B = x.B;
	a->T = x.T;
	for (int b = 0; b < 3; b++)
		a->len[b] = lens[b];
	input_forward(&x.m->input, a->feat, a->gdt, rec, a->len, x.B, x.T);
	size_t BT = (size_t)x.B * x.T;
	/* make every parameter non-trivial so each path carries gradient */
	struct ssmf_layer_params *lp = &x.m->p.layer[0], *lg = &x.m->g.layer[0];
	fill(x.la->proj, BT * d->DP, 1.5);
	fill(lp->bnorm_w, d->N, 1.5);
	fill(lp->cnorm_w, d->N, 1.5);
	fill(lp->bnorm_b, d->N, 1);
	fill(lp->cnorm_b, d->N, 1);
	fill(lp->Dskip, d->H, 1);
	for (int h = 0; h < d->H; h++) {
		lp->gap_w[h] = -1 + h * 0.3; /* softplus(gap_w) ~ 0.3..1 */
		lp->dt_bias[h] = -1.0 + 0.5 * h;
		lp->a_bias[h] = -0.5 + 0.2 * h;
	}
	x.w_out = malloc(sizeof(double) * BT * d->DI);
	fill(x.w_out, BT * d->DI, 1);

	/* gate alone */
	x.upto = 2;
	fill(x.la->y, BT * d->DI, 1);
	mix_loss(&x);
	mix_backward(&x);
	{
		struct cmp c = {0};
		for (size_t i = 0; i < BT * d->DI; i++) {
			double s = x.la->y[i];
			x.la->y[i] = s + EPS;
			double lp2 = mix_loss(&x);
			x.la->y[i] = s - EPS;
			double lm = mix_loss(&x);
			x.la->y[i] = s;
			cmp_add(&c, a->keep.d_y[i], (lp2 - lm) / (2 * EPS));
		}
		cmp_report("gate: d y", &c);
		double *dz = malloc(sizeof(double) * BT * d->DP);
		memcpy(dz, a->keep.d_proj, sizeof(double) * BT * d->DP);
		struct cmp cz = {0};
		for (size_t r = 0; r < BT; r++)
			for (int c2 = 0; c2 < d->DI; c2++) {
				size_t i = r * d->DP + d->O_Z + c2;
				double s = x.la->proj[i];
				x.la->proj[i] = s + EPS;
				double lp2 = mix_loss(&x);
				x.la->proj[i] = s - EPS;
				double lm = mix_loss(&x);
				x.la->proj[i] = s;
				cmp_add(&cz, dz[i], (lp2 - lm) / (2 * EPS));
			}
		cmp_report("gate: d z", &cz);
		free(dz);
	}

	/* scan alone: k, q, alpha, dt, lam, v, D */
	x.upto = 0;
	mix_loss(&x); /* fills k, q, alpha ... from proj */
	x.upto = 1;
	mix_loss(&x);
	mix_backward(&x);
	{
		size_t bth = BT * d->H;
		double *g[6];
		double *src[6] = {a->keep.d_k,  a->keep.d_q,   a->keep.d_alpha,
		                  a->keep.d_dt, a->keep.d_lam, a->keep.d_proj};
		size_t ns[6] = {bth * d->N, bth * d->N, bth, bth, bth, BT * d->DP};
		for (int i = 0; i < 6; i++) {
			g[i] = malloc(sizeof(double) * ns[i]);
			memcpy(g[i], src[i], sizeof(double) * ns[i]);
		}
		double dD[64];
		memcpy(dD, lg->Dskip, sizeof(double) * d->H);
		fd_array(&x, x.la->k, g[0], ns[0], 1, "scan: d k", a->len, d->H * d->N);
		fd_array(&x, x.la->q, g[1], ns[1], 1, "scan: d q", a->len, d->H * d->N);
		fd_array(&x, x.la->alpha, g[2], ns[2], 1, "scan: d alpha", a->len, d->H);
		fd_array(&x, x.la->dt, g[3], ns[3], 1, "scan: d DT", a->len, d->H);
		fd_array(&x, x.la->lam, g[4], ns[4], 1, "scan: d lambda", a->len, d->H);
		/* v = x columns of proj (z columns carry the gate's gradient too: skip none) */
		fd_array(&x, x.la->proj, g[5], ns[5], 1, "scan+gate: d proj (x, z)", a->len, d->DP);
		fd_array(&x, lp->Dskip, dD, d->H, 1, "scan: d D", NULL, 0);
		for (int i = 0; i < 6; i++)
			free(g[i]);
	}

	/* prep + rotary + scan + gate: every in_proj column and the mixer's own parameters */
	x.upto = 0;
	mix_loss(&x);
	mix_backward(&x);
	{
		double *gp = malloc(sizeof(double) * BT * d->DP);
		memcpy(gp, a->keep.d_proj, sizeof(double) * BT * d->DP);
		fd_array(&x, x.la->proj, gp, BT * d->DP, 1, "mixer: d in_proj output", a->len,
		         d->DP);
		free(gp);
		struct {
			const char *name;
			double *p, *g;
			int n;
		} ps[] = {
		    {"mixer: d dt_bias", lp->dt_bias, lg->dt_bias, d->H},
		    {"mixer: d a_bias", lp->a_bias, lg->a_bias, d->H},
		    {"mixer: d gap_w", lp->gap_w, lg->gap_w, d->H},
		    {"mixer: d B_norm.weight", lp->bnorm_w, lg->bnorm_w, d->N},
		    {"mixer: d B_bias", lp->bnorm_b, lg->bnorm_b, d->N},
		    {"mixer: d C_norm.weight", lp->cnorm_w, lg->cnorm_w, d->N},
		    {"mixer: d C_bias", lp->cnorm_b, lg->cnorm_b, d->N},
		    {"mixer: d D", lp->Dskip, lg->Dskip, d->H},
		};
		for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
			double g[64];
			memcpy(g, ps[i].g, sizeof(double) * ps[i].n);
			fd_array(&x, ps[i].p, g, ps[i].n, 1, ps[i].name, NULL, 0);
		}
	}
	free(x.w_out);
	ssmf_acts_free(x.a);
	ssmf_model_free(x.m);
}

/* ---- heads: NLL of every component ---- */
static void check_heads(void)
{
	struct ssmf_record next[2];
	tu_random_flow(next, 2, 1);
	next[1].ip_proto = 6;
	next[1].tcp_flags = 0x12;
	double l[SSMF_N_LOGITS], nll[SSMF_N_COMP];
	fill(l, SSMF_N_LOGITS, 2);
	/* analytic: through a one-packet-pair batch is the model test; here the NLL itself */
	struct cmp c = {0};
	for (int comp = 0; comp < SSMF_N_COMP; comp++) {
		for (int i = 0; i < SSMF_N_LOGITS; i++) {
			double s = l[i];
			l[i] = s + EPS;
			ssmf_packet_nll(l, &next[1], nll);
			double lp = nll[comp];
			l[i] = s - EPS;
			ssmf_packet_nll(l, &next[1], nll);
			double lm = nll[comp];
			l[i] = s;
			/* expected: softmax - onehot within the component's slice, 0 elsewhere */
			double num = (lp - lm) / (2 * EPS);
			int lo[4] = {SSMF_LOGIT_DIR, SSMF_LOGIT_SIZE, SSMF_LOGIT_GAP,
			             SSMF_LOGIT_FLAGS};
			int nn[4] = {SSMF_N_DIR, SSMF_N_SIZE_BUCKETS, SSMF_N_GAP_BUCKETS,
			             SSMF_N_TCP_BITS};
			double ana = 0;
			if (i >= lo[comp] && i < lo[comp] + nn[comp]) {
				int tgt = comp == 0   ? next[1].direction
				          : comp == 1 ? ssmf_size_bucket(next[1].ip_len)
				          : comp == 2 ? ssmf_gap_bucket(next[1].gap_us)
				                      : -1;
				if (comp < 3) {
					double mx = -1e300, z = 0;
					for (int j = 0; j < nn[comp]; j++)
						mx = fmax(mx, l[lo[comp] + j]);
					for (int j = 0; j < nn[comp]; j++)
						z += exp(l[lo[comp] + j] - mx);
					ana = exp(l[i] - mx) / z - (i - lo[comp] == tgt);
				} else {
					int y = (next[1].tcp_flags >> (i - lo[3])) & 1;
					ana = 1 / (1 + exp(-l[i])) - y;
				}
			}
			cmp_add(&c, ana, num);
		}
	}
	cmp_report("heads: NLL components vs softmax/sigmoid", &c);
}

/* ---- whole model: every parameter ---- */
static void check_model(void)
{
	struct ssmf_config cfg = {
	    .d_model = 8, .n_layer = 2, .d_state = 4, .expand = 2, .headdim = 4};
	int B = 3, T = 6;
	struct ssmf_model *m = ssmf_model_new(&cfg, 3, err, sizeof err);
	struct ssmf_acts *a = m ? ssmf_acts_new(m, B, T, err, sizeof err) : NULL;
	if (!a) {
		printf("alloc: %s\n", err);
		g_fail = 1;
		return;
	}
	/* perturb the init so no parameter sits at a symmetric point */
	double *p = ssmf_model_params(m);
	for (size_t i = 0; i < ssmf_model_num_params(m); i++)
		p[i] += 0.2 * (2 * tu_unif() - 1);
	struct ssmf_record rec[18];
	int len[3] = {6, 3, 1};
	int8_t lab[3] = {1, 0, -1};
	for (int b = 0; b < B; b++)
		tu_random_flow(rec + b * T, T, (uint32_t)b);
	struct ssmf_batch batch = {rec, len, lab, B, T, 0.5, NULL};
	struct ssmf_outputs out;
	ssmf_forward(m, a, &batch, &out, err, sizeof err);
	ssmf_zero_grad(m);
	ssmf_backward(m, a, err, sizeof err);
	double *g = malloc(sizeof(double) * ssmf_model_num_params(m));
	memcpy(g, ssmf_model_grads(m), sizeof(double) * ssmf_model_num_params(m));
	for (int ti = 0; ti < ssmf_model_num_tensors(m); ti++) {
		const struct ssmf_param_info *t = ssmf_model_tensor(m, ti);
		struct cmp c = {0};
		for (size_t i = t->offset; i < t->offset + t->numel; i++) {
			double s = p[i];
			p[i] = s + EPS;
			ssmf_forward(m, a, &batch, &out, err, sizeof err);
			double lp = out.loss;
			p[i] = s - EPS;
			ssmf_forward(m, a, &batch, &out, err, sizeof err);
			double lm = out.loss;
			p[i] = s;
			cmp_add(&c, g[i], (lp - lm) / (2 * EPS));
		}
		char what[96];
		snprintf(what, sizeof what, "model: %s", t->name);
		cmp_report(what, &c);
	}
	free(g);
	ssmf_acts_free(a);
	ssmf_model_free(m);
}

int main(void)
{
	check_linear();
	check_rmsnorm();
	check_heads();
	check_mixer();
	check_model();
	printf(g_fail ? "gradcheck: FAILED\n" : "gradcheck: all passed\n");
	return g_fail ? 1 : 0;
}

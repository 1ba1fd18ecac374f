/* test_api.c - the CUDA API's errors on a machine without a GPU (or a build without nvcc),
 * and the argument checks of the shared driver (through the host emulation). */
#include <stdio.h>
#include <string.h>

#include "cuda/cx.h"

static int fails;
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL line %d: ", __LINE__);                               \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

int main(void)
{
	char err[512] = "";
	struct ssmf_config cfg;
	ssmf_config_default(&cfg);
	struct ssmf_model *m = ssmf_model_new(&cfg, 1, err, sizeof err);
	CHECK(m, "model: %s", err);
	if (!m)
		return 1;

	/* the device API: either no GPU here, or this is a GPU machine */
	int n = ssmf_cuda_available(err, sizeof err);
	printf("ssmf_cuda_available: %d (%s)\n", n, n < 0 ? err : "device present");
	struct ssmf_cuda_opts o = {0, 4, 8, 4, 4, 0, 0};
	struct ssmf_cuda *c = NULL;
	if (n < 0) {
		CHECK(n == SSMF_CUDA_E_NOBUILD || n == SSMF_CUDA_E_NODEV, "code %d", n);
		CHECK(n != SSMF_CUDA_E_NOBUILD || strstr(err, "built without CUDA"), "msg %s", err);
		CHECK(n != SSMF_CUDA_E_NODEV || strstr(err, "no CUDA device"), "msg %s", err);
		int rc = ssmf_cuda_new(&c, m, &o, err, sizeof err);
		printf("ssmf_cuda_new: %d (%s)\n", rc, err);
		CHECK(rc == n && c == NULL, "new: %d", rc);
	} else {
		int rc = ssmf_cuda_new(&c, m, &o, err, sizeof err);
		CHECK(rc == 0, "new on a GPU machine: %s", err);
		ssmf_cuda_free(c);
	}
	/* d_state beyond the register bound */
	struct ssmf_config big = cfg;
	big.d_state = 128;
	struct ssmf_model *mb = ssmf_model_new(&big, 1, err, sizeof err);
	struct ssmf_cxh *h = NULL;
	CHECK(mb && ssmf_cxh_new(&h, mb, &o, err, sizeof err) == SSMF_CUDA_E_CONFIG &&
	          strstr(err, "d_state"),
	      "d_state 128: %s", err);
	ssmf_model_free(mb);

	/* argument checks of the driver, through the host emulation */
	CHECK(ssmf_cxh_new(&h, m, &o, err, sizeof err) == 0, "emu new: %s", err);
	struct ssmf_record rec[40];
	memset(rec, 0, sizeof rec);
	int len[5] = {8, 8, 8, 8, 8};
	struct ssmf_batch b = {rec, len, NULL, 5, 8, 0, NULL};
	struct ssmf_outputs out;
	CHECK(ssmf_cxh_forward(h, &b, &out, err, sizeof err) < 0 && strstr(err, "exceeds"),
	      "B too big: %s", err);
	b.B = 4;
	len[1] = 9;
	CHECK(ssmf_cxh_forward(h, &b, &out, err, sizeof err) < 0 && strstr(err, "length"),
	      "len too big: %s", err);
	CHECK(ssmf_cxh_backward(h, err, sizeof err) < 0, "backward first");
	int32_t slot[4] = {0, 1, 1, 2};
	float nll[4 * SSMF_N_COMP];
	CHECK(ssmf_cxh_step(h, rec, slot, 4, nll, NULL, err, sizeof err) < 0 &&
	          strstr(err, "twice"),
	      "dup slot: %s", err);
	slot[2] = 7;
	CHECK(ssmf_cxh_step(h, rec, slot, 4, nll, NULL, err, sizeof err) < 0 &&
	          strstr(err, "outside"),
	      "slot range: %s", err);
	CHECK(ssmf_cxh_step(h, rec, slot, 5, nll, NULL, err, sizeof err) < 0, "n > step_n");
	slot[2] = 3;
	CHECK(ssmf_cxh_step(h, rec, slot, 4, nll, NULL, err, sizeof err) == 0, "step: %s", err);
	CHECK(nll[0] == 0 && nll[SSMF_N_COMP - 1] == 0, "first packet of a flow: zero NLL");
	ssmf_cxh_free(h);
	ssmf_model_free(m);
	if (!fails)
		printf("ok\n");
	return fails ? 1 : 0;
}

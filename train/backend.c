/* backend.c - picks the backend for --device. */
#include <stdio.h>
#include <string.h>

#include "cuda/devices.h"
#include "train/backend.h"
#include "train/train.h"

int train_backend_open(struct train_backend *be, const char *device, struct ssmf_model *m,
                       struct train_adamw *o, struct train_dist *dist, int max_B, int max_T,
                       char *err, size_t errlen)
{
	memset(be, 0, sizeof *be);
	enum ssmf_device d;
	if (ssmf_device_parse(device, &d) != 0) {
		snprintf(err, errlen, "--device %s: unknown device (cpu or cuda)", device);
		return TRAIN_E_USAGE;
	}
	switch (d) {
	case SSMF_DEVICE_CPU:
		return train_backend_cpu_open(be, m, o, dist, max_B, max_T, err, errlen);
	case SSMF_DEVICE_CUDA:
		return train_backend_cuda_open(be, 0, m, o, dist, max_B, max_T, err, errlen);
	case SSMF_DEVICE_CUDA_EMULATED: /* tests: the kernels' code on the host */
		return train_backend_cuda_open(be, 1, m, o, dist, max_B, max_T, err, errlen);
	}
	return TRAIN_E_USAGE;
}

void train_backend_close(struct train_backend *be)
{
	if (be->free)
		be->free(be->ctx);
	memset(be, 0, sizeof *be);
}

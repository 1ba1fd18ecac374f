/* test_nccl_module.c - the CUDA module carries the NCCL transport's entry points exactly
 * when the build found NCCL, and the binary's lookup by name finds them: what a GPU run
 * with several processes will call (cuda/grad_ring_gpu.c), checked on a machine without a
 * GPU. A build without nvcc has no module, and so no entry point. */
#include <stdio.h>

#include "../unit/check.h"
#include "cuda/grad_ring.h"
#include "cuda/ssm_cuda.h"

int main(void)
{
	char err[512] = "";
	/* loads the module when there is one; no GPU here answers SSMF_CUDA_E_NODEV */
	int n = ssmf_cuda_available(err, sizeof err);
	int module = n != SSMF_CUDA_E_NOBUILD;
	printf("ssmf_cuda_available: %d (%s)\n", n, n < 0 ? err : "device present");
	CHECKF(module == SSMF_EXPECT_MODULE, "module loaded %d, expected %d: %s", module,
	       SSMF_EXPECT_MODULE, err);
	static const char *const names[] = {SSMF_NCCL_PREPARE_SYMBOL, SSMF_NCCL_ID_SYMBOL,
	                                    SSMF_NCCL_JOIN_SYMBOL};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		int found = ssmf_cuda_module_symbol(names[i]) != NULL;
		printf("%s: %s\n", names[i], found ? "found" : "absent");
		CHECKF(found == (SSMF_EXPECT_MODULE && SSMF_EXPECT_NCCL), "%s found %d", names[i],
		       found);
	}
	return check_report("test_nccl_module");
}

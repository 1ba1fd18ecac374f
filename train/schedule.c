/* schedule.c - warmup + cosine. */
#include <math.h>

#include "train/schedule.h"

double train_lr_at(long step, long total, long warmup, double lr, double min_ratio)
{
	if (warmup > 0 && step <= warmup)
		return lr * (double)step / (double)warmup;
	double floor_lr = lr * min_ratio;
	long span = total - warmup;
	if (span <= 0)
		return floor_lr;
	double progress = (double)(step - warmup) / (double)span;
	if (progress > 1)
		progress = 1;
	return floor_lr + 0.5 * (lr - floor_lr) * (1 + cos(M_PI * progress));
}

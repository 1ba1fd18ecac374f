/* schedule.h - learning rate: linear warmup, then cosine decay to a floor. */
#ifndef SSMF_TRAIN_SCHEDULE_H
#define SSMF_TRAIN_SCHEDULE_H

/* Rate for 1-based step `step` of `total`. */
double train_lr_at(long step, long total, long warmup, double lr, double min_ratio);

#endif

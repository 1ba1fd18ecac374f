/* meta.c - builds the META JSON. Numbers that must survive a round trip bit for bit
 * (losses, for resume) are written with 17 significant digits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/hparams.h"
#include "train/meta.h"

cJSON *train_json_number(double v)
{
	if (!isfinite(v))
		return cJSON_CreateNull();
	char buf[40];
	snprintf(buf, sizeof buf, "%.17g", v);
	return cJSON_CreateRaw(buf);
}

static void add(cJSON *o, const char *name, cJSON *item)
{
	if (item)
		cJSON_AddItemToObject(o, name, item);
}

static cJSON *side(const struct train_flowset *fs, const uint32_t *idx, size_t n, int list_sources)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	long packets = 0, labelled = 0;
	for (size_t i = 0; i < n; i++) {
		packets += fs->flows[idx[i]].len;
		labelled += fs->flows[idx[i]].label >= 0;
	}
	cJSON_AddNumberToObject(o, "flows", (double)n);
	cJSON_AddNumberToObject(o, "packets", (double)packets);
	cJSON_AddNumberToObject(o, "labelled_flows", (double)labelled);
	if (!list_sources)
		return o;
	char fp[20];
	snprintf(fp, sizeof fp, "%016llx", (unsigned long long)fs->fingerprint);
	cJSON_AddStringToObject(o, "fingerprint", fp);
	cJSON *ds = cJSON_AddArrayToObject(o, "datasets");
	for (size_t i = 0; ds && i < fs->n_src; i++) {
		const struct train_source *s = &fs->src[i];
		cJSON *d = cJSON_CreateObject();
		if (!d)
			break;
		cJSON_AddStringToObject(d, "path", s->path);
		cJSON_AddNumberToObject(d, "flows", (double)s->flows);
		cJSON_AddNumberToObject(d, "packets", (double)s->packets);
		cJSON_AddNumberToObject(d, "flows_used", (double)s->used_flows);
		add(d, "inputs", cJSON_Parse(s->inputs_json));
		cJSON_AddItemToArray(ds, d);
	}
	return o;
}

char *train_meta_build(const struct train_meta_in *in)
{
	cJSON *j = cJSON_CreateObject();
	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "format", TRAIN_META_FORMAT);
	cJSON_AddNumberToObject(j, "version", TRAIN_META_VERSION);
	cJSON_AddStringToObject(j, "software", in->software ? in->software : "");
	cJSON_AddStringToObject(j, "created", in->created ? in->created : "");
	cJSON_AddStringToObject(j, "command_line", in->command_line ? in->command_line : "");
	cJSON_AddStringToObject(j, "device", in->device);
	cJSON_AddNumberToObject(j, "threads", in->threads);
	cJSON_AddNumberToObject(j, "processes", in->processes);
	cJSON_AddNumberToObject(j, "record_version", SSMF_RECORD_VERSION);
	cJSON_AddNumberToObject(j, "n_params", (double)in->n_params);
	add(j, "hyperparameters", train_hparams_to_json(in->hp));

	cJSON *data = cJSON_AddObjectToObject(j, "data");
	int time_split = in->val_fs == in->train_fs;
	if (data) {
		cJSON_AddStringToObject(data, "split", time_split ? "time" : "dataset");
		if (time_split) {
			char b[24];
			snprintf(b, sizeof b, "%llu", (unsigned long long)in->split->boundary_ns);
			/* ns since the epoch exceed 2^53: text keeps them exact */
			cJSON_AddStringToObject(data, "val_boundary_ns", b);
		}
		add(data, "train", side(in->train_fs, in->split->train, in->split->n_train, 1));
		add(data, "val", side(in->val_fs, in->split->val, in->split->n_val, !time_split));
	}

	cJSON *tr = cJSON_AddObjectToObject(j, "training");
	if (tr) {
		const struct train_tstate *st = in->st;
		cJSON_AddNumberToObject(tr, "steps", (double)st->step);
		cJSON_AddNumberToObject(tr, "planned_steps", (double)in->total_steps);
		cJSON_AddNumberToObject(tr, "epochs", (double)st->epoch);
		cJSON_AddNumberToObject(tr, "best_epoch", (double)st->best_epoch);
		add(tr, "best_val_loss", train_json_number(st->best_epoch ? st->best_val : NAN));
		cJSON_AddBoolToObject(tr, "done", st->done != 0);
		if (in->stop_reason)
			cJSON_AddStringToObject(tr, "stop_reason", in->stop_reason);
		add(tr, "history", cJSON_Duplicate(in->history, 1));
	}
	char *s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	return s;
}

char *train_read_meta(const char *path, char *err, size_t errlen)
{
	struct ssmf_ckpt_section sec = {"META", NULL, 0};
	struct ssmf_model *m = ssmf_checkpoint_load_sections(path, &sec, 1, err, errlen);
	if (!m)
		return NULL;
	ssmf_model_free(m);
	if (!sec.data) {
		snprintf(err, errlen, "%s: no metadata", path);
		return NULL;
	}
	char *s = realloc(sec.data, sec.size + 1);
	if (!s) {
		free(sec.data);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s[sec.size] = 0;
	return s;
}

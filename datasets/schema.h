/* schema.h - the dataset layout (ssmflow-formats(5)): HDF5 types for the
 * record and the flow summary, and the names shared by writer and reader. */
#ifndef SSMF_SCHEMA_H
#define SSMF_SCHEMA_H

#include <hdf5.h>

#include "pcapio/provenance.h"

#define SSMF_DATASET_FORMAT  "ssmflow-dataset"
#define SSMF_DATASET_VERSION 1u

#define SSMF_DS_PACKETS     "/packets"
#define SSMF_DS_FLOWS       "/flows"
#define SSMF_DS_INPUTS      "/inputs"
#define SSMF_DS_LABEL_NAMES "/label_names"

/* A /flows column added after version 1: a dataset written before it reads with it
 * empty (zero bytes). */
#define SSMF_FLOW_OPTIONAL_MEMBER "community_id"

/* HDF5 compound types with the exact C layout (file type = memory type).
 * Each returns a type the caller closes with H5Tclose, or H5I_INVALID_HID. */
hid_t ssmf_h5_record_type(void);
hid_t ssmf_h5_flow_type(void);
hid_t ssmf_h5_input_type(void);

#endif

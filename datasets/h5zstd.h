/* h5zstd.h - the HDF5 zstd filter, registered id 32015.
 *
 * Each chunk is one zstd frame with its content size recorded; cd_values[0]
 * is the compression level. The same code is built into ssmflow (registered
 * in-process) and as an HDF5 filter plugin for h5dump and h5py.
 */
#ifndef SSMF_H5ZSTD_H
#define SSMF_H5ZSTD_H

#include <hdf5.h>

#define SSMF_H5Z_ZSTD_ID 32015

extern const H5Z_class2_t ssmf_h5z_zstd_class;

/* Registers the filter with the HDF5 library; returns 0 or -1. */
int ssmf_h5zstd_register(void);

#endif

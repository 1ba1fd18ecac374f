/* The zstd filter as an HDF5 dynamic plugin (HDF5_PLUGIN_PATH). */
#include <H5PLextern.h>

#include "datasets/h5zstd.h"

H5PL_type_t H5PLget_plugin_type(void)
{
	return H5PL_TYPE_FILTER;
}

const void *H5PLget_plugin_info(void)
{
	return &ssmf_h5z_zstd_class;
}

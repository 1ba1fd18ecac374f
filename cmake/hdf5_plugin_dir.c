/* Prints the directory the HDF5 library searches for filter plugins when HDF5_PLUGIN_PATH
 * is unset (its compiled-in default): configure time runs it (cmake/package.cmake). */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	char dir[4096];
	unsetenv("HDF5_PLUGIN_PATH"); /* read when the library starts: before any H5 call */
	if (H5PLget(0, dir, sizeof dir) < 0)
		return 1;
	fputs(dir, stdout);
	return 0;
}

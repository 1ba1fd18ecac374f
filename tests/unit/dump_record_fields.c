/* dump_record_fields - prints the record's field table (features/ssmf_record.h) one row per
 * line, tab-separated: name, C type, offset, element size, elements, doc. For
 * tests/oracle/test_record_fields.py, which compares it with h5py's view of a dataset, the
 * Python consumer's dtype and ssmflow-formats(5). */
#include <stdio.h>

#include "features/ssmf_record.h"

int main(void)
{
	int n;
	const struct ssmf_record_field *f = ssmf_record_fields(&n);
	printf("record_size\t%u\n", SSMF_RECORD_SIZE);
	for (int i = 0; i < n; i++)
		printf("%s\t%s\t%u\t%u\t%u\t%s\n", f[i].name, f[i].type, f[i].offset, f[i].size,
		       f[i].count, f[i].doc);
	return 0;
}

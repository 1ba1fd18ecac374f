#include "datasets/schema.h"

#include <stddef.h>

#include "features/flow_summary.h"
#include "features/ssmf_record.h"

#define MEMBER(t, st, field, type) H5Tinsert(t, #field, offsetof(st, field), type)

static hid_t array_of(hid_t base, hsize_t n)
{
	return H5Tarray_create2(base, 1, &n);
}

/* The file type of each C type of the record table (the record is little-endian). */
#define SSMF_H5T_uint8_t  H5T_STD_U8LE
#define SSMF_H5T_uint16_t H5T_STD_U16LE
#define SSMF_H5T_uint32_t H5T_STD_U32LE
#define SSMF_H5T_uint64_t H5T_STD_U64LE

/* A member of `count` elements of base: the base itself, or an array of it. */
static void insert_field(hid_t t, const char *name, size_t offset, hid_t base, hsize_t count)
{
	if (count == 1) {
		H5Tinsert(t, name, offset, base);
		return;
	}
	hid_t array = array_of(base, count);
	H5Tinsert(t, name, offset, array);
	H5Tclose(array);
}

/* /packets: one member per row of SSMF_RECORD_FIELDS (features/ssmf_record.h). */
hid_t ssmf_h5_record_type(void)
{
	hid_t t = H5Tcreate(H5T_COMPOUND, SSMF_RECORD_SIZE);
#define RECORD_MEMBER(name, type, n, off, doc) insert_field(t, #name, off, SSMF_H5T_##type, n);
	SSMF_RECORD_FIELDS(RECORD_MEMBER)
#undef RECORD_MEMBER
	return t;
}

hid_t ssmf_h5_flow_type(void)
{
	typedef struct ssmf_flow_summary S;
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(S));
	hid_t flags8 = array_of(H5T_STD_U32LE, 8);
	hid_t addr = array_of(H5T_STD_U8LE, 16);
	hid_t cid = H5Tcopy(H5T_C_S1); /* fixed size, NUL-terminated ASCII */
	H5Tset_size(cid, SSMF_COMMUNITY_ID_SIZE);
	H5Tset_strpad(cid, H5T_STR_NULLTERM);
	MEMBER(t, S, flow_id, H5T_STD_U32LE);
	MEMBER(t, S, ip_version, H5T_STD_U8LE);
	MEMBER(t, S, protocol, H5T_STD_U8LE);
	MEMBER(t, S, src_addr, addr);
	MEMBER(t, S, dst_addr, addr);
	MEMBER(t, S, src_port, H5T_STD_U16LE);
	MEMBER(t, S, dst_port, H5T_STD_U16LE);
	MEMBER(t, S, vlan, H5T_STD_U16LE);
	MEMBER(t, S, tunnel_id, H5T_STD_U32LE);
	MEMBER(t, S, first_ts_ns, H5T_STD_U64LE);
	MEMBER(t, S, last_ts_ns, H5T_STD_U64LE);
	MEMBER(t, S, duration_ns, H5T_STD_U64LE);
	MEMBER(t, S, end_reason, H5T_STD_U8LE);
	MEMBER(t, S, label, H5T_STD_I32LE);
	MEMBER(t, S, packet_offset, H5T_STD_U64LE);
	MEMBER(t, S, packet_count, H5T_STD_U32LE);
	MEMBER(t, S, fwd_packets, H5T_STD_U64LE);
	MEMBER(t, S, bwd_packets, H5T_STD_U64LE);
	MEMBER(t, S, fwd_bytes, H5T_STD_U64LE);
	MEMBER(t, S, bwd_bytes, H5T_STD_U64LE);
	MEMBER(t, S, fwd_ip_bytes, H5T_STD_U64LE);
	MEMBER(t, S, bwd_ip_bytes, H5T_STD_U64LE);
	MEMBER(t, S, fwd_payload_bytes, H5T_STD_U64LE);
	MEMBER(t, S, bwd_payload_bytes, H5T_STD_U64LE);
	MEMBER(t, S, fwd_flag_counts, flags8);
	MEMBER(t, S, bwd_flag_counts, flags8);
	MEMBER(t, S, fwd_size_min, H5T_STD_U32LE);
	MEMBER(t, S, fwd_size_mean, H5T_IEEE_F64LE);
	MEMBER(t, S, fwd_size_std, H5T_IEEE_F64LE);
	MEMBER(t, S, fwd_size_max, H5T_STD_U32LE);
	MEMBER(t, S, bwd_size_min, H5T_STD_U32LE);
	MEMBER(t, S, bwd_size_mean, H5T_IEEE_F64LE);
	MEMBER(t, S, bwd_size_std, H5T_IEEE_F64LE);
	MEMBER(t, S, bwd_size_max, H5T_STD_U32LE);
	MEMBER(t, S, fwd_iat_min_ns, H5T_STD_U64LE);
	MEMBER(t, S, fwd_iat_mean_ns, H5T_IEEE_F64LE);
	MEMBER(t, S, fwd_iat_std_ns, H5T_IEEE_F64LE);
	MEMBER(t, S, fwd_iat_max_ns, H5T_STD_U64LE);
	MEMBER(t, S, bwd_iat_min_ns, H5T_STD_U64LE);
	MEMBER(t, S, bwd_iat_mean_ns, H5T_IEEE_F64LE);
	MEMBER(t, S, bwd_iat_std_ns, H5T_IEEE_F64LE);
	MEMBER(t, S, bwd_iat_max_ns, H5T_STD_U64LE);
	MEMBER(t, S, community_id, cid);
	H5Tclose(flags8);
	H5Tclose(addr);
	H5Tclose(cid);
	return t;
}

hid_t ssmf_h5_input_type(void)
{
	typedef struct ssmf_input_info I;
	hid_t str = H5Tcopy(H5T_C_S1);
	H5Tset_size(str, H5T_VARIABLE);
	H5Tset_cset(str, H5T_CSET_UTF8);
	hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(I));
	MEMBER(t, I, path, str);
	MEMBER(t, I, format, str);
	MEMBER(t, I, sha256, str);
	MEMBER(t, I, status, str);
	MEMBER(t, I, message, str);
	MEMBER(t, I, size_bytes, H5T_NATIVE_ULLONG);
	MEMBER(t, I, packets, H5T_NATIVE_ULLONG);
	MEMBER(t, I, linktype, H5T_NATIVE_INT);
	MEMBER(t, I, linktype_name, str);
	MEMBER(t, I, isb_count, H5T_NATIVE_ULLONG);
	MEMBER(t, I, isb_ifdrop, H5T_NATIVE_ULLONG);
	MEMBER(t, I, isb_osdrop, H5T_NATIVE_ULLONG);
	H5Tclose(str);
	return t;
}

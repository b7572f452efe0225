/* SPDX-License-Identifier: BSD-3-Clause */
#include "fc_counter.h"

#include <stddef.h>

static const char *const ctr_names[FC_CTR_MAX] = {
	[FC_CTR_NOT_IP] = "not_ip",
	[FC_CTR_TRUNC_L2] = "trunc_l2",
	[FC_CTR_TRUNC_L3] = "trunc_l3",
	[FC_CTR_BAD_VERSION] = "bad_version",
	[FC_CTR_BAD_HDRLEN] = "bad_hdrlen",
	[FC_CTR_BAD_LINKTYPE] = "bad_linktype",
	[FC_CTR_TOO_DEEP] = "too_deep",
	[FC_CTR_TUNNEL_DEEP] = "tunnel_deep",
	[FC_CTR_TBL_FULL] = "tbl_full",
	[FC_CTR_NO_TABLE] = "no_table",
	[FC_CTR_NIC_IMISSED] = "nic_imissed",
	[FC_CTR_NIC_NOMBUF] = "nic_nombuf",
	[FC_CTR_NIC_IERRORS] = "nic_ierrors",
	[FC_CTR_BAD_TIME] = "bad_time",
	[FC_CTR_FILTERED] = "filtered",
	[FC_CTR_LATE] = "late",
};

const char *fc_ft_counter_name(unsigned id)
{
	return id < FC_CTR_MAX ? ctr_names[id] : NULL;
}

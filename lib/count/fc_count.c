/* SPDX-License-Identifier: BSD-3-Clause */
/* The cold half of staging: frames the IPv4 fast path does not take. */
#include "fc_count.h"

enum fc_parse_status fc_count_parse_slow(struct fc_count *s,
					 const uint8_t *p, uint32_t caplen,
					 uint32_t dlt)
{
	struct fc_ftkey *k = &s->k6[s->n6];
	enum fc_parse_status st = fc_parse_pkt(p, caplen, dlt, k);

	if (st != FC_PARSE_OK)
		return st;
	/* An IPv4 key the fast path left (options, a tag stack, ICMP...)
	 * still goes to the compact part, in frame order. */
	if (fc_ftkey_is_compact(k))
		fc_ftkey4_make(&s->c4[s->n4++], k);
	else
		s->n6++;
	return FC_PARSE_OK;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the packet parser. The first byte picks the link type, the
 * rest is the frame. The parser must never read past the frame (ASan) and
 * must return either a complete key or a named reason; so must the tunnel
 * walk (fc_parse_pkt_decap), which agrees with the ordinary parse on every
 * frame that is not IP, and yields a key or tunnel_deep on every one that is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t dlts[] = {
	FC_DLT_EN10MB, FC_DLT_RAW, FC_DLT_RAW_LT, FC_DLT_IPV4, FC_DLT_IPV6,
	FC_DLT_LINUX_SLL, FC_DLT_LINUX_SLL2, FC_DLT_NULL, FC_DLT_LOOP,
	FC_DLT_PPP, FC_DLT_RAW_OLD, 147 /* unsupported */,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fc_ftkey key;
	uint8_t *copy;

	if (size < 1)
		return 0;
	/* An exact-size heap copy: any overread hits ASan's redzone. */
	copy = malloc(size - 1 ? size - 1 : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	enum fc_parse_status st = fc_parse_pkt(
		copy, (uint32_t)(size - 1), dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))],
		&key);
	if (st >= FC_PARSE_STATUS_COUNT)
		abort();
	/* The fast path and the full walk must agree byte for byte. */
	{
		struct fc_ftkey full;
		enum fc_parse_status st2 = fc_parse_pkt_full(
			copy, (uint32_t)(size - 1),
			dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))], &full);

		if (st2 != st || (st == FC_PARSE_OK &&
				  memcmp(&full, &key, sizeof(key)) != 0))
			abort();
	}
	/* The compact IPv4 fast path (Ethernet only) must give exactly the
	 * compact form of the full walk's key, or decline. */
	if (dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))] == FC_DLT_EN10MB) {
		struct fc_ftkey4 c, ref;

		if (fc_parse_fast4(copy, (uint32_t)(size - 1), &c) == 0) {
			if (st != FC_PARSE_OK || !fc_ftkey_is_compact(&key))
				abort();
			fc_ftkey4_make(&ref, &key);
			if (memcmp(&c, &ref, sizeof(c)) != 0)
				abort();
			/* With the payload test: the same key; pl 0 means
			 * the total length ends within the L4 header. */
			uint32_t pl;
			struct fc_ftkey4 c2;

			if (fc_parse_fast4_pl(copy, (uint32_t)(size - 1), &c2,
					      &pl) != 0 ||
			    memcmp(&c, &c2, sizeof(c)) != 0)
				abort();
			if (pl == 0 && key.ip_len > 20 + 60)
				abort();
		}
	}
	{
		struct fc_ftkey in;
		enum fc_parse_status sd = fc_parse_pkt_decap(
			copy, (uint32_t)(size - 1),
			dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))], &in);

		if (st != FC_PARSE_OK && sd != st)
			abort();
		if (st == FC_PARSE_OK && sd != FC_PARSE_OK &&
		    sd != FC_PARSE_TUNNEL_DEEP)
			abort();
		if (sd == FC_PARSE_OK &&
		    ((in.family != 4 && in.family != 6) ||
		     in.cls >= FC_FT_CLASS_COUNT ||
		     (in.ext[0] | in.ext[1] | in.ext[2])))
			abort();
	}
	if (st == FC_PARSE_OK) {
		if (key.family != 4 && key.family != 6)
			abort();
		if (key.cls >= FC_FT_CLASS_COUNT)
			abort();
		if (key.ext[0] | key.ext[1] | key.ext[2])
			abort();
	}
	free(copy);
	return 0;
}

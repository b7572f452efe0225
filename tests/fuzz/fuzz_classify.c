/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the rules-file parser (lib/classify). Whatever the bytes,
 * the parser returns a rule set or an error naming the input, never
 * crashes or reads past the buffer; a rule set it returns has labels of
 * the allowed form and sorted port ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fc_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	struct fc_cls_rules *rs = fc_cls_rules_parse((const char *)data, size,
						     "fuzz", err, sizeof(err));

	if (rs == NULL) {
		if (strncmp(err, "fuzz", 4) != 0)
			abort();
		return 0;
	}
	for (unsigned i = 0; i < rs->n; i++) {
		const struct fc_cls_rule *r = &rs->r[i];

		if (r->label == 0 || r->label > rs->n_labels ||
		    rs->labels[r->label][0] == 0 || r->pattern[0] == 0)
			abort();
		for (uint32_t k = 1; k < r->n_ranges; k++)
			if (r->ranges[k - 1].lo > r->ranges[k].lo)
				abort();
	}
	fc_cls_rules_free(rs);
	return 0;
}

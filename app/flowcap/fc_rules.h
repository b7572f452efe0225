/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the operator may change while flowcap runs: the capture filter
 * (--filter, --filter-file). One immutable struct fc_rules is in force at
 * a time, published by one pointer (struct fc_app.rules) under liburcu's
 * QSBR flavour: the workers read it without a lock and announce a
 * quiescent state once per poll loop; the control thread builds a new set
 * on SIGHUP (fc_reload), swaps the pointer, waits for a grace period and
 * frees the old set. A reload that fails changes nothing.
 */
#ifndef FC_RULES_H
#define FC_RULES_H

#include <stdint.h>

#include "fc_classify.h"
#include "fc_filter.h"

struct fc_app;

/** One generation of the reloadable configuration. Read-only once
 *  published. */
struct fc_rules {
	uint64_t gen;          /**< 1 at start, +1 per successful reload */
	struct fc_filter *flt; /**< NULL: no filter */
	/* --classify: the rules, their database, one scratch per worker,
	 * and each rule-set label id's run-wide id (the key's label: ids
	 * stay the same across reloads, see struct fc_labels). */
	struct fc_cls_rules *cls;
	struct fc_cls_db *db;
	hs_scratch_t **scratch;
	uint16_t label_map[FC_CLS_LABELS_MAX + 1];
};

/**
 * Every label name of the run, by run-wide id (1..n; 0 is "no label"):
 * appended to by the control thread as rule sets are built, never
 * renumbered, so a key's label keeps its meaning across reloads. The
 * names of ids <= n are written before n (release); partner: the
 * collector's acquire load of n before it reads names.
 */
struct fc_labels {
	char name[FC_CLS_LABELS_MAX + 1][FC_CLS_LABEL_MAX + 1];
	_Atomic unsigned n;
};

/**
 * Check the filter (and the files behind it) before the EAL: a bad
 * expression is said with pcap's message and the expression. Returns 0 or
 * -1 (the caller exits 2).
 * Thread safety: main thread, at start-up.
 */
int fc_rules_check(struct fc_app *app);

/**
 * Build and publish the first generation, after the EAL. Returns 0 or -1
 * (said). Thread safety: main thread, before any worker starts.
 */
int fc_rules_start(struct fc_app *app);

/**
 * Re-read the filter file (or the expression), build a new generation and
 * publish it; wait for every worker to leave the old one, then free it.
 * A failure changes nothing: the error is logged with the file, and
 * reload_failed counts it. Returns 0, 1 when there is nothing to reload,
 * or -1 on failure.
 * Thread safety: one caller at a time (SIGHUP in the control thread, the
 * telemetry hook), never a worker. Blocks for one grace period.
 */
int fc_reload(struct fc_app *app);

/**
 * Free the generation in force, once no worker runs.
 * Thread safety: main thread, at shutdown.
 */
void fc_rules_fini(struct fc_app *app);

#endif /* FC_RULES_H */

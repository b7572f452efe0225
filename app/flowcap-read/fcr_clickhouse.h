/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-read --to-clickhouse: load flowtuple files into ClickHouse,
 * every interval exactly once (lib/ch). It takes the inputs main has
 * found, checked and put in time order; it prints progress and a summary,
 * and does not print records.
 */
#ifndef FCR_CLICKHOUSE_H
#define FCR_CLICKHOUSE_H

#include <stddef.h>

/**
 * Load the files at paths[0..n) into the server at url (database db, NULL
 * for the server's default). Returns the exit status: 0 when every
 * interval was loaded or found loaded before, 1 otherwise (each failure
 * named on stderr with its file, interval and the server's message).
 */
int fcr_clickhouse_load(const char *url, const char *db,
			const char *const *paths, size_t n);

#endif /* FCR_CLICKHOUSE_H */

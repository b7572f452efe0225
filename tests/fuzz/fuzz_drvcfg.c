/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: driver-config files (`flowcap --driver-config`), parsed by
 * app/flowcap/fc_drvcfg.c over DPDK's rte_cfgfile. The input is the file's
 * bytes; the parser reads a path, so they go through a temporary file.
 * Whatever the bytes: no crash, a rejected file leaves the defaults and a
 * message naming the file, and an accepted one prints (fc_drvcfg_print) in
 * a form that loads back to the same settings, as fc_drvcfg.h promises.
 * No EAL is needed; DPDK's log goes to stderr and is silenced here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_log.h>

#include "fc_drvcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const struct fc_drvcfg *a, const struct fc_drvcfg *b)
{
	return a->rx_queues == b->rx_queues && a->rx_desc == b->rx_desc &&
	       a->mbuf_count == b->mbuf_count &&
	       a->mbuf_cache == b->mbuf_cache && a->mtu == b->mtu &&
	       a->promisc == b->promisc && a->rss_hf == b->rss_hf &&
	       a->rss_key_len == b->rss_key_len &&
	       memcmp(a->rss_key, b->rss_key, sizeof(a->rss_key)) == 0 &&
	       a->rss_symmetric == b->rss_symmetric &&
	       strcmp(a->devargs, b->devargs) == 0 &&
	       a->timestamps == b->timestamps && a->burst == b->burst;
}

static int write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL)
		return -1;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64], path2[80];
	struct fc_drvcfg c, back, def;
	char err[1024], *txt = NULL;
	size_t txt_len = 0;
	FILE *m;
	int rc;

	if (path[0] == '\0') {
		const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(path, sizeof(path), "%s/fc-fuzz-drv.%d", dir, (int)getpid());
		snprintf(path2, sizeof(path2), "%s.back", path);
		rte_log_set_global_level(RTE_LOG_EMERG);
	}
	if (write_file(path, data, size) != 0)
		return 0;
	fc_drvcfg_defaults(&def);
	rc = fc_drvcfg_load(path, &c, err, sizeof(err));
	if (rc != 0) {
		/* Rejected: negative errno, the defaults, the file named. */
		if (rc > 0 || !same(&c, &def) || strstr(err, path) == NULL)
			abort();
		goto out;
	}
	if (strcmp(c.source, path) != 0)
		abort();
	/* Accepted: what it prints loads back to the same settings. */
	m = open_memstream(&txt, &txt_len);
	if (m == NULL)
		goto out;
	fc_drvcfg_print(&c, m);
	fclose(m);
	if (write_file(path2, txt, txt_len) == 0) {
		rc = fc_drvcfg_load(path2, &back, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "printed settings rejected: %s\n%s", err,
				txt);
			abort();
		}
		if (!same(&c, &back)) {
			fprintf(stderr, "printed settings differ:\n%s", txt);
			abort();
		}
		unlink(path2);
	}
	free(txt);
out:
	unlink(path);
	return 0;
}

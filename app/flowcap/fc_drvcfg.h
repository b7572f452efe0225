/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-NIC driver settings (`flowcap --driver-config FILE`): an INI file read
 * with DPDK's rte_cfgfile, validated completely before anything touches a
 * device. Every key is checked against its range or list of choices and
 * unknown sections or keys are errors, so a typo stops flowcap at start-up
 * with a message naming the file, line, key and what is accepted. This module
 * only parses and prints; applying the settings to a port (and masking them
 * against what the device can do) is the port set-up's job. It needs no EAL.
 */
#ifndef FC_DRVCFG_H
#define FC_DRVCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Longest RSS key any PMD takes (i40e, ice: 52 bytes; most others 40). */
#define FC_DRVCFG_RSS_KEY_MAX 52
/** Room for `devargs` (rte_cfgfile keeps values shorter than 256 bytes). */
#define FC_DRVCFG_DEVARGS_MAX 256
#define FC_DRVCFG_SOURCE_MAX 512

/* Bounds, shared by the parser, its messages and the documentation. */
#define FC_DRVCFG_RXQ_MAX 1024        /**< RTE_MAX_QUEUES_PER_PORT */
#define FC_DRVCFG_DESC_MIN 64
#define FC_DRVCFG_DESC_MAX 32768
#define FC_DRVCFG_MBUF_MIN 1024
#define FC_DRVCFG_MBUF_MAX (64u << 20)
#define FC_DRVCFG_CACHE_MAX 512       /**< RTE_MEMPOOL_CACHE_MAX_SIZE */
#define FC_DRVCFG_MTU_MIN 68          /**< RFC 791 minimum */
#define FC_DRVCFG_MTU_MAX 9702        /**< i40e/ice/mlx5 jumbo limit */
#define FC_DRVCFG_BURST_MIN 1
#define FC_DRVCFG_BURST_MAX 512

/** Where a packet's timestamp comes from. */
enum fc_drvcfg_ts {
	FC_DRVCFG_TS_TSC, /**< software: TSC read once per burst */
	FC_DRVCFG_TS_HW,  /**< the PMD's RX timestamp dynfield, if offered */
};

/** How both directions of a conversation are made to hash alike. */
enum fc_drvcfg_sym {
	FC_DRVCFG_SYM_NO,   /**< plain Toeplitz with the given key */
	FC_DRVCFG_SYM_KEY,  /**< Toeplitz with a 16-bit periodic key */
	FC_DRVCFG_SYM_FUNC, /**< RTE_ETH_HASH_FUNCTION_SYMMETRIC_TOEPLITZ,
			     *   falling back to the key where unsupported */
};

/**
 * Driver settings of one file. Zero in a count means "flowcap decides"
 * (the defaults below); the port set-up still clamps every value to what the
 * device reports (rte_eth_dev_info) and says so.
 */
struct fc_drvcfg {
	char source[FC_DRVCFG_SOURCE_MAX]; /**< file, or "(defaults)" */
	uint16_t rx_queues;  /**< 0 = one per worker */
	uint16_t rx_desc;    /**< RX ring size, power of two */
	uint32_t mbuf_count; /**< 0 = sized from queues x descriptors */
	uint16_t mbuf_cache; /**< per-lcore mempool cache */
	uint16_t mtu;        /**< 0 = leave the device's MTU */
	bool promisc;
	uint64_t rss_hf;     /**< RTE_ETH_RSS_* bits; 0 = no RSS */
	uint8_t rss_key[FC_DRVCFG_RSS_KEY_MAX];
	uint8_t rss_key_len; /**< 0 = default key, cut to the device's size */
	enum fc_drvcfg_sym rss_symmetric;
	char devargs[FC_DRVCFG_DEVARGS_MAX]; /**< "" = none */
	enum fc_drvcfg_ts timestamps;
	uint16_t burst;      /**< RX burst size */
};

/**
 * Fill @p c with the built-in defaults (what flowcap does without
 * --driver-config): one queue per worker, 1024 descriptors, symmetric RSS
 * over IP/TCP/UDP/SCTP with the 0x6d5a key, promiscuous, bursts of 32.
 *
 * Thread safety: touches only @p c. Not hot path.
 */
void fc_drvcfg_defaults(struct fc_drvcfg *c);

/**
 * Load and validate a driver-config file over the defaults.
 *
 * Only a `[port]` section is accepted; keys left out keep their defaults, an
 * empty file gives the defaults. On error @p c is left with the defaults and
 * @p err holds one line naming the file (and line), section, key, the bad
 * value and what would be accepted.
 *
 * @param path   file to read
 * @param c      filled on success (defaults on error)
 * @param err    message buffer, may be NULL
 * @param errlen size of @p err
 * @return 0, -ENOENT/-EACCES/... when the file cannot be read, -EINVAL for
 *         bad content.
 *
 * Thread safety: none needed (start-up only; rte_cfgfile keeps no global
 * state). Not hot path; does not need the EAL.
 */
int fc_drvcfg_load(const char *path, struct fc_drvcfg *c, char *err,
		   size_t errlen);

/**
 * Print the settings as `key = value` lines (the start-up log), in a form
 * fc_drvcfg_load() accepts back.
 *
 * Thread safety: reads @p c only. Not hot path.
 */
void fc_drvcfg_print(const struct fc_drvcfg *c, FILE *f);

/**
 * Format RSS hash bits as the names fc_drvcfg_load() accepts (the smallest
 * set of names that covers them; leftover bits as hex).
 *
 * @return @p buf
 *
 * Thread safety: any thread; pure function (writes only @p buf).
 */
const char *fc_drvcfg_rss_hf_str(uint64_t hf, char *buf, size_t len);

#endif /* FC_DRVCFG_H */

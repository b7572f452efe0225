/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload classification rules: the rules file (one rule a line: label,
 * protocol, ports, /pattern/flags), its parser, and a Hyperscan block-mode
 * database of every pattern with the scan that gives a packet its label:
 * the first rule in file order that applies to the packet's protocol and
 * ports and whose pattern matches its payload. It does not find the
 * payload in a frame (the caller gives protocol, ports and payload bytes)
 * and knows neither DPDK nor the flow table.
 *
 * Design of the scan: one database holds every pattern, each compiled with
 * HS_FLAG_SINGLEMATCH and its rule's index as id, so a scan reports each
 * matching rule once; the callback keeps the smallest index among the
 * matches whose rule applies to the packet's protocol and ports (a cheap
 * check on the rule's precomputed protocol mask and port ranges). The
 * label of that rule is the answer. Rules that cannot apply to a packet
 * still run in the automaton; compiling one database per protocol and
 * port set would avoid that at the price of many databases and scratch
 * spaces.
 *
 * Thread safety: a parsed rule set and a database are read-only once
 * made: any number of threads may scan one database at once, each with
 * its own scratch (fc_cls_scratch_alloc).
 */
#ifndef FC_CLASSIFY_H
#define FC_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include <hs.h>

/** Longest label, characters (without the NUL). */
#define FC_CLS_LABEL_MAX 31
/** Most distinct labels in a rule set (ids 1..FC_CLS_LABELS_MAX; 0 is
 *  "no label"): a label id takes 12 bits of the key. */
#define FC_CLS_LABELS_MAX 4095
/** Most rules in a file. */
#define FC_CLS_RULES_MAX 100000
/** Largest rules file, bytes. */
#define FC_CLS_FILE_MAX (16u << 20)

/** Protocol mask bits of a rule. */
#define FC_CLS_P_TCP 0x01
#define FC_CLS_P_UDP 0x02
#define FC_CLS_P_SCTP 0x04
#define FC_CLS_P_ICMP 0x08
#define FC_CLS_P_ICMP6 0x10

struct fc_cls_range {
	uint16_t lo, hi;
};

/** One rule, as parsed. */
struct fc_cls_rule {
	uint16_t label;       /**< label id, 1.. (fc_cls_rules.labels) */
	uint8_t protos;       /**< FC_CLS_P_* the rule applies to */
	uint8_t any_port;     /**< ports "any" */
	uint32_t n_ranges;
	struct fc_cls_range *ranges; /**< sorted by lo */
	char *pattern;        /**< between the slashes */
	unsigned hs_flags;    /**< HS_FLAG_* of its i, s, m */
	unsigned line;        /**< line in the file */
};

/** A parsed rules file. */
struct fc_cls_rules {
	struct fc_cls_rule *r;
	unsigned n;
	/** labels[id] for id 1..n_labels; labels[0] is "". */
	char (*labels)[FC_CLS_LABEL_MAX + 1];
	unsigned n_labels;
	uint64_t hash;        /**< FNV-1a 64 of the file's bytes: its identity */
	char *name;           /**< file name, for messages */
};

/**
 * Parse the text of a rules file (name: for messages). Returns the rule
 * set, or NULL with "NAME:LINE: what is wrong; the fix" in err.
 * Thread safety: any thread. Not hot path.
 */
struct fc_cls_rules *fc_cls_rules_parse(const char *text, size_t len,
					const char *name, char *err,
					size_t errlen);

/**
 * Read and parse a rules file: at most FC_CLS_FILE_MAX bytes of text.
 * Returns the rule set or NULL with the reason, naming the file, in err.
 * Thread safety: any thread. Not hot path.
 */
struct fc_cls_rules *fc_cls_rules_load(const char *path, char *err,
				       size_t errlen);

/**
 * Free a rule set (NULL: nothing).
 * Thread safety: once nobody uses it.
 */
void fc_cls_rules_free(struct fc_cls_rules *rs);

/** A compiled rule set: its Hyperscan database and what the scan needs. */
struct fc_cls_db;

/**
 * Compile every pattern of rs into one block-mode database. A pattern
 * Hyperscan refuses: NULL with "NAME:LINE: pattern /.../: Hyperscan's
 * message" in err. The database keeps a reference to rs (which must
 * outlive it).
 * Thread safety: any thread. Not hot path (seconds for 10,000 rules).
 */
struct fc_cls_db *fc_cls_db_create(const struct fc_cls_rules *rs, char *err,
				   size_t errlen);

/**
 * fc_cls_db_create through a cache of serialised databases in directory
 * dir (NULL: no cache, fc_cls_db_create). The file is
 * dir/<SHA-256>.hsdb, the digest of what the compile depends on (every
 * pattern and its flags, in order, and Hyperscan's version); Hyperscan
 * itself refuses a file made for another version or CPU. Found and
 * accepted: loaded, no compile. Otherwise compiled, then written
 * atomically (a temporary file, renamed). A cache file that cannot be
 * read or used, or written, never fails the call: what happened is said
 * in note (empty when the database came from the cache or went into it
 * as expected; then *hit says which). Errors of the rules themselves: as
 * fc_cls_db_create.
 * Thread safety: any thread; two processes may share a directory (each
 * writes its own temporary file; the rename is atomic). Not hot path.
 */
struct fc_cls_db *fc_cls_db_create_cached(const struct fc_cls_rules *rs,
					  const char *dir, int *hit,
					  char *note, size_t notelen,
					  char *err, size_t errlen);

/**
 * Free a database (NULL: nothing).
 * Thread safety: once no scan runs on it.
 */
void fc_cls_db_free(struct fc_cls_db *db);

/**
 * A scratch space for scans of db: one per thread. NULL on failure.
 * Thread safety: any thread. Not hot path.
 */
hs_scratch_t *fc_cls_scratch_alloc(const struct fc_cls_db *db);

/**
 * The label id of a packet: the first rule (file order) that applies to
 * proto (IP protocol number) and ports and whose pattern matches the len
 * bytes of payload; 0 when none does, or when len is 0.
 * Hot path (for a packet with payload).
 * Thread safety: any thread; s is this thread's scratch for db.
 */
unsigned fc_cls_match(const struct fc_cls_db *db, hs_scratch_t *s,
		      uint8_t proto, uint16_t sport, uint16_t dport,
		      const uint8_t *payload, uint32_t len);

/**
 * Does rule r apply to a packet of protocol proto with these ports?
 * Thread safety: any thread; pure function.
 */
int fc_cls_rule_applies(const struct fc_cls_rule *r, uint8_t proto,
			uint16_t sport, uint16_t dport);

#endif /* FC_CLASSIFY_H */

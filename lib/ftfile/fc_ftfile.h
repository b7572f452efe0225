/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flowtuple file (.ft.zst): writer and reader. A file is a header, a
 * sequence of self-describing checksummed blocks (per interval: its
 * accounting, then zstd-compressed fixed-width records), and a trailer;
 * since version 2.0 it is also a valid zstd stream (everything but the
 * records' zstd frames sits in skippable frames). The reader reads
 * versions 1.x and 2.x. The
 * writer creates files atomically (.tmp, fsync, rename, fsync dir). The
 * reader validates every length and checksum and reports the first problem
 * with its byte offset. The normative byte layout is doc/file-format.md.
 * This module does not merge or sort: it stores what it is given, in order.
 *
 * Thread safety, as a rule: one thread per writer and one per reader (a
 * writer or reader is an object with no lock); distinct writers and
 * readers are independent, in any threads. The module's only global
 * state is the CRC table (filled by a constructor before main) and the
 * test switch of fc_ft_test_fail_dirsync.
 */
#ifndef FC_FTFILE_H
#define FC_FTFILE_H

#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "fc_counter.h"
#include "fc_tuple.h"

/** Status codes. Stable: values are part of the API. */
enum fc_ft_status {
	FC_FT_OK = 0,
	FC_FT_E_IO = -1,        /**< read/write/open failed (errno kept) */
	FC_FT_E_MAGIC = -2,     /**< not a flowcap file */
	FC_FT_E_VERSION = -3,   /**< major version this reader cannot read */
	FC_FT_E_TRUNCATED = -4, /**< file ends inside a structure */
	FC_FT_E_CHECKSUM = -5,  /**< a block or trailer checksum mismatch */
	FC_FT_E_CORRUPT = -6,   /**< a length or field value is impossible */
	FC_FT_E_ZSTD = -7,      /**< zstd (de)compression failed */
	FC_FT_E_NOMEM = -8,
	FC_FT_E_INVAL = -9,     /**< bad argument from the caller */
	FC_FT_E_EXISTS = -10,   /**< final or .tmp name already exists */
	FC_FT_E_NOSPACE = -11,  /**< disk full (ENOSPC) */
	/** fc_ft_writer_close only: the file is complete under its final
	 *  name, but its directory could not be fsynced, so the name may
	 *  not survive a power loss. */
	FC_FT_E_DIRSYNC = -12,
	/** A system call of the writer failed with errno e (any other than
	 *  the ones named above): the status is FC_FT_E_SYS - e, so the
	 *  cause travels with the status (fc_ft_strerror gives its text,
	 *  fc_ft_status_errno gives e back). */
	FC_FT_E_SYS = -4096,
};

/** Status of a system call that failed with errno e (e > 0). */
#define FC_FT_E_ERRNO(e) (FC_FT_E_SYS - (e))

/**
 * The errno a status carries (FC_FT_E_ERRNO), or 0 if it carries none.
 * Thread safety: any thread; pure function.
 */
static inline int fc_ft_status_errno(int status)
{
	return status < FC_FT_E_SYS ? FC_FT_E_SYS - status : 0;
}

/**
 * Text for a status (never NULL); strerror(e) for FC_FT_E_ERRNO(e).
 * Thread safety: any thread for the module's own statuses (static
 * strings); an errno's text is strerror(3)'s, which another thread's
 * strerror may overwrite for an unknown errno: copy it before sharing.
 */
const char *fc_ft_strerror(int status);

/** Format version this library writes. */
#define FC_FT_VERSION_MAJOR 2
#define FC_FT_VERSION_MINOR 2 /**< 2.1: the header names its writer;
				    2.2: optional label and VLAN fields, the
				    label names per interval */
/** Oldest major version this library reads (1.x: no zstd framing). */
#define FC_FT_VERSION_MAJOR_OLDEST 1

/** Record kinds. */
#define FC_FT_KIND_FLOWTUPLE 1

/* Named counters of one interval: enum fc_ft_counter, fc_counter.h. */

/** Interval flags. */
#define FC_FT_IV_PARTIAL 0x1  /**< cut short by shutdown (SIGINT/SIGTERM) */
#define FC_FT_IV_LATE 0x2     /**< some worker handed in late (backlog) */
#define FC_FT_IV_LAST 0x4     /**< last interval of the run (ends at last packet) */
#define FC_FT_IV_GAP 0x8      /**< a run of empty intervals written as one:
				   start..end spans several lengths */
#define FC_FT_IV_RULES_CHANGED 0x10 /**< the classification rules were
				   reloaded during the interval (2.2) */

/** One interval's metadata and accounting. */
struct fc_ft_interval {
	uint32_t index;     /**< interval number since the run began (0-based) */
	uint32_t flags;     /**< FC_FT_IV_* */
	uint64_t start;     /**< first second, inclusive (Unix time) */
	uint64_t end;       /**< last second, inclusive */
	uint64_t rx_pkts;   /**< packets received (incl. NIC drops) */
	uint64_t rec_pkts;  /**< packets counted in this interval's records */
	uint64_t n_records; /**< number of records */
	uint64_t ctr[FC_CTR_MAX]; /**< indexed by enum fc_ft_counter */
};

/** File-level metadata (the header). */
struct fc_ft_file_info {
	uint16_t version_major;
	uint16_t version_minor;
	uint16_t kind;          /**< FC_FT_KIND_* */
	uint32_t interval_len;  /**< seconds */
	uint32_t flags;         /**< FC_FT_F_* */
	uint64_t created;       /**< Unix time the file was opened */
	char monitor[256];      /**< monitor name, NUL-terminated */
	/** The program that wrote the file and its version, one word of
	 *  printable ASCII (0x21..0x7E), at most FC_FT_WRITER_MAX bytes,
	 *  NUL-terminated: "flowcap/0.1.0+v0.1.0-3-g1a2b3c4" (format 2.1).
	 *  "" when the file does not say (files of 1.x and 2.0, or a
	 *  writer that left it empty). */
	char writer[256];
	/** Optional key fields the records carry (FC_FT_OPT_*): given to
	 *  the writer, reported by the reader (2.2; 0 in older files). */
	uint32_t opt_fields;
	/** With FC_FT_F_ANON: the fingerprint of the anonymisation key
	 *  (format 2.2; lib/anon's fc_anon_fingerprint), never the key. */
	uint8_t anon_fp[8];
};

#define FC_FT_OPT_LABEL 0x1 /**< payload label id (names: per interval) */
#define FC_FT_OPT_VLAN 0x2  /**< outermost VLAN ID */
/** Most label names an interval names (ids 1..this). */
#define FC_FT_LABELS_MAX 4095

/** Longest writer name a header stores. */
#define FC_FT_WRITER_MAX 255

#define FC_FT_F_ALIGNED 0x1 /**< intervals aligned to multiples of the length */
/** Addresses are anonymised (Crypto-PAn) before they were written; the
 *  header carries the key's fingerprint (anon_fp). The writer needs a
 *  writer name with it, and writes such a file as version 2.2. */
#define FC_FT_F_ANON 0x2

/* struct fc_ft_record (a key and its packet count) is defined in fc_tuple.h:
 * merge produces it and this module stores it, without knowing each other. */

struct fc_ft_writer;
struct fc_ft_reader;

/**
 * Create path + ".tmp" (O_EXCL, O_NOFOLLOW, mode 0640) and write the header.
 * info->version_* are ignored (the file is FC_FT_VERSION_MAJOR.MINOR);
 * info->writer may be "" (the file then does not name its writer); one
 * longer than FC_FT_WRITER_MAX or with a byte outside 0x21..0x7E is
 * FC_FT_E_INVAL. Returns NULL and sets *status on failure. Not hot path.
 * Thread safety: any thread; the new writer then belongs to one thread at
 * a time (fc_ft_writer_* is one thread per writer).
 */
struct fc_ft_writer *fc_ft_writer_open(const char *path,
				       const struct fc_ft_file_info *info,
				       int *status);

/**
 * A writer's buffers (about 8 MB once it has written records) and its
 * zstd context, kept from one file to the next: a writer opened with
 * fc_ft_writer_open_cached takes them from the cache, and gives them back
 * when it is closed or aborted, so a program that writes one file an
 * interval allocates (and faults in) that memory once. The cache holds
 * one set; a second writer open at the same time has its own, freed with
 * it. Not hot path.
 * Thread safety: none; a cache and the writers opened with it are used by
 * one thread at a time. Distinct caches are independent.
 */
struct fc_ft_wcache;

/** An empty cache, or NULL (out of memory). */
struct fc_ft_wcache *fc_ft_wcache_create(void);

/**
 * Free the cache and the set it holds (NULL is a no-op). Every writer
 * opened with it must be closed or aborted first.
 */
void fc_ft_wcache_free(struct fc_ft_wcache *c);

/**
 * fc_ft_writer_open with the buffers of cache c (NULL: none, as
 * fc_ft_writer_open). c must outlive the writer.
 * Thread safety: c's thread; see fc_ft_wcache.
 */
struct fc_ft_writer *fc_ft_writer_open_cached(const char *path,
					      const struct fc_ft_file_info *info,
					      struct fc_ft_wcache *c,
					      int *status);

/**
 * Append one interval: its accounting and n records (already in the order
 * they should be stored; the collector passes them sorted). n may be 0.
 * iv->n_records is set from n. Returns FC_FT_OK or a status.
 * Thread safety: none; one thread per writer. Not hot path (collector).
 */
int fc_ft_writer_add_interval(struct fc_ft_writer *w,
			      const struct fc_ft_interval *iv,
			      const struct fc_ft_record *recs, uint64_t n);

/**
 * An interval's records in slices, for a caller that makes them a few at
 * a time (the merge, fc_merge_tables_each): each slice is transposed
 * into the block being built while it is still in the caches, and every
 * full block is compressed; nothing of the interval reaches the file
 * before fc_ft_writer_end_interval, which writes its accounting and then
 * its blocks. The file is byte for byte what fc_ft_writer_add_interval
 * writes for the same records, however they are sliced. A key the format
 * cannot store gives FC_FT_E_INVAL and drops what was added of the
 * interval (end_interval then returns FC_FT_E_INVAL too and writes
 * nothing). The interval's compressed blocks are held in memory until
 * its end (about 12 bytes a record for random keys), in a buffer that is
 * kept (and cached with fc_ft_wcache).
 * Thread safety: none; one thread per writer. Not hot path (collector).
 */
int fc_ft_writer_add_records(struct fc_ft_writer *w,
			     const struct fc_ft_record *recs, uint64_t n);

/**
 * End the interval whose records were added: write its accounting (iv;
 * iv->n_records is ignored: the number added is written) and its
 * records. Returns FC_FT_OK or a status; the next records begin the next
 * interval in either case.
 * Thread safety: none; one thread per writer.
 */
int fc_ft_writer_end_interval(struct fc_ft_writer *w,
			      const struct fc_ft_interval *iv);

/**
 * Drop the records added since the last interval (a caller whose own
 * work failed half way). NULL is a no-op.
 * Thread safety: none; one thread per writer.
 */
void fc_ft_writer_cancel_interval(struct fc_ft_writer *w);

/**
 * Write the trailer, fsync, rename .tmp to the final name, fsync the
 * directory, free w. Returns FC_FT_OK; FC_FT_E_DIRSYNC when everything
 * but the directory's fsync succeeded (the file is complete under its
 * name; errno says why the fsync failed); any other status when the file
 * was not written (the .tmp is removed). w is freed in every case.
 * Thread safety: none; one thread per writer, which then is gone.
 */
int fc_ft_writer_close(struct fc_ft_writer *w);

/**
 * Fault injection for tests: while on, every directory fsync of
 * fc_ft_writer_close fails with EIO. Off by default.
 * Thread safety: any thread; process-wide (a seq_cst atomic flag, read by
 * every writer's close): set it before the writers it is meant for start.
 */
void fc_ft_test_fail_dirsync(bool on);

/**
 * Remove the .tmp and free w (free(NULL)-like: NULL is a no-op).
 * Thread safety: none; one thread per writer, which then is gone.
 */
void fc_ft_writer_abort(struct fc_ft_writer *w);

/** Default zstd level of a new writer. */
#define FC_FT_LEVEL_DEFAULT 3

/** Most records in one RECORDS block; longer intervals take several. */
#define FC_FT_BLOCK_RECORDS 65536

/**
 * Set the zstd level (1..ZSTD_maxCLevel(); negative levels are zstd's fast
 * modes) for the blocks written from now on. Returns FC_FT_OK or
 * FC_FT_E_INVAL.
 * Thread safety: none; one thread per writer. Not hot path.
 */
int fc_ft_writer_set_level(struct fc_ft_writer *w, int level);

/**
 * Give the file being written (its .tmp, so the final name has them from
 * the moment it appears) a group and permissions: fchown to gid unless it
 * is (gid_t)-1, then fchmod to mode unless it is negative. Without this
 * call a file is 0640 (less the umask), in the writer's group. Changing
 * the group needs membership of it or CAP_CHOWN.
 * Returns FC_FT_OK or FC_FT_E_ERRNO(e) (EPERM, ...). Not hot path.
 * Thread safety: none; one thread per writer.
 */
int fc_ft_writer_set_perm(struct fc_ft_writer *w, gid_t gid, int mode);

/**
 * Bytes written so far (header and blocks), for size-based decisions.
 * Thread safety: the writer's thread; reads only.
 */
uint64_t fc_ft_writer_bytes(const struct fc_ft_writer *w);

/**
 * Open a file and validate its header. NULL and *status on failure
 * (FC_FT_E_IO: errno says why).
 * Thread safety: any thread; the new reader then belongs to one thread at
 * a time (fc_ft_reader_* is one thread per reader).
 */
struct fc_ft_reader *fc_ft_reader_open(const char *path, int *status);

/** What fc_ft_reader_open_diag found, for the caller's message. */
struct fc_ft_open_diag {
	uint64_t err_off;       /**< byte offset of the problem */
	int sys_errno;          /**< FC_FT_E_IO: errno of the failed call */
	/** The header's version once its checksum is verified, else 0.0:
	 *  with FC_FT_E_VERSION, a major above FC_FT_VERSION_MAJOR is a
	 *  newer format; a supported one means an unknown kind or field. */
	uint16_t version_major;
	uint16_t version_minor;
};

/**
 * fc_ft_reader_open, filling *d (may be NULL) on success and failure.
 * Thread safety: any thread; one thread per reader afterwards; distinct
 * readers are independent.
 */
struct fc_ft_reader *fc_ft_reader_open_diag(const char *path, int *status,
					    struct fc_ft_open_diag *d);

/**
 * Header of an open file.
 * Thread safety: the reader's thread; valid until fc_ft_reader_close.
 */
const struct fc_ft_file_info *fc_ft_reader_info(const struct fc_ft_reader *r);

/**
 * Advance to the next interval and fill *iv. Skips unread records of the
 * current one. Returns 1 (got one), 0 (clean end: trailer seen and
 * verified) or a negative status.
 * Thread safety: none; one thread per reader.
 */
int fc_ft_reader_next_interval(struct fc_ft_reader *r,
			       struct fc_ft_interval *iv);

/**
 * Next record of the current interval. Returns 1, 0 (interval done) or a
 * negative status.
 * Thread safety: none; one thread per reader.
 */
int fc_ft_reader_next_record(struct fc_ft_reader *r, struct fc_ft_record *rec);

/**
 * The next records of the current interval, as many as are decoded at
 * once (a chunk of a block: a few hundred, at most FC_FT_BLOCK_RECORDS,
 * just decoded, so still in cache): *recs points into the reader, valid
 * until the next call on r. Returns their number (> 0), 0
 * (interval done) or a negative status. Mixes with
 * fc_ft_reader_next_record: every record is returned once. For readers
 * that look at every record: no copy and no call per record.
 * Thread safety: none; one thread per reader. Hot path.
 */
int fc_ft_reader_next_block(struct fc_ft_reader *r,
			    const struct fc_ft_record **recs);

/** Field ids of the format's field descriptors (doc/file-format.md),
 *  for fc_ft_reader_fields: bit (1 << id) of its mask. */
enum fc_ft_field_id {
	FC_FT_FID_FAMILY = 1,
	FC_FT_FID_CLASS = 2,
	FC_FT_FID_SRC_IP = 3,
	FC_FT_FID_DST_IP = 4,
	FC_FT_FID_SRC_PORT = 5,
	FC_FT_FID_DST_PORT = 6,
	FC_FT_FID_PROTO = 7,
	FC_FT_FID_TTL = 8,
	FC_FT_FID_TCP_FLAGS = 9,
	FC_FT_FID_IP_LEN = 10,
	FC_FT_FID_PACKETS = 11,
	FC_FT_FID_LABEL = 12,
	FC_FT_FID_VLAN = 13,
};

/**
 * Decode only the fields whose bit (1 << FC_FT_FID_*) is set in want; the
 * others read as 0 in the records (a column store's projection: a query
 * that looks at three fields does not pay for eleven). The family and
 * the packet count are always decoded. Checksums and the block structure
 * are checked as before; the values of a column not decoded are not.
 * Default: every field. Only before the first records are read (a
 * delta-coded column cannot start in the middle): FC_FT_OK, or
 * FC_FT_E_INVAL after that.
 * Thread safety: the reader's thread.
 */
int fc_ft_reader_fields(struct fc_ft_reader *r, uint64_t want);

/**
 * Name the labels of the next interval written (format 2.2): names[i-1]
 * is label id i's name (1..31 characters of a-z 0-9 _ . -), n at most
 * FC_FT_LABELS_MAX; hash is the rule set's identity. Written ahead of the
 * interval, in a block older readers skip. Returns FC_FT_OK or an error.
 * Thread safety: the writer's thread.
 */
int fc_ft_writer_set_labels(struct fc_ft_writer *w, uint64_t hash,
			    const char (*names)[32], unsigned n);

/**
 * The name of label id (1..) in the interval last returned by
 * fc_ft_reader_next_interval; "" for 0, NULL for an id the interval
 * does not name (or a file without labels).
 * Thread safety: the reader's thread.
 */
const char *fc_ft_reader_label(const struct fc_ft_reader *r, unsigned id);

/**
 * The rule set identity (hash) of that interval's labels; 0 when it has
 * none. Thread safety: the reader's thread.
 */
uint64_t fc_ft_reader_rules_hash(const struct fc_ft_reader *r);

/**
 * Byte offset of the structure the last error was found in.
 * Thread safety: the reader's thread; reads only.
 */
uint64_t fc_ft_reader_error_offset(const struct fc_ft_reader *r);

/**
 * Close and free (NULL is a no-op).
 * Thread safety: none; one thread per reader, which then is gone.
 */
void fc_ft_reader_close(struct fc_ft_reader *r);

/**
 * Byte offset of the next unread byte: after a clean end, the file size;
 * after FC_FT_E_TRUNCATED, where the last complete block ended.
 * Thread safety: the reader's thread; reads only.
 */
uint64_t fc_ft_reader_offset(const struct fc_ft_reader *r);

/**
 * CRC32C (Castagnoli, reflected, as iSCSI and ext4) of n bytes, continuing
 * from crc (start with 0). Uses the SSE4.2 instruction when built for it.
 * Thread safety: any thread; pure function.
 */
uint32_t fc_ft_crc32c(uint32_t crc, const void *p, size_t n);

/**
 * Table-driven CRC32C, same result; kept public so tests compare both.
 * Thread safety: any thread; pure function (the table is filled by a
 * constructor before main and only read after).
 */
uint32_t fc_ft_crc32c_sw(uint32_t crc, const void *p, size_t n);

#endif /* FC_FTFILE_H */

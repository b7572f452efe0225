/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Trace reader (see fc_trace.h): pcap through libpcap, pcapng through
 * fc_pcapng, compressed files through fc_tracez. The first bytes decide:
 * a compression's magic, then (of the decompressed bytes) pcap or pcapng.
 * On a pipe or a decompressed stream the bytes looked at are replayed to
 * the chosen reader through a small cookie stream. Only a plain pcap in a
 * regular file is mapped and read in place; everything else is a stream.
 */
#include "fc_trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc_common.h"
#include "fc_parse.h"
#include "fc_pcapng.h"
#include "fc_tracez.h"

/* libpcap's largest snapshot length: a record claiming more is corrupt. */
#define PCAP_MAX_CAPLEN 262144u

struct fc_trace {
	/* Classic pcap in a regular file: mapped and walked in place, no
	 * copy and no call per packet (libpcap copies every packet twice
	 * through stdio). */
	const uint8_t *map;
	size_t map_len, pos;
	size_t populated; /* map bytes whose page tables are filled */
	size_t fetched;   /* map bytes prefetched into the cache */
	int swap, nsec;
	pcap_t *pc;
	struct fc_pcapng *ng;
	FILE *f;       /* the stream the reader reads (ours to close) */
	FILE *under;   /* under a prefix stream (ours to close) */
	struct fc_tracez *z; /* decompressor of under (freed with it) */
	enum fc_tracez_kind zkind;
	char *name;
	/* fc_trace_peek on a stream: the packet (or end, or error) that
	 * fc_trace_next returns next. */
	int peeked;          /* 0 none, else the result + 2 */
	struct fc_trace_pkt peek_pkt;
	char *peek_err;
	uint32_t dlt;
	uint64_t count;
	uint64_t last_ts;
};

/* A stream that returns pre[] first, then the rest of under. */
struct prefix {
	FILE *under;
	int fd; /* under's descriptor when nothing is buffered in it, or -1 */
	uint8_t pre[FC_TRACEZ_MAGIC];
	size_t n, pos;
};

static ssize_t prefix_read(void *c, char *buf, size_t size)
{
	struct prefix *p = c;
	size_t n = 0;

	while (p->pos < p->n && n < size)
		buf[n++] = (char)p->pre[p->pos++];
	if (n == 0 && p->fd >= 0) {
		/* A pipe: what is there now, as read(2) gives it, not a
		 * full buffer. A packet written into the pipe is read
		 * while the writer waits for more (tcpdump -w - | flowcap
		 * --read -), and a reload asked for meanwhile comes
		 * between the packets before and after it. */
		ssize_t r;

		do
			r = read(p->fd, buf, size);
		while (r < 0 && errno == EINTR);
		return r;
	}
	if (n < size && p->fd < 0)
		n += fread(buf + n, 1, size - n, p->under);
	/* A failed read below (a truncated compressed file) must not look
	 * like the end of the trace. */
	if (n == 0 && ferror(p->under))
		return -1;
	return (ssize_t)n;
}

static int prefix_close(void *c)
{
	free(c);
	return 0;
}

static FILE *prefixed(FILE *under, int fd, const uint8_t *pre, size_t n)
{
	cookie_io_functions_t io = {.read = prefix_read, .close = prefix_close};
	struct prefix *p = calloc(1, sizeof(*p));
	FILE *f;

	if (p == NULL)
		return NULL;
	p->under = under;
	p->fd = fd;
	memcpy(p->pre, pre, n);
	p->n = n;
	f = fopencookie(p, "r", io);
	if (f == NULL)
		free(p);
	return f;
}

static void fail(char *err, size_t errlen, const char *path, const char *why);

static uint32_t rd32(const struct fc_trace *t, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return t->swap ? __builtin_bswap32(v) : v;
}

/*
 * Map a classic pcap file. Returns 0 when t now reads from the map, 1 when
 * the file is not one (pcapng, or it cannot be mapped: the stream readers
 * take it), -1 with err set when it is a pcap whose header is unusable.
 */
static int map_pcap(struct fc_trace *t, const uint8_t *magic, char *err,
		    size_t errlen)
{
	uint32_t m;
	struct stat st;
	void *p;

	err[0] = '\0';
	memcpy(&m, magic, 4);
	switch (m) {
	case 0xa1b2c3d4: t->swap = 0; t->nsec = 0; break;
	case 0xa1b23c4d: t->swap = 0; t->nsec = 1; break;
	case 0xd4c3b2a1: t->swap = 1; t->nsec = 0; break;
	case 0x4d3cb2a1: t->swap = 1; t->nsec = 1; break;
	default: return 1;
	}
	if (fstat(fileno(t->f), &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size < 24)
		return 1;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE,
		 fileno(t->f), 0);
	if (p == MAP_FAILED)
		return 1;
	(void)madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	t->map = p;
	t->map_len = (size_t)st.st_size;
	t->pos = 24;
	/* The upper bits of the link-type field carry FCS information. */
	t->dlt = rd32(t, t->map + 20) & 0x03ffffff;
	/* libpcap maps LINKTYPE_RAW (101) to DLT_RAW; the parser takes
	 * both, so the file's value stands. */
	if (!fc_parse_dlt_supported(t->dlt)) {
		snprintf(err, errlen,
			 "trace '%s': link type %u is not supported; "
			 "supported: Ethernet, raw IPv4/IPv6, Linux SLL/SLL2, "
			 "BSD null/loopback, PPP",
			 t->name, t->dlt);
		return -1;
	}
	return 0;
}

/*
 * Before the record at pos is read. Fill the page tables 8 MB at a time,
 * ahead of the reader: one call instead of a fault per 4 KB page (advice
 * only). Records chain by their lengths, so the next header's address is
 * known only once this one is read: a miss per packet, unless the bytes
 * ahead are already on their way. The file is sequential: keep 8 KB ahead
 * in flight, into every cache level (the worker reads the headers next; a
 * non-temporal hint costs ~10% more CPU on a 10M-packet IMIX trace).
 */
static inline void map_ahead(struct fc_trace *t, size_t pos)
{
	if (FC_UNLIKELY(pos + (4u << 20) > t->populated &&
			t->populated < t->map_len)) {
		size_t from = t->populated & ~(size_t)4095;
		size_t len = FC_MIN((size_t)8 << 20, t->map_len - from);

#ifdef MADV_POPULATE_READ
		(void)madvise((void *)(t->map + from), len, MADV_POPULATE_READ);
#endif
		t->populated = from + len;
	}
	if (t->fetched < pos)
		t->fetched = pos;
	while (t->fetched < FC_MIN(pos + 8192, t->map_len)) {
		__builtin_prefetch(t->map + t->fetched, 0, 3);
		t->fetched += 64;
	}
}

static int map_next(struct fc_trace *t, struct fc_trace_pkt *pkt, char *err,
		    size_t errlen)
{
	const uint8_t *h;
	uint32_t caplen, frac;

	if (t->pos == t->map_len)
		return 0;
	if (t->map_len - t->pos < 16) {
		snprintf(err, errlen,
			 "trace '%s': file ends inside the header of packet "
			 "%llu (offset %zu); packets before it were processed",
			 t->name, (unsigned long long)t->count + 1, t->pos);
		return -1;
	}
	map_ahead(t, t->pos);
	h = t->map + t->pos;
	caplen = rd32(t, h + 8);
	if (caplen > PCAP_MAX_CAPLEN || caplen > t->map_len - t->pos - 16) {
		snprintf(err, errlen,
			 "trace '%s': packet %llu at offset %zu claims %u "
			 "captured bytes, more than %s; the file is truncated "
			 "or corrupt; packets before it were processed",
			 t->name, (unsigned long long)t->count + 1, t->pos,
			 caplen, caplen > PCAP_MAX_CAPLEN ? "any capture holds" :
							    "the file has left");
		return -1;
	}
	frac = rd32(t, h + 4);
	pkt->data = h + 16;
	pkt->caplen = caplen;
	pkt->wirelen = rd32(t, h + 12);
	pkt->dlt = t->dlt;
	pkt->ts_ns = (uint64_t)rd32(t, h) * 1000000000ULL +
		     (t->nsec ? frac : (uint64_t)frac * 1000);
	t->pos += 16 + (size_t)caplen;
	t->count++;
	return 1;
}

static inline uint32_t rd32c(const uint8_t *p, const int swap)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return swap ? __builtin_bswap32(v) : v;
}

/* fc_trace_run's walk, with the byte order a constant. What map_next
 * checks, in the same order: a record it would refuse ends the run
 * untaken, and map_next reports it. */
static inline __attribute__((always_inline)) unsigned
run_walk(struct fc_trace *t, uint64_t lo, uint64_t hi, unsigned max,
	 struct fc_trace_run *run, const int swap)
{
	const uint8_t *map = t->map;
	size_t pos = t->pos, len = t->map_len, ahead = pos;
	uint64_t mul = t->nsec ? 1 : 1000, ns = 0, newest = 0;
	unsigned n = 0;

	while (n < max && len - pos >= 16) {
		const uint8_t *h = map + pos;
		uint32_t caplen, sec;
		uint64_t frac;

		/* Once per 4 KB of file, not per packet: map_ahead keeps
		 * 4 to 8 KB in flight. */
		if (pos >= ahead) {
			map_ahead(t, pos);
			ahead = pos + 4096;
		}
		caplen = rd32c(h + 8, swap);
		if (caplen > PCAP_MAX_CAPLEN || caplen > len - pos - 16)
			break;
		sec = rd32c(h, swap);
		frac = (uint64_t)rd32c(h + 4, swap) * mul;
		/* A fraction of a second or more moves ts_ns / 10^9 past
		 * the seconds field: such a packet takes fc_trace_next. */
		if (sec < lo || sec > hi || frac >= 1000000000ULL)
			break;
		ns = (uint64_t)sec * 1000000000ULL + frac;
		newest = ns > newest ? ns : newest;
		pos += 16 + (size_t)caplen;
		n++;
	}
	run->bytes = (uint32_t)(pos - t->pos);
	t->pos = pos;
	t->count += n;
	run->last_ns = ns;
	run->max_ns = newest;
	return n;
}

unsigned fc_trace_run(struct fc_trace *t, uint64_t lo, uint64_t hi,
		      unsigned max, struct fc_trace_run *run)
{
	if (t->map == NULL)
		return 0;
	run->data = t->map + t->pos + 16;
	run->swap = t->swap;
	return t->swap ? run_walk(t, lo, hi, max, run, 1) :
			 run_walk(t, lo, hi, max, run, 0);
}

static void fail(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen,
		 "cannot read trace '%s': %s (expected a pcap or pcapng "
		 "file, plain or compressed with gzip, zstd or xz)",
		 path, why);
}

/* Read up to n bytes (a pipe may give fewer per call). -1 on error. */
static ssize_t read_head(int fd, uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

struct fc_trace *fc_trace_open(const char *path, char *err, size_t errlen)
{
	int fd = strcmp(path, "-") == 0 ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0) :
					  open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fail(err, errlen, path, strerror(errno));
		return NULL;
	}
	return fc_trace_open_fd(fd, path, err, errlen);
}

struct fc_trace *fc_trace_open_fd(int fd, const char *path, char *err,
				  size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct fc_trace *t = calloc(1, sizeof(*t));
	uint8_t head[FC_TRACEZ_MAGIC], magic[4];
	enum fc_tracez_kind kind;
	ssize_t got;
	int rewound;

	if (t == NULL || (t->name = strdup(path)) == NULL) {
		free(t);
		close(fd);
		snprintf(err, errlen, "trace '%s': out of memory", path);
		return NULL;
	}
	err[0] = '\0';
	got = read_head(fd, head, sizeof(head));
	if (got < 0) {
		fail(err, errlen, path, strerror(errno));
		close(fd);
		goto err;
	}
	kind = fc_tracez_detect(head, (size_t)got);
	/* A regular file is read again from its start; a pipe gets the
	 * bytes looked at replayed. */
	rewound = lseek(fd, 0, SEEK_SET) == 0;
	if (kind != FC_TRACEZ_NONE) {
		t->z = fc_tracez_open(fd, kind, rewound ? NULL : head,
				      rewound ? 0 : (size_t)got);
		if (t->z == NULL) {
			fail(err, errlen, path, "out of memory");
			goto err;
		}
		t->zkind = kind;
		t->under = fc_tracez_file(t->z);
		if (fread(magic, 1, 4, t->under) < 4) {
			const char *ze = fc_tracez_error(t->z);

			if (ze != NULL)
				snprintf(err, errlen,
					 "cannot read trace '%s': %s", path, ze);
			else
				fail(err, errlen, path,
				     "it decompresses to less than a capture "
				     "file header");
			goto err;
		}
		t->f = prefixed(t->under, -1, magic, 4);
	} else if (got < 4) {
		fail(err, errlen, path, "file too short");
		close(fd);
		goto err;
	} else {
		FILE *raw = fdopen(fd, "rb");

		if (raw == NULL) {
			fail(err, errlen, path, strerror(errno));
			close(fd);
			goto err;
		}
		memcpy(magic, head, 4);
		if (rewound) {
			t->f = raw;
		} else {
			t->under = raw;
			t->f = prefixed(raw, fd, head, (size_t)got);
		}
	}
	if (t->f == NULL) {
		fail(err, errlen, path, "out of memory");
		goto err;
	}
	/* Readers take a packet at a time: a 1 MB buffer turns millions of
	 * small reads into a few hundred. */
	setvbuf(t->f, NULL, _IOFBF, 1u << 20);
	if (t->z == NULL && rewound && map_pcap(t, magic, err, errlen) == 0)
		return t;
	if (t->map == NULL && err[0] != '\0')
		goto err;
	if (magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d &&
	    magic[3] == 0x0a) {
		t->ng = fc_pcapng_open(t->f);
		if (t->ng == NULL) {
			fail(err, errlen, path, "out of memory");
			goto err;
		}
		t->dlt = FC_DLT_EN10MB;
		return t;
	}
	t->pc = pcap_fopen_offline_with_tstamp_precision(
		t->f, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (t->pc == NULL) {
		const char *ze = t->z ? fc_tracez_error(t->z) : NULL;

		if (ze != NULL)
			snprintf(err, errlen, "cannot read trace '%s': %s",
				 path, ze);
		else
			fail(err, errlen, path, perr);
		goto err;
	}
	t->f = NULL; /* libpcap closes it */
	t->dlt = (uint32_t)pcap_datalink(t->pc);
	if (!fc_parse_dlt_supported(t->dlt)) {
		const char *n = pcap_datalink_val_to_name((int)t->dlt);

		snprintf(err, errlen,
			 "trace '%s': link type %u (%s) is not supported; "
			 "supported: Ethernet, raw IPv4/IPv6, Linux SLL/SLL2, "
			 "BSD null/loopback, PPP",
			 path, t->dlt, n ? n : "unknown");
		goto err;
	}
	return t;
err:
	fc_trace_close(t);
	return NULL;
}

const char *fc_trace_compression(const struct fc_trace *t)
{
	return fc_tracez_name(t->zkind);
}

uint32_t fc_trace_dlt(const struct fc_trace *t)
{
	return t->dlt;
}

/* The reason a stream read failed: the decompressor's, when it has one
 * (libpcap and fc_pcapng see only a failed fread). */
static const char *stream_why(const struct fc_trace *t, const char *own)
{
	const char *ze = t->z ? fc_tracez_error(t->z) : NULL;

	return ze ? ze : own;
}

static int stream_next(struct fc_trace *t, struct fc_trace_pkt *pkt,
		       char *err, size_t errlen)
{
	if (t->ng != NULL) {
		struct fc_pcapng_pkt p;
		char e[256];
		int r = fc_pcapng_next(t->ng, &p, e, sizeof(e));

		if (r == 1) {
			pkt->data = p.data;
			pkt->caplen = p.caplen;
			pkt->wirelen = p.wirelen;
			pkt->dlt = p.dlt;
			/* A simple packet block has no time of its own. */
			pkt->ts_ns = p.has_ts ? p.ts_ns : t->last_ts;
			t->last_ts = pkt->ts_ns;
			t->count++;
			return 1;
		}
		if (r == 0)
			return 0;
		snprintf(err, errlen,
			 "trace '%s': %s, after packet %llu (the file is "
			 "truncated or corrupt; packets before it were "
			 "processed)",
			 t->name, stream_why(t, e), (unsigned long long)t->count);
		return -1;
	}

	struct pcap_pkthdr *h;
	const u_char *d;
	int rc = pcap_next_ex(t->pc, &h, &d);

	if (rc == 1) {
		pkt->data = d;
		pkt->caplen = h->caplen;
		pkt->wirelen = h->len;
		pkt->dlt = t->dlt;
		/* With nanosecond precision tv_usec holds nanoseconds. */
		pkt->ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ULL +
			     (uint64_t)h->ts.tv_usec;
		t->count++;
		return 1;
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	snprintf(err, errlen,
		 "trace '%s': read error after packet %llu: %s (the file is "
		 "truncated or corrupt; packets before it were processed)",
		 t->name, (unsigned long long)t->count,
		 stream_why(t, pcap_geterr(t->pc)));
	return -1;
}

int fc_trace_next(struct fc_trace *t, struct fc_trace_pkt *pkt, char *err,
		  size_t errlen)
{
	if (t->map != NULL)
		return map_next(t, pkt, err, errlen);
	if (t->peeked) {
		int r = t->peeked - 2;

		t->peeked = 0;
		*pkt = t->peek_pkt;
		if (r < 0)
			snprintf(err, errlen, "%s", t->peek_err);
		return r;
	}
	return stream_next(t, pkt, err, errlen);
}

int fc_trace_peek(struct fc_trace *t, struct fc_trace_pkt *pkt, char *err,
		  size_t errlen)
{
	int r;

	if (t->map != NULL) {
		/* In place: read it, then step back. */
		size_t pos = t->pos;
		uint64_t count = t->count;

		r = map_next(t, pkt, err, errlen);
		t->pos = pos;
		t->count = count;
		return r;
	}
	if (t->peeked) {
		r = t->peeked - 2;
		*pkt = t->peek_pkt;
		if (r < 0)
			snprintf(err, errlen, "%s", t->peek_err);
		return r;
	}
	r = stream_next(t, &t->peek_pkt, err, errlen);
	if (r < 0) {
		free(t->peek_err);
		t->peek_err = strdup(err);
		if (t->peek_err == NULL)
			return r; /* not kept: the error is read again */
	}
	t->peeked = r + 2;
	*pkt = t->peek_pkt;
	return r;
}

int fc_trace_stable(const struct fc_trace *t)
{
	return t->map != NULL;
}

uint64_t fc_trace_count(const struct fc_trace *t)
{
	/* A packet peeked at is not returned yet. */
	return t->count - (t->peeked == 3);
}

void fc_trace_close(struct fc_trace *t)
{
	if (t == NULL)
		return;
	if (t->map)
		munmap((void *)t->map, t->map_len);
	if (t->pc)
		pcap_close(t->pc);
	fc_pcapng_close(t->ng);
	if (t->f)
		fclose(t->f);
	if (t->under)
		fclose(t->under);
	free(t->peek_err);
	free(t->name);
	free(t);
}

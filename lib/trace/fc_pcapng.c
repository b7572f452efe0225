/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapng reader. libpcap refuses pcapng files whose interfaces have
 * different link types (a capture on "any" next to an Ethernet port, or a
 * merge of several captures); this reader gives every packet the link type
 * and timestamp resolution of its own interface. Blocks: section header
 * (either byte order, several sections), interface description (link
 * type, if_tsresol, if_tsoffset), enhanced, simple and obsolete packet
 * blocks; every other block is skipped by its length. Every length is
 * checked before use and a block is at most 16 MB, so memory is bounded.
 * It does not write pcapng or read compressed files.
 */
#include "fc_pcapng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB 0x00000002u  /* obsolete packet block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BOM 0x1A2B3C4Du
#define MAX_BLOCK (16u << 20)
#define MAX_IFACES 4096

struct iface {
	uint32_t dlt;
	uint32_t snaplen;
	uint64_t units;   /* timestamp units per second */
	int64_t offset_s; /* if_tsoffset */
};

struct fc_pcapng {
	FILE *f;
	int swap;
	uint8_t *buf;
	uint32_t cap;
	struct iface *ifs;
	uint32_t n_ifs;
	uint64_t off; /* file offset of the next block */
};

static uint32_t rd32(const struct fc_pcapng *g, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return g->swap ? __builtin_bswap32(v) : v;
}

static uint16_t rd16(const struct fc_pcapng *g, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return g->swap ? __builtin_bswap16(v) : v;
}

static uint64_t rd64(const struct fc_pcapng *g, const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return g->swap ? __builtin_bswap64(v) : v;
}

struct fc_pcapng *fc_pcapng_open(FILE *f)
{
	struct fc_pcapng *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->f = f;
	return g;
}

void fc_pcapng_close(struct fc_pcapng *g)
{
	if (g == NULL)
		return;
	free(g->buf);
	free(g->ifs);
	free(g);
}

/* Make buf hold at least len bytes (len is at most MAX_BLOCK). */
static int grow(struct fc_pcapng *g, uint32_t len)
{
	uint8_t *nb;

	if (len <= g->cap)
		return 0;
	nb = realloc(g->buf, len);
	if (nb == NULL)
		return -1;
	g->buf = nb;
	g->cap = len;
	return 0;
}

/* Read one whole block (type, length, body, trailing length) into buf. */
static int read_block(struct fc_pcapng *g, uint32_t *type, uint32_t *len,
		      char *err, size_t errlen)
{
	uint8_t hdr[8];
	size_t got = fread(hdr, 1, 8, g->f);

	if (got == 0 && feof(g->f))
		return 0;
	if (got != 8)
		goto trunc;
	memcpy(type, hdr, 4);
	if (*type == BT_SHB) {
		/* The byte order of a section is in its header. */
		uint8_t bom[4];
		uint32_t b;

		if (fread(bom, 1, 4, g->f) != 4)
			goto trunc;
		memcpy(&b, bom, 4);
		if (b == BOM)
			g->swap = 0;
		else if (b == __builtin_bswap32(BOM))
			g->swap = 1;
		else {
			snprintf(err, errlen,
				 "section header at offset %llu has no valid "
				 "byte-order magic",
				 (unsigned long long)g->off);
			return -1;
		}
		*len = rd32(g, hdr + 4);
		if (*len < 28 || *len > MAX_BLOCK || (*len & 3))
			goto bad;
		if (grow(g, *len) != 0)
			goto nomem;
		memcpy(g->buf, hdr, 8);
		memcpy(g->buf + 8, bom, 4);
		if (fread(g->buf + 12, 1, *len - 12, g->f) != *len - 12)
			goto trunc;
	} else {
		*type = rd32(g, hdr);
		*len = rd32(g, hdr + 4);
		if (*len < 12 || *len > MAX_BLOCK || (*len & 3))
			goto bad;
		if (grow(g, *len) != 0)
			goto nomem;
		memcpy(g->buf, hdr, 8);
		if (fread(g->buf + 8, 1, *len - 8, g->f) != *len - 8)
			goto trunc;
	}
	if (rd32(g, g->buf + *len - 4) != *len)
		goto bad;
	g->off += *len;
	return 1;
trunc:
	snprintf(err, errlen, "file ends inside the block at offset %llu",
		 (unsigned long long)g->off);
	return -1;
bad:
	snprintf(err, errlen, "block at offset %llu has an impossible length",
		 (unsigned long long)g->off);
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int add_iface(struct fc_pcapng *g, uint32_t blen, char *err,
		     size_t errlen)
{
	struct iface *ifc;
	uint32_t o = 16;

	if (g->n_ifs == MAX_IFACES || blen < 20) {
		snprintf(err, errlen,
			 "interface description at offset %llu: too many "
			 "interfaces or block too short",
			 (unsigned long long)(g->off - blen));
		return -1;
	}
	ifc = realloc(g->ifs, (g->n_ifs + 1) * sizeof(*ifc));
	if (ifc == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g->ifs = ifc;
	ifc = &g->ifs[g->n_ifs++];
	ifc->dlt = rd16(g, g->buf + 8);
	ifc->snaplen = rd32(g, g->buf + 12);
	ifc->units = 1000000;
	ifc->offset_s = 0;
	/* Options: code, length, value padded to 4 bytes. */
	while (o + 4 <= blen - 4) {
		uint16_t code = rd16(g, g->buf + o);
		uint16_t olen = rd16(g, g->buf + o + 2);

		if (code == 0 || o + 4 + olen > blen - 4)
			break;
		if (code == 9 && olen >= 1) { /* if_tsresol */
			uint8_t r = g->buf[o + 4];
			uint64_t u = 1;

			if (r & 0x80) {
				r &= 0x7f;
				if (r > 63)
					r = 63;
				u <<= r;
			} else {
				if (r > 19)
					r = 19;
				while (r--)
					u *= 10;
			}
			ifc->units = u;
		} else if (code == 14 && olen >= 8) { /* if_tsoffset */
			ifc->offset_s = (int64_t)rd64(g, g->buf + o + 4);
		}
		o += 4 + ((olen + 3u) & ~3u);
	}
	return 0;
}

static uint64_t to_ns(const struct iface *ifc, uint64_t ts)
{
	uint64_t sec = ts / ifc->units, frac = ts % ifc->units, ns;

	/* frac < units <= 2^63: scale without overflow. */
	if (ifc->units == 1000000000ULL)
		ns = frac;
	else if (ifc->units <= 1000000000ULL)
		ns = frac * (1000000000ULL / ifc->units);
	else
		ns = (uint64_t)((unsigned __int128)frac * 1000000000ULL /
				ifc->units);
	return (sec + (uint64_t)ifc->offset_s) * 1000000000ULL + ns;
}

int fc_pcapng_next(struct fc_pcapng *g, struct fc_pcapng_pkt *pkt, char *err,
		   size_t errlen)
{
	for (;;) {
		uint32_t type, len, ifid, caplen, origlen, hdr;
		uint64_t ts = 0;
		int r = read_block(g, &type, &len, err, errlen);

		if (r <= 0)
			return r;
		switch (type) {
		case BT_SHB:
			g->n_ifs = 0; /* interfaces are per section */
			continue;
		case BT_IDB:
			if (add_iface(g, len, err, errlen) != 0)
				return -1;
			continue;
		case BT_EPB:
		case BT_PB:
			/* Same layout; the obsolete block has a 16-bit
			 * interface id followed by a drop count. */
			if (len < 32)
				goto bad;
			ifid = type == BT_EPB ? rd32(g, g->buf + 8) :
						rd16(g, g->buf + 8);
			ts = (uint64_t)rd32(g, g->buf + 12) << 32 |
			     rd32(g, g->buf + 16);
			caplen = rd32(g, g->buf + 20);
			origlen = rd32(g, g->buf + 24);
			hdr = 28;
			break;
		case BT_SPB:
			if (len < 16)
				goto bad;
			ifid = 0;
			origlen = rd32(g, g->buf + 8);
			hdr = 12;
			caplen = len - 16;
			if (caplen > origlen)
				caplen = origlen;
			break;
		default:
			continue; /* statistics, name resolution, ... */
		}
		if (ifid >= g->n_ifs) {
			snprintf(err, errlen,
				 "packet block at offset %llu names interface "
				 "%u, but the section has %u",
				 (unsigned long long)(g->off - len), ifid,
				 g->n_ifs);
			return -1;
		}
		if (type == BT_SPB && g->ifs[0].snaplen &&
		    caplen > g->ifs[0].snaplen)
			caplen = g->ifs[0].snaplen;
		if (caplen > len - hdr - 4)
			goto bad;
		pkt->data = g->buf + hdr;
		pkt->caplen = caplen;
		pkt->wirelen = origlen;
		pkt->dlt = g->ifs[ifid].dlt;
		/* A simple packet block has no time: it inherits the time of
		 * the packet before it (the caller keeps it). */
		pkt->has_ts = type != BT_SPB;
		pkt->ts_ns = pkt->has_ts ? to_ns(&g->ifs[ifid], ts) : 0;
		return 1;
	}
bad:
	snprintf(err, errlen, "packet block at offset %llu is malformed",
		 (unsigned long long)g->off);
	return -1;
}

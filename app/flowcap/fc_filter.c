/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The capture filter: libpcap's compiler (pcap_compile on a dead handle of
 * the input's link type, the same code tcpdump -r runs), DPDK's
 * classic-to-eBPF converter and its loader, verifier and x86 JIT. What it
 * does not do: read packets, count, or swap filters under the workers.
 *
 * Limits, from DPDK 22.11's rte_bpf_convert: it needs libpcap's classic
 * BPF and a DPDK built with libpcap (Debian's is); it gives indexed loads
 * the wrong index register (fixed here before loading, see load()), and
 * the x86 JIT still faults on some programs with them, which therefore
 * run in libpcap's interpreter (struct fc_filter_prog); the converted
 * program
 * takes an mbuf and reads the packet through its first segment (so a
 * frame of a mapped trace is wrapped in a stand-in mbuf, fc_filter_wrap);
 * BPF extensions (SKF_AD_*: the kernel's vlan_tci, ifindex...) are not
 * converted, which is why the programs are compiled on a dead handle,
 * where libpcap emits none: `vlan` then tests the tag's bytes, as tcpdump
 * -r does on a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "fc_filter.h"

/* Compile for one link type; 0 or -1 with pcap's message. */
static int compile(const char *expr, uint32_t dlt, struct bpf_program *bp,
		   char *err, size_t errlen)
{
	pcap_t *p = pcap_open_dead((int)dlt, 262144);

	if (p == NULL) {
		snprintf(err, errlen, "libpcap cannot open a handle of link "
			 "type %u", dlt);
		return -1;
	}
	if (pcap_compile(p, bp, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(err, errlen, "%s", pcap_geterr(p));
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	return 0;
}

int fc_filter_check(const char *expr, uint32_t dlt, char *err, size_t errlen)
{
	struct bpf_program bp;

	if (compile(expr, dlt, &bp, err, errlen) != 0)
		return -1;
	pcap_freecode(&bp);
	return 0;
}

/* Convert and load one compiled program. */
static int load(struct fc_filter_prog *fp, struct bpf_program *bp,
		char *err, size_t errlen)
{
	struct rte_bpf_prm *prm = rte_bpf_convert(bp);
	struct rte_bpf_jit jit;

	if (prm == NULL) {
		snprintf(err, errlen, "DPDK cannot convert the program "
			 "(rte_bpf_convert: %s)", rte_strerror(rte_errno));
		return -1;
	}
	/* DPDK's converter maps classic BPF's X to eBPF R7 but gives an
	 * indexed load (BPF_LD|BPF_IND: ldb [x + k], which libpcap emits
	 * after every variable IPv4 header length, as in `udp port 53`)
	 * the source register 0, which is A: the load then reads at A + k
	 * (wrong answers, and faults in the JIT's code). The program is
	 * ours until loaded: the index register is set right. */
	struct ebpf_insn *ins = (struct ebpf_insn *)(uintptr_t)prm->ins;

	for (uint32_t i = 0; i < prm->nb_ins; i++)
		if (BPF_CLASS(ins[i].code) == BPF_LD &&
		    BPF_MODE(ins[i].code) == BPF_IND)
			ins[i].src_reg = EBPF_REG_7;
	fp->bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (fp->bpf == NULL) {
		snprintf(err, errlen, "DPDK refuses the converted program "
			 "(rte_bpf_load: %s)", rte_strerror(rte_errno));
		return -1;
	}
	fp->jit = NULL;
	if (getenv("FC_FILTER_NO_JIT") == NULL &&
	    rte_bpf_get_jit(fp->bpf, &jit) == 0 && jit.func != NULL)
		fp->jit = jit.func;
	return 0;
}

struct fc_filter *fc_filter_create(const char *expr, const uint32_t *dlts,
				   unsigned n, const uint32_t *need,
				   unsigned n_need, char *err, size_t errlen)
{
	struct fc_filter *f = calloc(1, sizeof(*f));
	char note[512] = "";
	size_t o = 0;

	if (f == NULL || (f->expr = strdup(expr)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(f);
		return NULL;
	}
	for (unsigned i = 0; i < n && f->n < FC_FILTER_MAX_DLT; i++) {
		struct fc_filter_prog *fp = &f->prog[f->n];
		struct bpf_program bp;
		char e[PCAP_ERRBUF_SIZE + 128];
		bool needed = false;

		for (unsigned j = 0; j < n_need; j++)
			needed |= need[j] == dlts[i];
		fp->dlt = dlts[i];
		if (compile(expr, dlts[i], &bp, e, sizeof(e)) != 0) {
			if (needed) {
				snprintf(err, errlen, "%s", e);
				goto err;
			}
			/* Not a link type the input starts with: its
			 * packets, if any come, are refused. */
			if (o < sizeof(note) - 64) {
				const char *nm = pcap_datalink_val_to_name(
					(int)dlts[i]);

				o += (size_t)(nm != NULL ?
					snprintf(note + o, sizeof(note) - o,
						 "%s%s", o ? ", " : "", nm) :
					snprintf(note + o, sizeof(note) - o,
						 "%s%u", o ? ", " : "",
						 dlts[i]));
			}
			f->n++;
			continue;
		}
		/* Kept: libpcap's interpreter runs it where DPDK's code
		 * cannot (see struct fc_filter_prog). */
		fp->cbpf = bp;
		for (unsigned k = 0; k < bp.bf_len; k++) {
			uint16_t c = bp.bf_insns[k].code;

			if (BPF_CLASS(c) == BPF_LD && BPF_MODE(c) == BPF_LEN)
				fp->uses_len = true;
			if ((BPF_CLASS(c) == BPF_LD && BPF_MODE(c) == BPF_IND) ||
			    (BPF_CLASS(c) == BPF_LDX && BPF_MODE(c) == BPF_MSH))
				fp->pcap_only = true;
		}
		fp->ok = true;
		/* What DPDK cannot convert or load runs in libpcap's
		 * interpreter: every expression pcap takes works. */
		if (!fp->pcap_only && load(fp, &bp, e, sizeof(e)) != 0)
			fp->pcap_only = true;
		f->interpreted |= fp->pcap_only || fp->jit == NULL;
		f->n++;
	}
	snprintf(err, errlen, "%s", note);
	return f;
err:
	fc_filter_free(f);
	return NULL;
}

void fc_filter_free(struct fc_filter *f)
{
	if (f == NULL)
		return;
	for (unsigned i = 0; i < f->n; i++)
		if (f->prog[i].ok) {
			if (f->prog[i].bpf != NULL)
				rte_bpf_destroy(f->prog[i].bpf);
			pcap_freecode(&f->prog[i].cbpf);
		}
	free(f->expr);
	free(f);
}

const struct fc_filter_prog *fc_filter_prog_for(const struct fc_filter *f,
						uint32_t dlt)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->prog[i].dlt == dlt)
			return &f->prog[i];
	return NULL;
}

char *fc_filter_read_file(const char *path, char *err, size_t errlen)
{
	enum { MAX = 65536 };
	char *buf = malloc(MAX + 1);
	size_t len = 0;
	ssize_t r;
	int fd;

	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read filter file '%s': %s", path,
			 strerror(errno));
		free(buf);
		return NULL;
	}
	while ((r = read(fd, buf + len, MAX + 1 - len)) > 0)
		if ((len += (size_t)r) > MAX)
			break;
	close(fd);
	if (r < 0) {
		snprintf(err, errlen, "cannot read filter file '%s': %s", path,
			 strerror(errno));
	} else if (len > MAX) {
		snprintf(err, errlen, "filter file '%s' is longer than 64 KiB: "
			 "is it the right file?", path);
	} else if (memchr(buf, 0, len) != NULL) {
		snprintf(err, errlen, "filter file '%s' holds a NUL byte: it "
			 "must be a tcpdump expression in text", path);
	} else {
		buf[len] = 0;
		return buf;
	}
	free(buf);
	return NULL;
}

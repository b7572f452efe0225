/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap-gen: write a deterministic synthetic trace (lib/gen) as a classic
 * pcap file, microsecond or nanosecond, Ethernet link type. The pcap format
 * is written by hand, little-endian, so the file's bytes depend only on the
 * options and never on the machine. A file appears under its name only when
 * complete (written as NAME.tmp, then renamed); `-o -` streams to stdout,
 * and devices or FIFOs are written in place.
 * It does not replay traffic onto a port: use flowcap's net_pcap vdev or
 * pktgen for that.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "fc_common.h"
#include "fc_gen.h"
#include "fc_num.h"
#include "fc_version.h"

#define OUTBUF_SIZE (4u << 20)
#define PCAP_HDR_LEN 24
#define PCAP_REC_LEN 16
#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_SNAPLEN 65535u
#define LINKTYPE_ETHERNET 1u
#define NS_PER_S 1000000000ULL

static const char *prog = "flowcap-gen";

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [options] -o FILE\n"
"Write a deterministic synthetic Ethernet trace as pcap: the same options\n"
"give the same bytes on every machine.\n"
"\n"
"  -o, --output FILE     output pcap; '-' for stdout (required)\n"
"  -n, --packets N       packets to write, 1..10^12 (default 1000000)\n"
"  -f, --flows N         flow population, 1..100000000 (default 100000);\n"
"                        also the most distinct flowtuple keys per interval\n"
"  -z, --zipf S          Zipf exponent of flow popularity, 0..10, 0 = uniform\n"
"                        (default 1.1)\n"
"  -s, --seed N          seed, 0..2^64-1 (default 1)\n"
"      --ipv6 FRAC       share of IPv6 flows, 0..1 (default 0.1)\n"
"      --vlan FRAC       share of flows with one 802.1Q tag, 0..1 (default 0.1)\n"
"      --qinq FRAC       share with two tags (88a8+8100), 0..1 (default 0);\n"
"                        vlan + qinq <= 1\n"
"      --mix T:U:I       TCP:UDP:ICMP flow weights (default 70:20:10)\n"
"      --backscatter FRAC\n"
"                        share of TCP and of ICMP flows that are backscatter\n"
"                        (SYN+ACK/RST, ICMP errors and echo replies), 0..1\n"
"                        (default 0.1)\n"
"      --size 64|imix    frame sizes on the wire: all 64 bytes, or IMIX\n"
"                        64/570/1518 in the ratio 7:4:1 (default imix)\n"
"      --rate PPS        packets per second for timestamps, 1..10^12\n"
"                        (default 10000)\n"
"      --start TIME      first timestamp, Unix seconds with up to 9\n"
"                        decimals (default 1700000000)\n"
"      --jitter NS       add uniform 0..NS nanoseconds to each timestamp;\n"
"                        more than 1/rate reorders packets (default 0)\n"
"      --tunnel FRAC     share of flows carried in tunnels, 0..1 (default 0)\n"
"      --tunnel-kinds LIST  kinds drawn from, per flow and level, separated\n"
"                        by commas: gre, gre-ks (checksum, key, sequence),\n"
"                        gre-eth (Ethernet in GRE), vxlan, geneve, gtpu,\n"
"                        ipip (4in4, 6in4, 4in6, 6in6) (default all)\n"
"      --tunnel-depth N  tunnels one inside the other, 1..8 (default 1)\n"
"      --pcap-ns         nanosecond pcap (default microsecond)\n"
"  -q, --quiet           no summary on stderr\n"
"  -h, --help            this text\n"
"      --version         print the version and exit\n"
"\n"
"Suffixes k, M, G (x1000) are accepted on N, PPS.\n"
"\n"
"Examples:\n"
"  %s -o default.pcap                      # the default mix, 1M packets\n"
"  %s -n 10M -f 1M --size 64 --rate 10M -o - | flowcap ... --read -\n"
"  %s -n 120000 -f 4000 --ipv6 0.2 --vlan 0.2 --rate 1000 -o small.pcap\n"
"  %s -n 1000 -f 1 --mix 0:0:1 --backscatter 1 -o icmp-errors.pcap\n",
		prog, prog, prog, prog, prog);
}

static void die_usage(const char *flag, const char *val, const char *range)
{
	fprintf(stderr, "%s: invalid %s '%s': %s\n", prog, flag, val, range);
	fprintf(stderr, "Try '%s --help'.\n", prog);
	exit(2);
}

/* Unsigned integer with optional k/M/G (x1000) suffix, within [lo, hi]. */
static uint64_t parse_u64(const char *flag, const char *s, uint64_t lo,
			  uint64_t hi, const char *range)
{
	uint64_t v;

	if (fc_num_u64(s, lo, hi, FC_NUM_SI, &v) != FC_NUM_OK)
		die_usage(flag, s, range);
	return v;
}

static double parse_double(const char *flag, const char *s, double lo,
			   double hi, const char *range)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
		die_usage(flag, s, range);
	return v;
}

/* Unix seconds with up to 9 decimals, parsed in integers: no rounding. */
static uint64_t parse_time(const char *flag, const char *s)
{
	const char *range =
		"must be Unix seconds 0..4102444800 with up to 9 decimals";
	uint64_t sec = 0, ns = 0;
	const char *p = s;
	int digits = 0;

	if (*p < '0' || *p > '9')
		die_usage(flag, s, range);
	while (*p >= '0' && *p <= '9') {
		sec = sec * 10 + (uint64_t)(*p++ - '0');
		if (sec > 4102444800ULL)
			die_usage(flag, s, range);
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++digits > 9)
				die_usage(flag, s, range);
			ns = ns * 10 + (uint64_t)(*p++ - '0');
		}
		for (; digits < 9; digits++)
			ns *= 10;
	}
	if (*p != '\0')
		die_usage(flag, s, range);
	return sec * NS_PER_S + ns;
}

static void parse_mix(const char *s, struct fc_gen_cfg *cfg)
{
	const char *range = "must be three weights TCP:UDP:ICMP, e.g. 70:20:10, "
			    "each 0..1000000, not all 0";
	unsigned long w[3];
	const char *p = s;
	char *end;

	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			die_usage("--mix", s, range);
		errno = 0;
		w[i] = strtoul(p, &end, 10);
		if (errno != 0 || w[i] > 1000000)
			die_usage("--mix", s, range);
		p = end;
		if (i < 2) {
			if (*p != ':')
				die_usage("--mix", s, range);
			p++;
		}
	}
	if (*p != '\0' || w[0] + w[1] + w[2] == 0)
		die_usage("--mix", s, range);
	cfg->mix_tcp = (uint32_t)w[0];
	cfg->mix_udp = (uint32_t)w[1];
	cfg->mix_icmp = (uint32_t)w[2];
}

/* Buffered output straight from the generator into a large buffer. */
struct out {
	int fd;
	uint8_t *buf;
	size_t used;
	uint64_t bytes;
};

static int out_flush(struct out *o)
{
	size_t off = 0;

	while (off < o->used) {
		ssize_t n = write(o->fd, o->buf + off, o->used - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	o->bytes += o->used;
	o->used = 0;
	return 0;
}

enum {
	OPT_IPV6 = 256,
	OPT_VLAN,
	OPT_QINQ,
	OPT_MIX,
	OPT_BS,
	OPT_SIZE,
	OPT_RATE,
	OPT_START,
	OPT_JITTER,
	OPT_NS,
	OPT_VERSION,
	OPT_TUNNEL,
	OPT_TUNKINDS,
	OPT_TUNDEPTH,
};

static const struct option longopts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "packets", required_argument, NULL, 'n' },
	{ "flows", required_argument, NULL, 'f' },
	{ "zipf", required_argument, NULL, 'z' },
	{ "seed", required_argument, NULL, 's' },
	{ "ipv6", required_argument, NULL, OPT_IPV6 },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "qinq", required_argument, NULL, OPT_QINQ },
	{ "mix", required_argument, NULL, OPT_MIX },
	{ "backscatter", required_argument, NULL, OPT_BS },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "start", required_argument, NULL, OPT_START },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "pcap-ns", no_argument, NULL, OPT_NS },
	{ "tunnel", required_argument, NULL, OPT_TUNNEL },
	{ "tunnel-kinds", required_argument, NULL, OPT_TUNKINDS },
	{ "tunnel-depth", required_argument, NULL, OPT_TUNDEPTH },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* --tunnel-kinds: names separated by commas. */
static uint32_t parse_tunnel_kinds(const char *v)
{
	static const struct { const char *name; uint32_t bit; } kinds[] = {
		{ "gre", FC_GEN_TUN_GRE }, { "gre-ks", FC_GEN_TUN_GRE_KS },
		{ "gre-eth", FC_GEN_TUN_GRE_ETH },
		{ "vxlan", FC_GEN_TUN_VXLAN }, { "geneve", FC_GEN_TUN_GENEVE },
		{ "gtpu", FC_GEN_TUN_GTPU }, { "ipip", FC_GEN_TUN_IPIP },
	};
	uint32_t mask = 0;
	const char *p = v;

	while (*p != '\0') {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strlen(kinds[i].name) == n &&
			    strncmp(p, kinds[i].name, n) == 0)
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0]))
			die_usage("--tunnel-kinds", v, "expected names among "
				  "gre, gre-ks, gre-eth, vxlan, geneve, gtpu, "
				  "ipip, separated by commas");
		mask |= kinds[i].bit;
		p += n + (p[n] == ',');
	}
	if (mask == 0)
		die_usage("--tunnel-kinds", v, "name at least one kind");
	return mask;
}

int main(int argc, char **argv)
{
	struct fc_gen_cfg cfg;
	const char *output = NULL;
	char *tmpname = NULL;
	int nsec = 0, quiet = 0, c, rc;
	struct fc_gen *g;
	struct out o = { .fd = -1 };
	struct timespec t0, t1;
	char err[128];
	struct stat st;

	fc_gen_cfg_init(&cfg);
	while ((c = getopt_long(argc, argv, "o:n:f:z:s:qh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'n':
			cfg.packets = parse_u64("--packets", optarg, 1,
				1000000000000ULL, "packets must be 1..10^12");
			break;
		case 'f':
			cfg.flows = (uint32_t)parse_u64("--flows", optarg, 1,
				FC_GEN_FLOWS_MAX, "flows must be 1..100000000");
			break;
		case 'z':
			cfg.zipf = parse_double("--zipf", optarg, 0.0,
				FC_GEN_ZIPF_MAX, "Zipf exponent must be 0..10");
			break;
		case 's':
			cfg.seed = parse_u64("--seed", optarg, 0, UINT64_MAX,
				"seed must be an integer 0..2^64-1");
			break;
		case OPT_IPV6:
			cfg.ipv6 = parse_double("--ipv6", optarg, 0.0, 1.0,
				"must be a fraction 0..1");
			break;
		case OPT_VLAN:
			cfg.vlan = parse_double("--vlan", optarg, 0.0, 1.0,
				"must be a fraction 0..1");
			break;
		case OPT_QINQ:
			cfg.qinq = parse_double("--qinq", optarg, 0.0, 1.0,
				"must be a fraction 0..1");
			break;
		case OPT_MIX:
			parse_mix(optarg, &cfg);
			break;
		case OPT_BS:
			cfg.backscatter = parse_double("--backscatter", optarg,
				0.0, 1.0, "must be a fraction 0..1");
			break;
		case OPT_SIZE:
			if (strcmp(optarg, "64") == 0)
				cfg.size = FC_GEN_SIZE_64;
			else if (strcmp(optarg, "imix") == 0)
				cfg.size = FC_GEN_SIZE_IMIX;
			else
				die_usage("--size", optarg, "must be 64 or imix");
			break;
		case OPT_RATE:
			cfg.rate_pps = parse_u64("--rate", optarg, 1,
				1000000000000ULL, "must be 1..10^12 packets/s");
			break;
		case OPT_START:
			cfg.start_ns = parse_time("--start", optarg);
			break;
		case OPT_JITTER:
			cfg.jitter_ns = parse_u64("--jitter", optarg, 0,
				3600 * NS_PER_S, "must be 0..3600000000000 ns");
			break;
		case OPT_NS:
			nsec = 1;
			break;
		case OPT_TUNNEL:
			cfg.tunnel = parse_double("--tunnel", optarg, 0.0, 1.0,
						  "must be a fraction 0..1");
			break;
		case OPT_TUNKINDS:
			cfg.tunnel_kinds = parse_tunnel_kinds(optarg);
			break;
		case OPT_TUNDEPTH:
			cfg.tunnel_depth = (uint32_t)parse_u64("--tunnel-depth",
				optarg, 1, FC_GEN_TUN_DEPTH_MAX, "must be 1..8");
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			fc_version_print(prog);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help'.\n", prog);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; the output "
			"goes after -o\n", prog, argv[optind]);
		return 2;
	}
	if (output == NULL) {
		fprintf(stderr, "%s: no output: give -o FILE (or -o - for "
			"stdout)\n", prog);
		return 2;
	}
	if (cfg.vlan + cfg.qinq > 1.0) {
		fprintf(stderr, "%s: --vlan + --qinq is %g, must not exceed "
			"1\n", prog, cfg.vlan + cfg.qinq);
		return 2;
	}
	if (fc_gen_cfg_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 2;
	}

	g = fc_gen_create(&cfg);
	if (g == NULL) {
		fprintf(stderr, "%s: cannot create the generator for %" PRIu32
			" flows: %s\n", prog, cfg.flows, strerror(errno));
		return 1;
	}
	o.buf = malloc(OUTBUF_SIZE);
	if (o.buf == NULL) {
		fprintf(stderr, "%s: out of memory\n", prog);
		fc_gen_free(g);
		return 1;
	}
	if (strcmp(output, "-") == 0) {
		o.fd = STDOUT_FILENO;
	} else if (stat(output, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or FIFO (/dev/null, a pipe): write in place; a
		 * rename would replace the node with a regular file */
		o.fd = open(output, O_WRONLY);
		if (o.fd < 0) {
			fprintf(stderr, "%s: cannot open %s: %s\n", prog,
				output, strerror(errno));
			return 1;
		}
	} else {
		if (asprintf(&tmpname, "%s.tmp", output) < 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
		o.fd = open(tmpname, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (o.fd < 0) {
			fprintf(stderr, "%s: cannot create %s: %s\n", prog,
				tmpname, strerror(errno));
			return 1;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	fc_put_le32(o.buf, nsec ? PCAP_MAGIC_NS : PCAP_MAGIC_US);
	fc_put_le16(o.buf + 4, 2);
	fc_put_le16(o.buf + 6, 4);
	fc_put_le32(o.buf + 8, 0);  /* thiszone */
	fc_put_le32(o.buf + 12, 0); /* sigfigs */
	fc_put_le32(o.buf + 16, PCAP_SNAPLEN);
	fc_put_le32(o.buf + 20, LINKTYPE_ETHERNET);
	o.used = PCAP_HDR_LEN;
	rc = 0;
	for (;;) {
		uint32_t len;
		uint64_t ts;
		uint8_t *rec;

		if (OUTBUF_SIZE - o.used < PCAP_REC_LEN + FC_GEN_FRAME_MAX) {
			rc = out_flush(&o);
			if (rc != 0)
				break;
		}
		rec = o.buf + o.used;
		rc = fc_gen_next(g, rec + PCAP_REC_LEN, FC_GEN_FRAME_MAX, &len,
				 &ts);
		if (rc != 0)
			break;
		fc_put_le32(rec, (uint32_t)(ts / NS_PER_S));
		fc_put_le32(rec + 4, (uint32_t)(nsec ? ts % NS_PER_S
						     : ts % NS_PER_S / 1000));
		fc_put_le32(rec + 8, len);
		fc_put_le32(rec + 12, len);
		o.used += PCAP_REC_LEN + len;
	}
	if (rc == -ENODATA)
		rc = out_flush(&o);
	if (rc == 0 && tmpname != NULL) {
		if (close(o.fd) != 0)
			rc = -errno;
		o.fd = -1;
		if (rc == 0 && rename(tmpname, output) != 0)
			rc = -errno;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != 0) {
		fprintf(stderr, "%s: writing %s failed: %s\n", prog,
			tmpname != NULL ? tmpname : output, strerror(-rc));
		if (tmpname != NULL) {
			if (o.fd >= 0)
				close(o.fd);
			unlink(tmpname);
		}
		free(tmpname);
		free(o.buf);
		fc_gen_free(g);
		return 1;
	}
	if (!quiet) {
		double s = (double)(t1.tv_sec - t0.tv_sec) +
			   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

		fprintf(stderr, "%s: %" PRIu64 " packets, %" PRIu64
			" bytes in %.3f s (%.2f Mpps) to %s\n", prog,
			fc_gen_count(g), o.bytes, s,
			s > 0 ? (double)fc_gen_count(g) / s / 1e6 : 0.0,
			output);
	}
	free(tmpname);
	free(o.buf);
	fc_gen_free(g);
	return 0;
}

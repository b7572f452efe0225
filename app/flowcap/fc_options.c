/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap's command line: the options after "--" (or all of them with
 * --read and no EAL options), their bounds and the checks between them,
 * and the EAL options trace input gets when the user gives none. Nothing
 * here starts anything: a mistake is said and exits 2 before the EAL.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fc_anon.h"
#include "fc_app.h"
#include "fc_ftdir.h"
#include "fc_num.h"
#include "fc_version.h"


static void usage(FILE *f)
{
	fprintf(f,
"Usage: flowcap [EAL options] -- [options]\n"
"       flowcap --read FILE [options]        (trace input, EAL defaults)\n"
"\n"
"Counts packets per flowtuple (src ip, dst ip, src port, dst port,\n"
"protocol, ttl, tcp flags, ip length) per interval and writes one\n"
"zstd-compressed file per interval (or per --rotate intervals).\n"
"\n"
"Options:\n"
"  --interval SECS    interval length in seconds (default 60)\n"
"  --out DIR          output directory (default .); must exist; one\n"
"                     flowcap per directory (a second one is refused)\n"
"  --name MONITOR     monitor name, %%N in the template (default flowcap);\n"
"                     one word: no space, control character, '/' or '='\n"
"  --template FMT     file name (default %%N.%%s.%%P.ft.zst): %%N monitor,\n"
"                     %%P record kind (flowtuple), %%s Unix time, any\n"
"                     strftime conversion (UTC) of the interval start;\n"
"                     the name must not start with '.' and must fit\n"
"                     NAME_MAX less 15 bytes (checked at start)\n"
"  --rotate K         intervals per file (default 1)\n"
"  --no-align         first interval starts at the first packet's second\n"
"                     (Corsaro's default); otherwise intervals are aligned\n"
"                     to multiples of the interval length\n"
"  --ports LIST       DPDK port ids to capture from, separated by commas,\n"
"                     each once (default: all)\n"
"  --driver-config F  per-NIC settings file (see drivers-config/)\n"
"  --read FILE        read a pcap/pcapng trace instead of ports, plain or\n"
"                     compressed with gzip, zstd or xz; '-' is stdin.\n"
"                     Repeat for several files: they are read in the time\n"
"                     order of their first packets, whatever their order\n"
"                     here; inputs that overlap in time are reported.\n"
"                     Not with --ports, --driver-config or EAL device\n"
"                     options (--vdev, -a, -b)\n"
"  --workers N        workers: with --read and no EAL options, the lcores\n"
"                     flowcap asks for (default 1); with EAL options, N\n"
"                     of the worker lcores they give (default all of them:\n"
"                     every lcore but control and collector)\n"
"  --table-keys N     IPv4 keys per worker table per interval (default\n"
"                     1048576, less if all tables would exceed 1/4 of the\n"
"                     memory), plus N/8 IPv6 keys; beyond either, new\n"
"                     keys are counted as tbl_full\n"
"  --table-keys6 N    IPv6 keys per worker table (default: --table-keys / 8;\n"
"                     raise it where IPv6 is more than a ninth of the flows)\n"
"  --tables N         tables per worker (default 4, 2 with --read): current\n"
"                     + waiting for the collector\n"
"  --zstd-level L     zstd level 1..19 (default 3)\n"
"  --max-empty N      a run of more than N empty intervals is written as\n"
"                     one interval flagged gap when it ends (default 60)\n"
"  --max-jump SECS    a packet more than SECS after the current interval\n"
"                     moves the clock only if the next packet does too;\n"
"                     a lone one is counted bad_time (default 86400,\n"
"                     0 = believe every time)\n"
"  --idle-exit SECS   stop after SECS without packets while every worker\n"
"                     polls, to the millisecond (e.g. 0.2; default: 2\n"
"                     when every port is a net_pcap replay, else never;\n"
"                     0 = never)\n"
"  --stats / --no-stats  per-second stats line on stderr (default: when\n"
"                     stderr is a terminal)\n"
"  --user NAME        after EAL and port set-up, drop root privileges to\n"
"                     user NAME (and its groups), as tcpdump -Z does: the\n"
"                     --read traces are opened before; the output\n"
"                     directory must be writable by NAME\n"
"  --file-group GROUP  group of the files written (name or gid): the\n"
"                     readers' group; flowcap must be a member of it or\n"
"                     have CAP_CHOWN (default: flowcap's own group)\n"
"  --file-mode MODE   permissions of the files written, octal 0400..0666\n"
"                     (default 0640 less the umask)\n"
"  --anonymize KEYFILE  Crypto-PAn prefix-preserving anonymisation of\n"
"                     both addresses before any sink (KEYFILE: 32 bytes,\n"
"                     raw or 64 hex digits); the files say so and carry\n"
"                     the key's fingerprint, never the key\n"
"  --clickhouse URL   also send every interval to ClickHouse (its HTTP\n"
"                     interface, http://HOST:8123/?database=DB), from a\n"
"                     thread of its own, exactly once; capture never waits\n"
"                     for it (doc/clickhouse.md)\n"
"  --clickhouse-queue MB  memory for intervals waiting to be sent (default\n"
"                     256); beyond it they are pending and sent later from\n"
"                     the files; exit status 1 if any is still pending\n"
"  --metrics-file PATH  write counters as a Prometheus textfile (for\n"
"                     node_exporter's textfile collector) every 5 s and at\n"
"                     exit; written as PATH.tmp, then renamed\n"
"  --decap            record the innermost IP header of tunnelled packets\n"
"                     (GRE, VXLAN 4789, Geneve 6081, GTP-U 2152, IP in\n"
"                     IP, 6in4, 4in6, 6in6; up to 4 nested, deeper ones\n"
"                     counted tunnel_deep); default: the outermost\n"
"  --ipfix HOST:PORT[/udp|/tcp]  also export each interval's records as\n"
"                     IPFIX to a collector (default /udp); a collector\n"
"                     that is down or slow is counted, never waited for\n"
"  --ipfix-domain ID  IPFIX observation domain id (default 0)\n"
"  --test-collector-delay MS  fault injection for tests: the collector\n"
"                     sleeps MS before each interval (a stalled disk)\n"
"  --test-worker-delay US  fault injection for tests: a live worker\n"
"                     sleeps US after each burst it receives (a slow\n"
"                     worker, so the NIC or its queue overflows)\n"
"  --test-start-delay MS  fault injection for tests: sleep MS before\n"
"                     the EAL starts (a slow start-up)\n"
"  --test-fail-dirsync  fault injection for tests: every fsync of the\n"
"                     output directory fails (a failing disk)\n"
"  --filter EXPR      capture filter, tcpdump syntax (pcap-filter(7)):\n"
"                     only packets it takes are counted; the others are\n"
"                     counted as filtered, in no record\n"
"  --filter-file FILE  the filter expression from FILE, read again on\n"
"                     SIGHUP (a reload that fails keeps the filter in\n"
"                     force)\n"
"  --classify RULES   label each packet by its payload: the first rule of\n"
"                     the file (LABEL PROTO PORTS /PATTERN/FLAGS, see\n"
"                     doc/classify.md) that applies and matches; the\n"
"                     label is a key field; read again on SIGHUP\n"
"  --classify-bytes N  payload bytes scanned per packet (default 512)\n"
"  --classify-cache DIR  keep compiled rule databases in DIR: a start or\n"
"                     reload with rules compiled before loads them instead\n"
"                     of compiling (seconds for thousands of rules)\n"
"  --key-vlan         the outermost VLAN ID (0 untagged) is a key field\n"
"  -h, --help         this text\n"
"  --version          print the version and exit (no EAL)\n"
"\n"
"Examples:\n"
"  flowcap -l 0-15 -- --interval 60 --out /data/ft --name telescope-1\n"
"          (a 16-CPU server with its NIC ports bound to DPDK)\n"
"  mkdir -p /tmp/ft; flowcap --read trace.pcap --interval 60 --out /tmp/ft\n"
"  flowcap --no-huge --no-shconf -m 512 --no-pci --lcores '(0-2)@(0-1)' \\\n"
"          --vdev net_pcap0,rx_pcap=trace.pcap -- --out /tmp/ft\n"
"          (3 lcores as threads on CPUs 0-1: any machine with 2 CPUs)\n"
"\n"
"SIGINT/SIGTERM write the partial interval (flagged partial) and exit 0;\n"
"a second one exits at once (status 128 + signal number), abandoning what\n"
"is not yet in a completed file. SIGHUP (also sent when a terminal or SSH\n"
"session closes) reloads --filter-file and --classify, and capture goes on; a closed stdout or stderr\n"
"(flowcap ... | head) loses log lines, never the capture. Read files\n"
"with flowcap-read.\n");
}

/*
 * --ports LIST: port ids separated by commas, each once. Checked before
 * the EAL starts, so a typo never meets DPDK's own messages; whether each
 * port exists is known only once the EAL has probed (fc_port.c).
 */
static int parse_port_list(struct fc_cfg *cfg, const char *list)
{
	const char *p = list;

	cfg->n_port_ids = 0;
	for (;;) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || *p < '0' || *p > '9' || errno != 0 ||
		    v >= RTE_MAX_ETHPORTS || (*end != ',' && *end != '\0')) {
			fprintf(stderr,
				"flowcap: --ports '%s': expected DPDK port ids "
				"(0 to %d) separated by commas, e.g. --ports 0,1\n",
				list, RTE_MAX_ETHPORTS - 1);
			return -1;
		}
		for (unsigned i = 0; i < cfg->n_port_ids; i++)
			if (cfg->port_ids[i] == v) {
				fprintf(stderr, "flowcap: --ports '%s': port %lu "
					"is listed twice; name each port once\n",
					list, v);
				return -1;
			}
		if (cfg->n_port_ids == FC_MAX_PORTS) {
			fprintf(stderr, "flowcap: --ports '%s': at most %d "
				"ports\n", list, FC_MAX_PORTS);
			return -1;
		}
		cfg->port_ids[cfg->n_port_ids++] = (uint16_t)v;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int parse_u64(const char *opt, const char *v, uint64_t lo, uint64_t hi,
		     uint64_t *out)
{
	enum fc_num_status st = fc_num_u64(v, lo, hi, 0, out);
	char why[128];

	if (st == FC_NUM_OK)
		return 0;
	fprintf(stderr, "flowcap: %s '%s': %s\n", opt, v,
		fc_num_expect(st, lo, hi, why, sizeof(why)));
	return -1;
}

/* Seconds from 0 to hi, to the millisecond: "2", "0.2", "1.25". */
static int parse_secs(const char *opt, const char *v, uint64_t hi,
		      uint64_t *ms)
{
	enum fc_num_status st = fc_num_milli(v, 0, hi * 1000, ms);

	if (st == FC_NUM_OK)
		return 0;
	fprintf(stderr, "flowcap: %s '%s': %s; expected seconds from 0 to "
		"%" PRIu64 ", with at most 3 decimals (e.g. 0.5)\n", opt, v,
		st == FC_NUM_RANGE ? "out of range" : "not a number", hi);
	return -1;
}

/*
 * --file-mode: octal permissions of a data file. Read by its owner at
 * least, never executable, no set-id or sticky bit: 0400 to 0666.
 */
static int parse_file_mode(const char *v, int *out)
{
	char *end;
	unsigned long m;

	errno = 0;
	m = strtoul(v, &end, 8);
	if (errno || *v == '\0' || *v == '-' || *v == '+' || *end != '\0' ||
	    (m & ~0666UL) != 0 || (m & 0400) == 0) {
		fprintf(stderr, "flowcap: --file-mode '%s': expected octal "
			"permissions of a data file, readable by its owner "
			"and never executable (0400 to 0666), e.g. 0640\n", v);
		return -1;
	}
	*out = (int)m;
	return 0;
}

/* --file-group: a group name, or a numeric gid that exists. */
static int parse_file_group(const char *v, gid_t *out)
{
	struct group *gr = getgrnam(v);
	char *end;
	unsigned long g;

	if (gr == NULL && *v >= '0' && *v <= '9') {
		errno = 0;
		g = strtoul(v, &end, 10);
		if (errno == 0 && *end == '\0' && g < (gid_t)-1)
			gr = getgrgid((gid_t)g);
	}
	if (gr == NULL) {
		fprintf(stderr, "flowcap: --file-group '%s': no such group; "
			"name an existing group (getent group) or create it "
			"(groupadd --system %s)\n", v, v);
		return -1;
	}
	*out = gr->gr_gid;
	return 0;
}

enum {
	OPT_INTERVAL = 256, OPT_OUT, OPT_NAME, OPT_TEMPLATE, OPT_ROTATE,
	OPT_NOALIGN, OPT_PORTS, OPT_DRVCFG, OPT_READ, OPT_WORKERS,
	OPT_TABLEKEYS, OPT_TABLEKEYS6, OPT_TABLES, OPT_ZSTD, OPT_MAXEMPTY, OPT_IDLE,
	OPT_STATS, OPT_NOSTATS, OPT_TESTDELAY, OPT_TESTWDELAY, OPT_TESTSDELAY,
	OPT_TESTDIRSYNC, OPT_USER, OPT_FILEGROUP, OPT_FILEMODE, OPT_MAXJUMP,
	OPT_VERSION, OPT_ANON, OPT_CLICKHOUSE, OPT_CHQUEUE, OPT_METRICS, OPT_IPFIX, OPT_IPFIXDOM, OPT_DECAP, OPT_FILTER, OPT_FILTERFILE, OPT_CLASSIFY, OPT_CLSBYTES,
	OPT_KEYVLAN, OPT_CLSCACHE,
};

static const struct option longopts[] = {
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"out", required_argument, NULL, OPT_OUT},
	{"name", required_argument, NULL, OPT_NAME},
	{"template", required_argument, NULL, OPT_TEMPLATE},
	{"rotate", required_argument, NULL, OPT_ROTATE},
	{"no-align", no_argument, NULL, OPT_NOALIGN},
	{"ports", required_argument, NULL, OPT_PORTS},
	{"driver-config", required_argument, NULL, OPT_DRVCFG},
	{"read", required_argument, NULL, OPT_READ},
	{"workers", required_argument, NULL, OPT_WORKERS},
	{"table-keys", required_argument, NULL, OPT_TABLEKEYS},
	{"table-keys6", required_argument, NULL, OPT_TABLEKEYS6},
	{"tables", required_argument, NULL, OPT_TABLES},
	{"zstd-level", required_argument, NULL, OPT_ZSTD},
	{"max-empty", required_argument, NULL, OPT_MAXEMPTY},
	{"max-jump", required_argument, NULL, OPT_MAXJUMP},
	{"anonymize", required_argument, NULL, OPT_ANON},
	{"clickhouse", required_argument, NULL, OPT_CLICKHOUSE},
	{"clickhouse-queue", required_argument, NULL, OPT_CHQUEUE},
	{"idle-exit", required_argument, NULL, OPT_IDLE},
	{"stats", no_argument, NULL, OPT_STATS},
	{"no-stats", no_argument, NULL, OPT_NOSTATS},
	{"test-collector-delay", required_argument, NULL, OPT_TESTDELAY},
	{"test-worker-delay", required_argument, NULL, OPT_TESTWDELAY},
	{"test-start-delay", required_argument, NULL, OPT_TESTSDELAY},
	{"test-fail-dirsync", no_argument, NULL, OPT_TESTDIRSYNC},
	{"user", required_argument, NULL, OPT_USER},
	{"file-group", required_argument, NULL, OPT_FILEGROUP},
	{"file-mode", required_argument, NULL, OPT_FILEMODE},
	{"metrics-file", required_argument, NULL, OPT_METRICS},
	{"ipfix", required_argument, NULL, OPT_IPFIX},
	{"decap", no_argument, NULL, OPT_DECAP},
	{"ipfix-domain", required_argument, NULL, OPT_IPFIXDOM},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{"filter", required_argument, NULL, OPT_FILTER},
	{"filter-file", required_argument, NULL, OPT_FILTERFILE},
	{"classify", required_argument, NULL, OPT_CLASSIFY},
	{"classify-bytes", required_argument, NULL, OPT_CLSBYTES},
	{"classify-cache", required_argument, NULL, OPT_CLSCACHE},
	{"key-vlan", no_argument, NULL, OPT_KEYVLAN},
	{NULL, 0, NULL, 0},
};

int fc_options_parse(struct fc_cfg *cfg, int argc, char **argv)
{
	uint64_t v;
	int c;

	cfg->interval = 60;
	cfg->out_dir = ".";
	cfg->name = "flowcap";
	cfg->tmpl = "%N.%s.%P.ft.zst";
	cfg->rotate = 1;
	cfg->align = true;
	cfg->workers_req = 0;
	cfg->table_keys = 0; /* auto, see setup_workers() */
	cfg->tables_per_worker = 0; /* 4 live, 2 for a trace */
	cfg->zstd_level = 3;
	cfg->idle_exit = -1;
	cfg->max_empty = 60;
	cfg->max_jump = 86400;
	cfg->stats = -1;
	cfg->file_gid = (gid_t)-1;
	cfg->file_mode = -1;
	cfg->classify_bytes = 512;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_INTERVAL:
			if (parse_u64("--interval", optarg, 1, 86400 * 366, &v))
				return -1;
			cfg->interval = (uint32_t)v;
			break;
		case OPT_OUT: cfg->out_dir = optarg; break;
		case OPT_NAME: cfg->name = optarg; break;
		case OPT_TEMPLATE: cfg->tmpl = optarg; break;
		case OPT_ROTATE:
			if (parse_u64("--rotate", optarg, 1, 1000000, &v))
				return -1;
			cfg->rotate = (uint32_t)v;
			break;
		case OPT_NOALIGN: cfg->align = false; break;
		case OPT_PORTS:
			cfg->ports = optarg;
			if (parse_port_list(cfg, optarg) != 0)
				return -1;
			break;
		case OPT_DRVCFG: cfg->drvcfg_path = optarg; break;
		case OPT_READ:
			if (cfg->n_reads == FC_MAX_READS) {
				fprintf(stderr, "flowcap: at most %d --read files\n",
					FC_MAX_READS);
				return -1;
			}
			cfg->reads[cfg->n_reads++] = optarg;
			break;
		case OPT_WORKERS:
			if (parse_u64("--workers", optarg, 1, FC_MAX_WORKERS, &v))
				return -1;
			cfg->workers_req = (unsigned)v;
			break;
		case OPT_TABLEKEYS:
			if (parse_u64("--table-keys", optarg, 64, 1ULL << 32, &v))
				return -1;
			cfg->table_keys = v;
			break;
		case OPT_TABLEKEYS6:
			if (parse_u64("--table-keys6", optarg, 64, 1ULL << 31, &v))
				return -1;
			cfg->table_keys6 = v;
			break;
		case OPT_TABLES:
			if (parse_u64("--tables", optarg, 2, 64, &v))
				return -1;
			cfg->tables_per_worker = (unsigned)v;
			break;
		case OPT_ZSTD:
			if (parse_u64("--zstd-level", optarg, 1, 19, &v))
				return -1;
			cfg->zstd_level = (int)v;
			break;
		case OPT_MAXEMPTY:
			if (parse_u64("--max-empty", optarg, 1, 1000000, &v))
				return -1;
			cfg->max_empty = (uint32_t)v;
			break;
		case OPT_ANON: {
			char err[512];

			if (fc_anon_key_load(optarg, cfg->anon_key, err,
					     sizeof(err)) != 0) {
				fprintf(stderr, "flowcap: --anonymize %s\n", err);
				return -1;
			}
			cfg->anon = true;
			break;
		}
		case OPT_CLICKHOUSE: cfg->ch_url = optarg; break;
		case OPT_CHQUEUE:
			if (parse_u64("--clickhouse-queue", optarg, 1, 65536, &v))
				return -1;
			cfg->ch_queue_mb = (unsigned)v;
			break;
		case OPT_MAXJUMP:
			if (parse_u64("--max-jump", optarg, 0,
				      100ULL * 366 * 86400, &v))
				return -1;
			cfg->max_jump = v;
			break;
		case OPT_IDLE:
			if (parse_secs("--idle-exit", optarg, 86400, &v))
				return -1;
			cfg->idle_exit = (double)v / 1000.0;
			break;
		case OPT_TESTDELAY:
			if (parse_u64("--test-collector-delay", optarg, 0,
				      600000, &v))
				return -1;
			cfg->test_collector_delay_ms = (uint32_t)v;
			break;
		case OPT_TESTWDELAY:
			if (parse_u64("--test-worker-delay", optarg, 0,
				      1000000, &v))
				return -1;
			cfg->test_worker_delay_us = (uint32_t)v;
			break;
		case OPT_TESTSDELAY:
			if (parse_u64("--test-start-delay", optarg, 0, 600000,
				      &v))
				return -1;
			cfg->test_start_delay_ms = (uint32_t)v;
			break;
		case OPT_TESTDIRSYNC:
			/* A disk whose directory fsync fails. */
			fc_ft_test_fail_dirsync(true);
			break;
		case OPT_USER: cfg->user = optarg; break;
		case OPT_FILEGROUP:
			if (parse_file_group(optarg, &cfg->file_gid) != 0)
				return -1;
			cfg->file_group = optarg;
			break;
		case OPT_FILEMODE:
			if (parse_file_mode(optarg, &cfg->file_mode) != 0)
				return -1;
			break;
		case OPT_METRICS: cfg->metrics_file = optarg; break;
		case OPT_IPFIX: cfg->ipfix = optarg; break;
		case OPT_DECAP: cfg->decap = true; break;
		case OPT_IPFIXDOM:
			if (parse_u64("--ipfix-domain", optarg, 0, UINT32_MAX,
				      &v))
				return -1;
			cfg->ipfix_domain = (uint32_t)v;
			break;
		case OPT_FILTER: cfg->filter = optarg; break;
		case OPT_FILTERFILE: cfg->filter_file = optarg; break;
		case OPT_CLASSIFY: cfg->classify = optarg; break;
		case OPT_CLSBYTES:
			if (parse_u64("--classify-bytes", optarg, 1, 65535, &v))
				return -1;
			cfg->classify_bytes = (uint32_t)v;
			break;
		case OPT_KEYVLAN: cfg->key_vlan = true; break;
		case OPT_CLSCACHE: cfg->classify_cache = optarg; break;
		case OPT_STATS: cfg->stats = 1; break;
		case OPT_NOSTATS: cfg->stats = 0; break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			fc_version_print("flowcap");
			exit(0);
		default:
			fprintf(stderr,
				"flowcap: unknown or incomplete option '%s'; "
				"see flowcap --help\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (cfg->filter != NULL && cfg->filter_file != NULL) {
		fprintf(stderr, "flowcap: --filter and --filter-file are both "
			"given; give one of them\n");
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr,
			"flowcap: unexpected argument '%s' (EAL options go "
			"before '--', flowcap options after it); see "
			"flowcap --help\n",
			argv[optind]);
		return -1;
	}
	return 0;
}

/*
 * The file names the run will write, checked before it starts: a name the
 * file system refuses would otherwise cost every interval of the run. The
 * template is expanded for now and for a date whose names are the longest
 * a strftime conversion gives (a Wednesday in September), in the output
 * directory the files go to.
 */
static int check_file_name(const struct fc_cfg *cfg)
{
	const uint64_t when[] = { fc_wall_now_ns() / 1000000000ULL,
				  1914710400 /* 2030-09-04 */ };
	char name[PATH_MAX], err[512];

	for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
		int rc = fc_template_expand(name, sizeof(name), cfg->tmpl,
					    cfg->name, FC_PLUGIN_FLOWTUPLE,
					    when[i]);

		if (rc == -ENAMETOOLONG)
			snprintf(err, sizeof(err), "the file name is longer "
				 "than PATH_MAX (%d bytes)", PATH_MAX);
		else if (rc != 0)
			snprintf(err, sizeof(err), "%s", strerror(-rc));
		else
			rc = fc_ft_name_check(cfg->out_dir, name, err,
					      sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "flowcap: --name '%.64s%s' with "
				"--template '%.64s%s': %s; shorten or change "
				"them\n", cfg->name,
				strlen(cfg->name) > 64 ? "..." : "", cfg->tmpl,
				strlen(cfg->tmpl) > 64 ? "..." : "", err);
			return -1;
		}
	}
	return 0;
}

/*
 * --file-group must be a group the files can be given to: with --user, a
 * group of that user (the files are created after the switch); otherwise
 * tried on an unnamed file in the output directory (O_TMPFILE, never
 * visible), which answers for root without CAP_CHOWN too (the systemd
 * unit's capability bounding set).
 */
static int check_file_group(const struct fc_cfg *cfg)
{
	if (cfg->file_gid == (gid_t)-1)
		return 0;
	if (cfg->user != NULL) {
		struct passwd *pw = getpwnam(cfg->user);
		gid_t groups[256];
		int n = 256;

		if (pw == NULL)
			return 0; /* refused above */
		if (pw->pw_gid == cfg->file_gid)
			return 0;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
			n = 0;
		for (int i = 0; i < n; i++)
			if (groups[i] == cfg->file_gid)
				return 0;
		fprintf(stderr, "flowcap: --file-group %s: --user %s is not a "
			"member of it, so cannot give files to it; add it "
			"(usermod -a -G %s %s) or name one of its groups\n",
			cfg->file_group, cfg->user, cfg->file_group, cfg->user);
		return -1;
	}
	int fd = open(cfg->out_dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0)
		return 0; /* no O_TMPFILE here: the writer will say */
	if (fchown(fd, (uid_t)-1, cfg->file_gid) != 0) {
		int e = errno;

		close(fd);
		fprintf(stderr, "flowcap: --file-group %s: cannot give files "
			"in '%s' to it: %s; run flowcap as a member of the "
			"group, or with CAP_CHOWN\n",
			cfg->file_group, cfg->out_dir, strerror(e));
		return -1;
	}
	close(fd);
	return 0;
}

static int check_cfg(const struct fc_cfg *cfg)
{
	char err[512];
	struct stat st;

	if (fc_template_check(cfg->tmpl, err, sizeof(err)) != 0) {
		fprintf(stderr, "flowcap: --template: %s\n", err);
		return -1;
	}
	if (cfg->classify_cache != NULL) {
		struct stat cs;

		if (cfg->classify == NULL) {
			fprintf(stderr, "flowcap: --classify-cache applies to "
				"--classify RULES: add it or drop the cache\n");
			return -1;
		}
		if (stat(cfg->classify_cache, &cs) != 0 || !S_ISDIR(cs.st_mode)) {
			fprintf(stderr, "flowcap: --classify-cache '%s' is not "
				"a directory; create it (mkdir -p %s) or pass "
				"another\n", cfg->classify_cache,
				cfg->classify_cache);
			return -1;
		}
	}
	if (cfg->ch_queue_mb != 0 && cfg->ch_url == NULL) {
		fprintf(stderr, "flowcap: --clickhouse-queue applies to "
			"--clickhouse URL: add it or drop the queue size\n");
		return -1;
	}
	if (fc_ft_monitor_check(cfg->name, err, sizeof(err)) != 0) {
		fprintf(stderr, "flowcap: --name: %s; pick a name of letters, "
			"digits and punctuation such as telescope-1\n", err);
		return -1;
	}
	if (stat(cfg->out_dir, &st) != 0) {
		fprintf(stderr, "flowcap: output directory '%s' does not exist; "
			"create it (mkdir -p %s) or pass another --out\n",
			cfg->out_dir, cfg->out_dir);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "flowcap: --out '%s' is not a directory; pass "
			"the directory the files should go to\n",
			cfg->out_dir);
		return -1;
	}
	if (access(cfg->out_dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "flowcap: output directory '%s' is not writable "
			"(%s); fix its permissions or pass another --out\n",
			cfg->out_dir, strerror(errno));
		return -1;
	}
	if (check_file_name(cfg) != 0)
		return -1;
	if (cfg->user != NULL && getpwnam(cfg->user) == NULL) {
		fprintf(stderr, "flowcap: --user '%s': no such user; create it "
			"(useradd --system %s) or name another\n",
			cfg->user, cfg->user);
		return -1;
	}
	if (check_file_group(cfg) != 0)
		return -1;
	if (fc_metrics_check(cfg) != 0 || fc_ipfix_check(cfg) != 0)
		return -1;
	if (cfg->drvcfg_path != NULL) {
		int rc = fc_drvcfg_load(cfg->drvcfg_path, &fc_app.drv, err,
					sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "flowcap: --driver-config: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/*
 * Options that name a device or a port mean nothing to trace input: the
 * feeder opens no device. Refuse them rather than ignore them. eal_argv
 * holds the EAL options (before '--'), eal_argc of them, or none.
 */
static int check_read_conflicts(const struct fc_cfg *cfg, int eal_argc,
				char **eal_argv)
{
	static const char *const dev_opts[] = {
		"--vdev", "-a", "--allow", "-b", "--block", "-w",
		"--pci-whitelist", "--pci-blacklist",
	};

	if (cfg->n_reads == 0)
		return 0;
	if (cfg->ports != NULL || cfg->drvcfg_path != NULL) {
		fprintf(stderr, "flowcap: %s selects DPDK ports; --read reads "
			"a trace and opens no port: drop %s, or drop --read to "
			"capture from ports\n",
			cfg->ports ? "--ports" : "--driver-config",
			cfg->ports ? "--ports" : "--driver-config");
		return -1;
	}
	for (int i = 1; i < eal_argc; i++)
		for (size_t k = 0; k < sizeof(dev_opts) / sizeof(dev_opts[0]);
		     k++) {
			size_t l = strlen(dev_opts[k]);

			/* "--vdev X", "--vdev=X"; "-aX" for short ones */
			if (strncmp(eal_argv[i], dev_opts[k], l) != 0 ||
			    (eal_argv[i][l] != '\0' && eal_argv[i][l] != '=' &&
			     dev_opts[k][1] == '-'))
				continue;
			fprintf(stderr, "flowcap: EAL option %s names a device; "
				"--read reads the trace itself and opens no "
				"device: drop %s (a net_pcap replay needs no "
				"--read), or drop --read\n",
				eal_argv[i], dev_opts[k]);
			return -1;
		}
	return 0;
}

/* Build EAL arguments for trace input when the user gave none: no PCI
 * scan, in memory, hugepages only if some are free. */
int fc_options_eal_defaults(const struct fc_cfg *cfg, char **out, int max,
			    char *store, size_t storelen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned lcores = (cfg->workers_req ? cfg->workers_req : 1) + 2;
	int n = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long free_huge = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %lu", &free_huge) == 1)
			break;
	if (f)
		fclose(f);
	if (ncpu < 1)
		ncpu = 1;
	snprintf(store, storelen, "--lcores=(0-%u)@(0-%ld)", lcores - 1,
		 ncpu - 1);
	out[n++] = "flowcap";
	out[n++] = store;
	out[n++] = "--no-pci";
	out[n++] = "--no-telemetry";
	out[n++] = "--log-level=lib.eal:error";
	if (free_huge < 256) {
		/* --no-huge implies legacy memory, which --in-memory refuses;
		 * --no-shconf keeps concurrent runs apart instead. */
		out[n++] = "--no-huge";
		out[n++] = "--no-shconf";
		out[n++] = "-m";
		out[n++] = "256";
	} else {
		out[n++] = "--in-memory";
	}
	(void)max;
	return n;
}

int fc_options_check(const struct fc_cfg *cfg, int eal_argc, char **eal_argv)
{
	if (check_read_conflicts(cfg, eal_argc, eal_argv) != 0 ||
	    check_cfg(cfg) != 0)
		return -1;
	return 0;
}

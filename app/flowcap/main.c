/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap: capture packets from DPDK ports (or read pcap traces) and write
 * per-interval flowtuple aggregates to zstd-compressed files.
 *
 * Roles: the main lcore does control (signals, the stats line, the end of
 * a trace, the shared clock) and, with --read, reads the traces; the next
 * lcore is the collector; every other lcore is a worker. This file holds
 * option parsing, EAL start-up, the control loop and the exit summary.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>

#include "fc_app.h"
#include "fc_count.h"
#include "fc_ftdir.h"
#include "fc_trace.h"
#include "fc_version.h"

struct fc_app fc_app;
static volatile sig_atomic_t sig_count;
/* SIGHUPs received (the handler's count) and reported (the control
 * thread's): one log line per signal, never from the handler. */
static volatile sig_atomic_t sighup_count;
static sig_atomic_t sighup_told;

void fc_log(int problem, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line: lines of several threads never interleave. */
	fprintf(problem ? stderr : stdout, "flowcap: %s", line);
}

uint64_t fc_wall_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* write(2) of a string: async-signal-safe, unlike stdio. */
static void sig_say(const char *s)
{
	ssize_t rc = write(STDERR_FILENO, s, strlen(s));

	(void)rc; /* nothing to do about a lost message here */
}

/* v in decimal, async-signal-safe (no printf in a handler). */
static void sig_say_u64(uint64_t v)
{
	char b[21];
	size_t i = sizeof(b);

	b[--i] = '\0';
	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sig_say(b + i);
}

/*
 * Second SIGINT or SIGTERM while stopping: exit at once, without waiting
 * for the collector. Files are renamed to their final name only when
 * complete, so what is abandoned is at most a NAME.tmp (set aside at the
 * next start) and the packets not yet in a completed file, which are
 * counted here: received by the workers minus settled by the collector
 * (relaxed loads of lock-free atomics are async-signal-safe; a burst in
 * flight may be missed).
 */
static void abandon(int sig)
{
	uint64_t rx = 0, done;

	for (unsigned i = 0; fc_app.workers != NULL && i < fc_app.n_workers;
	     i++)
		rx += atomic_load_explicit(&fc_app.workers[i].pub_rx,
					   memory_order_relaxed);
	done = atomic_load_explicit(&fc_app.pkts_settled,
				    memory_order_relaxed);
	sig_say("flowcap: second signal: exiting at once; abandoned ");
	sig_say_u64(rx > done ? rx - done : 0);
	sig_say(" packet(s) received but not yet in a completed file (");
	sig_say_u64(atomic_load_explicit(&fc_app.intervals_written,
					 memory_order_relaxed));
	sig_say(" interval(s) were written); an unfinished .tmp file is set "
		"aside at the next start\n");
	_exit(128 + sig);
}

static void on_signal(int sig)
{
	/* Only flags and write(2) here. A second signal ends the process
	 * at once. */
	if (sig_count++ > 0)
		abandon(sig);
	atomic_store(&fc_app.stop, 2);
	sig_say("flowcap: stopping: writing the partial interval; signal "
		"again to exit at once and abandon what is not written\n");
}

/*
 * SIGHUP asks a daemon to reload its configuration; a closed terminal or
 * SSH session sends it too. Its default action would end the capture at
 * once and lose the current interval, so it only counts here; the
 * control thread says what it did (note_sighup).
 */
static void on_sighup(int sig)
{
	(void)sig;
	sighup_count++;
}

/* One line per SIGHUP since the last call. Nothing is reloadable yet:
 * until rules or filters exist, the capture simply goes on. */
static void note_sighup(void)
{
	while (sighup_told != sighup_count) {
		sighup_told++;
		printf("flowcap: SIGHUP: nothing to reload (no rules or filters "
		       "configured)\n");
	}
}

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
"  --idle-exit SECS   stop after SECS without packets (default: 2 when\n"
"                     every port is a net_pcap replay, else never)\n"
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
"  --test-collector-delay MS  fault injection for tests: the collector\n"
"                     sleeps MS before each interval (a stalled disk)\n"
"  --test-worker-delay US  fault injection for tests: a live worker\n"
"                     sleeps US after each burst it receives (a slow\n"
"                     worker, so the NIC or its queue overflows)\n"
"  --test-start-delay MS  fault injection for tests: sleep MS before\n"
"                     the EAL starts (a slow start-up)\n"
"  --test-fail-dirsync  fault injection for tests: every fsync of the\n"
"                     output directory fails (a failing disk)\n"
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
"session closes) is logged and capture goes on; a closed stdout or stderr\n"
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
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *v == '\0' || *v == '-' || *end != '\0' || x < lo ||
	    x > hi) {
		fprintf(stderr,
			"flowcap: %s '%s': expected an integer from %" PRIu64
			" to %" PRIu64 "\n",
			opt, v, lo, hi);
		return -1;
	}
	*out = x;
	return 0;
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
	OPT_VERSION,
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
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static int parse_args(struct fc_cfg *cfg, int argc, char **argv)
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
		case OPT_MAXJUMP:
			if (parse_u64("--max-jump", optarg, 0,
				      100ULL * 366 * 86400, &v))
				return -1;
			cfg->max_jump = v;
			break;
		case OPT_IDLE:
			if (parse_u64("--idle-exit", optarg, 0, 86400, &v))
				return -1;
			cfg->idle_exit = (double)v;
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
static int default_eal_args(const struct fc_cfg *cfg, char **out, int max,
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

/* One line of fc_ft_dir_leftovers on stderr. */
static void note_leftover(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "flowcap: %s\n", msg);
}

/*
 * A .tmp file left in the output directory is what a run killed in the
 * middle of a write leaves (SIGKILL, power loss). Its complete blocks are
 * readable (flowcap-read warns at the cut), but it must never be taken for
 * a finished file: it is renamed to NAME.incomplete, out of every loader's
 * *.ft.zst pattern. Only under the directory's lock (lock_out_dir): a live
 * writer's .tmp is not a left-over.
 */
static void handle_leftovers(const char *dir)
{
	int n = fc_ft_dir_leftovers(dir, note_leftover, NULL);

	if (n > 0)
		fprintf(stderr, "flowcap: %d incomplete file(s) from an earlier "
			"run set aside\n", n);
}

/*
 * One output directory has one writer: two runs writing into it would take
 * each other's .tmp files for left-overs and each other's names for
 * collisions. The lock is held until the process ends, however it ends.
 */
static int lock_out_dir(const struct fc_cfg *cfg, int argc, char **argv)
{
	char owner[400], err[1024];
	size_t o = 0;
	int fd;

	owner[0] = '\0';
	for (int i = 0; i < argc && o + 1 < sizeof(owner); i++) {
		int n = snprintf(owner + o, sizeof(owner) - o, "%s%s",
				 i ? " " : "", argv[i]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o >= sizeof(owner))
		o = sizeof(owner) - 1;
	fd = fc_ft_dir_lock(cfg->out_dir, owner, err, sizeof(err));
	if (fd == -EWOULDBLOCK) {
		fprintf(stderr, "flowcap: output directory '%s' is in use by "
			"another flowcap: %s; one directory has one writer: "
			"stop that run or pass another --out\n",
			cfg->out_dir, err);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "flowcap: --out '%s': %s; fix the directory's "
			"permissions or pass another --out\n",
			cfg->out_dir, err);
		return -1;
	}
	/* Kept open (close-on-exec) until the process ends. */
	return 0;
}

/*
 * --user: drop root for good once the EAL and the ports are set up. Every
 * input that needs root is open by then (the --read traces, standard
 * input, the --driver-config file); the output directory must be
 * writable by the user, checked here.
 */
static int drop_privileges(const struct fc_cfg *cfg)
{
	struct passwd *pw = getpwnam(cfg->user);

	if (pw == NULL || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		fprintf(stderr, "flowcap: --user %s: cannot switch to it: %s\n",
			cfg->user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		fprintf(stderr, "flowcap: --user %s: root could be regained; "
			"refusing to run\n", cfg->user);
		return -1;
	}
	if (access(cfg->out_dir, W_OK | X_OK) != 0) {
		fprintf(stderr, "flowcap: --user %s cannot write to '%s': %s; "
			"chown or chmod the directory\n",
			cfg->user, cfg->out_dir, strerror(errno));
		return -1;
	}
	printf("flowcap: running as user %s (uid %u)\n", pw->pw_name,
	       (unsigned)pw->pw_uid);
	return 0;
}

/* IPv6 keys per table: --table-keys6, or an eighth of the IPv4 keys. */
static uint64_t table_keys6(const struct fc_cfg *cfg, uint64_t keys4)
{
	return cfg->table_keys6 ? cfg->table_keys6 :
				  fc_flowtable_keys6_for(keys4);
}

static int setup_workers(struct fc_app *app)
{
	unsigned lc, i = 0;
	unsigned n_lcores = rte_lcore_count();
	uint64_t k6;

	if (n_lcores < 3) {
		fprintf(stderr,
			"flowcap: needs at least 3 lcores (1 control, 1 "
			"collector, 1 or more workers), got %u; e.g. -l 0-2, or "
			"--lcores '(0-2)@(0-1)' on a machine with fewer CPUs\n",
			n_lcores);
		return -1;
	}
	app->n_workers = n_lcores - 2;
	if (app->n_workers > FC_MAX_WORKERS)
		app->n_workers = FC_MAX_WORKERS;
	/* --workers with EAL options of one's own: that many of the worker
	 * lcores they give; the rest stay idle. More than they give cannot
	 * be honoured. */
	if (app->cfg.workers_req > app->n_workers) {
		fprintf(stderr,
			"flowcap: --workers %u needs %u lcores (control, "
			"collector, workers), the EAL options give %u; give "
			"more lcores (e.g. --lcores '(0-%u)@(0-%ld)') or fewer "
			"--workers\n",
			app->cfg.workers_req, app->cfg.workers_req + 2, n_lcores,
			app->cfg.workers_req + 1,
			sysconf(_SC_NPROCESSORS_ONLN) - 1);
		return -EINVAL;
	}
	if (app->cfg.workers_req != 0 &&
	    app->cfg.workers_req < app->n_workers) {
		printf("flowcap: --workers %u: using %u of the %u worker "
		       "lcores the EAL options give; the other %u stay idle\n",
		       app->cfg.workers_req, app->cfg.workers_req,
		       app->n_workers, app->n_workers - app->cfg.workers_req);
		app->n_workers = app->cfg.workers_req;
	}
	/* On a trace the feeder runs worker 0 on its own thread (no ring
	 * hop; the bytes it just read are still in its cache); the others,
	 * if any, take the bursts their rings have room for. */
	app->inline_worker = app->trace_mode;
	app->workers = rte_zmalloc("fc_workers",
				   sizeof(struct fc_worker) * app->n_workers,
				   RTE_CACHE_LINE_SIZE);
	if (app->workers == NULL)
		return -1;
	if (app->cfg.table_keys == 0) {
		/* Default: 1M IPv4 keys (and --table-keys6, or an eighth
		 * of them, IPv6 keys) per table, less when all tables of all
		 * workers would take more than a quarter of the memory
		 * (fc_flowtable_mem_size_parts counts both parts and their
		 * indexes). */
		uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) *
			       (uint64_t)sysconf(_SC_PAGESIZE);
		uint64_t per = mem / 4 /
			       (app->n_workers * app->cfg.tables_per_worker);
		uint64_t keys = 1u << 20;

		while (keys > 4096 &&
		       fc_flowtable_mem_size_parts(keys, table_keys6(&app->cfg,
								keys)) > per)
			keys >>= 1;
		app->cfg.table_keys = keys;
	}
	k6 = table_keys6(&app->cfg, app->cfg.table_keys);
	app->collector_lcore = rte_get_next_lcore(-1, 1, 0);
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (lc == app->collector_lcore)
			continue;
		if (i == app->n_workers)
			break;
		struct fc_worker *w = &app->workers[i];
		char name[32];

		w->id = i;
		w->lcore = lc;
		w->burst = app->drv.burst ? app->drv.burst : FC_BURST;
		if (w->burst > FC_BURST_MAX)
			w->burst = FC_BURST_MAX;
		w->src = app->trace_mode ? FC_SRC_RING : FC_SRC_ETHDEV;
		/* Only the slots a burst uses are touched; the rest of its
		 * 88 KB is never faulted in. */
		if (posix_memalign((void **)&w->stg, RTE_CACHE_LINE_SIZE,
				   sizeof(*w->stg)) != 0) {
			w->stg = NULL;
			return -1;
		}
		fc_count_drop(w->stg);
		snprintf(name, sizeof(name), "fc_free_%u", i);
		w->free = rte_ring_create(name, 128, rte_socket_id(),
					  RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (w->free == NULL)
			return -1;
		if (app->trace_mode) {
			snprintf(name, sizeof(name), "fc_in_%u", i);
			w->in = rte_ring_create(name, FC_TRACE_RING, rte_socket_id(),
						RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (w->in == NULL)
				return -1;
			w->descs = calloc(FC_DESC_N, sizeof(*w->descs));
			if (w->descs == NULL)
				return -1;
		}
		for (unsigned t = 0; t < app->cfg.tables_per_worker; t++) {
			struct fc_wtable *wt = calloc(1, sizeof(*wt));

			if (wt == NULL)
				return -1;
			wt->ft = fc_flowtable_create_parts(app->cfg.table_keys, k6);
			if (wt->ft == NULL) {
				fprintf(stderr,
					"flowcap: cannot reserve a table of %" PRIu64
					" IPv4 + %" PRIu64 " IPv6 keys (%" PRIu64
					" MB); lower --table-keys or --table-keys6\n",
					app->cfg.table_keys, k6,
					fc_flowtable_mem_size_parts(app->cfg.table_keys,
							       k6) >> 20);
				free(wt);
				return -1;
			}
			rte_ring_sp_enqueue(w->free, wt);
		}
		atomic_store(&w->watermark, 0);
		i++;
	}
	printf("flowcap: lcore %u control%s, lcore %u collector, %u worker(s)%s; "
	       "%u tables of %" PRIu64 " IPv4 + %" PRIu64 " IPv6 keys "
	       "(%.1f MB each) per worker\n",
	       rte_get_main_lcore(), app->trace_mode ? " + trace feeder" : "",
	       app->collector_lcore, app->n_workers,
	       !app->inline_worker ? "" :
	       app->n_workers == 1 ? " run by the feeder" :
				     " (worker 0 run by the feeder)",
	       app->cfg.tables_per_worker, app->cfg.table_keys, k6,
	       (double)fc_flowtable_mem_size_parts(app->cfg.table_keys, k6) / 1048576);
	return 0;
}

/* Every table is back on its worker's free ring once the run is over. */
static void free_tables(struct fc_app *app)
{
	for (unsigned i = 0; i < app->n_workers; i++) {
		struct fc_worker *w = &app->workers[i];
		void *p;

		while (w->free != NULL && rte_ring_sc_dequeue(w->free, &p) == 0) {
			struct fc_wtable *t = p;

			fc_flowtable_free(t->ft);
			free(t);
		}
		free(w->descs);
		w->descs = NULL;
		free(w->stg);
		w->stg = NULL;
	}
}

/*
 * The per-second line. Loss (tbl_full, no_table, the NIC's drops) and
 * rejects (frames without a flowtuple: not IP, truncated, malformed) are
 * shown apart: a link carrying ARP rejects frames all the time, and that
 * is no loss. The totals that end the line count what reached the ports,
 * NIC drops included, as the summary does.
 */
static void print_stats_line(struct fc_app *app, uint64_t *prev, double dt)
{
	char buf[2048];
	int o = 0;
	uint64_t rx_all = 0, lost_all = 0, rej_all = 0;

	o += snprintf(buf + o, sizeof(buf) - (size_t)o, "flowcap:");
	/* Every worker is in the totals that end the line; its own fields
	 * only while the line has room (machines with many workers): at
	 * most 800 bytes of them, then 100 per worker, the NIC's 100 and
	 * the totals' 180 always fit. */
	for (unsigned i = 0; i < app->n_workers; i++) {
		uint64_t rx = atomic_load_explicit(&app->workers[i].pub_rx,
						   memory_order_relaxed);
		uint64_t lost = atomic_load_explicit(
			&app->workers[i].pub_lost, memory_order_relaxed);
		uint64_t rej = atomic_load_explicit(
			&app->workers[i].pub_rej, memory_order_relaxed);

		rx_all += rx;
		lost_all += lost;
		rej_all += rej;
		if (o < 800)
			o += snprintf(buf + o, sizeof(buf) - (size_t)o,
				      " w%u %.2f Mpps lost %" PRIu64
				      " rejected %" PRIu64 " fill %" PRIu64,
				      i,
				      dt > 0 ? (double)(rx - prev[i]) / dt /
						       1e6 :
					       0.0,
				      lost, rej,
				      atomic_load_explicit(
					      &app->workers[i].pub_fill,
					      memory_order_relaxed));
		prev[i] = rx;
	}
	if (!app->trace_mode) {
		uint64_t im, nb, ie;

		fc_ports_nic_read(app, false, &im, &nb, &ie);
		o += snprintf(buf + o, sizeof(buf) - (size_t)o,
			      " | nic drops imissed %" PRIu64 " nombuf %" PRIu64
			      " ierrors %" PRIu64,
			      im, nb, ie);
		rx_all += im + nb + ie;
		lost_all += im + nb + ie;
	}
	/* Each sink's own failures (the file sink's are the intervals
	 * lost): shown once a sink has failed. */
	for (unsigned i = 0; i < app->sinks.n && o < 900; i++) {
		uint64_t f = atomic_load_explicit(
			&app->sinks.s[i].intervals_failed, memory_order_relaxed);

		if (f != 0)
			o += snprintf(buf + o, sizeof(buf) - (size_t)o,
				      " | sink %s failed %" PRIu64,
				      app->sinks.s[i].ops->name, f);
	}
	snprintf(buf + o, sizeof(buf) - (size_t)o,
		 " | backlog %" PRIu64 " | intervals %" PRIu64 " lost %" PRIu64
		 " | rx %" PRIu64 " lost %" PRIu64 " rejected %" PRIu64,
		 atomic_load(&app->backlog), atomic_load(&app->intervals_written),
		 atomic_load(&app->intervals_lost), rx_all, lost_all, rej_all);
	fprintf(stderr, "%s\n", buf);
}

/* Live capture control loop: the shared clock, idle exit, stats, signals. */
static void control_loop(struct fc_app *app)
{
	uint64_t hz = rte_get_tsc_hz(), t_last_rx = rte_rdtsc();
	uint64_t next_stats = rte_rdtsc() + hz, last_total = 0;
	uint64_t prev[FC_MAX_WORKERS] = {0};
	double idle = app->cfg.idle_exit;
	uint64_t marks[FC_MAX_WORKERS];

	if (idle < 0)
		idle = app->hw_ts ? 2.0 : 0.0;
	while (!atomic_load(&app->stop)) {
		uint64_t now = rte_rdtsc(), total = 0, wm;

		note_sighup();

		for (unsigned i = 0; i < app->n_workers; i++) {
			/* Partner: the worker's release store of its
			 * watermark. */
			marks[i] = atomic_load_explicit(
				&app->workers[i].watermark, memory_order_acquire);
			total += atomic_load_explicit(&app->workers[i].pub_rx,
						      memory_order_relaxed);
		}
		/* Live time (no replayed times): the clock runs even with no
		 * traffic, so empty intervals close on time. */
		wm = fc_interval_shared_clock(
			marks, app->n_workers,
			app->hw_ts ? 0 : fc_wall_now_ns() / 1000000000ULL);
		/* Partner: the acquire load in idle workers. */
		if (wm > atomic_load(&app->clock))
			atomic_store_explicit(&app->clock, wm,
					      memory_order_release);
		/* End of a replay: no packet for `idle` seconds, and every
		 * worker has really been polling meanwhile (a worker starved
		 * of CPU is not a sign that the input has ended). */
		bool polling = true;

		for (unsigned i = 0; i < app->n_workers; i++)
			if (atomic_load_explicit(&app->workers[i].pub_empty,
						 memory_order_relaxed) < 1000)
				polling = false;
		if (total != last_total) {
			last_total = total;
			t_last_rx = now;
		} else if (idle > 0 && polling &&
			   (double)(now - t_last_rx) / (double)hz >= idle) {
			printf("flowcap: no packets for %.0f s: end of input\n",
			       idle);
			atomic_store(&app->stop, 1);
			break;
		}
		/* Main owns the NIC counters (see fc_port.c): a fresh
		 * reading every round, for the stats line and the
		 * collector's intervals. */
		fc_ports_nic_update(app);
		if (app->cfg.stats > 0 && now >= next_stats) {
			print_stats_line(app, prev, 1.0);
			next_stats = now + hz;
		}
		rte_delay_us_sleep(10000);
	}
}

static void summary(struct fc_app *app, double secs)
{
	uint64_t lost = 0, rej = 0;

	for (unsigned i = 1; i < FC_CTR_INFO_FIRST; i++)
		if (i < FC_CTR_LOSS_FIRST)
			rej += app->tot_ctr[i];
		else
			lost += app->tot_ctr[i];
	printf("flowcap: summary: %" PRIu64 " packets received, %" PRIu64
	       " in records, %" PRIu64 " lost, %" PRIu64 " rejected (no "
	       "flowtuple: not IP, truncated or malformed); %" PRIu64
	       " intervals written to %" PRIu64 " files, %" PRIu64
	       " intervals lost; %.2f s\n",
	       app->tot_rx, app->tot_rec, lost, rej,
	       atomic_load(&app->intervals_written),
	       atomic_load(&app->files_written),
	       atomic_load(&app->intervals_lost), secs);
	for (unsigned i = 1; i < FC_CTR_MAX; i++)
		if (app->tot_ctr[i] && fc_ft_counter_name(i))
			printf("flowcap:   %-12s %" PRIu64 " (%s)\n",
			       fc_ft_counter_name(i), app->tot_ctr[i],
			       i >= FC_CTR_INFO_FIRST ? "counted in records" :
			       i >= FC_CTR_LOSS_FIRST ? "lost" : "rejected");
	for (unsigned i = 0; i < app->sinks.n; i++) {
		const struct fc_sink *k = &app->sinks.s[i];
		int st = atomic_load(&k->last_status);

		printf("flowcap:   sink %s: %" PRIu64 " interval(s) taken, %" PRIu64
		       " failed%s%s\n",
		       k->ops->name, atomic_load(&k->intervals_ok),
		       atomic_load(&k->intervals_failed),
		       st ? "; last failure: " : "",
		       st ? k->ops->strerror(k->ctx, st) : "");
	}
	if (atomic_load(&app->files_unsynced))
		printf("flowcap:   %" PRIu64 " file(s) complete, but their "
		       "directory could not be synced: their names may not "
		       "survive a power loss (check the disk)\n",
		       atomic_load(&app->files_unsynced));
	if (atomic_load(&app->late_handoffs))
		printf("flowcap:   %" PRIu64 " interval(s) flagged late: the "
		       "collector fell behind and packets were dropped as "
		       "no_table\n",
		       atomic_load(&app->late_handoffs));
	printf("flowcap: conservation %s: received %" PRIu64 " = %" PRIu64
	       " in records + %" PRIu64 " lost + %" PRIu64 " rejected\n",
	       app->conservation_ok &&
			       app->tot_rx == app->tot_rec + lost + rej ?
		       "OK" : "FAILED",
	       app->tot_rx, app->tot_rec, lost, rej);
}

int main(int argc, char **argv)
{
	struct fc_app *app = &fc_app;
	char *eal_argv[32], store[128];
	int eal_argc, app_argc, rc, dd = -1, feeder_rc = 0;
	bool bad_cmdline = false;
	char **app_argv;
	uint64_t t0;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dd = i;
			break;
		}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Options first: --help and mistakes never wait for the EAL. */
	if (dd >= 0) {
		app_argc = argc - dd;
		app_argv = argv + dd;
	} else {
		app_argc = argc;
		app_argv = argv;
	}
	fc_drvcfg_defaults(&app->drv);
	if (parse_args(&app->cfg, app_argc, app_argv) != 0 ||
	    check_read_conflicts(&app->cfg, dd >= 0 ? dd : 0, argv) != 0 ||
	    check_cfg(&app->cfg) != 0 ||
	    lock_out_dir(&app->cfg, argc, argv) != 0)
		return 2;
	/* Every trace is opened now, before the EAL and before --user
	 * drops privileges, and read later through these descriptors (a
	 * trace under a directory only root may enter still reads). */
	if (app->cfg.n_reads > 0 && fc_feeder_open(&app->cfg) != 0)
		return 2;
	app->trace_mode = app->cfg.n_reads > 0;
	/* A trace waits for the collector instead of dropping: a table
	 * filling and one being written are enough, and every extra table
	 * is fresh memory the kernel must zero. Live capture keeps slack. */
	if (app->cfg.tables_per_worker == 0)
		app->cfg.tables_per_worker = app->trace_mode ? 2 : 4;
	if (app->cfg.stats < 0)
		app->cfg.stats = isatty(STDERR_FILENO);
	/* Before the EAL: starting can take seconds (a large pool, a pcap
	 * loaded into mbufs), and a stop asked for meanwhile must not be
	 * lost, nor kill the process half set up. It is acted on once
	 * running: nothing is captured, and the run ends as a signal ends
	 * it. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_sighup);
	/* A log reader that went away (flowcap ... | head, a dropped SSH
	 * session) makes writes to stdout fail with EPIPE instead of ending
	 * the capture: log lines are lost, files are not. */
	signal(SIGPIPE, SIG_IGN);
	if (app->cfg.test_start_delay_ms) {
		/* Fault injection (--test-start-delay): a slow start-up. A
		 * signal cuts a nanosleep short: sleep out the rest. */
		struct timespec d = {
			.tv_sec = app->cfg.test_start_delay_ms / 1000,
			.tv_nsec = (long)(app->cfg.test_start_delay_ms % 1000) *
				   1000000L,
		};

		while (nanosleep(&d, &d) != 0 && errno == EINTR)
			;
	}
	/* Lcores on CPUs that are not there: a bad command line, said
	 * before the EAL answers it with its option list. */
	if (dd >= 0 && fc_eal_check_lcores(dd, argv) != 0)
		return 2;
	if (dd < 0 && app->trace_mode) {
		eal_argc = default_eal_args(&app->cfg, eal_argv, 32, store,
					    sizeof(store));
		rc = fc_eal_init(eal_argc, eal_argv);
	} else if (dd < 0) {
		char *a0[] = {argv[0], NULL};
		rc = fc_eal_init(1, a0);
	} else {
		argv[dd] = argv[0];
		rc = fc_eal_init(dd, argv);
		argv[dd] = "--";
	}
	/* fc_eal_init said why; an EAL option it cannot take is a bad
	 * command line. */
	if (rc < 0)
		return rte_errno == EINVAL ? 2 : 1;
	app->conservation_ok = true;
	atomic_store(&app->start0, UINT64_MAX);
	cds_wfcq_init(&app->q_head, &app->q_tail);
	/* -EINVAL: the command line asks for what the EAL options or the
	 * ports do not give (--workers, --ports): exit 2, as for any bad
	 * command line. */
	if ((rc = setup_workers(app)) != 0) {
		bad_cmdline = rc == -EINVAL;
		goto err_eal;
	}
	if (app->trace_mode) {
		unsigned n = app->n_workers * (FC_TRACE_RING + 256) + 4096;

		app->pool = rte_pktmbuf_pool_create("fc_trace_pool", n, 256, 0,
						    RTE_MBUF_DEFAULT_BUF_SIZE,
						    (int)rte_socket_id());
		if (app->pool == NULL) {
			fprintf(stderr, "flowcap: cannot create the trace mbuf "
				"pool (%u mbufs): %s; pass -m 512 (with "
				"--no-huge) or reserve hugepages\n",
				n, rte_strerror(rte_errno));
			goto err_eal;
		}
	} else if ((rc = fc_ports_init(app)) != 0) {
		bad_cmdline = rc == -EINVAL;
		goto err_ports;
	}
	if (app->cfg.user != NULL && drop_privileges(&app->cfg) != 0)
		goto err_ports;
	handle_leftovers(app->cfg.out_dir);
	/* The record sinks, the file writer first (the source of truth). */
	if (fc_filesink_add(&app->sinks, app) != 0) {
		fprintf(stderr, "flowcap: out of memory setting up the file "
			"sink\n");
		goto err_ports;
	}
	t0 = rte_rdtsc();
	/* The NIC counters' first reading: the collector's baseline. */
	fc_ports_nic_update(app);
	rte_eal_remote_launch(fc_collector_main, app, app->collector_lcore);
	if (app->inline_worker)
		fc_worker_init(&app->workers[0]);
	for (unsigned i = app->inline_worker ? 1 : 0; i < app->n_workers; i++)
		rte_eal_remote_launch(fc_worker_main, &app->workers[i],
				      app->workers[i].lcore);
	if (app->trace_mode) {
		feeder_rc = fc_feeder_run(app);
		if (!atomic_load(&app->stop))
			atomic_store(&app->stop, 1);
	} else {
		control_loop(app);
	}
	/* Shutdown order: workers seal and hand in, the collector drains
	 * and closes files, then ports stop. */
	/* rte_eal_wait_lcore spins: sleep until the collector (the last to
	 * finish) is done, then reap the lcores. */
	while (!atomic_load_explicit(&app->collector_done, memory_order_acquire)) {
		note_sighup();
		/* Until every worker is done, then once more: the last
		 * reading, which the collector's last interval waits for. */
		fc_ports_nic_update(app);
		rte_delay_us_sleep(1000);
	}
	note_sighup();
	for (unsigned i = 0; i < app->n_workers; i++)
		rte_eal_wait_lcore(app->workers[i].lcore);
	rte_eal_wait_lcore(app->collector_lcore);
	summary(app, (double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	free_tables(app);
	fc_filesink_free(&app->sinks);
	if (!app->trace_mode)
		fc_ports_fini(app);
	rte_eal_cleanup();
	if (!app->conservation_ok)
		return 3;
	if (feeder_rc != 0 || atomic_load(&app->intervals_lost) != 0 ||
	    atomic_load(&app->files_unsynced) != 0)
		return 1;
	return 0;

err_ports:
	fc_ports_fini(app);
err_eal:
	if (app->workers != NULL)
		free_tables(app);
	rte_eal_cleanup();
	return bad_cmdline ? 2 : 1;
}

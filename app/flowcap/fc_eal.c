/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Starting the EAL, and saying why it would not start. Before the EAL
 * runs, the CPUs the lcores ask for (-l, -c, --lcores) are compared with
 * the machine's online CPUs: an lcore on a CPU that is not there is the most
 * common first-run mistake (an example written for a bigger machine), and
 * the EAL answers it with a hundred lines of its option list. When the EAL
 * fails anyway, the likely cause comes first (another instance holds the
 * file prefix, no hugepages), then the EAL's own messages without its
 * option list. It does not second-guess any other EAL option.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "fc_app.h"

/*
 * One CPU group at *pp: "N", "N-M", or with parentheses a list
 * "(N,N-M,...)"; the bits go into out. A bare list "N,N-M" is read by
 * calling this once per item. Returns 0, or -1 when it cannot be read (the
 * EAL will then say what is wrong with it).
 */
static int parse_group(const char **pp, cpu_set_t *out)
{
	const char *p = *pp;
	bool paren = *p == '(';

	if (paren)
		p++;
	for (;;) {
		char *end;
		unsigned long a, b;

		if (!isdigit((unsigned char)*p))
			return -1;
		a = b = strtoul(p, &end, 10);
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			b = strtoul(p, &end, 10);
			p = end;
		}
		if (b < a || b >= CPU_SETSIZE)
			return -1;
		for (unsigned long i = a; i <= b; i++)
			CPU_SET(i, out);
		if (paren && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	if (paren) {
		if (*p != ')')
			return -1;
		p++;
	}
	*pp = p;
	return 0;
}

/* -l LIST: lcore i runs on CPU i. */
static int parse_l(const char *s, cpu_set_t *cpus, unsigned *n)
{
	cpu_set_t l;

	CPU_ZERO(&l);
	for (;;) {
		if (*s == '(' || parse_group(&s, &l) != 0)
			return -1;
		if (*s == '\0')
			break;
		if (*s++ != ',')
			return -1;
	}
	*cpus = l;
	*n = (unsigned)CPU_COUNT(&l);
	return 0;
}

/* -c MASK: hexadecimal, bit i = lcore i on CPU i. */
static int parse_c(const char *s, cpu_set_t *cpus, unsigned *n)
{
	size_t len;

	CPU_ZERO(cpus);
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	len = strlen(s);
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int c = tolower((unsigned char)s[len - 1 - i]);
		int v = isdigit(c) ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		for (int b = 0; b < 4; b++)
			if (v & (1 << b)) {
				if (i * 4 + (size_t)b >= CPU_SETSIZE)
					return -1;
				CPU_SET(i * 4 + (size_t)b, cpus);
			}
	}
	*n = (unsigned)CPU_COUNT(cpus);
	return 0;
}

/* --lcores SPEC: items "L" or "L@C" separated by commas, L and C groups;
 * without '@' the lcores run on the CPUs of the same numbers. */
static int parse_lcores(const char *s, cpu_set_t *cpus, unsigned *n)
{
	cpu_set_t all_l;

	CPU_ZERO(cpus);
	CPU_ZERO(&all_l);
	while (*s != '\0') {
		cpu_set_t l, c;

		CPU_ZERO(&l);
		if (parse_group(&s, &l) != 0)
			return -1;
		c = l;
		if (*s == '@') {
			s++;
			CPU_ZERO(&c);
			if (parse_group(&s, &c) != 0)
				return -1;
		}
		CPU_OR(cpus, cpus, &c);
		CPU_OR(&all_l, &all_l, &l);
		if (*s == ',')
			s++;
		else if (*s != '\0')
			return -1;
	}
	*n = (unsigned)CPU_COUNT(&all_l);
	return 0;
}

/* "0-1,4": a CPU set as a list, for messages. */
static void set_str(const cpu_set_t *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < CPU_SETSIZE && o < len; i++) {
		int j = i;

		if (!CPU_ISSET(i, s))
			continue;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, s))
			j++;
		if (j > i)
			o += (size_t)snprintf(buf + o, len - o, "%s%d-%d",
					      o ? "," : "", i, j);
		else
			o += (size_t)snprintf(buf + o, len - o, "%s%d",
					      o ? "," : "", i);
		i = j;
	}
}

/*
 * The CPUs an lcore may name: those online, as the EAL sees them (it
 * refuses the others); read from sysfs, else the CPUs this process may
 * run on. Returns 0, or -1 when neither can be read.
 */
static int cpus_online(cpu_set_t *on)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	char line[1024];
	unsigned n;
	int rc = -1;

	if (f != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			rc = parse_l(line, on, &n);
		}
		fclose(f);
	}
	if (rc != 0) {
		CPU_ZERO(on);
		rc = sched_getaffinity(0, sizeof(*on), on);
	}
	return rc;
}

int fc_eal_check_lcores(int argc, char **argv)
{
	cpu_set_t have, mine;

	if (cpus_online(&have) != 0)
		return 0; /* nothing to compare with: the EAL will see */
	/* The suggestion maps the lcores onto the CPUs this process may
	 * use (a container or taskset may allow fewer than are online). */
	CPU_ZERO(&mine);
	if (sched_getaffinity(0, sizeof(mine), &mine) != 0)
		mine = have;
	CPU_AND(&mine, &mine, &have);
	if (CPU_COUNT(&mine) == 0)
		mine = have;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *opt, *v = NULL;
		int (*parse)(const char *, cpu_set_t *, unsigned *);
		cpu_set_t want, missing;
		unsigned n = 0;
		char hs[256], ms[256];

		if (strcmp(a, "-l") == 0 || strncmp(a, "-l", 2) == 0) {
			opt = "-l";
			parse = parse_l;
			v = a[2] ? a + 2 : (i + 1 < argc ? argv[i + 1] : NULL);
		} else if (strcmp(a, "-c") == 0 || strncmp(a, "-c", 2) == 0) {
			opt = "-c";
			parse = parse_c;
			v = a[2] ? a + 2 : (i + 1 < argc ? argv[i + 1] : NULL);
		} else if (strcmp(a, "--lcores") == 0 ||
			   strncmp(a, "--lcores=", 9) == 0) {
			opt = "--lcores";
			parse = parse_lcores;
			v = a[8] == '=' ? a + 9 :
					  (i + 1 < argc ? argv[i + 1] : NULL);
		} else {
			continue;
		}
		if (v == NULL || parse(v, &want, &n) != 0 || n == 0)
			continue; /* the EAL says what is wrong with it */
		CPU_AND(&missing, &want, &have);
		CPU_XOR(&missing, &missing, &want);
		if (CPU_COUNT(&missing) == 0)
			continue;
		set_str(&have, hs, sizeof(hs));
		set_str(&missing, ms, sizeof(ms));
		fprintf(stderr,
			"flowcap: %s %s: CPU %s %s not available (this machine "
			"has CPU %s). Run the %u lcores as threads on the CPUs "
			"there are: --lcores '(0-%u)@(",
			opt, v, ms, CPU_COUNT(&missing) > 1 ? "are" : "is", hs,
			n, n - 1);
		set_str(&mine, hs, sizeof(hs));
		fprintf(stderr, "%s)' in place of %s %s\n", hs, opt, v);
		return -1;
	}
	return 0;
}

/* The value of EAL option NAME ("--file-prefix"), or NULL. */
static const char *eal_opt(int argc, char **argv, const char *name)
{
	size_t l = strlen(name);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], name) == 0)
			return i + 1 < argc ? argv[i + 1] : "";
		if (strncmp(argv[i], name, l) == 0 && argv[i][l] == '=')
			return argv[i] + l + 1;
	}
	return NULL;
}

/*
 * Another primary process holds the shared configuration of this file
 * prefix: the EAL locks its config file for as long as it runs. Returns
 * its PID, or 0 when the lock is free or there is no such file.
 */
static long prefix_holder(int argc, char **argv, char *path, size_t len)
{
	const char *prefix = eal_opt(argc, argv, "--file-prefix");
	const char *run = getenv("XDG_RUNTIME_DIR");
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int fd;

	if (prefix == NULL || prefix[0] == '\0')
		prefix = "rte";
	if (getuid() == 0 || run == NULL)
		snprintf(path, len, "%s/dpdk/%s/config",
			 getuid() == 0 ? "/var/run" : "/tmp", prefix);
	else
		snprintf(path, len, "%s/dpdk/%s/config", run, prefix);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fcntl(fd, F_GETLK, &fl) != 0 || fl.l_type == F_UNLCK) {
		close(fd);
		return 0;
	}
	close(fd);
	return fl.l_pid > 0 ? (long)fl.l_pid : -1;
}

/* Free hugepages of the default size; -1 if the kernel has none at all. */
static long hugepages_free(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;

	while (f != NULL && fgets(line, sizeof(line), f))
		if (sscanf(line, "HugePages_Free: %ld", &v) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return v;
}

static bool has_arg(int argc, char **argv, const char *a)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], a) == 0)
			return true;
	return false;
}

/* The likely cause of a failed start, first. */
static void explain(int argc, char **argv, int err)
{
	bool shconf = !has_arg(argc, argv, "--no-shconf") &&
		      !has_arg(argc, argv, "--in-memory");
	bool huge = !has_arg(argc, argv, "--no-huge");
	char path[512];
	long pid = shconf ? prefix_holder(argc, argv, path, sizeof(path)) : 0;
	long hp = hugepages_free();

	if (pid != 0) {
		char who[32] = "another DPDK process";

		if (pid > 0)
			snprintf(who, sizeof(who), "process %ld", pid);
		fprintf(stderr,
			"flowcap: EAL initialisation failed: the file prefix is in "
			"use: %s holds %s (another flowcap, or a DPDK tool). Give "
			"this run its own prefix (--file-prefix NAME) or no shared "
			"files (--in-memory, or --no-shconf with --no-huge) before "
			"'--'\n",
			who, path);
	} else if (huge && hp <= 0) {
		fprintf(stderr,
			"flowcap: EAL initialisation failed: %s. Reserve some "
			"(dpdk-scripts/hugepages.sh setup 2G) or run without: "
			"--no-huge --no-shconf -m 512 before '--'\n",
			hp < 0 ? "this system has no hugepages" :
				 "no hugepage is free");
	} else {
		fprintf(stderr,
			"flowcap: EAL initialisation failed (%s): the EAL's "
			"messages above say why. EAL options go before '--', "
			"flowcap's after it; see flowcap --help\n",
			rte_strerror(err));
	}
}

/* Copy what fd holds to out; after a failure without the EAL's option
 * list (from the line "Usage: ..." on), saying so. */
static void replay_output(int fd, FILE *out, bool failed)
{
	FILE *f;
	char line[1024];
	bool usage = false;

	if (lseek(fd, 0, SEEK_SET) != 0 || (f = fdopen(dup(fd), "r")) == NULL)
		return;
	bool blank = false; /* a blank line held back: the list's first */

	while (fgets(line, sizeof(line), f)) {
		if (failed && strncmp(line, "Usage: ", 7) == 0)
			usage = true;
		if (usage)
			continue;
		if (blank)
			fputs("\n", out);
		blank = strcmp(line, "\n") == 0;
		if (!blank)
			fputs(line, out);
	}
	if (blank && !usage)
		fputs("\n", out);
	fclose(f);
	if (usage)
		fprintf(stderr, "flowcap: (the EAL's list of its options is "
			"left out)\n");
}

int fc_eal_init(int argc, char **argv)
{
	int fd = -1, saved = -1, rc, err;

	/* The EAL prints its option list on stdout when an argument is
	 * wrong; hold stdout in a memory file meanwhile. Not when asked
	 * for that list (-h, --help), which the EAL prints and exits. */
	if (!has_arg(argc, argv, "-h") && !has_arg(argc, argv, "--help")) {
		fd = memfd_create("fc-eal-stdout", MFD_CLOEXEC);
		fflush(stdout);
		saved = fd >= 0 ? dup(STDOUT_FILENO) : -1;
		if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
			if (saved >= 0)
				close(saved);
			if (fd >= 0)
				close(fd);
			fd = saved = -1;
		}
	}
	/* flowcap's own parsing silenced getopt; the EAL's must name the
	 * option it does not know. */
	opterr = 1;
	rc = rte_eal_init(argc, argv);
	err = rte_errno;
	if (fd >= 0) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		if (rc < 0)
			explain(argc, argv, err);
		replay_output(fd, stdout, rc < 0);
		close(fd);
	} else if (rc < 0) {
		explain(argc, argv, err);
	}
	rte_errno = err;
	return rc;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flowcap's log lines go through DPDK's rte_log, under flowcap's own log
 * types (flowcap.main, flowcap.collector, flowcap.port, flowcap.sink,
 * flowcap.ipfix, flowcap.metrics), so that the EAL option
 * --log-level=flowcap.collector:debug (or flowcap.*:warning) sets their
 * levels as for any DPDK component. The stream rte_log writes to is ours:
 * flowcap's information on standard output, its problems and every DPDK
 * message on standard error, as before there were log types; and when
 * either is the systemd journal (JOURNAL_STREAM names it), each line
 * starts with its syslog priority (<3> error ... <7> debug), which
 * journald reads. Plain output that does not go through rte_log (the
 * start-up lines, the summary) is unchanged, except that standard error
 * lines reach the journal at priority err. Nothing here is on the packet
 * path.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_log.h>

#include "fc_app.h"

RTE_LOG_REGISTER(fc_logtype_main, flowcap.main, INFO);
RTE_LOG_REGISTER(fc_logtype_collector, flowcap.collector, INFO);
RTE_LOG_REGISTER(fc_logtype_port, flowcap.port, INFO);
RTE_LOG_REGISTER(fc_logtype_sink, flowcap.sink, INFO);
RTE_LOG_REGISTER(fc_logtype_ipfix, flowcap.ipfix, INFO);
RTE_LOG_REGISTER(fc_logtype_metrics, flowcap.metrics, INFO);

static bool journal_out, journal_err;
static bool err_line_start = true; /* under the stderr stream's lock */

/* Is fd the journal's stream? systemd sets JOURNAL_STREAM=DEV:INODE. */
static bool is_journal(int fd)
{
	const char *j = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (j == NULL || sscanf(j, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static bool is_ours(int type)
{
	return type == fc_logtype_main || type == fc_logtype_collector ||
	       type == fc_logtype_port || type == fc_logtype_sink ||
	       type == fc_logtype_ipfix || type == fc_logtype_metrics;
}

/* write(2) all of it; a lost log line is not worth more. */
static void put(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

/*
 * rte_log's stream: one call per message (the stream is unbuffered, and
 * glibc formats an unbuffered vfprintf whole before writing it).
 * rte_log_cur_msg_* say the level and type of the message being written.
 */
static ssize_t log_write(void *cookie, const char *buf, size_t size)
{
	int lvl = rte_log_cur_msg_loglevel();
	/* flowcap's information on stdout; its problems, and all of DPDK's
	 * messages, on stderr */
	int fd = is_ours(rte_log_cur_msg_logtype()) && lvl > (int)RTE_LOG_WARNING ?
			 STDOUT_FILENO : STDERR_FILENO;
	char pfx[4] = { '<', '0', '>', 0 };

	(void)cookie;
	if (fd == STDOUT_FILENO) /* pending plain output goes first */
		fflush(stdout);
	if ((fd == STDOUT_FILENO && journal_out) ||
	    (fd == STDERR_FILENO && journal_err)) {
		/* RTE_LOG_EMERG (1) .. RTE_LOG_DEBUG (8) is LOG_EMERG (0) ..
		 * LOG_DEBUG (7) */
		pfx[1] = (char)('0' + (lvl >= 1 && lvl <= 8 ? lvl - 1 : 6));
		put(fd, pfx, 3);
	}
	put(fd, buf, size);
	return (ssize_t)size;
}

/* Plain standard error under the journal: <3> before each line. */
static ssize_t err_write(void *cookie, const char *buf, size_t size)
{
	size_t o = 0;

	(void)cookie;
	while (o < size) {
		const char *nl = memchr(buf + o, '\n', size - o);
		size_t n = nl ? (size_t)(nl - (buf + o)) + 1 : size - o;

		if (err_line_start)
			put(STDERR_FILENO, "<3>", 3);
		put(STDERR_FILENO, buf + o, n);
		err_line_start = nl != NULL;
		o += n;
	}
	return (ssize_t)size;
}

void fc_log_init(void)
{
	cookie_io_functions_t io = { .write = log_write };
	FILE *s;

	journal_out = is_journal(STDOUT_FILENO);
	journal_err = is_journal(STDERR_FILENO);
	s = fopencookie(NULL, "w", io);
	if (s != NULL) {
		setvbuf(s, NULL, _IONBF, 0);
		rte_openlog_stream(s);
	}
	if (journal_err) {
		cookie_io_functions_t eio = { .write = err_write };
		FILE *e = fopencookie(NULL, "w", eio);

		if (e != NULL) {
			setvbuf(e, NULL, _IOLBF, 0);
			stderr = e;
		}
	}
}

void fc_logf(int type, unsigned level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!rte_log_can_log((uint32_t)type, level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	rte_log(level, (uint32_t)type, "flowcap: %s", line);
}

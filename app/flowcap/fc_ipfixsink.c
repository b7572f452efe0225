/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The IPFIX sink (--ipfix HOST:PORT[/udp|/tcp]): each interval's records,
 * exported as IPFIX (RFC 7011) with libfixbuf to a collector. The
 * collector thread only copies an interval's records into a job and
 * queues it (bounded: FC_IPFIX_QUEUE_RECS records waiting at most); an
 * exporter thread of its own connects, sends and re-sends the templates
 * (every FC_IPFIX_TMPL_SECS over UDP). A collector that is slow or down
 * therefore never holds up the merge, let alone capture: an interval that
 * finds the queue full is refused (the sink's intervals_failed), one the
 * exporter cannot send is counted as unsent, and both show in the metrics,
 * telemetry and the summary. It does not retry what it could not send:
 * the files are the source of truth. Over TCP the sink owns the socket
 * (non-blocking; fixbuf writes to it through a stdio cookie): a collector
 * that accepts and then takes no byte for FC_IPFIX_STALL_MS loses the
 * connection and that interval, and the next interval connects anew,
 * rather than the exporter waiting on it forever; at exit the flush's
 * deadline ends any wait at once, so every interval is accounted for.
 *
 * Records: one per flowtuple key and interval, templates 256 (IPv4) and
 * 257 (IPv6); flowStart/End are the interval's first and last second.
 * ICMP type and code travel in the port fields, as in flowcap's files.
 * With --classify, a record whose flow has a label takes templates 258
 * (IPv4) and 259 (IPv6): the same elements after flowcapLabel, a private
 * enterprise element (FC_IPFIX_PEN, element 1, a variable-length string:
 * the rule's label name). Records without a label keep 256/257, and a run
 * without --classify never defines 258/259: its export is that of a
 * flowcap that knows no labels. The sink keeps its own copy of the label
 * names (append-only, copied by the collector when it queues an
 * interval), so the exporter never reads the run's table.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fixbuf/public.h>
#include <rte_lcore.h>

#define FC_LOGTYPE fc_logtype_ipfix /* FC_INFO, FC_WARN */
#include "fc_app.h"
#include "fc_num.h"
#include "fc_rules.h"

#define FC_IPFIX_PEN 32473 /**< RFC 5612's documentation PEN, until
			    *   the project registers its own */
#define FC_IPFIX_TID4 256
#define FC_IPFIX_TID6 257
#define FC_IPFIX_TID4L 258 /**< FC_IPFIX_TID4 with flowcapLabel */
#define FC_IPFIX_TID6L 259 /**< FC_IPFIX_TID6 with flowcapLabel */
#define FC_IPFIX_QUEUE_RECS (8u << 20) /**< records waiting, at most */
#define FC_IPFIX_TMPL_SECS 60  /**< UDP: templates at least this often, */
#define FC_IPFIX_TMPL_IVS 16   /**< and every this many intervals */
#define FC_IPFIX_FLUSH_SECS 10 /**< at exit: wait this long to send */
#define FC_IPFIX_STALL_MS 5000 /**< TCP: no byte taken (or no connection
				*   made) for this long: give up */
#define FC_IPFIX_SLICE_MS 100  /**< a TCP wait looks at abort this often */
#define FC_IPFIX_ABORT_SECS 2  /**< at exit, after the flush allowance: how
				*   long a stopped exporter may take to
				*   return (a TCP wait: a slice) */
#define FC_IPFIX_STR_(x) #x
#define FC_IPFIX_STR(x) FC_IPFIX_STR_(x)

/* Records as fixbuf reads them: the template's elements in order, with
 * no gap (largest first, so the C layout has none either). */
struct rec4 {
	uint64_t start_ms, end_ms, packets;
	uint32_t start_s, end_s;
	uint32_t src, dst;
	uint32_t ip_len;
	uint16_t sport, dport, tcp_flags;
	uint8_t proto, ttl;
};

struct rec6 {
	uint64_t start_ms, end_ms, packets;
	uint32_t start_s, end_s;
	uint8_t src[16], dst[16];
	uint32_t ip_len;
	uint16_t sport, dport, tcp_flags;
	uint8_t proto, ttl;
};

/* A labelled record: the label first, so that the record after it keeps
 * its layout (fbVarfield_t and the records are 8-byte aligned). */
struct rec4l {
	fbVarfield_t label;
	struct rec4 r;
};

struct rec6l {
	fbVarfield_t label;
	struct rec6 r;
};

#define COMMON_HEAD \
	{"flowStartMilliseconds", 8, 0}, {"flowEndMilliseconds", 8, 0}, \
	{"packetDeltaCount", 8, 0}, {"flowStartSeconds", 4, 0}, \
	{"flowEndSeconds", 4, 0}
#define COMMON_TAIL \
	{"ipTotalLength", 4, 0}, {"sourceTransportPort", 2, 0}, \
	{"destinationTransportPort", 2, 0}, {"tcpControlBits", 2, 0}, \
	{"protocolIdentifier", 1, 0}, {"ipTTL", 1, 0}

static fbInfoElementSpec_t spec4[] = {
	COMMON_HEAD,
	{"sourceIPv4Address", 4, 0}, {"destinationIPv4Address", 4, 0},
	COMMON_TAIL,
	FB_IESPEC_NULL
};

static fbInfoElementSpec_t spec6[] = {
	COMMON_HEAD,
	{"sourceIPv6Address", 16, 0}, {"destinationIPv6Address", 16, 0},
	COMMON_TAIL,
	FB_IESPEC_NULL
};

/* Length 0: the element's own, variable (a string of 1 to
 * FC_CLS_LABEL_MAX octets, its length in the one-octet prefix). */
static fbInfoElementSpec_t spec4l[] = {
	{"flowcapLabel", 0, 0},
	COMMON_HEAD,
	{"sourceIPv4Address", 4, 0}, {"destinationIPv4Address", 4, 0},
	COMMON_TAIL,
	FB_IESPEC_NULL
};

static fbInfoElementSpec_t spec6l[] = {
	{"flowcapLabel", 0, 0},
	COMMON_HEAD,
	{"sourceIPv6Address", 16, 0}, {"destinationIPv6Address", 16, 0},
	COMMON_TAIL,
	FB_IESPEC_NULL
};

/* flowcap's own elements (private enterprise FC_IPFIX_PEN). */
static fbInfoElement_t fc_elements[] = {
	FB_IE_INIT_FULL("flowcapLabel", FC_IPFIX_PEN, 1, FB_IE_VARLEN,
			FB_IE_DEFAULT, 0, 0, FB_STRING,
			"label of the flowcap rule that matched the flow"),
	FB_IE_NULL
};

/* One interval on its way to the exporter. */
struct job {
	struct job *next;
	struct fc_ft_interval iv;
	struct fc_ft_record *recs;
	uint64_t n, cap;
	unsigned n_labels; /**< label ids 1..this are in the sink's copy */
};

struct fc_ipfixsink {
	/* Where to: parsed from --ipfix. */
	char host[256], port[8];
	bool tcp;
	uint32_t domain;
	char spec[300];          /**< as given, for messages */
	/* The collector's side: the job being filled. */
	struct job *cur;
	bool cur_refused;
	/* --classify: the run's label names (NULL without), and the sink's
	 * copy of ids 1..n_labels: written by the collector before it queues
	 * the job that first needs them (the queue's lock orders them before
	 * the exporter's reads), never changed after. */
	const struct fc_labels *run_labels;
	char (*labels)[FC_CLS_LABEL_MAX + 1];
	unsigned n_labels;
	/* The queue (guarded by lock; cond wakes the exporter and the
	 * flush). */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	uint64_t queued_recs;
	bool stop;
	bool busy;               /**< the exporter holds a job */
	pthread_t thread;
	bool running;
	/* The exporter's own. */
	fbInfoModel_t *model;
	fBuf_t *fbuf;
	int tcp_fd;              /**< TCP: our socket, -1 when closed */
	FILE *tcp_fp;            /**< TCP: the stream fixbuf writes to */
	const char *io_why;      /**< TCP: why the last write failed */
	/* Set by the flush when its allowance is over: the exporter gives
	 * up the wait it is in (within FC_IPFIX_SLICE_MS) and fails the job.
	 * Release by ix_flush; partner: the acquire load in tcp_wait. */
	_Atomic bool abort;
	uint64_t busy_n;         /**< records of the job the exporter holds */
	bool failing;            /**< exporter's: the last job failed (said
				  *   once per episode) */
	bool abandoned;          /**< the flush counted that job: the
				  *   exporter must not (guarded by lock) */
	time_t tmpl_sent;        /**< when the templates last went out */
	unsigned tmpl_ivs;       /**< intervals sent since */
	/* Counters (relaxed: figures for the metrics and the summary). */
	_Atomic uint64_t iv_sent, rec_sent, iv_unsent, rec_unsent;
	_Atomic uint64_t iv_refused, rec_refused;
	char last_err[256];      /**< guarded by lock */
	char status_msg[768];    /**< for strerror (flush's verdict) */
};

static struct fc_ipfixsink *the_sink; /* for the metrics (one per run) */

enum { FC_IPFIX_E_QUEUE = -1000, FC_IPFIX_E_UNSENT = -1001 };

/* --ipfix HOST:PORT[/udp|/tcp]; HOST may be [v6 address]. */
static int parse_spec(const char *v, struct fc_ipfixsink *k, char *err,
		      size_t len)
{
	const char *p = v, *colon, *slash, *hend;
	char proto[8] = "udp";
	uint64_t port;
	char num[8];

	slash = strrchr(v, '/');
	if (slash != NULL) {
		if (strcmp(slash, "/udp") != 0 && strcmp(slash, "/tcp") != 0) {
			snprintf(err, len, "transport '%s': expected /udp or "
				 "/tcp", slash);
			return -1;
		}
		snprintf(proto, sizeof(proto), "%s", slash + 1);
	} else {
		slash = v + strlen(v);
	}
	if (*p == '[') {
		hend = strchr(p, ']');
		if (hend == NULL || hend > slash || hend[1] != ':') {
			snprintf(err, len, "expected [IPv6]:PORT");
			return -1;
		}
		p++;
		colon = hend + 1;
	} else {
		colon = memchr(v, ':', (size_t)(slash - v));
		hend = colon;
		if (colon == NULL || memchr(colon + 1, ':',
					    (size_t)(slash - colon - 1))) {
			snprintf(err, len, "expected HOST:PORT (an IPv6 "
				 "address in brackets: [::1]:4739)");
			return -1;
		}
	}
	if (hend == p || (size_t)(hend - p) >= sizeof(k->host)) {
		snprintf(err, len, "no host before the port");
		return -1;
	}
	if ((size_t)(slash - colon - 1) >= sizeof(num) ||
	    slash == colon + 1) {
		snprintf(err, len, "port: expected 1 to 65535");
		return -1;
	}
	memcpy(num, colon + 1, (size_t)(slash - colon - 1));
	num[slash - colon - 1] = '\0';
	if (fc_num_u64(num, 1, 65535, 0, &port) != FC_NUM_OK) {
		snprintf(err, len, "port '%s': expected 1 to 65535", num);
		return -1;
	}
	memcpy(k->host, p, (size_t)(hend - p));
	k->host[hend - p] = '\0';
	snprintf(k->port, sizeof(k->port), "%" PRIu64, port);
	k->tcp = strcmp(proto, "tcp") == 0;
	return 0;
}

int fc_ipfix_check(const struct fc_cfg *cfg)
{
	struct fc_ipfixsink k;
	char err[256];

	if (cfg->ipfix == NULL)
		return 0;
	if (parse_spec(cfg->ipfix, &k, err, sizeof(err)) != 0) {
		fprintf(stderr, "flowcap: --ipfix '%s': %s; e.g. --ipfix "
			"127.0.0.1:4739/udp or --ipfix collector.example:4739/tcp\n",
			cfg->ipfix, err);
		return -1;
	}
	return 0;
}

/* ---- the exporter thread --------------------------------------------- */

static void set_err(struct fc_ipfixsink *k, const char *what, GError *e)
{
	pthread_mutex_lock(&k->lock);
	snprintf(k->last_err, sizeof(k->last_err), "%s: %s", what,
		 e ? e->message : "unknown error");
	pthread_mutex_unlock(&k->lock);
}

static void disconnect(struct fc_ipfixsink *k)
{
	if (k->fbuf != NULL)
		fBufFree(k->fbuf); /* with its session and exporter */
	k->fbuf = NULL;
	if (k->tcp_fp != NULL)
		fclose(k->tcp_fp); /* tcp_close: the socket */
	else if (k->tcp_fd >= 0)
		close(k->tcp_fd);
	k->tcp_fp = NULL;
	k->tcp_fd = -1;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for ev: 0; -ETIMEDOUT after FC_IPFIX_STALL_MS,
 * -ECANCELED as soon as the flush says stop. */
static int tcp_wait(struct fc_ipfixsink *k, int fd, short ev)
{
	int64_t due = mono_ms() + FC_IPFIX_STALL_MS;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = ev};
		int n;

		if (atomic_load_explicit(&k->abort, memory_order_acquire))
			return -ECANCELED;
		n = poll(&p, 1, FC_IPFIX_SLICE_MS);
		if (n > 0)
			return 0; /* or an error: the next call says it */
		if (n < 0 && errno != EINTR)
			return -errno;
		if (mono_ms() >= due)
			return -ETIMEDOUT;
	}
}

static const char *wait_why(int rc)
{
	if (rc == -ETIMEDOUT)
		return "the collector took nothing for " FC_IPFIX_STR(FC_IPFIX_STALL_MS)
		       " ms (not reading?)";
	if (rc == -ECANCELED)
		return "stopped: the exit's flush allowance was over";
	return strerror(-rc);
}

/* fixbuf's writes (one IPFIX message each; the stream is unbuffered):
 * all of it, or 0 with io_why set. */
static ssize_t tcp_write(void *c, const char *buf, size_t len)
{
	struct fc_ipfixsink *k = c;
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(k->tcp_fd, buf + off, len - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			k->io_why = strerror(errno);
			return 0;
		}
		if ((rc = tcp_wait(k, k->tcp_fd, POLLOUT)) != 0) {
			k->io_why = wait_why(rc);
			errno = -rc;
			return 0;
		}
	}
	return (ssize_t)len;
}

static int tcp_close(void *c)
{
	struct fc_ipfixsink *k = c;

	close(k->tcp_fd);
	k->tcp_fd = -1;
	return 0;
}

/* A non-blocking TCP connection to the collector, made within
 * FC_IPFIX_STALL_MS: 0, or -1 with the error set. */
static int tcp_connect(struct fc_ipfixsink *k)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai, *a;
	const char *why = "no address";
	int rc, fd = -1;

	rc = getaddrinfo(k->host, k->port, &hints, &ai);
	if (rc != 0) {
		pthread_mutex_lock(&k->lock);
		snprintf(k->last_err, sizeof(k->last_err), "connect: %.200s: %s",
			 k->host, gai_strerror(rc));
		pthread_mutex_unlock(&k->lock);
		return -1;
	}
	for (a = ai; a != NULL; a = a->ai_next) {
		int e = 0;
		socklen_t el = sizeof(e);

		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			why = strerror(errno);
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			rc = tcp_wait(k, fd, POLLOUT);
			if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
						  &el) == 0 && e == 0)
				break;
			why = rc ? wait_why(rc) : strerror(e ? e : errno);
		} else {
			why = strerror(errno);
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		pthread_mutex_lock(&k->lock);
		snprintf(k->last_err, sizeof(k->last_err), "connect: %s",
			 why);
		pthread_mutex_unlock(&k->lock);
		return -1;
	}
	k->tcp_fd = fd;
	return 0;
}

static fbTemplate_t *make_template(struct fc_ipfixsink *k,
				   fbInfoElementSpec_t *spec, GError **e)
{
	fbTemplate_t *t = fbTemplateAlloc(k->model);

	if (!fbTemplateAppendSpecArray(t, spec, UINT32_MAX, e)) {
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

/* Session, exporter, buffer and templates; false with the error set. */
static bool connect_collector(struct fc_ipfixsink *k)
{
	fbConnSpec_t cs = FB_CONNSPEC_INIT;
	fbSession_t *s;
	fbExporter_t *x;
	fbTemplate_t *t4, *t6, *t4l = NULL, *t6l = NULL;
	GError *e = NULL;

	if (k->tcp) {
		/* Ours, so that no write waits longer than we allow. */
		static const cookie_io_functions_t io = {
			.write = tcp_write, .close = tcp_close};

		if (tcp_connect(k) != 0)
			return false;
		k->tcp_fp = fopencookie(k, "w", io);
		if (k->tcp_fp == NULL) {
			close(k->tcp_fd);
			k->tcp_fd = -1;
			set_err(k, "cannot set up the exporter", NULL);
			return false;
		}
		setvbuf(k->tcp_fp, NULL, _IONBF, 0);
		x = fbExporterAllocFP(k->tcp_fp);
	} else {
		cs.transport = FB_UDP;
		cs.host = k->host;
		cs.svc = k->port;
		x = fbExporterAllocNet(&cs);
	}
	if (x == NULL) {
		disconnect(k);
		set_err(k, "cannot set up the exporter", NULL);
		return false;
	}
	s = fbSessionAlloc(k->model);
	k->fbuf = fBufAllocForExport(s, x);
	fbSessionSetDomain(s, k->domain);
	t4 = make_template(k, spec4, &e);
	t6 = t4 ? make_template(k, spec6, &e) : NULL;
	if (t4 == NULL || t6 == NULL ||
	    !fbSessionAddTemplate(s, TRUE, FC_IPFIX_TID4, t4, &e) ||
	    !fbSessionAddTemplate(s, FALSE, FC_IPFIX_TID4, t4, &e) ||
	    !fbSessionAddTemplate(s, TRUE, FC_IPFIX_TID6, t6, &e) ||
	    !fbSessionAddTemplate(s, FALSE, FC_IPFIX_TID6, t6, &e)) {
		set_err(k, "templates", e);
		g_clear_error(&e);
		disconnect(k);
		return false;
	}
	/* Only a run that labels defines the labelled templates. */
	if (k->labels != NULL &&
	    ((t4l = make_template(k, spec4l, &e)) == NULL ||
	     !fbSessionAddTemplate(s, TRUE, FC_IPFIX_TID4L, t4l, &e) ||
	     !fbSessionAddTemplate(s, FALSE, FC_IPFIX_TID4L, t4l, &e) ||
	     (t6l = make_template(k, spec6l, &e)) == NULL ||
	     !fbSessionAddTemplate(s, TRUE, FC_IPFIX_TID6L, t6l, &e) ||
	     !fbSessionAddTemplate(s, FALSE, FC_IPFIX_TID6L, t6l, &e))) {
		set_err(k, "templates", e);
		g_clear_error(&e);
		disconnect(k);
		return false;
	}
	/* External templates added to a session with a buffer are on
	 * their way already. */
	k->tmpl_sent = time(NULL);
	k->tmpl_ivs = 0;
	return true;
}

static void fill4(struct rec4 *r, const struct job *j,
		  const struct fc_ft_record *rec)
{
	const struct fc_ftkey *key = &rec->key;

	memset(r, 0, sizeof(*r));
	r->start_ms = j->iv.start * 1000;
	r->end_ms = j->iv.end * 1000 + 999;
	r->start_s = (uint32_t)j->iv.start;
	r->end_s = (uint32_t)j->iv.end;
	r->packets = rec->packets;
	/* Host order, as fixbuf expects integers. */
	r->src = (uint32_t)key->src_ip[0] << 24 |
		 (uint32_t)key->src_ip[1] << 16 |
		 (uint32_t)key->src_ip[2] << 8 | key->src_ip[3];
	r->dst = (uint32_t)key->dst_ip[0] << 24 |
		 (uint32_t)key->dst_ip[1] << 16 |
		 (uint32_t)key->dst_ip[2] << 8 | key->dst_ip[3];
	r->ip_len = key->ip_len;
	r->sport = key->src_port;
	r->dport = key->dst_port;
	r->tcp_flags = key->tcp_flags;
	r->proto = key->proto;
	r->ttl = key->ttl;
}

static void fill6(struct rec6 *r, const struct job *j,
		  const struct fc_ft_record *rec)
{
	const struct fc_ftkey *key = &rec->key;

	memset(r, 0, sizeof(*r));
	r->start_ms = j->iv.start * 1000;
	r->end_ms = j->iv.end * 1000 + 999;
	r->start_s = (uint32_t)j->iv.start;
	r->end_s = (uint32_t)j->iv.end;
	r->packets = rec->packets;
	memcpy(r->src, key->src_ip, 16);
	memcpy(r->dst, key->dst_ip, 16);
	r->ip_len = key->ip_len;
	r->sport = key->src_port;
	r->dport = key->dst_port;
	r->tcp_flags = key->tcp_flags;
	r->proto = key->proto;
	r->ttl = key->ttl;
}

/* The label name a record carries in the export, or NULL: none (no
 * --classify, no label, or an id the sink's copy does not name, which the
 * collector's copy before queueing rules out). */
static const char *rec_label(const struct fc_ipfixsink *k,
			     const struct job *j,
			     const struct fc_ft_record *rec)
{
	unsigned id;

	if (k->labels == NULL)
		return NULL;
	id = fc_ftkey_label(&rec->key);
	if (id == 0 || id > j->n_labels || k->labels[id][0] == '\0')
		return NULL;
	return k->labels[id];
}

/* Send one interval's records: IPv4 ones, then IPv6 ones; in each family
 * those without a label, then (--classify) those with one. */
static bool send_job(struct fc_ipfixsink *k, const struct job *j)
{
	GError *e = NULL;
	struct rec4l r4;
	struct rec6l r6;

	k->io_why = NULL;
	if (k->fbuf == NULL && !connect_collector(k))
		return false;
	if (!k->tcp && (time(NULL) - k->tmpl_sent >= FC_IPFIX_TMPL_SECS ||
			++k->tmpl_ivs > FC_IPFIX_TMPL_IVS)) {
		/* UDP: a collector that started after us (or lost them)
		 * learns the templates again. */
		if (!fbSessionExportTemplates(fBufGetSession(k->fbuf), &e))
			goto fail;
		k->tmpl_sent = time(NULL);
		k->tmpl_ivs = 1;
	}
	for (int pass = 0; pass < 4; pass++) {
		int fam = pass < 2 ? 4 : 6;
		bool lab = pass & 1;
		uint16_t tid = fam == 4 ? (lab ? FC_IPFIX_TID4L : FC_IPFIX_TID4)
					: (lab ? FC_IPFIX_TID6L : FC_IPFIX_TID6);
		uint64_t i = 0;

		if (lab) {
			/* A labelled set only where there is a record
			 * for it. */
			while (i < j->n && (j->recs[i].key.family != fam ||
					    rec_label(k, j, &j->recs[i]) == NULL))
				i++;
			if (i == j->n)
				continue;
		}
		if (!fBufSetInternalTemplate(k->fbuf, tid, &e) ||
		    !fBufSetExportTemplate(k->fbuf, tid, &e))
			goto fail;
		for (; i < j->n; i++) {
			const struct fc_ft_record *rec = &j->recs[i];
			const char *name;
			gboolean okay;

			if (rec->key.family != fam)
				continue;
			name = rec_label(k, j, rec);
			if ((name != NULL) != lab)
				continue;
			if (fam == 4) {
				fill4(&r4.r, j, rec);
				r4.label.buf = (uint8_t *)(uintptr_t)name;
				r4.label.len = lab ? strlen(name) : 0;
				okay = lab ? fBufAppend(k->fbuf, (uint8_t *)&r4,
							sizeof(r4), &e)
					   : fBufAppend(k->fbuf,
							(uint8_t *)&r4.r,
							sizeof(r4.r), &e);
			} else {
				fill6(&r6.r, j, rec);
				r6.label.buf = (uint8_t *)(uintptr_t)name;
				r6.label.len = lab ? strlen(name) : 0;
				okay = lab ? fBufAppend(k->fbuf, (uint8_t *)&r6,
							sizeof(r6), &e)
					   : fBufAppend(k->fbuf,
							(uint8_t *)&r6.r,
							sizeof(r6.r), &e);
			}
			if (!okay)
				goto fail;
		}
	}
	if (!fBufEmit(k->fbuf, &e))
		goto fail;
	return true;
fail:
	if (k->tcp && k->io_why != NULL) {
		pthread_mutex_lock(&k->lock);
		snprintf(k->last_err, sizeof(k->last_err), "send: %s",
			 k->io_why);
		pthread_mutex_unlock(&k->lock);
	} else {
		set_err(k, "send", e);
	}
	g_clear_error(&e);
	/* Start over with a new connection for the next interval; over
	 * TCP the collector then sees the templates again. */
	disconnect(k);
	return false;
}

static void *exporter_main(void *arg)
{
	struct fc_ipfixsink *k = arg;

	pthread_mutex_lock(&k->lock);
	for (;;) {
		while (k->head == NULL && !k->stop)
			pthread_cond_wait(&k->cond, &k->lock);
		if (k->head == NULL)
			break;
		struct job *j = k->head;

		k->head = j->next;
		if (k->head == NULL)
			k->tail = NULL;
		k->busy = true;
		k->busy_n = j->n;
		pthread_mutex_unlock(&k->lock);
		bool sent = send_job(k, j);

		if (sent != !k->failing) {
			/* Once per episode, in the log; the counts go on. */
			char msg[256];

			k->failing = !sent;
			pthread_mutex_lock(&k->lock);
			snprintf(msg, sizeof(msg), "%s", k->last_err);
			pthread_mutex_unlock(&k->lock);
			if (!sent)
				FC_WARN("ipfix %s: %s; intervals are counted "
					"unsent until it works again\n",
					k->spec, msg);
			else
				FC_INFO("ipfix %s: sending again\n", k->spec);
		}
		pthread_mutex_lock(&k->lock);
		/* Counted here unless the flush, tired of waiting, has
		 * counted it unsent already. */
		if (!k->abandoned) {
			atomic_fetch_add_explicit(sent ? &k->iv_sent :
						  &k->iv_unsent, 1,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(sent ? &k->rec_sent :
						  &k->rec_unsent, j->n,
						  memory_order_relaxed);
		}
		k->queued_recs -= j->n;
		k->busy = false;
		pthread_cond_broadcast(&k->cond);
		free(j->recs);
		free(j);
	}
	pthread_mutex_unlock(&k->lock);
	disconnect(k);
	return NULL;
}

/* ---- the sink callbacks (the collector's thread) ----------------------- */

static int ix_begin(void *ctx, const struct fc_ft_interval *iv)
{
	struct fc_ipfixsink *k = ctx;

	k->cur = calloc(1, sizeof(*k->cur));
	k->cur_refused = false;
	if (k->cur == NULL)
		return -ENOMEM;
	k->cur->iv = *iv;
	return 0;
}

static int ix_records(void *ctx, const struct fc_ft_record *recs, uint64_t n)
{
	struct fc_ipfixsink *k = ctx;
	struct job *j = k->cur;
	uint64_t queued;

	pthread_mutex_lock(&k->lock);
	queued = k->queued_recs;
	pthread_mutex_unlock(&k->lock);
	/* Bounded: an exporter that cannot keep up loses intervals here,
	 * whole, rather than memory or the collector's time. */
	if (queued + j->n + n > FC_IPFIX_QUEUE_RECS) {
		k->cur_refused = true;
		return FC_IPFIX_E_QUEUE;
	}
	if (j->n + n > j->cap) {
		uint64_t cap = j->cap ? j->cap : 4096;
		struct fc_ft_record *p;

		while (cap < j->n + n)
			cap *= 2;
		p = realloc(j->recs, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		j->recs = p;
		j->cap = cap;
	}
	memcpy(j->recs + j->n, recs, n * sizeof(*recs));
	j->n += n;
	return 0;
}

static int ix_end(void *ctx, const struct fc_ft_interval *iv, bool failed)
{
	struct fc_ipfixsink *k = ctx;
	struct job *j = k->cur;
	int rc = 0;

	(void)iv;
	k->cur = NULL;
	if (j == NULL)
		return -ENOMEM;
	if (k->labels != NULL) {
		/* The names the run has now (acquire: partner the release
		 * store of n in fc_reload.c): every label id in this
		 * interval's records is among them. */
		unsigned n = atomic_load_explicit(&k->run_labels->n,
						  memory_order_acquire);

		if (n >= FC_CLS_LABELS_MAX + 1)
			n = FC_CLS_LABELS_MAX;
		for (unsigned i = k->n_labels + 1; i <= n; i++)
			memcpy(k->labels[i], k->run_labels->name[i],
			       sizeof(k->labels[i]));
		if (n > k->n_labels)
			k->n_labels = n;
		j->n_labels = k->n_labels;
	}
	pthread_mutex_lock(&k->lock);
	if (failed || k->queued_recs + j->n > FC_IPFIX_QUEUE_RECS) {
		rc = FC_IPFIX_E_QUEUE;
	} else {
		k->queued_recs += j->n;
		if (k->tail)
			k->tail->next = j;
		else
			k->head = j;
		k->tail = j;
		pthread_cond_broadcast(&k->cond);
		j = NULL;
	}
	pthread_mutex_unlock(&k->lock);
	if (j != NULL) {
		atomic_fetch_add_explicit(&k->iv_refused, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&k->rec_refused, iv->n_records,
					  memory_order_relaxed);
		free(j->recs);
		free(j);
		if (rc == 0)
			rc = FC_IPFIX_E_QUEUE;
	}
	return rc;
}

/* The run is over: give the exporter FC_IPFIX_FLUSH_SECS to send what is
 * queued, then stop it (a TCP wait ends within FC_IPFIX_SLICE_MS; the job
 * it held is counted unsent) and say what was sent. Every interval taken
 * ends up sent, unsent or refused. */
static int ix_flush(void *ctx)
{
	struct fc_ipfixsink *k = ctx;
	struct timespec due;
	uint64_t left = 0;

	clock_gettime(CLOCK_REALTIME, &due);
	due.tv_sec += FC_IPFIX_FLUSH_SECS;
	pthread_mutex_lock(&k->lock);
	while ((k->head != NULL || k->busy) &&
	       pthread_cond_timedwait(&k->cond, &k->lock, &due) == 0)
		;
	if (k->head != NULL || k->busy)
		atomic_store_explicit(&k->abort, true, memory_order_release);
	/* What is still queued is not sent: count it, drop it. */
	for (struct job *j = k->head, *nx; j != NULL; j = nx) {
		nx = j->next;
		left++;
		atomic_fetch_add_explicit(&k->iv_unsent, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&k->rec_unsent, j->n,
					  memory_order_relaxed);
		k->queued_recs -= j->n;
		free(j->recs);
		free(j);
	}
	k->head = k->tail = NULL;
	k->stop = true;
	pthread_cond_broadcast(&k->cond);
	clock_gettime(CLOCK_REALTIME, &due);
	due.tv_sec += FC_IPFIX_ABORT_SECS;
	while (k->busy &&
	       pthread_cond_timedwait(&k->cond, &k->lock, &due) == 0)
		;
	bool stuck = k->busy;

	if (stuck) {
		/* Still in a call that does not look at abort (a name
		 * lookup, a UDP send): its job is counted unsent here. */
		k->abandoned = true;
		left++;
		atomic_fetch_add_explicit(&k->iv_unsent, 1,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&k->rec_unsent, k->busy_n,
					  memory_order_relaxed);
	}
	pthread_mutex_unlock(&k->lock);
	if (stuck) {
		/* Left behind, the process is ending. */
		pthread_detach(k->thread);
		k->running = false;
	} else if (k->running) {
		pthread_join(k->thread, NULL);
		k->running = false;
	}
	uint64_t unsent = atomic_load(&k->iv_unsent) +
			  atomic_load(&k->iv_refused);

	FC_INFO("ipfix %s: %" PRIu64 " interval(s) (%" PRIu64 " records) "
		"sent, %" PRIu64 " not sent%s%s%s\n", k->spec,
		atomic_load(&k->iv_sent), atomic_load(&k->rec_sent), unsent,
		left ? " (the collector did not take them in time)" : "",
		k->last_err[0] ? "; last error: " : "", k->last_err);
	if (unsent == 0)
		return 0;
	snprintf(k->status_msg, sizeof(k->status_msg), "%" PRIu64
		 " interval(s) (%" PRIu64 " records) not sent to %s%s%s",
		 unsent, atomic_load(&k->rec_unsent) +
		 atomic_load(&k->rec_refused), k->spec,
		 k->last_err[0] ? ": " : "", k->last_err);
	return FC_IPFIX_E_UNSENT;
}

static const char *ix_strerror(void *ctx, int status)
{
	struct fc_ipfixsink *k = ctx;

	if (status == FC_IPFIX_E_QUEUE)
		return "queue full: the IPFIX exporter is behind (collector "
		       "slow or down)";
	if (status == FC_IPFIX_E_UNSENT)
		return k->status_msg;
	return strerror(-status);
}

static const struct fc_sink_ops ipfix_ops = {
	.name = "ipfix",
	.begin = ix_begin,
	.records = ix_records,
	.end = ix_end,
	.flush = ix_flush,
	.strerror = ix_strerror,
};

int fc_ipfixsink_add(struct fc_sinks *ss, struct fc_app *app)
{
	struct fc_ipfixsink *k;
	char err[256];
	GError *e = NULL;
	int rc;

	if (app->cfg.ipfix == NULL)
		return 0;
	k = calloc(1, sizeof(*k));
	if (k == NULL)
		return -ENOMEM;
	if (parse_spec(app->cfg.ipfix, k, err, sizeof(err)) != 0) {
		free(k); /* checked at start: cannot happen */
		return -EINVAL;
	}
	snprintf(k->spec, sizeof(k->spec), "%s%s", app->cfg.ipfix,
		 strchr(app->cfg.ipfix, '/') ? "" : "/udp");
	k->domain = app->cfg.ipfix_domain;
	k->tcp_fd = -1;
	if (app->labels != NULL) {
		k->run_labels = app->labels;
		k->labels = calloc(FC_CLS_LABELS_MAX + 1, sizeof(*k->labels));
		if (k->labels == NULL) {
			free(k);
			return -ENOMEM;
		}
	}
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->cond, NULL);
	k->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(k->model, fc_elements);
	(void)e;
	rc = rte_ctrl_thread_create(&k->thread, "fc-ipfix", NULL,
				    exporter_main, k);
	if (rc != 0) {
		fbInfoModelFree(k->model);
		free(k->labels);
		free(k);
		return rc < 0 ? rc : -rc;
	}
	k->running = true;
	rc = fc_sinks_add(ss, &ipfix_ops, k);
	if (rc != 0)
		return rc; /* the thread waits for work that never comes */
	the_sink = k;
	printf("flowcap: IPFIX export to %s, observation domain %u\n",
	       k->spec, k->domain);
	return 0;
}

void fc_ipfixsink_free(struct fc_sinks *ss)
{
	for (unsigned i = 0; i < ss->n; i++)
		if (ss->s[i].ops == &ipfix_ops) {
			struct fc_ipfixsink *k = ss->s[i].ctx;

			if (k->running) {
				/* Never flushed (start-up failed): stop. */
				pthread_mutex_lock(&k->lock);
				k->stop = true;
				pthread_cond_broadcast(&k->cond);
				pthread_mutex_unlock(&k->lock);
				pthread_join(k->thread, NULL);
			}
			if (!k->busy) {
				fbInfoModelFree(k->model);
				free(k->labels);
				free(k);
			}
			ss->s[i].ctx = NULL;
			the_sink = NULL;
		}
}

void fc_ipfix_metrics(FILE *f)
{
	struct fc_ipfixsink *k = the_sink;

	if (k == NULL)
		return;
	fprintf(f, "# HELP flowcap_ipfix_intervals_total Intervals the IPFIX "
		"exporter sent, could not send, or refused (queue full).\n"
		"# TYPE flowcap_ipfix_intervals_total counter\n");
	fprintf(f, "flowcap_ipfix_intervals_total{result=\"sent\"} %" PRIu64 "\n"
		"flowcap_ipfix_intervals_total{result=\"unsent\"} %" PRIu64 "\n"
		"flowcap_ipfix_intervals_total{result=\"refused\"} %" PRIu64 "\n",
		atomic_load(&k->iv_sent), atomic_load(&k->iv_unsent),
		atomic_load(&k->iv_refused));
	fprintf(f, "# HELP flowcap_ipfix_records_total Records the IPFIX "
		"exporter sent, could not send, or refused (queue full).\n"
		"# TYPE flowcap_ipfix_records_total counter\n");
	fprintf(f, "flowcap_ipfix_records_total{result=\"sent\"} %" PRIu64 "\n"
		"flowcap_ipfix_records_total{result=\"unsent\"} %" PRIu64 "\n"
		"flowcap_ipfix_records_total{result=\"refused\"} %" PRIu64 "\n",
		atomic_load(&k->rec_sent), atomic_load(&k->rec_unsent),
		atomic_load(&k->rec_refused));
}

bool fc_ipfix_counters(uint64_t v[6])
{
	struct fc_ipfixsink *k = the_sink;

	if (k == NULL)
		return false;
	v[0] = atomic_load(&k->iv_sent);
	v[1] = atomic_load(&k->rec_sent);
	v[2] = atomic_load(&k->iv_unsent);
	v[3] = atomic_load(&k->rec_unsent);
	v[4] = atomic_load(&k->iv_refused);
	v[5] = atomic_load(&k->rec_refused);
	return true;
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver-config files: INI read by rte_cfgfile, then every key validated
 * (numbers with strtoull and explicit bounds, names against fixed tables).
 *
 * rte_cfgfile silently skips a line that is neither a section nor
 * `key = value` (so `promisc yes` would vanish) and reports syntax errors
 * only through the DPDK log, without the file name. A short line scan runs
 * first: it rejects such lines and records the line of every key, so each
 * message can point at the line to fix. The scan does not interpret values;
 * rte_cfgfile stays the parser. Nothing here touches a device: what the NIC
 * can actually do is checked when the port is set up.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_cfgfile.h>
#include <rte_ethdev.h>

#include "fc_common.h"
#include "fc_drvcfg.h"
#include "fc_num.h"

#define SECTION "port"
#define COMMENT_CHAR '#'
/* rte_cfgfile reads lines into a buffer of this size and fails longer. */
#define LINE_MAX_LEN (CFG_NAME_LEN + CFG_VALUE_LEN + 2)
/* Entries per file: every key once is 13; the rest is room for mistakes
 * (duplicates), reported rather than truncated. */
#define MAX_ENTRIES 64
/* Largest file read: the shipped ones are a few KB, comments included. */
#define DRVCFG_FILE_MAX (1 << 20)

/* Symmetric Toeplitz key: the 16-bit pattern 0x6d5a repeated makes the hash
 * of (a, b) equal the hash of (b, a) for IPv4/IPv6 addresses and ports
 * (Woo and Park, "Scalable TCP Session Monitoring with Symmetric RSS"). */
static const uint8_t sym_key[FC_DRVCFG_RSS_KEY_MAX] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

#define HF_IP (RTE_ETH_RSS_IP)
#define HF_DEFAULT (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP | \
		    RTE_ETH_RSS_SCTP)

/* Names for rss_hf. The first ones are the coarse classes (both IP
 * versions); the rest select one flow type. Order matters for printing:
 * the coarse names are tried first. */
static const struct {
	const char *name;
	uint64_t bits;
} rss_names[] = {
	{"ip", HF_IP},
	{"tcp", RTE_ETH_RSS_TCP},
	{"udp", RTE_ETH_RSS_UDP},
	{"sctp", RTE_ETH_RSS_SCTP},
	{"ipv4", RTE_ETH_RSS_IPV4},
	{"ipv6", RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_IPV6_EX},
	{"frag", RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_FRAG_IPV6},
	{"other", RTE_ETH_RSS_NONFRAG_IPV4_OTHER |
		  RTE_ETH_RSS_NONFRAG_IPV6_OTHER},
	{"ipv4-tcp", RTE_ETH_RSS_NONFRAG_IPV4_TCP},
	{"ipv4-udp", RTE_ETH_RSS_NONFRAG_IPV4_UDP},
	{"ipv4-sctp", RTE_ETH_RSS_NONFRAG_IPV4_SCTP},
	{"ipv4-frag", RTE_ETH_RSS_FRAG_IPV4},
	{"ipv4-other", RTE_ETH_RSS_NONFRAG_IPV4_OTHER},
	{"ipv6-tcp", RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_IPV6_TCP_EX},
	{"ipv6-udp", RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_IPV6_UDP_EX},
	{"ipv6-sctp", RTE_ETH_RSS_NONFRAG_IPV6_SCTP},
	{"ipv6-frag", RTE_ETH_RSS_FRAG_IPV6},
	{"ipv6-other", RTE_ETH_RSS_NONFRAG_IPV6_OTHER},
	{"l2-payload", RTE_ETH_RSS_L2_PAYLOAD},
};

/* "none, ip, tcp, ...": every name rss_hf accepts, for messages. */
static const char *rss_choices(char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "none");

	for (size_t i = 0; i < FC_ARRAY_SIZE(rss_names) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, ", %s",
					rss_names[i].name);
	return buf;
}

/* Where each key was found, for messages. */
struct scan {
	unsigned n;
	struct {
		char section[CFG_NAME_LEN];
		char key[CFG_NAME_LEN];
		unsigned line;
	} e[MAX_ENTRIES];
	char sections[8][CFG_NAME_LEN];
	unsigned sec_line[8];
	unsigned n_sec;
};

/* Parsing context: the file, the entry being read, the error buffer. */
struct ctx {
	const char *path;
	const struct scan *scan;
	const char *key;
	const char *value;
	char *err;
	size_t errlen;
};

static const char *bool_str(bool b)
{
	return b ? "yes" : "no";
}

static unsigned key_line(const struct scan *s, const char *key)
{
	for (unsigned i = 0; i < s->n; i++)
		if (strcmp(s->e[i].section, SECTION) == 0 &&
		    strcmp(s->e[i].key, key) == 0)
			return s->e[i].line;
	return 0;
}

static void FC_NOINLINE set_err(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* "FILE line N: [port] KEY = 'VALUE': <why>" */
static int bad_value(const struct ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int bad_value(const struct ctx *x, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	set_err(x->err, x->errlen, "driver config %s line %u: [%s] %s = '%s': %s",
		x->path, key_line(x->scan, x->key), SECTION, x->key, x->value,
		why);
	return -EINVAL;
}

/* Decimal unsigned integer: no sign, no blanks, no octal or hex surprises
 * ("010" is ten), no silent wrap. Returns false if it is not one. */
static bool to_u64(const char *s, uint64_t *out)
{
	return fc_num_u64(s, 0, UINT64_MAX, 0, out) == FC_NUM_OK;
}

/* An integer in [lo, hi]; with @zero non-NULL, 0 is also accepted and
 * means @zero. */
static int parse_u64(const struct ctx *x, uint64_t lo, uint64_t hi,
		     const char *zero, uint64_t *out)
{
	uint64_t v;
	bool num = to_u64(x->value, &v);

	if (num && ((v >= lo && v <= hi) || (zero != NULL && v == 0))) {
		*out = v;
		return 0;
	}
	if (zero != NULL)
		return bad_value(x, "%s; expected 0 (%s) or an integer from "
				 "%" PRIu64 " to %" PRIu64,
				 num ? "out of range" : "not a number", zero,
				 lo, hi);
	return bad_value(x, "%s; expected an integer from %" PRIu64 " to "
			 "%" PRIu64, num ? "out of range" : "not a number",
			 lo, hi);
}

static int parse_bool(const struct ctx *x, bool *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < FC_ARRAY_SIZE(yes); i++) {
		if (strcasecmp(x->value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(x->value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return bad_value(x, "expected yes or no");
}

/* Comma- or space-separated names; "none" alone turns RSS off. */
static int parse_rss_hf(const struct ctx *x, uint64_t *out)
{
	char buf[CFG_VALUE_LEN], *save = NULL;
	uint64_t hf = 0;
	char choices[256];
	bool none = false, any = false;

	snprintf(buf, sizeof(buf), "%s", x->value);
	for (char *t = strtok_r(buf, ", \t", &save); t != NULL;
	     t = strtok_r(NULL, ", \t", &save)) {
		size_t i;

		any = true;
		if (strcasecmp(t, "none") == 0) {
			none = true;
			continue;
		}
		for (i = 0; i < FC_ARRAY_SIZE(rss_names); i++)
			if (strcasecmp(t, rss_names[i].name) == 0)
				break;
		if (i == FC_ARRAY_SIZE(rss_names))
			return bad_value(x, "unknown hash type '%s'; choose "
					 "from: %s", t,
					 rss_choices(choices, sizeof(choices)));
		hf |= rss_names[i].bits;
	}
	if (!any)
		return bad_value(x, "empty list; name the hash types (%s) or "
				 "write none",
				 rss_choices(choices, sizeof(choices)));
	if (none && hf != 0)
		return bad_value(x, "'none' cannot be combined with hash "
				 "types");
	*out = hf;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Hex bytes, optional 0x, optional ':' '-' or blanks between bytes;
 * "default" selects the built-in symmetric key. */
static int parse_rss_key(const struct ctx *x, uint8_t *key, uint8_t *len)
{
	const char *s = x->value;
	unsigned n = 0, nib = 0;
	int hi = 0;

	if (strcasecmp(s, "default") == 0) {
		memcpy(key, sym_key, sizeof(sym_key));
		*len = 0;
		return 0;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s != '\0'; s++) {
		int v;

		if (*s == ':' || *s == '-' || *s == ' ' || *s == '\t') {
			if (nib & 1)
				return bad_value(x, "odd number of hex digits "
						 "before '%c'; write whole "
						 "bytes", *s);
			continue;
		}
		v = hexval(*s);
		if (v < 0)
			return bad_value(x, "'%c' is not a hex digit; write "
					 "40 or 52 bytes as hex, or default",
					 *s);
		if (n == FC_DRVCFG_RSS_KEY_MAX)
			return bad_value(x, "longer than %d bytes; the key must "
					 "be 40 or 52 bytes",
					 FC_DRVCFG_RSS_KEY_MAX);
		if (nib & 1)
			key[n++] = (uint8_t)(hi << 4 | v);
		else
			hi = v;
		nib++;
	}
	if (nib & 1)
		return bad_value(x, "odd number of hex digits; write whole "
				 "bytes");
	if (n != 40 && n != 52)
		return bad_value(x, "%u bytes; the key must be 40 bytes (ixgbe, "
				 "mlx5, most PMDs) or 52 bytes (i40e, ice), "
				 "or default", n);
	*len = (uint8_t)n;
	return 0;
}

static int parse_choice(const struct ctx *x, const char *const *names,
			const int *vals, size_t n, const char *choices,
			int *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(x->value, names[i]) == 0) {
			*out = vals[i];
			return 0;
		}
	return bad_value(x, "expected %s", choices);
}

static int parse_devargs(const struct ctx *x, char *out, size_t len)
{
	for (const char *s = x->value; *s != '\0'; s++)
		if (!isgraph((unsigned char)*s) || *s == '#')
			return bad_value(x, "blank or control character in "
					 "device arguments; write them as "
					 "key=value,key=value");
	if (strlen(x->value) >= len)
		return bad_value(x, "longer than %zu characters", len - 1);
	snprintf(out, len, "%s", x->value);
	return 0;
}

static bool is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* One key of [port]. */
static int parse_entry(struct ctx *x, struct fc_drvcfg *c)
{
	const char *k = x->key;
	uint64_t v = 0;
	int rc, e = 0;

	if (x->value[0] == '\0' && strcmp(k, "devargs") != 0)
		return bad_value(x, "empty value (only devargs may be empty)");
	if (strcmp(k, "rx_queues") == 0) {
		rc = parse_u64(x, 1, FC_DRVCFG_RXQ_MAX, "one per worker", &v);
		c->rx_queues = (uint16_t)v;
	} else if (strcmp(k, "rx_desc") == 0) {
		rc = parse_u64(x, FC_DRVCFG_DESC_MIN, FC_DRVCFG_DESC_MAX, NULL,
			       &v);
		if (rc == 0 && !is_pow2(v))
			return bad_value(x, "not a power of two; expected one "
					 "of 64, 128, ..., %d (PMDs need "
					 "multiples of 32 and round up)",
					 FC_DRVCFG_DESC_MAX);
		c->rx_desc = (uint16_t)v;
	} else if (strcmp(k, "mbuf_count") == 0) {
		rc = parse_u64(x, FC_DRVCFG_MBUF_MIN, FC_DRVCFG_MBUF_MAX,
			       "sized from queues x descriptors", &v);
		c->mbuf_count = (uint32_t)v;
	} else if (strcmp(k, "mbuf_cache") == 0) {
		rc = parse_u64(x, 0, FC_DRVCFG_CACHE_MAX, NULL, &v);
		c->mbuf_cache = (uint16_t)v;
	} else if (strcmp(k, "mtu") == 0) {
		rc = parse_u64(x, FC_DRVCFG_MTU_MIN, FC_DRVCFG_MTU_MAX,
			       "keep the device's MTU", &v);
		c->mtu = (uint16_t)v;
	} else if (strcmp(k, "promisc") == 0) {
		rc = parse_bool(x, &c->promisc);
	} else if (strcmp(k, "rss_hf") == 0) {
		rc = parse_rss_hf(x, &c->rss_hf);
	} else if (strcmp(k, "rss_key") == 0) {
		rc = parse_rss_key(x, c->rss_key, &c->rss_key_len);
	} else if (strcmp(k, "rss_symmetric") == 0) {
		static const char *const n[] = {"no", "key", "yes", "hash"};
		static const int vals[] = {FC_DRVCFG_SYM_NO, FC_DRVCFG_SYM_KEY,
					   FC_DRVCFG_SYM_KEY,
					   FC_DRVCFG_SYM_FUNC};

		rc = parse_choice(x, n, vals, FC_ARRAY_SIZE(n),
				  "no, key (same as yes) or hash", &e);
		c->rss_symmetric = (enum fc_drvcfg_sym)e;
	} else if (strcmp(k, "devargs") == 0) {
		rc = parse_devargs(x, c->devargs, sizeof(c->devargs));
	} else if (strcmp(k, "timestamps") == 0) {
		static const char *const n[] = {"hw", "tsc"};
		static const int vals[] = {FC_DRVCFG_TS_HW, FC_DRVCFG_TS_TSC};

		rc = parse_choice(x, n, vals, FC_ARRAY_SIZE(n), "hw or tsc",
				  &e);
		c->timestamps = (enum fc_drvcfg_ts)e;
	} else if (strcmp(k, "burst") == 0) {
		rc = parse_u64(x, FC_DRVCFG_BURST_MIN, FC_DRVCFG_BURST_MAX, NULL,
			       &v);
		c->burst = (uint16_t)v;
	} else {
		set_err(x->err, x->errlen,
			"driver config %s line %u: [%s] unknown key '%s'; "
			"valid keys: rx_queues, rx_desc, mbuf_count, "
			"mbuf_cache, mtu, promisc, rss_hf, rss_key, "
			"rss_symmetric, devargs, timestamps, burst "
			"(see drivers-config/README.md)",
			x->path, key_line(x->scan, k), SECTION, k);
		return -EINVAL;
	}
	return rc;
}

/* Checks between keys, once every key is read. */
static int check_combined(struct ctx *x, struct fc_drvcfg *c)
{
	if (c->burst > c->rx_desc) {
		set_err(x->err, x->errlen,
			"driver config %s: [%s] burst = %u exceeds rx_desc = "
			"%u; a burst cannot be larger than the RX ring",
			x->path, SECTION, c->burst, c->rx_desc);
		return -EINVAL;
	}
	if (c->mbuf_count != 0) {
		uint64_t q = c->rx_queues ? c->rx_queues : 1;
		uint64_t need = q * ((uint64_t)c->rx_desc + c->burst) +
				(uint64_t)c->mbuf_cache;

		if (c->mbuf_count < need) {
			set_err(x->err, x->errlen,
				"driver config %s line %u: [%s] mbuf_count = "
				"%u cannot fill %" PRIu64 " RX queue(s) x "
				"rx_desc %u plus bursts and cache (%" PRIu64
				" mbufs at least); raise mbuf_count or set it "
				"to 0 (automatic)",
				x->path, key_line(x->scan, "mbuf_count"),
				SECTION, c->mbuf_count, q, c->rx_desc, need);
			return -EINVAL;
		}
	}
	if (c->rss_symmetric == FC_DRVCFG_SYM_KEY && c->rss_key_len != 0) {
		for (unsigned i = 2; i < c->rss_key_len; i++) {
			if (c->rss_key[i] == c->rss_key[i - 2])
				continue;
			set_err(x->err, x->errlen,
				"driver config %s line %u: [%s] rss_key is not "
				"symmetric (byte %u differs from byte %u; a "
				"symmetric key repeats one 2-byte pattern, "
				"e.g. 6d5a6d5a...); use rss_key = default, "
				"rss_symmetric = hash, or rss_symmetric = no",
				x->path, key_line(x->scan, "rss_key"), SECTION,
				i, i - 2);
			return -EINVAL;
		}
	}
	return 0;
}

/* Line scan (see the file comment). Returns 0, -errno when the file cannot
 * be read, -EINVAL for a line rte_cfgfile would drop or reject. */
/*
 * The whole file, NUL-terminated, in *out (free it): a regular file of at
 * most DRVCFG_FILE_MAX bytes of text. Anything else is refused before a
 * byte is read: opened without blocking (a FIFO without a writer would
 * hang), and /dev/zero, a directory or a terminal are not regular files
 * (/dev/zero would be read for ever). A NUL byte means binary data.
 */
static int read_text(const char *path, char **out, size_t *outlen,
		     char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL, *nul;
	int fd, e;

	*out = NULL;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		set_err(err, errlen, "driver config %s: cannot open: %s%s",
			path, strerror(e),
			e == ENOENT ? "; give the path of an .ini file (the "
				      "shipped ones are in drivers-config/)" :
				      "");
		return -e;
	}
	if (fstat(fd, &st) != 0) {
		e = errno;
		set_err(err, errlen, "driver config %s: %s", path, strerror(e));
		goto bad;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		set_err(err, errlen, "driver config %s is not a regular file "
			"(%s); give the path of an .ini file (the shipped ones "
			"are in drivers-config/)", path,
			S_ISDIR(st.st_mode) ? "a directory" :
			S_ISFIFO(st.st_mode) ? "a FIFO" :
			S_ISCHR(st.st_mode) ? "a character device" :
			S_ISSOCK(st.st_mode) ? "a socket" : "a device");
		goto bad;
	}
	if (st.st_size > DRVCFG_FILE_MAX)
		goto too_big;
	buf = malloc(DRVCFG_FILE_MAX + 2);
	if (buf == NULL) {
		e = ENOMEM;
		set_err(err, errlen, "driver config %s: out of memory", path);
		goto bad;
	}
	/* Read to the end, not to st_size: the file may change meanwhile,
	 * and must still stay within the bound. */
	for (;;) {
		ssize_t k = read(fd, buf + len, DRVCFG_FILE_MAX + 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			e = errno;
			set_err(err, errlen, "driver config %s: read error: %s",
				path, strerror(e));
			goto bad;
		}
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > DRVCFG_FILE_MAX)
			goto too_big;
	}
	buf[len] = '\0';
	nul = memchr(buf, '\0', len);
	if (nul != NULL) {
		unsigned line = 1;

		for (const char *q = buf; q < nul; q++)
			line += *q == '\n';
		e = EINVAL;
		set_err(err, errlen, "driver config %s line %u: a NUL byte "
			"(binary data, not an .ini file)", path, line);
		goto bad;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
too_big:
	e = EFBIG;
	set_err(err, errlen, "driver config %s is larger than %d bytes; a "
		"driver config is a short .ini file (see drivers-config/)",
		path, DRVCFG_FILE_MAX);
bad:
	free(buf);
	close(fd);
	return -e;
}

static int scan_file(const char *path, struct scan *s, char *err,
		     size_t errlen)
{
	char line[LINE_MAX_LEN + 2];
	unsigned lineno = 0;
	bool in_section = false;
	size_t text_len = 0;
	char *text;
	FILE *f;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = read_text(path, &text, &text_len, err, errlen);
	if (rc != 0)
		return rc;
	if (text_len == 0) {
		free(text);
		return 0;
	}
	f = fmemopen(text, text_len, "r");
	if (f == NULL) {
		set_err(err, errlen, "driver config %s: out of memory", path);
		free(text);
		return -ENOMEM;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);
		char *p = line, *end, *eq;

		lineno++;
		if (len > 0 && line[len - 1] != '\n' && !feof(f)) {
			set_err(err, errlen, "driver config %s line %u: longer "
				"than %d characters", path, lineno,
				LINE_MAX_LEN - 1);
			goto bad;
		}
		/* Same comment rule as rte_cfgfile: the first '#', unless
		 * escaped with a backslash. */
		end = strchr(p, COMMENT_CHAR);
		if (end != NULL && (end == p || end[-1] != '\\'))
			*end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (*p == '\0')
			continue;
		if (*p == '[') {
			char *rb = strchr(p, ']');

			if (rb == NULL || rb[1] != '\0' || rb == p + 1) {
				set_err(err, errlen, "driver config %s line %u: "
					"'%s' is not a section header; write "
					"[port]", path, lineno, p);
				goto bad;
			}
			if (s->n_sec == FC_ARRAY_SIZE(s->sections)) {
				set_err(err, errlen, "driver config %s line %u: "
					"too many sections; the file has one "
					"section, [port]", path, lineno);
				goto bad;
			}
			*rb = '\0';
			p++;
			while (isspace((unsigned char)*p))
				p++;
			for (end = p + strlen(p);
			     end > p && isspace((unsigned char)end[-1]);)
				*--end = '\0';
			snprintf(s->sections[s->n_sec], CFG_NAME_LEN, "%s", p);
			s->sec_line[s->n_sec++] = lineno;
			in_section = true;
			continue;
		}
		eq = strchr(p, '=');
		if (eq == NULL || eq == p) {
			set_err(err, errlen, "driver config %s line %u: '%s' is "
				"not 'key = value'", path, lineno, p);
			goto bad;
		}
		if (!in_section) {
			set_err(err, errlen, "driver config %s line %u: '%s' "
				"comes before any section; put it under [port]",
				path, lineno, p);
			goto bad;
		}
		if (strlen(eq + 1) >= CFG_VALUE_LEN - 1) {
			set_err(err, errlen, "driver config %s line %u: value "
				"longer than %d characters", path, lineno,
				CFG_VALUE_LEN - 2);
			goto bad;
		}
		*eq = '\0';
		for (end = eq; end > p && isspace((unsigned char)end[-1]);)
			*--end = '\0';
		if (s->n == MAX_ENTRIES) {
			set_err(err, errlen, "driver config %s line %u: more "
				"than %d keys", path, lineno, MAX_ENTRIES);
			goto bad;
		}
		memcpy(s->e[s->n].section, s->sections[s->n_sec - 1],
		       CFG_NAME_LEN);
		snprintf(s->e[s->n].key, CFG_NAME_LEN, "%s", p);
		s->e[s->n].line = lineno;
		s->n++;
	}
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		set_err(err, errlen, "driver config %s: read error: %s", path,
			strerror(e));
		fclose(f);
		free(text);
		return -e;
	}
	fclose(f);
	free(text);
	return 0;
bad:
	fclose(f);
	free(text);
	return -EINVAL;
}

void fc_drvcfg_defaults(struct fc_drvcfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->source, sizeof(c->source), "(defaults)");
	c->rx_queues = 0;
	c->rx_desc = 1024;
	c->mbuf_count = 0;
	c->mbuf_cache = 256;
	c->mtu = 0;
	c->promisc = true;
	c->rss_hf = HF_DEFAULT;
	memcpy(c->rss_key, sym_key, sizeof(sym_key));
	c->rss_key_len = 0;
	c->rss_symmetric = FC_DRVCFG_SYM_KEY;
	c->devargs[0] = '\0';
	c->timestamps = FC_DRVCFG_TS_HW;
	c->burst = 32;
}

int fc_drvcfg_load(const char *path, struct fc_drvcfg *c, char *err,
		   size_t errlen)
{
	static const struct rte_cfgfile_parameters params = {
		.comment_character = COMMENT_CHAR,
	};
	struct rte_cfgfile_entry *ents = NULL;
	struct scan *scan = NULL;
	struct rte_cfgfile *cfg = NULL;
	struct fc_drvcfg tmp;
	struct ctx x = { .path = path, .err = err, .errlen = errlen };
	int rc, nsec;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	fc_drvcfg_defaults(c);
	if (path == NULL || path[0] == '\0') {
		set_err(err, errlen, "driver config: empty file name");
		return -EINVAL;
	}
	fc_drvcfg_defaults(&tmp);
	snprintf(tmp.source, sizeof(tmp.source), "%s", path);

	scan = calloc(1, sizeof(*scan));
	ents = calloc(MAX_ENTRIES, sizeof(*ents));
	if (scan == NULL || ents == NULL) {
		set_err(err, errlen, "driver config %s: out of memory", path);
		rc = -ENOMEM;
		goto out;
	}
	x.scan = scan;
	rc = scan_file(path, scan, err, errlen);
	if (rc != 0)
		goto out;

	/* Empty values are allowed through so that `devargs =` can say
	 * "none"; every other key rejects them itself. */
	cfg = rte_cfgfile_load_with_params(path, CFG_FLAG_EMPTY_VALUES,
					   &params);
	if (cfg == NULL) {
		set_err(err, errlen, "driver config %s: rte_cfgfile cannot "
			"parse it (see the CFGFILE log line above)", path);
		rc = -EINVAL;
		goto out;
	}
	nsec = rte_cfgfile_num_sections(cfg, NULL, 0);
	for (int si = 0; si < nsec; si++) {
		char sec[CFG_NAME_LEN];
		int n = rte_cfgfile_section_entries_by_index(cfg, si, sec, ents,
							     MAX_ENTRIES);

		if (strcmp(sec, SECTION) != 0) {
			set_err(err, errlen, "driver config %s line %u: unknown "
				"section [%s]; the only section is [port]",
				path, (unsigned)si < scan->n_sec ?
					scan->sec_line[si] : 0, sec);
			rc = -EINVAL;
			goto out;
		}
		if (si > 0 || n < 0) {
			set_err(err, errlen, "driver config %s line %u: "
				"[port] appears twice; keep one", path,
				(unsigned)si < scan->n_sec ?
					scan->sec_line[si] : 0);
			rc = -EINVAL;
			goto out;
		}
		for (int i = 0; i < n; i++) {
			for (int j = 0; j < i; j++) {
				if (strcmp(ents[i].name, ents[j].name) != 0)
					continue;
				set_err(err, errlen, "driver config %s: [%s] "
					"key '%s' is given twice; keep one",
					path, sec, ents[i].name);
				rc = -EINVAL;
				goto out;
			}
			x.key = ents[i].name;
			x.value = ents[i].value;
			rc = parse_entry(&x, &tmp);
			if (rc != 0)
				goto out;
		}
	}
	rc = check_combined(&x, &tmp);
	if (rc != 0)
		goto out;
	*c = tmp;
out:
	if (cfg != NULL)
		rte_cfgfile_close(cfg);
	free(ents);
	free(scan);
	return rc;
}

const char *fc_drvcfg_rss_hf_str(uint64_t hf, char *buf, size_t len)
{
	uint64_t rem = hf;
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (hf == 0) {
		snprintf(buf, len, "none");
		return buf;
	}
	for (size_t i = 0; i < FC_ARRAY_SIZE(rss_names) && rem != 0; i++) {
		uint64_t b = rss_names[i].bits;
		int w;

		if ((hf & b) != b || (rem & b) == 0)
			continue;
		w = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			     rss_names[i].name);
		if (w < 0 || (size_t)w >= len - off)
			return buf;
		off += (size_t)w;
		rem &= ~b;
	}
	if (rem != 0)
		snprintf(buf + off, len - off, "%s0x%" PRIx64, off ? "," : "",
			 rem);
	return buf;
}

void fc_drvcfg_print(const struct fc_drvcfg *c, FILE *f)
{
	static const char *const sym[] = {"no", "key", "hash"};
	char hf[256];

	fprintf(f, "# driver config: %s\n[port]\n", c->source);
	if (c->rx_queues)
		fprintf(f, "rx_queues = %u\n", c->rx_queues);
	else
		fprintf(f, "rx_queues = 0          # one per worker\n");
	fprintf(f, "rx_desc = %u\n", c->rx_desc);
	if (c->mbuf_count)
		fprintf(f, "mbuf_count = %u\n", c->mbuf_count);
	else
		fprintf(f, "mbuf_count = 0         # from queues x rx_desc\n");
	fprintf(f, "mbuf_cache = %u\n", c->mbuf_cache);
	if (c->mtu)
		fprintf(f, "mtu = %u\n", c->mtu);
	else
		fprintf(f, "mtu = 0                # device default\n");
	fprintf(f, "promisc = %s\n", bool_str(c->promisc));
	fprintf(f, "rss_hf = %s\n", fc_drvcfg_rss_hf_str(c->rss_hf, hf,
							  sizeof(hf)));
	if (c->rss_key_len == 0) {
		fprintf(f, "rss_key = default      # 6d5a repeated\n");
	} else {
		fprintf(f, "rss_key = ");
		for (unsigned i = 0; i < c->rss_key_len; i++)
			fprintf(f, "%02x", c->rss_key[i]);
		fputc('\n', f);
	}
	fprintf(f, "rss_symmetric = %s\n", sym[c->rss_symmetric]);
	fprintf(f, "devargs = %s\n", c->devargs);
	fprintf(f, "timestamps = %s\n",
		c->timestamps == FC_DRVCFG_TS_HW ? "hw" : "tsc");
	fprintf(f, "burst = %u\n", c->burst);
}

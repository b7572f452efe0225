/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rules file parser and Hyperscan database (see fc_classify.h). Every
 * error names the file and the line, says what is wrong and how a correct
 * line looks. Limits: FC_CLS_FILE_MAX bytes, FC_CLS_RULES_MAX rules,
 * FC_CLS_LABELS_MAX distinct labels, lines of at most 64 KiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "fc_classify.h"

#define LINE_MAX_LEN 65536
#define LABEL_SLOTS 8192 /* > 2 * FC_CLS_LABELS_MAX, a power of two */

struct fc_cls_db {
	hs_database_t *hs;
	const struct fc_cls_rules *rs;
};

static const char rule_form[] =
	"a rule is: LABEL PROTO PORTS /PATTERN/FLAGS, e.g. "
	"\"dns-any udp 53 /^.{4}\\x00\\x01/s\"";

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (uint8_t)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void fc_cls_rules_free(struct fc_cls_rules *rs)
{
	if (rs == NULL)
		return;
	for (unsigned i = 0; i < rs->n; i++) {
		free(rs->r[i].ranges);
		free(rs->r[i].pattern);
	}
	free(rs->r);
	free(rs->labels);
	free(rs->name);
	free(rs);
}

/* The next whitespace-separated token of [*p, end): its start and length;
 * 0 when the line has none left. */
static size_t token(const char **p, const char *end, const char **tok)
{
	const char *s = *p;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	*tok = s;
	while (s < end && *s != ' ' && *s != '\t')
		s++;
	*p = s;
	return (size_t)(s - *tok);
}

static bool tok_is(const char *t, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(t, word, n) == 0;
}

static int parse_proto(const char *t, size_t n, uint8_t *mask)
{
	static const struct {
		const char *name;
		uint8_t mask;
	} tab[] = {
		{"tcp", FC_CLS_P_TCP},     {"udp", FC_CLS_P_UDP},
		{"sctp", FC_CLS_P_SCTP},   {"icmp", FC_CLS_P_ICMP},
		{"icmp6", FC_CLS_P_ICMP6},
		{"any", FC_CLS_P_TCP | FC_CLS_P_UDP | FC_CLS_P_SCTP |
				FC_CLS_P_ICMP | FC_CLS_P_ICMP6},
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tok_is(t, n, tab[i].name)) {
			*mask = tab[i].mask;
			return 0;
		}
	return -1;
}

static int cmp_range(const void *a, const void *b)
{
	const struct fc_cls_range *x = a, *y = b;

	return (int)x->lo - (int)y->lo;
}

/* "any" or a comma list of ports and ranges; 0 or -1 with what is wrong
 * in why. */
static int parse_ports(const char *t, size_t n, struct fc_cls_rule *r,
		       const char **why)
{
	size_t cap = 0;

	if (tok_is(t, n, "any")) {
		r->any_port = 1;
		return 0;
	}
	const char *p = t, *end = t + n;

	while (p < end) {
		unsigned long v[2];
		int k = 0;

		for (;;) {
			unsigned long x = 0;
			const char *s = p;

			while (p < end && *p >= '0' && *p <= '9' && x <= 65535)
				x = x * 10 + (unsigned long)(*p++ - '0');
			if (p == s || x > 65535) {
				*why = "a port is a number 0-65535, a range "
				       "LO-HI, a comma list of them, or any";
				return -1;
			}
			v[k++] = x;
			if (k == 1 && p < end && *p == '-') {
				p++;
				continue;
			}
			break;
		}
		if (k == 1)
			v[1] = v[0];
		if (v[1] < v[0]) {
			*why = "a port range must be LO-HI with LO <= HI";
			return -1;
		}
		if (p < end && *p != ',') {
			*why = "ports are separated by commas, without spaces";
			return -1;
		}
		if (p < end)
			p++;
		if (r->n_ranges == cap) {
			size_t nc = cap ? 2 * cap : 4;
			void *q = realloc(r->ranges, nc * sizeof(*r->ranges));

			if (q == NULL) {
				*why = "out of memory";
				return -1;
			}
			r->ranges = q;
			cap = nc;
		}
		r->ranges[r->n_ranges++] = (struct fc_cls_range){
			(uint16_t)v[0], (uint16_t)v[1]};
		if (r->n_ranges > 65536) {
			*why = "more than 65536 port items";
			return -1;
		}
	}
	qsort(r->ranges, r->n_ranges, sizeof(*r->ranges), cmp_range);
	return 0;
}

/* The label's id, added if new; -1 with why. */
static int label_id(struct fc_cls_rules *rs, uint16_t *slots, const char *t,
		    size_t n, const char **why)
{
	if (n < 1 || n > FC_CLS_LABEL_MAX) {
		*why = "a label is 1 to 31 characters of a-z 0-9 _ . -";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char c = t[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-')) {
			*why = "a label is 1 to 31 characters of a-z 0-9 _ . - "
			       "(lower case)";
			return -1;
		}
	}
	uint32_t h = (uint32_t)fnv1a(t, n) & (LABEL_SLOTS - 1);

	for (;; h = (h + 1) & (LABEL_SLOTS - 1)) {
		uint16_t id = slots[h];

		if (id == 0)
			break;
		if (strlen(rs->labels[id]) == n &&
		    memcmp(rs->labels[id], t, n) == 0)
			return id;
	}
	if (rs->n_labels >= FC_CLS_LABELS_MAX) {
		*why = "more than 4095 distinct labels";
		return -1;
	}
	unsigned id = ++rs->n_labels;

	memcpy(rs->labels[id], t, n);
	rs->labels[id][n] = 0;
	slots[h] = (uint16_t)id;
	return (int)id;
}

/* One non-empty, non-comment line into rule r; 0 or -1 with why. */
static int parse_line(struct fc_cls_rules *rs, uint16_t *slots,
		      const char *p, const char *end, struct fc_cls_rule *r,
		      const char **why)
{
	const char *t, *slash1, *slash2;
	size_t n;
	int id;

	n = token(&p, end, &t);
	if ((id = label_id(rs, slots, t, n, why)) < 0)
		return -1;
	r->label = (uint16_t)id;
	n = token(&p, end, &t);
	if (n == 0 || parse_proto(t, n, &r->protos) != 0) {
		*why = "the protocol is one of tcp udp sctp icmp icmp6 any";
		return -1;
	}
	n = token(&p, end, &t);
	if (n == 0 || parse_ports(t, n, r, why) != 0) {
		if (n == 0)
			*why = "the ports are missing (a list, or any)";
		return -1;
	}
	if (!r->any_port) {
		if (r->protos & (FC_CLS_P_ICMP | FC_CLS_P_ICMP6) &&
		    !(r->protos & FC_CLS_P_TCP)) {
			*why = "an ICMP rule has no ports: write any";
			return -1;
		}
		/* proto any with a port list: TCP, UDP and SCTP only. */
		r->protos &= FC_CLS_P_TCP | FC_CLS_P_UDP | FC_CLS_P_SCTP;
	}
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end || *p != '/') {
		*why = "the pattern is missing: /PATTERN/FLAGS after the ports";
		return -1;
	}
	slash1 = p;
	slash2 = end - 1;
	while (slash2 > slash1 && *slash2 != '/')
		slash2--;
	if (slash2 == slash1) {
		*why = "the pattern has no closing /";
		return -1;
	}
	for (p = slash2 + 1; p < end; p++) {
		switch (*p) {
		case 'i': r->hs_flags |= HS_FLAG_CASELESS; break;
		case 's': r->hs_flags |= HS_FLAG_DOTALL; break;
		case 'm': r->hs_flags |= HS_FLAG_MULTILINE; break;
		case ' ':
		case '\t':
			break;
		default:
			*why = "after the pattern's closing / come only the "
			       "flags i (caseless), s (dot matches newline), "
			       "m (multi-line anchors)";
			return -1;
		}
	}
	n = (size_t)(slash2 - slash1 - 1);
	if (n == 0) {
		*why = "the pattern is empty";
		return -1;
	}
	if ((r->pattern = malloc(n + 1)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	memcpy(r->pattern, slash1 + 1, n);
	r->pattern[n] = 0;
	return 0;
}

struct fc_cls_rules *fc_cls_rules_parse(const char *text, size_t len,
					const char *name, char *err,
					size_t errlen)
{
	struct fc_cls_rules *rs = calloc(1, sizeof(*rs));
	uint16_t *slots = calloc(LABEL_SLOTS, sizeof(*slots));
	const char *p = text, *end = text + len;
	unsigned line = 0, cap = 0;

	if (rs == NULL || slots == NULL ||
	    (rs->labels = calloc(FC_CLS_LABELS_MAX + 1,
				 sizeof(*rs->labels))) == NULL ||
	    (rs->name = strdup(name)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		goto err;
	}
	if (memchr(text, 0, len) != NULL) {
		snprintf(err, errlen, "%s: holds a NUL byte: a rules file is "
			 "text, %s", name, rule_form);
		goto err;
	}
	rs->hash = fnv1a(text, len);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *s = p;
		const char *why = NULL;

		line++;
		p = nl ? nl + 1 : end;
		if (le > s && le[-1] == '\r')
			le--;
		if (le - s > LINE_MAX_LEN) {
			snprintf(err, errlen, "%s:%u: line longer than 64 KiB: "
				 "is this a rules file? %s", name, line,
				 rule_form);
			goto err;
		}
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		if (s == le || *s == '#')
			continue;
		if (rs->n >= FC_CLS_RULES_MAX) {
			snprintf(err, errlen, "%s:%u: more than %u rules",
				 name, line, FC_CLS_RULES_MAX);
			goto err;
		}
		if (rs->n == cap) {
			unsigned nc = cap ? 2 * cap : 64;
			void *q = realloc(rs->r, nc * sizeof(*rs->r));

			if (q == NULL) {
				snprintf(err, errlen, "%s: out of memory", name);
				goto err;
			}
			rs->r = q;
			cap = nc;
		}
		struct fc_cls_rule *r = &rs->r[rs->n++];

		memset(r, 0, sizeof(*r));
		r->line = line;
		if (parse_line(rs, slots, s, le, r, &why) != 0) {
			snprintf(err, errlen, "%s:%u: %s; %s", name, line, why,
				 rule_form);
			goto err;
		}
	}
	if (rs->n == 0) {
		snprintf(err, errlen, "%s: no rules (only comments or blank "
			 "lines); %s", name, rule_form);
		goto err;
	}
	free(slots);
	return rs;
err:
	free(slots);
	fc_cls_rules_free(rs);
	return NULL;
}

struct fc_cls_rules *fc_cls_rules_load(const char *path, char *err,
				       size_t errlen)
{
	struct stat st;
	struct fc_cls_rules *rs = NULL;
	char *buf = NULL;
	size_t len = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read rules file '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "rules file '%s' is not a regular file",
			 path);
		goto out;
	}
	if ((uint64_t)st.st_size > FC_CLS_FILE_MAX) {
		snprintf(err, errlen, "rules file '%s' is larger than 16 MiB: "
			 "is it the right file?", path);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "rules file '%s': out of memory", path);
		goto out;
	}
	while (len <= (size_t)st.st_size &&
	       (r = read(fd, buf + len, (size_t)st.st_size + 1 - len)) > 0)
		len += (size_t)r;
	if (len > (size_t)st.st_size) {
		snprintf(err, errlen, "rules file '%s' grew while read: "
			 "replace it with a rename", path);
		goto out;
	}
	rs = fc_cls_rules_parse(buf, len, path, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rs;
}

struct fc_cls_db *fc_cls_db_create(const struct fc_cls_rules *rs, char *err,
				   size_t errlen)
{
	struct fc_cls_db *db = calloc(1, sizeof(*db));
	const char **pats = calloc(rs->n, sizeof(*pats));
	unsigned *flags = calloc(rs->n, sizeof(*flags));
	unsigned *ids = calloc(rs->n, sizeof(*ids));
	hs_compile_error_t *ce = NULL;

	if (db == NULL || pats == NULL || flags == NULL || ids == NULL) {
		snprintf(err, errlen, "%s: out of memory", rs->name);
		goto err;
	}
	for (unsigned i = 0; i < rs->n; i++) {
		pats[i] = rs->r[i].pattern;
		flags[i] = rs->r[i].hs_flags | HS_FLAG_SINGLEMATCH;
		ids[i] = i;
	}
	if (hs_compile_multi(pats, flags, ids, rs->n, HS_MODE_BLOCK, NULL,
			     &db->hs, &ce) != HS_SUCCESS) {
		if (ce != NULL && ce->expression >= 0 &&
		    (unsigned)ce->expression < rs->n) {
			const struct fc_cls_rule *r = &rs->r[ce->expression];

			snprintf(err, errlen, "%s:%u: pattern /%.200s%s/: "
				 "Hyperscan refuses it: %s", rs->name, r->line,
				 r->pattern, strlen(r->pattern) > 200 ? "..." : "",
				 ce->message);
		} else {
			snprintf(err, errlen, "%s: Hyperscan cannot compile "
				 "the rules: %s", rs->name,
				 ce ? ce->message : "unknown error");
		}
		hs_free_compile_error(ce);
		goto err;
	}
	db->rs = rs;
	free(pats);
	free(flags);
	free(ids);
	return db;
err:
	free(pats);
	free(flags);
	free(ids);
	free(db);
	return NULL;
}

/* ---- the cache of serialised databases ---------------------------------- */

/* The file name of rs's database in dir: the SHA-256 of what the compile
 * depends on. 0, or -1 when the name does not fit. */
static int cache_path(const struct fc_cls_rules *rs, const char *dir,
		      char *path, size_t len)
{
	static const char tag[] = "flowcap hsdb 1 block singlematch";
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];
	const char *ver = hs_version();
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	if (c == NULL)
		return -1;
	ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(c, tag, sizeof(tag)) == 1 &&
	     EVP_DigestUpdate(c, ver, strlen(ver) + 1) == 1;
	for (unsigned i = 0; ok && i < rs->n; i++) {
		uint32_t fl = rs->r[i].hs_flags;
		unsigned char b[4] = {(unsigned char)fl, (unsigned char)(fl >> 8),
				      (unsigned char)(fl >> 16),
				      (unsigned char)(fl >> 24)};

		ok = EVP_DigestUpdate(c, b, 4) == 1 &&
		     EVP_DigestUpdate(c, rs->r[i].pattern,
				      strlen(rs->r[i].pattern) + 1) == 1;
	}
	ok = ok && EVP_DigestFinal_ex(c, md, NULL) == 1;
	EVP_MD_CTX_free(c);
	if (!ok)
		return -1;
	for (unsigned i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return (size_t)snprintf(path, len, "%s/%s.hsdb", dir, hex) < len ? 0 :
									   -1;
}

/* The database in file path: 1 loaded, 0 no such file, -1 unusable
 * (why in note). */
static int cache_load(const char *path, hs_database_t **hs, char *note,
		      size_t notelen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	hs_error_t e;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(note, notelen, "cannot read the cached database "
			 "'%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size <= 0 || st.st_size > (off_t)1 << 31 ||
	    (buf = malloc((size_t)st.st_size)) == NULL) {
		snprintf(note, notelen, "cached database '%s' is not a "
			 "plausible file", path);
		close(fd);
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		snprintf(note, notelen, "cannot read the cached database "
			 "'%s'", path);
		free(buf);
		return -1;
	}
	e = hs_deserialize_database(buf, got, hs);
	free(buf);
	if (e != HS_SUCCESS) {
		*hs = NULL;
		snprintf(note, notelen, "cached database '%s' refused by "
			 "Hyperscan (%s)", path,
			 e == HS_DB_VERSION_ERROR ? "another Hyperscan version" :
			 e == HS_DB_PLATFORM_ERROR ? "made for another CPU" :
			 "damaged");
		return -1;
	}
	return 1;
}

/* Write hs to path atomically. 0, or -1 with why in note. */
static int cache_store(const char *path, const hs_database_t *hs,
		       char *note, size_t notelen)
{
	char *bytes = NULL, tmp[PATH_MAX + 16];
	size_t len = 0, put = 0;
	int fd;

	if (hs_serialize_database(hs, &bytes, &len) != HS_SUCCESS) {
		snprintf(note, notelen, "Hyperscan cannot serialise the "
			 "database: it is not cached");
		return -1;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
		    sizeof(tmp) ||
	    (fd = mkstemp(tmp)) < 0) {
		snprintf(note, notelen, "cannot write the database cache "
			 "'%s': %s; the next start compiles again", path,
			 strerror(errno));
		free(bytes);
		return -1;
	}
	/* Not secret, and read again after --user drops root. */
	(void)fchmod(fd, 0644);
	while (put < len) {
		ssize_t w = write(fd, bytes + put, len - put);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		put += (size_t)w;
	}
	free(bytes);
	if (put != len || fsync(fd) != 0 || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		snprintf(note, notelen, "cannot write the database cache "
			 "'%s': %s; the next start compiles again", path,
			 strerror(errno ? errno : EIO));
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct fc_cls_db *fc_cls_db_create_cached(const struct fc_cls_rules *rs,
					  const char *dir, int *hit,
					  char *note, size_t notelen,
					  char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct fc_cls_db *db;

	note[0] = '\0';
	*hit = 0;
	if (dir == NULL)
		return fc_cls_db_create(rs, err, errlen);
	if (cache_path(rs, dir, path, sizeof(path)) != 0) {
		snprintf(note, notelen, "database cache '%s': path too long "
			 "or no SHA-256; not used", dir);
		return fc_cls_db_create(rs, err, errlen);
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", rs->name);
		return NULL;
	}
	if (cache_load(path, &db->hs, note, notelen) == 1) {
		db->rs = rs;
		*hit = 1;
		return db;
	}
	free(db);
	if ((db = fc_cls_db_create(rs, err, errlen)) == NULL)
		return NULL;
	/* An unusable file is replaced; its note says so, or why the write
	 * failed too. */
	size_t nl = strlen(note);

	if (cache_store(path, db->hs, note, notelen) == 0 && nl > 0)
		snprintf(note + nl, notelen - nl, "; compiled again and "
			 "replaced");
	return db;
}

void fc_cls_db_free(struct fc_cls_db *db)
{
	if (db == NULL)
		return;
	hs_free_database(db->hs);
	free(db);
}

hs_scratch_t *fc_cls_scratch_alloc(const struct fc_cls_db *db)
{
	hs_scratch_t *s = NULL;

	if (hs_alloc_scratch(db->hs, &s) != HS_SUCCESS)
		return NULL;
	return s;
}

static uint8_t proto_bit(uint8_t proto)
{
	switch (proto) {
	case 6: return FC_CLS_P_TCP;
	case 17: return FC_CLS_P_UDP;
	case 132: return FC_CLS_P_SCTP;
	case 1: return FC_CLS_P_ICMP;
	case 58: return FC_CLS_P_ICMP6;
	default: return 0;
	}
}

static bool port_in(const struct fc_cls_rule *r, uint16_t port)
{
	for (uint32_t i = 0; i < r->n_ranges && r->ranges[i].lo <= port; i++)
		if (port <= r->ranges[i].hi)
			return true;
	return false;
}

int fc_cls_rule_applies(const struct fc_cls_rule *r, uint8_t proto,
			uint16_t sport, uint16_t dport)
{
	if (!(r->protos & proto_bit(proto)))
		return 0;
	return r->any_port || port_in(r, sport) || port_in(r, dport);
}

struct scan_ctx {
	const struct fc_cls_rules *rs;
	uint8_t proto;
	uint16_t sport, dport;
	unsigned best; /* rule index, or UINT_MAX */
};

static int on_match(unsigned id, unsigned long long from,
		    unsigned long long to, unsigned flags, void *arg)
{
	struct scan_ctx *c = arg;

	(void)from;
	(void)to;
	(void)flags;
	if (id < c->best &&
	    fc_cls_rule_applies(&c->rs->r[id], c->proto, c->sport, c->dport))
		c->best = id;
	return 0;
}

unsigned fc_cls_match(const struct fc_cls_db *db, hs_scratch_t *s,
		      uint8_t proto, uint16_t sport, uint16_t dport,
		      const uint8_t *payload, uint32_t len)
{
	struct scan_ctx c = {db->rs, proto, sport, dport, (unsigned)-1};

	if (len == 0 || proto_bit(proto) == 0)
		return 0;
	if (hs_scan(db->hs, (const char *)payload, len, 0, s, on_match, &c) !=
	    HS_SUCCESS)
		return 0;
	return c.best == (unsigned)-1 ? 0 : db->rs->r[c.best].label;
}

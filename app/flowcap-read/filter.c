/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The --filter language: an nfdump-like expression over the fields of a
 * record, parsed once by recursive descent into a small tree of nodes
 * whose operands are already binary (addresses as bytes and masks,
 * numbers as integers, flags as a bit mask), so matching a record is a
 * walk over a few nodes with no string work. A mistake is reported with
 * the expression, a caret under the column where it went wrong and what
 * was expected there. The filter does not know about groups or files.
 *
 *   expr    := term { "or" term }
 *   term    := factor { "and" factor }
 *   factor  := "not" factor | "(" expr ")" | prim
 *   prim    := "proto" (tcp|udp|icmp|icmp6|sctp|N)
 *            | [src|dst] ip ADDR | [src|dst] net CIDR
 *            | [src|dst] port [CMP] N
 *            | ttl [CMP] N | len [CMP] N | packets [CMP] N
 *            | flags LETTERS | class NAME | ipv4 | ipv6
 *            | label NAME | vlan N
 *   CMP     := = | == | != | < | <= | > | >=
 */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fr.h"

enum nkind {
	N_AND, N_OR, N_NOT,
	N_PROTO, N_IP, N_NET, N_PORT, N_TTL, N_LEN, N_PACKETS, N_FLAGS,
	N_CLASS, N_FAMILY, N_LABEL, N_VLAN,
};

enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE };

enum side { S_ANY, S_SRC, S_DST };

struct fnode {
	uint8_t kind, cmp, side, family;
	uint32_t a, b;     /* children (N_AND, N_OR, N_NOT: a) */
	uint64_t num;      /* number operand; N_FLAGS: the mask */
	uint8_t ip[16];    /* N_IP, N_NET: address (masked for net) */
	uint8_t mask[16];  /* N_NET */
};

/* Deepest nesting accepted: keeps the recursion of parse and match
 * bounded whatever the input (fuzzed). */
#define MAX_DEPTH 64
#define MAX_NODES 4096
/* Distinct names `label` terms may give: one bit each in fr_flabels. */
#define MAX_LABELS 32

struct fr_filter {
	struct fnode *n;
	uint32_t nn, cap, root;
	unsigned needs;
	char lname[MAX_LABELS][32]; /* the NAMEs of `label NAME` */
	unsigned nl;
};

struct tok {
	const char *s; /* start in the expression */
	size_t len;
	size_t col;
};

struct parser {
	const char *expr;
	struct tok t;    /* current token; len 0 at the end */
	size_t pos;      /* after t */
	struct fr_filter *f;
	char *err;
	size_t errlen;
	bool failed;
	unsigned depth;
};

unsigned fr_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64], prev, tmp;

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned c = prev + (tolower((unsigned char)a[i - 1]) !=
					     tolower((unsigned char)b[j - 1]));

			tmp = row[j];
			if (row[j] + 1 < c)
				c = row[j] + 1;
			if (row[j - 1] + 1 < c)
				c = row[j - 1] + 1;
			row[j] = c;
			prev = tmp;
		}
	}
	return row[lb];
}

static void next(struct parser *p)
{
	const char *e = p->expr;
	size_t i = p->pos;

	while (e[i] != '\0' && isspace((unsigned char)e[i]))
		i++;
	p->t.s = e + i;
	p->t.col = i;
	if (e[i] == '\0') {
		p->t.len = 0;
	} else if (e[i] == '(' || e[i] == ')') {
		p->t.len = 1;
	} else if (strchr("=!<>", e[i]) != NULL) {
		p->t.len = (e[i + 1] == '=') ? 2 : 1;
	} else {
		size_t j = i;

		while (e[j] != '\0' && !isspace((unsigned char)e[j]) &&
		       strchr("()=!<>", e[j]) == NULL)
			j++;
		p->t.len = j - i;
	}
	p->pos = i + p->t.len;
}

static bool is(const struct parser *p, const char *w)
{
	return p->t.len == strlen(w) && strncasecmp(p->t.s, w, p->t.len) == 0;
}

/* The token as a NUL-terminated string (truncated to fit). */
static const char *tokstr(const struct parser *p, char *buf, size_t n)
{
	size_t l = p->t.len < n - 1 ? p->t.len : n - 1;

	memcpy(buf, p->t.s, l);
	buf[l] = '\0';
	return buf;
}

/* First error wins: the expression, a caret under col, the message. */
static void fail_at(struct parser *p, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail_at(struct parser *p, size_t col, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "bad --filter at column %zu: %s\n  %s\n"
		 "  %*s^", col + 1, msg, p->expr, (int)col, "");
}

static const char *const prim_words[] = {
	"proto", "src", "dst", "ip", "net", "port", "ttl", "len", "packets",
	"flags", "class", "ipv4", "ipv6", "label", "vlan", "not", NULL,
};

static const char *closest(const char *w, const char *const *words)
{
	const char *best = NULL;
	unsigned bd = 3;

	for (size_t i = 0; words[i] != NULL; i++) {
		unsigned d = fr_edit_distance(w, words[i]);

		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	/* A one-letter word is near everything short: no suggestion. */
	return strlen(w) > 1 ? best : NULL;
}

static void fail_unknown(struct parser *p, const char *what,
			 const char *const *words, const char *expected)
{
	char w[64];
	const char *s;

	if (p->t.len == 0) {
		fail_at(p, p->t.col, "expression ends where %s was expected",
			expected);
		return;
	}
	tokstr(p, w, sizeof(w));
	s = words != NULL ? closest(w, words) : NULL;
	if (s != NULL)
		fail_at(p, p->t.col, "unknown %s '%s' (did you mean '%s'?)",
			what, w, s);
	else
		fail_at(p, p->t.col, "unknown %s '%s' (expected %s)", what, w,
			expected);
}

static uint32_t node(struct parser *p, enum nkind k)
{
	struct fr_filter *f = p->f;

	if (f->nn == f->cap) {
		uint32_t cap = f->cap ? f->cap * 2 : 16;
		struct fnode *n;

		if (cap > MAX_NODES) {
			fail_at(p, p->t.col, "expression too long (at most %d "
				"terms)", MAX_NODES);
			return 0;
		}
		n = realloc(f->n, cap * sizeof(*n));
		if (n == NULL)
			fr_oom();
		f->n = n;
		f->cap = cap;
	}
	memset(&f->n[f->nn], 0, sizeof(f->n[0]));
	f->n[f->nn].kind = (uint8_t)k;
	return f->nn++;
}

static bool parse_u64(struct parser *p, uint64_t max, uint64_t *v,
		      const char *what)
{
	char w[32], *end;
	unsigned long long x;

	if (p->t.len == 0 || p->t.len >= sizeof(w) ||
	    !isdigit((unsigned char)p->t.s[0])) {
		if (p->t.len == 0)
			fail_at(p, p->t.col, "expression ends where %s was "
				"expected", what);
		else
			fail_at(p, p->t.col, "expected %s, found '%s'", what,
				tokstr(p, w, sizeof(w)));
		return false;
	}
	tokstr(p, w, sizeof(w));
	errno = 0;
	x = strtoull(w, &end, 10);
	if (*end != '\0' || errno != 0 || x > max) {
		fail_at(p, p->t.col, "expected %s (0 to %" PRIu64 "), found "
			"'%s'", what, max, w);
		return false;
	}
	*v = x;
	next(p);
	return true;
}

static enum cmp parse_cmp(struct parser *p)
{
	static const char *const ops[] = {"=", "==", "!=", "<", "<=", ">", ">="};
	static const enum cmp val[] = {C_EQ, C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE};

	for (size_t i = 0; i < 7; i++)
		if (is(p, ops[i])) {
			next(p);
			return val[i];
		}
	if (p->t.len > 0 && strchr("=!<>", p->t.s[0]) != NULL)
		fail_at(p, p->t.col, "unknown comparison (use = == != < <= > "
			">=)");
	return C_EQ;
}

static uint32_t parse_num(struct parser *p, enum nkind k, uint64_t max,
			  const char *what)
{
	uint32_t n = node(p, k);
	uint64_t v;

	p->f->n[n].cmp = (uint8_t)parse_cmp(p);
	if (parse_u64(p, max, &v, what))
		p->f->n[n].num = v;
	return n;
}

static uint32_t parse_addr(struct parser *p, enum side side, bool net)
{
	char w[64], *slash;
	uint32_t n;
	int fam;
	uint64_t plen;
	size_t col = p->t.col;

	n = node(p, net ? N_NET : N_IP);
	if (p->failed)
		return n;
	p->f->n[n].side = (uint8_t)side;
	if (p->t.len == 0 || p->t.len >= sizeof(w)) {
		fail_at(p, col, p->t.len ? "address too long" :
			"expression ends where an address was expected");
		return n;
	}
	tokstr(p, w, sizeof(w));
	slash = strchr(w, '/');
	if (slash != NULL) {
		char *end;

		if (!net) {
			fail_at(p, col, "'ip' takes one address; for a "
				"prefix use 'net %s'", w);
			return n;
		}
		*slash = '\0';
		errno = 0;
		plen = strtoull(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || errno != 0)
			plen = 999;
	}
	fam = fc_ip_parse(w, p->f->n[n].ip);
	if (fam < 0) {
		fail_at(p, col, "expected an IPv4 or IPv6 address%s, found "
			"'%s'", net ? " with /prefix" : "", w);
		return n;
	}
	if (slash == NULL)
		plen = fam == 4 ? 32 : 128;
	if (plen > (fam == 4 ? 32u : 128u)) {
		fail_at(p, col + (size_t)(slash - w) + 1, "prefix length must "
			"be 0 to %d for IPv%d", fam == 4 ? 32 : 128, fam);
		return n;
	}
	p->f->n[n].family = (uint8_t)fam;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = plen > 8 * i ? (unsigned)(plen - 8 * i) : 0;

		p->f->n[n].mask[i] = bits >= 8 ? 0xff :
				     (uint8_t)(0xff00 >> bits);
		p->f->n[n].ip[i] &= p->f->n[n].mask[i];
	}
	next(p);
	return n;
}

static uint32_t parse_expr(struct parser *p);

static uint32_t parse_prim(struct parser *p)
{
	enum side side = S_ANY;
	size_t col = p->t.col;
	char w[64];
	uint32_t n;

	if (is(p, "src") || is(p, "dst")) {
		side = is(p, "src") ? S_SRC : S_DST;
		next(p);
		if (is(p, "ip") || is(p, "host")) {
			next(p);
			return parse_addr(p, side, false);
		}
		if (is(p, "net")) {
			next(p);
			return parse_addr(p, side, true);
		}
		if (is(p, "port")) {
			next(p);
			n = parse_num(p, N_PORT, 65535, "a port number");
			p->f->n[n].side = (uint8_t)side;
			return n;
		}
		static const char *const after[] = {"ip", "net", "port", NULL};
		fail_unknown(p, "word after src/dst", after,
			     "'ip', 'net' or 'port'");
		return 0;
	}
	if (is(p, "ip") || is(p, "host")) {
		next(p);
		return parse_addr(p, S_ANY, false);
	}
	if (is(p, "net")) {
		next(p);
		return parse_addr(p, S_ANY, true);
	}
	if (is(p, "port")) {
		next(p);
		return parse_num(p, N_PORT, 65535, "a port number");
	}
	if (is(p, "proto")) {
		static const char *const names[] = {"tcp", "udp", "icmp",
						    "icmp6", "sctp", NULL};
		static const uint8_t nums[] = {6, 17, 1, 58, 132};

		next(p);
		n = node(p, N_PROTO);
		if (p->failed)
			return n;
		for (size_t i = 0; names[i] != NULL; i++)
			if (is(p, names[i]) ||
			    (i == 3 && is(p, "ipv6-icmp"))) {
				p->f->n[n].num = nums[i];
				next(p);
				return n;
			}
		if (p->t.len > 0 && isdigit((unsigned char)p->t.s[0])) {
			parse_u64(p, 255, &p->f->n[n].num, "a protocol number");
			return n;
		}
		fail_unknown(p, "protocol", names,
			     "tcp, udp, icmp, icmp6, sctp or a number 0-255");
		return n;
	}
	if (is(p, "ttl")) {
		next(p);
		return parse_num(p, N_TTL, 255, "a TTL");
	}
	if (is(p, "len")) {
		next(p);
		return parse_num(p, N_LEN, UINT32_MAX, "an IP length");
	}
	if (is(p, "packets")) {
		next(p);
		return parse_num(p, N_PACKETS, UINT64_MAX, "a packet count");
	}
	if (is(p, "flags")) {
		static const char letters[] = "FSRPAUEC";

		next(p);
		n = node(p, N_FLAGS);
		if (p->failed)
			return n;
		if (p->t.len == 0) {
			fail_at(p, p->t.col, "expression ends where TCP flag "
				"letters (F S R P A U E C) were expected");
			return n;
		}
		for (size_t i = 0; i < p->t.len; i++) {
			const char *c = strchr(letters,
				toupper((unsigned char)p->t.s[i]));

			if (c == NULL || p->t.s[i] == '\0') {
				fail_at(p, p->t.col + i, "unknown TCP flag "
					"'%c' (letters: F S R P A U E C)",
					p->t.s[i]);
				return n;
			}
			p->f->n[n].num |= 1u << (c - letters);
		}
		next(p);
		return n;
	}
	if (is(p, "class")) {
		static const char *const names[] = {"backscatter", "icmpreq",
						    "other", NULL};
		int c;

		next(p);
		n = node(p, N_CLASS);
		if (p->failed)
			return n;
		c = p->t.len > 0 ? fc_ft_class_from_name(
					   tokstr(p, w, sizeof(w))) : -1;
		if (c < 0) {
			fail_unknown(p, "class", names,
				     "backscatter, icmpreq or other");
			return n;
		}
		p->f->n[n].num = (uint64_t)c;
		next(p);
		return n;
	}
	if (is(p, "ipv4") || is(p, "ipv6") || is(p, "inet") ||
	    is(p, "inet6")) {
		n = node(p, N_FAMILY);
		if (!p->failed)
			p->f->n[n].family = is(p, "ipv4") || is(p, "inet") ?
						    4 : 6;
		next(p);
		return n;
	}
	if (is(p, "label")) {
		size_t i;

		next(p);
		n = node(p, N_LABEL);
		p->f->needs |= FR_NEED_LABEL;
		if (p->failed)
			return n;
		if (p->t.len == 0 || strchr("()=!<>", p->t.s[0]) != NULL) {
			fail_at(p, p->t.col, "expected a label name");
			return n;
		}
		/* The names flowcap writes (rule names), or "#ID" for an id
		 * its interval does not name, as the dump prints it. */
		for (i = 0; i < p->t.len; i++) {
			char c = p->t.s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '_' || c == '.' || c == '-' ||
			      (c == '#' && i == 0 && p->t.len > 1)))
				break;
		}
		if (i < p->t.len || p->t.len > 31) {
			fail_at(p, p->t.col + (i < p->t.len ? i : 31),
				"a label name is 1 to 31 characters of a-z 0-9 "
				"_ . - (or #ID)");
			return n;
		}
		tokstr(p, w, sizeof(w));
		for (i = 0; i < p->f->nl; i++)
			if (strcmp(p->f->lname[i], w) == 0)
				break;
		if (i == p->f->nl) {
			if (p->f->nl == MAX_LABELS) {
				fail_at(p, p->t.col, "at most %d different "
					"label names", MAX_LABELS);
				return n;
			}
			memcpy(p->f->lname[p->f->nl++], w, 32);
		}
		p->f->n[n].num = i;
		next(p);
		return n;
	}
	if (is(p, "vlan")) {
		next(p);
		p->f->needs |= FR_NEED_VLAN;
		return parse_num(p, N_VLAN, 4095, "a VLAN id");
	}
	(void)col;
	if (p->t.len == 0)
		fail_at(p, p->t.col, "expression ends where a condition (proto, "
			"ip, net, port, ...) was expected");
	else if (is(p, ")") || is(p, "and") || is(p, "or"))
		fail_at(p, p->t.col, "expected a condition (proto, ip, net, "
			"port, ...) before '%s'", tokstr(p, w, sizeof(w)));
	else
		fail_unknown(p, "field", prim_words,
			     "proto, ip, net, port, ttl, len, packets, flags, "
			     "class, ipv4, ipv6, label, vlan");
	return 0;
}

static uint32_t parse_factor(struct parser *p)
{
	uint32_t n;

	if (++p->depth > MAX_DEPTH) {
		fail_at(p, p->t.col, "nested too deeply (at most %d levels)",
			MAX_DEPTH);
		p->depth--;
		return 0;
	}
	if (is(p, "not") || is(p, "!")) {
		next(p);
		n = node(p, N_NOT);
		if (!p->failed) {
			uint32_t c = parse_factor(p);

			if (!p->failed)
				p->f->n[n].a = c;
		}
	} else if (is(p, "(")) {
		size_t col = p->t.col;

		next(p);
		n = parse_expr(p);
		if (!p->failed && !is(p, ")"))
			fail_at(p, p->t.len ? p->t.col : col,
				p->t.len ? "expected 'and', 'or' or ')'" :
					   "this '(' is never closed");
		if (!p->failed)
			next(p);
	} else {
		n = parse_prim(p);
	}
	p->depth--;
	return n;
}

static uint32_t parse_binary(struct parser *p, bool is_or)
{
	uint32_t l = is_or ? parse_binary(p, false) : parse_factor(p);

	while (!p->failed && is(p, is_or ? "or" : "and")) {
		uint32_t r, n;

		next(p);
		r = is_or ? parse_binary(p, false) : parse_factor(p);
		n = node(p, is_or ? N_OR : N_AND);
		if (p->failed)
			break;
		p->f->n[n].a = l;
		p->f->n[n].b = r;
		l = n;
	}
	return l;
}

static uint32_t parse_expr(struct parser *p)
{
	return parse_binary(p, true);
}

struct fr_filter *fr_filter_compile(const char *expr, char *err, size_t errlen)
{
	struct parser p = {.expr = expr, .err = err, .errlen = errlen};
	struct fr_filter *f = calloc(1, sizeof(*f));

	if (f == NULL)
		fr_oom();
	p.f = f;
	next(&p);
	if (p.t.len == 0) {
		fail_at(&p, 0, "empty expression (to read everything, leave "
			"out --filter)");
	} else {
		f->root = parse_expr(&p);
		if (!p.failed && p.t.len != 0) {
			char w[64];

			if (is(&p, ")"))
				fail_at(&p, p.t.col, "')' without a matching "
					"'('");
			else
				fail_at(&p, p.t.col, "expected 'and' or 'or' "
					"before '%s'",
					tokstr(&p, w, sizeof(w)));
		}
	}
	if (p.failed) {
		fr_filter_free(f);
		return NULL;
	}
	return f;
}

void fr_filter_free(struct fr_filter *f)
{
	if (f == NULL)
		return;
	free(f->n);
	free(f);
}

unsigned fr_filter_needs(const struct fr_filter *f)
{
	return f != NULL ? f->needs : 0;
}

uint64_t fr_filter_fields(const struct fr_filter *f)
{
	uint64_t w = 0;

	if (f == NULL)
		return 0;
	for (uint32_t i = 0; i < f->nn; i++) {
		const struct fnode *n = &f->n[i];

		switch (n->kind) {
		case N_PROTO: w |= FR_FID(PROTO); break;
		case N_IP:
		case N_NET:
			w |= (n->side != S_DST ? FR_FID(SRC_IP) : 0) |
			     (n->side != S_SRC ? FR_FID(DST_IP) : 0);
			break;
		case N_PORT:
			w |= (n->side != S_DST ? FR_FID(SRC_PORT) : 0) |
			     (n->side != S_SRC ? FR_FID(DST_PORT) : 0);
			break;
		case N_TTL: w |= FR_FID(TTL); break;
		case N_LEN: w |= FR_FID(IP_LEN); break;
		case N_FLAGS: w |= FR_FID(TCP_FLAGS); break;
		case N_CLASS: w |= FR_FID(CLASS); break;
		case N_LABEL: w |= FR_FID(LABEL); break;
		case N_VLAN: w |= FR_FID(VLAN); break;
		default: break; /* and, or, not; packets, family: always */
		}
	}
	return w;
}

static bool cmp_u64(enum cmp c, uint64_t v, uint64_t x)
{
	switch (c) {
	case C_EQ: return v == x;
	case C_NE: return v != x;
	case C_LT: return v < x;
	case C_LE: return v <= x;
	case C_GT: return v > x;
	default:   return v >= x;
	}
}

static bool net_has(const struct fnode *n, const uint8_t *ip)
{
	uint64_t a[2], m[2], w[2];

	memcpy(a, ip, 16);
	memcpy(m, n->mask, 16);
	memcpy(w, n->ip, 16);
	return ((a[0] & m[0]) == w[0]) & ((a[1] & m[1]) == w[1]);
}

static bool match(const struct fnode *nv, uint32_t i,
		  const struct fc_ft_record *r, const struct fr_flabels *lb)
{
	const struct fnode *n = &nv[i];
	const struct fc_ftkey *k = &r->key;

	switch (n->kind) {
	case N_AND:
		return match(nv, n->a, r, lb) && match(nv, n->b, r, lb);
	case N_OR:
		return match(nv, n->a, r, lb) || match(nv, n->b, r, lb);
	case N_NOT:
		return !match(nv, n->a, r, lb);
	case N_PROTO:
		return k->proto == n->num;
	case N_IP:
	case N_NET:
		if (k->family != n->family)
			return false;
		return (n->side != S_DST && net_has(n, k->src_ip)) ||
		       (n->side != S_SRC && net_has(n, k->dst_ip));
	case N_PORT:
		return (n->side != S_DST && cmp_u64(n->cmp, k->src_port, n->num)) ||
		       (n->side != S_SRC && cmp_u64(n->cmp, k->dst_port, n->num));
	case N_TTL:
		return cmp_u64(n->cmp, k->ttl, n->num);
	case N_LEN:
		return cmp_u64(n->cmp, k->ip_len, n->num);
	case N_PACKETS:
		return cmp_u64(n->cmp, r->packets, n->num);
	case N_FLAGS:
		return (k->tcp_flags & n->num) == n->num;
	case N_CLASS:
		return k->cls == n->num;
	case N_FAMILY:
		return k->family == n->family;
	case N_LABEL:
		return lb != NULL &&
		       (lb->m[fc_ftkey_label(k)] >> n->num & 1) != 0;
	default: /* N_VLAN */
		return cmp_u64(n->cmp, fc_ftkey_vlan(k), n->num);
	}
}

bool fr_filter_match(const struct fr_filter *f, const struct fc_ft_record *r,
		     const struct fr_flabels *lb)
{
	return match(f->n, f->root, r, lb);
}

unsigned fr_filter_select(const struct fr_filter *f,
			  const struct fc_ft_record *v, unsigned n,
			  const struct fr_flabels *lb, uint16_t *keep)
{
	const struct fnode *t = &f->n[f->root];
	unsigned k = 0;

	/* The commonest question, one protocol, without the tree walk. */
	if (t->kind == N_PROTO) {
		for (unsigned i = 0; i < n; i++) {
			keep[k] = (uint16_t)i;
			k += v[i].key.proto == t->num;
		}
		return k;
	}
	for (unsigned i = 0; i < n; i++) {
		keep[k] = (uint16_t)i;
		k += match(f->n, f->root, &v[i], lb);
	}
	return k;
}

void fr_filter_bind_labels(const struct fr_filter *f, struct fr_flabels *lb,
			   const struct fc_ft_reader *rd)
{
	memset(lb, 0, sizeof(*lb));
	for (unsigned id = 1; id <= FC_FTKEY_LABEL_MAX; id++) {
		const char *name = fc_ft_reader_label(rd, id);

		if (name == NULL)
			break;
		for (unsigned i = 0; i < f->nl; i++)
			if (strcmp(f->lname[i], name) == 0)
				lb->m[id] |= 1u << i;
	}
	for (unsigned i = 0; i < f->nl; i++) {
		char *end;
		unsigned long id;

		if (f->lname[i][0] != '#')
			continue;
		id = strtoul(f->lname[i] + 1, &end, 10);
		if (*end == '\0' && id >= 1 && id <= FC_FTKEY_LABEL_MAX &&
		    fc_ft_reader_label(rd, (unsigned)id) == NULL)
			lb->m[id] |= 1u << i;
	}
}

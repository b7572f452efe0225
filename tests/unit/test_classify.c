/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/classify: the rules file format, its errors (file and
 * line named), and the label a scan gives: first rule in file order that
 * applies to protocol and ports and matches. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fc_classify.h"

static char err[1024];

static struct fc_cls_rules *parse(const char *t)
{
	return fc_cls_rules_parse(t, strlen(t), "r.rules", err, sizeof(err));
}

static const char example[] =
	"# label        proto  ports           pattern\n"
	"ssdp-search    udp    1900            /^M-SEARCH \\* HTTP\\/1\\.1/\n"
	"ntp-monlist    udp    123             /^[\\x16\\x17\\x1e\\x1f]\\x00[\\x02\\x03]\\x2a/s\n"
	"\n"
	"tls-hello      tcp    any             /^\\x16\\x03[\\x00-\\x04]..\\x01/s\n"
	"http-probe     tcp    80,8000-8999    /^(GET|POST|HEAD) \\//\r\n"
	"http-any       any    80              /^GET/i\n"
	"ping-x         icmp   any             /xx/\n";

Test(classify, the_issue_example_parses)
{
	struct fc_cls_rules *rs = parse(example);

	cr_assert_not_null(rs, "%s", err);
	cr_assert_eq(rs->n, 6);
	cr_assert_eq(rs->n_labels, 6);
	cr_assert_str_eq(rs->labels[rs->r[0].label], "ssdp-search");
	cr_assert_str_eq(rs->r[0].pattern, "^M-SEARCH \\* HTTP\\/1\\.1");
	cr_assert_eq(rs->r[3].n_ranges, 2);
	cr_assert_eq(rs->r[3].line, 6);
	cr_assert_eq(rs->r[3].ranges[1].lo, 8000);
	cr_assert_eq(rs->r[3].ranges[1].hi, 8999);
	cr_assert(rs->r[4].hs_flags & HS_FLAG_CASELESS);
	/* proto any with ports: TCP, UDP, SCTP only */
	cr_assert_eq(rs->r[4].protos,
		     FC_CLS_P_TCP | FC_CLS_P_UDP | FC_CLS_P_SCTP);
	fc_cls_rules_free(rs);
}

static void expect_error(const char *text, const char *want)
{
	struct fc_cls_rules *rs = parse(text);

	cr_assert_null(rs, "accepted: %s", text);
	cr_assert(strstr(err, want) != NULL, "'%s' not in '%s'", want, err);
}

Test(classify, bad_lines_name_file_and_line)
{
	expect_error("a tcp any /x/\nBad tcp any /x/\n", "r.rules:2: a label");
	expect_error("a tcp any /x/\n\n# c\nb tcpx any /x/\n",
		     "r.rules:4: the protocol");
	expect_error("a tcp 70000 /x/\n", "r.rules:1: a port");
	expect_error("a tcp 90-80 /x/\n", "r.rules:1: a port range");
	expect_error("a icmp 80 /x/\n", "r.rules:1: an ICMP rule has no ports");
	expect_error("a tcp any x\n", "r.rules:1: the pattern is missing");
	expect_error("a tcp any /x\n", "r.rules:1: the pattern has no closing /");
	expect_error("a tcp any /x/q\n", "r.rules:1: after the pattern");
	expect_error("a tcp any //\n", "r.rules:1: the pattern is empty");
	expect_error("a tcp\n", "r.rules:1: the ports are missing");
	expect_error("# only\n\n", "r.rules: no rules");
	expect_error("abcdefghijabcdefghijabcdefghijab tcp any /x/\n",
		     "r.rules:1: a label is 1 to 31");
}

Test(classify, binary_and_huge_inputs_are_refused)
{
	static const char bin[] = "a tcp any /x/\n\0\x01\x02";
	struct fc_cls_rules *rs = fc_cls_rules_parse(bin, sizeof(bin), "b.bin",
						     err, sizeof(err));

	cr_assert_null(rs);
	cr_assert(strstr(err, "b.bin: holds a NUL byte") != NULL, "%s", err);

	size_t n = 70000;
	char *line = malloc(n + 20);

	cr_assert_not_null(line);
	memcpy(line, "a tcp any /", 11);
	memset(line + 11, 'x', n);
	memcpy(line + 11 + n, "/\n", 3);
	cr_assert_null(parse(line));
	cr_assert(strstr(err, "r.rules:1: line longer than 64 KiB") != NULL,
		  "%s", err);
	free(line);

	char path[] = "/tmp/fc-cls-XXXXXX";
	int fd = mkstemp(path);

	cr_assert(fd >= 0);
	cr_assert_eq(ftruncate(fd, FC_CLS_FILE_MAX + 1), 0);
	close(fd);
	cr_assert_null(fc_cls_rules_load(path, err, sizeof(err)));
	cr_assert(strstr(err, "larger than 16 MiB") != NULL, "%s", err);
	unlink(path);
	cr_assert_null(fc_cls_rules_load("/nonexistent/r", err, sizeof(err)));
	cr_assert(strstr(err, "cannot read rules file '/nonexistent/r'") != NULL);
}

Test(classify, hyperscan_refusal_names_the_line)
{
	struct fc_cls_rules *rs = parse("a tcp any /ok/\nb udp any /(ab/\n");
	struct fc_cls_db *db;

	cr_assert_not_null(rs, "%s", err);
	db = fc_cls_db_create(rs, err, sizeof(err));
	cr_assert_null(db);
	cr_assert(strstr(err, "r.rules:2: pattern /(ab/: Hyperscan refuses") !=
			  NULL, "%s", err);
	fc_cls_rules_free(rs);
	/* a back-reference: valid PCRE, not Hyperscan */
	rs = parse("a tcp any /(a)\\1/\n");
	cr_assert_not_null(rs);
	cr_assert_null(fc_cls_db_create(rs, err, sizeof(err)));
	cr_assert(strstr(err, "r.rules:1: pattern") != NULL, "%s", err);
	fc_cls_rules_free(rs);
}

static unsigned label_of(struct fc_cls_db *db, hs_scratch_t *s,
			 uint8_t proto, uint16_t sp, uint16_t dp,
			 const char *payload)
{
	return fc_cls_match(db, s, proto, sp, dp, (const uint8_t *)payload,
			    (uint32_t)strlen(payload));
}

Test(classify, first_applicable_rule_in_file_order)
{
	struct fc_cls_rules *rs = parse(
		"late  tcp 80       /GET/\n"   /* 1 */
		"early tcp 8080     /^GET/\n"  /* 2 */
		"udpx  udp any      /GET/\n"   /* 3 */
		"anyp  any 53,5353  /zz/\n"    /* 4 */
		"icm   icmp any     /zz/\n"    /* 5 */
		"cap   tcp any      /^get/i\n" /* 6 */
		"all   any any      /q/\n");   /* 7 */
	struct fc_cls_db *db;
	hs_scratch_t *s;

	cr_assert_not_null(rs, "%s", err);
	db = fc_cls_db_create(rs, err, sizeof(err));
	cr_assert_not_null(db, "%s", err);
	s = fc_cls_scratch_alloc(db);
	cr_assert_not_null(s);
	/* both tcp rules match, the first in the file wins */
	cr_assert_eq(label_of(db, s, 6, 80, 1234, "GET /"), 1);
	/* port 8080 only: rule 1 does not apply (ports), rule 2 does */
	cr_assert_eq(label_of(db, s, 6, 1234, 8080, "GET /"), 2);
	/* either port counts */
	cr_assert_eq(label_of(db, s, 6, 8080, 1, "GET /"), 2);
	/* protocol */
	cr_assert_eq(label_of(db, s, 17, 80, 1, "GET /"), 3);
	/* any + ports: not ICMP */
	cr_assert_eq(label_of(db, s, 17, 53, 1, "zz"), 4);
	cr_assert_eq(label_of(db, s, 132, 5353, 1, "zz"), 4);
	cr_assert_eq(label_of(db, s, 1, 53, 1, "zz"), 5);
	cr_assert_eq(label_of(db, s, 58, 53, 1, "zz"), 0);
	/* caseless, anchored */
	cr_assert_eq(label_of(db, s, 6, 1, 2, "gEt x"), 6);
	cr_assert_eq(label_of(db, s, 6, 1, 2, " get x"), 0);
	/* any any applies to ICMPv6 too */
	cr_assert_eq(label_of(db, s, 58, 0, 0, "q"), 7);
	/* no payload, unscanned protocol */
	cr_assert_eq(fc_cls_match(db, s, 6, 80, 1, NULL, 0), 0);
	cr_assert_eq(label_of(db, s, 47, 0, 0, "q"), 0);
	hs_free_scratch(s);
	fc_cls_db_free(db);
	fc_cls_rules_free(rs);
}

Test(classify, ten_thousand_rules_compile)
{
	size_t cap = 10000 * 48, o = 0;
	char *t = malloc(cap);

	for (unsigned i = 0; i < 10000; i++)
		o += (size_t)snprintf(t + o, cap - o,
				      "r%u udp %u /^pat%05uz/\n", i % 4000,
				      1000 + i, i);
	struct fc_cls_rules *rs = fc_cls_rules_parse(t, o, "big", err,
						     sizeof(err));

	cr_assert_not_null(rs, "%s", err);
	cr_assert_eq(rs->n, 10000);
	cr_assert_eq(rs->n_labels, 4000);
	struct fc_cls_db *db = fc_cls_db_create(rs, err, sizeof(err));

	cr_assert_not_null(db, "%s", err);
	hs_scratch_t *s = fc_cls_scratch_alloc(db);

	cr_assert_eq(label_of(db, s, 17, 1000 + 7777, 1, "pat07777z"),
		     rs->r[7777].label);
	cr_assert_eq(label_of(db, s, 17, 1, 2, "pat07777z"), 0);
	hs_free_scratch(s);
	fc_cls_db_free(db);
	fc_cls_rules_free(rs);
	free(t);

	/* more distinct labels than a key holds: said */
	cap = 5000 * 32;
	t = malloc(cap);
	o = 0;
	for (unsigned i = 0; i < 5000; i++)
		o += (size_t)snprintf(t + o, cap - o, "l%u tcp any /x/\n", i);
	cr_assert_null(fc_cls_rules_parse(t, o, "many", err, sizeof(err)));
	cr_assert(strstr(err, "many:4096: more than 4095 distinct labels") !=
			  NULL, "%s", err);
	free(t);
}

Test(classify, identity_hash_follows_the_bytes)
{
	struct fc_cls_rules *a = parse("a tcp any /x/\n");
	struct fc_cls_rules *b = parse("a tcp any /x/\n");
	struct fc_cls_rules *c = parse("a tcp any /y/\n");

	cr_assert_eq(a->hash, b->hash);
	cr_assert_neq(a->hash, c->hash);
	fc_cls_rules_free(a);
	fc_cls_rules_free(b);
	fc_cls_rules_free(c);
}

/* The database cache: a miss compiles and writes DIR/<sha256>.hsdb, a hit
 * loads it and scans as the compiled one does; another rule set has
 * another file; a damaged file is said, compiled again and replaced; a
 * directory that cannot be written is said and the database still made. */
static unsigned scan_all(struct fc_cls_db *db)
{
	hs_scratch_t *s = fc_cls_scratch_alloc(db);
	unsigned v;

	cr_assert_not_null(s);
	v = label_of(db, s, 6, 80, 1, "GET /") |
	    label_of(db, s, 6, 1234, 8080, "GET /") << 4 |
	    label_of(db, s, 17, 53, 1, "zz") << 8 |
	    label_of(db, s, 6, 1, 2, "nothing") << 12;
	hs_free_scratch(s);
	return v;
}

static unsigned files_in(const char *dir)
{
	char cmd[512];
	FILE *p;
	unsigned n = 0;

	snprintf(cmd, sizeof(cmd), "ls -A %s | wc -l", dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	cr_assert_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

Test(classify, database_cache)
{
	char dir[] = "/tmp/fc-hscache-XXXXXX", note[1024], path[600];
	struct fc_cls_rules *rs = parse("late  tcp 80   /GET/\n"
					"early tcp 8080 /^GET/\n"
					"anyp  any 53   /zz/\n");
	struct fc_cls_rules *rs2 = parse("late  tcp 80   /GET/\n"
					 "early tcp 8080 /^GET/\n"
					 "anyp  any 53   /zzz/\n");
	struct fc_cls_db *ref, *db;
	int hit = -1;

	cr_assert_not_null(rs, "%s", err);
	cr_assert_not_null(rs2, "%s", err);
	cr_assert_not_null(mkdtemp(dir));
	ref = fc_cls_db_create(rs, err, sizeof(err));
	cr_assert_not_null(ref, "%s", err);
	unsigned want = scan_all(ref);

	cr_assert_eq(want, 1 | 2 << 4 | 3 << 8);
	/* miss: compiled, written */
	db = fc_cls_db_create_cached(rs, dir, &hit, note, sizeof(note), err,
				     sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(hit, 0);
	cr_assert_str_empty(note);
	cr_assert_eq(files_in(dir), 1);
	fc_cls_db_free(db);
	/* hit: loaded, the same answers */
	db = fc_cls_db_create_cached(rs, dir, &hit, note, sizeof(note), err,
				     sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(hit, 1);
	cr_assert_str_empty(note);
	cr_assert_eq(scan_all(db), want);
	fc_cls_db_free(db);
	/* another pattern: another file, its own answers */
	db = fc_cls_db_create_cached(rs2, dir, &hit, note, sizeof(note), err,
				     sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(hit, 0);
	cr_assert_eq(files_in(dir), 2);
	cr_assert_eq(scan_all(db), 1 | 2 << 4);
	fc_cls_db_free(db);
	/* damage every file: said, compiled again, replaced */
	snprintf(path, sizeof(path), "for f in %s/*.hsdb; do "
		 "printf 'garbage' >\"$f\"; done", dir);
	cr_assert_eq(system(path), 0);
	db = fc_cls_db_create_cached(rs, dir, &hit, note, sizeof(note), err,
				     sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(hit, 0);
	cr_assert(strstr(note, "damaged") && strstr(note, "replaced"), "%s",
		  note);
	cr_assert_eq(scan_all(db), want);
	fc_cls_db_free(db);
	db = fc_cls_db_create_cached(rs, dir, &hit, note, sizeof(note), err,
				     sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert_eq(hit, 1);
	fc_cls_db_free(db);
	/* a directory that is not there: said, the database still made */
	snprintf(path, sizeof(path), "%s/none", dir);
	db = fc_cls_db_create_cached(rs, path, &hit, note, sizeof(note), err,
				     sizeof(err));
	cr_assert_not_null(db, "%s", err);
	cr_assert(strstr(note, "cannot write the database cache") != NULL,
		  "%s", note);
	cr_assert_eq(scan_all(db), want);
	fc_cls_db_free(db);
	/* a rule Hyperscan refuses is still an error, cache or not */
	struct fc_cls_rules *bad = parse("a tcp any /(a)\\1/\n");

	cr_assert_null(fc_cls_db_create_cached(bad, dir, &hit, note,
					       sizeof(note), err, sizeof(err)));
	cr_assert(strstr(err, "r.rules:1: pattern") != NULL, "%s", err);
	fc_cls_rules_free(bad);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	cr_assert_eq(system(path), 0);
	fc_cls_db_free(ref);
	fc_cls_rules_free(rs);
	fc_cls_rules_free(rs2);
}

/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Driver-config parser: every shipped .ini in drivers-config/ loads, and every
 * kind of mistake is rejected with a message that names the file, the key
 * and the bad value. Runs without the EAL (rte_cfgfile does not need it).
 */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <rte_ethdev.h>

#include "fc_drvcfg.h"

static char tmpdir[] = "/tmp/fc-drvcfg.XXXXXX";
static char path[512];
static char err[1024];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/t.ini", tmpdir);
}

/* Everything a test made there goes, even after a failed assertion. */
static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	cr_expect_eq(system(cmd), 0);
}

TestSuite(drvcfg, .init = setup, .fini = teardown);

/* Write @text to the test file and load it. */
static int load_text(const char *text, struct fc_drvcfg *c)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return fc_drvcfg_load(path, c, err, sizeof(err));
}

static void assert_msg_has(const char *what)
{
	cr_assert(strstr(err, what) != NULL, "message '%s' lacks '%s'", err,
		  what);
}

Test(drvcfg, shipped_files_load)
{
	glob_t g;
	struct fc_drvcfg c;

	cr_assert_eq(glob(FC_SRCDIR "/drivers-config/*.ini", 0, NULL, &g), 0,
		     "no drivers-config/*.ini found");
	cr_assert_geq(g.gl_pathc, 4, "expected i40e, ice, mlx5, virtual");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		int rc = fc_drvcfg_load(g.gl_pathv[i], &c, err, sizeof(err));

		cr_assert_eq(rc, 0, "%s: %s", g.gl_pathv[i], err);
		cr_assert_str_eq(c.source, g.gl_pathv[i]);
	}
	globfree(&g);
}

Test(drvcfg, shipped_values)
{
	struct fc_drvcfg c;

	cr_assert_eq(fc_drvcfg_load(FC_SRCDIR "/drivers-config/mlx5-connectx.ini",
				    &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.devargs, "rxq_cqe_comp_en=4");
	cr_assert_eq(c.rx_desc, 4096);
	cr_assert_eq(c.timestamps, FC_DRVCFG_TS_TSC);
	cr_assert_eq(c.rss_symmetric, FC_DRVCFG_SYM_KEY);

	cr_assert_eq(fc_drvcfg_load(FC_SRCDIR "/drivers-config/virtual.ini",
				    &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(c.rx_queues, 1);
	cr_assert_eq(c.rss_hf, 0);
	cr_assert_eq(c.timestamps, FC_DRVCFG_TS_HW);
	cr_assert_str_eq(c.devargs, "");
}

Test(drvcfg, defaults)
{
	struct fc_drvcfg c;

	fc_drvcfg_defaults(&c);
	cr_assert_eq(c.rx_queues, 0);
	cr_assert_eq(c.rx_desc, 1024);
	cr_assert_eq(c.burst, 32);
	cr_assert(c.promisc);
	cr_assert_eq(c.rss_key_len, 0);
	cr_assert_eq(c.rss_key[0], 0x6d);
	cr_assert_eq(c.rss_key[51], 0x5a);
	cr_assert_eq(c.rss_hf & RTE_ETH_RSS_NONFRAG_IPV6_UDP,
		     RTE_ETH_RSS_NONFRAG_IPV6_UDP);
}

Test(drvcfg, empty_file_gives_defaults)
{
	struct fc_drvcfg c, d;

	cr_assert_eq(load_text("", &c), 0, "%s", err);
	fc_drvcfg_defaults(&d);
	cr_assert_str_eq(c.source, path);
	memcpy(d.source, c.source, sizeof(d.source));
	cr_assert_eq(memcmp(&c, &d, sizeof(c)), 0);

	cr_assert_eq(load_text("# only comments\n\n[port]\n", &c), 0, "%s",
		     err);
	cr_assert_eq(c.rx_desc, d.rx_desc);
}

Test(drvcfg, values_are_read)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[port]\n"
			       "rx_queues = 8\n"
			       "rx_desc = 2048   # inline comment\n"
			       "mbuf_count = 65536\n"
			       "mbuf_cache = 0\n"
			       "mtu = 9000\n"
			       "promisc = no\n"
			       "rss_hf = ipv4-tcp, ipv6-udp frag\n"
			       "rss_symmetric = hash\n"
			       "devargs = a=1,b=2\n"
			       "timestamps = tsc\n"
			       "burst = 64\n", &c), 0, "%s", err);
	cr_assert_eq(c.rx_queues, 8);
	cr_assert_eq(c.rx_desc, 2048);
	cr_assert_eq(c.mbuf_count, 65536);
	cr_assert_eq(c.mbuf_cache, 0);
	cr_assert_eq(c.mtu, 9000);
	cr_assert(!c.promisc);
	cr_assert_eq(c.rss_hf, RTE_ETH_RSS_NONFRAG_IPV4_TCP |
			       RTE_ETH_RSS_NONFRAG_IPV6_UDP |
			       RTE_ETH_RSS_IPV6_UDP_EX |
			       RTE_ETH_RSS_FRAG_IPV4 | RTE_ETH_RSS_FRAG_IPV6);
	cr_assert_eq(c.rss_symmetric, FC_DRVCFG_SYM_FUNC);
	cr_assert_str_eq(c.devargs, "a=1,b=2");
	cr_assert_eq(c.timestamps, FC_DRVCFG_TS_TSC);
	cr_assert_eq(c.burst, 64);
}

Test(drvcfg, rss_key_hex)
{
	struct fc_drvcfg c;
	char text[512];
	int n;

	/* 40 bytes, with 0x and colons. */
	n = snprintf(text, sizeof(text), "[port]\nrss_key = 0x");
	for (int i = 0; i < 40; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s%02x",
			      i ? ":" : "", i % 2 ? 0x5a : 0x6d);
	snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
	cr_assert_eq(c.rss_key_len, 40);
	cr_assert_eq(c.rss_key[38], 0x6d);
	cr_assert_eq(c.rss_key[39], 0x5a);
}

Test(drvcfg, reject_bad_key_length)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[port]\nrss_key = 6d5a6d5a\n", &c), -EINVAL);
	assert_msg_has(path);
	assert_msg_has("rss_key");
	assert_msg_has("4 bytes");
	assert_msg_has("40");
	assert_msg_has("52");
	/* On error the caller still holds usable defaults. */
	cr_assert_eq(c.rx_desc, 1024);

	cr_assert_eq(load_text("[port]\nrss_key = 6d5\n", &c), -EINVAL);
	assert_msg_has("odd number of hex digits");
	cr_assert_eq(load_text("[port]\nrss_key = 6g5a\n", &c), -EINVAL);
	assert_msg_has("'g' is not a hex digit");
}

Test(drvcfg, reject_asymmetric_key)
{
	struct fc_drvcfg c;
	char text[512];
	int n;

	n = snprintf(text, sizeof(text), "[port]\nrss_key = ");
	for (int i = 0; i < 40; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%02x", i);
	snprintf(text + n, sizeof(text) - (size_t)n, "\n");
	cr_assert_eq(load_text(text, &c), -EINVAL);
	assert_msg_has("not symmetric");
	/* The same key is fine once symmetry is not asked of it. */
	snprintf(text + n, sizeof(text) - (size_t)n, "\nrss_symmetric = no\n");
	cr_assert_eq(load_text(text, &c), 0, "%s", err);
}

Test(drvcfg, reject_unknown_key)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[port]\nrx_desc = 512\nrx_decs = 1024\n", &c),
		     -EINVAL);
	assert_msg_has(path);
	assert_msg_has("line 3");
	assert_msg_has("unknown key 'rx_decs'");
	assert_msg_has("rx_desc");
}

Test(drvcfg, reject_unknown_section)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[prot]\nrx_desc = 512\n", &c), -EINVAL);
	assert_msg_has("unknown section [prot]");
	assert_msg_has("line 1");
}

Test(drvcfg, reject_line_without_equals)
{
	struct fc_drvcfg c;

	/* rte_cfgfile alone would skip this line silently. */
	cr_assert_eq(load_text("[port]\npromisc no\n", &c), -EINVAL);
	assert_msg_has("line 2");
	assert_msg_has("promisc no");
	cr_assert_eq(load_text("rx_desc = 512\n[port]\n", &c), -EINVAL);
	assert_msg_has("before any section");
}

Test(drvcfg, reject_duplicates)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[port]\nburst = 32\nburst = 64\n", &c),
		     -EINVAL);
	assert_msg_has("given twice");
	cr_assert_eq(load_text("[port]\nburst = 32\n[port]\nmtu = 1500\n", &c),
		     -EINVAL);
	assert_msg_has("appears twice");
}

Test(drvcfg, reject_bad_number)
{
	struct fc_drvcfg c;
	static const char *const bad[] = {
		"rx_desc = 1k\n", "rx_desc = -1024\n", "rx_desc = +1024\n",
		"rx_desc = 0x400\n", "rx_desc = 1024.0\n", "rx_desc = abc\n",
		"rx_desc = 99999999999999999999999\n", "burst =\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "[port]\n%s", bad[i]);
		cr_assert_eq(load_text(text, &c), -EINVAL, "accepted: %s",
			     bad[i]);
		cr_assert(strstr(err, path) != NULL, "%s", err);
	}
	load_text("[port]\nrx_desc = 1k\n", &c);
	assert_msg_has("'1k'");
	assert_msg_has("not a number");
	assert_msg_has("64 to 32768");
}

Test(drvcfg, reject_out_of_range)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[port]\nrx_desc = 65536\n", &c), -EINVAL);
	assert_msg_has("out of range");
	assert_msg_has("64 to 32768");
	cr_assert_eq(load_text("[port]\nrx_desc = 1000\n", &c), -EINVAL);
	assert_msg_has("power of two");
	cr_assert_eq(load_text("[port]\nmtu = 20\n", &c), -EINVAL);
	assert_msg_has("expected 0");
	assert_msg_has("68 to 9702");
	cr_assert_eq(load_text("[port]\nmbuf_cache = 513\n", &c), -EINVAL);
	assert_msg_has("0 to 512");
	cr_assert_eq(load_text("[port]\nrx_queues = 1025\n", &c), -EINVAL);
	cr_assert_eq(load_text("[port]\nburst = 0\n", &c), -EINVAL);
	/* Combined: a burst larger than the ring, too few mbufs. */
	cr_assert_eq(load_text("[port]\nrx_desc = 64\nburst = 128\n", &c),
		     -EINVAL);
	assert_msg_has("exceeds rx_desc");
	cr_assert_eq(load_text("[port]\nrx_queues = 8\nrx_desc = 4096\n"
			       "mbuf_count = 4096\n", &c), -EINVAL);
	assert_msg_has("mbuf_count = 4096");
	/* Limits themselves are accepted. */
	cr_assert_eq(load_text("[port]\nrx_desc = 32768\nmtu = 9702\n"
			       "mbuf_cache = 512\nrx_queues = 1024\n", &c), 0,
		     "%s", err);
	cr_assert_eq(load_text("[port]\nrx_desc = 64\nmtu = 68\nburst = 1\n",
			       &c), 0, "%s", err);
}

Test(drvcfg, reject_bad_choices)
{
	struct fc_drvcfg c;

	cr_assert_eq(load_text("[port]\nrss_hf = ipv4, ipv5\n", &c), -EINVAL);
	assert_msg_has("unknown hash type 'ipv5'");
	assert_msg_has("ipv6-udp");
	cr_assert_eq(load_text("[port]\nrss_hf = none, tcp\n", &c), -EINVAL);
	cr_assert_eq(load_text("[port]\nrss_hf = ,\n", &c), -EINVAL);
	cr_assert_eq(load_text("[port]\npromisc = maybe\n", &c), -EINVAL);
	assert_msg_has("yes or no");
	cr_assert_eq(load_text("[port]\ntimestamps = ptp\n", &c), -EINVAL);
	assert_msg_has("hw or tsc");
	cr_assert_eq(load_text("[port]\nrss_symmetric = sort\n", &c), -EINVAL);
	cr_assert_eq(load_text("[port]\ndevargs = a=1, b=2\n", &c), -EINVAL);
	assert_msg_has("devargs");
}

Test(drvcfg, missing_file_is_named)
{
	struct fc_drvcfg c;
	const char *p = "/nonexistent/flowcap/e810.ini";

	cr_assert_eq(fc_drvcfg_load(p, &c, err, sizeof(err)), -ENOENT);
	assert_msg_has(p);
	assert_msg_has("No such file");
	cr_assert_eq(c.rx_desc, 1024);
}

Test(drvcfg, print_round_trips)
{
	struct fc_drvcfg a, b;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(fc_drvcfg_load(FC_SRCDIR "/drivers-config/ice-e810.ini",
				    &a, err, sizeof(err)), 0, "%s", err);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fc_drvcfg_print(&a, f);
	fclose(f);
	cr_assert_eq(fc_drvcfg_load(path, &b, err, sizeof(err)), 0, "%s", err);
	memcpy(b.source, a.source, sizeof(b.source));
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "printed settings differ");

	f = open_memstream(&buf, &len);
	fc_drvcfg_print(&a, f);
	fclose(f);
	cr_assert(strstr(buf, "rss_hf = ip,tcp,udp,sctp\n") != NULL, "%s", buf);
	cr_assert(strstr(buf, "burst = 64\n") != NULL, "%s", buf);
	free(buf);
}

Test(drvcfg, rss_hf_names)
{
	char buf[128];

	cr_assert_str_eq(fc_drvcfg_rss_hf_str(0, buf, sizeof(buf)), "none");
	cr_assert_str_eq(fc_drvcfg_rss_hf_str(RTE_ETH_RSS_TCP, buf,
					      sizeof(buf)), "tcp");
	cr_assert_str_eq(fc_drvcfg_rss_hf_str(RTE_ETH_RSS_NONFRAG_IPV4_UDP |
					      RTE_ETH_RSS_FRAG_IPV4, buf,
					      sizeof(buf)),
			 "ipv4-udp,ipv4-frag");
}

/* Only a regular file of text is read: /dev/zero would be read for ever,
 * a FIFO without a writer would block the open for ever. */
Test(drvcfg, reject_non_regular_files, .timeout = 10)
{
	struct fc_drvcfg c;
	char fifo[600];

	cr_assert_eq(fc_drvcfg_load("/dev/zero", &c, err, sizeof(err)),
		     -EINVAL);
	assert_msg_has("/dev/zero is not a regular file (a character device)");
	cr_assert_eq(fc_drvcfg_load(tmpdir, &c, err, sizeof(err)), -EINVAL);
	assert_msg_has("(a directory)");
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(fc_drvcfg_load(fifo, &c, err, sizeof(err)), -EINVAL);
	unlink(fifo);
	assert_msg_has("(a FIFO)");
	cr_assert_eq(c.rx_desc, 1024, "a refused file leaves the defaults");
}

Test(drvcfg, reject_binary_and_huge_files)
{
	struct fc_drvcfg c;
	FILE *f;

	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("[port]\nburst = 64\n", f);
	fputc('\0', f);
	fputs("\n", f);
	fclose(f);
	cr_assert_eq(fc_drvcfg_load(path, &c, err, sizeof(err)), -EINVAL);
	assert_msg_has("line 3: a NUL byte");
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("[port]\n", f);
	for (int i = 0; i < 40000; i++)
		fputs("# a comment line of some length\n", f);
	fclose(f);
	cr_assert_eq(fc_drvcfg_load(path, &c, err, sizeof(err)), -EFBIG);
	assert_msg_has("is larger than");
}

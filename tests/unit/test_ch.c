/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/ch without a server: the load id's recipe (stored in ClickHouse:
 * it must never change), the RowBinary bytes of a record, IPv4 as
 * IPv4-mapped IPv6, batches, URL and database checks, and a request to a
 * port where nothing listens. The server side is tested against real
 * servers in tests/integration/t_clickhouse_*.sh.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "fc_ch.h"

static struct fc_ft_interval iv_sample(void)
{
	struct fc_ft_interval iv;

	memset(&iv, 0, sizeof(iv));
	iv.index = 7;
	iv.flags = FC_FT_IV_LAST;
	iv.start = 1700000000;
	iv.end = 1700000059;
	iv.rx_pkts = 1000;
	iv.rec_pkts = 990;
	iv.n_records = 2;
	iv.ctr[FC_CTR_NOT_IP] = 10;
	return iv;
}

static struct fc_ft_record rec4(void)
{
	struct fc_ft_record r;

	memset(&r, 0, sizeof(r));
	fc_ip_parse("192.0.2.1", r.key.src_ip);
	fc_ip_parse("198.51.100.2", r.key.dst_ip);
	r.key.src_port = 0x1234;
	r.key.dst_port = 23;
	r.key.ip_len = 40;
	r.key.proto = 6;
	r.key.ttl = 64;
	r.key.tcp_flags = 0x02;
	r.key.family = 4;
	r.key.cls = FC_FT_CLASS_OTHER;
	r.packets = 5;
	return r;
}

Test(ch, load_id_recipe_is_stable)
{
	struct fc_ft_interval iv = iv_sample();

	/* The value every stored row and ledger row of this interval
	 * carries: a change of recipe would load every file again. */
	cr_assert_eq(fc_ch_load_id("telescope-1", &iv, 2),
		     0x136e080050bfe19aULL, "load id %#llx",
		     (unsigned long long)fc_ch_load_id("telescope-1", &iv, 2));
}

Test(ch, load_id_covers_monitor_accounting_and_records)
{
	struct fc_ft_interval iv = iv_sample(), o;
	uint64_t id = fc_ch_load_id("m", &iv, 2);

	cr_assert_neq(fc_ch_load_id("n", &iv, 2), id);
	cr_assert_neq(fc_ch_load_id("m", &iv, 3), id);
	for (unsigned c = 0; c < FC_CTR_MAX; c++) {
		o = iv;
		o.ctr[c]++;
		cr_assert_neq(fc_ch_load_id("m", &o, 2), id, "counter %u", c);
	}
	o = iv;
	o.index++;
	cr_assert_neq(fc_ch_load_id("m", &o, 2), id);
	o = iv;
	o.flags ^= FC_FT_IV_PARTIAL;
	cr_assert_neq(fc_ch_load_id("m", &o, 2), id);
	o = iv;
	o.start++;
	cr_assert_neq(fc_ch_load_id("m", &o, 2), id);
}

Test(ch, rowbinary_bytes_of_an_ipv4_record)
{
	struct fc_ft_interval iv = iv_sample();
	struct fc_ft_record r = rec4();
	struct fc_ch_prefix p;
	struct fc_chbuf b = {0};
	static const uint8_t want[] = {
		2, 'm', '1',                       /* monitor */
		0x00, 0xf1, 0x53, 0x65,            /* interval_start 1700000000 */
		60, 0, 0, 0,                       /* interval_len */
		2,                                 /* class other */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 51, 100, 2,
		0x34, 0x12, 23, 0,                 /* ports */
		6, 64, 0x02,                       /* protocol, ttl, tcp_flags */
		40, 0, 0, 0,                       /* ip_len */
		5, 0, 0, 0, 0, 0, 0, 0,            /* packets */
		0,                                 /* label: '' */
		0, 0,                              /* vlan */
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, /* load_id */
	};

	fc_ch_prefix_init(&p, "m1", &iv, 60, 0x1122334455667788ULL);
	cr_assert(fc_ch_put_records(&b, &p, &r, 1, NULL, NULL));
	cr_assert_eq(b.len, sizeof(want));
	cr_assert_eq(b.len, p.len + FC_CH_ROW_TAIL);
	cr_assert_arr_eq(b.p, want, sizeof(want));
	fc_chbuf_free(&b);
}

static const char *names(const void *ctx, unsigned id)
{
	(void)ctx;
	return id == 3 ? "dns-any" : NULL;
}

Test(ch, label_and_vlan_columns)
{
	struct fc_ft_interval iv = iv_sample();
	struct fc_ft_record r[2] = {rec4(), rec4()};
	struct fc_ch_prefix p;
	struct fc_chbuf b = {0};
	size_t row0 = 0;

	fc_ftkey_set_ext(&r[0].key, 3, 100);
	fc_ftkey_set_ext(&r[1].key, 9, 0); /* an id without a name: '' */
	fc_ch_prefix_init(&p, "m1", &iv, 60, 7);
	cr_assert(fc_ch_put_records(&b, &p, r, 2, names, NULL));
	row0 = p.len + FC_CH_ROW_TAIL + 7;
	cr_assert_eq(b.len, row0 + p.len + FC_CH_ROW_TAIL);
	/* after the prefix: class, 2 addresses, ports, proto, ttl, flags,
	 * ip_len, packets = 52 bytes, then the label and the vlan */
	const uint8_t *l = b.p + p.len + 52;

	cr_assert_eq(l[0], 7);
	cr_assert_arr_eq(l + 1, "dns-any", 7);
	cr_assert_eq(l[8] | l[9] << 8, 100);
	l = b.p + row0 + p.len + 52;
	cr_assert_eq(l[0], 0, "unnamed label stored as ''");
	cr_assert_eq(l[1] | l[2] << 8, 0);
	fc_chbuf_free(&b);
}

Test(ch, ipv6_addresses_are_kept_as_is)
{
	struct fc_ft_interval iv = iv_sample();
	struct fc_ft_record r = rec4();
	struct fc_ch_prefix p;
	struct fc_chbuf b = {0};

	fc_ip_parse("2001:db8::1", r.key.src_ip);
	fc_ip_parse("::ffff:192.0.2.1", r.key.dst_ip);
	r.key.family = 6;
	fc_ch_prefix_init(&p, "m1", &iv, 60, 1);
	cr_assert(fc_ch_put_records(&b, &p, &r, 1, NULL, NULL));
	cr_assert_arr_eq(b.p + p.len + 1, r.key.src_ip, 16);
	cr_assert_arr_eq(b.p + p.len + 17, r.key.dst_ip, 16);
	fc_chbuf_free(&b);
}

Test(ch, batch_keeps_each_interval_s_rows)
{
	struct fc_ch_batch b;
	struct fc_ft_interval iv = iv_sample();
	struct fc_ft_record r[3] = {rec4(), rec4(), rec4()};

	memset(&b, 0, sizeof(b));
	cr_assert(!fc_ch_batch_records(&b, r, 1), "records before begin");
	cr_assert(fc_ch_batch_begin(&b, "mon", &iv, 60, "a.ft.zst"));
	cr_assert(fc_ch_batch_records(&b, r, 2));
	iv.index++;
	iv.n_records = 1;
	cr_assert(fc_ch_batch_begin(&b, "mon", &iv, 60, "b.ft.zst"));
	cr_assert(fc_ch_batch_records(&b, r, 1));
	cr_assert_eq(b.n, 2);
	cr_assert_eq(b.n_rows, 3);
	cr_assert_eq(b.v[0].n, 2);
	cr_assert_eq(b.v[1].row_off, b.v[0].row_len);
	cr_assert_eq(b.v[0].row_len, 2 * b.v[1].row_len);
	cr_assert_str_eq(b.v[1].source, "b.ft.zst");
	cr_assert_eq(b.v[1].load_id, fc_ch_load_id("mon", &iv, 1));
	fc_ch_batch_reset(&b);
	cr_assert_eq(b.n, 0);
	cr_assert_eq(b.rows.len, 0);
	fc_ch_batch_free(&b);
}

Test(ch, urls_and_databases_are_checked)
{
	char err[256];
	struct fc_ch *ch;

	cr_assert_null(fc_ch_create("ftp://x/", NULL, err, sizeof(err)));
	cr_assert(strstr(err, "is not http://HOST:PORT/") != NULL, "%s", err);
	cr_assert_null(fc_ch_create("http://x/", "a-b", err, sizeof(err)));
	cr_assert(strstr(err, "database name 'a-b'") != NULL, "%s", err);
	ch = fc_ch_create("http://127.0.0.1:1/", "flows", err, sizeof(err));
	cr_assert_not_null(ch);
	fc_ch_free(ch);
	fc_ch_free(NULL);
}

Test(ch, no_server_is_a_connect_failure_naming_the_url)
{
	char err[256];
	struct fc_ch *ch = fc_ch_create("http://127.0.0.1:1/", NULL, err,
					sizeof(err));

	cr_assert_not_null(ch);
	fc_ch_set_retry(ch, 0);
	cr_assert_eq(fc_ch_query(ch, "SELECT 1", NULL, 0, NULL, NULL),
		     FC_CH_E_CONNECT);
	cr_assert(strstr(fc_ch_error(ch), "http://127.0.0.1:1/") != NULL,
		  "%s", fc_ch_error(ch));
	cr_assert_eq(fc_ch_check_tables(ch), FC_CH_E_CONNECT);
	fc_ch_free(ch);
}

/* SPDX-License-Identifier: BSD-3-Clause */
#include <criterion/criterion.h>

#include "fc_tuple.h"

Test(tuple, ipv6_text_is_rfc5952)
{
	uint8_t ip[16];
	char buf[FC_IP_STRLEN];

	cr_assert_eq(fc_ip_parse("2001:DB8:0:0:0:0:2:1", ip), 6);
	cr_assert_str_eq(fc_ip_format(buf, sizeof(buf), 6, ip), "2001:db8::2:1");
	cr_assert_eq(fc_ip_parse("10.0.0.255", ip), 4);
	cr_assert_str_eq(fc_ip_format(buf, sizeof(buf), 4, ip), "10.0.0.255");
	cr_assert_eq(fc_ip_parse("10.0.0.256", ip), -1);
}

Test(tuple, symmetric_hash_ignores_direction)
{
	struct fc_ftkey a, b;

	memset(&a, 0, sizeof(a));
	a.family = 4;
	a.src_ip[0] = 10; a.src_ip[3] = 1;
	a.dst_ip[0] = 192; a.dst_ip[3] = 7;
	a.src_port = 40000; a.dst_port = 443; a.proto = 6;
	b = a;
	memcpy(b.src_ip, a.dst_ip, 16);
	memcpy(b.dst_ip, a.src_ip, 16);
	b.src_port = 443; b.dst_port = 40000;
	cr_assert_eq(fc_ftkey_hash_sym(&a), fc_ftkey_hash_sym(&b));
	cr_assert_neq(fc_ftkey_hash(&a), fc_ftkey_hash(&b));
	b.dst_port = 40001;
	cr_assert_neq(fc_ftkey_hash_sym(&a), fc_ftkey_hash_sym(&b));
}

Test(tuple, order_is_class_then_addresses)
{
	struct fc_ftkey a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.cls = FC_FT_CLASS_OTHER;
	b.cls = FC_FT_CLASS_BACKSCATTER;
	a.src_ip[0] = 1;
	b.src_ip[0] = 200;
	cr_assert_gt(fc_ftkey_cmp(&a, &b), 0);
	b.cls = a.cls;
	cr_assert_lt(fc_ftkey_cmp(&a, &b), 0);
	cr_assert_eq(fc_ftkey_cmp(&a, &a), 0);
	cr_assert_str_eq(fc_ft_class_name(1), "icmpreq");
	cr_assert_eq(fc_ft_class_from_name("backscatter"), 0);
	cr_assert_eq(fc_ft_class_from_name("x"), -1);
}

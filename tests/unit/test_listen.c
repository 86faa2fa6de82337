/* test_listen.c: the addresses sift-searchd is given (--listen, --http):
 * parsing, formatting back, and the loopback test that decides whether a
 * secret is required.  No socket is opened. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>

#include "listen.h"

/* text parsed then formatted back, or "ERR <reason>". */
static const char *round_trip(const char *text) {
  static char out[128];
  struct sockaddr_storage a;
  const char *why = NULL;
  if (lsn_parse_addr(text, &a, &why) != 0) {
    assert_non_null(why);
    snprintf(out, sizeof out, "ERR %s", why);
    return out;
  }
  lsn_format_addr((const struct sockaddr *)&a, out, sizeof out);
  return out;
}

static void test_lsn_parses_numeric_addresses(void **state) {
  struct sockaddr_storage a;
  const char *why;
  assert_int_equal(lsn_parse_addr("127.0.0.1:9412", &a, &why), 0);
  assert_int_equal(a.ss_family, AF_INET);
  const struct sockaddr_in *in = (const struct sockaddr_in *)&a;
  assert_int_equal(ntohs(in->sin_port), 9412);
  assert_int_equal(ntohl(in->sin_addr.s_addr), 0x7f000001u);
  assert_int_equal(lsn_parse_addr("[::1]:0", &a, &why), 0);
  assert_int_equal(a.ss_family, AF_INET6);
  assert_int_equal(ntohs(((const struct sockaddr_in6 *)&a)->sin6_port), 0);
  assert_string_equal(round_trip("127.0.0.1:9412"), "127.0.0.1:9412");
  assert_string_equal(round_trip("[::1]:65535"), "[::1]:65535");
  assert_string_equal(round_trip("0.0.0.0:80"), "0.0.0.0:80");
}

static void test_lsn_rejects_malformed_addresses_saying_why(void **state) {
  assert_string_equal(round_trip("9412"), "ERR expected HOST:PORT");
  assert_string_equal(round_trip("[::1]9412"), "ERR expected [IPV6]:PORT");
  assert_string_equal(round_trip("[::1"), "ERR expected [IPV6]:PORT");
  assert_string_equal(round_trip(":9412"), "ERR missing or overlong host");
  assert_string_equal(round_trip("[]:9412"), "ERR missing or overlong host");
  char longhost[400];
  memset(longhost, 'a', 300);
  strcpy(longhost + 300, ":1");
  assert_string_equal(round_trip(longhost), "ERR missing or overlong host");
  const char *bad_ports[] = {"127.0.0.1:",   "127.0.0.1:65536", "127.0.0.1:123456",
                             "127.0.0.1:-1", "127.0.0.1:80x",   "127.0.0.1: 80"};
  for (size_t i = 0; i < sizeof bad_ports / sizeof bad_ports[0]; i++)
    assert_string_equal(round_trip(bad_ports[i]), "ERR the port must be a number from 0 to 65535");
}

static void test_lsn_loopback_addresses(void **state) {
  static const struct {
    const char *text;
    int loopback;
  } cases[] = {
      {"127.0.0.1:1", 1},
      {"127.255.3.4:1", 1},
      {"128.0.0.1:1", 0},
      {"10.0.0.1:1", 0},
      {"0.0.0.0:1", 0},
      {"[::1]:1", 1},
      {"[::]:1", 0},
      {"[::ffff:127.0.0.9]:1", 1},
      {"[::ffff:10.0.0.1]:1", 0},
      {"[fe80::1]:1", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    struct sockaddr_storage a;
    const char *why;
    assert_int_equal(lsn_parse_addr(cases[i].text, &a, &why), 0);
    if (lsn_addr_is_loopback(&a) != cases[i].loopback) fail_msg("%s", cases[i].text);
  }
}

static void test_lsn_formats_other_families_as_unknown(void **state) {
  struct sockaddr_storage a;
  memset(&a, 0, sizeof a);
  a.ss_family = AF_UNIX;
  char out[16];
  lsn_format_addr((const struct sockaddr *)&a, out, sizeof out);
  assert_string_equal(out, "?");
  assert_int_equal(lsn_addr_is_loopback(&a), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lsn_parses_numeric_addresses),
      cmocka_unit_test(test_lsn_rejects_malformed_addresses_saying_why),
      cmocka_unit_test(test_lsn_loopback_addresses),
      cmocka_unit_test(test_lsn_formats_other_families_as_unknown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

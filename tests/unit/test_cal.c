/* test_cal.c: the calendar of the news forms, against anchors computed
 * apart (Python's datetime) and a day-by-day walk with its own leap rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cal.h"

static void test_cal_days_known_anchors(void **state) {
  assert_int_equal(cal_days(19700101), 0);
  assert_int_equal(cal_days(20000301), 11017);
  assert_int_equal(cal_days(20240229), 19782);
  assert_int_equal(cal_days(10101), -719162);
  assert_int_equal(cal_days(99991231), 2932896);
  assert_int_equal(cal_from_days(-719163), 0); /* before 0001-01-01 */
  assert_int_equal(cal_from_days(2932897), 0); /* after 9999-12-31 */
}

static void test_cal_walk_1899_to_2101_round_trips(void **state) {
  static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int64_t n = cal_days(18990101);
  for (unsigned y = 1899; y <= 2101; y++)
    for (unsigned m = 1; m <= 12; m++) {
      unsigned last = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
      assert_int_equal(cal_month_days(y, m), last);
      for (unsigned d = 1; d <= last; d++, n++) {
        uint32_t ymd = y * 10000 + m * 100 + d;
        assert_int_equal(cal_days(ymd), n);
        assert_int_equal(cal_from_days(n), ymd);
      }
    }
}

static void test_cal_iso_weeks_at_year_ends(void **state) {
  static const struct {
    uint32_t day;
    unsigned year, week;
  } cases[] = {{20210103, 2020, 53}, {20210104, 2021, 1},  {20241230, 2025, 1},
               {20081229, 2009, 1},  {20100103, 2009, 53}, {20231102, 2023, 44},
               {10101, 1, 1},        {99991231, 9999, 52}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    unsigned y, w;
    cal_iso_week(cases[i].day, &y, &w);
    assert_int_equal(y, cases[i].year);
    assert_int_equal(w, cases[i].week);
  }
}

static void test_cal_month_steps_clamp_to_the_month_end(void **state) {
  assert_int_equal(cal_add_months(20240331, -1), 20240229);
  assert_int_equal(cal_add_months(20230331, -1), 20230228);
  assert_int_equal(cal_add_months(20240229, -12), 20230228);
  assert_int_equal(cal_add_months(20240508, -3), 20240208);
  assert_int_equal(cal_add_months(20240115, -1), 20231215);
  assert_int_equal(cal_add_months(10115, -1), 0);
  assert_int_equal(cal_add_months(99991201, 1), 0);
}

static void test_cal_today_is_a_real_day(void **state) {
  uint32_t t = cal_today();
  assert_true(t >= 20240101 && t <= CAL_MAX);
  assert_int_equal(cal_from_days(cal_days(t)), t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cal_days_known_anchors),
      cmocka_unit_test(test_cal_walk_1899_to_2101_round_trips),
      cmocka_unit_test(test_cal_iso_weeks_at_year_ends),
      cmocka_unit_test(test_cal_month_steps_clamp_to_the_month_end),
      cmocka_unit_test(test_cal_today_is_a_real_day),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* cal.c: see cal.h.  Day numbers use the civil-from-days algorithm of
 * Howard Hinnant's "chrono-Compatible Low-Level Date Algorithms" (eras of
 * 400 years, March-based years), which is exact over the whole range. */
#include "cal.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

unsigned cal_month_days(unsigned y, unsigned m) {
  static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[(m - 1) % 12];
}

int64_t cal_days(uint32_t ymd) {
  int64_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

uint32_t cal_from_days(int64_t n) {
  n += 719468;
  int64_t era = (n >= 0 ? n : n - 146096) / 146097;
  int64_t doe = n - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  if (y < 1 || y > 9999) return 0;
  return (uint32_t)(y * 10000 + m * 100 + d);
}

uint32_t cal_add_months(uint32_t ymd, int32_t months) {
  int64_t idx = (int64_t)(ymd / 10000) * 12 + (ymd / 100 % 100 - 1) + months;
  if (idx < 12 || idx >= 10000 * 12) return 0;
  unsigned y = (unsigned)(idx / 12), m = (unsigned)(idx % 12) + 1, d = ymd % 100;
  if (d > cal_month_days(y, m)) d = cal_month_days(y, m);
  return y * 10000 + m * 100 + d;
}

void cal_iso_week(uint32_t ymd, unsigned *year, unsigned *week) {
  int64_t n = cal_days(ymd);
  int64_t wd = ((n + 3) % 7 + 7) % 7; /* 0 = Monday (1970-01-01 was a Thursday) */
  int64_t thursday = n - wd + 3;      /* the week belongs to its Thursday's year */
  unsigned y = cal_from_days(thursday) / 10000;
  *year = y;
  *week = (unsigned)((thursday - cal_days(y * 10000 + 101)) / 7 + 1);
}

/* SIFT_TEST_TODAY_FILE's date (cal.h), or 0. */
static uint32_t cal_test_today(void) {
  const char *path = getenv("SIFT_TEST_TODAY_FILE");
  FILE *f = path ? fopen(path, "r") : NULL;
  unsigned long ymd = 0;
  if (f && fscanf(f, "%8lu", &ymd) != 1) ymd = 0;
  if (f) fclose(f);
  unsigned y = (unsigned)(ymd / 10000), m = (unsigned)(ymd / 100 % 100), d = (unsigned)(ymd % 100);
  return y && m >= 1 && m <= 12 && d >= 1 && d <= cal_month_days(y, m) ? (uint32_t)ymd : 0;
}

uint32_t cal_today(void) {
  uint32_t fake = cal_test_today();
  if (fake) return fake;
  /* POSIX time has 86400 seconds a day; no gmtime_r, whose glibc form
   * takes the time zone lock (searchd asks once per cached request). */
  int64_t t = (int64_t)time(NULL);
  return cal_from_days(t / 86400 - (t % 86400 < 0));
}

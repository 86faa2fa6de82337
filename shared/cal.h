/* cal.h: the calendar of the news forms: days as YYYYMMDD numbers, day
 * arithmetic, calendar-month steps, ISO weeks, and today's date (UTC).
 *
 * The library's one calendar.  Callers: doc.c (corpus dates), qp.c (date:,
 * since:, now:), eng.c (date covers, TIMELINE periods, sort:recent ages),
 * bench/gen.c (generated dates).
 * Dates are proleptic Gregorian, years 1..9999, written as the number
 * y*10000 + m*100 + d (the form qp.h's DATE nodes use).  Pure functions, no
 * state: thread-safe.
 */
#ifndef SIFT_CAL_H
#define SIFT_CAL_H

#include <stdint.h>

#define CAL_MIN 10101u    /* 0001-01-01 */
#define CAL_MAX 99991231u /* 9999-12-31 */

unsigned cal_month_days(unsigned y, unsigned m);
/* Days from 1970-01-01 to ymd (negative before); ymd must be a real day. */
int64_t cal_days(uint32_t ymd);
/* The day n days from 1970-01-01 (the inverse of cal_days); 0 when it falls
 * outside years 1..9999. */
uint32_t cal_from_days(int64_t n);
/* ymd moved by months calendar months (negative: back), the day clamped to
 * the month's end (2024-03-31 - 1 month = 2024-02-29); 0 outside 1..9999. */
uint32_t cal_add_months(uint32_t ymd, int32_t months);
/* ISO 8601 week of ymd: its week-numbering year and week 1..53. */
void cal_iso_week(uint32_t ymd, unsigned *year, unsigned *week);
/* Today in UTC as YYYYMMDD.  For tests only: when the environment variable
 * SIFT_TEST_TODAY_FILE names a file that starts with a date as YYYYMMDD,
 * that date is today, read again on every call (so a test can turn a
 * running server's day); an unreadable file or date means the clock's. */
uint32_t cal_today(void);

#endif

/* Unit tests: what warm migration reads from users (core/pipeline-warm.c):
 * precopy intervals, RFC 3339 cutover times with offsets and fractions,
 * and which plans are warm.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline.h"

static void
test_precopy_interval (void **state)
{
  static const char *const good[] = { "500ms", "1s", "90s", "60", "60m", "2h", "1.5h", NULL };
  static const char *const bad[] = { "", "0", "-1s", "5x", "10ms", "1e9h", "s", "1 s", NULL };
  (void) state;
  for (size_t i = 0; good[i]; i++)
    assert_int_equal (ferry_set_precopy_interval (good[i]), 0);
  for (size_t i = 0; bad[i]; i++) {
    assert_int_equal (ferry_set_precopy_interval (bad[i]), -1);
    assert_non_null (strstr (ferry_get_error (), "precopy interval"));
    assert_non_null (strstr (ferry_get_error (), "90s"));
  }
  assert_int_equal (ferry_set_precopy_interval (NULL), -1);
}

static void
test_rfc3339 (void **state)
{
  double t;
  (void) state;
  assert_int_equal (ferry_internal_parse_rfc3339 ("1970-01-01T00:00:00Z", &t), 0);
  assert_true (t == 0);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-04T01:23:45.678+09:00", &t), 0);
  /* 2024-04-03T16:23:45.678Z */
  assert_true (t > 1712161425.677 && t < 1712161425.679);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-03T16:23:45.678z", &t), 0);
  assert_true (t > 1712161425.677 && t < 1712161425.679);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-03T12:23:45-04:00", &t), 0);
  assert_true (t == 1712161425);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-03T16:23:45", &t), -1);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-03T16:23:45Zjunk", &t), -1);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-03T16:23:45+0900", &t), -1);
  assert_int_equal (ferry_internal_parse_rfc3339 ("2024-04-03T16:23:45.Z", &t), -1);
  assert_int_equal (ferry_internal_parse_rfc3339 ("tomorrow", &t), -1);
  assert_int_equal (ferry_internal_parse_rfc3339 (NULL, &t), -1);
}

static void
test_plan_is_warm (void **state)
{
  static const struct { const char *json; bool warm; } cases[] = {
    { "{\"spec\": {\"type\": \"warm\"}}", true },
    { "{\"spec\": {\"type\": \"cold\"}}", false },
    { "{\"spec\": {\"warm\": true}}", true },
    { "{\"spec\": {\"warm\": false}}", false },
    { "{\"spec\": {\"type\": \"cold\", \"warm\": true}}", false },     /* type wins */
    { "{\"spec\": {}}", false },
    { "{}", false },
  };
  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    json_t *p = json_loads (cases[i].json, 0, NULL);
    assert_non_null (p);
    assert_int_equal (ferry_internal_plan_is_warm (p), cases[i].warm);
    json_decref (p);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_precopy_interval),
    cmocka_unit_test (test_rfc3339),
    cmocka_unit_test (test_plan_is_warm),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* Unit tests: the thread-local last error and logging levels. */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ferry/error.h"
#include "ferry/log.h"

static void
test_error_message (void **state)
{
  ferry_clear_error ();
  assert_string_equal (ferry_get_error (), "");
  ferry_error ("vsphere: RetrievePropertiesEx on %s: %s", "vm-42", "NotAuthenticated");
  assert_string_equal (ferry_get_error (), "vsphere: RetrievePropertiesEx on vm-42: NotAuthenticated");
  assert_int_equal (ferry_get_errno (), 0);
}

static void
test_error_errno_last (void **state)
{
  errno = 0;
  ferry_error_errno (ENOENT, "open %s", "/nowhere/x");
  assert_string_equal (ferry_get_error (), "open /nowhere/x: No such file or directory");
  assert_int_equal (ferry_get_errno (), ENOENT);
  /* Reporting must not clobber errno. */
  errno = EPERM;
  ferry_error ("x");
  assert_int_equal (errno, EPERM);
}

static void
test_error_prefix (void **state)
{
  ferry_error ("needs id or name");
  ferry_error_prefix ("plan.yaml:2:14: spec.vms[%d]", 1);
  assert_string_equal (ferry_get_error (), "plan.yaml:2:14: spec.vms[1]: needs id or name");
}

static void
test_error_truncates (void **state)
{
  char big[10000];
  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ferry_error ("%s", big);
  assert_true (strlen (ferry_get_error ()) < sizeof big);
  assert_true (strlen (ferry_get_error ()) > 1000);
}

static void *
other_thread (void *arg)
{
  const char **seen = arg;
  *seen = strdup (ferry_get_error ());
  ferry_error ("error in thread");
  return NULL;
}

static void
test_error_thread_local (void **state)
{
  const char *seen = NULL;
  pthread_t t;

  ferry_error ("main thread error");
  assert_int_equal (pthread_create (&t, NULL, other_thread, &seen), 0);
  pthread_join (t, NULL);
  assert_string_equal (seen, "");       /* the other thread starts clean */
  assert_string_equal (ferry_get_error (), "main thread error");
  free ((void *) seen);
}

static void
test_log_levels (void **state)
{
  assert_int_equal (ferry_log_level_from_string ("debug"), FERRY_LOG_DEBUG);
  assert_int_equal (ferry_log_level_from_string ("WARN"), FERRY_LOG_WARN);
  assert_int_equal (ferry_log_level_from_string ("warning"), FERRY_LOG_WARN);
  assert_int_equal (ferry_log_level_from_string ("error"), FERRY_LOG_ERROR);
  assert_int_equal (ferry_log_level_from_string ("loud"), -1);
  ferry_set_log_level (FERRY_LOG_INFO);
  assert_int_equal (ferry_get_log_level (), FERRY_LOG_INFO);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_error_message),
    cmocka_unit_test (test_error_errno_last),
    cmocka_unit_test (test_error_prefix),
    cmocka_unit_test (test_error_truncates),
    cmocka_unit_test (test_error_thread_local),
    cmocka_unit_test (test_log_levels),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

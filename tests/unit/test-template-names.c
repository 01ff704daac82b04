/* Names: RFC 1123 validation, Forklift's VM renaming, generateName. */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ferry-template.h"

/* Deterministic random source: returns bytes 0, 1, 2, ... */
struct counter { unsigned char next; };
static int
counting_random (void *user_data, void *buf, size_t n)
{
  struct counter *c = user_data;
  for (size_t k = 0; k < n; k++) ((unsigned char *) buf)[k] = c->next++;
  return 0;
}

static int
failing_random (void *user_data, void *buf, size_t n)
{
  (void) user_data; (void) buf; (void) n;
  errno = EIO;
  return -1;
}

static void
check_rename (const char *in, const char *want)
{
  struct counter c = {0};
  char *got = ferry_template_vm_name (in, NULL, NULL, counting_random, &c);
  assert_non_null (got);
  assert_string_equal (got, want);
  assert_true (ferry_template_is_dns1123_subdomain (got, NULL));
  free (got);
}

static void
test_rename_basic (void **state)
{
  (void) state;
  check_rename ("My.VM_01", "my.vm-01");
  check_rename ("-x-", "x");
  check_rename ("web-server", "web-server");
  check_rename ("Web Server (prod)", "web-server-prod");
  check_rename("a+b*c/d\\e", "a-b-c-d-e");
  check_rename ("  leading and trailing  ", "leading-and-trailing");
  check_rename ("..dots..", "dots");
  check_rename ("a..b", "a.b");
  check_rename ("a.-b-.c", "a.b.c");
  check_rename ("x__y--z", "x-y-z");
  check_rename ("UPPER.lower.MiXeD", "upper.lower.mixed");
  check_rename ("héllo wörld", "hllo-wrld");
  check_rename ("vm_01.example.com", "vm-01.example.com");
}

static void
test_rename_long (void **state)
{
  (void) state;
  char in[81];
  memset (in, 'a', 80);
  in[80] = '\0';
  struct counter c = {0};
  char *got = ferry_template_vm_name (in, NULL, NULL, counting_random, &c);
  assert_non_null (got);
  assert_int_equal (strlen (got), 63);
  assert_true (ferry_template_is_dns1123_label (got, NULL));
  free (got);

  /* 62 chars then '-' then more: the cut must not end on '-' */
  char in2[100];
  memset (in2, 'b', 62);
  strcpy (in2 + 62, "-cccccccccc");
  got = ferry_template_vm_name (in2, NULL, NULL, counting_random, &c);
  assert_non_null (got);
  assert_int_equal (strlen (got), 62);
  assert_true (ferry_template_is_dns1123_subdomain (got, NULL));
  free (got);

  /* several labels: the whole name is capped at 63 and still valid */
  got = ferry_template_vm_name ("aaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccc",
                                NULL, NULL, counting_random, &c);
  assert_non_null (got);
  assert_true (strlen (got) <= 63);
  assert_string_equal (got, "aaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccc");
  free (got);

  /* cut landing right after a dot: trailing '.' trimmed */
  got = ferry_template_vm_name ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.b",
                                NULL, NULL, counting_random, &c);
  assert_non_null (got);
  assert_string_equal (got, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  free (got);
}

static void
test_rename_all_invalid (void **state)
{
  (void) state;
  const char *inputs[] = { "", "___", "...", "---", "日本語", "!@#$%", ".-_-." };
  for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
    struct counter c = {0};
    char *got = ferry_template_vm_name (inputs[k], NULL, NULL, counting_random, &c);
    assert_non_null (got);
    /* bytes 0,1,2,3 -> "abcd" */
    assert_string_equal (got, "vm-abcd");
    free (got);
  }
  assert_null (ferry_template_vm_name ("", NULL, NULL, failing_random, NULL));
  assert_null (ferry_template_vm_name (NULL, NULL, NULL, NULL, NULL));
  assert_int_equal (errno, EINVAL);
}

/* Taken names: a list. */
struct taken { const char *const *names; size_t n; int calls; };
static bool
is_taken (void *user_data, const char *name)
{
  struct taken *t = user_data;
  t->calls++;
  for (size_t k = 0; k < t->n; k++)
    if (strcmp (t->names[k], name) == 0) return true;
  return false;
}

static void
test_rename_collision (void **state)
{
  (void) state;
  const char *names[] = { "my.vm-01", "my.vm-01-abcd" };
  struct taken t = { names, 1, 0 };
  struct counter c = {0};
  char *got = ferry_template_vm_name ("My.VM_01", is_taken, &t, counting_random, &c);
  assert_non_null (got);
  assert_string_equal (got, "my.vm-01-abcd");
  free (got);

  /* the first suffix is also taken: try again */
  t = (struct taken) { names, 2, 0 };
  c = (struct counter) {0};
  got = ferry_template_vm_name ("My.VM_01", is_taken, &t, counting_random, &c);
  assert_non_null (got);
  assert_string_equal (got, "my.vm-01-efgh");
  assert_int_equal (t.calls, 3);
  free (got);

  /* long name: cut to 58 then "-xxxx" = 63 */
  char in[81];
  memset (in, 'z', 80);
  in[80] = '\0';
  char first[64];
  memset (first, 'z', 63);
  first[63] = '\0';
  const char *taken_long[] = { first };
  t = (struct taken) { taken_long, 1, 0 };
  c = (struct counter) {0};
  got = ferry_template_vm_name (in, is_taken, &t, counting_random, &c);
  assert_non_null (got);
  assert_int_equal (strlen (got), 63);
  assert_memory_equal (got, first, 58);
  assert_string_equal (got + 58, "-abcd");
  free (got);

}

static bool always_taken (void *d, const char *n) { (void) d; (void) n; return true; }

static void
test_rename_exhausted (void **state)
{
  (void) state;
  struct counter c = {0};
  errno = 0;
  assert_null (ferry_template_vm_name ("x", always_taken, NULL, counting_random, &c));
  assert_int_equal (errno, EEXIST);
}

static void
test_rename_default_random (void **state)
{
  (void) state;
  char *a = ferry_template_vm_name ("___", NULL, NULL, NULL, NULL);
  assert_non_null (a);
  assert_int_equal (strlen (a), 7);
  assert_memory_equal (a, "vm-", 3);
  assert_true (ferry_template_is_dns1123_label (a, NULL));
  free (a);
}

static void
test_labels (void **state)
{
  (void) state;
  const char *why;
  assert_true (ferry_template_is_dns1123_label ("a", NULL));
  assert_true (ferry_template_is_dns1123_label ("a-b-9", NULL));
  assert_false (ferry_template_is_dns1123_label ("", &why));
  assert_string_equal (why, "must not be empty");
  assert_false (ferry_template_is_dns1123_label ("-a", &why));
  assert_string_equal (why, "must start and end with an alphanumeric character");
  assert_false (ferry_template_is_dns1123_label ("a-", NULL));
  assert_false (ferry_template_is_dns1123_label ("A", &why));
  assert_string_equal (why, "must consist of lower case alphanumeric characters or '-'");
  assert_false (ferry_template_is_dns1123_label ("a.b", NULL));
  char s[65];
  memset (s, 'a', 64); s[64] = '\0';
  assert_false (ferry_template_is_dns1123_label (s, &why));
  assert_string_equal (why, "must be no more than 63 characters");
  s[63] = '\0';
  assert_true (ferry_template_is_dns1123_label (s, NULL));
  assert_true (ferry_template_is_dns1123_subdomain ("a.b.c", NULL));
  assert_false (ferry_template_is_dns1123_subdomain ("a..b", &why));
  assert_false (ferry_template_is_dns1123_subdomain (".a", NULL));
  assert_false (ferry_template_is_dns1123_subdomain ("a.", NULL));
  assert_false (ferry_template_is_dns1123_subdomain ("a.-b", NULL));
  char big[300];
  for (int k = 0; k < 299; k++) big[k] = (k % 2) ? '.' : 'a';
  big[299] = '\0';
  assert_false (ferry_template_is_dns1123_subdomain (big, &why));
  assert_string_equal (why, "must be no more than 253 characters");
}

static void
test_generate_name (void **state)
{
  (void) state;
  struct counter c = {0};
  char *n = ferry_template_generate_name ("plan-vm-disk-", counting_random, &c);
  assert_non_null (n);
  /* bytes 0..4 -> "bcdfg" */
  assert_string_equal (n, "plan-vm-disk-bcdfg");
  free (n);
  char in[81];
  memset (in, 'p', 80); in[80] = '\0';
  n = ferry_template_generate_name (in, counting_random, &c);
  assert_non_null (n);
  assert_int_equal (strlen (n), 63);
  free (n);
  assert_null (ferry_template_generate_name ("x-", failing_random, NULL));
  n = ferry_template_generate_name ("x-", NULL, NULL);
  assert_non_null (n);
  assert_int_equal (strlen (n), 7);
  free (n);
}

static void
test_pvc_lookup (void **state)
{
  (void) state;
  assert_string_equal (ferry_template_get0_pvc_template ("vm", "plan", "conf"), "vm");
  assert_string_equal (ferry_template_get0_pvc_template ("", "plan", "conf"), "plan");
  assert_string_equal (ferry_template_get0_pvc_template (NULL, NULL, "conf"), "conf");
  assert_string_equal (ferry_template_get0_pvc_template (NULL, "", ""), FERRY_TEMPLATE_PVC_DEFAULT);

  /* the built-in default on Forklift-like data */
  struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  assert_int_equal (ferry_template_data_set_string (d, "PlanName", "migration-plan-production"), 0);
  assert_int_equal (ferry_template_data_set_string (d, "TargetVmName", "database-server-01"), 0);
  assert_int_equal (ferry_template_data_set_int (d, "DiskIndex", 3), 0);
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", ferry_template_get0_pvc_template (NULL, NULL, NULL), &err);
  assert_non_null (t);
  char *out = ferry_template_execute (t, d, &err);
  assert_non_null (out);
  assert_string_equal (out, "migration-plan--database-server-disk-3");
  free (out);
  ferry_template_free (t);
  ferry_template_data_free (d);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_rename_basic),
    cmocka_unit_test (test_rename_long),
    cmocka_unit_test (test_rename_all_invalid),
    cmocka_unit_test (test_rename_collision),
    cmocka_unit_test (test_rename_exhausted),
    cmocka_unit_test (test_rename_default_random),
    cmocka_unit_test (test_labels),
    cmocka_unit_test (test_generate_name),
    cmocka_unit_test (test_pvc_lookup),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

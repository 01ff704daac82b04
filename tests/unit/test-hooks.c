/* Unit tests: running hooks (core/hooks.c) and the log paths (core/logs.c)
 * directly, without a migration: what the hook gets, exit status, retries,
 * deadline, and the errors when a hook cannot run.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"
#include "hooks.h"
#include "logs.h"

struct fixture {
  char dir[64];                         /* state directory, also holds the scripts */
  struct ferry *f;
  json_t *plan;
};

static char *
slurp (const char *path)
{
  FILE *fp = fopen (path, "r");
  if (!fp)
    return NULL;
  char *buf = calloc (1, 65536);
  size_t n = buf ? fread (buf, 1, 65535, fp) : 0;
  (void) n;
  fclose (fp);
  return buf;
}

static void
script (struct fixture *fx, const char *name, const char *body)
{
  char path[256];
  snprintf (path, sizeof path, "%s/%s", fx->dir, name);
  FILE *fp = fopen (path, "w");
  assert_non_null (fp);
  fprintf (fp, "#!/bin/sh\n%s\n", body);
  fclose (fp);
  assert_int_equal (chmod (path, 0755), 0);
}

static int
setup (void **state)
{
  struct fixture *fx = calloc (1, sizeof *fx);
  const char *tmp = getenv ("TMPDIR");
  snprintf (fx->dir, sizeof fx->dir, "%s/ferry-hooks.XXXXXX", tmp && *tmp ? tmp : "/tmp");
  assert_non_null (mkdtemp (fx->dir));
  fx->f = ferry_open (fx->dir, FERRY_OPEN_NO_MODULES);
  assert_non_null (fx->f);
  fx->plan = json_pack ("{s:{s:s, s:s}, s:{s:s}}", "metadata", "name", "p1",
                        "namespace", "ns1", "spec", "targetNamespace", "tgt");
  script (fx, "ok.sh",
          "test \"$(pwd)\" = \"$1\" || exit 9\n"
          "test \"$FERRY_HOOK_STEP\" = PreHook || exit 8\n"
          "grep -q 'name: p1' plan.yml || exit 7\n"
          "grep -q 'targetNamespace: tgt' plan.yml || exit 6\n"
          "grep -q 'name: vm-one' workload.yml || exit 5\n"
          "test ! -e playbook.yml || exit 4\n"
          "echo out-line; echo err-line >&2; printf 'no newline'");
  script (fx, "fail.sh", "echo attempt >> \"$0.count\"; exit 3");
  script (fx, "sleep.sh", "echo sleeping; sleep 30");
  script (fx, "pb.sh", "cat playbook.yml");
  char yaml[4096];
  snprintf (yaml, sizeof yaml,
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
            "metadata: {name: ok, namespace: ns1}\nspec: {image: %s/ok.sh}\n---\n"
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
            "metadata: {name: fail, namespace: ns1}\nspec: {image: %s/fail.sh}\n---\n"
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
            "metadata: {name: slow, namespace: ns1}\nspec: {image: %s/sleep.sh, deadline: 1}\n---\n"
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
            "metadata: {name: pb, namespace: ns1}\nspec: {image: %s/pb.sh, playbook: aGVsbG8gcGxheWJvb2sK}\n---\n"
            "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
            "metadata: {name: remote, namespace: ns1}\nspec: {image: quay.io/kubev2v/hook-runner}\n",
            fx->dir, fx->dir, fx->dir, fx->dir);
  if (ferry_apply_buffer (fx->f, "hooks.yaml", yaml, strlen (yaml), NULL, 0, NULL, NULL) == -1)
    fail_msg ("apply: %s", ferry_get_error ());
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;
  char cmd[128];
  ferry_close (fx->f);
  json_decref (fx->plan);
  snprintf (cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
  if (system (cmd) != 0)
    fprintf (stderr, "could not remove %s\n", fx->dir);
  free (fx);
  return 0;
}

/* Run the hook hook_name as step; returns hook_run's result. */
static int
run (struct fixture *fx, const char *hook_name, const char *step)
{
  json_t *pvm = json_pack ("{s:s, s:[{s:{s:s}, s:s}]}", "id", "vm-1", "hooks",
                           "hook", "name", hook_name, "step", step);
  json_t *workload = json_pack ("{s:s, s:s}", "id", "vm-1", "name", "vm-one");
  ferry_clear_error ();
  int r = ferry_internal_hook_run (fx->f, fx->plan, pvm, workload, "PreHook",
                                   "vm", "ns1", "p1.vm-1");
  json_decref (pvm);
  json_decref (workload);
  return r;
}

static char *
vm_log (struct fixture *fx)
{
  char *path = ferry_vm_log_path (fx->f, "ns1", "p1", "vm-1");
  assert_non_null (path);
  char *s = slurp (path);
  free (path);
  return s ? s : strdup ("");
}

static void
test_no_hook_for_step (void **state)
{
  struct fixture *fx = *state;
  assert_int_equal (run (fx, "fail", "PostHook"), 0);   /* only a PostHook: PreHook is a no-op */
}

static void
test_success_and_output (void **state)
{
  struct fixture *fx = *state;
  if (run (fx, "ok", "PreHook") != 0)
    fail_msg ("%s", ferry_get_error ());
  char *log = vm_log (fx);
  assert_non_null (strstr (log, "PreHook: out-line\n"));
  assert_non_null (strstr (log, "PreHook: err-line\n"));
  assert_non_null (strstr (log, "PreHook: no newline\n"));
  assert_non_null (strstr (log, "succeeded (attempt 1)"));
  free (log);
}

static void
test_failure_retries (void **state)
{
  struct fixture *fx = *state;
  setenv ("FERRY_HOOK_RETRIES", "1", 1);
  assert_int_equal (run (fx, "fail", "PreHook"), -1);
  unsetenv ("FERRY_HOOK_RETRIES");
  const char *e = ferry_get_error ();
  assert_non_null (strstr (e, "PreHook hook ns1/fail of VM vm-one failed: it exited with status 3, after 2 attempts"));
  assert_non_null (strstr (e, "/logs/vm/ns1/p1.vm-1.log"));
  char path[256];
  snprintf (path, sizeof path, "%s/fail.sh.count", fx->dir);
  char *count = slurp (path);
  assert_non_null (count);
  assert_string_equal (count, "attempt\nattempt\n");
  free (count);
}

static void
test_deadline (void **state)
{
  struct fixture *fx = *state;
  assert_int_equal (run (fx, "slow", "PreHook"), -1);
  assert_non_null (strstr (ferry_get_error (), "exceeded its deadline of 1 s and was killed"));
  char *log = vm_log (fx);
  assert_non_null (strstr (log, "PreHook: sleeping"));
  free (log);
}

static volatile int stop_flag;

static void *
set_stop_later (void *arg)
{
  struct timespec ts = { 0, 300 * 1000000L };
  nanosleep (&ts, NULL);
  stop_flag = 1;
  return arg;
}

/* A cancel while the hook runs kills it (long before its 1 s deadline
 * would matter, it sleeps 30 s) and says so.
 */
static void
test_stop (void **state)
{
  struct fixture *fx = *state;
  json_t *pvm = json_pack ("{s:s, s:[{s:{s:s}, s:s}]}", "id", "vm-1", "hooks",
                           "hook", "name", "slow", "step", "PreHook");
  json_t *workload = json_pack ("{s:s, s:s}", "id", "vm-1", "name", "vm-one");
  const volatile int *stop[] = { &stop_flag, NULL };
  pthread_t t;

  stop_flag = 0;
  assert_int_equal (pthread_create (&t, NULL, set_stop_later, NULL), 0);
  assert_int_equal (ferry_internal_hook_run_stoppable (fx->f, fx->plan, pvm, workload,
                                                       "PreHook", "vm", "ns1", "p1.vm-1",
                                                       stop), -1);
  pthread_join (t, NULL);
  assert_non_null (strstr (ferry_get_error (), "PreHook hook ns1/slow of VM vm-one was stopped"));
  json_decref (pvm);
  json_decref (workload);
}

static void
test_playbook_written (void **state)
{
  struct fixture *fx = *state;
  if (run (fx, "pb", "PreHook") != 0)
    fail_msg ("%s", ferry_get_error ());
  char *log = vm_log (fx);
  assert_non_null (strstr (log, "PreHook: hello playbook"));
  free (log);
}

static void
test_cannot_run (void **state)
{
  struct fixture *fx = *state;
  assert_int_equal (run (fx, "remote", "PreHook"), -1);
  assert_non_null (strstr (ferry_get_error (), "cannot run here: it has no playbook"));
  assert_int_equal (run (fx, "missing", "PreHook"), -1);
  assert_non_null (strstr (ferry_get_error (), "hook ns1/missing of VM vm-one: the Hook does not exist"));
}

static void
test_log_names (void **state)
{
  struct fixture *fx = *state;
  char *n = ferry_internal_vm_log_name ("plan", "a/b\n");
  assert_string_equal (n, "plan.a_b_");
  free (n);
  assert_null (ferry_log_path (fx->f, "migration", "..", "x"));
  assert_non_null (strstr (ferry_get_error (), "not a valid kind, namespace and name"));
  char *p = ferry_log_path (fx->f, "migration", "ns", "m1");
  char want[256];
  snprintf (want, sizeof want, "%s/logs/migration/ns/m1.log", fx->dir);
  assert_string_equal (p, want);
  free (p);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_no_hook_for_step),
    cmocka_unit_test (test_success_and_output),
    cmocka_unit_test (test_failure_retries),
    cmocka_unit_test (test_deadline),
    cmocka_unit_test (test_stop),
    cmocka_unit_test (test_playbook_written),
    cmocka_unit_test (test_cannot_run),
    cmocka_unit_test (test_log_names),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}

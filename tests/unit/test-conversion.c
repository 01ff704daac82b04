/* Unit tests: guest conversion's pieces (core/conversion.c) without a
 * migration: which sources convert, finding virt-v2v-in-place, the domain
 * XML it reads, reading its output (recorded from the real virt-v2v 2.2.0
 * in tests/data/conversion/), and running a program with a deadline, stop
 * flags and its whole process group killed.  The conversions themselves
 * are in tests/integration/test-conversion*.sh.
 */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"
#include "conversion.h"

static void
test_which_sources (void **state)
{
  (void) state;
  assert_true (ferry_internal_conversion_needed ("vsphere"));
  assert_true (ferry_internal_conversion_needed ("ova"));
  assert_true (ferry_internal_conversion_needed ("null"));
  assert_false (ferry_internal_conversion_needed ("ovirt"));
  assert_false (ferry_internal_conversion_needed ("openstack"));
  assert_false (ferry_internal_conversion_needed ("kubevirt"));
  assert_false (ferry_internal_conversion_needed (NULL));

  json_t *convert = json_pack ("{s:b}", "skipGuestConversion", 0);
  json_t *raw = json_pack ("{s:b}", "skipGuestConversion", 1);
  json_t *none = json_object ();
  assert_true (ferry_internal_conversion_planned (convert, "vsphere"));
  assert_true (ferry_internal_conversion_planned (none, "ova"));
  assert_false (ferry_internal_conversion_planned (raw, "vsphere"));
  assert_false (ferry_internal_conversion_planned (convert, "ovirt"));
  json_decref (convert);
  json_decref (raw);
  json_decref (none);
}

static void
test_find_tool (void **state)
{
  (void) state;
  char *saved_path = strdup (getenv ("PATH") ? getenv ("PATH") : "/usr/bin:/bin");

  /* An override that points nowhere: named in the error. */
  setenv ("FERRY_VIRT_V2V_IN_PLACE", "/nonexistent/virt-v2v-in-place", 1);
  ferry_clear_error ();
  assert_null (ferry_internal_conversion_tool ());
  assert_non_null (strstr (ferry_get_error (), "FERRY_VIRT_V2V_IN_PLACE=/nonexistent/virt-v2v-in-place"));

  /* An override that is an executable: its absolute path. */
  setenv ("FERRY_VIRT_V2V_IN_PLACE", "/bin/sh", 1);
  char *t = ferry_internal_conversion_tool ();
  assert_non_null (t);
  assert_true (t[0] == '/');
  free (t);
  /* A bare name is looked up in PATH. */
  setenv ("FERRY_VIRT_V2V_IN_PLACE", "sh", 1);
  t = ferry_internal_conversion_tool ();
  assert_non_null (t);
  assert_true (t[0] == '/');
  free (t);

  /* No override, not in PATH: says what to install. */
  unsetenv ("FERRY_VIRT_V2V_IN_PLACE");
  setenv ("PATH", "/nonexistent", 1);
  ferry_clear_error ();
  assert_null (ferry_internal_conversion_tool ());
  assert_non_null (strstr (ferry_get_error (), "virt-v2v-in-place was not found in PATH (/nonexistent)"));
  assert_non_null (strstr (ferry_get_error (), "apt-get install virt-v2v"));
  assert_null (ferry_internal_conversion_program ("qemu-img"));
  assert_non_null (strstr (ferry_get_error (), "qemu-img was not found"));
  setenv ("PATH", saved_path, 1);
  free (saved_path);
}

static void
test_timeout (void **state)
{
  (void) state;
  unsetenv ("FERRY_CONVERSION_TIMEOUT");
  assert_int_equal (ferry_internal_conversion_timeout (), FERRY_CONVERSION_TIMEOUT_DEFAULT);
  setenv ("FERRY_CONVERSION_TIMEOUT", "0", 1);
  assert_int_equal (ferry_internal_conversion_timeout (), 0);
  setenv ("FERRY_CONVERSION_TIMEOUT", "90", 1);
  assert_int_equal (ferry_internal_conversion_timeout (), 90);
  setenv ("FERRY_CONVERSION_TIMEOUT", "-1", 1);
  ferry_clear_error ();
  assert_int_equal (ferry_internal_conversion_timeout (), -1);
  assert_non_null (strstr (ferry_get_error (), "FERRY_CONVERSION_TIMEOUT=-1"));
  setenv ("FERRY_CONVERSION_TIMEOUT", "10m", 1);
  assert_int_equal (ferry_internal_conversion_timeout (), -1);
  unsetenv ("FERRY_CONVERSION_TIMEOUT");
}

static void
test_domain_xml (void **state)
{
  (void) state;
  json_t *spec = json_pack ("{s:s, s:i, s:{s:i, s:i}, s:s}", "name", "web&<'db'>",
                            "memoryMB", 2048, "cpu", "sockets", 2, "cores", 3,
                            "firmware", "efi");
  const char *disks[30];
  char names[29][64];
  for (int i = 0; i < 28; i++) {
    snprintf (names[i], sizeof names[i], "/state/conv/disk-%d.qcow2", i);
    disks[i] = names[i];
  }
  disks[28] = NULL;
  char *xml = ferry_internal_conversion_domain_xml (spec, disks);
  assert_non_null (xml);
  assert_non_null (strstr (xml, "<name>web&amp;&lt;&apos;db&apos;&gt;</name>"));
  assert_non_null (strstr (xml, "<memory unit='MiB'>2048</memory>"));
  assert_non_null (strstr (xml, "<vcpu>6</vcpu>"));
  assert_non_null (strstr (xml, "<loader type='pflash'"));
  assert_non_null (strstr (xml, "<source file='/state/conv/disk-0.qcow2'/>\n      <target dev='sda' bus='scsi'/>"));
  assert_non_null (strstr (xml, "<target dev='sdz'"));
  assert_non_null (strstr (xml, "<source file='/state/conv/disk-26.qcow2'/>\n      <target dev='sdaa'"));
  assert_non_null (strstr (xml, "<target dev='sdab'"));
  assert_non_null (strstr (xml, "<driver name='qemu' type='qcow2'/>"));
  free (xml);

  /* Defaults; bios has no loader; a quote in a path is escaped. */
  json_t *plain = json_pack ("{s:s}", "name", "vm1");
  const char *one[] = { "/x/it's.qcow2", NULL };
  xml = ferry_internal_conversion_domain_xml (plain, one);
  assert_non_null (xml);
  assert_non_null (strstr (xml, "<memory unit='MiB'>1024</memory>"));
  assert_non_null (strstr (xml, "<vcpu>1</vcpu>"));
  assert_null (strstr (xml, "loader"));
  assert_non_null (strstr (xml, "file='/x/it&apos;s.qcow2'"));
  free (xml);

  /* Errors name what is missing. */
  const char *none[] = { NULL };
  ferry_clear_error ();
  assert_null (ferry_internal_conversion_domain_xml (plain, none));
  assert_non_null (strstr (ferry_get_error (), "VM vm1 has no disks to convert"));
  json_t *noname = json_object ();
  assert_null (ferry_internal_conversion_domain_xml (noname, one));
  assert_non_null (strstr (ferry_get_error (), "no name"));
  json_decref (noname);
  json_decref (plain);
  json_decref (spec);
}

/* Feed a recorded output file line by line; count progress messages. */
static int
feed (struct ferry_conversion_output *o, const char *file)
{
  char path[1024], line[8192];
  snprintf (path, sizeof path, "%s/tests/data/conversion/%s", TOP_SRCDIR, file);
  FILE *fp = fopen (path, "r");
  if (!fp)
    fail_msg ("open %s: %s", path, strerror (errno));
  int messages = 0;
  while (fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\n")] = '\0';
    messages += ferry_internal_conversion_output_line (o, line);
  }
  fclose (fp);
  return messages;
}

static void
test_output_blank_disk (void **state)
{
  (void) state;
  struct ferry_conversion_output o = { 0 };
  assert_int_equal (feed (&o, "v2v-2.2.0-blank-disk.out"), 3);
  assert_string_equal (o.message, "Inspecting the source");
  assert_non_null (o.error);
  char *s = ferry_internal_conversion_output_summary (&o);
  assert_non_null (s);
  assert_string_equal (s, "inspection could not detect the source guest (or physical machine). "
                       "Assuming that you are running virt-v2v/virt-p2v on a source which is "
                       "supported (and not, for example, a blank disk), then this should not "
                       "happen. No root device found in this operating system image.");
  free (s);
  ferry_internal_conversion_output_clear (&o);
  assert_null (o.error);
}

static void
test_output_success (void **state)
{
  (void) state;
  struct ferry_conversion_output o = { 0 };
  int n = feed (&o, "v2v-2.2.0-debian12.out");
  assert_true (n >= 8);
  assert_null (o.error);
  assert_string_equal (o.message, "Finishing off");
  ferry_internal_conversion_output_clear (&o);
}

static void
test_output_plain_tail (void **state)
{
  (void) state;
  struct ferry_conversion_output o = { 0 };
  const char *lines[] = {
    "one", "", "two", "{ not json", "three", "four", "five", "six", NULL,
  };
  for (size_t i = 0; lines[i]; i++)
    assert_int_equal (ferry_internal_conversion_output_line (&o, lines[i]), 0);
  char *s = ferry_internal_conversion_output_summary (&o);
  assert_string_equal (s, "{ not json | three | four | five | six");
  free (s);
  ferry_internal_conversion_output_clear (&o);
  assert_null (ferry_internal_conversion_output_summary (&o));
}

/* ---- Running a program ------------------------------------------------ */

struct lines {
  char buf[4096];
  int n;
};

static void
collect (void *opaque, const char *line)
{
  struct lines *l = opaque;
  l->n++;
  strncat (l->buf, line, sizeof l->buf - strlen (l->buf) - 2);
  strcat (l->buf, "\n");
}

static void
test_exec_status_and_output (void **state)
{
  (void) state;
  struct lines l = { .n = 0 };
  const char *argv[] = { "/bin/sh", "-c",
                         "echo out; echo err >&2; echo \"$FERRY_T_VAR\"; printf tail; exit 3", NULL };
  const char *env[] = { "FERRY_T_VAR=from-env", NULL };
  struct ferry_conversion_cmd cmd = { .argv = argv, .env = env, .on_line = collect, .opaque = &l };
  struct ferry_conversion_status st;
  assert_int_equal (ferry_internal_conversion_exec (&cmd, &st), 0);
  assert_false (st.timed_out);
  assert_true (WIFEXITED (st.wait_status) && WEXITSTATUS (st.wait_status) == 3);
  assert_int_equal (l.n, 4);
  assert_string_equal (l.buf, "out\nerr\nfrom-env\ntail\n");
  ferry_clear_error ();
  assert_int_equal (ferry_internal_conversion_check (&st, "the tool on VM x", "its message"), -1);
  assert_string_equal (ferry_get_error (), "the tool on VM x exited with status 3: its message");

  const char *ok[] = { "/bin/true", NULL };
  struct ferry_conversion_cmd okcmd = { .argv = ok };
  assert_int_equal (ferry_internal_conversion_exec (&okcmd, &st), 0);
  assert_int_equal (ferry_internal_conversion_check (&st, "true", NULL), 0);

  const char *missing[] = { "/nonexistent/tool", NULL };
  struct ferry_conversion_cmd mcmd = { .argv = missing };
  assert_int_equal (ferry_internal_conversion_exec (&mcmd, &st), 0);
  assert_int_equal (ferry_internal_conversion_check (&st, "tool", NULL), -1);
  assert_non_null (strstr (ferry_get_error (), "exited with status 127 (could not be executed)"));
}

/* Whether process pid is gone (or a zombie nobody reaped yet). */
static bool
gone (pid_t pid)
{
  char path[64], buf[512];
  snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  FILE *fp = fopen (path, "r");
  if (!fp)
    return true;
  size_t n = fread (buf, 1, sizeof buf - 1, fp);
  fclose (fp);
  buf[n] = '\0';
  const char *p = strrchr (buf, ')');
  return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static void
test_exec_deadline_kills_group (void **state)
{
  (void) state;
  struct lines l = { .n = 0 };
  /* The shell starts a background sleep (what virt-v2v does with nbdkit
   * and qemu) and prints its pid; both must go at the deadline.
   */
  const char *argv[] = { "/bin/sh", "-c", "sleep 300 & echo $!; wait", NULL };
  struct ferry_conversion_cmd cmd = { .argv = argv, .timeout = 1, .on_line = collect, .opaque = &l };
  struct ferry_conversion_status st;
  assert_int_equal (ferry_internal_conversion_exec (&cmd, &st), 0);
  assert_true (st.timed_out);
  pid_t child = (pid_t) atoi (l.buf);
  assert_true (child > 0);
  for (int i = 0; i < 100 && !gone (child); i++)
    usleep (50000);
  assert_true (gone (child));
  ferry_clear_error ();
  assert_int_equal (ferry_internal_conversion_check (&st, "slow tool", "last line"), -1);
  assert_non_null (strstr (ferry_get_error (), "slow tool did not finish within its deadline"));
  assert_non_null (strstr (ferry_get_error (), "last line"));
}

static void
test_exec_stop (void **state)
{
  (void) state;
  volatile int flag = 1, other = 0;
  const volatile int *stop[] = { &other, &flag, NULL };
  const char *argv[] = { "/bin/sh", "-c", "sleep 300", NULL };
  struct ferry_conversion_cmd cmd = { .argv = argv, .stop = stop };
  struct ferry_conversion_status st;
  assert_int_equal (ferry_internal_conversion_exec (&cmd, &st), 0);
  assert_true (st.stopped);
  ferry_clear_error ();
  assert_int_equal (ferry_internal_conversion_check (&st, "tool", NULL), -1);
  assert_non_null (strstr (ferry_get_error (), "was stopped"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_which_sources),
    cmocka_unit_test (test_find_tool),
    cmocka_unit_test (test_timeout),
    cmocka_unit_test (test_domain_xml),
    cmocka_unit_test (test_output_blank_disk),
    cmocka_unit_test (test_output_success),
    cmocka_unit_test (test_output_plain_tail),
    cmocka_unit_test (test_exec_status_and_output),
    cmocka_unit_test (test_exec_deadline_kills_group),
    cmocka_unit_test (test_exec_stop),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

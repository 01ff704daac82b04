/* Execution: the language features name templates use, compiled once and
 * executed many times, on every kind of data set.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ferry-template.h"

static struct ferry_template_data *
pvc_data (void)
{
  struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  ferry_template_data_set_string (d, "VmName", "My.VM_01");
  ferry_template_data_set_string (d, "TargetVmName", "my-vm-01");
  ferry_template_data_set_string (d, "PlanName", "plan");
  ferry_template_data_set_int (d, "DiskIndex", 2);
  ferry_template_data_set_int (d, "RootDiskIndex", 0);
  ferry_template_data_set_bool (d, "Shared", true);
  return d;
}

static void
check (const struct ferry_template_data *d, const char *text, const char *want)
{
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", text, &err);
  if (!t) fail_msg ("%s: %s", text, err);
  char *out = ferry_template_execute (t, d, &err);
  if (!out) fail_msg ("%s: %s", text, err);
  assert_string_equal (out, want);
  free (out);
  ferry_template_free (t);
}

static void
test_forklift_examples (void **state)
{
  (void) state;
  struct ferry_template_data *d = pvc_data ();
  check (d, "{{.VmName}}-disk-{{.DiskIndex}}", "My.VM_01-disk-2");
  check (d, "{{if eq .DiskIndex .RootDiskIndex}}root{{else}}data{{end}}-{{.DiskIndex}}", "data-2");
  check (d, "{{if .Shared}}shared-{{end}}{{.VmName}}-{{.DiskIndex}}", "shared-My.VM_01-2");
  check (d, "{{.VmName | lower | replace \"_\" \"-\" | replace \".\" \"-\"}}", "my-vm-01");
  check (d, "{{ printf \"%s-%03d\" .TargetVmName .DiskIndex }}", "my-vm-01-002");
  ferry_template_data_free (d);

  d = ferry_template_data_new (FERRY_TEMPLATE_KIND_NETWORK);
  ferry_template_data_set_string (d, "NetworkType", "pod");
  ferry_template_data_set_int (d, "NetworkIndex", 1);
  check (d, "{{if eq .NetworkType \"pod\"}}pod{{else}}multus-{{.NetworkIndex}}{{end}}", "pod");
  check (d, "net-{{.NetworkIndex}}", "net-1");
  ferry_template_data_free (d);

  d = ferry_template_data_new (FERRY_TEMPLATE_KIND_VOLUME);
  ferry_template_data_set_string (d, "PVCName", "p");
  ferry_template_data_set_int (d, "VolumeIndex", 4);
  check (d, "disk-{{.VolumeIndex}}-{{.PVCName}}", "disk-4-p");
  ferry_template_data_free (d);
}

static void
test_language (void **state)
{
  (void) state;
  struct ferry_template_data *d = pvc_data ();
  check (d, "a  {{- \"b\" -}}  c", "abc");
  check (d, "{{/* comment */}}x{{- /* c */ -}} y", "xy");
  check (d, "{{$x := 1}}{{$x = add $x 1}}{{$x}}", "2");
  check (d, "{{with $n := .PlanName}}{{$n}}{{.}}{{end}}", "planplan");
  check (d, "{{if and .Shared (gt .DiskIndex 1)}}y{{else if .Shared}}s{{else}}n{{end}}", "y");
  check (d, "{{or 0 \"\" \"x\"}}{{and 1 0}}{{not .Shared}}", "x0false");
  check (d, "{{len .VmName}} {{index .VmName 0}} {{print 1 2 \"a\" 3}}", "8 77 1 2a3");
  check (d, "{{printf \"%5.1f|%-4s|%x|%q\" 3.14159 \"ab\" 255 \"a\\\"b\"}}", "  3.1|ab  |ff|\"a\\\"b\"");
  check (d, "{{1.5}} {{1e6}} {{0x10}} {{'a'}} {{-0}}", "1.5 1e+06 16 97 0");
  check (d, "{{\"日本語\" | upper}} {{title \"hello wörld\"}} {{trunc 2 \"日本\"}}", "日本語 Hello Wörld \xe6\x97");
  check (d, "{{regexReplaceAll \"(\\\\w+)_(\\\\d+)\" .VmName \"${2}-$1\"}}", "My.01-VM");
  check (d, "{{add 1 2 3}} {{sub 1 5}} {{mul 2 3 4}} {{div 7 2}} {{mod -7 3}} {{max 1 9 3}} {{min 4 -2}}", "6 -4 24 3 -1 9 -2");
  check (d, "{{floor 1.5}} {{ceil 1.2}} {{round 2.675 2}} {{add1 \"41\"}}", "1 2 2.68 42");
  check (d, "", "");
  ferry_template_data_free (d);

  d = ferry_template_data_new (FERRY_TEMPLATE_KIND_CUSTOM);
  const char *items[] = { "a", "b", "c" };
  ferry_template_data_set_list (d, "L", items, 3);
  ferry_template_data_set_list (d, "E", NULL, 0);
  check (d, "{{range $i, $e := .L}}{{if $i}},{{end}}{{$i}}{{$e}}{{end}}", "0a,1b,2c");
  check (d, "{{range .L}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a");
  check (d, "{{range .L}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac");
  check (d, "{{range .E}}x{{else}}empty{{end}} {{len .L}} {{index .L 2}} {{.L}}", "empty 3 c [a b c]");
  ferry_template_data_free (d);
}

static void
test_compile_once (void **state)
{
  (void) state;
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", FERRY_TEMPLATE_PVC_DEFAULT, &err);
  assert_non_null (t);
  struct ferry_template_data *d = pvc_data ();
  for (int k = 0; k < 1000; k++) {
    ferry_template_data_set_int (d, "DiskIndex", k);
    char *out = ferry_template_execute (t, d, &err);
    assert_non_null (out);
    char want[64];
    snprintf (want, sizeof want, "plan-my-vm-01-disk-%d", k);
    assert_string_equal (out, want);
    free (out);
  }
  size_t len = 0;
  char *out = ferry_template_execute_len (t, d, &len, &err);
  assert_int_equal (len, strlen (out));
  free (out);
  ferry_template_data_free (d);
  ferry_template_free (t);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_forklift_examples),
    cmocka_unit_test (test_language),
    cmocka_unit_test (test_compile_once),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

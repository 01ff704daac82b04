/* Parse and execution errors: return values and messages (Go's text,
 * plus the column Go leaves out of parse errors).
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ferry-template.h"

static void
parse_fails (const char *text, const char *want)
{
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", text, &err);
  assert_null (t);
  assert_non_null (err);
  assert_string_equal (err, want);
  free (err);
  /* err may be NULL */
  assert_null (ferry_template_parse ("pvc", text, NULL));
}

static void
exec_fails (const char *text, const char *want)
{
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", text, &err);
  assert_non_null (t);
  assert_null (err);
  struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  ferry_template_data_set_string (d, "VmName", "web");
  ferry_template_data_set_int (d, "DiskIndex", 1);
  char *out = ferry_template_execute (t, d, &err);
  assert_null (out);
  assert_non_null (err);
  assert_string_equal (err, want);
  free (err);
  assert_null (ferry_template_execute (t, d, NULL));
  ferry_template_data_free (d);
  ferry_template_free (t);
}

static void
test_parse_errors (void **state)
{
  (void) state;
  parse_fails ("{{.VmName | trimm}}", "template: pvc:1:12: function \"trimm\" not defined");
  parse_fails ("abc {{ .VmName", "template: pvc:1:14: unclosed action");
  parse_fails ("{{if true}}x", "template: pvc:1:12: unexpected EOF");
  parse_fails ("x{{end}}", "template: pvc:1:6: unexpected {{end}}");
  parse_fails ("{{if}}{{end}}", "template: pvc:1:4: missing value for if");
  parse_fails ("{{$x}}", "template: pvc:1:2: undefined variable \"$x\"");
  parse_fails ("{{\"abc}}", "template: pvc:1:2: unterminated quoted string");
  parse_fails ("{{/* x", "template: pvc:1:2: unclosed comment");
  parse_fails ("{{.A | 3}}", "template: pvc:1:8: non executable command in pipeline stage 2");
  parse_fails ("{{12abc}}", "template: pvc:1:2: bad number syntax: \"12a\"");
  parse_fails ("{{lower )}}", "template: pvc:1:8: unexpected \")\" in command");
  parse_fails ("{{@}}", "template: pvc:1:2: unexpected \"@\" in command");
  parse_fails ("{{break}}", "template: pvc:1:7: {{break}} outside {{range}}");
  parse_fails ("line1\nline2 {{trimm}}", "template: pvc:2:8: function \"trimm\" not defined");
  parse_fails ("{{define \"x\"}}{{end}}", "template: pvc:1:2: {{define}} is not supported in name templates");
}

static void
test_exec_errors (void **state)
{
  (void) state;
  exec_fails ("{{.Missing}}", "template: pvc:1:2: executing \"pvc\" at <.Missing>: "
              "can't evaluate field Missing in type api.PVCNameTemplateData");
  exec_fails ("{{lower 1}}", "template: pvc:1:8: executing \"pvc\" at <1>: expected string; found 1");
  exec_fails ("{{.DiskIndex | lower}}", "template: pvc:1:15: executing \"pvc\" at <lower>: "
              "wrong type for value; expected string; got int");
  exec_fails ("{{trunc 3}}", "template: pvc:1:2: executing \"pvc\" at <trunc>: "
              "wrong number of args for trunc: want 2 got 1");
  exec_fails ("{{div 1 0}}", "template: pvc:1:2: executing \"pvc\" at <div 1 0>: "
              "error calling div: runtime error: integer divide by zero");
  exec_fails ("a\nb {{repeat -1 \"x\"}}", "template: pvc:2:4: executing \"pvc\" at <repeat -1 \"x\">: "
              "error calling repeat: strings: negative Repeat count");
  exec_fails ("{{eq 1 \"a\"}}", "template: pvc:1:2: executing \"pvc\" at <eq 1 \"a\">: "
              "error calling eq: incompatible types for comparison");
  exec_fails ("{{upper (add 1 2)}}", "template: pvc:1:15: executing \"pvc\" at <2>: "
              "wrong type for value; expected string; got int64");
  exec_fails ("{{mustRegexReplaceAll \"(\" .VmName \"x\"}}",
              "template: pvc:1:2: executing \"pvc\" at <mustRegexReplaceAll \"(\" .VmName \"x\">: "
              "error calling mustRegexReplaceAll: error parsing regexp: missing closing ): `(`");
  exec_fails ("{{.VmName.Foo}}", "template: pvc:1:9: executing \"pvc\" at <.VmName.Foo>: "
              "can't evaluate field Foo in type string");
  exec_fails ("{{range .VmName}}{{end}}", "template: pvc:1:8: executing \"pvc\" at <.VmName>: "
              "range can't iterate over web");
  exec_fails ("{{nil}}", "template: pvc:1:2: executing \"pvc\" at <nil>: nil is not a command");
  exec_fails ("{{index .VmName 5}}", "template: pvc:1:2: executing \"pvc\" at <index .VmName 5>: "
              "error calling index: index out of range: 5");
}

static void
test_data_api (void **state)
{
  (void) state;
  struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  assert_non_null (d);
  /* declared fields keep their Go types */
  assert_int_equal (ferry_template_data_set_int (d, "VmName", 1), -1);
  assert_int_equal (ferry_template_data_set_string (d, "DiskIndex", "1"), -1);
  assert_int_equal (ferry_template_data_set_parsed (d, "DiskIndex", "x"), -1);
  assert_int_equal (ferry_template_data_set_parsed (d, "Shared", "yes"), -1);
  assert_int_equal (ferry_template_data_set_parsed (d, "DiskIndex", "12"), 0);
  assert_int_equal (ferry_template_data_set_parsed (d, "Shared", "true"), 0);
  assert_int_equal (ferry_template_data_set_parsed (d, "VmName", "vm"), 0);
  assert_int_equal (ferry_template_data_set_string (d, NULL, "x"), -1);
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", "{{.VmName}}-{{.DiskIndex}}-{{.Shared}}-{{.PlanName}}|", &err);
  assert_non_null (t);
  assert_string_equal (ferry_template_get0_name (t), "pvc");
  char *out = ferry_template_execute (t, d, &err);
  assert_string_equal (out, "vm-12-true-|");
  free (out);
  /* no data at all: Go prints <no value> */
  out = ferry_template_execute (t, NULL, &err);
  assert_string_equal (out, "<no value>-<no value>-<no value>-<no value>|");
  free (out);
  ferry_template_free (t);
  ferry_template_data_free (d);
  ferry_template_free (NULL);
  ferry_template_data_free (NULL);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_exec_errors),
    cmocka_unit_test (test_data_api),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

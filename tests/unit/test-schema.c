/* Unit tests of core/schema.c: every openAPIV3Schema rule ferry applies,
 * each accepted and refused, with the message asserted; pruning; and the
 * compiled-in Forklift CRDs.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "schema.h"

struct findings {
  char text[4096];                      /* "E path: msg\n" / "W path: msg\n" */
  int errors, warnings;
};

static void
collect (void *opaque, bool is_error, const char *path, const char *msg)
{
  struct findings *f = opaque;
  size_t n = strlen (f->text);
  snprintf (f->text + n, sizeof f->text - n, "%c %s: %s\n",
            is_error ? 'E' : 'W', path, msg);
  if (is_error)
    f->errors++;
  else
    f->warnings++;
}

/* Validate value (JSON) against schema (JSON) at path "spec.x". */
static void
check (const char *schema, const char *value, int errors, const char *expect)
{
  CLEANUP_JSON_DECREF json_t *inner = json_loads (schema, 0, NULL);
  CLEANUP_JSON_DECREF json_t *s = NULL;
  CLEANUP_JSON_DECREF json_t *w = NULL;
  CLEANUP_JSON_DECREF json_t *v = json_loads (value, JSON_DECODE_ANY, NULL);
  struct findings f = { .text = "" };
  int r;

  assert_non_null (inner);
  assert_non_null (v);
  /* Wrap so that replacement and pruning of the member are visible. */
  w = json_pack ("{s:O}", "x", v);
  s = json_pack ("{s:s, s:{s:O}}", "type", "object", "properties", "x",
                 inner);
  r = ferry_internal_schema_validate (s, w, "spec", NULL, collect, &f);
  if (r != errors || f.errors != errors ||
      (expect && !strstr (f.text, expect)) || (!expect && f.text[0])) {
    fprintf (stderr, "schema %s value %s: %d errors (want %d):\n%s"
             "want: %s\n", schema, value, r, errors, f.text,
             expect ? expect : "(nothing)");
    fail ();
  }
}

static void
test_type (void **state)
{
  check ("{\"type\":\"string\"}", "\"x\"", 0, NULL);
  check ("{\"type\":\"string\"}", "5", 1,
         "E spec.x: expected a string, got integer 5 (quote it to make it a string)");
  check ("{\"type\":\"boolean\"}", "true", 0, NULL);
  check ("{\"type\":\"boolean\"}", "\"yes please\"", 1,
         "E spec.x: expected a boolean (true or false), got string \"yes please\" "
         "(write true or false without quotes)");
  check ("{\"type\":\"integer\"}", "7", 0, NULL);
  check ("{\"type\":\"integer\"}", "2.0", 0, NULL);
  check ("{\"type\":\"integer\"}", "2.5", 1,
         "E spec.x: expected an integer, got number 2.5");
  check ("{\"type\":\"integer\"}", "\"3\"", 1,
         "E spec.x: expected an integer, got string \"3\" (write the number without quotes)");
  check ("{\"type\":\"number\"}", "2.5", 0, NULL);
  check ("{\"type\":\"number\"}", "3", 0, NULL);
  check ("{\"type\":\"number\"}", "false", 1,
         "E spec.x: expected a number, got boolean false");
  check ("{\"type\":\"object\"}", "{}", 0, NULL);
  check ("{\"type\":\"object\"}", "[1]", 1,
         "E spec.x: expected a mapping (object), got a list");
  check ("{\"type\":\"array\"}", "[]", 0, NULL);
  check ("{\"type\":\"array\"}", "{\"a\":1}", 1,
         "E spec.x: expected a list (array), got a mapping");
}

static void
test_integer_replaced (void **state)
{
  CLEANUP_JSON_DECREF json_t *s =
    json_loads ("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}",
                0, NULL);
  CLEANUP_JSON_DECREF json_t *v = json_pack ("{s:f}", "n", 4.0);
  assert_int_equal (ferry_internal_schema_validate (s, v, "spec", NULL, NULL, NULL), 0);
  assert_true (json_is_integer (json_object_get (v, "n")));
  assert_int_equal (json_integer_value (json_object_get (v, "n")), 4);
}

static void
test_nullable (void **state)
{
  check ("{\"type\":\"string\",\"nullable\":true}", "null", 0, NULL);
  /* Not nullable: dropped with a warning, as Kubernetes does. */
  check ("{\"type\":\"string\"}", "null", 0,
         "W spec.x: null value dropped (the field is not nullable), as Kubernetes does");
  /* A null list item is an error. */
  check ("{\"type\":\"array\",\"items\":{\"type\":\"string\"}}", "[\"a\", null]", 1,
         "E spec.x[1]: must not be null");
}

static void
test_required (void **state)
{
  const char *s = "{\"type\":\"object\",\"required\":[\"name\"],"
    "\"properties\":{\"name\":{\"type\":\"string\"}}}";
  check (s, "{\"name\":\"a\"}", 0, NULL);
  check (s, "{}", 1, "E spec.x: missing required field \"name\"");
  /* A dropped null does not satisfy required. */
  check (s, "{\"name\":null}", 1, "E spec.x: missing required field \"name\"");
}

static void
test_enum (void **state)
{
  const char *s = "{\"type\":\"string\",\"enum\":[\"pod\",\"multus\",\"ignored\"]}";
  check (s, "\"multus\"", 0, NULL);
  check (s, "\"Pod\"", 1, "E spec.x: unsupported value: string \"Pod\"; must "
         "be one of [\"pod\",\"multus\",\"ignored\"]");
}

static void
test_properties_prune (void **state)
{
  const char *s = "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}";
  CLEANUP_JSON_DECREF json_t *schema = json_loads (s, 0, NULL);
  CLEANUP_JSON_DECREF json_t *v = json_loads ("{\"a\":\"x\",\"bogus\":1}", 0, NULL);
  struct findings f = { .text = "" };

  check (s, "{\"a\":\"x\"}", 0, NULL);
  check (s, "{\"a\":1}", 1, "E spec.x.a: expected a string, got integer 1");
  assert_int_equal (ferry_internal_schema_validate (schema, v, "spec", NULL, collect, &f), 0);
  assert_string_equal (f.text, "W spec.bogus: unknown field \"bogus\" (not in "
                       "the schema): dropped, as Kubernetes prunes unknown fields\n");
  assert_null (json_object_get (v, "bogus"));
  assert_non_null (json_object_get (v, "a"));
}

static void
test_defaults (void **state)
{
  CLEANUP_JSON_DECREF json_t *s =
    json_loads ("{\"type\":\"object\",\"properties\":{"
                "\"warm\":{\"type\":\"boolean\",\"default\":false},"
                "\"share\":{\"type\":\"boolean\",\"default\":true},"
                "\"sub\":{\"type\":\"object\",\"properties\":{"
                "\"n\":{\"type\":\"integer\",\"default\":3}}}}}", 0, NULL);
  CLEANUP_JSON_DECREF json_t *v = json_loads ("{\"warm\":true,\"share\":null}", 0, NULL);
  CLEANUP_JSON_DECREF json_t *e =
    json_loads ("{\"warm\":true,\"share\":true}", 0, NULL);
  struct findings f = { .text = "" };

  /* Given values stay; a dropped null gets the default; absent objects
   * are not created (so their defaults do not apply).
   */
  assert_int_equal (ferry_internal_schema_validate (s, v, "spec", NULL, collect, &f), 0);
  assert_true (json_equal (v, e));
  json_object_set_new (v, "sub", json_object ());
  assert_int_equal (ferry_internal_schema_validate (s, v, "spec", NULL, collect, &f), 0);
  assert_int_equal (json_integer_value (json_object_get (json_object_get (v, "sub"), "n")), 3);
}

static void
test_additional_properties (void **state)
{
  const char *s = "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}";
  check (s, "{\"k1\":\"v\",\"k2\":\"w\"}", 0, NULL);
  check (s, "{\"k1\":true}", 1, "E spec.x.k1: expected a string, got boolean true");
  check ("{\"type\":\"object\",\"additionalProperties\":true}", "{\"any\":[1]}", 0, NULL);
  check ("{\"type\":\"object\",\"additionalProperties\":false}", "{\"any\":1}", 0,
         "W spec.x.any: unknown field \"any\"");
}

static void
test_preserve_unknown (void **state)
{
  check ("{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}",
         "{\"anything\":{\"goes\":[1]}}", 0, NULL);
  check ("{\"type\":\"object\"}", "{\"anything\":1}", 0,
         "W spec.x.anything: unknown field \"anything\"");
}

static void
test_items (void **state)
{
  const char *s = "{\"type\":\"array\",\"items\":{\"type\":\"object\","
    "\"properties\":{\"id\":{\"type\":\"string\"}}}}";
  check (s, "[{\"id\":\"a\"},{\"id\":\"b\"}]", 0, NULL);
  check (s, "[{\"id\":\"a\"},{\"id\":2}]", 1,
         "E spec.x[1].id: expected a string, got integer 2");
  check (s, "[\"a\"]", 1, "E spec.x[0]: expected a mapping (object), got string \"a\"");
}

static void
test_format (void **state)
{
  const char *dt = "{\"type\":\"string\",\"format\":\"date-time\"}";
  check (dt, "\"2024-04-04T01:23:45Z\"", 0, NULL);
  check (dt, "\"2024-04-04T01:23:45.678+09:00\"", 0, NULL);
  check (dt, "\"2024-02-29T00:00:00-05:00\"", 0, NULL);
  check (dt, "\"2023-02-29T00:00:00Z\"", 1, "E spec.x: string \"2023-02-29T00:00:00Z\" "
         "is not a date-time; use RFC 3339, for example 2024-04-04T01:23:45Z");
  check (dt, "\"tomorrow\"", 1, "is not a date-time");
  check (dt, "\"2024-04-04 25:00:00Z\"", 1, "is not a date-time");
  check ("{\"type\":\"integer\",\"format\":\"int32\"}", "2147483647", 0, NULL);
  check ("{\"type\":\"integer\",\"format\":\"int32\"}", "-2147483649", 1,
         "E spec.x: integer -2147483649 is out of range for int32 "
         "(-2147483648 to 2147483647)");
  check ("{\"type\":\"integer\",\"format\":\"int64\"}", "9223372036854775807", 0, NULL);
  check ("{\"type\":\"integer\",\"format\":\"int64\"}", "9.3e18", 1,
         "is out of range for int64");
  check ("{\"type\":\"string\",\"format\":\"byte\"}", "\"aGk=\"", 0, NULL);
  check ("{\"type\":\"string\",\"format\":\"byte\"}", "\"aGk\"", 1,
         "E spec.x: string \"aGk\" is not valid base64");
}

static void
test_int_or_string (void **state)
{
  const char *s = "{\"x-kubernetes-int-or-string\":true}";
  check (s, "5", 0, NULL);
  check (s, "\"50%\"", 0, NULL);
  check (s, "true", 1, "E spec.x: expected an integer or a string, got boolean true");
  check (s, "1.5", 1, "E spec.x: expected an integer or a string, got number 1.5");
}

static void
test_pattern (void **state)
{
  const char *s = "{\"type\":\"string\",\"pattern\":"
    "\"^([1-9]|[1-9][0-9]{1,2}|[1-3][0-9]{3}|40[0-8][0-9]|409[0-4])$\"}";
  check (s, "\"4094\"", 0, NULL);
  check (s, "\"4095\"", 1, "E spec.x: string \"4095\" does not match the pattern ^([1-9]|");
  /* Unanchored patterns match anywhere, as in Go and JavaScript. */
  check ("{\"type\":\"string\",\"pattern\":\"[0-9]\"}", "\"ab1c\"", 0, NULL);
}

static void
test_min_max (void **state)
{
  check ("{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}", "1", 0, NULL);
  check ("{\"type\":\"integer\",\"minimum\":1,\"maximum\":10}", "10", 0, NULL);
  check ("{\"type\":\"integer\",\"minimum\":1}", "0", 1,
         "E spec.x: integer 0 is less than the minimum 1");
  check ("{\"type\":\"integer\",\"maximum\":10}", "11", 1,
         "E spec.x: integer 11 is greater than the maximum 10");
  check ("{\"type\":\"number\",\"minimum\":0,\"exclusiveMinimum\":true}", "0", 1,
         "E spec.x: integer 0 is not greater than the minimum 0");
  check ("{\"type\":\"number\",\"maximum\":1,\"exclusiveMaximum\":true}", "0.5", 0, NULL);
}

static void
test_lengths (void **state)
{
  check ("{\"type\":\"string\",\"minLength\":1}", "\"a\"", 0, NULL);
  check ("{\"type\":\"string\",\"minLength\":1}", "\"\"", 1,
         "E spec.x: is 0 characters long; at least 1 are required");
  check ("{\"type\":\"string\",\"maxLength\":3}", "\"\\u00e9\\u00e9\\u00e9\"", 0, NULL);
  check ("{\"type\":\"string\",\"maxLength\":3}", "\"abcd\"", 1,
         "E spec.x: is 4 characters long; at most 3 are allowed");
  check ("{\"type\":\"array\",\"minItems\":1}", "[1]", 0, NULL);
  check ("{\"type\":\"array\",\"minItems\":1}", "[]", 1,
         "E spec.x: has 0 items; at least 1 are required");
  check ("{\"type\":\"array\",\"maxItems\":1}", "[1,2]", 1,
         "E spec.x: has 2 items; at most 1 are allowed");
  check ("{\"type\":\"object\",\"maxProperties\":1,\"additionalProperties\":true}",
         "{\"a\":1,\"b\":2}", 1, "E spec.x: has 2 fields; at most 1 are allowed");
}

static void
test_forklift_crds (void **state)
{
  static const char *const kinds[] = {
    "Provider", "Host", "NetworkMap", "StorageMap", "Plan", "Migration", "Hook",
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; ++i) {
    const json_t *crd = ferry_internal_schema_get0 (kinds[i]);
    assert_non_null (crd);
    assert_string_equal (json_string_value (json_object_get (crd, "group")),
                         "forklift.konveyor.io");
    assert_non_null (json_object_get (json_object_get (json_object_get (crd, "schema"),
                                                       "properties"), "spec"));
  }
  assert_null (ferry_internal_schema_get0 ("Secret"));
  assert_null (ferry_internal_schema_get0 ("plan"));
}

static void
test_plan_spec (void **state)
{
  const json_t *crd = ferry_internal_schema_get0 ("Plan");
  const json_t *spec = json_object_get (json_object_get (json_object_get (crd, "schema"),
                                                         "properties"), "spec");
  CLEANUP_JSON_DECREF json_t *v =
    json_loads ("{\"provider\":{\"source\":{\"name\":\"s\",\"namespace\":\"n\"},"
                "\"destination\":{\"name\":\"d\",\"namespace\":\"n\"}},"
                "\"map\":{\"network\":{\"name\":\"nm\"},\"storage\":{\"name\":\"sm\"}},"
                "\"targetNamespace\":\"t\",\"type\":\"sideways\","
                "\"warm\":\"no\",\"vms\":[{\"id\":\"vm-1\",\"targetPowerState\":\"up\"}],"
                "\"colour\":\"blue\"}", 0, NULL);
  struct findings f = { .text = "" };

  assert_int_equal (ferry_internal_schema_validate (spec, v, "spec", "Plan", collect, &f), 3);
  assert_non_null (strstr (f.text, "E spec.type: unsupported value: string \"sideways\"; "
                           "must be one of [\"cold\",\"warm\",\"live\",\"conversion\"]"));
  assert_non_null (strstr (f.text, "E spec.warm: expected a boolean (true or false), "
                           "got string \"no\""));
  assert_non_null (strstr (f.text, "E spec.vms[0].targetPowerState: unsupported value"));
  assert_non_null (strstr (f.text, "W spec.colour: unknown field \"colour\" (not in the Plan schema)"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_type),
    cmocka_unit_test (test_integer_replaced),
    cmocka_unit_test (test_nullable),
    cmocka_unit_test (test_required),
    cmocka_unit_test (test_enum),
    cmocka_unit_test (test_properties_prune),
    cmocka_unit_test (test_defaults),
    cmocka_unit_test (test_additional_properties),
    cmocka_unit_test (test_preserve_unknown),
    cmocka_unit_test (test_items),
    cmocka_unit_test (test_format),
    cmocka_unit_test (test_int_or_string),
    cmocka_unit_test (test_pattern),
    cmocka_unit_test (test_min_max),
    cmocka_unit_test (test_lengths),
    cmocka_unit_test (test_forklift_crds),
    cmocka_unit_test (test_plan_spec),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

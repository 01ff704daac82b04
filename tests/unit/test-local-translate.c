/* Golden-file tests of the local destination's translations:
 * neutral VM spec (tests/data/vmspec/NAME.json) -> KubeVirt VirtualMachine
 * (NAME.vm.yaml, and NAME.vm.json for a readable diff) and libvirt domain
 * XML (NAME.domain.xml), compared byte for byte.
 *
 *   FERRY_REGENERATE=1 make check TESTS=unit/test-local-translate
 *
 * rewrites the expected files instead (review the diff before committing).
 * Also: every generated VirtualMachine is checked against KubeVirt's
 * OpenAPI definitions (unknown fields, types, required fields), every
 * domain XML with virt-xml-validate when it is installed, and bad specs
 * are refused with the messages asserted.
 */
#include <config.h>

#include "unit/test-common.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>

#include "ferry/error.h"
#include "ferry/ferry.h"
#include "../../destinations/local/local.h"

/* Where the golden VM directories point: a fixed, typical output dir. */
#define OUT_DIR "/var/lib/ferry/local"

struct golden_case {
  const char *name;                     /* tests/data/vmspec/<name>.json */
  const char *format;                   /* of the volumes: raw or qcow2 */
};

static const struct golden_case cases[] = {
  { "vmware-efi-secureboot", "raw" },
  { "virtualbox-bios", "raw" },
  { "rawcopy-compat", "qcow2" },
  { "efi-no-secureboot", "raw" },
};

static void
write_text (const char *path, const char *text)
{
  FILE *fp = fopen (path, "wb");

  assert_non_null (fp);
  assert_int_equal (fwrite (text, 1, strlen (text), fp), strlen (text));
  assert_int_equal (fclose (fp), 0);
}

/* Compare with the golden file, or rewrite it under FERRY_REGENERATE=1. */
static void
check_golden (const char *file, const char *actual)
{
  char *path = test_data_path ("vmspec", file);
  const char *regen = getenv ("FERRY_REGENERATE");
  char *expected;

  if (regen != NULL && strcmp (regen, "1") == 0) {
    write_text (path, actual);
    fprintf (stderr, "regenerated %s\n", path);
    free (path);
    return;
  }
  expected = test_read_text (path);
  if (expected == NULL)
    fail_msg ("%s: missing; run with FERRY_REGENERATE=1 to create it", path);
  if (strcmp (expected, actual) != 0) {
    fprintf (stderr, "---- %s differs; got:\n%s\n---- (FERRY_REGENERATE=1 rewrites it)\n",
             path, actual);
    fail_msg ("%s: output differs from the golden file", path);
  }
  free (expected);
  free (path);
}

static json_t *
load_json (const char *file)
{
  char *path = test_data_path ("vmspec", file);
  json_error_t err;
  json_t *j = json_load_file (path, 0, &err);

  if (j == NULL)
    fail_msg ("%s:%d: %s", path, err.line, err.text);
  free (path);
  return j;
}

/* The volume objects the engine would have created for spec's disks. */
static json_t *
volumes_for (const json_t *spec, const char *format)
{
  json_t *vols = json_array ();
  const json_t *d;
  size_t i;

  json_array_foreach (json_object_get (spec, "disks"), i, d) {
    const char *ns = json_string_value (json_object_get (spec, "namespace"));
    const char *vm = json_string_value (json_object_get (spec, "name"));
    json_t *v = json_pack ("{s:O, s:s, s:s, s:O, s:s}",
                           "name", json_object_get (d, "volume"),
                           "namespace", ns ? ns : "default",
                           "vm", vm ? vm : "",
                           "capacity", json_object_get (d, "capacity"),
                           "format", format);
    assert_non_null (v);
    assert_int_equal (json_array_append_new (vols, v), 0);
  }
  return vols;
}

/* ---- A small OpenAPI 2 checker: every key is a known property, every
 * value has the declared type, required properties are present.
 */
static const json_t *defs;

static int
type_matches (const json_t *v, const char *type)
{
  if (strcmp (type, "object") == 0)
    return json_is_object (v);
  if (strcmp (type, "array") == 0)
    return json_is_array (v);
  if (strcmp (type, "string") == 0)
    return json_is_string (v);
  if (strcmp (type, "integer") == 0)
    return json_is_integer (v);
  if (strcmp (type, "number") == 0)
    return json_is_number (v);
  if (strcmp (type, "boolean") == 0)
    return json_is_boolean (v);
  if (strcmp (type, "null") == 0)
    return json_is_null (v);
  fail_msg ("schema: unknown type %s", type);
  return 0;
}

static int schema_errors;

static void
schema_check (const json_t *v, const json_t *schema, const char *path)
{
  const json_t *ref = json_object_get (schema, "$ref");
  const json_t *type, *props, *addl, *items, *req, *t;
  size_t i;

  if (ref != NULL) {
    const char *r = json_string_value (ref);
    const char *prefix = "#/definitions/";
    assert_non_null (r);
    assert_int_equal (strncmp (r, prefix, strlen (prefix)), 0);
    schema = json_object_get (defs, r + strlen (prefix));
    if (schema == NULL)
      fail_msg ("schema: %s: dangling $ref %s", path, r);
  }

  type = json_object_get (schema, "type");
  if (json_is_string (type)) {
    if (!type_matches (v, json_string_value (type))) {
      fprintf (stderr, "schema: %s: not of type %s\n", path, json_string_value (type));
      schema_errors++;
      return;
    }
  }
  else if (json_is_array (type)) {
    int ok = 0;
    json_array_foreach (type, i, t)
      ok |= type_matches (v, json_string_value (t));
    if (!ok) {
      fprintf (stderr, "schema: %s: none of the allowed types\n", path);
      schema_errors++;
      return;
    }
  }
  if (json_is_integer (v) && json_is_string (json_object_get (schema, "format")) &&
      strcmp (json_string_value (json_object_get (schema, "format")), "int32") == 0 &&
      (json_integer_value (v) > INT32_MAX || json_integer_value (v) < INT32_MIN)) {
    fprintf (stderr, "schema: %s: out of int32 range\n", path);
    schema_errors++;
  }

  if (json_is_object (v)) {
    const char *key;
    const json_t *val;

    props = json_object_get (schema, "properties");
    addl = json_object_get (schema, "additionalProperties");
    json_object_foreach ((json_t *) v, key, val) {
      char *sub;
      const json_t *s = json_object_get (props, key);

      assert_true (asprintf (&sub, "%s.%s", path, key) > 0);
      if (s != NULL)
        schema_check (val, s, sub);
      else if (json_is_object (addl))
        schema_check (val, addl, sub);
      else if (props != NULL || json_is_false (addl)) {
        fprintf (stderr, "schema: %s: unknown field\n", sub);
        schema_errors++;
      }
      free (sub);
    }
    req = json_object_get (schema, "required");
    json_array_foreach (req, i, t) {
      if (json_object_get (v, json_string_value (t)) == NULL) {
        fprintf (stderr, "schema: %s: required field %s missing\n", path,
                 json_string_value (t));
        schema_errors++;
      }
    }
  }
  else if (json_is_array (v)) {
    const json_t *e;
    items = json_object_get (schema, "items");
    json_array_foreach (v, i, e) {
      char *sub;
      assert_true (asprintf (&sub, "%s[%zu]", path, i) > 0);
      if (items != NULL)
        schema_check (e, items, sub);
      free (sub);
    }
  }
}

/* The schema: $FERRY_KUBEVIRT_SWAGGER (KubeVirt's whole swagger.json) if
 * set, else the in-tree extract of the definitions a VirtualMachine uses.
 */
static json_t *
load_schema (void)
{
  const char *env = getenv ("FERRY_KUBEVIRT_SWAGGER");
  json_error_t err;
  json_t *j;

  if (env != NULL && env[0] != '\0') {
    j = json_load_file (env, 0, &err);
    if (j == NULL)
      fail_msg ("%s:%d: %s", env, err.line, err.text);
    return j;
  }
  return load_json ("kubevirt-vm-openapi.json");
}

static void
check_vm_schema (const json_t *vm, const char *name)
{
  json_t *schema = load_schema ();
  json_t *root = json_pack ("{s:s}", "$ref", "#/definitions/v1.VirtualMachine");

  defs = json_object_get (schema, "definitions");
  assert_non_null (defs);
  schema_errors = 0;
  schema_check (vm, root, name);
  assert_int_equal (schema_errors, 0);
  json_decref (root);
  json_decref (schema);
}

/* virt-xml-validate FILE domain (and virsh define on libvirt's test
 * driver, when virsh is there), if installed: 0 ok, 1 invalid, 77 absent.
 */
static int
virt_xml_validate (const char *xml)
{
  char tmpl[] = "/tmp/ferry-test-domain-XXXXXX";
  int fd = mkstemp (tmpl), status;
  char *cmd;

  assert_true (fd >= 0);
  assert_int_equal (write (fd, xml, strlen (xml)), (ssize_t) strlen (xml));
  close (fd);
  if (system ("command -v virt-xml-validate >/dev/null 2>&1") != 0) {
    unlink (tmpl);
    return 77;
  }
  assert_true (asprintf (&cmd, "virt-xml-validate %s domain >&2", tmpl) > 0);
  status = system (cmd);
  free (cmd);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0 &&
      system ("command -v virsh >/dev/null 2>&1") == 0) {
    /* libvirt's own parser too: the test driver needs no daemon. */
    assert_true (asprintf (&cmd, "virsh -q -c test:///default define %s >&2", tmpl) > 0);
    status = system (cmd);
    free (cmd);
  }
  unlink (tmpl);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0 ? 0 : 1;
}

static void
test_golden (void **state)
{
  const struct golden_case *c = *state;
  char *file, *yaml, *text, *xml, *vm_dir;
  json_t *spec, *vols, *vm;
  int v;

  assert_true (asprintf (&file, "%s.json", c->name) > 0);
  spec = load_json (file);
  free (file);
  vols = volumes_for (spec, c->format);

  vm = local_kubevirt_vm (spec, vols);
  if (vm == NULL)
    fail_msg ("%s: %s", c->name, ferry_get_error ());
  yaml = ferry_to_yaml (vm);
  if (yaml == NULL)
    fail_msg ("%s: ferry_to_yaml: %s", c->name, ferry_get_error ());
  text = json_dumps (vm, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  assert_non_null (text);
  {
    char *with_nl;
    assert_true (asprintf (&with_nl, "%s\n", text) > 0);
    free (text);
    text = with_nl;
  }
  assert_true (asprintf (&vm_dir, OUT_DIR "/%s/%s",
                         local_vm_namespace (spec, vols),
                         json_string_value (json_object_get (spec, "name"))) > 0);
  xml = local_domain_xml (spec, vols, vm_dir);
  if (xml == NULL)
    fail_msg ("%s: %s", c->name, ferry_get_error ());

  assert_true (asprintf (&file, "%s.vm.yaml", c->name) > 0);
  check_golden (file, yaml);
  free (file);
  assert_true (asprintf (&file, "%s.vm.json", c->name) > 0);
  check_golden (file, text);
  free (file);
  assert_true (asprintf (&file, "%s.domain.xml", c->name) > 0);
  check_golden (file, xml);
  free (file);

  check_vm_schema (vm, c->name);
  v = virt_xml_validate (xml);
  if (v == 77)
    fprintf (stderr, "virt-xml-validate not installed: domain XML not validated\n");
  else
    assert_int_equal (v, 0);

  free (vm_dir);
  free (xml);
  free (text);
  free (yaml);
  json_decref (vm);
  json_decref (vols);
  json_decref (spec);
}

/* The checker itself catches what it is for. */
static void
test_schema_checker_catches (void **state)
{
  json_t *schema = load_schema ();
  json_t *root = json_pack ("{s:s}", "$ref", "#/definitions/v1.VirtualMachine");
  json_t *bad = json_pack ("{s:s, s:{s:s, s:{s:{s:{s:{s:s}, s:{}}}}}}",
                           "kind", "VirtualMachine",
                           "spec", "runStrategy", "Always",
                           "template", "spec", "domain", "cpu", "cores", "two",
                           "devices");
  json_t *unknown = json_pack ("{s:{s:{}, s:b}}", "spec", "template",
                               "startOnCreate", 1);
  json_t *no_spec = json_pack ("{s:s}", "kind", "VirtualMachine");

  defs = json_object_get (schema, "definitions");
  schema_errors = 0;
  schema_check (bad, root, "bad");
  assert_int_equal (schema_errors, 1);       /* cores is a string */
  schema_errors = 0;
  schema_check (unknown, root, "unknown");
  assert_int_equal (schema_errors, 1);       /* no such field */
  schema_errors = 0;
  schema_check (no_spec, root, "no_spec");
  assert_int_equal (schema_errors, 1);       /* spec is required */
  json_decref (bad);
  json_decref (unknown);
  json_decref (no_spec);
  json_decref (root);
  json_decref (schema);
}

/* Specs the translations must refuse, with the message they give. */
static void
expect_refusal (const char *json_text, const char *message)
{
  json_error_t err;
  json_t *spec = json_loads (json_text, 0, &err);
  json_t *vols, *vm;
  char *xml;

  if (spec == NULL)
    fail_msg ("test spec: %s", err.text);
  vols = volumes_for (spec, "raw");
  ferry_clear_error ();
  vm = local_kubevirt_vm (spec, vols);
  assert_null (vm);
  if (strstr (ferry_get_error (), message) == NULL)
    fail_msg ("kubevirt: got \"%s\", wanted \"%s\"", ferry_get_error (), message);
  ferry_clear_error ();
  xml = local_domain_xml (spec, vols, OUT_DIR "/ns/vm");
  assert_null (xml);
  if (strstr (ferry_get_error (), message) == NULL)
    fail_msg ("domain: got \"%s\", wanted \"%s\"", ferry_get_error (), message);
  json_decref (vols);
  json_decref (spec);
}

static void
test_refusals (void **state)
{
  expect_refusal ("{\"name\": \"../etc\", \"memoryMB\": 1}",
                  "local: VM name \"../etc\": must not contain '/'");
  expect_refusal ("{\"name\": \"..\", \"memoryMB\": 1}",
                  "local: VM name \"..\": must not contain \"..\"");
  expect_refusal ("{\"name\": \"Big\", \"memoryMB\": 1}",
                  "local: VM name \"Big\": not a DNS-1123 label");
  expect_refusal ("{\"memoryMB\": 1}", "local: VM name is empty or missing");
  expect_refusal ("{\"name\": \"vm\"}",
                  "local: memoryMB: missing or not a positive integer");
  expect_refusal ("{\"name\": \"vm\", \"memoryMB\": 1, \"cpu\": {\"cores\": 0}}",
                  "local: cpu.cores: not an integer between 1 and 4096");
  expect_refusal ("{\"name\": \"vm\", \"memoryMB\": 1, \"firmware\": \"uefi\"}",
                  "local: VM vm: firmware \"uefi\": unknown (bios or efi)");
  expect_refusal ("{\"name\": \"vm\", \"memoryMB\": 1, \"nics\": [{\"mac\": \"00:11\", \"target\": {\"type\": \"pod\"}}]}",
                  "local: VM vm: MAC address \"00:11\": not of the form xx:xx:xx:xx:xx:xx");
  expect_refusal ("{\"name\": \"vm\", \"memoryMB\": 1, \"nics\": [{\"target\": {\"type\": \"sriov\"}}]}",
                  "local: VM vm: NIC 0: target.type \"sriov\": unknown (pod, multus or ignored)");
  expect_refusal ("{\"name\": \"vm\", \"memoryMB\": 1, \"disks\": [{\"capacity\": 1, \"volume\": \"a/../../b\"}]}",
                  "local: volume name \"a/../../b\": must not contain '/'");
}

/* Characters XML needs escaped come out escaped, not pasted. */
static void
test_escaping (void **state)
{
  json_t *spec = json_pack ("{s:s, s:i, s:[{s:s, s:{s:s, s:s}}]}",
                            "name", "vm", "memoryMB", 64,
                            "nics", "mac", "00:11:22:33:44:55",
                            "target", "type", "multus",
                            "name", "br<0>&\"'");
  json_t *vols = json_array ();
  char *xml = local_domain_xml (spec, vols, "/tmp/a&b<c>");

  assert_non_null (xml);
  assert_non_null (strstr (xml, "<source bridge=\"br&lt;0&gt;&amp;&quot;'\"/>"));
  assert_null (strstr (xml, "br<0>"));
  free (xml);

  /* XML 1.0 cannot carry control characters at all: refused. */
  json_object_set_new (spec, "uuid", json_string ("x\001y"));
  ferry_clear_error ();
  assert_null (local_domain_xml (spec, vols, "/tmp/d"));
  assert_string_equal (ferry_get_error (),
                       "local: VM vm: uuid: holds a control character XML cannot carry");
  json_decref (spec);
  json_decref (vols);
}

int
main (void)
{
  struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 3];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    struct CMUnitTest t = {
      .name = cases[i].name,
      .test_func = test_golden,
      .initial_state = (void *) &cases[i],
    };
    tests[i] = t;
  }
  tests[i++] = (struct CMUnitTest) cmocka_unit_test (test_schema_checker_catches);
  tests[i++] = (struct CMUnitTest) cmocka_unit_test (test_refusals);
  tests[i++] = (struct CMUnitTest) cmocka_unit_test (test_escaping);
  return _cmocka_run_group_tests ("local-translate", tests, i, NULL, NULL);
}

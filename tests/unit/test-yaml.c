/* Unit tests of core/yaml.c (parser: types, positions, documents, limits,
 * errors) and core/yamlemit.c (ferry_to_yaml quoting and round trips).
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
#include "yaml.h"

/* Parse s (must succeed) and return document 0's value (new reference). */
static json_t *
parse1 (const char *s)
{
  struct ferry_yaml_doc *docs;
  size_t n;
  json_t *v;

  if (ferry_internal_yaml_parse ("t.yaml", s, strlen (s), &docs, &n) == -1) {
    fprintf (stderr, "unexpected error: %s\n", ferry_get_error ());
    fail ();
  }
  assert_int_equal (n, 1);
  v = json_incref (docs[0].value);
  ferry_internal_yaml_docs_free (docs, n);
  return v;
}

/* Parse yaml (must succeed): document 0 is the JSON text json. */
static void
parses_as (const char *yaml, const char *json)
{
  CLEANUP_JSON_DECREF json_t *v = parse1 (yaml);
  CLEANUP_JSON_DECREF json_t *e = json_loads (json, 0, NULL);

  assert_non_null (e);
  assert_true (json_equal (v, e));
}

/* Parse s (must fail) and check the error text. */
static void
parse_fails (const char *s, size_t len, const char *expect)
{
  struct ferry_yaml_doc *docs = (void *) 1;
  size_t n = 99;

  ferry_clear_error ();
  assert_int_equal (ferry_internal_yaml_parse ("t.yaml", s, len, &docs, &n),
                    -1);
  assert_null (docs);
  assert_int_equal (n, 0);
  if (!strstr (ferry_get_error (), expect)) {
    fprintf (stderr, "error \"%s\" lacks \"%s\"\n", ferry_get_error (), expect);
    fail ();
  }
}

/* The value of "v: TEXT" must equal expect (JSON). */
static void
scalar_is (const char *text, const char *expect)
{
  CLEANUP_FREE char *doc = NULL;
  CLEANUP_JSON_DECREF json_t *v = NULL;
  CLEANUP_JSON_DECREF json_t *e = json_loads (expect, JSON_DECODE_ANY, NULL);

  assert_non_null (e);
  assert_true (asprintf (&doc, "v: %s\n", text) > 0);
  v = parse1 (doc);
  if (!json_equal (json_object_get (v, "v"), e)) {
    CLEANUP_FREE char *got = json_dumps (json_object_get (v, "v"),
                                         JSON_ENCODE_ANY);
    fprintf (stderr, "%s: got %s, expected %s\n", text, got, expect);
    fail ();
  }
}

static void
test_types (void **state)
{
  /* null */
  scalar_is ("", "null");
  scalar_is ("~", "null");
  scalar_is ("null", "null");
  scalar_is ("Null", "null");
  scalar_is ("NULL", "null");
  scalar_is ("nULL", "\"nULL\"");
  /* booleans: YAML 1.1 as go-yaml v2 */
  scalar_is ("true", "true");
  scalar_is ("True", "true");
  scalar_is ("yes", "true");
  scalar_is ("Y", "true");
  scalar_is ("on", "true");
  scalar_is ("OFF", "false");
  scalar_is ("no", "false");
  scalar_is ("n", "false");
  scalar_is ("tRUE", "\"tRUE\"");
  /* quoted stays a string */
  scalar_is ("\"true\"", "\"true\"");
  scalar_is ("'123'", "\"123\"");
  scalar_is ("\"\"", "\"\"");
  scalar_is ("'~'", "\"~\"");
  scalar_is ("!!str 42", "\"42\"");
  scalar_is ("|\n  123\n", "\"123\\n\"");
  /* integers */
  scalar_is ("123", "123");
  scalar_is ("-17", "-17");
  scalar_is ("+5", "5");
  scalar_is ("0x1F", "31");
  scalar_is ("0o17", "15");
  scalar_is ("017", "15");
  scalar_is ("0b101", "5");
  scalar_is ("1_000", "1000");
  scalar_is ("9223372036854775807", "9223372036854775807");
  /* floats; integral ones become integers as through sigs.k8s.io/yaml */
  scalar_is ("1.5", "1.5");
  scalar_is ("-0.25", "-0.25");
  scalar_is ("1e3", "1000");
  scalar_is ("2.0", "2");
  scalar_is (".5", "0.5");
  scalar_is ("08", "8");
  /* strings */
  scalar_is ("1.2.3", "\"1.2.3\"");
  scalar_is ("0x", "\"0x\"");
  scalar_is ("12:30", "\"12:30\"");
  scalar_is ("vm-69", "\"vm-69\"");
  scalar_is ("2024-04-04T01:23:45+09:00", "\"2024-04-04T01:23:45+09:00\"");
  scalar_is ("hello world", "\"hello world\"");
}

static void
test_inf_nan (void **state)
{
  parse_fails ("v: .inf\n", 8, "t.yaml:1:4: \".inf\" (infinity or NaN) "
               "cannot be represented in JSON");
  parse_fails ("v: .NaN\n", 8, "quote it if it is a string");
}

static void
test_structures (void **state)
{
  parses_as ("a:\n  b: [1, two, {c: d}]\n  e:\n  - x\n  - y: z\n",
             "{\"a\":{\"b\":[1,\"two\",{\"c\":\"d\"}],"
             "\"e\":[\"x\",{\"y\":\"z\"}]}}");
}

static void
test_json_input (void **state)
{
  parses_as ("{\"apiVersion\": \"v1\", \"n\": 1.25, \"b\": false, "
             "\"s\": \"a\\/b\\u00e9\\n\", \"z\": null, \"l\": []}",
             "{\"apiVersion\":\"v1\",\"n\":1.25,\"b\":false,"
             "\"s\":\"a/b\\u00e9\\n\",\"z\":null,\"l\":[]}");
}

static void
test_keys_are_strings (void **state)
{
  CLEANUP_JSON_DECREF json_t *v = parse1 ("1: a\ntrue: b\nnull: c\n");
  assert_string_equal (json_string_value (json_object_get (v, "1")), "a");
  assert_string_equal (json_string_value (json_object_get (v, "true")), "b");
  assert_string_equal (json_string_value (json_object_get (v, "null")), "c");
}

static void
test_anchors_merge (void **state)
{
  parses_as ("base: &b {x: 1, y: 2}\nuse: *b\nm:\n  <<: *b\n  y: 3\n",
             "{\"base\":{\"x\":1,\"y\":2},\"use\":{\"x\":1,\"y\":2},"
             "\"m\":{\"x\":1,\"y\":3}}");
}

static void
test_positions (void **state)
{
  const char *s =
    "apiVersion: v1\n"
    "kind: Plan\n"
    "spec:\n"
    "  vms:\n"
    "  - id: vm-1\n"
    "  -   name: x\n"
    "  map: {network: {name: n}}\n"
    "metadata:\n"
    "  annotations:\n"
    "    forklift.konveyor.io/route: 10.0.0.1\n";
  struct ferry_yaml_doc *docs;
  size_t n, line, col;

  assert_int_equal (ferry_internal_yaml_parse ("p.yaml", s, strlen (s),
                                               &docs, &n), 0);
  assert_int_equal (n, 1);
  ferry_internal_yaml_pos (&docs[0], "kind", &line, &col);
  assert_int_equal (line, 2); assert_int_equal (col, 1);
  ferry_internal_yaml_pos (&docs[0], "spec.vms", &line, &col);
  assert_int_equal (line, 4); assert_int_equal (col, 3);
  ferry_internal_yaml_pos (&docs[0], "spec.vms[0]", &line, &col);
  assert_int_equal (line, 5); assert_int_equal (col, 5);
  ferry_internal_yaml_pos (&docs[0], "spec.vms[1]", &line, &col);
  assert_int_equal (line, 6); assert_int_equal (col, 7);
  ferry_internal_yaml_pos (&docs[0], "spec.vms[1].name", &line, &col);
  assert_int_equal (line, 6); assert_int_equal (col, 7);
  ferry_internal_yaml_pos (&docs[0], "spec.map.network.name", &line, &col);
  assert_int_equal (line, 7); assert_int_equal (col, 19);
  /* Unknown paths fall back to the nearest ancestor. */
  ferry_internal_yaml_pos (&docs[0], "spec.vms[1].nope.deeper", &line, &col);
  assert_int_equal (line, 6); assert_int_equal (col, 7);
  ferry_internal_yaml_pos (&docs[0],
                           "metadata.annotations[forklift.konveyor.io/route]",
                           &line, &col);
  assert_int_equal (line, 10); assert_int_equal (col, 5);
  ferry_internal_yaml_docs_free (docs, n);
}

static void
test_multi_doc (void **state)
{
  const char *s =
    "# leading comment\n"
    "a: 1\n"
    "---\n"
    "b: 2\n"
    "---\n"
    "--- [3]\n";
  struct ferry_yaml_doc *docs;
  size_t n;

  assert_int_equal (ferry_internal_yaml_parse ("m.yaml", s, strlen (s),
                                               &docs, &n), 0);
  assert_int_equal (n, 4);
  assert_int_equal (docs[0].index, 0);
  assert_int_equal (docs[0].line, 2);
  assert_int_equal (json_integer_value (json_object_get (docs[0].value, "a")), 1);
  assert_int_equal (docs[1].line, 3);
  assert_int_equal (json_integer_value (json_object_get (docs[1].value, "b")), 2);
  assert_true (json_is_null (docs[2].value));
  assert_true (json_is_array (docs[3].value));
  assert_int_equal (docs[3].index, 3);
  ferry_internal_yaml_docs_free (docs, n);
}

static void
test_bom_crlf (void **state)
{
  parses_as ("\xef\xbb\xbf" "a: 1\r\nb:\r\n  - x\r\n", "{\"a\":1,\"b\":[\"x\"]}");
}

static void
test_empty (void **state)
{
  struct ferry_yaml_doc *docs;
  size_t n = 9;

  assert_int_equal (ferry_internal_yaml_parse ("e.yaml", "", 0, &docs, &n), 0);
  assert_int_equal (n, 0);
  ferry_internal_yaml_docs_free (docs, n);
  assert_int_equal (ferry_internal_yaml_parse ("e.yaml", "# only\n\n", 8,
                                               &docs, &n), 0);
  assert_int_equal (n, 0);
  ferry_internal_yaml_docs_free (docs, n);
}

static void
test_syntax_errors (void **state)
{
  parse_fails ("a: b: c\n", 8, "t.yaml:1:5: mapping values are not allowed "
               "in this context");
  parse_fails ("a:\n  - x\n y: 1\n", 15, "t.yaml:3:2:");
  parse_fails ("a: [1, 2\n", 9, "t.yaml:2:1:");
  parse_fails ("a: \"unterminated\n", 17,
               "t.yaml:2:1: found unexpected end of stream");
  parse_fails ("a:\n\tb: 1\n", 8, "t.yaml:2:1: found character that cannot "
               "start any token");
  parse_fails ("{\"a\": 1,, }", 11, "t.yaml:1:9:");
  parse_fails ("a: 1\na: 2\n", 10, "t.yaml:2:1: a: duplicate key \"a\" (first at "
               "line 1 column 1); a key may appear once in a mapping");
  parse_fails ("s:\n  x: {k: 1}\n  y: 2\n  x: 3\n", 29,
               "t.yaml:4:3: s.x: duplicate key \"x\" (first at line 2 column 3)");
  parse_fails ("a: *nope\n", 9, "t.yaml:1:4: alias *nope refers to no anchor");
  parse_fails ("? [a]\n: 1\n", 10, "t.yaml:1:3: a sequence used as a mapping "
               "key");
}

static void
test_not_text (void **state)
{
  static const char nul[] = "a: 1\nb: x\0y\n";
  static const char bad[] = "a: 1\nb: \xff\xfe\n";
  parse_fails (nul, sizeof nul - 1, "t.yaml:2:5: not a text file (NUL byte "
               "at byte offset 9)");
  parse_fails (bad, sizeof bad - 1, "t.yaml:2:4: not a text file (invalid "
               "UTF-8 at byte offset 8)");
  /* Overlong encoding of '/' and a lone continuation byte. */
  parse_fails ("a: \xc0\xaf", 5, "not a text file (invalid UTF-8");
  parse_fails ("a: \x80", 4, "not a text file (invalid UTF-8");
}

static void
test_too_large (void **state)
{
  size_t len = FERRY_YAML_MAX_BYTES + 1;
  char *big = malloc (len);
  assert_non_null (big);
  memset (big, ' ', len);
  parse_fails (big, len, "t.yaml: 16777217 bytes is larger than the limit "
               "for manifests (FERRY_YAML_MAX_BYTES, 16777216 bytes = 16 MiB)");
  free (big);
}

static void
test_too_deep (void **state)
{
  char buf[400];
  size_t n = 0;

  for (int i = 0; i < 100; ++i)
    buf[n++] = '[';
  for (int i = 0; i < 100; ++i)
    buf[n++] = ']';
  parse_fails (buf, n, "t.yaml:1:65: nesting deeper than 64 levels");
  /* 64 levels are fine. */
  n = 0;
  for (int i = 0; i < 64; ++i)
    buf[n++] = '[';
  for (int i = 0; i < 64; ++i)
    buf[n++] = ']';
  buf[n] = '\0';
  json_decref (parse1 (buf));
}

static void
test_alias_bomb (void **state)
{
  const char *bomb =
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n";
  parse_fails (bomb, strlen (bomb), "more than 1000000 nodes (aliases "
               "expanded): refusing a document this large (an alias bomb?)");
}

/* ---- emitter --------------------------------------------------------- */

static void
round_trip (const char *json)
{
  CLEANUP_JSON_DECREF json_t *v = json_loads (json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  CLEANUP_FREE char *y = NULL;
  CLEANUP_JSON_DECREF json_t *back = NULL;

  assert_non_null (v);
  y = ferry_to_yaml (v);
  assert_non_null (y);
  back = parse1 (y);
  if (!json_equal (v, back)) {
    CLEANUP_FREE char *b = json_dumps (back, JSON_ENCODE_ANY);
    fprintf (stderr, "round trip of %s\nvia:\n%s\ngave %s\n", json, y, b);
    fail ();
  }
}

static void
emits (const char *json, const char *expect)
{
  CLEANUP_JSON_DECREF json_t *v = json_loads (json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  CLEANUP_FREE char *y = ferry_to_yaml (v);

  assert_non_null (y);
  if (strcmp (y, expect) != 0) {
    fprintf (stderr, "emitted:\n%s\nexpected:\n%s\n", y, expect);
    fail ();
  }
  round_trip (json);
}

static void
test_emit_quoting (void **state)
{
  emits ("{\"a\":\"true\"}", "a: \"true\"\n");
  emits ("{\"a\":\"123\"}", "a: \"123\"\n");
  emits ("{\"a\":\"\"}", "a: \"\"\n");
  emits ("{\"a\":\"a: b\"}", "a: \"a: b\"\n");
  emits ("{\"a\":\" lead\"}", "a: \" lead\"\n");
  emits ("{\"a\":\"trail \"}", "a: \"trail \"\n");
  emits ("{\"a\":\"null\"}", "a: \"null\"\n");
  emits ("{\"a\":\"~\"}", "a: \"~\"\n");
  emits ("{\"a\":\"yes\"}", "a: \"yes\"\n");
  emits ("{\"a\":\"1.5\"}", "a: \"1.5\"\n");
  emits ("{\"a\":\"0x1F\"}", "a: \"0x1F\"\n");
  emits ("{\"a\":\"- x\"}", "a: \"- x\"\n");
  emits ("{\"a\":\"#x\"}", "a: \"#x\"\n");
  emits ("{\"a\":\"x #y\"}", "a: \"x #y\"\n");
  emits ("{\"a\":\"say \\\"hi\\\"\"}", "a: say \"hi\"\n");
  emits ("{\"a\":\"tab\\there\"}", "a: \"tab\\there\"\n");
  emits ("{\"a\":\"plain text\"}", "a: plain text\n");
  emits ("{\"a\":\"vm-69\"}", "a: vm-69\n");
  emits ("{\"true\":1}", "\"true\": 1\n");
  emits ("{\"a\":\"line1\\nline2\\n\"}", "a: |\n  line1\n  line2\n");
  emits ("{\"a\":\"line1\\nline2\"}", "a: |-\n  line1\n  line2\n");
  emits ("{\"a\":\"x\\n\\n\"}", "a: |+\n  x\n\n");
  emits ("{\"a\":\"  indented\\nnext\\n\"}", "a: |2\n    indented\n  next\n");
  emits ("{\"a\":\"\\u00e9t\\u00e9\"}", "a: \u00e9t\u00e9\n");
}

static void
test_emit_structures (void **state)
{
  emits ("{\"spec\":{\"vms\":[{\"id\":\"vm-1\",\"name\":\"x\"},{\"id\":\"vm-2\"}],"
         "\"warm\":false,\"n\":null,\"e\":{},\"l\":[],\"f\":1.5,\"i\":3}}",
         "spec:\n"
         "  vms:\n"
         "  - id: vm-1\n"
         "    name: x\n"
         "  - id: vm-2\n"
         "  warm: false\n"
         "  \"n\": null\n"
         "  e: {}\n"
         "  l: []\n"
         "  f: 1.5\n"
         "  i: 3\n");
  emits ("[[1,2],[\"a\",{\"b\":[3]}]]",
         "- - 1\n"
         "  - 2\n"
         "- - a\n"
         "  - b:\n"
         "    - 3\n");
  emits ("\"top\"", "top\n");
  emits ("{\"a\":[\"x\\ny\\n\"]}", "a:\n- |\n  x\n  y\n");
  round_trip ("{\"r\":0.1,\"big\":1e300,\"neg\":-2.5e-7}");
  round_trip ("{\"k\":{\"a.b/c\":\"1\",\"\":\"empty key\"}}");
  round_trip ("{\"s\":\"\\u0001ctl\",\"t\":\"a\\r\\nb\",\"u\":\"x\\u0000y\"}");
  round_trip ("{\"ml\":\"a\\n  b\\n\\n c\\n\",\"sp\":\"x \\ny\"}");
  round_trip ("[\"\\n\", \"\\n\\n\", \"\\nx\", \"x\\n\\n\\n\"]");
  round_trip ("{\"nel\":\"a\\u0085b\",\"ls\":\"a\\u2028b\\n\",\"bom\":\"\\ufeffx\",\"c1\":\"\\u0080\\uffff\"}");
  {
    char *k = malloc (1500);
    json_t *v;
    char *y;
    struct ferry_yaml_doc *docs;
    size_t n;
    memset (k, 'k', 1499);
    k[1499] = '\0';
    v = json_pack ("{s:{s:i}}", "outer", k, 1);
    y = ferry_to_yaml (v);
    assert_int_equal (ferry_internal_yaml_parse ("long.yaml", y, strlen (y), &docs, &n), 0);
    assert_true (json_equal (docs[0].value, v));
    ferry_internal_yaml_docs_free (docs, n);
    free (y);
    free (k);
    json_decref (v);
  }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_types),
    cmocka_unit_test (test_inf_nan),
    cmocka_unit_test (test_structures),
    cmocka_unit_test (test_json_input),
    cmocka_unit_test (test_keys_are_strings),
    cmocka_unit_test (test_anchors_merge),
    cmocka_unit_test (test_positions),
    cmocka_unit_test (test_multi_doc),
    cmocka_unit_test (test_empty),
    cmocka_unit_test (test_bom_crlf),
    cmocka_unit_test (test_syntax_errors),
    cmocka_unit_test (test_not_text),
    cmocka_unit_test (test_too_large),
    cmocka_unit_test (test_too_deep),
    cmocka_unit_test (test_alias_bomb),
    cmocka_unit_test (test_emit_quoting),
    cmocka_unit_test (test_emit_structures),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

/* Unit tests of core/apply.c: created / configured / unchanged and the
 * generation, Secrets (stringData and data merged, sealed, compared by
 * plaintext), atomicity (a bad document or a store failure stores
 * nothing), duplicates, dry run, namespaces, files, directories, stdin,
 * and bad input (malformed, empty, binary, too large, alias bomb, too deep).
 */
#include <config.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "internal.h"
#include "test-common.h"
#include "yaml.h"

static int
setup (void **state)
{
  int r = ferry_fixture_setup (state, "apply");
  ferry_set_log_level (FERRY_LOG_ERROR);
  return r;
}

static int
teardown (void **state)
{
  return ferry_fixture_teardown (state);
}

/* Apply text; returns the actions (static buffer) or fails the test. */
static const char *
apply_ok (struct ferry_fixture *fx, const char *text, const char *ns,
          unsigned flags)
{
  static struct test_actions a;
  memset (&a, 0, sizeof a);
  if (ferry_apply_buffer (fx->f, "t.yaml", text, strlen (text), ns, flags,
                          test_record, &a) == -1) {
    fprintf (stderr, "apply failed: %s\n", ferry_get_error ());
    fail ();
  }
  return a.text;
}

static void
error_has (const char *expect)
{
  if (!strstr (ferry_get_error (), expect)) {
    fprintf (stderr, "error:\n%s\nlacks:\n%s\n", ferry_get_error (), expect);
    fail ();
  }
}

static void
apply_fails (struct ferry_fixture *fx, const char *name, const char *text,
             size_t len, const char *expect)
{
  struct test_actions a = { .text = "" };
  ferry_clear_error ();
  assert_int_equal (ferry_apply_buffer (fx->f, name, text, len, NULL, 0,
                                        test_record, &a), -1);
  assert_string_equal (a.text, "");
  error_has (expect);
}

static json_t *
get (struct ferry_fixture *fx, const char *kind, const char *ns,
     const char *name)
{
  json_t *o = ferry_get (fx->f, kind, ns, name, FERRY_GET_SECRET_VALUES);
  if (!o)
    fprintf (stderr, "get: %s\n", ferry_get_error ());
  assert_non_null (o);
  return o;
}

static json_int_t
generation (const json_t *o)
{
  return json_integer_value (json_object_get (json_object_get (o, "metadata"),
                                              "generation"));
}

static const char *
resource_version (const json_t *o)
{
  return json_string_value (json_object_get (json_object_get (o, "metadata"),
                                             "resourceVersion"));
}

static void
assert_absent (struct ferry_fixture *fx, const char *kind, const char *ns,
               const char *name)
{
  json_t *o = ferry_get (fx->f, kind, ns, name, 0);
  assert_null (o);
  error_has ("not found");
}

#define HOOK(name, image, label) \
  "apiVersion: forklift.konveyor.io/v1beta1\n" \
  "kind: Hook\n" \
  "metadata:\n" \
  "  name: " name "\n" \
  "  labels: {team: " label "}\n" \
  "spec:\n" \
  "  image: " image "\n"

static void
test_generations (void **state)
{
  struct ferry_fixture *fx = *state;
  CLEANUP_JSON_DECREF json_t *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL;
  CLEANUP_FREE char *rv1 = NULL;

  assert_string_equal (apply_ok (fx, HOOK ("h", "img:1", "a"), NULL, 0),
                       "created Hook default/h\n");
  o1 = get (fx, "Hook", "default", "h");
  assert_int_equal (generation (o1), 1);
  rv1 = strdup (resource_version (o1));

  /* Same again (keys in another order, JSON this time): unchanged, nothing
   * written.
   */
  assert_string_equal (apply_ok (fx, "{\"spec\": {\"image\": \"img:1\"}, \"kind\": \"Hook\","
                                 " \"apiVersion\": \"forklift.konveyor.io/v1beta1\","
                                 " \"metadata\": {\"labels\": {\"team\": \"a\"}, \"name\": \"h\"}}",
                                 NULL, 0),
                       "unchanged Hook default/h\n");
  o2 = get (fx, "Hook", "default", "h");
  assert_int_equal (generation (o2), 1);
  assert_string_equal (resource_version (o2), rv1);

  /* A label only: configured, generation stays. */
  assert_string_equal (apply_ok (fx, HOOK ("h", "img:1", "b"), NULL, 0),
                       "configured Hook default/h\n");
  o3 = get (fx, "Hook", "default", "h");
  assert_int_equal (generation (o3), 1);
  assert_string_not_equal (resource_version (o3), rv1);

  /* The spec: configured, generation + 1. */
  assert_string_equal (apply_ok (fx, HOOK ("h", "img:2", "b"), NULL, 0),
                       "configured Hook default/h\n");
  o4 = get (fx, "Hook", "default", "h");
  assert_int_equal (generation (o4), 2);
  assert_string_equal (json_string_value (json_object_get (json_object_get (o4, "spec"),
                                                           "image")), "img:2");
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (o4, "metadata"), "labels"), "team")), "b");
}

#define SECRET_HEAD \
  "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: fl\n"

static const char *
secret_value (const json_t *o, const char *key)
{
  return json_string_value (json_object_get (json_object_get (o, "data"), key));
}

static void
test_secret (void **state)
{
  struct ferry_fixture *fx = *state;
  CLEANUP_JSON_DECREF json_t *o1 = NULL, *o2 = NULL, *o3 = NULL;
  CLEANUP_JSON_DECREF json_t *hidden = NULL;

  /* data and stringData merged; stringData wins. */
  assert_string_equal (apply_ok (fx, SECRET_HEAD "type: Opaque\n"
                                 "data:\n  user: YWRtaW4=\n  password: b2xk\n"
                                 "stringData:\n  password: s3cret\n  url: https://vc/sdk\n",
                                 NULL, 0),
                       "created Secret fl/creds\n");
  o1 = get (fx, "Secret", "fl", "creds");
  assert_string_equal (json_string_value (json_object_get (o1, "type")), "Opaque");
  assert_string_equal (secret_value (o1, "user"), "YWRtaW4=");       /* admin */
  assert_string_equal (secret_value (o1, "password"), "czNjcmV0");   /* s3cret */
  assert_string_equal (secret_value (o1, "url"), "aHR0cHM6Ly92Yy9zZGs=");
  assert_int_equal (generation (o1), 1);
  hidden = ferry_get (fx->f, "Secret", "fl", "creds", 0);
  assert_string_equal (secret_value (hidden, "password"), "(hidden: 6 bytes)");

  /* The same plaintext written another way: unchanged. */
  assert_string_equal (apply_ok (fx, SECRET_HEAD "type: Opaque\n"
                                 "stringData:\n  user: admin\n  password: s3cret\n"
                                 "  url: https://vc/sdk\n", NULL, 0),
                       "unchanged Secret fl/creds\n");
  o2 = get (fx, "Secret", "fl", "creds");
  assert_int_equal (generation (o2), 1);
  assert_string_equal (resource_version (o2), resource_version (o1));

  /* A changed value: configured, generation + 1. */
  assert_string_equal (apply_ok (fx, SECRET_HEAD "stringData:\n  user: admin\n"
                                 "  password: n3w\n  url: https://vc/sdk\n", NULL, 0),
                       "configured Secret fl/creds\n");
  o3 = get (fx, "Secret", "fl", "creds");
  assert_int_equal (generation (o3), 2);
  assert_string_equal (secret_value (o3, "password"), "bjN3");
  assert_string_equal (json_string_value (json_object_get (o3, "type")), "Opaque");

  /* The values never reach the error text. */
  apply_fails (fx, "s.yaml", SECRET_HEAD "data:\n  password: \"hunter2!\"\n",
               strlen (SECRET_HEAD) + 29,
               "s.yaml:7:3: data.password: the value of key \"password\" is not "
               "valid base64");
  assert_null (strstr (ferry_get_error (), "hunter2"));
}

/* The second document is bad: the first is not stored either. */
static void
test_atomic_validation (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char text[] =
    HOOK ("first", "img:1", "a")
    "---\n"
    "apiVersion: forklift.konveyor.io/v1beta1\n"
    "kind: Hook\n"
    "metadata: {name: second}\n"
    "spec: {image: [not, a, string]}\n";

  apply_fails (fx, "two.yaml", text, strlen (text),
               "two.yaml:12:8: document 2: spec.image: expected a string, got a list");
  assert_absent (fx, "Hook", "default", "first");
  assert_absent (fx, "Hook", "default", "second");
}

/* The store fails on the second object: the first is rolled back. */
static void
test_atomic_store_failure (void **state)
{
  struct ferry_fixture *fx = *state;
  char db[128];
  sqlite3 *s;
  struct test_actions a = { .text = "" };
  static const char text[] =
    HOOK ("first", "img:1", "a")
    "---\n"
    SECRET_HEAD "stringData: {password: other}\n";
  CLEANUP_JSON_DECREF json_t *o = NULL;

  apply_ok (fx, SECRET_HEAD "stringData: {password: x}\n", NULL, 0);
  /* Damage the sealed blob behind ferry's back. */
  snprintf (db, sizeof db, "%s/ferry.db", fx->dir);
  assert_int_equal (sqlite3_open (db, &s), SQLITE_OK);
  assert_int_equal (sqlite3_exec (s, "UPDATE objects SET sealed = x'00010203' "
                                  "WHERE kind = 'Secret'", NULL, NULL, NULL),
                    SQLITE_OK);
  sqlite3_close (s);

  ferry_clear_error ();
  assert_int_equal (ferry_apply_buffer (fx->f, "t.yaml", text, strlen (text),
                                        NULL, 0, test_record, &a), -1);
  assert_string_equal (a.text, "");
  error_has ("nothing was applied: t.yaml:12:3: Secret fl/creds: unseal");
  assert_absent (fx, "Hook", "default", "first");
  /* The store still works afterwards. */
  assert_string_equal (apply_ok (fx, HOOK ("first", "img:1", "a"), NULL, 0),
                       "created Hook default/first\n");
  o = get (fx, "Hook", "default", "first");
}

static void
test_duplicates (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char text[] =
    HOOK ("h", "img:1", "a")
    "---\n"
    "apiVersion: forklift.konveyor.io/v1beta1\n"
    "kind: Hook\n"
    "metadata: {name: h, namespace: default}\n"
    "spec: {image: img:2}\n";
  /* Same name, other kinds or namespaces: fine. */
  static const char fine[] =
    HOOK ("h", "img:1", "a")
    "---\n"
    "apiVersion: forklift.konveyor.io/v1beta1\n"
    "kind: Hook\n"
    "metadata: {name: h, namespace: other}\n"
    "spec: {image: img:2}\n"
    "---\n"
    "apiVersion: v1\nkind: Secret\nmetadata: {name: h}\n";

  apply_fails (fx, "dup.yaml", text, strlen (text),
               "dup.yaml:11:12: document 2: Hook default/h is defined twice in this "
               "apply: here and at dup.yaml:4:3 (document 1); keep one");
  assert_absent (fx, "Hook", "default", "h");
  assert_string_equal (apply_ok (fx, fine, NULL, 0),
                       "created Hook default/h\n"
                       "created Hook other/h\n"
                       "created Secret default/h\n");
}

/* Many errors: all are counted; past the last-error buffer's size they go
 * to the log and the error says how many there were.
 */
static void
test_many_errors (void **state)
{
  struct ferry_fixture *fx = *state;
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream (&text, &len);
  int saved = dup (2), devnull = open ("/dev/null", O_WRONLY);

  for (int i = 0; i < 60; ++i)
    fprintf (fp, "%sapiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
             "metadata: {name: Bad%d}\n", i ? "---\n" : "", i);
  fclose (fp);
  dup2 (devnull, 2);                    /* the log at error level */
  apply_fails (fx, "many.yaml", text, len,
               "many.yaml:3:12: document 1: metadata.name: \"Bad0\" is not a "
               "valid name");
  dup2 (saved, 2);
  close (saved);
  close (devnull);
  error_has ("\n...\n60 errors in many.yaml (the first 50 listed above); "
             "nothing was applied");
  free (text);

  /* A few: all in the error itself. */
  apply_fails (fx, "few.yaml",
               "apiVersion: v1\nkind: Secret\nmetadata: {name: A}\n---\n"
               "apiVersion: v1\nkind: Secret\nmetadata: {name: B}\n", 100,
               "few.yaml:3:12: document 1: metadata.name: \"A\" is not a valid name");
  error_has ("\nfew.yaml:7:12: document 2: metadata.name: \"B\" is not a valid name");
  error_has ("\n2 errors in few.yaml; nothing was applied");
}

static void
test_dry_run (void **state)
{
  struct ferry_fixture *fx = *state;

  assert_string_equal (apply_ok (fx, HOOK ("h", "img:1", "a"), NULL,
                                 FERRY_APPLY_DRY_RUN),
                       "created Hook default/h\n");
  assert_absent (fx, "Hook", "default", "h");
  apply_ok (fx, HOOK ("h", "img:1", "a"), NULL, 0);
  assert_string_equal (apply_ok (fx, HOOK ("h", "img:2", "a"), NULL,
                                 FERRY_APPLY_DRY_RUN),
                       "configured Hook default/h\n");
  assert_string_equal (apply_ok (fx, HOOK ("h", "img:1", "a"), NULL,
                                 FERRY_APPLY_DRY_RUN),
                       "unchanged Hook default/h\n");
  /* Dry run still validates. */
  ferry_clear_error ();
  assert_int_equal (ferry_apply_buffer (fx->f, "x.yaml", "kind: Nope\n", 11, NULL,
                                        FERRY_APPLY_DRY_RUN, NULL, NULL), -1);
  error_has ("x.yaml:1:1: kind: unknown kind \"Nope\"");
  /* Unknown flags are refused. */
  assert_int_equal (ferry_apply_buffer (fx->f, "x.yaml", "a: 1\n", 5, NULL,
                                        0x100, NULL, NULL), -1);
  error_has ("apply: unknown flags 0x100");
}

static void
test_namespaces (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char with_ns[] =
    "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
    "metadata: {name: h, namespace: mine}\nspec: {image: x}\n";

  assert_string_equal (apply_ok (fx, HOOK ("h", "x", "a"), "team-a", 0),
                       "created Hook team-a/h\n");
  assert_string_equal (apply_ok (fx, HOOK ("h", "x", "a"), NULL, 0),
                       "created Hook default/h\n");
  assert_string_equal (apply_ok (fx, with_ns, "team-a", 0),
                       "created Hook mine/h\n");
}

static void
test_bad_input (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char bin[] = "\x7f" "ELF\x02\x01\x01\0\0\0";
  static const char bomb[] =
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
  char deep[300];

  apply_fails (fx, "bad.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: [x\n", 49,
               "bad.yaml:5:1: did not find expected ',' or ']'");
  apply_fails (fx, "empty.yaml", "", 0,
               "empty.yaml: no documents (the input is empty or holds only comments)");
  apply_fails (fx, "comments.yaml", "# nothing\n", 10, "comments.yaml: no documents");
  apply_fails (fx, "dashes.yaml", "---\n---\n", 8,
               "dashes.yaml: no objects (every document is empty)");
  apply_fails (fx, "a.out", bin, sizeof bin - 1,
               "a.out:1:8: not a text file (NUL byte at byte offset 7); manifests "
               "are UTF-8 YAML or JSON");
  apply_fails (fx, "latin1.yaml", "name: caf\xe9\n", 10,
               "latin1.yaml:1:10: not a text file (invalid UTF-8 at byte offset 9)");
  apply_fails (fx, "bomb.yaml", bomb, strlen (bomb), "bomb.yaml:6:36:");
  error_has ("more than 1000000 nodes (aliases expanded)");
  memset (deep, '[', 100);
  memset (deep + 100, ']', 100);
  apply_fails (fx, "deep.yaml", deep, 200,
               "deep.yaml:1:65: nesting deeper than 64 levels");
}

static void
write_file (const char *path, const char *text)
{
  test_write_file (path, text, strlen (text), 0644);
}

static void
test_files (void **state)
{
  struct ferry_fixture *fx = *state;
  char d[128], p[192];
  struct test_actions a = { .text = "" };
  int fd, saved;

  snprintf (d, sizeof d, "%s/in", fx->dir);
  assert_int_equal (mkdir (d, 0700), 0);

  /* An empty directory. */
  ferry_clear_error ();
  assert_int_equal (ferry_apply (fx->f, d, NULL, 0, test_record, &a), -1);
  error_has ("/in: no *.yaml, *.yml or *.json files in this directory");

  /* Sorted by name; other files ignored; not recursive. */
  snprintf (p, sizeof p, "%s/b.yml", d);
  write_file (p, HOOK ("b", "x", "a"));
  snprintf (p, sizeof p, "%s/a.json", d);
  write_file (p, "{\"apiVersion\": \"forklift.konveyor.io/v1beta1\", \"kind\": \"Hook\","
              " \"metadata\": {\"name\": \"a\"}, \"spec\": {\"image\": \"x\"}}");
  snprintf (p, sizeof p, "%s/README.txt", d);
  write_file (p, "not a manifest");
  snprintf (p, sizeof p, "%s/sub.yaml", d);
  assert_int_equal (mkdir (p, 0700), 0);
  assert_int_equal (ferry_apply (fx->f, d, NULL, 0, test_record, &a), 0);
  assert_string_equal (a.text, "created Hook default/a\ncreated Hook default/b\n");

  /* A bad file in the directory: nothing from the directory is stored. */
  snprintf (p, sizeof p, "%s/c.yaml", d);
  write_file (p, HOOK ("c", "x", "a") "bogus: [\n");
  memset (&a, 0, sizeof a);
  assert_int_equal (ferry_apply (fx->f, d, NULL, 0, test_record, &a), -1);
  error_has ("/in/c.yaml:9:1:");
  assert_absent (fx, "Hook", "default", "c");
  assert_int_equal (unlink (p), 0);

  /* 50 MB: refused by size, with the limit named. */
  snprintf (p, sizeof p, "%s/huge.yaml", fx->dir);
  fd = open (p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true (fd >= 0);
  assert_int_equal (ftruncate (fd, 50 * 1024 * 1024), 0);
  close (fd);
  ferry_clear_error ();
  assert_int_equal (ferry_apply (fx->f, p, NULL, 0, test_record, &a), -1);
  error_has ("huge.yaml: 52428800 bytes is larger than the limit for manifests "
             "(FERRY_YAML_MAX_BYTES, 16777216 bytes = 16 MiB)");

  /* A missing file. */
  snprintf (p, sizeof p, "%s/nope.yaml", fx->dir);
  assert_int_equal (ferry_apply (fx->f, p, NULL, 0, test_record, &a), -1);
  error_has ("nope.yaml: No such file or directory");

  /* stdin. */
  snprintf (p, sizeof p, "%s/stdin.yaml", fx->dir);
  write_file (p, HOOK ("from-stdin", "x", "a"));
  fd = open (p, O_RDONLY);
  saved = dup (0);
  dup2 (fd, 0);
  close (fd);
  memset (&a, 0, sizeof a);
  assert_int_equal (ferry_apply (fx->f, "-", NULL, 0, test_record, &a), 0);
  dup2 (saved, 0);
  close (saved);
  assert_string_equal (a.text, "created Hook default/from-stdin\n");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE_TEST (test_generations),
    FIXTURE_TEST (test_secret),
    FIXTURE_TEST (test_atomic_validation),
    FIXTURE_TEST (test_atomic_store_failure),
    FIXTURE_TEST (test_duplicates),
    FIXTURE_TEST (test_many_errors),
    FIXTURE_TEST (test_dry_run),
    FIXTURE_TEST (test_namespaces),
    FIXTURE_TEST (test_bad_input),
    FIXTURE_TEST (test_files),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

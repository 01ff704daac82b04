/* Unit tests of ferry_internal_provider_manifests (core/pipeline-remote.c,
 * issue 7 scale-out): the source Provider, its Secret and its Hosts with
 * their Secrets, written as YAML, must read back through ferry_apply into
 * a second store as the same objects with the same secret values (also
 * values YAML would misread unquoted), and nothing else may be in it.
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
#include "objects.h"
#include "pipeline.h"
#include "test-common.h"

/* Values a careless emitter would get wrong. */
#define TRICKY_PASSWORD "yes: #not a comment' \"quoted\"\n  second line "
#define NUMERIC_USER "0123"

static const char source_yaml[] =
  "apiVersion: v1\nkind: Secret\n"
  "metadata: {name: vc, namespace: src}\n"
  "stringData:\n"
  "  user: \"" NUMERIC_USER "\"\n"
  "  password: \"yes: #not a comment' \\\"quoted\\\"\\n  second line \"\n"
  "---\n"
  "apiVersion: v1\nkind: Secret\n"
  "metadata: {name: esxi, namespace: src}\n"
  "stringData: {user: root, password: esxi-pw}\n"
  "---\n"
  "apiVersion: v1\nkind: Secret\n"
  "metadata: {name: unrelated, namespace: src}\n"
  "stringData: {token: must-not-leave}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n"
  "metadata: {name: vsphere, namespace: src, labels: {team: a}}\n"
  "spec:\n"
  "  type: vsphere\n"
  "  url: https://vcenter.example.com/sdk\n"
  "  secret: {name: vc, namespace: src}\n"
  "  settings: {vddkInitImage: \"registry.example.com/vddk:8\", sdkEndpoint: vcenter}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n"
  "metadata: {name: other, namespace: src}\n"
  "spec: {type: vsphere, url: https://other.example.com/sdk, secret: {name: unrelated, namespace: src}}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\n"
  "metadata: {name: esxi-01, namespace: src}\n"
  "spec:\n"
  "  provider: {name: vsphere, namespace: src}\n"
  "  id: host-1\n  ipAddress: 192.0.2.1\n"
  "  secret: {name: esxi, namespace: src}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\n"
  "metadata: {name: esxi-02, namespace: src}\n"
  "spec:\n"
  "  provider: {name: vsphere, namespace: src}\n"
  "  id: host-2\n  ipAddress: 192.0.2.2\n"
  "  secret: {name: vc, namespace: src}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\n"
  "metadata: {name: other-host, namespace: src}\n"
  "spec:\n"
  "  provider: {name: other, namespace: src}\n"
  "  id: host-9\n  ipAddress: 192.0.2.9\n"
  "  secret: {name: unrelated, namespace: src}\n";

struct fixture {
  char dir[TEST_DIR_MAX];
  struct ferry *from, *to;
};
TEST_FIXTURE_TYPE (struct fixture);

static int
setup (void **state)
{
  struct fixture *fx = test_fixture_new (sizeof *fx, "provider-manifests");
  char sub[TEST_DIR_MAX + 8];

  ferry_set_log_level (FERRY_LOG_ERROR);
  snprintf (sub, sizeof sub, "%s/from", fx->dir);
  fx->from = test_open_ferry (sub);
  snprintf (sub, sizeof sub, "%s/to", fx->dir);
  fx->to = test_open_ferry (sub);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *fx = *state;

  ferry_close (fx->from);
  ferry_close (fx->to);
  test_fixture_free (fx);
  return 0;
}

/* The decrypted value of key in Secret ns/name of f (caller frees). */
static char *
secret_value (struct ferry *f, const char *ns, const char *name,
              const char *key)
{
  struct ferry_store_row row = { 0 };
  assert_int_equal (ferry_internal_store_get (f->store, "Secret", ns, name, &row), 1);
  json_t *data = ferry_internal_secret_unseal (f, ns, name, row.sealed, row.sealed_len);
  ferry_internal_store_row_clear (&row);
  assert_non_null (data);
  const char *v = json_string_value (json_object_get (data, key));
  assert_non_null (v);
  char *copy = strdup (v);
  json_decref (data);
  return copy;
}

static void
test_round_trip (void **state)
{
  struct fixture *fx = *state;

  assert_int_equal (ferry_apply_buffer (fx->from, "source.yaml", source_yaml,
                                        strlen (source_yaml), NULL, 0, NULL, NULL), 0);
  char *text = ferry_internal_provider_manifests (fx->from, "src", "vsphere");
  if (!text)
    fprintf (stderr, "manifests: %s\n", ferry_get_error ());
  assert_non_null (text);
  assert_null (strstr (text, "must-not-leave"));
  assert_null (strstr (text, "other"));
  if (ferry_apply_buffer (fx->to, "manifests", text, strlen (text), NULL, 0,
                          NULL, NULL) == -1) {
    fprintf (stderr, "apply of\n%s\nfailed: %s\n", text, ferry_get_error ());
    fail ();
  }
  free (text);

  /* The same Provider spec and labels. */
  json_t *a = ferry_get (fx->from, "Provider", "src", "vsphere", 0);
  json_t *b = ferry_get (fx->to, "Provider", "src", "vsphere", 0);
  assert_non_null (a);
  assert_non_null (b);
  assert_true (json_equal (json_object_get (a, "spec"), json_object_get (b, "spec")));
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (b, "metadata"), "labels"), "team")), "a");
  json_decref (a);
  json_decref (b);

  /* Exactly its two Secrets (vc once, though two objects name it), with
   * their values intact.
   */
  json_t *secrets = ferry_list (fx->to, "Secret", NULL, 0);
  assert_int_equal (json_array_size (secrets), 2);
  json_decref (secrets);
  char *v = secret_value (fx->to, "src", "vc", "password");
  assert_string_equal (v, TRICKY_PASSWORD);
  free (v);
  v = secret_value (fx->to, "src", "vc", "user");
  assert_string_equal (v, NUMERIC_USER);
  free (v);
  v = secret_value (fx->to, "src", "esxi", "password");
  assert_string_equal (v, "esxi-pw");
  free (v);

  /* Its two Hosts, not the other provider's, and nothing else. */
  json_t *hosts = ferry_list (fx->to, "Host", NULL, 0);
  assert_int_equal (json_array_size (hosts), 2);
  json_t *h = ferry_get (fx->to, "Host", "src", "esxi-01", 0);
  assert_non_null (h);
  assert_string_equal (json_string_value (json_object_get (json_object_get (h, "spec"), "ipAddress")), "192.0.2.1");
  json_decref (h);
  json_decref (hosts);
  json_t *providers = ferry_list (fx->to, "Provider", NULL, 0);
  assert_int_equal (json_array_size (providers), 1);
  json_decref (providers);
}

static void
test_missing (void **state)
{
  struct fixture *fx = *state;

  assert_null (ferry_internal_provider_manifests (fx->from, "src", "absent"));
  assert_non_null (strstr (ferry_get_error (), "provider src/absent not found"));

  /* A Provider whose Secret is gone cannot be handed to a worker. */
  static const char y[] =
    "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n"
    "metadata: {name: orphan, namespace: src}\n"
    "spec: {type: vsphere, url: https://vc.example.com/sdk, secret: {name: gone, namespace: src}}\n";
  assert_int_equal (ferry_apply_buffer (fx->from, "y", y, strlen (y), NULL, 0, NULL, NULL), 0);
  assert_null (ferry_internal_provider_manifests (fx->from, "src", "orphan"));
  assert_non_null (strstr (ferry_get_error (), "provider src/orphan: its secret src/gone does not exist"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_missing, setup, teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

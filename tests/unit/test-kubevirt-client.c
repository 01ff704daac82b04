/* The kubevirt destination's API client against a real kube-apiserver
 * (the kube peer; run by integration/test-kubevirt-module.sh with KUBE_URL,
 * KUBE_TOKEN, KUBE_CA_BUNDLE and KUBE_NS in the environment; skips
 * without them): TLS verified by default, pagination, the 409 retry of an
 * update, and the sentences of real 404, 409 and 422 answers.
 */
#include <config.h>

#include "unit/test-common.h"

#include <jansson.h>

#include "../../destinations/kubevirt/kubevirt.h"

static struct kube_client k;
static char cm_path[512];               /* ConfigMaps of KUBE_NS */

static void
create_cm (const char *name, const char *label)
{
  json_t *cm = json_pack ("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s}}",
                          "apiVersion", "v1", "kind", "ConfigMap",
                          "metadata", "name", name, "labels", "t", label,
                          "data", "k", "0");
  if (kube_call (&k, "POST", cm_path, cm, NULL) == -1)
    fail_msg ("%s", ferry_get_error ());
  json_decref (cm);
}

static void
test_tls_verified (void **state)
{
  struct kube_client bare = { 0 };
  json_t *out = NULL;

  bare.conn.server = k.conn.server;
  bare.conn.token = k.conn.token;       /* no CA: the system store */
  ferry_clear_error ();
  assert_int_equal (kube_request (&bare, "GET", NULL, "/apis", NULL, NULL, &out), -1);
  assert_null (out);
  assert_non_null (strstr (ferry_get_error (), "kubevirt: GET https://"));
  assert_null (strstr (ferry_get_error (), k.conn.token));
}

static void
test_pagination (void **state)
{
  char name[32], *path;
  json_t *items;
  int i;

  for (i = 0; i < 5; ++i) {
    snprintf (name, sizeof name, "page-%d", i);
    create_cm (name, "page");
  }
  assert_true (asprintf (&path, "%s?labelSelector=t%%3Dpage", cm_path) > 0);
  items = kube_list_limit (&k, path, 2);  /* three pages */
  if (items == NULL)
    fail_msg ("%s", ferry_get_error ());
  assert_int_equal (json_array_size (items), 5);
  json_decref (items);
  free (path);
}

/* The first time round, someone else writes the object between our GET
 * and our PUT: the PUT gets 409 and kube_update tries again.
 */
static int attempts;

static int
mutate (json_t *obj, void *opaque)
{
  const char *path = opaque;

  if (attempts++ == 0) {
    json_t *other = json_deep_copy (obj);
    json_object_set_new (json_object_get (other, "data"), "other", json_string ("1"));
    assert_int_equal (kube_call (&k, "PUT", path, other, NULL), 0);
    json_decref (other);
  }
  json_object_set_new (json_object_get (obj, "data"), "k", json_string ("mine"));
  return 0;
}

static void
test_update_conflict_retried (void **state)
{
  char *path;
  json_t *cm = NULL;

  create_cm ("conflict", "conflict");
  assert_true (asprintf (&path, "%s/conflict", cm_path) > 0);
  attempts = 0;
  if (kube_update (&k, path, mutate, path) == -1)
    fail_msg ("%s", ferry_get_error ());
  assert_int_equal (attempts, 2);
  assert_int_equal (kube_call (&k, "GET", path, NULL, &cm), 0);
  assert_string_equal (json_string_value (json_object_get (json_object_get (cm, "data"), "k")), "mine");
  assert_string_equal (json_string_value (json_object_get (json_object_get (cm, "data"), "other")), "1");
  json_decref (cm);
  free (path);
}

static void
test_real_errors (void **state)
{
  const char *ns = getenv ("KUBE_NS");
  char *want, *path;
  json_t *bad;

  /* 409 AlreadyExists */
  create_cm ("twice", "twice");
  bad = json_pack ("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                   "metadata", "name", "twice");
  ferry_clear_error ();
  assert_int_equal (kube_request (&k, "POST", NULL, cm_path, bad, NULL, NULL), 409);
  assert_true (asprintf (&want, "kubevirt: create configmaps in namespace %s: already exists", ns) > 0);
  assert_string_equal (ferry_get_error (), want);
  free (want);
  json_decref (bad);

  /* 404 */
  assert_true (asprintf (&path, "%s/absent", cm_path) > 0);
  assert_int_equal (kube_request (&k, "GET", NULL, path, NULL, NULL, NULL), 404);
  assert_true (asprintf (&want, "kubevirt: get configmaps absent in namespace %s: not found (configmaps \"absent\" not found)", ns) > 0);
  assert_string_equal (ferry_get_error (), want);
  free (want);
  free (path);

  /* 422 with the field */
  bad = json_pack ("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
                   "metadata", "name", "Bad_Name");
  assert_int_equal (kube_request (&k, "POST", NULL, cm_path, bad, NULL, NULL), 422);
  assert_non_null (strstr (ferry_get_error (), ": invalid: metadata.name: Invalid value: \"Bad_Name\""));
  json_decref (bad);
}

static int
never (const json_t *obj, void *opaque)
{
  return 0;
}

static void
test_wait_deadline (void **state)
{
  ferry_clear_error ();
  assert_int_equal (kube_wait (&k, "/api/v1/namespaces/default", 1, never, NULL,
                               "namespace default"), -1);
  assert_string_equal (ferry_get_error (),
                       "kubevirt: namespace default: still not ready after 1 seconds");
}

int
main (void)
{
  const char *url = getenv ("KUBE_URL"), *token = getenv ("KUBE_TOKEN");
  const char *ca = getenv ("KUBE_CA_BUNDLE"), *ns = getenv ("KUBE_NS");
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_tls_verified),
    cmocka_unit_test (test_pagination),
    cmocka_unit_test (test_update_conflict_retried),
    cmocka_unit_test (test_real_errors),
    cmocka_unit_test (test_wait_deadline),
  };
  int r;

  if (!url || !token || !ca || !ns) {
    printf ("SKIP: KUBE_URL, KUBE_TOKEN, KUBE_CA_BUNDLE, KUBE_NS not set (run by integration/test-kubevirt-module.sh)\n");
    return 77;
  }
  k.conn.server = strdup (url);
  k.conn.token = strdup (token);
  k.conn.ca_pem = kube_read_file ("CA", ca, NULL);
  assert_non_null (k.conn.ca_pem);
  snprintf (cm_path, sizeof cm_path, "/api/v1/namespaces/%s/configmaps", ns);
  r = cmocka_run_group_tests (tests, NULL, NULL);
  kube_conn_clear (&k.conn);
  return r;
}

/* Unit tests of the kubevirt destination's client pieces that need no
 * cluster: kubeconfig parsing (and its refusals), the in-cluster service
 * account, base64, and the sentences made from API Status objects.
 */
#include <config.h>

#include "unit/test-common.h"

#include <jansson.h>

#include "../../destinations/kubevirt/kubevirt.h"

/* "hello" and a PEM-looking text, base64. */
#define CA_TEXT "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"

static char *
b64 (const char *s)
{
  static const char tbl[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen (s), i, o = 0;
  char *out = malloc (n / 3 * 4 + 8);

  assert_non_null (out);
  for (i = 0; i < n; i += 3) {
    unsigned v = (unsigned char) s[i] << 16;
    if (i + 1 < n) v |= (unsigned char) s[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char) s[i + 2];
    out[o++] = tbl[(v >> 18) & 63];
    out[o++] = tbl[(v >> 12) & 63];
    out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  out[o] = '\0';
  return out;
}

static void
put_file (const char *path, const char *text)
{
  test_write_file (path, text, strlen (text), 0600);
}

static int
parse (const char *text, const char *base_dir, struct kube_conn *c)
{
  return kube_conn_parse_kubeconfig ("test-kubeconfig", text, strlen (text),
                                     base_dir, c);
}

static void
expect_refusal (const char *text, const char *base_dir, const char *message)
{
  struct kube_conn c = { 0 };

  ferry_clear_error ();
  assert_int_equal (parse (text, base_dir, &c), -1);
  if (strstr (ferry_get_error (), message) == NULL)
    fail_msg ("got \"%s\", wanted \"%s\"", ferry_get_error (), message);
  assert_null (c.server);
}

static void
test_kubeconfig_token_and_ca_data (void **state)
{
  char *ca = b64 (CA_TEXT), *text;
  struct kube_conn c = { 0 };

  assert_true (asprintf (&text,
    "apiVersion: v1\nkind: Config\ncurrent-context: work\n"
    "clusters:\n"
    "- name: other\n  cluster: {server: \"https://other:1\"}\n"
    "- name: prod\n  cluster:\n    server: https://api.example:6443/\n"
    "    certificate-authority-data: %s\n"
    "users:\n- name: me\n  user: {token: sekret}\n"
    "contexts:\n"
    "- name: home\n  context: {cluster: other, user: me}\n"
    "- name: work\n  context: {cluster: prod, user: me, namespace: vms}\n",
    ca) > 0);
  assert_int_equal (parse (text, "/nonexistent", &c), 0);
  assert_string_equal (c.server, "https://api.example:6443");
  assert_string_equal (c.token, "sekret");
  assert_string_equal (c.ca_pem, CA_TEXT);
  assert_string_equal (c.ns, "vms");
  assert_int_equal (c.insecure, 0);
  assert_null (c.cert_pem);
  kube_conn_clear (&c);
  free (text);
  free (ca);
}

/* Files named relative to the kubeconfig's directory; a client
 * certificate and key; tokenFile; insecure-skip-tls-verify.
 */
static void
test_kubeconfig_files (void **state)
{
  char dir[] = "/tmp/ferry-test-kubeconfig-XXXXXX";
  char *path;
  struct kube_conn c = { 0 };

  assert_non_null (mkdtemp (dir));
  assert_true (asprintf (&path, "%s/ca.pem", dir) > 0);
  put_file (path, CA_TEXT);
  free (path);
  assert_true (asprintf (&path, "%s/tok", dir) > 0);
  put_file (path, "filetoken\n");
  free (path);
  assert_true (asprintf (&path, "%s/client.crt", dir) > 0);
  put_file (path, "CERT");
  free (path);
  assert_true (asprintf (&path, "%s/client.key", dir) > 0);
  put_file (path, "KEY");
  free (path);
  assert_true (asprintf (&path, "%s/config", dir) > 0);
  put_file (path,
    "current-context: c\n"
    "clusters: [{name: k, cluster: {server: 'https://10.0.0.1', certificate-authority: ca.pem, insecure-skip-tls-verify: true}}]\n"
    "users: [{name: u, user: {tokenFile: tok, client-certificate: client.crt, client-key: client.key}}]\n"
    "contexts: [{name: c, context: {cluster: k, user: u}}]\n");
  assert_int_equal (kube_conn_from_kubeconfig (path, &c), 0);
  assert_string_equal (c.server, "https://10.0.0.1");
  assert_string_equal (c.ca_pem, CA_TEXT);
  assert_string_equal (c.token, "filetoken");
  assert_string_equal (c.cert_pem, "CERT");
  assert_string_equal (c.key_pem, "KEY");
  assert_int_equal (c.insecure, 1);
  assert_null (c.ns);
  kube_conn_clear (&c);

  /* KUBECONFIG picks the file (the first of a list). */
  {
    char *env;
    assert_true (asprintf (&env, "%s:/nonexistent", path) > 0);
    setenv ("KUBECONFIG", env, 1);
    assert_int_equal (kube_conn_from_kubeconfig (NULL, &c), 0);
    assert_string_equal (c.server, "https://10.0.0.1");
    kube_conn_clear (&c);
    unsetenv ("KUBECONFIG");
    free (env);
  }
  free (path);
  test_remove_tree (dir);
}

static void
test_kubeconfig_refusals (void **state)
{
  const char *users = "users: [{name: u, user: {token: t}}]\n";
  char *text;

  expect_refusal ("clusters: []\n", NULL, "no current-context");
  expect_refusal ("current-context: gone\ncontexts: [{name: c, context: {cluster: k}}]\n",
                  NULL, "current-context \"gone\" is not among its contexts");
  expect_refusal ("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n",
                  NULL, "context \"c\": cluster \"k\" not found");
  expect_refusal ("current-context: c\n"
                  "clusters: [{name: k, cluster: {server: 'http://plain:80'}}]\n"
                  "contexts: [{name: c, context: {cluster: k}}]\n",
                  NULL, "server must be an https:// URL");
  assert_true (asprintf (&text,
    "current-context: c\n"
    "clusters: [{name: k, cluster: {server: 'https://a', certificate-authority-data: 'not*base64!'}}]\n"
    "%scontexts: [{name: c, context: {cluster: k, user: u}}]\n", users) > 0);
  expect_refusal (text, NULL, "certificate-authority-data: not valid base64");
  free (text);
  expect_refusal ("current-context: c\n"
                  "clusters: [{name: k, cluster: {server: 'https://a', certificate-authority: missing.pem}}]\n"
                  "contexts: [{name: c, context: {cluster: k}}]\n",
                  "/nonexistent-dir", "/nonexistent-dir/missing.pem");
  expect_refusal ("current-context: c\n"
                  "clusters: [{name: k, cluster: {server: 'https://a'}}]\n"
                  "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n"
                  "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
                  NULL, "a client certificate needs its key");
  expect_refusal ("current-context: c\n"
                  "clusters: [{name: k, cluster: {server: 'https://a'}}]\n"
                  "contexts: [{name: c, context: {cluster: k, user: nobody}}]\n",
                  NULL, "user \"nobody\" not found");
  expect_refusal ("current-context: c\n"
                  "clusters: [{name: k, cluster: {server: 'https://a'}}]\n"
                  "users: [{name: u, user: {exec: {command: aws}}}]\n"
                  "contexts: [{name: c, context: {cluster: k, user: u}}]\n",
                  NULL, "exec and auth-provider credentials are not supported");
  expect_refusal ("- a\n- b\n", NULL, "not a kubeconfig");
  expect_refusal ("a: [\n", NULL, "test-kubeconfig");

  {
    struct kube_conn c = { 0 };
    ferry_clear_error ();
    assert_int_equal (kube_conn_from_kubeconfig ("/nonexistent/kubeconfig", &c), -1);
    assert_non_null (strstr (ferry_get_error (), "kubeconfig /nonexistent/kubeconfig"));
  }
}

static void
test_base64 (void **state)
{
  size_t len;
  char *s;

  s = kube_base64_decode ("aGVsbG8=", &len);
  assert_non_null (s);
  assert_int_equal (len, 5);
  assert_string_equal (s, "hello");
  free (s);
  s = kube_base64_decode ("aGVs\nbG8", &len);  /* no padding, a newline */
  assert_non_null (s);
  assert_string_equal (s, "hello");
  free (s);
  assert_null (kube_base64_decode ("aGVsbG8=x", NULL));   /* data after '=' */
  assert_null (kube_base64_decode ("a", NULL));           /* a lone sextet */
  assert_null (kube_base64_decode ("aGVsbG9=", NULL));    /* non-zero pad bits */
  assert_null (kube_base64_decode ("a-b_", NULL));        /* URL alphabet */
}

static void
test_in_cluster (void **state)
{
  char dir[] = "/tmp/ferry-test-sa-XXXXXX";
  char *path;
  struct kube_conn c = { 0 };

  assert_non_null (mkdtemp (dir));
  unsetenv ("KUBERNETES_SERVICE_HOST");
  ferry_clear_error ();
  assert_int_equal (kube_conn_in_cluster (dir, &c), -1);
  assert_non_null (strstr (ferry_get_error (), "KUBERNETES_SERVICE_HOST unset"));

  setenv ("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv ("KUBERNETES_SERVICE_PORT", "443", 1);
  ferry_clear_error ();
  assert_int_equal (kube_conn_in_cluster (dir, &c), -1);   /* no token file */
  assert_non_null (strstr (ferry_get_error (), "service account token"));

  assert_true (asprintf (&path, "%s/token", dir) > 0);
  put_file (path, "satoken\n");
  free (path);
  assert_true (asprintf (&path, "%s/ca.crt", dir) > 0);
  put_file (path, CA_TEXT);
  free (path);
  assert_true (asprintf (&path, "%s/namespace", dir) > 0);
  put_file (path, "ferry-system");
  free (path);
  assert_int_equal (kube_conn_in_cluster (dir, &c), 0);
  assert_string_equal (c.server, "https://10.96.0.1:443");
  assert_string_equal (c.token, "satoken");
  assert_string_equal (c.ca_pem, CA_TEXT);
  assert_string_equal (c.ns, "ferry-system");
  kube_conn_clear (&c);

  setenv ("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  assert_int_equal (kube_conn_in_cluster (dir, &c), 0);
  assert_string_equal (c.server, "https://[fd00::1]:443");
  kube_conn_clear (&c);
  unsetenv ("KUBERNETES_SERVICE_HOST");
  unsetenv ("KUBERNETES_SERVICE_PORT");
  test_remove_tree (dir);
}

static void
expect_status (const char *method, const char *path, long http,
               const char *body, const char *want)
{
  json_t *j = body ? json_loads (body, 0, NULL) : NULL;
  char *msg = kube_status_message (method, path, http, j, body);

  assert_non_null (msg);
  if (strcmp (msg, want) != 0)
    fail_msg ("got  \"%s\"\nwant \"%s\"", msg, want);
  free (msg);
  json_decref (j);
}

static void
test_status_messages (void **state)
{
  expect_status ("POST", "/apis/cdi.kubevirt.io/v1beta1/namespaces/vms/datavolumes", 403,
                 "{\"kind\":\"Status\",\"reason\":\"Forbidden\",\"message\":\"datavolumes.cdi.kubevirt.io is forbidden: User \\\"x\\\" cannot create resource\","
                 "\"details\":{\"group\":\"cdi.kubevirt.io\",\"kind\":\"datavolumes\"}}",
                 "kubevirt: forbidden: cannot create datavolumes.cdi.kubevirt.io in namespace vms "
                 "(datavolumes.cdi.kubevirt.io is forbidden: User \"x\" cannot create resource)");
  expect_status ("GET", "/api/v1/namespaces/vms/persistentvolumeclaims/disk-0", 404,
                 "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"persistentvolumeclaims \\\"disk-0\\\" not found\"}",
                 "kubevirt: get persistentvolumeclaims disk-0 in namespace vms: not found (persistentvolumeclaims \"disk-0\" not found)");
  expect_status ("GET", "/api/v1/namespaces/nope", 404,
                 "{\"kind\":\"Status\",\"reason\":\"NotFound\",\"message\":\"namespaces \\\"nope\\\" not found\"}",
                 "kubevirt: get namespaces nope: not found (namespaces \"nope\" not found)");
  expect_status ("POST", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines", 409,
                 "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"virtualmachines.kubevirt.io \\\"web\\\" already exists\"}",
                 "kubevirt: create virtualmachines.kubevirt.io in namespace vms: already exists");
  expect_status ("PUT", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines/web", 409,
                 "{\"kind\":\"Status\",\"reason\":\"Conflict\",\"message\":\"the object has been modified\"}",
                 "kubevirt: update virtualmachines.kubevirt.io web in namespace vms: conflict: the object was changed meanwhile (the object has been modified)");
  expect_status ("POST", "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines", 422,
                 "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"long\","
                 "\"details\":{\"causes\":[{\"field\":\"spec.template.spec.domain.cpu.cores\",\"message\":\"Invalid value: \\\"string\\\"\"},"
                 "{\"field\":\"metadata.name\",\"message\":\"Required value\"}]}}",
                 "kubevirt: create virtualmachines.kubevirt.io in namespace vms: invalid: "
                 "spec.template.spec.domain.cpu.cores: Invalid value: \"string\"; metadata.name: Required value");
  expect_status ("GET", "/apis", 401, "{\"kind\":\"Status\",\"reason\":\"Unauthorized\"}",
                 "kubevirt: GET /apis: unauthorized: the API server refused the token or client certificate (check the Provider's Secret)");
  expect_status ("DELETE", "/api/v1/namespaces/vms/secrets?labelSelector=a", 500, "<html>oops",
                 "kubevirt: deletecollection secrets in namespace vms: HTTP 500: <html>oops");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_kubeconfig_token_and_ca_data),
    cmocka_unit_test (test_kubeconfig_files),
    cmocka_unit_test (test_kubeconfig_refusals),
    cmocka_unit_test (test_base64),
    cmocka_unit_test (test_in_cluster),
    cmocka_unit_test (test_status_messages),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

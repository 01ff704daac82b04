/* Unit tests of core/manifest.c and ferry_apply on real manifests: every
 * example manifest of Forklift's migration documentation (filled in, in
 * tests/data/manifests/forklift/) applies cleanly, round-trips through
 * ferry_get and ferry_to_yaml, and re-applies as "unchanged"; kinds;
 * every semantic check, refused with file:line:col, path and reason.
 */
#include <config.h>

#include <dirent.h>
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

#include "internal.h"
#include "manifest.h"
#include "yaml.h"

#ifndef TOP_SRCDIR
#define TOP_SRCDIR "."
#endif
#include "test-common.h"

static int
setup (void **state)
{
  return ferry_fixture_setup (state, "manifest");
}

static int
teardown (void **state)
{
  return ferry_fixture_teardown (state);
}

/* ---- capturing warnings (the log goes to stderr) --------------------- */

static int saved_stderr = -1;
static char capture_path[64];

static void
capture_begin (void)
{
  int fd;
  strcpy (capture_path, "/tmp/ferry-test-log.XXXXXX");
  fd = mkstemp (capture_path);
  assert_true (fd >= 0);
  fflush (stderr);
  saved_stderr = dup (2);
  dup2 (fd, 2);
  close (fd);
}

/* Returns what was logged (caller frees). */
static char *
capture_end (void)
{
  FILE *fp;
  char *buf = calloc (1, 65536);
  fflush (stderr);
  dup2 (saved_stderr, 2);
  close (saved_stderr);
  fp = fopen (capture_path, "r");
  assert_non_null (fp);
  assert_non_null (buf);
  if (fread (buf, 1, 65535, fp) == 0)
    buf[0] = '\0';
  fclose (fp);
  unlink (capture_path);
  return buf;
}

/* ---- apply helpers ------------------------------------------------------- */

/* Apply text as file name; expect failure with every string of expect in
 * the error (NULL-terminated).
 */
static void
refused (struct ferry_fixture *fx, const char *name, const char *text, ...)
{
  va_list ap;
  const char *e;
  struct test_actions a = { .text = "" };

  ferry_clear_error ();
  capture_begin ();
  int r = ferry_apply_buffer (fx->f, name, text, strlen (text), NULL, 0,
                              test_record, &a);
  free (capture_end ());
  if (r != -1) {
    fprintf (stderr, "%s was applied but should not have been:\n%s", name, text);
    fail ();
  }
  assert_string_equal (a.text, "");
  va_start (ap, text);
  while ((e = va_arg (ap, const char *)) != NULL) {
    if (!strstr (ferry_get_error (), e)) {
      fprintf (stderr, "error:\n%s\nlacks:\n%s\n", ferry_get_error (), e);
      fail ();
    }
  }
  va_end (ap);
}

/* ---- the documentation's manifests ------------------------------------ */

/* Every object of path, as checked by the parser (for comparing). */
static json_t *
checked_objects (const char *path)
{
  int fd = open (path, O_RDONLY);
  struct stat st;
  char *buf;
  struct ferry_yaml_doc *docs;
  size_t n;
  json_t *out = json_array ();
  struct ferry_diag diag = { 0 };

  assert_true (fd >= 0);
  assert_int_equal (fstat (fd, &st), 0);
  buf = malloc (st.st_size + 1);
  assert_int_equal (read (fd, buf, st.st_size), st.st_size);
  close (fd);
  assert_int_equal (ferry_internal_yaml_parse (path, buf, st.st_size, &docs, &n), 0);
  for (size_t i = 0; i < n; ++i) {
    struct ferry_manifest m;
    int r = ferry_internal_manifest_check (path, &docs[i], n, NULL, &diag, &m);
    if (r == 1)
      continue;
    if (r != 0)
      fprintf (stderr, "%s\n", diag.nerrors ? diag.errors[0] : "?");
    assert_int_equal (r, 0);
    json_array_append_new (out, json_pack ("{s:s,s:s,s:s,s:O,s:O*,s:O*}",
                                           "kind", m.kind, "ns", m.ns,
                                           "name", m.name, "spec", m.spec,
                                           "metadata", m.metadata,
                                           "data", m.data));
    ferry_internal_manifest_clear (&m);
  }
  ferry_internal_diag_clear (&diag);
  ferry_internal_yaml_docs_free (docs, n);
  free (buf);
  return out;
}

static void
apply_and_round_trip (struct ferry_fixture *fx, const char *path)
{
  CLEANUP_JSON_DECREF json_t *objs = checked_objects (path);
  struct test_actions a = { .text = "" }, b = { .text = "" };
  CLEANUP_FREE char *log = NULL;
  size_t i;
  json_t *o;

  capture_begin ();
  int r = ferry_apply (fx->f, path, NULL, 0, test_record, &a);
  log = capture_end ();
  if (r == -1)
    fprintf (stderr, "%s: %s\n", path, ferry_get_error ());
  assert_int_equal (r, 0);
  /* Clean: no warning at all for the documentation's manifests. */
  if (strstr (log, "warn")) {
    fprintf (stderr, "%s: unexpected warnings:\n%s", path, log);
    fail ();
  }
  assert_int_equal ((size_t) (a.created + a.configured),
                    json_array_size (objs));

  json_array_foreach (objs, i, o) {
    const char *kind = json_string_value (json_object_get (o, "kind"));
    const char *ns = json_string_value (json_object_get (o, "ns"));
    const char *name = json_string_value (json_object_get (o, "name"));
    CLEANUP_JSON_DECREF json_t *got =
      ferry_get (fx->f, kind, ns, name, FERRY_GET_SECRET_VALUES);
    CLEANUP_FREE char *yaml = NULL;
    struct ferry_yaml_doc *docs;
    size_t n;
    struct test_actions c = { .text = "" };

    if (!got)
      fprintf (stderr, "get %s %s/%s: %s\n", kind, ns, name, ferry_get_error ());
    assert_non_null (got);
    if (strcmp (kind, "Secret") == 0) {
      assert_true (json_equal (json_object_get (got, "type"),
                               json_object_get (json_object_get (o, "spec"), "type")));
      assert_int_equal (json_object_size (json_object_get (got, "data")),
                        json_object_size (json_object_get (o, "data")));
    }
    else if (!json_equal (json_object_get (got, "spec"), json_object_get (o, "spec"))) {
      CLEANUP_FREE char *g = json_dumps (json_object_get (got, "spec"), JSON_SORT_KEYS);
      CLEANUP_FREE char *w = json_dumps (json_object_get (o, "spec"), JSON_SORT_KEYS);
      fprintf (stderr, "%s %s/%s: stored spec\n%s\ndiffers from\n%s\n", kind, ns, name, g, w);
      fail ();
    }
    if (json_object_get (o, "metadata"))
      assert_true (json_equal (json_object_get (json_object_get (got, "metadata"), "labels"),
                               json_object_get (json_object_get (o, "metadata"), "labels")));

    /* get -o yaml, read back: the same object. */
    yaml = ferry_to_yaml (got);
    assert_non_null (yaml);
    assert_int_equal (ferry_internal_yaml_parse ("get.yaml", yaml, strlen (yaml),
                                                 &docs, &n), 0);
    assert_int_equal (n, 1);
    if (!json_equal (docs[0].value, got)) {
      fprintf (stderr, "get -o yaml of %s %s/%s does not read back:\n%s", kind,
               ns, name, yaml);
      fail ();
    }
    ferry_internal_yaml_docs_free (docs, n);

    /* ... and re-applying what get printed changes nothing. */
    capture_begin ();
    r = ferry_apply_buffer (fx->f, "get.yaml", yaml, strlen (yaml), NULL, 0,
                            test_record, &c);
    free (capture_end ());
    if (r == -1)
      fprintf (stderr, "re-apply of get output: %s\n%s", ferry_get_error (), yaml);
    assert_int_equal (r, 0);
    assert_int_equal (c.unchanged, 1);
  }

  /* Re-applying the file: every object unchanged. */
  capture_begin ();
  r = ferry_apply (fx->f, path, NULL, 0, test_record, &b);
  free (capture_end ());
  assert_int_equal (r, 0);
  assert_int_equal (b.created + b.configured, 0);
  assert_int_equal ((size_t) b.unchanged, json_array_size (objs));
}

static void
test_forklift_docs (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char *const dirs[] = {
    "vsphere", "ovirt", "openstack", "ova", "openshift", "common",
  };
  size_t files = 0;

  for (size_t d = 0; d < sizeof dirs / sizeof dirs[0]; ++d) {
    char dir[4096];
    struct dirent **list;
    int n;
    snprintf (dir, sizeof dir, "%s/tests/data/manifests/forklift/%s",
              test_srcdir (), dirs[d]);
    n = scandir (dir, &list, NULL, alphasort);
    assert_true (n > 0);
    for (int i = 0; i < n; ++i) {
      char path[8192];
      if (list[i]->d_name[0] != '.') {
        snprintf (path, sizeof path, "%s/%s", dir, list[i]->d_name);
        apply_and_round_trip (fx, path);
        files++;
      }
      free (list[i]);
    }
    free (list);
  }
  assert_true (files >= 35);
}

/* A directory applies as one unit, in name order. */
static void
test_forklift_docs_dir (void **state)
{
  struct ferry_fixture *fx = *state;
  char dir[4096];
  struct test_actions a = { .text = "" };

  snprintf (dir, sizeof dir, "%s/tests/data/manifests/forklift/vsphere",
            test_srcdir ());
  capture_begin ();
  int r = ferry_apply (fx->f, dir, NULL, 0, test_record, &a);
  free (capture_end ());
  if (r == -1)
    fprintf (stderr, "%s\n", ferry_get_error ());
  assert_int_equal (r, 0);
  assert_int_equal (a.created, 13);
  assert_non_null (strstr (a.text, "created Secret konveyor-forklift/vsphere-credentials\n"
                           "created Provider konveyor-forklift/vsphere\n"));
}

/* ---- kinds --------------------------------------------------------------- */

static void
test_kinds (void **state)
{
  const char *const *k = ferry_kinds ();
  static const char *const want[] = {
    "Provider", "Host", "NetworkMap", "StorageMap", "Plan", "Migration", "Hook",
    "Secret",
  };
  for (size_t i = 0; i < 8; ++i)
    assert_string_equal (k[i], want[i]);
  assert_null (k[8]);

  assert_string_equal (ferry_kind_canonical ("Plan"), "Plan");
  assert_string_equal (ferry_kind_canonical ("plan"), "Plan");
  assert_string_equal (ferry_kind_canonical ("plans"), "Plan");
  assert_string_equal (ferry_kind_canonical ("PLANS"), "Plan");
  assert_string_equal (ferry_kind_canonical ("plan.forklift.konveyor.io"), "Plan");
  assert_string_equal (ferry_kind_canonical ("plans.v1beta1.forklift.konveyor.io"), "Plan");
  assert_string_equal (ferry_kind_canonical ("networkmaps"), "NetworkMap");
  assert_string_equal (ferry_kind_canonical ("StorageMap"), "StorageMap");
  assert_string_equal (ferry_kind_canonical ("secret"), "Secret");
  assert_string_equal (ferry_kind_canonical ("Secrets"), "Secret");
  assert_string_equal (ferry_kind_canonical ("hook"), "Hook");
  assert_string_equal (ferry_kind_canonical ("migrations"), "Migration");
  assert_string_equal (ferry_kind_canonical ("host"), "Host");
  assert_string_equal (ferry_kind_canonical ("providers"), "Provider");

  assert_null (ferry_kind_canonical ("vm"));
  assert_string_equal (ferry_get_error (),
                       "unknown kind \"vm\"; ferry knows Provider, Host, "
                       "NetworkMap, StorageMap, Plan, Migration, Hook, Secret");
  assert_null (ferry_kind_canonical ("plan.example.com"));
  assert_null (ferry_kind_canonical ("secret.forklift.konveyor.io"));
  assert_null (ferry_kind_canonical (""));
  assert_null (ferry_kind_canonical (NULL));
}

static void
test_names (void **state)
{
  assert_true (ferry_internal_is_dns1123_subdomain ("a"));
  assert_true (ferry_internal_is_dns1123_subdomain ("my-plan.v2"));
  assert_false (ferry_internal_is_dns1123_subdomain ("My-Plan"));
  assert_false (ferry_internal_is_dns1123_subdomain ("-a"));
  assert_false (ferry_internal_is_dns1123_subdomain ("a."));
  assert_false (ferry_internal_is_dns1123_subdomain ("a..b"));
  assert_false (ferry_internal_is_dns1123_subdomain ("a_b"));
  assert_false (ferry_internal_is_dns1123_subdomain (""));
  assert_true (ferry_internal_is_dns1123_label ("openshift-mtv"));
  assert_false (ferry_internal_is_dns1123_label ("a.b"));
  assert_false (ferry_internal_is_dns1123_label
                ("a123456789012345678901234567890123456789012345678901234567890123"));
}

/* ---- refusals -------------------------------------------------------- */

#define PLAN_HEAD \
  "apiVersion: forklift.konveyor.io/v1beta1\n" \
  "kind: Plan\n" \
  "metadata:\n" \
  "  name: p\n" \
  "spec:\n" \
  "  provider: {source: {name: s}, destination: {name: d}}\n" \
  "  map: {network: {name: nmap}, storage: {name: smap}}\n" \
  "  targetNamespace: t\n"

static void
test_refuse_kind_api (void **state)
{
  struct ferry_fixture *fx = *state;

  refused (fx, "k.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: VirtualMachine\n"
           "metadata: {name: x}\n",
           "k.yaml:2:1: kind: unknown kind \"VirtualMachine\"; ferry knows Provider, "
           "Host, NetworkMap, StorageMap, Plan, Migration, Hook, Secret", NULL);
  refused (fx, "k.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: plan\n"
           "metadata: {name: x}\n",
           "k.yaml:2:1: kind: unknown kind \"plan\"; did you mean \"Plan\"?", NULL);
  refused (fx, "k.yaml", "apiVersion: v1\nkind: Plan\nmetadata: {name: x}\n",
           "k.yaml:1:1: apiVersion: apiVersion \"v1\" does not serve kind Plan; "
           "use apiVersion: forklift.konveyor.io/v1beta1", NULL);
  refused (fx, "k.yaml", "apiVersion: forklift.konveyor.io/v1alpha1\nkind: Secret\n"
           "metadata: {name: x}\n",
           "k.yaml:1:1: apiVersion: apiVersion \"forklift.konveyor.io/v1alpha1\" "
           "does not serve kind Secret; use apiVersion: v1", NULL);
  refused (fx, "k.yaml", "kind: Hook\nmetadata: {name: x}\n",
           "k.yaml:1:1: missing required field \"apiVersion\"; use apiVersion: "
           "forklift.konveyor.io/v1beta1", NULL);
  refused (fx, "k.yaml", "apiVersion: v1\nmetadata: {name: x}\n",
           "k.yaml:1:1: missing required field \"kind\"", NULL);
  refused (fx, "k.yaml", "- just\n- a list\n",
           "k.yaml:1:1: the document is a list, not a mapping with apiVersion, "
           "kind, metadata and spec", NULL);
}

static void
test_refuse_metadata (void **state)
{
  struct ferry_fixture *fx = *state;

  refused (fx, "m.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
           "spec: {image: x}\n",
           "m.yaml:1:1: missing required field \"metadata\"", NULL);
  refused (fx, "m.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
           "metadata:\n  namespace: ns\n",
           "m.yaml:3:1: metadata: missing required field \"name\"", NULL);
  refused (fx, "m.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
           "metadata:\n  name: My_Hook\n",
           "m.yaml:4:3: metadata.name: \"My_Hook\" is not a valid name: use a "
           "DNS-1123 subdomain", NULL);
  refused (fx, "m.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
           "metadata:\n  name: h\n  namespace: a.b\n",
           "m.yaml:5:3: metadata.namespace: \"a.b\" is not a valid namespace: "
           "use a DNS-1123 label", NULL);
  refused (fx, "m.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
           "metadata:\n  name: h\n  labels:\n    app: 5\n",
           "m.yaml:6:5: metadata.labels.app: expected a string, got an integer "
           "(quote it)", NULL);
  refused (fx, "m.yaml", "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\n"
           "metadata:\n  name: h\n  labels:\n    app: \"not ok!\"\n",
           "m.yaml:6:5: metadata.labels.app: \"not ok!\" is not a valid label value",
           NULL);
}

static void
test_refuse_plan (void **state)
{
  struct ferry_fixture *fx = *state;

  refused (fx, "plan.yaml", PLAN_HEAD "  vms:\n  - id: vm-1\n  - targetName: x\n",
           "plan.yaml:11:5: spec.vms[1]: needs id or name", NULL);
  /* Flow style: the column of the item. */
  refused (fx, "plan.yaml", PLAN_HEAD "  vms: [{id: a}, {targetName: b}]\n",
           "plan.yaml:9:18: spec.vms[1]: needs id or name", NULL);
  refused (fx, "plan.yaml", PLAN_HEAD "  warm: yes please\n  vms: [{id: a}]\n",
           "plan.yaml:9:3: spec.warm: expected a boolean (true or false), got "
           "string \"yes please\" (write true or false without quotes)", NULL);
  refused (fx, "plan.yaml", PLAN_HEAD "  type: fast\n  vms: [{id: a}]\n",
           "plan.yaml:9:3: spec.type: unsupported value: string \"fast\"; must be "
           "one of [\"cold\",\"warm\",\"live\",\"conversion\"]", NULL);
  refused (fx, "plan.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Plan\nmetadata:\n"
           "  name: p\nspec:\n  warm: true\n",
           "plan.yaml:5:1: spec: missing required field \"map\"",
           "plan.yaml:5:1: spec: missing required field \"provider\"",
           "plan.yaml:5:1: spec: missing required field \"targetNamespace\"",
           "plan.yaml:5:1: spec: missing required field \"vms\"",
           "4 errors in plan.yaml; nothing was applied", NULL);
  refused (fx, "plan.yaml", PLAN_HEAD "  serviceAccount: Bad_SA\n  vms: [{id: a}]\n",
           "plan.yaml:9:3: spec.serviceAccount: string \"Bad_SA\" does not match "
           "the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", NULL);
  refused (fx, "plan.yaml", PLAN_HEAD "  targetLabels: [a, b]\n  vms: [{id: a}]\n",
           "plan.yaml:9:3: spec.targetLabels: expected a mapping (object), got a list",
           NULL);
}

static void
test_refuse_migration (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char head[] =
    "apiVersion: forklift.konveyor.io/v1beta1\nkind: Migration\n"
    "metadata: {name: m}\nspec:\n  plan: {name: p}\n";
  char buf[512];

  snprintf (buf, sizeof buf, "%s  cutover: 2024-04-04T01:23:45\n", head);
  refused (fx, "mig.yaml", buf,
           "mig.yaml:6:3: spec.cutover: \"2024-04-04T01:23:45\" is not an ISO 8601 "
           "/ RFC 3339 time with a UTC offset; write for example "
           "2024-04-04T01:23:45.678+09:00", NULL);
  snprintf (buf, sizeof buf, "%s  cutover: next tuesday\n", head);
  refused (fx, "mig.yaml", buf,
           "mig.yaml:6:3: spec.cutover: string \"next tuesday\" is not a date-time",
           NULL);
  snprintf (buf, sizeof buf, "%s  cancel:\n  - namespace: x\n", head);
  refused (fx, "mig.yaml", buf, "mig.yaml:7:5: spec.cancel[0]: needs id or name",
           NULL);
  refused (fx, "mig.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Migration\n"
           "metadata: {name: m}\nspec: {}\n",
           "mig.yaml:4:1: spec: missing required field \"plan\"", NULL);
}

static void
test_refuse_maps (void **state)
{
  struct ferry_fixture *fx = *state;

  refused (fx, "nm.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: NetworkMap\n"
           "metadata: {name: nm}\nspec:\n  provider: {source: {name: s}, destination: {name: d}}\n"
           "  map:\n  - destination: {type: bridge}\n    source: {name: x}\n",
           "nm.yaml:7:19: spec.map[0].destination.type: unsupported value: string "
           "\"bridge\"; must be one of [\"pod\",\"multus\",\"ignored\"]", NULL);
  refused (fx, "nm.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: NetworkMap\n"
           "metadata: {name: nm}\nspec:\n  provider: {source: {name: s}, destination: {name: d}}\n"
           "  map:\n  - destination: {type: pod}\n    source: {vlan: \"5000\"}\n",
           "nm.yaml:8:14: spec.map[0].source.vlan: string \"5000\" does not match "
           "the pattern", NULL);
  refused (fx, "sm.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: StorageMap\n"
           "metadata: {name: s}\nspec:\n  provider: {source: {name: s}, destination: {name: d}}\n"
           "  map:\n  - destination: {storageClass: sc, accessMode: ReadWriteSometimes}\n"
           "    source: {id: ds-1}\n",
           "sm.yaml:7:37: spec.map[0].destination.accessMode: unsupported value: "
           "string \"ReadWriteSometimes\"", NULL);
  refused (fx, "sm.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: StorageMap\n"
           "metadata: {name: s}\nspec:\n  provider: {source: {name: s}, destination: {name: d}}\n"
           "  map:\n  - destination: {storageClass: sc}\n"
           "    offloadPlugin: {vsphereXcopyConfig: {secretRef: x, storageVendorProduct: acme}}\n"
           "    source: {id: ds-1}\n",
           "sm.yaml:8:56: spec.map[0].offloadPlugin.vsphereXcopyConfig.storageVendorProduct: "
           "unsupported value: string \"acme\"", NULL);
  refused (fx, "p.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n"
           "metadata: {name: p}\nspec: {url: \"https://x\"}\n",
           "p.yaml:4:1: spec: missing required field \"secret\"",
           "p.yaml:4:1: spec: missing required field \"type\"", NULL);
  refused (fx, "h.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Host\n"
           "metadata: {name: h}\nspec:\n  id: host-1\n  ipAddress: 10.0.0.1\n"
           "  provider: {name: v}\n",
           "h.yaml:4:1: spec: missing required field \"secret\"", NULL);
}

static void
test_refuse_secret (void **state)
{
  struct ferry_fixture *fx = *state;

  refused (fx, "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
           "data:\n  user: YWRtaW4=\n  password: not*base64\n",
           "s.yaml:6:3: data.password: the value of key \"password\" is not "
           "valid base64 (put plain text under stringData instead)", NULL);
  refused (fx, "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
           "data:\n  blob: AGJj\n",
           "s.yaml:5:3: data.blob: the value of key \"blob\" decodes to bytes "
           "that hold a NUL; ferry keeps Secret values as text", NULL);
  refused (fx, "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
           "stringData:\n  insecureSkipVerify: true\n",
           "s.yaml:5:3: stringData.insecureSkipVerify: expected a string, got a "
           "boolean (quote the value)", NULL);
  refused (fx, "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
           "stringData:\n  k: \"a\\0b\"\n",
           "s.yaml:5:3: stringData.k: the value of key \"k\" holds a NUL character",
           NULL);
  refused (fx, "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
           "stringData:\n  \"bad key\": x\n",
           "s.yaml:5:3: stringData.bad key: \"bad key\" is not a valid key", NULL);
}

/* Several documents: all errors, each with its document number. */
static void
test_refuse_all_errors (void **state)
{
  struct ferry_fixture *fx = *state;

  refused (fx, "multi.yaml",
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata: {name: ok}\n"
           "---\n"
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata: {name: Bad}\n"
           "---\n"
           "apiVersion: forklift.konveyor.io/v1beta1\nkind: Migration\n"
           "metadata: {name: m}\nspec: {plan: {name: p}, cutover: yesterday}\n",
           "multi.yaml:7:12: document 2: metadata.name: \"Bad\" is not a valid name",
           "multi.yaml:12:25: document 3: spec.cutover: string \"yesterday\" is "
           "not a date-time",
           "2 errors in multi.yaml; nothing was applied", NULL);
}

static void
test_unknown_fields_warn (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char text[] =
    "apiVersion: forklift.konveyor.io/v1beta1\n"
    "kind: Hook\n"
    "metadata:\n"
    "  name: h\n"
    "  colour: red\n"
    "spec:\n"
    "  image: quay.io/kubev2v/hook-runner\n"
    "  imagePullPolicy: Always\n"
    "extra: 1\n";
  struct test_actions a = { .text = "" };
  CLEANUP_FREE char *log = NULL;
  CLEANUP_JSON_DECREF json_t *got = NULL;

  capture_begin ();
  int r = ferry_apply_buffer (fx->f, "hook.yaml", text, strlen (text), "team-a",
                              0, test_record, &a);
  log = capture_end ();
  assert_int_equal (r, 0);
  assert_string_equal (a.text, "created Hook team-a/h\n");
  assert_non_null (strstr (log, "warn: hook.yaml:5:3: metadata.colour: unknown field "
                           "\"colour\" (not in ObjectMeta): dropped, as Kubernetes "
                           "prunes unknown fields"));
  assert_non_null (strstr (log, "warn: hook.yaml:8:3: spec.imagePullPolicy: unknown "
                           "field \"imagePullPolicy\" (not in the Hook schema): dropped, "
                           "as Kubernetes prunes unknown fields"));
  assert_non_null (strstr (log, "warn: hook.yaml:9:1: extra: unknown field \"extra\" "
                           "(not in Hook): dropped"));
  got = ferry_get (fx->f, "Hook", "team-a", "h", 0);
  assert_non_null (got);
  assert_null (json_object_get (json_object_get (got, "spec"), "imagePullPolicy"));
  assert_string_equal (json_string_value (json_object_get (json_object_get (got, "spec"),
                                                           "image")),
                       "quay.io/kubev2v/hook-runner");
}

/* Forklift's CRD defaults are applied to what is stored, as Kubernetes
 * does; given values win.
 */
static void
test_plan_defaults (void **state)
{
  struct ferry_fixture *fx = *state;
  static const char text[] = PLAN_HEAD "  preserveStaticIPs: false\n  vms: [{id: vm-1}]\n";
  CLEANUP_JSON_DECREF json_t *got = NULL;
  json_t *spec;

  assert_int_equal (ferry_apply_buffer (fx->f, "p.yaml", text, strlen (text), NULL,
                                        0, NULL, NULL), 0);
  got = ferry_get (fx->f, "Plan", "default", "p", 0);
  assert_non_null (got);
  spec = json_object_get (got, "spec");
  assert_true (json_is_true (json_object_get (spec, "migrateSharedDisks")));
  assert_true (json_is_false (json_object_get (spec, "skipGuestConversion")));
  assert_true (json_is_false (json_object_get (spec, "preserveStaticIPs")));
  assert_string_equal (json_string_value (json_object_get (spec, "targetNamespace")), "t");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE_TEST (test_forklift_docs),
    FIXTURE_TEST (test_forklift_docs_dir),
    cmocka_unit_test (test_kinds),
    cmocka_unit_test (test_names),
    FIXTURE_TEST (test_refuse_kind_api),
    FIXTURE_TEST (test_refuse_metadata),
    FIXTURE_TEST (test_refuse_plan),
    FIXTURE_TEST (test_refuse_migration),
    FIXTURE_TEST (test_refuse_maps),
    FIXTURE_TEST (test_refuse_secret),
    FIXTURE_TEST (test_refuse_all_errors),
    FIXTURE_TEST (test_unknown_fields_warn),
    FIXTURE_TEST (test_plan_defaults),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

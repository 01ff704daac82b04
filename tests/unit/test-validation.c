/* Plan validation through libferry: manifests stored with
 * ferry_apply_buffer, sources from the null provider and from the
 * "scripted" test provider (tests/modules/scripted-provider.c, whose
 * inventory is given in its settings), destinations from the null
 * destination.  Each test asserts the condition types a plan gets (and
 * does not get), with category, a message substring and items.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <sqlite3.h>

#include <ferry/ferry.h>

#include "test-common.h"

static char tmp[] = "/tmp/ferry-test-validation.XXXXXX";

static void
apply (struct ferry *f, const char *yaml)
{
  if (ferry_apply_buffer (f, "test", yaml, strlen (yaml), "default", 0, NULL, NULL) == -1)
    fail_msg ("apply: %s", ferry_get_error ());
}

/* The scripted source's inventory: vm-a "Web Server" (name to rename,
 * zero-sized disk, critical concern), vm-b "db" (powered on, MAC of
 * vm-a in upper case, a shared data disk), vm-c "ok", vm-d "boot"
 * (shared boot disk), vm-e "Fine Name" (only a name to rename).
 */
#define SCRIPTED_INVENTORY \
  "{\"networks\": [{\"id\": \"net-1\", \"name\": \"lan\"}]," \
  " \"storages\": [{\"id\": \"ds-1\", \"name\": \"ds\"}]," \
  " \"vms\": [" \
  "  {\"id\": \"vm-a\", \"name\": \"Web Server\", \"powerState\": \"poweredOff\"," \
  "   \"concerns\": [{\"category\": \"Critical\", \"label\": \"Unsupported disk\"," \
  "                   \"assessment\": \"RDM disks cannot be migrated\"}," \
  "                  {\"category\": \"Warning\", \"label\": \"Harmless\", \"assessment\": \"x\"}]," \
  "   \"nics\": [{\"mac\": \"00:11:22:33:44:55\", \"network\": {\"id\": \"net-1\"}}]," \
  "   \"disks\": [{\"id\": \"d-a0\", \"capacity\": 0, \"datastore\": {\"id\": \"ds-1\"}}]}," \
  "  {\"id\": \"vm-b\", \"name\": \"db\", \"powerState\": \"poweredOn\"," \
  "   \"nics\": [{\"mac\": \"00:11:22:33:44:55\", \"network\": {\"id\": \"net-1\"}}]," \
  "   \"disks\": [{\"id\": \"d-b0\", \"capacity\": 1048576, \"datastore\": {\"id\": \"ds-1\"}}," \
  "               {\"id\": \"d-b1\", \"capacity\": 1048576, \"shared\": true," \
  "                \"file\": \"[ds] shared.vmdk\", \"datastore\": {\"id\": \"ds-1\"}}]}," \
  "  {\"id\": \"vm-c\", \"name\": \"ok\", \"powerState\": \"poweredOff\"," \
  "   \"nics\": [{\"mac\": \"00:11:22:33:44:66\", \"network\": {\"id\": \"net-1\"}}]," \
  "   \"disks\": [{\"id\": \"d-c0\", \"capacity\": 1048576, \"datastore\": {\"id\": \"ds-1\"}}]}," \
  "  {\"id\": \"vm-d\", \"name\": \"boot\", \"powerState\": \"poweredOff\"," \
  "   \"disks\": [{\"id\": \"d-d0\", \"capacity\": 1048576, \"shared\": true," \
  "                \"datastore\": {\"id\": \"ds-1\"}}]}," \
  "  {\"id\": \"vm-e\", \"name\": \"Fine Name\", \"powerState\": \"poweredOff\"," \
  "   \"disks\": [{\"id\": \"d-e0\", \"capacity\": 1048576, \"datastore\": {\"id\": \"ds-1\"}}]}" \
  " ]}"

static const char base_yaml[] =
  "apiVersion: v1\n"
  "kind: Secret\n"
  "metadata: {name: creds}\n"
  "type: Opaque\n"
  "stringData: {user: u}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: Provider\n"
  "metadata: {name: src}\n"
  "spec: {type: \"null\", url: \"null://\", secret: {name: creds},\n"
  "       settings: {vms: \"3\", disksPerVm: \"2\"}}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: Provider\n"
  "metadata: {name: dst}\n"
  "spec: {type: \"null\", secret: {name: creds}}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: Provider\n"
  "metadata: {name: vs}\n"
  "spec: {type: vsphere, url: \"https://vc/sdk\", secret: {name: creds}}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: NetworkMap\n"
  "metadata: {name: net}\n"
  "spec:\n"
  "  provider: {source: {name: src}, destination: {name: dst}}\n"
  "  map: [{source: {name: VM Network}, destination: {type: pod}}]\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: NetworkMap\n"
  "metadata: {name: net-bad}\n"
  "spec:\n"
  "  provider: {source: {name: src}, destination: {name: dst}}\n"
  "  map:\n"
  "    - {source: {name: Storage Network}, destination: {type: pod}}\n"
  "    - {source: {name: No Such Net}, destination: {type: pod}}\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: StorageMap\n"
  "metadata: {name: st}\n"
  "spec:\n"
  "  provider: {source: {name: src}, destination: {name: dst}}\n"
  "  map: [{source: {id: datastore-1}, destination: {storageClass: standard}}]\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: StorageMap\n"
  "metadata: {name: st-bad}\n"
  "spec:\n"
  "  provider: {source: {name: src}, destination: {name: dst}}\n"
  "  map: [{source: {id: datastore-9}, destination: {storageClass: standard}}]\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: Hook\n"
  "metadata: {name: hook1}\n"
  "spec: {image: quay.io/konveyor/hook-runner, playbook: \"\"}\n";

static const char scripted_yaml[] =
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: Provider\n"
  "metadata: {name: scr}\n"
  "spec:\n"
  "  type: scripted\n"
  "  secret: {name: creds}\n"
  "  settings:\n"
  "    inventory: '" SCRIPTED_INVENTORY "'\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: Provider\n"
  "metadata: {name: scr-warm}\n"
  "spec:\n"
  "  type: scripted\n"
  "  secret: {name: creds}\n"
  "  settings:\n"
  "    canWarm: \"true\"\n"
  "    inventory: '" SCRIPTED_INVENTORY "'\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: NetworkMap\n"
  "metadata: {name: snet}\n"
  "spec:\n"
  "  provider: {source: {name: scr}, destination: {name: dst}}\n"
  "  map: [{source: {name: lan}, destination: {type: pod}}]\n"
  "---\n"
  "apiVersion: forklift.konveyor.io/v1beta1\n"
  "kind: StorageMap\n"
  "metadata: {name: sst}\n"
  "spec:\n"
  "  provider: {source: {name: scr}, destination: {name: dst}}\n"
  "  map: [{source: {name: ds}, destination: {storageClass: standard}}]\n";

static int
setup (void **state)
{
  char path[4096];
  const char *b = TEST_BUILDDIR;

  if (!mkdtemp (tmp))
    return -1;
  snprintf (path, sizeof path,
            "%s/providers/null/.libs:%s/destinations/null/.libs:%s/tests/modules/scripted/.libs",
            b, b, b);
  struct ferry *f = test_open_modules (tmp, path);
  if (!f)
    return -1;
  if (!ferry_get0_provider (f, "scripted") || !ferry_get0_provider (f, "null")
      || !ferry_get0_destination (f, "null")) {
    fprintf (stderr, "test modules not found in %s\n", path);
    ferry_close (f);
    return -1;
  }
  apply (f, base_yaml);
  apply (f, scripted_yaml);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  ferry_close (*state);
  test_sh ("rm -rf %s", tmp);
  return 0;
}

/* Store Plan name with this spec (YAML lines indented by 2) and validate. */
static json_t *
validate (struct ferry *f, const char *name, const char *spec)
{
  char *yaml = NULL;
  assert_true (asprintf (&yaml,
                         "apiVersion: forklift.konveyor.io/v1beta1\n"
                         "kind: Plan\n"
                         "metadata: {name: %s}\n"
                         "spec:\n%s", name, spec) > 0);
  apply (f, yaml);
  free (yaml);
  json_t *conds = ferry_plan_validate (f, "default", name);
  if (!conds)
    fail_msg ("validate %s: %s", name, ferry_get_error ());
  assert_true (json_is_array (conds));
  return conds;
}

static const json_t *
find (const json_t *conds, const char *type)
{
  const json_t *c;
  size_t i;
  json_array_foreach (conds, i, c)
    if (strcmp (json_string_value (json_object_get (c, "type")), type) == 0)
      return c;
  return NULL;
}

static void
dump (const json_t *conds)
{
  char *s = json_dumps (conds, JSON_INDENT (2));
  fprintf (stderr, "%s\n", s ? s : "");
  free (s);
}

/* Condition type must be there with category, a message containing msg
 * and (if item is not NULL) an item containing item.
 */
static void
expect (const json_t *conds, const char *type, const char *category,
        const char *msg, const char *item)
{
  const json_t *c = find (conds, type);
  if (!c) {
    dump (conds);
    fail_msg ("condition %s missing", type);
  }
  assert_string_equal (json_string_value (json_object_get (c, "status")), "True");
  assert_string_equal (json_string_value (json_object_get (c, "category")), category);
  assert_non_null (json_string_value (json_object_get (c, "lastTransitionTime")));
  const char *m = json_string_value (json_object_get (c, "message"));
  if (!m || !strstr (m, msg)) {
    dump (conds);
    fail_msg ("%s: message '%s' lacks '%s'", type, m ? m : "", msg);
  }
  if (item) {
    const json_t *it;
    size_t i;
    bool found = false;
    json_array_foreach (json_object_get (c, "items"), i, it)
      if (strstr (json_string_value (it), item))
        found = true;
    if (!found) {
      dump (conds);
      fail_msg ("%s: no item containing '%s'", type, item);
    }
  }
}

static void
expect_not (const json_t *conds, const char *type)
{
  if (find (conds, type)) {
    dump (conds);
    fail_msg ("condition %s should not be there", type);
  }
}

#define GOOD_HEAD \
  "  provider: {source: {name: src}, destination: {name: dst}}\n" \
  "  map: {network: {name: net}, storage: {name: st}}\n" \
  "  targetNamespace: target\n"

static void
test_ready (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "good",
                            GOOD_HEAD
                            "  skipGuestConversion: true\n"
                            "  vms: [{id: vm-2}, {name: null-vm-3}]\n");
  if (json_array_size (conds) != 1) {
    dump (conds);
    fail_msg ("a good plan has only the Ready condition");
  }
  expect (conds, "Ready", "Required", "The migration plan is ready.", NULL);
  json_decref (conds);

  /* Stored in the status, other status fields kept, time kept. */
  json_t *st = json_pack ("{s:s}", "note", "kept");
  assert_int_equal (ferry_set_status (f, "Plan", "default", "good", st), 0);
  json_decref (st);
  conds = ferry_plan_validate (f, "default", "good");
  assert_non_null (conds);
  json_t *plan = ferry_get (f, "Plan", "default", "good", 0);
  assert_non_null (plan);
  json_t *status = json_object_get (plan, "status");
  assert_string_equal (json_string_value (json_object_get (status, "note")), "kept");
  assert_true (json_equal (json_object_get (status, "conditions"), conds));
  json_decref (plan);
  json_decref (conds);

  /* A Ready plan starts. */
  char *mig = ferry_plan_start (f, "default", "good", NULL);
  if (!mig)
    fail_msg ("start: %s", ferry_get_error ());
  free (mig);
}

static void
test_references (void **state)
{
  struct ferry *f = *state;
  /* conversion: without virt-v2v-in-place the plan cannot convert */
  setenv ("FERRY_VIRT_V2V_IN_PLACE", "/nonexistent/virt-v2v-in-place", 1);
  json_t *conds = validate (f, "refs",
                            "  provider: {source: {name: src}, destination: {name: nodst}}\n"
                            "  map: {network: {name: nonet}, storage: {name: st}}\n"
                            "  targetNamespace: Bad_NS\n"
                            "  vms:\n"
                            "    - {id: vm-1}\n"
                            "    - {id: vm-1}\n"
                            "    - {name: nope}\n"
                            "    - id: vm-3\n"
                            "      hooks:\n"
                            "        - {hook: {name: nohook}, step: PreHook}\n"
                            "        - {hook: {name: hook1}, step: Middle}\n");
  expect (conds, "DestinationProviderNotValid", "Critical", "nodst is not found", "default/nodst");
  expect (conds, "NamespaceNotValid", "Critical", "'Bad_NS'", "Bad_NS");
  expect (conds, "GuestConversionNotAvailable", "Critical",
          "set spec.skipGuestConversion: true for a raw copy", NULL);
  expect (conds, "GuestConversionNotAvailable", "Critical",
          "FERRY_VIRT_V2V_IN_PLACE=/nonexistent/virt-v2v-in-place", NULL);
  unsetenv ("FERRY_VIRT_V2V_IN_PLACE");
  expect (conds, "NetworkMapRefNotValid", "Critical", "nonet is not found", "default/nonet");
  expect (conds, "DuplicateVM", "Critical", "more than once", "id:vm-1 name:'null-vm-1'");
  expect (conds, "VMNotFound", "Critical", "not found", "name:'nope'");
  expect (conds, "HookNotValid", "Critical", "nohook", "id:vm-3 name:'null-vm-3' hook:default/nohook");
  expect (conds, "HookStepNotValid", "Critical", "'Middle'", "step:'Middle'");
  expect_not (conds, "Ready");
  expect_not (conds, "SourceProviderNotValid");
  expect_not (conds, "StorageRefNotValid");
  json_decref (conds);

  /* ferry_plan_start refuses, and says why. */
  assert_null (ferry_plan_start (f, "default", "refs", NULL));
  const char *e = ferry_get_error ();
  if (!strstr (e, "is not ready") || !strstr (e, "nodst is not found")
      || !strstr (e, "listed more than once"))
    fail_msg ("start error: %s", e);
}

static void
test_providers (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "noprov",
                            "  provider: {source: {name: nosrc}, destination: {name: dst}}\n"
                            "  map: {network: {name: net}, storage: {name: nost}}\n"
                            "  targetNamespace: target\n"
                            "  skipGuestConversion: true\n"
                            "  vms: [{id: vm-1}]\n");
  expect (conds, "SourceProviderNotValid", "Critical", "nosrc is not found", "default/nosrc");
  expect (conds, "StorageRefNotValid", "Critical", "nost is not found", "default/nost");
  expect_not (conds, "VMNotFound");     /* no inventory: VMs are not looked up */
  expect_not (conds, "Ready");
  json_decref (conds);

  /* No module for the type. */
  conds = validate (f, "nomod",
                    "  provider: {source: {name: vs}, destination: {name: vs}}\n"
                    "  map: {network: {name: net}, storage: {name: st}}\n"
                    "  targetNamespace: target\n"
                    "  skipGuestConversion: true\n"
                    "  vms: [{id: vm-1}]\n");
  expect (conds, "SourceProviderNotValid", "Critical", "no provider module", "default/vs");
  expect (conds, "DestinationProviderNotValid", "Critical", "no destination module", "default/vs");
  json_decref (conds);
}

static void
test_maps (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "maps",
                            "  provider: {source: {name: src}, destination: {name: dst}}\n"
                            "  map: {network: {name: net-bad}, storage: {name: st-bad}}\n"
                            "  targetNamespace: target\n"
                            "  skipGuestConversion: true\n"
                            "  vms: [{id: vm-1}]\n");
  expect (conds, "NetworkMapNotReady", "Critical", "'No Such Net'", "No Such Net");
  expect (conds, "StorageMapNotReady", "Critical", "'datastore-9'", "datastore-9");
  expect (conds, "VMNetworksNotMapped", "Critical", "'VM Network'",
          "id:vm-1 name:'null-vm-1' network:'VM Network'");
  expect (conds, "VMStorageNotMapped", "Critical", "'datastore1'",
          "id:vm-1 name:'null-vm-1' storage:'datastore1'");
  json_decref (conds);
}

static void
test_types (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "conv", GOOD_HEAD
                            "  skipGuestConversion: true\n"
                            "  type: conversion\n"
                            "  vms: [{id: vm-2}]\n");
  expect (conds, "MigrationTypeNotValid", "Critical", "'conversion'", "type:conversion");
  json_decref (conds);

  conds = validate (f, "coldwarm", GOOD_HEAD
                    "  skipGuestConversion: true\n"
                    "  type: cold\n"
                    "  warm: true\n"
                    "  vms: [{id: vm-2}]\n");
  expect (conds, "MigrationTypeNotValid", "Critical", "spec.warm is true", NULL);
  json_decref (conds);

  /* null can do warm. */
  conds = validate (f, "warmnull", GOOD_HEAD
                    "  skipGuestConversion: true\n"
                    "  type: warm\n"
                    "  vms: [{id: vm-2}]\n");
  expect_not (conds, "WarmMigrationNotReady");
  expect_not (conds, "MigrationTypeNotValid");
  expect (conds, "Ready", "Required", "ready", NULL);
  json_decref (conds);

  /* scripted cannot. */
  conds = validate (f, "warmscr",
                    "  provider: {source: {name: scr}, destination: {name: dst}}\n"
                    "  map: {network: {name: snet}, storage: {name: sst}}\n"
                    "  targetNamespace: target\n"
                    "  skipGuestConversion: true\n"
                    "  warm: true\n"
                    "  vms: [{id: vm-c}]\n");
  expect (conds, "WarmMigrationNotReady", "Critical", "not supported by provider default/scr",
          "default/scr");
  json_decref (conds);
}

static void
test_vm_exists (void **state)
{
  struct ferry *f = *state;
  json_t *dst = ferry_get (f, "Provider", "default", "dst", 0);
  assert_non_null (dst);
  const char *uid = json_string_value (json_object_get (json_object_get (dst, "metadata"), "uid"));
  assert_int_equal (test_sh ("mkdir -p %s/state/providers/%s/vms/target && "
                             "echo '{}' > %s/state/providers/%s/vms/target/null-vm-2.json",
                             tmp, uid, tmp, uid), 0);
  json_t *conds = validate (f, "exists", GOOD_HEAD
                            "  skipGuestConversion: true\n"
                            "  vms: [{id: vm-2}, {id: vm-3}]\n");
  expect (conds, "VMAlreadyExists", "Critical", "null-vm-2 already exists in namespace target",
          "id:vm-2 name:'null-vm-2' target:target/null-vm-2");
  const json_t *c = find (conds, "VMAlreadyExists");
  assert_int_equal (json_array_size (json_object_get (c, "items")), 1);
  json_decref (conds);
  test_sh ("rm -f %s/state/providers/%s/vms/target/null-vm-2.json", tmp, uid);
  json_decref (dst);
}

#define SCR_HEAD \
  "  provider: {source: {name: scr}, destination: {name: dst}}\n" \
  "  map: {network: {name: snet}, storage: {name: sst}}\n" \
  "  targetNamespace: target\n" \
  "  skipGuestConversion: true\n"

static void
test_vm_checks (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "vmchecks", SCR_HEAD
                            "  vms: [{id: vm-a}, {id: vm-b}, {id: vm-c}]\n");
  expect (conds, "TargetNameNotValid", "Warn", "renamed to 'web-server'",
          "id:vm-a name:'Web Server' -> 'web-server'");
  expect (conds, "InvalidDiskSizes", "Critical", "d-a0", "id:vm-a name:'Web Server' disk:d-a0");
  expect (conds, "VMCriticalConcerns", "Critical", "Unsupported disk",
          "RDM disks cannot be migrated");
  expect (conds, "VMPowerStateUnsupported", "Critical", "cannot power it off",
          "id:vm-b name:'db' powerState:poweredOn");
  expect (conds, "MacConflicts", "Warn", "00:11:22:33:44:55", "id:vm-b name:'db' mac:");
  expect (conds, "SharedDisks", "Warn", "migrated with it", "id:vm-b name:'db' disk:d-b1");
  expect_not (conds, "VMNetworksNotMapped");
  expect_not (conds, "VMStorageNotMapped");
  expect_not (conds, "Ready");
  const json_t *c = find (conds, "VMCriticalConcerns");
  assert_int_equal (json_array_size (json_object_get (c, "items")), 1);   /* not the Warning */
  c = find (conds, "MacConflicts");
  assert_int_equal (json_array_size (json_object_get (c, "items")), 2);
  json_decref (conds);

  /* Warn does not block: a plan with only a rename is Ready. */
  conds = validate (f, "rename", SCR_HEAD "  vms: [{id: vm-c}, {id: vm-e}]\n");
  expect (conds, "TargetNameNotValid", "Warn", "'fine-name'", "id:vm-e name:'Fine Name' -> 'fine-name'");
  expect (conds, "Ready", "Required", "The migration plan is ready.", NULL);
  json_decref (conds);
}

static void
test_shared_disks (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "noshare", SCR_HEAD
                            "  migrateSharedDisks: false\n"
                            "  vms: [{id: vm-c}, {id: vm-d}]\n");
  expect (conds, "SharedDisks", "Warn", "shared disks will not be migrated",
          "id:vm-d name:'boot' disk:d-d0");
  expect (conds, "Ready", "Required", "ready", NULL);
  json_decref (conds);

  conds = validate (f, "bootshare", SCR_HEAD "  vms: [{id: vm-d}]\n");
  expect (conds, "SharedDisks", "Critical", "shared boot disk", "id:vm-d name:'boot' disk:d-d0");
  json_decref (conds);

  conds = validate (f, "warmshare",
                    "  provider: {source: {name: scr-warm}, destination: {name: dst}}\n"
                    "  map: {network: {name: snet}, storage: {name: sst}}\n"
                    "  targetNamespace: target\n"
                    "  skipGuestConversion: true\n"
                    "  type: warm\n"
                    "  vms: [{id: vm-b}]\n");
  expect (conds, "SharedDisks", "Critical", "only be migrated cold", "disk:d-b1");
  expect_not (conds, "WarmMigrationNotReady");
  json_decref (conds);
}

static void
test_templates (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "pvcbad", GOOD_HEAD
                            "  skipGuestConversion: true\n"
                            "  pvcNameTemplate: '{{.VmName}}_disk{{.DiskIndex}}'\n"
                            "  vms: [{id: vm-2}]\n");
  expect (conds, "PVCNameTemplateNotValid", "Critical", "'null-vm-2_disk0'", "disk:1");
  expect (conds, "PVCNameTemplateNotValid", "Critical", "{{.VmName}}_disk{{.DiskIndex}}", NULL);
  expect (conds, "PVCNameTemplateNotValid", "Critical", "null-vm-2", NULL);
  json_decref (conds);

  conds = validate (f, "pvcparse", GOOD_HEAD
                    "  skipGuestConversion: true\n"
                    "  vms:\n"
                    "    - id: vm-2\n"
                    "      pvcNameTemplate: '{{.VmName'\n");
  expect (conds, "PVCNameTemplateNotValid", "Critical", "{{.VmName", "id:vm-2");
  json_decref (conds);

  conds = validate (f, "voltmpl", GOOD_HEAD
                    "  skipGuestConversion: true\n"
                    "  volumeNameTemplate: 'vol_{{.VolumeIndex}}'\n"
                    "  networkNameTemplate: 'NET{{.NetworkIndex}}'\n"
                    "  vms: [{id: vm-2}]\n");
  expect (conds, "TemplateNotValid", "Critical", "networkNameTemplate 'NET{{.NetworkIndex}}'",
          "nic:0 networkNameTemplate: gives 'NET0'");
  expect (conds, "TemplateNotValid", "Critical", "", "disk:1 volumeNameTemplate: gives 'vol_1'");
  expect_not (conds, "PVCNameTemplateNotValid");
  json_decref (conds);

  conds = validate (f, "tmplok", GOOD_HEAD
                    "  skipGuestConversion: true\n"
                    "  pvcNameTemplate: '{{.TargetVmName}}-d{{.DiskIndex}}'\n"
                    "  volumeNameTemplate: 'vol-{{.VolumeIndex}}'\n"
                    "  vms: [{id: vm-2}]\n");
  expect_not (conds, "TemplateNotValid");
  expect_not (conds, "PVCNameTemplateNotValid");
  expect (conds, "Ready", "Required", "ready", NULL);
  json_decref (conds);
}

/* A VM with neither id nor name cannot be applied (the schema refuses
 * it), so the stored spec is edited as an older ferry might have left it.
 */
static void
test_vm_ref (void **state)
{
  struct ferry *f = *state;
  json_t *conds = validate (f, "vmref", GOOD_HEAD
                            "  skipGuestConversion: true\n"
                            "  vms: [{id: vm-2}, {id: vm-3}]\n");
  json_decref (conds);
  char db[4096];
  sqlite3 *s;
  snprintf (db, sizeof db, "%s/state/ferry.db", tmp);
  assert_int_equal (sqlite3_open (db, &s), SQLITE_OK);
  sqlite3_busy_timeout (s, 10000);
  assert_int_equal (sqlite3_exec (s, "UPDATE objects SET spec = json_set (spec, '$.vms[1]',"
                                  " json ('{\"targetName\": \"x\"}'))"
                                  " WHERE kind = 'Plan' AND name = 'vmref'", NULL, NULL, NULL),
                    SQLITE_OK);
  sqlite3_close (s);
  conds = ferry_plan_validate (f, "default", "vmref");
  assert_non_null (conds);
  expect (conds, "VMRefNotValid", "Critical", "neither an id nor a name", "vms[1]");
  expect_not (conds, "Ready");
  json_decref (conds);
}

static void
test_not_found (void **state)
{
  struct ferry *f = *state;
  assert_null (ferry_plan_validate (f, "default", "no-such-plan"));
  assert_non_null (strstr (ferry_get_error (), "plan default/no-such-plan not found"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ready),
    cmocka_unit_test (test_references),
    cmocka_unit_test (test_providers),
    cmocka_unit_test (test_maps),
    cmocka_unit_test (test_types),
    cmocka_unit_test (test_vm_exists),
    cmocka_unit_test (test_vm_checks),
    cmocka_unit_test (test_shared_disks),
    cmocka_unit_test (test_templates),
    cmocka_unit_test (test_vm_ref),
    cmocka_unit_test (test_not_found),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}

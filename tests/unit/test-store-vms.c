/* Unit tests of a Migration's VM rows (store.h, schema v3; vm-rows.h):
 * a version 2 store is upgraded with each status.vms entry moved to a row
 * and reads back identically; one VM's row is written without the
 * others; the whole status replaces the rows; deleting the Migration
 * removes them; the group commit of many threads stores every row.
 */
#include <config.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "test-common.h"
#include "test-sqlite.h"

#include "internal.h"
#include "store.h"
#include "vm-rows.h"

struct fixture {
  char dir[TEST_DIR_MAX];
  char db[128];
};
TEST_FIXTURE_TYPE (struct fixture);

static int
setup (void **state)
{
  struct fixture *fx = test_fixture_new (sizeof *fx, "store-vms");
  snprintf (fx->db, sizeof fx->db, "%s/ferry.db", fx->dir);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  return test_fixture_teardown (state);
}

/* A status as the engine writes it: two VMs with pipelines and tasks. */
static const char big_status[] =
  "{\"phase\":\"Running\",\"started\":\"2026-11-26T10:00:00.000Z\","
  "\"vms\":["
  "{\"id\":\"vm-1\",\"name\":\"one\",\"phase\":\"Completed\","
  " \"pipeline\":[{\"name\":\"Initialize\",\"phase\":\"Completed\","
  "  \"progress\":{\"completed\":1,\"total\":1}},"
  "  {\"name\":\"DiskTransfer\",\"phase\":\"Completed\","
  "  \"tasks\":[{\"name\":\"one-d0\",\"done\":true,\"bytesWritten\":16384}]}],"
  " \"spec\":{\"name\":\"one\",\"disks\":[{\"id\":\"d0\",\"capacity\":16384}]}},"
  "{\"id\":\"vm-2\",\"name\":\"two \\u00e9\",\"phase\":\"DiskTransfer\","
  " \"pipeline\":[{\"name\":\"Initialize\",\"phase\":\"Completed\"}],"
  " \"warm\":{\"precopies\":[{\"snapshot\":\"s1\",\"changeIds\":[\"c1\"]}]}}"
  "]}";

/* Schema version 2 with a Plan, a Migration with VMs, one with an empty
 * vms array and one with no status.
 */
static void
make_v2_store (const char *db)
{
  char *sql = NULL;
  assert_true (asprintf (&sql,
    "CREATE TABLE objects ("
    " uid TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL,"
    " namespace TEXT NOT NULL, name TEXT NOT NULL, api_version TEXT NOT NULL,"
    " generation INTEGER NOT NULL, resource_version INTEGER NOT NULL,"
    " created TEXT NOT NULL, metadata TEXT, spec TEXT, status TEXT,"
    " sealed BLOB, UNIQUE (kind, namespace, name));"
    "CREATE TABLE inventory (provider_uid TEXT NOT NULL, kind TEXT NOT NULL,"
    " id TEXT NOT NULL, name TEXT, parent TEXT, revision INTEGER NOT NULL,"
    " sync_mark INTEGER NOT NULL, doc TEXT NOT NULL,"
    " PRIMARY KEY (provider_uid, kind, id));"
    "CREATE INDEX inventory_by_name ON inventory (provider_uid, kind, name);"
    "CREATE INDEX inventory_by_parent ON inventory (provider_uid, kind, parent);"
    "CREATE TABLE inventory_sync (provider_uid TEXT PRIMARY KEY NOT NULL,"
    " mark INTEGER NOT NULL);"
    "INSERT INTO objects VALUES ('u-plan', 'Plan', 'ns', 'p', 'v', 1, 1,"
    " '2026-01-02T03:04:05Z', NULL, '{\"vms\":[{\"name\":\"one\"}]}',"
    " '{\"phase\":\"Executing\"}', NULL);"
    "INSERT INTO objects VALUES ('u-big', 'Migration', 'ns', 'p-big', 'v', 1, 5,"
    " '2026-01-02T03:04:05Z', NULL, '{\"plan\":{\"name\":\"p\"}}', '%s', NULL);"
    "INSERT INTO objects VALUES ('u-empty', 'Migration', 'ns', 'p-empty', 'v',"
    " 1, 2, '2026-01-02T03:04:05Z', NULL, '{\"plan\":{\"name\":\"p\"}}',"
    " '{\"phase\":\"Succeeded\",\"vms\":[]}', NULL);"
    "INSERT INTO objects VALUES ('u-none', 'Migration', 'ns', 'p-none', 'v',"
    " 1, 1, '2026-01-02T03:04:05Z', NULL, '{\"plan\":{\"name\":\"p\"}}',"
    " NULL, NULL);"
    "PRAGMA user_version = 2;", big_status) != -1);
  raw_exec (db, sql);
  free (sql);
}

static json_t *
parse (const char *text)
{
  json_error_t e;
  json_t *v = json_loads (text, 0, &e);
  if (!v)
    fail_msg ("bad JSON in the test: %s", e.text);
  return v;
}

static void
test_upgrade_moves_vms (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store_row row = { 0 };
  json_t *want = parse (big_status);

  make_v2_store (fx->db);
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_schema_version (st), 3);

  /* The entries are rows now, and only there. */
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM migration_vms"
                               " WHERE migration_uid = 'u-big'"), 2);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM objects"
                               " WHERE uid = 'u-big' AND status LIKE '%pipeline%'"), 0);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM migration_vms"), 2);
  /* Versions are not changed by an upgrade. */
  assert_int_equal (raw_count (fx->db, "SELECT resource_version FROM objects"
                               " WHERE uid = 'u-big'"), 5);

  /* ... and read back as the same status. */
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-big", &row), 1);
  assert_true (json_equal (row.status, want));
  ferry_internal_store_row_clear (&row);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-empty", &row), 1);
  assert_int_equal (json_array_size (json_object_get (row.status, "vms")), 0);
  assert_true (json_is_array (json_object_get (row.status, "vms")));
  ferry_internal_store_row_clear (&row);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-none", &row), 1);
  assert_null (row.status);
  ferry_internal_store_row_clear (&row);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "ns", "p", &row), 1);
  assert_string_equal (json_string_value (json_object_get (row.status, "phase")),
                       "Executing");
  ferry_internal_store_row_clear (&row);

  /* One entry by its VM id, through the index the upgrade filled. */
  json_t *one = ferry_internal_store_get_vm_status (st, "u-big", "vm-2");
  assert_non_null (one);
  assert_true (json_equal (one, json_array_get (json_object_get (want, "vms"), 1)));
  json_decref (one);
  assert_null (ferry_internal_store_get_vm_status (st, "u-big", "vm-9"));
  assert_string_equal (ferry_get_error (), "");
  assert_null (ferry_internal_store_get_vm_status (st, "u-empty", "vm-1"));

  /* Without the rows: the Migration's own status only. */
  assert_int_equal (ferry_internal_store_get_without_vms (st, "Migration", "ns",
                                                          "p-big", &row), 1);
  assert_null (json_object_get (row.status, "vms"));
  assert_string_equal (json_string_value (json_object_get (row.status, "phase")),
                       "Running");
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_close (st);

  /* A second open changes nothing. */
  st = ferry_internal_store_open (fx->db, FERRY_STORE_READONLY);
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-big", &row), 1);
  assert_true (json_equal (row.status, want));
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_close (st);
  json_decref (want);
}

struct listed {
  size_t migrations, with_vms;
};

static int
count_listed (void *opaque, const struct ferry_store_row *row)
{
  struct listed *l = opaque;
  l->migrations++;
  if (json_array_size (json_object_get (row->status, "vms")) > 0)
    l->with_vms++;
  return 0;
}

static void
test_vm_rows (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store_row row = { 0 };

  make_v2_store (fx->db);
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);

  /* One VM's row: the other entry and the own status are untouched. */
  json_t *want = parse (big_status);
  json_t *vm2 = json_array_get (json_object_get (want, "vms"), 1);
  json_object_set_new (vm2, "phase", json_string ("Completed"));
  char *text = ferry_internal_store_dump_json (vm2);
  assert_non_null (text);
  assert_int_equal (ferry_internal_store_set_vm_status (st, "u-big", 1, "vm-2", text), 0);
  free (text);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-big", &row), 1);
  assert_true (json_equal (row.status, want));
  assert_int_equal (row.resource_version, 6);
  ferry_internal_store_row_clear (&row);
  json_t *got = ferry_internal_store_get_vm_status (st, "u-big", "vm-2");
  assert_string_equal (json_string_value (json_object_get (got, "phase")), "Completed");
  json_decref (got);

  /* A row for a Migration that does not exist is refused. */
  assert_int_equal (ferry_internal_store_set_vm_status (st, "u-nothing", 0, "x", "{}"), -1);
  assert_non_null (strstr (ferry_get_error (), "the migration does not exist"));

  /* The own status alone keeps the rows. */
  json_t *own = json_pack ("{s:s, s:[]}", "phase", "Failed", "vms");
  assert_int_equal (ferry_internal_store_set_status_keep_vms (st, "Migration", "ns",
                                                              "p-big", own), 0);
  json_decref (own);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-big", &row), 1);
  assert_string_equal (json_string_value (json_object_get (row.status, "phase")), "Failed");
  assert_true (json_equal (json_object_get (row.status, "vms"),
                           json_object_get (want, "vms")));
  ferry_internal_store_row_clear (&row);

  /* The whole status replaces the rows (fewer VMs: the rest go). */
  json_array_remove (json_object_get (want, "vms"), 0);
  assert_int_equal (ferry_internal_store_set_status (st, "Migration", "ns", "p-big", want), 0);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM migration_vms"
                               " WHERE migration_uid = 'u-big'"), 1);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-big", &row), 1);
  assert_true (json_equal (row.status, want));
  ferry_internal_store_row_clear (&row);

  /* Lists: with rows, and without. */
  struct listed l = { 0 };
  assert_int_equal (ferry_internal_store_list (st, "Migration", "ns", count_listed, &l), 0);
  assert_int_equal (l.migrations, 3);
  assert_int_equal (l.with_vms, 1);
  l = (struct listed) { 0 };
  assert_int_equal (ferry_internal_store_list_without_vms (st, "Migration", NULL,
                                                           count_listed, &l), 0);
  assert_int_equal (l.migrations, 3);
  assert_int_equal (l.with_vms, 0);

  /* Deleting the Migration removes its rows. */
  assert_int_equal (ferry_internal_store_delete (st, "Migration", "ns", "p-big"), 1);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM migration_vms"), 0);
  ferry_internal_store_close (st);
  json_decref (want);
}

/* ---- group commit ------------------------------------------------------ */

#define WRITERS 8
#define WRITES 25

struct writer {
  const char *db, *dir;
  unsigned index;
  int failures;
};

static void *
write_rows (void *arg)
{
  struct writer *w = arg;
  struct ferry_store *st = ferry_internal_store_open (w->db, 0);
  if (!st) {
    w->failures = WRITES;
    return NULL;
  }
  for (unsigned n = 1; n <= WRITES; n++) {
    char text[64];
    snprintf (text, sizeof text, "{\"writer\":%u,\"n\":%u}", w->index, n);
    char id[16];
    snprintf (id, sizeof id, "w%u", w->index);
    if (ferry_internal_vm_row_commit (st, w->dir, "u-none", w->index, id, text) == -1)
      w->failures++;
  }
  ferry_internal_store_close (st);
  return NULL;
}

static void
test_group_commit (void **state)
{
  struct fixture *fx = *state;
  struct writer w[WRITERS];
  pthread_t t[WRITERS];
  unsigned long long rows0, commits0, rows, commits;

  make_v2_store (fx->db);
  ferry_internal_store_close (ferry_internal_store_open (fx->db, 0));
  ferry_internal_vm_row_stats (&rows0, &commits0);
  for (unsigned i = 0; i < WRITERS; i++) {
    w[i] = (struct writer) { .db = fx->db, .dir = fx->dir, .index = i };
    assert_int_equal (pthread_create (&t[i], NULL, write_rows, &w[i]), 0);
  }
  for (unsigned i = 0; i < WRITERS; i++) {
    pthread_join (t[i], NULL);
    assert_int_equal (w[i].failures, 0);
  }
  ferry_internal_vm_row_stats (&rows, &commits);
  assert_int_equal (rows - rows0, WRITERS * WRITES);
  assert_true (commits - commits0 >= 1 && commits - commits0 <= WRITERS * WRITES);

  /* Every writer's last row is what is stored, in position order. */
  struct ferry_store *st = ferry_internal_store_open (fx->db, FERRY_STORE_READONLY);
  struct ferry_store_row row = { 0 };
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_get (st, "Migration", "ns", "p-none", &row), 1);
  assert_int_equal (json_array_size (json_object_get (row.status, "vms")), WRITERS);
  for (unsigned i = 0; i < WRITERS; i++) {
    json_t *ent = json_array_get (json_object_get (row.status, "vms"), i);
    assert_int_equal (json_integer_value (json_object_get (ent, "writer")), i);
    assert_int_equal (json_integer_value (json_object_get (ent, "n")), WRITES);
  }
  /* Each write bumped the Migration's resourceVersion. */
  assert_int_equal (row.resource_version, 1 + WRITERS * WRITES);
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_close (st);

  /* A failed batch fails its writers with the reason. */
  st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  assert_int_equal (ferry_internal_vm_row_commit (st, fx->dir, "u-gone", 0, "x", "{}"), -1);
  assert_non_null (strstr (ferry_get_error (), "the migration does not exist"));
  ferry_internal_store_close (st);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE_TEST (test_upgrade_moves_vms),
    FIXTURE_TEST (test_vm_rows),
    FIXTURE_TEST (test_group_commit),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

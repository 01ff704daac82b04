/* Unit tests of the store (core/store.c): file modes, schema upgrade and
 * refusal, objects, transactions, concurrency between connections and
 * processes, inventory.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "test-common.h"
#include "test-sqlite.h"

#include "internal.h"
#include "store.h"

struct fixture {
  char dir[TEST_DIR_MAX];
  char db[128];
};
TEST_FIXTURE_TYPE (struct fixture);

static int
setup (void **state)
{
  struct fixture *fx = test_fixture_new (sizeof *fx, "store");
  snprintf (fx->db, sizeof fx->db, "%s/ferry.db", fx->dir);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  return test_fixture_teardown (state);
}

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned
file_mode (const char *path)
{
  struct stat sb;
  assert_int_equal (stat (path, &sb), 0);
  return sb.st_mode & 07777;
}

/* A row for kind/ns/name with a spec {"n": n}. */
static void
make_row (struct ferry_store_row *row, const char *kind, const char *ns,
          const char *name, int n)
{
  memset (row, 0, sizeof *row);
  row->kind = strdup (kind);
  row->ns = strdup (ns);
  row->name = strdup (name);
  row->api_version = strdup ("forklift.konveyor.io/v1beta1");
  row->spec = json_pack ("{s:i}", "n", n);
  row->metadata = json_pack ("{s:{s:s}}", "labels", "app", name);
}

static void
insert (struct ferry_store *st, const char *kind, const char *ns,
        const char *name, int n)
{
  struct ferry_store_row row;
  make_row (&row, kind, ns, name, n);
  assert_int_equal (ferry_internal_store_insert (st, &row), 0);
  ferry_internal_store_row_clear (&row);
}

/* ---- open, modes, schema ---------------------------------------------- */

static void
test_open_creates_private (void **state)
{
  struct fixture *fx = *state;
  char wal[160], shm[160];
  mode_t old = umask (0);               /* the modes must not come from umask */
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  umask (old);

  assert_non_null (st);
  assert_int_equal (ferry_internal_store_schema_version (st), FERRY_STORE_SCHEMA_VERSION);
  assert_int_equal (file_mode (fx->db), 0600);
  snprintf (wal, sizeof wal, "%s-wal", fx->db);
  snprintf (shm, sizeof shm, "%s-shm", fx->db);
  insert (st, "Plan", "default", "p", 1);
  assert_int_equal (file_mode (wal), 0600);
  assert_int_equal (file_mode (shm), 0600);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM objects"), 1);
  ferry_internal_store_close (st);

  /* WAL mode persists in the file. */
  sqlite3 *db;
  sqlite3_stmt *s;
  assert_int_equal (sqlite3_open (fx->db, &db), SQLITE_OK);
  assert_int_equal (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &s, NULL),
                    SQLITE_OK);
  assert_int_equal (sqlite3_step (s), SQLITE_ROW);
  assert_string_equal ((const char *) sqlite3_column_text (s, 0), "wal");
  sqlite3_finalize (s);
  sqlite3_close (db);
}

static void
test_open_errors (void **state)
{
  struct fixture *fx = *state;
  char path[200], msg[400];

  /* Read-only never creates. */
  assert_null (ferry_internal_store_open (fx->db, FERRY_STORE_READONLY));
  snprintf (msg, sizeof msg, "open store %s read-only: No such file or directory",
            fx->db);
  assert_string_equal (ferry_get_error (), msg);
  assert_int_equal (access (fx->db, F_OK), -1);

  snprintf (path, sizeof path, "%s/missing/ferry.db", fx->dir);
  assert_null (ferry_internal_store_open (path, 0));
  snprintf (msg, sizeof msg, "create store %s: No such file or directory", path);
  assert_string_equal (ferry_get_error (), msg);

  /* Not a database: the message names the operation and path and carries
   * sqlite's reason.
   */
  int fd = open (fx->db, O_WRONLY | O_CREAT, 0600);
  assert_true (fd >= 0);
  assert_int_equal (write (fd, "this is not a database, not at all........",
                           42), 42);
  for (int i = 0; i < 100; i++)
    assert_int_equal (write (fd, "xxxxxxxxxx", 10), 10);
  close (fd);
  assert_null (ferry_internal_store_open (fx->db, 0));
  snprintf (msg, sizeof msg, ": %s: file is not a database", fx->db);
  assert_non_null (strstr (ferry_get_error (), msg));
}

static const char v1_schema[] =
  "CREATE TABLE objects ("
  " uid TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL,"
  " namespace TEXT NOT NULL, name TEXT NOT NULL, api_version TEXT NOT NULL,"
  " generation INTEGER NOT NULL, resource_version INTEGER NOT NULL,"
  " created TEXT NOT NULL, metadata TEXT, spec TEXT, status TEXT,"
  " sealed BLOB, UNIQUE (kind, namespace, name));"
  "INSERT INTO objects VALUES ('6c1b3a52-1f0e-4b8e-9d0c-0a1b2c3d4e5f',"
  " 'Plan', 'prod', 'old-plan', 'forklift.konveyor.io/v1beta1', 3, 7,"
  " '2026-01-02T03:04:05Z', '{\"labels\":{\"a\":\"b\"}}', '{\"warm\":true}',"
  " '{\"phase\":\"Ready\"}', NULL);"
  "PRAGMA user_version = 1;";

static void
test_upgrade_from_v1 (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store_row row = { 0 };
  struct ferry_store *st;

  raw_exec (fx->db, v1_schema);
  assert_int_equal (raw_count (fx->db, "PRAGMA user_version"), 1);

  st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_schema_version (st), FERRY_STORE_SCHEMA_VERSION);

  /* The old row survives intact. */
  assert_int_equal (ferry_internal_store_get (st, "Plan", "prod", "old-plan",
                                              &row), 1);
  assert_string_equal (row.uid, "6c1b3a52-1f0e-4b8e-9d0c-0a1b2c3d4e5f");
  assert_int_equal (row.generation, 3);
  assert_int_equal (row.resource_version, 7);
  assert_string_equal (row.created, "2026-01-02T03:04:05Z");
  assert_true (json_is_true (json_object_get (row.spec, "warm")));
  assert_string_equal (json_string_value (json_object_get (row.status, "phase")),
                       "Ready");
  ferry_internal_store_row_clear (&row);

  /* The inventory table and its indexes exist and work. */
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM sqlite_master"
                               " WHERE type = 'table' AND name = 'inventory'"), 1);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM sqlite_master"
                               " WHERE type = 'index' AND tbl_name = 'inventory'"
                               " AND sql IS NOT NULL"), 2);
  json_t *doc = json_pack ("{s:s}", "name", "vm1");
  assert_int_equal (ferry_internal_store_inv_put (st, "p1", "vm", "vm-1", "vm1",
                                                  NULL, doc), 0);
  json_decref (doc);
  ferry_internal_store_close (st);

  /* A second open does nothing more. */
  st = ferry_internal_store_open (fx->db, FERRY_STORE_READONLY);
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_schema_version (st), FERRY_STORE_SCHEMA_VERSION);
  ferry_internal_store_close (st);
}

static void
test_refuse_newer (void **state)
{
  struct fixture *fx = *state;
  char msg[300];

  raw_exec (fx->db, "CREATE TABLE future (x); PRAGMA user_version = 99;");
  for (unsigned flags = 0; flags <= FERRY_STORE_READONLY; flags++) {
    ferry_clear_error ();
    assert_null (ferry_internal_store_open (fx->db, flags));
    snprintf (msg, sizeof msg, "ferry.db has schema version 99; this ferry "
              "knows up to %d: upgrade ferry (database %s)",
              FERRY_STORE_SCHEMA_VERSION, fx->db);
    assert_string_equal (ferry_get_error (), msg);
  }
  /* Untouched. */
  assert_int_equal (raw_count (fx->db, "PRAGMA user_version"), 99);
  assert_int_equal (raw_count (fx->db, "SELECT count(*) FROM sqlite_master"
                               " WHERE name = 'objects'"), 0);
}

static void
test_readonly_old_schema (void **state)
{
  struct fixture *fx = *state;
  char msg[300];

  raw_exec (fx->db, v1_schema);
  assert_null (ferry_internal_store_open (fx->db, FERRY_STORE_READONLY));
  snprintf (msg, sizeof msg, "%s has schema version 1, older than %d: open it "
            "once without read-only mode to upgrade it", fx->db,
            FERRY_STORE_SCHEMA_VERSION);
  assert_string_equal (ferry_get_error (), msg);
  assert_int_equal (raw_count (fx->db, "PRAGMA user_version"), 1);
}

/* ---- objects ----------------------------------------------------------- */

struct seen {
  char names[16][64];
  size_t n;
};

static int
collect (void *opaque, const struct ferry_store_row *row)
{
  struct seen *s = opaque;
  assert_true (s->n < 16);
  snprintf (s->names[s->n++], 64, "%s/%s", row->ns, row->name);
  return 0;
}

static int
stop_at_first (void *opaque, const struct ferry_store_row *row)
{
  (*(int *) opaque)++;
  return -1;
}

static void
test_crud (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  struct ferry_store_row row = { 0 };
  struct seen seen = { 0 };
  char msg[300];
  int calls = 0;

  assert_non_null (st);
  insert (st, "Plan", "prod", "zeta", 1);
  insert (st, "Plan", "default", "beta", 2);
  insert (st, "Plan", "default", "alpha", 3);
  insert (st, "NetworkMap", "default", "alpha", 4);

  /* Same kind/ns/name twice. */
  make_row (&row, "Plan", "default", "alpha", 9);
  assert_int_equal (ferry_internal_store_insert (st, &row), -1);
  snprintf (msg, sizeof msg, "insert Plan default/alpha: %s: it already exists",
            fx->db);
  assert_string_equal (ferry_get_error (), msg);
  ferry_internal_store_row_clear (&row);

  /* get */
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "alpha",
                                              &row), 1);
  assert_string_equal (row.kind, "Plan");
  assert_string_equal (row.ns, "default");
  assert_string_equal (row.name, "alpha");
  assert_string_equal (row.api_version, "forklift.konveyor.io/v1beta1");
  assert_int_equal (json_integer_value (json_object_get (row.spec, "n")), 3);
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (row.metadata,
                                                            "labels"), "app")),
                       "alpha");
  assert_null (row.status);
  assert_null (row.sealed);
  /* uid: RFC 4122 version 4, lower-case hex. */
  assert_int_equal (strlen (row.uid), 36);
  assert_int_equal (row.uid[14], '4');
  assert_non_null (strchr ("89ab", row.uid[19]));
  assert_int_equal (strspn (row.uid, "0123456789abcdef-"), 36);
  /* created: RFC 3339 UTC. */
  assert_int_equal (strlen (row.created), 20);
  assert_int_equal (row.created[10], 'T');
  assert_int_equal (row.created[19], 'Z');
  ferry_internal_store_row_clear (&row);

  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "nope",
                                              &row), 0);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "other", "alpha",
                                              &row), 0);

  /* list: ordered by namespace then name; kind filtered. */
  assert_int_equal (ferry_internal_store_list (st, "Plan", NULL, collect,
                                               &seen), 0);
  assert_int_equal (seen.n, 3);
  assert_string_equal (seen.names[0], "default/alpha");
  assert_string_equal (seen.names[1], "default/beta");
  assert_string_equal (seen.names[2], "prod/zeta");
  memset (&seen, 0, sizeof seen);
  assert_int_equal (ferry_internal_store_list (st, "Plan", "prod", collect,
                                               &seen), 0);
  assert_int_equal (seen.n, 1);
  assert_string_equal (seen.names[0], "prod/zeta");
  memset (&seen, 0, sizeof seen);
  assert_int_equal (ferry_internal_store_list (st, "Migration", NULL, collect,
                                               &seen), 0);
  assert_int_equal (seen.n, 0);
  assert_int_equal (ferry_internal_store_list (st, "Plan", NULL, stop_at_first,
                                               &calls), -1);
  assert_int_equal (calls, 1);

  /* delete */
  assert_int_equal (ferry_internal_store_delete (st, "Plan", "default", "beta"), 1);
  assert_int_equal (ferry_internal_store_delete (st, "Plan", "default", "beta"), 0);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "beta",
                                              &row), 0);
  /* The other kind with the same name is untouched. */
  assert_int_equal (ferry_internal_store_get (st, "NetworkMap", "default",
                                              "alpha", &row), 1);
  ferry_internal_store_row_clear (&row);

  /* Inserting after a delete gives a new uid. */
  ferry_internal_store_close (st);
}

static void
test_versions (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  struct ferry_store_row row, got = { 0 };
  char *uid, *created, msg[300];

  assert_non_null (st);
  make_row (&row, "Plan", "default", "p", 1);
  assert_int_equal (ferry_internal_store_insert (st, &row), 0);
  assert_int_equal (row.generation, 1);
  assert_int_equal (row.resource_version, 1);
  assert_non_null (row.uid);
  assert_non_null (row.created);
  uid = strdup (row.uid);
  created = strdup (row.created);

  /* A spec change: the caller bumps generation, the store bumps
   * resourceVersion; uid and created stay.
   */
  json_decref (row.spec);
  row.spec = json_pack ("{s:i}", "n", 2);
  row.generation = 2;
  assert_int_equal (ferry_internal_store_update (st, &row), 0);
  assert_int_equal (row.resource_version, 2);
  assert_string_equal (row.uid, uid);
  assert_string_equal (row.created, created);

  /* A metadata-only change: generation stays. */
  json_decref (row.metadata);
  row.metadata = json_pack ("{s:{s:s}}", "annotations", "x", "y");
  assert_int_equal (ferry_internal_store_update (st, &row), 0);
  assert_int_equal (row.resource_version, 3);

  /* Status: resourceVersion only. */
  json_t *status = json_pack ("{s:s}", "phase", "Running");
  assert_int_equal (ferry_internal_store_set_status (st, "Plan", "default", "p",
                                                     status), 0);
  json_decref (status);

  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "p", &got), 1);
  assert_int_equal (got.generation, 2);
  assert_int_equal (got.resource_version, 4);
  assert_string_equal (got.uid, uid);
  assert_int_equal (json_integer_value (json_object_get (got.spec, "n")), 2);
  assert_null (json_object_get (got.metadata, "labels"));
  assert_string_equal (json_string_value (json_object_get (got.status, "phase")),
                       "Running");
  ferry_internal_store_row_clear (&got);

  /* Update keeps status. */
  row.generation = 3;
  assert_int_equal (ferry_internal_store_update (st, &row), 0);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "p", &got), 1);
  assert_non_null (got.status);
  assert_int_equal (got.resource_version, 5);
  ferry_internal_store_row_clear (&got);

  /* Absent objects. */
  ferry_internal_store_row_clear (&row);
  make_row (&row, "Plan", "default", "ghost", 1);
  assert_int_equal (ferry_internal_store_update (st, &row), -1);
  assert_string_equal (ferry_get_error (), "plan default/ghost not found");
  ferry_internal_store_row_clear (&row);
  status = json_object ();
  assert_int_equal (ferry_internal_store_set_status (st, "NetworkMap", "prod",
                                                     "ghost", status), -1);
  assert_string_equal (ferry_get_error (), "networkmap prod/ghost not found");
  json_decref (status);

  /* Missing key fields. */
  memset (&row, 0, sizeof row);
  assert_int_equal (ferry_internal_store_insert (st, &row), -1);
  snprintf (msg, sizeof msg, "insert object: %s: kind, namespace, name and "
            "apiVersion are required", fx->db);
  assert_string_equal (ferry_get_error (), msg);

  free (uid);
  free (created);
  ferry_internal_store_close (st);
}

/* ---- transactions and concurrency -------------------------------------- */

static void
test_rollback (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  struct ferry_store_row row = { 0 };
  char msg[300];

  assert_non_null (st);
  insert (st, "Plan", "default", "kept", 1);

  assert_int_equal (ferry_internal_store_begin (st), 0);
  assert_int_equal (ferry_internal_store_begin (st), -1);
  snprintf (msg, sizeof msg, "begin transaction: %s: a transaction is already "
            "open (nested transactions are not supported)", fx->db);
  assert_string_equal (ferry_get_error (), msg);
  insert (st, "Plan", "default", "gone", 1);
  assert_int_equal (ferry_internal_store_delete (st, "Plan", "default", "kept"), 1);
  /* Visible inside the transaction... */
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "gone",
                                              &row), 1);
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_rollback (st);
  /* ...and not after the rollback. */
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "gone",
                                              &row), 0);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "kept",
                                              &row), 1);
  ferry_internal_store_row_clear (&row);

  assert_int_equal (ferry_internal_store_commit (st), -1);
  snprintf (msg, sizeof msg, "commit transaction: %s: no transaction is open",
            fx->db);
  assert_string_equal (ferry_get_error (), msg);

  /* Commit makes it stick, also for a new connection. */
  assert_int_equal (ferry_internal_store_begin (st), 0);
  insert (st, "Plan", "default", "committed", 1);
  assert_int_equal (ferry_internal_store_commit (st), 0);
  ferry_internal_store_close (st);
  st = ferry_internal_store_open (fx->db, FERRY_STORE_READONLY);
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "committed",
                                              &row), 1);
  ferry_internal_store_row_clear (&row);

  /* Read-only refuses writes. */
  assert_int_equal (ferry_internal_store_begin (st), -1);
  snprintf (msg, sizeof msg, "begin transaction: %s: the store is open "
            "read-only", fx->db);
  assert_string_equal (ferry_get_error (), msg);
  make_row (&row, "Plan", "default", "ro", 1);
  assert_int_equal (ferry_internal_store_insert (st, &row), -1);
  assert_non_null (strstr (ferry_get_error (), "readonly database"));
  assert_non_null (strstr (ferry_get_error (), fx->db));
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_close (st);
}

static void
test_reader_during_write (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *writer = ferry_internal_store_open (fx->db, 0);
  struct ferry_store *reader = ferry_internal_store_open (fx->db,
                                                          FERRY_STORE_READONLY);
  struct ferry_store_row row = { 0 };
  double t0;

  assert_non_null (writer);
  assert_non_null (reader);
  insert (writer, "Plan", "default", "old", 1);

  assert_int_equal (ferry_internal_store_begin (writer), 0);
  insert (writer, "Plan", "default", "new", 1);
  json_t *status = json_pack ("{s:s}", "phase", "Changed");
  assert_int_equal (ferry_internal_store_set_status (writer, "Plan", "default",
                                                     "old", status), 0);
  json_decref (status);

  /* The reader sees the last committed state at once (no busy wait). */
  t0 = now_s ();
  assert_int_equal (ferry_internal_store_get (reader, "Plan", "default", "new",
                                              &row), 0);
  assert_int_equal (ferry_internal_store_get (reader, "Plan", "default", "old",
                                              &row), 1);
  assert_null (row.status);
  assert_int_equal (row.resource_version, 1);
  ferry_internal_store_row_clear (&row);
  assert_true (now_s () - t0 < 1.0);

  assert_int_equal (ferry_internal_store_commit (writer), 0);
  assert_int_equal (ferry_internal_store_get (reader, "Plan", "default", "new",
                                              &row), 1);
  ferry_internal_store_row_clear (&row);
  assert_int_equal (ferry_internal_store_get (reader, "Plan", "default", "old",
                                              &row), 1);
  assert_non_null (row.status);
  ferry_internal_store_row_clear (&row);

  ferry_internal_store_close (reader);
  ferry_internal_store_close (writer);
}

/* Two writer processes: the child holds a write transaction for a while;
 * the parent's BEGIN IMMEDIATE waits for it (busy timeout) and then
 * succeeds, and both writes are there.
 */
static void
test_two_writers (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *st;
  struct ferry_store_row row = { 0 };
  int ready[2];
  pid_t pid;
  char c;
  double t0, waited;
  int status;

  /* Create the database first, but open no connection across fork(). */
  st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  ferry_internal_store_close (st);
  assert_int_equal (pipe (ready), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    struct ferry_store *cst = ferry_internal_store_open (fx->db, 0);
    struct ferry_store_row r;
    int ok = cst && ferry_internal_store_begin (cst) == 0;
    if (ok) {
      make_row (&r, "Plan", "default", "from-child", 1);
      ok = ferry_internal_store_insert (cst, &r) == 0;
      ferry_internal_store_row_clear (&r);
    }
    if (write (ready[1], ok ? "y" : "n", 1) != 1)
      _exit (2);
    usleep (700 * 1000);
    ok = ok && ferry_internal_store_commit (cst) == 0;
    ferry_internal_store_close (cst);
    _exit (ok ? 0 : 1);
  }
  close (ready[1]);
  assert_int_equal (read (ready[0], &c, 1), 1);
  close (ready[0]);
  assert_int_equal (c, 'y');

  st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  t0 = now_s ();
  assert_int_equal (ferry_internal_store_begin (st), 0);
  waited = now_s () - t0;
  insert (st, "Plan", "default", "from-parent", 1);
  assert_int_equal (ferry_internal_store_commit (st), 0);

  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  /* We really waited for the child's transaction. */
  assert_true (waited > 0.3);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default", "from-child",
                                              &row), 1);
  ferry_internal_store_row_clear (&row);
  assert_int_equal (ferry_internal_store_get (st, "Plan", "default",
                                              "from-parent", &row), 1);
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_close (st);
}

/* A writer that waits longer than its busy timeout fails and says why. */
static void
test_busy_timeout (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *st;
  int ready[2], done[2];
  char c, msg[300];
  pid_t pid;
  int status;

  st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  ferry_internal_store_close (st);
  assert_int_equal (pipe (ready), 0);
  assert_int_equal (pipe (done), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    struct ferry_store *cst = ferry_internal_store_open (fx->db, 0);
    int ok = cst && ferry_internal_store_begin (cst) == 0;
    if (write (ready[1], ok ? "y" : "n", 1) != 1)
      _exit (2);
    /* Hold the write lock until the parent has given up. */
    if (read (done[0], &c, 1) != 1)
      _exit (2);
    ferry_internal_store_rollback (cst);
    ferry_internal_store_close (cst);
    _exit (ok ? 0 : 1);
  }
  close (ready[1]);
  close (done[0]);
  assert_int_equal (read (ready[0], &c, 1), 1);
  assert_int_equal (c, 'y');

  st = ferry_internal_store_open (fx->db, 0);
  assert_non_null (st);
  assert_int_equal (ferry_internal_store_set_busy_timeout (st, 200), 0);
  assert_int_equal (ferry_internal_store_begin (st), -1);
  snprintf (msg, sizeof msg, "begin transaction: %s: another process kept the "
            "database locked for more than 0.2 s: database is locked", fx->db);
  assert_string_equal (ferry_get_error (), msg);
  /* A single write outside a transaction waits and fails the same way. */
  struct ferry_store_row row;
  make_row (&row, "Plan", "default", "blocked", 1);
  assert_int_equal (ferry_internal_store_insert (st, &row), -1);
  assert_non_null (strstr (ferry_get_error (), "database is locked"));
  ferry_internal_store_row_clear (&row);

  assert_int_equal (write (done[1], "x", 1), 1);
  close (done[1]);
  close (ready[0]);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  /* Free again. */
  assert_int_equal (ferry_internal_store_begin (st), 0);
  assert_int_equal (ferry_internal_store_commit (st), 0);
  ferry_internal_store_close (st);
}

/* ---- inventory --------------------------------------------------------- */

static json_t *
vm_doc (const char *name, int cpus)
{
  return json_pack ("{s:s, s:i, s:[{s:s}]}", "name", name, "cpuCount", cpus,
                    "nics", "mac", "00:50:56:00:00:01");
}

static void
put (struct ferry_store *st, const char *id, const char *name, int cpus)
{
  json_t *doc = vm_doc (name, cpus);
  assert_int_equal (ferry_internal_store_inv_put (st, "prov-1", "vm", id, name,
                                                  "folder-1", doc), 0);
  json_decref (doc);
}

static void
test_inventory (void **state)
{
  struct fixture *fx = *state;
  struct ferry_store *st = ferry_internal_store_open (fx->db, 0);
  json_t *doc, *list;
  int64_t m1, m2;

  assert_non_null (st);
  m1 = ferry_internal_store_inv_begin_sync (st, "prov-1");
  assert_true (m1 > 0);

  assert_int_equal (ferry_internal_store_begin (st), 0);
  put (st, "vm-3", "charlie", 1);
  put (st, "vm-1", "alpha", 2);
  put (st, "vm-2", "bravo", 4);
  assert_int_equal (ferry_internal_store_commit (st), 0);
  /* Another provider's entities are separate. */
  doc = vm_doc ("alpha", 8);
  assert_int_equal (ferry_internal_store_inv_put (st, "prov-2", "vm", "vm-1",
                                                  "alpha", NULL, doc), 0);
  json_decref (doc);

  /* get by id, then by name */
  doc = ferry_internal_store_inv_get (st, "prov-1", "vm", "vm-2");
  assert_non_null (doc);
  assert_int_equal (json_integer_value (json_object_get (doc, "cpuCount")), 4);
  json_decref (doc);
  doc = ferry_internal_store_inv_get (st, "prov-1", "vm", "alpha");
  assert_non_null (doc);
  assert_int_equal (json_integer_value (json_object_get (doc, "cpuCount")), 2);
  json_decref (doc);
  ferry_error ("stale");
  assert_null (ferry_internal_store_inv_get (st, "prov-1", "vm", "nope"));
  assert_string_equal (ferry_get_error (), "");
  assert_null (ferry_internal_store_inv_get (st, "prov-1", "host", "vm-1"));

  /* list ordered by name, only this provider and kind */
  list = ferry_internal_store_inv_list (st, "prov-1", "vm");
  assert_non_null (list);
  assert_int_equal (json_array_size (list), 3);
  assert_string_equal (json_string_value (json_object_get
                                          (json_array_get (list, 0), "name")),
                       "alpha");
  assert_string_equal (json_string_value (json_object_get
                                          (json_array_get (list, 2), "name")),
                       "charlie");
  json_decref (list);
  list = ferry_internal_store_inv_list (st, "prov-1", "network");
  assert_int_equal (json_array_size (list), 0);
  json_decref (list);

  /* revision: unchanged doc keeps it, a change bumps it */
  assert_int_equal (ferry_internal_store_inv_revision (st, "prov-1", "vm", "vm-1"), 1);
  put (st, "vm-1", "alpha", 2);
  assert_int_equal (ferry_internal_store_inv_revision (st, "prov-1", "vm", "vm-1"), 1);
  put (st, "vm-1", "alpha", 3);
  assert_int_equal (ferry_internal_store_inv_revision (st, "prov-1", "vm", "vm-1"), 2);
  /* Same content, keys in another order: still unchanged. */
  doc = json_pack ("{s:[{s:s}], s:i, s:s}", "nics", "mac", "00:50:56:00:00:01",
                   "cpuCount", 3, "name", "alpha");
  assert_int_equal (ferry_internal_store_inv_put (st, "prov-1", "vm", "vm-1",
                                                  "alpha", "folder-1", doc), 0);
  json_decref (doc);
  assert_int_equal (ferry_internal_store_inv_revision (st, "prov-1", "vm", "vm-1"), 2);
  assert_int_equal (ferry_internal_store_inv_revision (st, "prov-1", "vm", "vm-9"), 0);

  /* A new full sync that no longer sees vm-3: prune removes it. */
  m2 = ferry_internal_store_inv_begin_sync (st, "prov-1");
  assert_true (m2 > m1);
  put (st, "vm-1", "alpha", 3);
  put (st, "vm-2", "bravo", 4);
  assert_int_equal (ferry_internal_store_inv_prune (st, "prov-1", m2), 0);
  assert_null (ferry_internal_store_inv_get (st, "prov-1", "vm", "vm-3"));
  assert_string_equal (ferry_get_error (), "");
  doc = ferry_internal_store_inv_get (st, "prov-1", "vm", "vm-2");
  assert_non_null (doc);
  json_decref (doc);
  /* prov-2 untouched */
  doc = ferry_internal_store_inv_get (st, "prov-2", "vm", "vm-1");
  assert_non_null (doc);
  json_decref (doc);

  /* remove */
  assert_int_equal (ferry_internal_store_inv_remove (st, "prov-1", "vm", "vm-2"), 0);
  assert_null (ferry_internal_store_inv_get (st, "prov-1", "vm", "vm-2"));

  /* The mark lives in the database: another connection continues it. */
  ferry_internal_store_close (st);
  st = ferry_internal_store_open (fx->db, 0);
  assert_int_equal (ferry_internal_store_inv_begin_sync (st, "prov-1"), m2 + 1);

  /* Deleting the Provider object deletes its inventory. */
  struct ferry_store_row row;
  make_row (&row, "Provider", "default", "vsphere", 1);
  assert_int_equal (ferry_internal_store_insert (st, &row), 0);
  doc = vm_doc ("x", 1);
  assert_int_equal (ferry_internal_store_inv_put (st, row.uid, "vm", "vm-1", "x",
                                                  NULL, doc), 0);
  json_decref (doc);
  assert_int_equal (ferry_internal_store_delete (st, "Provider", "default",
                                                 "vsphere"), 1);
  assert_null (ferry_internal_store_inv_get (st, row.uid, "vm", "vm-1"));
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_close (st);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE_TEST (test_open_creates_private),
    FIXTURE_TEST (test_open_errors),
    FIXTURE_TEST (test_upgrade_from_v1),
    FIXTURE_TEST (test_refuse_newer),
    FIXTURE_TEST (test_readonly_old_schema),
    FIXTURE_TEST (test_crud),
    FIXTURE_TEST (test_versions),
    FIXTURE_TEST (test_rollback),
    FIXTURE_TEST (test_reader_during_write),
    FIXTURE_TEST (test_two_writers),
    FIXTURE_TEST (test_busy_timeout),
    FIXTURE_TEST (test_inventory),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

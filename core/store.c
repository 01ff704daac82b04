/* ferry core: the store (see store.h).
 *
 * Durability: journal_mode=WAL with synchronous=FULL.  The engine acts on
 * the outside world (powers VMs off, creates volumes) right after it commits
 * a state change, so a commit must survive power loss, not only a crash of
 * the process; NORMAL would keep the database consistent but could lose the
 * last commits.  In WAL mode FULL costs one fsync of the WAL per commit,
 * which is nothing next to a disk copy.
 *
 * Concurrency: readers never block (WAL); writers take BEGIN IMMEDIATE and
 * wait up to BUSY_TIMEOUT_MS for each other.  Statements are prepared once
 * per connection and reused; nothing is ever built from user strings.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <openssl/rand.h>

#include "internal.h"
#include "store.h"

#define BUSY_TIMEOUT_MS 10000           /* milliseconds */

enum query {
  Q_GET,
  Q_GET_SPEC,
  Q_INSERT,
  Q_UPDATE,
  Q_AFTER_UPDATE,
  Q_SET_STATUS,
  Q_GET_UID,
  Q_DELETE,
  Q_DELETE_INV_OF,
  Q_LIST,
  Q_INV_PUT,
  Q_INV_REMOVE,
  Q_INV_PRUNE,
  Q_INV_BEGIN_SYNC,
  Q_INV_GET_MARK,
  Q_INV_GET_ID,
  Q_INV_GET_NAME,
  Q_INV_LIST,
  Q_INV_REVISION,
  Q_VM_ROWS,
  Q_VM_PUT,
  Q_VM_GET,
  Q_VM_TRIM,
  Q_TOUCH_UID,
  Q_SET_STATUS_UID,
  Q_BEGIN,
  Q_COMMIT,
  Q_COUNT,
};

#define OBJECT_COLUMNS                                                  \
  "uid, kind, namespace, name, api_version, generation, resource_version, " \
  "created, metadata, spec, status, sealed"

static const char *const query_sql[Q_COUNT] = {
  [Q_GET] =
  "SELECT " OBJECT_COLUMNS " FROM objects"
  " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
  [Q_GET_SPEC] =
  "SELECT spec FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
  [Q_INSERT] =
  "INSERT INTO objects (" OBJECT_COLUMNS ")"
  " VALUES (?1, ?2, ?3, ?4, ?5, 1, 1, ?6, ?7, ?8, NULL, ?9)",
  [Q_UPDATE] =
  "UPDATE objects SET api_version = ?4, generation = ?5,"
  " resource_version = resource_version + 1,"
  " metadata = ?6, spec = ?7, sealed = ?8"
  " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
  [Q_AFTER_UPDATE] =
  "SELECT uid, created, resource_version FROM objects"
  " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
  [Q_SET_STATUS] =
  "UPDATE objects SET status = ?4, resource_version = resource_version + 1"
  " WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
  [Q_GET_UID] =
  "SELECT uid FROM objects WHERE kind = ?1 AND namespace = ?2 AND name = ?3",
  [Q_DELETE] =
  "DELETE FROM objects WHERE uid = ?1",
  [Q_DELETE_INV_OF] =
  "DELETE FROM inventory WHERE provider_uid = ?1",
  [Q_LIST] =
  "SELECT " OBJECT_COLUMNS " FROM objects"
  " WHERE kind = ?1 AND (?2 IS NULL OR namespace = ?2)"
  " ORDER BY namespace, name",
  /* The revision moves only when what the entity says changes; the doc is
   * serialised with sorted keys so equal documents compare equal.
   */
  [Q_INV_PUT] =
  "INSERT INTO inventory"
  " (provider_uid, kind, id, name, parent, revision, sync_mark, doc)"
  " VALUES (?1, ?2, ?3, ?4, ?5, 1,"
  "  coalesce ((SELECT mark FROM inventory_sync WHERE provider_uid = ?1), 0),"
  "  ?6)"
  " ON CONFLICT (provider_uid, kind, id) DO UPDATE SET"
  "  revision = revision + (doc IS NOT excluded.doc"
  "                         OR name IS NOT excluded.name"
  "                         OR parent IS NOT excluded.parent),"
  "  name = excluded.name, parent = excluded.parent,"
  "  sync_mark = excluded.sync_mark, doc = excluded.doc",
  [Q_INV_REMOVE] =
  "DELETE FROM inventory WHERE provider_uid = ?1 AND kind = ?2 AND id = ?3",
  [Q_INV_PRUNE] =
  "DELETE FROM inventory WHERE provider_uid = ?1 AND sync_mark < ?2",
  [Q_INV_BEGIN_SYNC] =
  "INSERT INTO inventory_sync (provider_uid, mark) VALUES (?1, 1)"
  " ON CONFLICT (provider_uid) DO UPDATE SET mark = mark + 1",
  [Q_INV_GET_MARK] =
  "SELECT mark FROM inventory_sync WHERE provider_uid = ?1",
  [Q_INV_GET_ID] =
  "SELECT doc FROM inventory WHERE provider_uid = ?1 AND kind = ?2 AND id = ?3",
  [Q_INV_GET_NAME] =
  "SELECT doc FROM inventory WHERE provider_uid = ?1 AND kind = ?2 AND name = ?3"
  " ORDER BY id LIMIT 1",
  [Q_INV_LIST] =
  "SELECT doc FROM inventory WHERE provider_uid = ?1 AND kind = ?2"
  " ORDER BY name, id",
  [Q_INV_REVISION] =
  "SELECT revision FROM inventory"
  " WHERE provider_uid = ?1 AND kind = ?2 AND id = ?3",
  [Q_VM_ROWS] =
  "SELECT status FROM migration_vms WHERE migration_uid = ?1"
  " ORDER BY position",
  [Q_VM_PUT] =
  "INSERT INTO migration_vms (migration_uid, position, status, vm_id)"
  " VALUES (?1, ?2, ?3, ?4)"
  " ON CONFLICT (migration_uid, position) DO UPDATE SET"
  "  status = excluded.status, vm_id = excluded.vm_id",
  [Q_VM_GET] =
  "SELECT status FROM migration_vms WHERE migration_uid = ?1 AND vm_id = ?2"
  " ORDER BY position LIMIT 1",
  [Q_VM_TRIM] =
  "DELETE FROM migration_vms WHERE migration_uid = ?1 AND position >= ?2",
  [Q_TOUCH_UID] =
  "UPDATE objects SET resource_version = resource_version + 1 WHERE uid = ?1",
  [Q_SET_STATUS_UID] =                  /* schema upgrades: no new version */
  "UPDATE objects SET status = ?2 WHERE uid = ?1",
  /* Prepared once, not parsed per transaction: the engine commits often. */
  [Q_BEGIN] = "BEGIN IMMEDIATE",
  [Q_COMMIT] = "COMMIT",
};

/* Schema steps: steps[v - 1] takes the database from v - 1 to v.  Each
 * runs in its own transaction together with the user_version bump.  JSON
 * columns are declared TEXT: a column declared "JSON" would get NUMERIC
 * affinity and sqlite would turn a document such as 1e3 into a number.
 */
static const char *const schema_steps[FERRY_STORE_SCHEMA_VERSION] = {
  /* 1: objects */
  "CREATE TABLE objects ("
  " uid TEXT PRIMARY KEY NOT NULL,"
  " kind TEXT NOT NULL,"
  " namespace TEXT NOT NULL,"
  " name TEXT NOT NULL,"
  " api_version TEXT NOT NULL,"
  " generation INTEGER NOT NULL,"
  " resource_version INTEGER NOT NULL,"
  " created TEXT NOT NULL,"
  " metadata TEXT,"                     /* JSON */
  " spec TEXT,"                         /* JSON */
  " status TEXT,"                       /* JSON */
  " sealed BLOB,"
  " UNIQUE (kind, namespace, name)"
  ");",
  /* 2: inventory, plus the current sync mark of each provider (kept in
   * the database so an incremental watch in one process and a full sync
   * in another agree on it).
   */
  "CREATE TABLE inventory ("
  " provider_uid TEXT NOT NULL,"
  " kind TEXT NOT NULL,"
  " id TEXT NOT NULL,"
  " name TEXT,"
  " parent TEXT,"
  " revision INTEGER NOT NULL,"
  " sync_mark INTEGER NOT NULL,"
  " doc TEXT NOT NULL,"                 /* JSON */
  " PRIMARY KEY (provider_uid, kind, id)"
  ");"
  "CREATE INDEX inventory_by_name ON inventory (provider_uid, kind, name);"
  "CREATE INDEX inventory_by_parent ON inventory (provider_uid, kind, parent);"
  "CREATE TABLE inventory_sync ("
  " provider_uid TEXT PRIMARY KEY NOT NULL,"
  " mark INTEGER NOT NULL"
  ");",
  /* 3: a Migration's status.vms[i] as a row of its own (see store.h);
   * move_vms_to_rows moves the entries of existing Migrations.
   */
  "CREATE TABLE migration_vms ("
  " migration_uid TEXT NOT NULL REFERENCES objects (uid) ON DELETE CASCADE,"
  " position INTEGER NOT NULL,"         /* index in status.vms */
  " vm_id TEXT,"                        /* the entry's id */
  " status TEXT NOT NULL,"              /* JSON: the entry */
  " PRIMARY KEY (migration_uid, position)"
  ");"
  "CREATE INDEX migration_vms_by_vm ON migration_vms (migration_uid, vm_id);",
};

struct ferry_store {
  sqlite3 *db;
  char *path;
  unsigned flags;                       /* FERRY_STORE_* */
  bool in_txn;                          /* inside ferry_internal_store_begin */
  int busy_timeout_ms;                  /* milliseconds */
  sqlite3_stmt *stmts[Q_COUNT];         /* prepared lazily */
};

/* Report "<op>: <path>: <sqlite message>". */
static void store_error (struct ferry_store *st, const char *fs, ...)
  FERRY_PRINTF (2, 3);

static void
store_error (struct ferry_store *st, const char *fs, ...)
{
  char op[1024];
  va_list args;

  va_start (args, fs);
  vsnprintf (op, sizeof op, fs, args);
  va_end (args);
  ferry_error ("%s: %s: %s", op, st->path,
               st->db ? sqlite3_errmsg (st->db) : "out of memory");
}

void
ferry_internal_not_found_error (const char *kind, const char *ns,
                                const char *name)
{
  char lower[64];
  size_t i;

  for (i = 0; kind[i] && i < sizeof lower - 1; i++)
    lower[i] = (kind[i] >= 'A' && kind[i] <= 'Z') ? kind[i] - 'A' + 'a' : kind[i];
  lower[i] = '\0';
  ferry_error ("%s %s/%s not found", lower, ns, name);
}

static void
reset_stmt (sqlite3_stmt **s)
{
  if (*s) {
    sqlite3_reset (*s);
    sqlite3_clear_bindings (*s);
  }
}
/* A prepared statement handed back (reset, bindings cleared) at scope exit. */
#define CLEANUP_RESET __attribute__((cleanup (reset_stmt)))

static sqlite3_stmt *
get_stmt (struct ferry_store *st, enum query q)
{
  if (!st->stmts[q]
      && sqlite3_prepare_v3 (st->db, query_sql[q], -1,
                             SQLITE_PREPARE_PERSISTENT, &st->stmts[q],
                             NULL) != SQLITE_OK) {
    store_error (st, "prepare statement %d", (int) q);
    return NULL;
  }
  return st->stmts[q];
}

/* Run SQL without results (fixed text only). */
static int
exec_sql (struct ferry_store *st, const char *what, const char *sql)
{
  if (sqlite3_exec (st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    store_error (st, "%s", what);
    return -1;
  }
  return 0;
}

static int
bind_text (sqlite3_stmt *s, int i, const char *v)
{
  return v ? sqlite3_bind_text (s, i, v, -1, SQLITE_TRANSIENT)
    : sqlite3_bind_null (s, i);
}

/* The one form of stored JSON: compact, keys sorted (so `ferry get` shows
 * every object's keys in one order, and equal documents compare equal).
 */
char *
ferry_internal_store_dump_json (const json_t *v)
{
  return json_dumps (v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Serialise v (NULL stays SQL NULL). */
static int
bind_json (struct ferry_store *st, sqlite3_stmt *s, int i, const json_t *v,
           const char *what)
{
  if (!v)
    return sqlite3_bind_null (s, i);
  CLEANUP_FREE char *text = ferry_internal_store_dump_json (v);
  if (!text) {
    ferry_error ("%s: %s: cannot serialise JSON (strings must be UTF-8)",
                 what, st->path);
    return -2;
  }
  return sqlite3_bind_text (s, i, text, -1, SQLITE_TRANSIENT);
}

static int
bind_sealed (sqlite3_stmt *s, int i, const struct ferry_store_row *row)
{
  if (!row->sealed)
    return sqlite3_bind_null (s, i);
  if (row->sealed_len > INT_MAX)
    return SQLITE_TOOBIG;
  return sqlite3_bind_blob (s, i, row->sealed, (int) row->sealed_len,
                            SQLITE_TRANSIENT);
}

static int
bind_key (sqlite3_stmt *s, const char *kind, const char *ns, const char *name)
{
  int r;
  if ((r = bind_text (s, 1, kind)) != SQLITE_OK
      || (r = bind_text (s, 2, ns)) != SQLITE_OK
      || (r = bind_text (s, 3, name)) != SQLITE_OK)
    return r;
  return SQLITE_OK;
}

/* ---- Transactions ------------------------------------------------------ */

/* Step a prepared statement that returns no rows: SQLITE_OK or the error
 * (message in the connection).
 */
static int
step_cached (struct ferry_store *st, enum query q)
{
  sqlite3_stmt *s = get_stmt (st, q);
  int r;

  if (!s)
    return SQLITE_ERROR;
  r = sqlite3_step (s);
  sqlite3_reset (s);
  return r == SQLITE_DONE ? SQLITE_OK : r;
}

static int
txn_begin (struct ferry_store *st)
{
  int r = step_cached (st, Q_BEGIN);
  if (r != SQLITE_OK) {
    if ((r & 0xff) == SQLITE_BUSY)
      ferry_error ("begin transaction: %s: another process kept the database "
                   "locked for more than %g s: %s", st->path,
                   st->busy_timeout_ms / 1000.0, sqlite3_errmsg (st->db));
    else
      store_error (st, "begin transaction");
    return -1;
  }
  return 0;
}

static int
txn_commit (struct ferry_store *st)
{
  if (step_cached (st, Q_COMMIT) != SQLITE_OK) {
    store_error (st, "commit transaction");
    if (!sqlite3_get_autocommit (st->db))
      sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

static void
txn_rollback (struct ferry_store *st)
{
  /* sqlite may already have rolled back after an I/O error or SQLITE_FULL. */
  if (!sqlite3_get_autocommit (st->db))
    sqlite3_exec (st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
ferry_internal_store_begin (struct ferry_store *st)
{
  if (st->in_txn) {
    ferry_error ("begin transaction: %s: a transaction is already open "
                 "(nested transactions are not supported)", st->path);
    return -1;
  }
  if (st->flags & FERRY_STORE_READONLY) {
    ferry_error ("begin transaction: %s: the store is open read-only", st->path);
    return -1;
  }
  if (txn_begin (st) == -1)
    return -1;
  st->in_txn = true;
  return 0;
}

int
ferry_internal_store_commit (struct ferry_store *st)
{
  if (!st->in_txn) {
    ferry_error ("commit transaction: %s: no transaction is open", st->path);
    return -1;
  }
  st->in_txn = false;
  return txn_commit (st);
}

void
ferry_internal_store_rollback (struct ferry_store *st)
{
  if (st && st->in_txn) {
    st->in_txn = false;
    txn_rollback (st);
  }
}

/* Writes that take several statements run in the caller's transaction, or
 * in their own when the caller has none.
 */
static int
auto_begin (struct ferry_store *st, bool *own)
{
  *own = false;
  if (st->in_txn)
    return 0;
  if (st->flags & FERRY_STORE_READONLY) {
    ferry_error ("write to %s: the store is open read-only", st->path);
    return -1;
  }
  if (txn_begin (st) == -1)
    return -1;
  *own = true;
  return 0;
}

static int
auto_end (struct ferry_store *st, bool own, int r)
{
  if (!own)
    return r;
  if (r < 0) {
    txn_rollback (st);
    return r;
  }
  if (txn_commit (st) == -1)
    return -1;
  return r;
}

/* ---- Open, schema ------------------------------------------------------ */

static int move_vms_to_rows (struct ferry_store *st);

/* Data moves that go with a schema step (same transaction), or NULL. */
static int (*const schema_fixups[FERRY_STORE_SCHEMA_VERSION]) (struct ferry_store *st) = {
  [2] = move_vms_to_rows,
};

static int
read_user_version (struct ferry_store *st)
{
  sqlite3_stmt *s = NULL;
  int v = -1;

  if (sqlite3_prepare_v2 (st->db, "PRAGMA user_version", -1, &s, NULL)
      != SQLITE_OK) {
    store_error (st, "read schema version");
    return -1;
  }
  if (sqlite3_step (s) == SQLITE_ROW)
    v = sqlite3_column_int (s, 0);
  else
    store_error (st, "read schema version");
  sqlite3_finalize (s);
  return v;
}

int
ferry_internal_store_set_busy_timeout (struct ferry_store *st, int ms)
{
  if (sqlite3_busy_timeout (st->db, ms) != SQLITE_OK) {
    store_error (st, "set busy timeout");
    return -1;
  }
  st->busy_timeout_ms = ms;
  return 0;
}

int
ferry_internal_store_schema_version (struct ferry_store *st)
{
  return read_user_version (st);
}

static int
check_newer (struct ferry_store *st, int v)
{
  if (v > FERRY_STORE_SCHEMA_VERSION) {
    ferry_error ("ferry.db has schema version %d; this ferry knows up to %d: "
                 "upgrade ferry (database %s)",
                 v, FERRY_STORE_SCHEMA_VERSION, st->path);
    return -1;
  }
  return 0;
}

static int
upgrade_schema (struct ferry_store *st)
{
  int v = read_user_version (st);

  if (v == -1 || check_newer (st, v) == -1)
    return -1;
  if (st->flags & FERRY_STORE_READONLY) {
    if (v < FERRY_STORE_SCHEMA_VERSION) {
      ferry_error ("%s has schema version %d, older than %d: open it once "
                   "without read-only mode to upgrade it",
                   st->path, v, FERRY_STORE_SCHEMA_VERSION);
      return -1;
    }
    return 0;
  }

  while (v < FERRY_STORE_SCHEMA_VERSION) {
    char bump[64];

    if (txn_begin (st) == -1)
      return -1;
    /* Another process may have upgraded while we waited for the lock. */
    v = read_user_version (st);
    if (v == -1 || check_newer (st, v) == -1) {
      txn_rollback (st);
      return -1;
    }
    if (v == FERRY_STORE_SCHEMA_VERSION) {
      txn_rollback (st);
      break;
    }
    snprintf (bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
    if (sqlite3_exec (st->db, schema_steps[v], NULL, NULL, NULL) != SQLITE_OK
        || sqlite3_exec (st->db, bump, NULL, NULL, NULL) != SQLITE_OK) {
      store_error (st, "upgrade schema from version %d to %d", v, v + 1);
      txn_rollback (st);
      return -1;
    }
    if (schema_fixups[v] && schema_fixups[v] (st) == -1) {
      ferry_error_prefix ("upgrade schema from version %d to %d", v, v + 1);
      txn_rollback (st);
      return -1;
    }
    if (txn_commit (st) == -1)
      return -1;
    v++;
  }
  return 0;
}

/* Create the file 0600 before sqlite opens it, so that sqlite's -wal and
 * -shm files, which copy the database file's mode, are private too.
 */
static int
create_private_file (const char *path)
{
  CLEANUP_CLOSE int fd = -1;
  struct stat sb;

  /* An existing database is never open()ed and close()d here: closing any
   * descriptor of it drops every POSIX lock this process holds on it, which
   * breaks sqlite's locking for the other connections of the process (the
   * engine opens one per VM thread) and loses their updates.
   */
  if (stat (path, &sb) == 0)
    goto check;
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd == -1) {
    ferry_error_errno (errno, "create store %s", path);
    return -1;
  }
  if (fstat (fd, &sb) == -1) {
    ferry_error_errno (errno, "stat store %s", path);
    return -1;
  }
 check:
  if (!S_ISREG (sb.st_mode)) {
    ferry_error ("open store %s: not a regular file", path);
    return -1;
  }
  if (sb.st_mode & 077)
    ferry_log (FERRY_LOG_WARN, "store %s has mode %04o, readable by other "
               "users: chmod 600 it", path, (unsigned) (sb.st_mode & 07777));
  return 0;
}

struct ferry_store *
ferry_internal_store_open (const char *path, unsigned flags)
{
  bool ro = flags & FERRY_STORE_READONLY;
  struct ferry_store *st;
  int r;

  if (flags & ~FERRY_STORE_READONLY) {
    ferry_error ("open store %s: unknown flags 0x%x", path, flags);
    return NULL;
  }
  if (ro) {
    /* Never create; say so plainly instead of sqlite's generic message. */
    if (access (path, F_OK) == -1) {
      ferry_error_errno (errno, "open store %s read-only", path);
      return NULL;
    }
  }
  else if (create_private_file (path) == -1)
    return NULL;

  st = calloc (1, sizeof *st);
  if (!st || !(st->path = strdup (path))) {
    ferry_error_errno (errno, "open store %s", path);
    free (st);
    return NULL;
  }
  st->flags = flags;

  r = sqlite3_open_v2 (path, &st->db,
                       (ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
                       | SQLITE_OPEN_NOFOLLOW, NULL);
  if (r != SQLITE_OK) {
    store_error (st, "open store");
    goto err;
  }
  sqlite3_extended_result_codes (st->db, 1);
  if (ferry_internal_store_set_busy_timeout (st, BUSY_TIMEOUT_MS) == -1)
    goto err;
  if (exec_sql (st, "enable foreign keys", "PRAGMA foreign_keys = ON") == -1)
    goto err;
  /* Refuse a newer database before changing anything in it. */
  if ((r = read_user_version (st)) == -1 || check_newer (st, r) == -1)
    goto err;

  if (!ro) {
    sqlite3_stmt *s = NULL;
    const char *mode = NULL;
    bool wal;

    if (sqlite3_prepare_v2 (st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL)
        != SQLITE_OK) {
      store_error (st, "set journal_mode=WAL");
      goto err;
    }
    if (sqlite3_step (s) == SQLITE_ROW)
      mode = (const char *) sqlite3_column_text (s, 0);
    wal = mode && strcmp (mode, "wal") == 0;
    if (!wal)
      store_error (st, "set journal_mode=WAL (got %s)", mode ? mode : "nothing");
    sqlite3_finalize (s);
    if (!wal)
      goto err;
    if (exec_sql (st, "set synchronous=FULL", "PRAGMA synchronous = FULL") == -1)
      goto err;
  }

  if (upgrade_schema (st) == -1)
    goto err;
  return st;

 err:
  ferry_internal_store_close (st);
  return NULL;
}

void
ferry_internal_store_close (struct ferry_store *st)
{
  if (!st)
    return;
  if (st->db) {
    ferry_internal_store_rollback (st);
    for (size_t i = 0; i < Q_COUNT; i++)
      sqlite3_finalize (st->stmts[i]);
    sqlite3_close (st->db);
  }
  free (st->path);
  free (st);
}

/* ---- Objects ----------------------------------------------------------- */

void
ferry_internal_store_row_clear (struct ferry_store_row *row)
{
  if (!row)
    return;
  free (row->uid);
  free (row->kind);
  free (row->ns);
  free (row->name);
  free (row->api_version);
  free (row->created);
  json_decref (row->metadata);
  json_decref (row->spec);
  json_decref (row->status);
  free (row->sealed);
  memset (row, 0, sizeof *row);
}

static int
column_strdup (sqlite3_stmt *s, int i, char **out)
{
  const unsigned char *t = sqlite3_column_text (s, i);
  *out = NULL;
  if (!t)
    return 0;
  *out = strdup ((const char *) t);
  return *out ? 0 : -1;
}

static int
column_json (struct ferry_store *st, sqlite3_stmt *s, int i, json_t **out,
             const char *what)
{
  const char *t = (const char *) sqlite3_column_text (s, i);
  json_error_t e;

  *out = NULL;
  if (!t)
    return 0;
  *out = json_loads (t, JSON_DECODE_ANY, &e);
  if (!*out) {
    ferry_error ("read %s: %s: stored %s is not valid JSON: %s",
                 what, st->path, sqlite3_column_name (s, i), e.text);
    return -1;
  }
  return 0;
}

/* Fill row from a statement positioned on OBJECT_COLUMNS. */
static int
row_from_stmt (struct ferry_store *st, sqlite3_stmt *s,
               struct ferry_store_row *row)
{
  struct ferry_store_row r = { 0 };
  const void *blob;
  int blen;

  if (column_strdup (s, 0, &r.uid) == -1
      || column_strdup (s, 1, &r.kind) == -1
      || column_strdup (s, 2, &r.ns) == -1
      || column_strdup (s, 3, &r.name) == -1
      || column_strdup (s, 4, &r.api_version) == -1
      || column_strdup (s, 7, &r.created) == -1) {
    ferry_error_errno (errno, "read object from %s", st->path);
    goto err;
  }
  r.generation = sqlite3_column_int64 (s, 5);
  r.resource_version = sqlite3_column_int64 (s, 6);
  if (column_json (st, s, 8, &r.metadata, r.name) == -1
      || column_json (st, s, 9, &r.spec, r.name) == -1
      || column_json (st, s, 10, &r.status, r.name) == -1)
    goto err;
  blob = sqlite3_column_blob (s, 11);
  blen = sqlite3_column_bytes (s, 11);
  if (blob && blen > 0) {
    r.sealed = malloc (blen);
    if (!r.sealed) {
      ferry_error_errno (errno, "read object from %s", st->path);
      goto err;
    }
    memcpy (r.sealed, blob, blen);
    r.sealed_len = blen;
  }
  *row = r;
  return 0;

 err:
  ferry_internal_store_row_clear (&r);
  return -1;
}

static int attach_vm_rows (struct ferry_store *st, struct ferry_store_row *row);

static int
get_object (struct ferry_store *st, const char *kind, const char *ns,
            const char *name, struct ferry_store_row *row, bool vms)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_GET);
  int r;

  if (!s)
    return -1;
  if (bind_key (s, kind, ns, name) != SQLITE_OK) {
    store_error (st, "get %s %s/%s", kind, ns, name);
    return -1;
  }
  r = sqlite3_step (s);
  if (r == SQLITE_DONE)
    return 0;
  if (r != SQLITE_ROW) {
    store_error (st, "get %s %s/%s", kind, ns, name);
    return -1;
  }
  if (row_from_stmt (st, s, row) == -1)
    return -1;
  /* Read while s is still stepped: the rows come from the same snapshot. */
  if (vms && attach_vm_rows (st, row) == -1) {
    ferry_internal_store_row_clear (row);
    return -1;
  }
  return 1;
}

int
ferry_internal_store_get (struct ferry_store *st, const char *kind,
                          const char *ns, const char *name,
                          struct ferry_store_row *row)
{
  return get_object (st, kind, ns, name, row, true);
}

int
ferry_internal_store_get_without_vms (struct ferry_store *st, const char *kind,
                                      const char *ns, const char *name,
                                      struct ferry_store_row *row)
{
  return get_object (st, kind, ns, name, row, false);
}

int
ferry_internal_store_get_spec (struct ferry_store *st, const char *kind,
                               const char *ns, const char *name, json_t **spec)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_GET_SPEC);
  int r;

  *spec = NULL;
  if (!s)
    return -1;
  if (bind_key (s, kind, ns, name) != SQLITE_OK) {
    store_error (st, "get spec of %s %s/%s", kind, ns, name);
    return -1;
  }
  r = sqlite3_step (s);
  if (r == SQLITE_DONE)
    return 0;
  if (r != SQLITE_ROW) {
    store_error (st, "get spec of %s %s/%s", kind, ns, name);
    return -1;
  }
  if (column_json (st, s, 0, spec, name) == -1)
    return -1;
  return 1;
}

/* RFC 4122 version 4 from the OpenSSL CSPRNG. */
static char *
new_uid (void)
{
  unsigned char b[16];
  char *u;

  if (RAND_bytes (b, sizeof b) != 1) {
    ferry_error ("generate a uid: RAND_bytes failed");
    return NULL;
  }
  b[6] = (b[6] & 0x0f) | 0x40;          /* version 4 */
  b[8] = (b[8] & 0x3f) | 0x80;          /* variant 10 */
  if (asprintf (&u, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]) == -1) {
    ferry_error_errno (errno, "generate a uid");
    return NULL;
  }
  return u;
}

static int
check_key (struct ferry_store *st, const char *op,
           const struct ferry_store_row *row)
{
  if (!row->kind || !row->ns || !row->name || !row->api_version) {
    ferry_error ("%s: %s: kind, namespace, name and apiVersion are required",
                 op, st->path);
    return -1;
  }
  return 0;
}

int
ferry_internal_store_insert (struct ferry_store *st,
                             struct ferry_store_row *row)
{
  CLEANUP_RESET sqlite3_stmt *s = NULL;
  CLEANUP_FREE char *uid = NULL, *created = NULL;
  int r;

  if (check_key (st, "insert object", row) == -1)
    return -1;
  s = get_stmt (st, Q_INSERT);
  if (!s)
    return -1;
  uid = new_uid ();
  created = ferry_internal_now_rfc3339 ();
  if (!uid)
    return -1;
  if (!created) {
    ferry_error_errno (errno, "insert %s %s/%s", row->kind, row->ns, row->name);
    return -1;
  }
  if ((r = sqlite3_bind_text (s, 1, uid, -1, SQLITE_TRANSIENT)) != SQLITE_OK
      || (r = bind_text (s, 2, row->kind)) != SQLITE_OK
      || (r = bind_text (s, 3, row->ns)) != SQLITE_OK
      || (r = bind_text (s, 4, row->name)) != SQLITE_OK
      || (r = bind_text (s, 5, row->api_version)) != SQLITE_OK
      || (r = bind_text (s, 6, created)) != SQLITE_OK
      || (r = bind_json (st, s, 7, row->metadata, "insert object")) != SQLITE_OK
      || (r = bind_json (st, s, 8, row->spec, "insert object")) != SQLITE_OK
      || (r = bind_sealed (s, 9, row)) != SQLITE_OK) {
    if (r != -2)
      store_error (st, "insert %s %s/%s", row->kind, row->ns, row->name);
    return -1;
  }
  r = sqlite3_step (s);
  if (r == SQLITE_CONSTRAINT_UNIQUE) {
    ferry_error ("insert %s %s/%s: %s: it already exists",
                 row->kind, row->ns, row->name, st->path);
    return -1;
  }
  if (r != SQLITE_DONE) {
    store_error (st, "insert %s %s/%s", row->kind, row->ns, row->name);
    return -1;
  }
  free (row->uid);
  free (row->created);
  row->uid = ferry_steal (&uid);
  row->created = ferry_steal (&created);
  row->generation = 1;
  row->resource_version = 1;
  return 0;
}

static int
update_locked (struct ferry_store *st, struct ferry_store_row *row)
{
  int r;

  {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_UPDATE);
    if (!s)
      return -1;
    if ((r = bind_key (s, row->kind, row->ns, row->name)) != SQLITE_OK
        || (r = bind_text (s, 4, row->api_version)) != SQLITE_OK
        || (r = sqlite3_bind_int64 (s, 5, row->generation)) != SQLITE_OK
        || (r = bind_json (st, s, 6, row->metadata, "update object")) != SQLITE_OK
        || (r = bind_json (st, s, 7, row->spec, "update object")) != SQLITE_OK
        || (r = bind_sealed (s, 8, row)) != SQLITE_OK
        || (r = sqlite3_step (s)) != SQLITE_DONE) {
      if (r != -2)
        store_error (st, "update %s %s/%s", row->kind, row->ns, row->name);
      return -1;
    }
    if (sqlite3_changes (st->db) == 0) {
      ferry_internal_not_found_error (row->kind, row->ns, row->name);
      return -1;
    }
  }
  {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_AFTER_UPDATE);
    char *uid = NULL, *created = NULL;
    if (!s)
      return -1;
    if (bind_key (s, row->kind, row->ns, row->name) != SQLITE_OK
        || sqlite3_step (s) != SQLITE_ROW) {
      store_error (st, "update %s %s/%s", row->kind, row->ns, row->name);
      return -1;
    }
    if (column_strdup (s, 0, &uid) == -1 || column_strdup (s, 1, &created) == -1) {
      free (uid);
      ferry_error_errno (errno, "update %s %s/%s", row->kind, row->ns, row->name);
      return -1;
    }
    free (row->uid);
    free (row->created);
    row->uid = uid;
    row->created = created;
    row->resource_version = sqlite3_column_int64 (s, 2);
  }
  return 0;
}

int
ferry_internal_store_update (struct ferry_store *st,
                             struct ferry_store_row *row)
{
  bool own;

  if (check_key (st, "update object", row) == -1
      || auto_begin (st, &own) == -1)
    return -1;
  return auto_end (st, own, update_locked (st, row));
}

/* The uid of kind ns/name into *uid (caller frees): 1, 0 when there is
 * no such object (*uid NULL), -1 on error.
 */
static int
get_uid (struct ferry_store *st, const char *kind, const char *ns,
         const char *name, char **uid)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_GET_UID);
  int r;

  *uid = NULL;
  if (!s)
    return -1;
  if (bind_key (s, kind, ns, name) != SQLITE_OK
      || ((r = sqlite3_step (s)) != SQLITE_ROW && r != SQLITE_DONE)) {
    store_error (st, "get the uid of %s %s/%s", kind, ns, name);
    return -1;
  }
  if (r == SQLITE_DONE)
    return 0;
  if (column_strdup (s, 0, uid) == -1) {
    ferry_error_errno (errno, "get the uid of %s %s/%s", kind, ns, name);
    return -1;
  }
  return 1;
}

static int
delete_locked (struct ferry_store *st, const char *kind, const char *ns,
               const char *name)
{
  CLEANUP_FREE char *uid = NULL;
  int found = get_uid (st, kind, ns, name, &uid);

  if (found <= 0)
    return found;
  {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_DELETE);
    if (!s)
      return -1;
    if (bind_text (s, 1, uid) != SQLITE_OK || sqlite3_step (s) != SQLITE_DONE) {
      store_error (st, "delete %s %s/%s", kind, ns, name);
      return -1;
    }
  }
  /* A provider's inventory goes with it. */
  if (strcmp (kind, "Provider") == 0) {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_DELETE_INV_OF);
    if (!s)
      return -1;
    if (bind_text (s, 1, uid) != SQLITE_OK || sqlite3_step (s) != SQLITE_DONE) {
      store_error (st, "delete the inventory of provider %s/%s", ns, name);
      return -1;
    }
  }
  return 1;
}

int
ferry_internal_store_delete (struct ferry_store *st, const char *kind,
                             const char *ns, const char *name)
{
  bool own;

  if (auto_begin (st, &own) == -1)
    return -1;
  return auto_end (st, own, delete_locked (st, kind, ns, name));
}

static int
list_objects (struct ferry_store *st, const char *kind, const char *ns,
              bool vms, ferry_store_row_fn fn, void *opaque)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_LIST);
  int r;

  if (!s)
    return -1;
  if (bind_text (s, 1, kind) != SQLITE_OK || bind_text (s, 2, ns) != SQLITE_OK) {
    store_error (st, "list %s", kind);
    return -1;
  }
  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    struct ferry_store_row row = { 0 };
    int fr;

    if (row_from_stmt (st, s, &row) == -1
        || (vms && attach_vm_rows (st, &row) == -1)) {
      ferry_internal_store_row_clear (&row);
      return -1;
    }
    fr = fn (opaque, &row);
    ferry_internal_store_row_clear (&row);
    if (fr == -1)
      return -1;
  }
  if (r != SQLITE_DONE) {
    store_error (st, "list %s", kind);
    return -1;
  }
  return 0;
}

int
ferry_internal_store_list (struct ferry_store *st, const char *kind,
                           const char *ns, ferry_store_row_fn fn,
                           void *opaque)
{
  return list_objects (st, kind, ns, true, fn, opaque);
}

int
ferry_internal_store_list_without_vms (struct ferry_store *st,
                                       const char *kind, const char *ns,
                                       ferry_store_row_fn fn, void *opaque)
{
  return list_objects (st, kind, ns, false, fn, opaque);
}

/* ---- Migration VM rows (schema v3) ------------------------------------ */

static bool
is_migration (const char *kind)
{
  return kind && strcmp (kind, "Migration") == 0;
}

/* What the objects row keeps of a Migration's status (new reference):
 * everything but status.vms, whose entries are rows; an empty vms array
 * stays, so the status reads back with it.
 */
static json_t *
own_status (const json_t *status)
{
  const json_t *vms = json_object_get (status, "vms");
  json_t *own;

  if (!json_is_array (vms) || json_array_size (vms) == 0)
    return json_incref ((json_t *) status);
  own = json_copy ((json_t *) status);
  if (own)
    json_object_del (own, "vms");
  return own;
}

/* A Migration's VM rows, in order, as row->status.vms; row->status is
 * left as stored when the Migration has none.
 */
static int
attach_vm_rows (struct ferry_store *st, struct ferry_store_row *row)
{
  CLEANUP_RESET sqlite3_stmt *s = NULL;
  CLEANUP_JSON_DECREF json_t *vms = NULL;
  int r;

  if (!is_migration (row->kind))
    return 0;
  s = get_stmt (st, Q_VM_ROWS);
  if (!s)
    return -1;
  if (bind_text (s, 1, row->uid) != SQLITE_OK) {
    store_error (st, "read the VMs of migration %s/%s", row->ns, row->name);
    return -1;
  }
  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    json_t *ent;
    if (column_json (st, s, 0, &ent, row->name) == -1)
      return -1;
    if ((!vms && !(vms = json_array ()))
        || json_array_append_new (vms, ent) == -1) {
      ferry_error ("read the VMs of migration %s/%s: out of memory",
                   row->ns, row->name);
      return -1;
    }
  }
  if (r != SQLITE_DONE) {
    store_error (st, "read the VMs of migration %s/%s", row->ns, row->name);
    return -1;
  }
  if (!vms)
    return 0;
  if (!json_is_object (row->status)) {
    json_decref (row->status);
    row->status = json_object ();
  }
  if (!row->status || json_object_set_new (row->status, "vms", ferry_steal (&vms)) == -1) {
    ferry_error ("read the VMs of migration %s/%s: out of memory",
                 row->ns, row->name);
    return -1;
  }
  return 0;
}

static int
put_vm_row (struct ferry_store *st, const char *uid, size_t position,
            const char *vm_id, const char *text)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_VM_PUT);
  int r;

  if (!s)
    return -1;
  if (position > INT64_MAX) {
    ferry_error ("store VM %zu of migration %s: position out of range",
                 position, uid);
    return -1;
  }
  if ((r = bind_text (s, 1, uid)) != SQLITE_OK
      || (r = sqlite3_bind_int64 (s, 2, (sqlite3_int64) position)) != SQLITE_OK
      || (r = bind_text (s, 3, text)) != SQLITE_OK
      || (r = bind_text (s, 4, vm_id)) != SQLITE_OK
      || (r = sqlite3_step (s)) != SQLITE_DONE) {
    if (r == SQLITE_CONSTRAINT_FOREIGNKEY)
      ferry_error ("store VM %zu of migration %s: %s: the migration does not exist",
                   position, uid, st->path);
    else
      store_error (st, "store VM %zu of migration %s", position, uid);
    return -1;
  }
  return 0;
}

/* The rows from position n on (the status has fewer VMs now). */
static int
trim_vm_rows (struct ferry_store *st, const char *uid, size_t n)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_VM_TRIM);

  if (!s)
    return -1;
  if (bind_text (s, 1, uid) != SQLITE_OK
      || sqlite3_bind_int64 (s, 2, (sqlite3_int64) n) != SQLITE_OK
      || sqlite3_step (s) != SQLITE_DONE) {
    store_error (st, "remove VMs of migration %s", uid);
    return -1;
  }
  return 0;
}

/* Every entry of vms (an array, or nothing) as the Migration's rows. */
static int
put_vm_rows (struct ferry_store *st, const char *uid, const json_t *vms)
{
  const json_t *ent;
  size_t i;

  json_array_foreach (vms, i, ent) {
    CLEANUP_FREE char *text = ferry_internal_store_dump_json (ent);
    if (!text) {
      ferry_error ("store VM %zu of migration %s: %s: cannot serialise JSON "
                   "(strings must be UTF-8)", i, uid, st->path);
      return -1;
    }
    if (put_vm_row (st, uid, i, json_string_value (json_object_get (ent, "id")),
                    text) == -1)
      return -1;
  }
  return trim_vm_rows (st, uid, json_array_size (vms));
}

int
ferry_internal_store_set_vm_status (struct ferry_store *st,
                                    const char *migration_uid,
                                    size_t position, const char *vm_id,
                                    const char *vm_json)
{
  bool own;
  int r;

  if (auto_begin (st, &own) == -1)
    return -1;
  r = put_vm_row (st, migration_uid, position, vm_id, vm_json);
  if (r == 0) {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_TOUCH_UID);
    if (!s)
      r = -1;
    else if (bind_text (s, 1, migration_uid) != SQLITE_OK
             || sqlite3_step (s) != SQLITE_DONE) {
      store_error (st, "store VM %zu of migration %s", position, migration_uid);
      r = -1;
    }
  }
  return auto_end (st, own, r);
}

json_t *
ferry_internal_store_get_vm_status (struct ferry_store *st,
                                    const char *migration_uid,
                                    const char *vm_id)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_VM_GET);
  json_t *ent = NULL;
  int r;

  ferry_clear_error ();
  if (!s)
    return NULL;
  if (bind_text (s, 1, migration_uid) != SQLITE_OK
      || bind_text (s, 2, vm_id) != SQLITE_OK) {
    store_error (st, "read VM %s of migration %s", vm_id, migration_uid);
    return NULL;
  }
  r = sqlite3_step (s);
  if (r == SQLITE_DONE)
    return NULL;
  if (r != SQLITE_ROW) {
    store_error (st, "read VM %s of migration %s", vm_id, migration_uid);
    return NULL;
  }
  column_json (st, s, 0, &ent, vm_id);
  return ent;
}

/* Move status.vms of every Migration to rows (upgrade to version 3).  The
 * Migrations are read first, then written: no table is changed under an
 * open SELECT on it.
 */
static int
move_vms_to_rows (struct ferry_store *st)
{
  CLEANUP_JSON_DECREF json_t *todo = json_object ();    /* {uid: status} */
  sqlite3_stmt *s = NULL;
  const char *uid;
  json_t *status;
  int r;

  if (!todo) {
    ferry_error ("%s: out of memory", st->path);
    return -1;
  }
  if (sqlite3_prepare_v2 (st->db, "SELECT uid, status FROM objects"
                          " WHERE kind = 'Migration' AND status IS NOT NULL",
                          -1, &s, NULL) != SQLITE_OK) {
    store_error (st, "read migrations");
    return -1;
  }
  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    json_t *st_json;
    if (column_json (st, s, 1, &st_json, (const char *) sqlite3_column_text (s, 0)) == -1) {
      sqlite3_finalize (s);
      return -1;
    }
    if (json_array_size (json_object_get (st_json, "vms")) > 0)
      json_object_set_new (todo, (const char *) sqlite3_column_text (s, 0), st_json);
    else
      json_decref (st_json);
  }
  if (r != SQLITE_DONE) {
    store_error (st, "read migrations");
    sqlite3_finalize (s);
    return -1;
  }
  sqlite3_finalize (s);

  json_object_foreach (todo, uid, status) {
    CLEANUP_RESET sqlite3_stmt *u = get_stmt (st, Q_SET_STATUS_UID);
    CLEANUP_JSON_DECREF json_t *own = own_status (status);
    if (!u)
      return -1;
    if (!own) {
      ferry_error ("move the VMs of migration %s to rows: out of memory", uid);
      return -1;
    }
    if ((r = bind_text (u, 1, uid)) != SQLITE_OK
        || (r = bind_json (st, u, 2, own, "move VMs to rows")) != SQLITE_OK
        || (r = sqlite3_step (u)) != SQLITE_DONE) {
      if (r != -2)
        store_error (st, "move the VMs of migration %s to rows", uid);
      return -1;
    }
    if (put_vm_rows (st, uid, json_object_get (status, "vms")) == -1)
      return -1;
  }
  return 0;
}

/* The object's own status; with_vms: a Migration's status.vms replaces
 * its VM rows (else they are kept and status.vms is not written).
 */
static int
set_status_locked (struct ferry_store *st, const char *kind, const char *ns,
                   const char *name, const json_t *status, bool with_vms)
{
  CLEANUP_JSON_DECREF json_t *own = NULL;
  int r;

  if (is_migration (kind)) {
    own = own_status (status);
    if (status && !own) {
      ferry_error ("set status of %s %s/%s: out of memory", kind, ns, name);
      return -1;
    }
  }
  else
    own = json_incref ((json_t *) status);
  {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_SET_STATUS);
    if (!s)
      return -1;
    if ((r = bind_key (s, kind, ns, name)) != SQLITE_OK
        || (r = bind_json (st, s, 4, own, "set status")) != SQLITE_OK
        || (r = sqlite3_step (s)) != SQLITE_DONE) {
      if (r != -2)
        store_error (st, "set status of %s %s/%s", kind, ns, name);
      return -1;
    }
    if (sqlite3_changes (st->db) == 0) {
      ferry_internal_not_found_error (kind, ns, name);
      return -1;
    }
  }
  if (is_migration (kind) && with_vms) {
    CLEANUP_FREE char *uid = NULL;
    const json_t *vms = json_object_get (status, "vms");
    if (get_uid (st, kind, ns, name, &uid) != 1)
      return -1;
    if (put_vm_rows (st, uid, json_is_array (vms) ? vms : NULL) == -1) {
      ferry_error_prefix ("set status of %s %s/%s", kind, ns, name);
      return -1;
    }
  }
  return 0;
}

int
ferry_internal_store_set_status (struct ferry_store *st, const char *kind,
                                 const char *ns, const char *name,
                                 const json_t *status)
{
  bool own;

  if (!is_migration (kind))             /* one statement */
    return set_status_locked (st, kind, ns, name, status, true);
  if (auto_begin (st, &own) == -1)
    return -1;
  return auto_end (st, own, set_status_locked (st, kind, ns, name, status, true));
}

int
ferry_internal_store_set_status_keep_vms (struct ferry_store *st,
                                          const char *kind, const char *ns,
                                          const char *name,
                                          const json_t *status)
{
  bool own;

  if (!is_migration (kind))
    return set_status_locked (st, kind, ns, name, status, false);
  if (auto_begin (st, &own) == -1)
    return -1;
  return auto_end (st, own, set_status_locked (st, kind, ns, name, status, false));
}

/* ---- Inventory --------------------------------------------------------- */

static int
bind_inv_key (sqlite3_stmt *s, const char *provider_uid, const char *kind,
              const char *id)
{
  int r;
  if ((r = bind_text (s, 1, provider_uid)) != SQLITE_OK
      || (r = bind_text (s, 2, kind)) != SQLITE_OK
      || (id && (r = bind_text (s, 3, id)) != SQLITE_OK))
    return r;
  return SQLITE_OK;
}

int
ferry_internal_store_inv_put (struct ferry_store *st,
                              const char *provider_uid, const char *kind,
                              const char *id, const char *name,
                              const char *parent, const json_t *doc)
{
  CLEANUP_RESET sqlite3_stmt *s = NULL;
  int r;

  if (!provider_uid || !kind || !id || !doc) {
    ferry_error ("put inventory entity: %s: provider, kind, id and document "
                 "are required", st->path);
    return -1;
  }
  s = get_stmt (st, Q_INV_PUT);
  if (!s)
    return -1;
  if ((r = bind_inv_key (s, provider_uid, kind, id)) != SQLITE_OK
      || (r = bind_text (s, 4, name)) != SQLITE_OK
      || (r = bind_text (s, 5, parent)) != SQLITE_OK
      || (r = bind_json (st, s, 6, doc, "put inventory entity")) != SQLITE_OK
      || (r = sqlite3_step (s)) != SQLITE_DONE) {
    if (r != -2)
      store_error (st, "put inventory %s %s of provider %s", kind, id,
                   provider_uid);
    return -1;
  }
  return 0;
}

int
ferry_internal_store_inv_remove (struct ferry_store *st,
                                 const char *provider_uid,
                                 const char *kind, const char *id)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_INV_REMOVE);

  if (!s)
    return -1;
  if (bind_inv_key (s, provider_uid, kind, id) != SQLITE_OK
      || sqlite3_step (s) != SQLITE_DONE) {
    store_error (st, "remove inventory %s %s of provider %s", kind, id,
                 provider_uid);
    return -1;
  }
  return 0;
}

int
ferry_internal_store_inv_prune (struct ferry_store *st,
                                const char *provider_uid, int64_t mark)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_INV_PRUNE);

  if (!s)
    return -1;
  if (bind_text (s, 1, provider_uid) != SQLITE_OK
      || sqlite3_bind_int64 (s, 2, mark) != SQLITE_OK
      || sqlite3_step (s) != SQLITE_DONE) {
    store_error (st, "prune inventory of provider %s below mark %" PRId64,
                 provider_uid, mark);
    return -1;
  }
  return 0;
}

static int64_t
begin_sync_locked (struct ferry_store *st, const char *provider_uid)
{
  {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_INV_BEGIN_SYNC);
    if (!s)
      return -1;
    if (bind_text (s, 1, provider_uid) != SQLITE_OK
        || sqlite3_step (s) != SQLITE_DONE) {
      store_error (st, "begin inventory sync of provider %s", provider_uid);
      return -1;
    }
  }
  {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_INV_GET_MARK);
    if (!s)
      return -1;
    if (bind_text (s, 1, provider_uid) != SQLITE_OK
        || sqlite3_step (s) != SQLITE_ROW) {
      store_error (st, "begin inventory sync of provider %s", provider_uid);
      return -1;
    }
    return sqlite3_column_int64 (s, 0);
  }
}

int64_t
ferry_internal_store_inv_begin_sync (struct ferry_store *st,
                                     const char *provider_uid)
{
  bool own;
  int64_t mark;

  if (auto_begin (st, &own) == -1)
    return -1;
  mark = begin_sync_locked (st, provider_uid);
  return auto_end (st, own, mark == -1 ? -1 : 0) == -1 ? -1 : mark;
}

static json_t *
inv_doc (struct ferry_store *st, sqlite3_stmt *s, const char *what)
{
  const char *t = (const char *) sqlite3_column_text (s, 0);
  json_error_t e;
  json_t *doc;

  if (!t) {
    store_error (st, "read inventory %s", what);
    return NULL;
  }
  doc = json_loads (t, JSON_DECODE_ANY, &e);
  if (!doc)
    ferry_error ("read inventory %s: %s: stored document is not valid JSON: %s",
                 what, st->path, e.text);
  return doc;
}

json_t *
ferry_internal_store_inv_get (struct ferry_store *st,
                              const char *provider_uid,
                              const char *kind, const char *id_or_name)
{
  ferry_clear_error ();
  for (enum query q = Q_INV_GET_ID; q <= Q_INV_GET_NAME; q++) {
    CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, q);
    int r;

    if (!s)
      return NULL;
    if (bind_inv_key (s, provider_uid, kind, id_or_name) != SQLITE_OK) {
      store_error (st, "get inventory %s %s", kind, id_or_name);
      return NULL;
    }
    r = sqlite3_step (s);
    if (r == SQLITE_ROW)
      return inv_doc (st, s, id_or_name);
    if (r != SQLITE_DONE) {
      store_error (st, "get inventory %s %s", kind, id_or_name);
      return NULL;
    }
  }
  return NULL;
}

json_t *
ferry_internal_store_inv_list (struct ferry_store *st,
                               const char *provider_uid, const char *kind)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_INV_LIST);
  CLEANUP_JSON_DECREF json_t *a = json_array ();
  int r;

  if (!s)
    return NULL;
  if (!a) {
    ferry_error_errno (errno, "list inventory %s", kind);
    return NULL;
  }
  if (bind_inv_key (s, provider_uid, kind, NULL) != SQLITE_OK) {
    store_error (st, "list inventory %s", kind);
    return NULL;
  }
  while ((r = sqlite3_step (s)) == SQLITE_ROW) {
    json_t *doc = inv_doc (st, s, kind);
    if (!doc || json_array_append_new (a, doc) == -1)
      return NULL;
  }
  if (r != SQLITE_DONE) {
    store_error (st, "list inventory %s", kind);
    return NULL;
  }
  return ferry_steal (&a);
}

int64_t
ferry_internal_store_inv_revision (struct ferry_store *st,
                                   const char *provider_uid,
                                   const char *kind, const char *id)
{
  CLEANUP_RESET sqlite3_stmt *s = get_stmt (st, Q_INV_REVISION);
  int r;

  if (!s)
    return -1;
  if (bind_inv_key (s, provider_uid, kind, id) != SQLITE_OK) {
    store_error (st, "get revision of inventory %s %s", kind, id);
    return -1;
  }
  r = sqlite3_step (s);
  if (r == SQLITE_DONE)
    return 0;
  if (r != SQLITE_ROW) {
    store_error (st, "get revision of inventory %s %s", kind, id);
    return -1;
  }
  return sqlite3_column_int64 (s, 0);
}

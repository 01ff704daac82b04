/* Raw sqlite3 access for the store's unit tests (header only): the tests'
 * way to build old or foreign databases and to look inside the store
 * behind its back.  Include after <cmocka.h> and <sqlite3.h>.
 */
#ifndef FERRY_TEST_SQLITE_H
#define FERRY_TEST_SQLITE_H

#include <sys/stat.h>

/* Run SQL on a raw connection to path, then give it the store's 0600. */
static inline void
raw_exec (const char *path, const char *sql)
{
  sqlite3 *db;
  assert_int_equal (sqlite3_open (path, &db), SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, NULL) != SQLITE_OK)
    fail_msg ("raw sql failed: %s", sqlite3_errmsg (db));
  sqlite3_close (db);
  assert_int_equal (chmod (path, 0600), 0);
}

/* The first column of the first row of sql, as an integer. */
static inline int
raw_count (const char *path, const char *sql)
{
  sqlite3 *db;
  sqlite3_stmt *s;
  int n;
  assert_int_equal (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL),
                    SQLITE_OK);
  assert_int_equal (sqlite3_prepare_v2 (db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal (sqlite3_step (s), SQLITE_ROW);
  n = sqlite3_column_int (s, 0);
  sqlite3_finalize (s);
  sqlite3_close (db);
  return n;
}

#endif /* FERRY_TEST_SQLITE_H */

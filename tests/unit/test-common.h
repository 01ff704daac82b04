/* Helpers shared by the unit tests (header only: static inline, so a test
 * compiles in just what it uses).  Include it after <config.h>.
 *
 * - test_sh: run a shell command, get its exit status;
 * - test_srcdir: the top source directory;
 * - test_make_tmpdir / test_remove_tree: a fresh /tmp/ferry-test-NAME.XXXXXX
 *   and removing it with everything in it;
 * - test_fixture_new / test_fixture_teardown: a per-test fixture that owns
 *   such a directory (a struct whose first member is char dir[TEST_DIR_MAX]);
 * - test_open_ferry, struct ferry_fixture: a ferry without modules on such a
 *   directory;
 * - test_open_modules: a ferry that loads only the modules of a given path;
 * - test_write_file: write a file with a given mode, or fail the test;
 * - struct test_actions / test_record: the actions ferry_apply reports;
 * - struct test_inventory: an inventory sink that records what is put.
 */
#ifndef FERRY_TEST_COMMON_H
#define FERRY_TEST_COMMON_H

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ferry/ferry.h>

/* ---- shell and source tree ---------------------------------------------- */

/* Run the command (printf-style) with system(); its exit status, or -1 if
 * it did not exit.
 */
static inline int test_sh (const char *fmt, ...)
  __attribute__ ((format (printf, 1, 2)));
static inline int
test_sh (const char *fmt, ...)
{
  va_list ap;
  char *cmd = NULL;
  int r;

  va_start (ap, fmt);
  assert_true (vasprintf (&cmd, fmt, ap) > 0);
  va_end (ap);
  r = system (cmd);
  free (cmd);
  return WIFEXITED (r) ? WEXITSTATUS (r) : -1;
}

/* The top source directory: $abs_top_srcdir (make check), else
 * $FERRY_SRCDIR (the run wrapper), else TOP_SRCDIR where the test is
 * compiled with it, else NULL.
 */
static inline const char *
test_srcdir (void)
{
  const char *s = getenv ("abs_top_srcdir");

  if (s && *s)
    return s;
  s = getenv ("FERRY_SRCDIR");
  if (s && *s)
    return s;
#ifdef TOP_SRCDIR
  return TOP_SRCDIR;
#else
  return NULL;
#endif
}

/* tests/data/SUB/FILE under the source directory ("../.." when run by
 * hand from tests/).  Caller frees.
 */
static inline char *
test_data_path (const char *sub, const char *file)
{
  const char *top = test_srcdir ();
  char *p;

  assert_true (asprintf (&p, "%s/tests/data/%s/%s", top ? top : "../..", sub, file) > 0);
  return p;
}

/* The whole of a text file, NUL-terminated (caller frees), or NULL when
 * it cannot be opened.
 */
static inline char *
test_read_text (const char *path)
{
  FILE *fp = fopen (path, "rb");
  char *buf;
  long len;

  if (fp == NULL)
    return NULL;
  assert_int_equal (fseek (fp, 0, SEEK_END), 0);
  len = ftell (fp);
  rewind (fp);
  buf = malloc ((size_t) len + 1);
  assert_non_null (buf);
  assert_int_equal (fread (buf, 1, (size_t) len, fp), (size_t) len);
  buf[len] = '\0';
  fclose (fp);
  return buf;
}

/* ---- temporary directories and fixtures --------------------------------- */

#define TEST_DIR_MAX 64

/* Make a fresh directory /tmp/ferry-test-NAME.XXXXXX into dir, or fail. */
static inline void
test_make_tmpdir (char *dir, size_t size, const char *name)
{
  int n = snprintf (dir, size, "/tmp/ferry-test-%s.XXXXXX", name);

  assert_true (n > 0 && (size_t) n < size);
  assert_non_null (mkdtemp (dir));
}

static inline int
test_remove_one (const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
  return remove (p);
}

/* Remove dir and everything in it (symbolic links are not followed). */
static inline int
test_remove_tree (const char *dir)
{
  return nftw (dir, test_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fixture type for test_fixture_new: its first member must be
 * char dir[TEST_DIR_MAX].  Put TEST_FIXTURE_TYPE (struct fixture); after it.
 */
#define TEST_FIXTURE_TYPE(type)                                         \
  _Static_assert (offsetof (type, dir) == 0                             \
                  && sizeof ((type *) 0)->dir == TEST_DIR_MAX,          \
                  #type " must begin with char dir[TEST_DIR_MAX]")

/* A zeroed fixture of size bytes whose dir is a fresh
 * /tmp/ferry-test-NAME.XXXXXX; the error state is cleared.  Fails the test
 * on error.
 */
static inline void *
test_fixture_new (size_t size, const char *name)
{
  char *fx = calloc (1, size);

  assert_non_null (fx);
  test_make_tmpdir (fx, TEST_DIR_MAX, name);
  ferry_clear_error ();
  return fx;
}

/* Remove the fixture's directory and free it. */
static inline void
test_fixture_free (void *fx)
{
  test_remove_tree ((const char *) fx);
  free (fx);
}

/* A cmocka teardown for a fixture made by test_fixture_new. */
static inline int
test_fixture_teardown (void **state)
{
  test_fixture_free (*state);
  return 0;
}

/* A ferry on state directory dir, without modules, or fail the test (the
 * error is printed).  The error state is cleared.
 */
static inline struct ferry *
test_open_ferry (const char *dir)
{
  struct ferry *f = ferry_open (dir, FERRY_OPEN_NO_MODULES);

  if (!f)
    fprintf (stderr, "ferry_open: %s\n", ferry_get_error ());
  assert_non_null (f);
  ferry_clear_error ();
  return f;
}

/* The fixture of tests that work on a ferry of their own: a fresh
 * directory /tmp/ferry-test-NAME.XXXXXX and a ferry on it, without modules.
 */
struct ferry_fixture {
  char dir[TEST_DIR_MAX];
  struct ferry *f;
};
TEST_FIXTURE_TYPE (struct ferry_fixture);

static inline int
ferry_fixture_setup (void **state, const char *name)
{
  struct ferry_fixture *fx = test_fixture_new (sizeof *fx, name);

  fx->f = test_open_ferry (fx->dir);
  *state = fx;
  return 0;
}

static inline int
ferry_fixture_teardown (void **state)
{
  struct ferry_fixture *fx = *state;

  ferry_close (fx->f);
  test_fixture_free (fx);
  return 0;
}

/* One cmocka test with the file's per-test fixture: functions named setup
 * and teardown.
 */
#define FIXTURE_TEST(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)

/* A ferry on state directory DIR/state that loads only the modules found
 * in path (a FERRY_MODULE_PATH: directories separated by colons); NULL,
 * with the error printed, on failure.
 */
static inline struct ferry *
test_open_modules (const char *dir, const char *path)
{
  char sd[4096];
  struct ferry *f;

  setenv ("FERRY_MODULE_PATH", path, 1);
  setenv ("FERRY_MODULE_PATH_ONLY", "1", 1);
  snprintf (sd, sizeof sd, "%s/state", dir);
  f = ferry_open (sd, 0);
  if (!f)
    fprintf (stderr, "ferry_open: %s\n", ferry_get_error ());
  return f;
}

/* ---- files --------------------------------------------------------------- */

/* Write len bytes at p to path (created or truncated) and give it mode
 * (whatever the umask), or fail the test.
 */
static inline void
test_write_file (const char *path, const void *p, size_t len, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);

  assert_true (fd >= 0);
  assert_int_equal (write (fd, p, len), (ssize_t) len);
  assert_int_equal (fchmod (fd, mode), 0);
  close (fd);
}

/* ---- apply actions ------------------------------------------------------- */

/* What ferry_apply reported: one line "ACTION Kind ns/name" for each
 * object, and counts of the usual actions.
 */
struct test_actions {
  char text[8192];
  int created, configured, unchanged;
};

/* A ferry_apply callback; opaque is a struct test_actions. */
static inline void
test_record (void *opaque, const char *kind, const char *ns, const char *name,
             const char *action)
{
  struct test_actions *a = opaque;
  size_t n = strlen (a->text);

  snprintf (a->text + n, sizeof a->text - n, "%s %s %s/%s\n", action, kind,
            ns, name);
  if (strcmp (action, "created") == 0) a->created++;
  else if (strcmp (action, "configured") == 0) a->configured++;
  else if (strcmp (action, "unchanged") == 0) a->unchanged++;
}

/* ---- a recording inventory sink ---------------------------------------- */

/* Set up with test_inventory_init, pass &r.sink to a provider's inventory;
 * json_decref (r.put) when done.
 */
struct test_inventory {
  struct ferry_inventory_sink sink;
  json_t *put;                  /* kind -> id -> {name, parent?, doc} */
  int prunes;
};

static inline int
test_inventory_put (struct ferry_inventory_sink *sink, const char *kind,
                    const char *id, const char *name, const char *parent,
                    const json_t *doc)
{
  struct test_inventory *r = (struct test_inventory *) sink;
  json_t *k = json_object_get (r->put, kind);

  if (!k) {
    k = json_object ();
    json_object_set_new (r->put, kind, k);
  }
  assert_non_null (id);
  assert_non_null (name);
  json_object_set_new (k, id, json_pack ("{s:s, s:s?, s:o}", "name", name,
                                         "parent", parent,
                                         "doc", json_deep_copy (doc)));
  return 0;
}

static inline int
test_inventory_prune (struct ferry_inventory_sink *sink)
{
  ((struct test_inventory *) sink)->prunes++;
  return 0;
}

static inline void
test_inventory_init (struct test_inventory *r)
{
  memset (r, 0, sizeof *r);
  r->sink.struct_size = sizeof r->sink;
  r->sink.put = test_inventory_put;
  r->sink.prune = test_inventory_prune;
  r->put = json_object ();
}

/* The doc put for kind/id, or NULL (borrowed). */
static inline json_t *
test_inventory_doc (const struct test_inventory *r, const char *kind,
                    const char *id)
{
  return json_object_get (json_object_get (json_object_get (r->put, kind), id),
                          "doc");
}

#endif /* FERRY_TEST_COMMON_H */

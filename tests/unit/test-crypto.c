/* Unit tests of secrets at rest: the key file (core/crypto.c), sealing,
 * and Secret objects through the store (core/objects.c): no plaintext
 * reaches the disk.
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
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "test-common.h"

#include "internal.h"
#include "objects.h"

static const char password[] = "Sup3r-S3cret-Passw0rd!";

struct fixture {
  char dir[TEST_DIR_MAX];
  char key_path[128];
};
TEST_FIXTURE_TYPE (struct fixture);

static int
setup (void **state)
{
  struct fixture *fx = test_fixture_new (sizeof *fx, "crypto");
  snprintf (fx->key_path, sizeof fx->key_path, "%s/secret.key", fx->dir);
  *state = fx;
  return 0;
}

static int
teardown (void **state)
{
  return test_fixture_teardown (state);
}

/* ---- key file ---------------------------------------------------------- */

static void
test_key_created_private (void **state)
{
  struct fixture *fx = *state;
  unsigned char k1[FERRY_SECRET_KEY_LEN], k2[FERRY_SECRET_KEY_LEN];
  unsigned char zero[FERRY_SECRET_KEY_LEN] = { 0 };
  struct stat sb;
  char msg[300];
  mode_t old;

  /* Absent and not to be created. */
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 0, k1), -1);
  snprintf (msg, sizeof msg, "open secret key %s (it is created by the first "
            "command that stores a Secret): No such file or directory",
            fx->key_path);
  assert_string_equal (ferry_get_error (), msg);

  old = umask (0);                      /* the mode must not come from umask */
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k1), 0);
  umask (old);
  assert_int_equal (lstat (fx->key_path, &sb), 0);
  assert_true (S_ISREG (sb.st_mode));
  assert_int_equal (sb.st_mode & 07777, 0600);
  assert_int_equal (sb.st_size, FERRY_SECRET_KEY_LEN);
  assert_int_equal (sb.st_nlink, 1);   /* the temporary name is gone */
  assert_memory_not_equal (k1, zero, sizeof k1);

  /* Loading again gives the same key, with or without create. */
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k2), 0);
  assert_memory_equal (k1, k2, sizeof k1);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 0, k2), 0);
  assert_memory_equal (k1, k2, sizeof k1);
}

static void
test_key_refusals (void **state)
{
  struct fixture *fx = *state;
  unsigned char k[FERRY_SECRET_KEY_LEN], bytes[FERRY_SECRET_KEY_LEN + 1];
  char msg[400], other[160];

  memset (bytes, 7, sizeof bytes);

  /* Readable by others. */
  test_write_file (fx->key_path, bytes, FERRY_SECRET_KEY_LEN, 0644);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  snprintf (msg, sizeof msg, "secret key %s has mode 0644, which lets other "
            "users read it: run chmod 600 %s (and consider the key exposed)",
            fx->key_path, fx->key_path);
  assert_string_equal (ferry_get_error (), msg);
  test_write_file (fx->key_path, bytes, FERRY_SECRET_KEY_LEN, 0640);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  assert_non_null (strstr (ferry_get_error (), "has mode 0640"));
  /* 0400 is fine. */
  test_write_file (fx->key_path, bytes, FERRY_SECRET_KEY_LEN, 0400);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 0, k), 0);
  assert_memory_equal (k, bytes, sizeof k);
  unlink (fx->key_path);

  /* Wrong sizes, never replaced by a new key. */
  test_write_file (fx->key_path, bytes, FERRY_SECRET_KEY_LEN - 1, 0600);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  snprintf (msg, sizeof msg, "secret key %s is 31 bytes, not 32: it is damaged; "
            "restore it from a backup (a new key cannot open the Secrets "
            "already stored)", fx->key_path);
  assert_string_equal (ferry_get_error (), msg);
  test_write_file (fx->key_path, bytes, FERRY_SECRET_KEY_LEN + 1, 0600);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  assert_non_null (strstr (ferry_get_error (), "is 33 bytes, not 32"));
  test_write_file (fx->key_path, bytes, 0, 0600);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  assert_non_null (strstr (ferry_get_error (), "is 0 bytes, not 32"));
  unlink (fx->key_path);

  /* Not a regular file. */
  assert_int_equal (mkdir (fx->key_path, 0700), 0);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  snprintf (msg, sizeof msg, "secret key %s is not a regular file: move it away "
            "and restore the key file from a backup", fx->key_path);
  assert_string_equal (ferry_get_error (), msg);
  rmdir (fx->key_path);

  /* A symbolic link, even to a good key. */
  snprintf (other, sizeof other, "%s/elsewhere", fx->dir);
  test_write_file (other, bytes, FERRY_SECRET_KEY_LEN, 0600);
  assert_int_equal (symlink (other, fx->key_path), 0);
  assert_int_equal (ferry_internal_secret_key_load (fx->key_path, 1, k), -1);
  snprintf (msg, sizeof msg, "open secret key %s: it is a symbolic link, which "
            "ferry refuses: put the key file itself there", fx->key_path);
  assert_string_equal (ferry_get_error (), msg);
}

/* Several processes creating the key at once end up with one key, and
 * nobody sees a half-written file.
 */
static void
test_key_concurrent_create (void **state)
{
  struct fixture *fx = *state;
  unsigned char keys[6][FERRY_SECRET_KEY_LEN];
  int fds[6][2];
  pid_t pids[6];

  for (int i = 0; i < 6; i++) {
    assert_int_equal (pipe (fds[i]), 0);
    pids[i] = fork ();
    assert_true (pids[i] >= 0);
    if (pids[i] == 0) {
      unsigned char k[FERRY_SECRET_KEY_LEN];
      int ok = ferry_internal_secret_key_load (fx->key_path, 1, k) == 0;
      if (!ok)
        fprintf (stderr, "child %d: %s\n", i, ferry_get_error ());
      _exit (ok && write (fds[i][1], k, sizeof k) == sizeof k ? 0 : 1);
    }
    close (fds[i][1]);
  }
  for (int i = 0; i < 6; i++) {
    int status;
    assert_int_equal (read (fds[i][0], keys[i], FERRY_SECRET_KEY_LEN),
                      FERRY_SECRET_KEY_LEN);
    close (fds[i][0]);
    assert_int_equal (waitpid (pids[i], &status, 0), pids[i]);
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    assert_memory_equal (keys[i], keys[0], FERRY_SECRET_KEY_LEN);
  }
  /* No temporaries left behind. */
  DIR *d = opendir (fx->dir);
  struct dirent *e;
  int n = 0;
  assert_non_null (d);
  while ((e = readdir (d)))
    if (e->d_name[0] != '.')
      n++;
  closedir (d);
  assert_int_equal (n, 1);
}

/* ---- sealing ----------------------------------------------------------- */

static void
new_key (unsigned char key[FERRY_SECRET_KEY_LEN], int fill)
{
  memset (key, fill, FERRY_SECRET_KEY_LEN);
  key[0] ^= 0x5a;
}

static void
test_round_trip (void **state)
{
  unsigned char key[FERRY_SECRET_KEY_LEN];
  unsigned char *blob, *blob2, *plain;
  size_t blob_len, blob2_len, plain_len;

  new_key (key, 1);
  assert_int_equal (ferry_internal_seal (key, "Secret/default/a", password,
                                         strlen (password), &blob, &blob_len), 0);
  assert_int_equal (blob_len, 4 + 12 + strlen (password) + 16);
  assert_memory_equal (blob, "FRY1", 4);
  assert_null (memmem (blob, blob_len, password, strlen (password)));

  assert_int_equal (ferry_internal_unseal (key, "Secret/default/a", blob,
                                           blob_len, &plain, &plain_len), 0);
  assert_int_equal (plain_len, strlen (password));
  assert_string_equal ((char *) plain, password);   /* NUL-terminated */
  ferry_internal_free_secret (plain, plain_len);

  /* A fresh nonce each time. */
  assert_int_equal (ferry_internal_seal (key, "Secret/default/a", password,
                                         strlen (password), &blob2, &blob2_len), 0);
  assert_int_equal (blob2_len, blob_len);
  assert_memory_not_equal (blob + 4, blob2 + 4, 12);
  free (blob2);
  free (blob);

  /* Empty plaintext works too. */
  assert_int_equal (ferry_internal_seal (key, "Secret/default/e", "", 0,
                                         &blob, &blob_len), 0);
  assert_int_equal (blob_len, 32);
  assert_int_equal (ferry_internal_unseal (key, "Secret/default/e", blob,
                                           blob_len, &plain, &plain_len), 0);
  assert_int_equal (plain_len, 0);
  assert_string_equal ((char *) plain, "");
  ferry_internal_free_secret (plain, plain_len);
  free (blob);
}

static void
test_unseal_failures (void **state)
{
  unsigned char key[FERRY_SECRET_KEY_LEN], other[FERRY_SECRET_KEY_LEN];
  unsigned char *blob, *plain = (unsigned char *) "sentinel";
  size_t blob_len, plain_len = 99;
  const char *fail_a =
    "unseal Secret/default/a: the sealed data could not be decrypted "
    "(wrong key or tampered data)";

  new_key (key, 1);
  new_key (other, 2);
  assert_int_equal (ferry_internal_seal (key, "Secret/default/a", password,
                                         strlen (password), &blob, &blob_len), 0);

  /* Copied onto another object. */
  assert_int_equal (ferry_internal_unseal (key, "Secret/default/b", blob,
                                           blob_len, &plain, &plain_len), -1);
  assert_string_equal (ferry_get_error (),
                       "unseal Secret/default/b: the sealed data could not be "
                       "decrypted (wrong key or tampered data)");
  assert_null (plain);
  assert_int_equal (plain_len, 0);

  /* Another key. */
  assert_int_equal (ferry_internal_unseal (other, "Secret/default/a", blob,
                                           blob_len, &plain, &plain_len), -1);
  assert_string_equal (ferry_get_error (), fail_a);

  /* One flipped bit anywhere after the magic: nonce, ciphertext, tag. */
  for (size_t i = 4; i < blob_len; i++) {
    blob[i] ^= 0x01;
    ferry_clear_error ();
    assert_int_equal (ferry_internal_unseal (key, "Secret/default/a", blob,
                                             blob_len, &plain, &plain_len), -1);
    assert_string_equal (ferry_get_error (), fail_a);
    blob[i] ^= 0x01;
  }
  /* Truncated. */
  assert_int_equal (ferry_internal_unseal (key, "Secret/default/a", blob,
                                           blob_len - 1, &plain, &plain_len), -1);
  assert_string_equal (ferry_get_error (), fail_a);
  assert_int_equal (ferry_internal_unseal (key, "Secret/default/a", blob,
                                           31, &plain, &plain_len), -1);
  assert_string_equal (ferry_get_error (),
                       "unseal Secret/default/a: the stored data is not a "
                       "sealed blob (31 bytes, no FRY1 header): the database "
                       "is damaged");
  /* Bad magic. */
  blob[0] = 'X';
  assert_int_equal (ferry_internal_unseal (key, "Secret/default/a", blob,
                                           blob_len, &plain, &plain_len), -1);
  assert_non_null (strstr (ferry_get_error (), "no FRY1 header"));
  blob[0] = 'F';

  /* Still fine untouched. */
  assert_int_equal (ferry_internal_unseal (key, "Secret/default/a", blob,
                                           blob_len, &plain, &plain_len), 0);
  ferry_internal_free_secret (plain, plain_len);
  free (blob);
  ferry_internal_free_secret (NULL, 10);
}

/* ---- Secrets through the store: no plaintext on disk -------------------- */

/* Does the file at path contain needle?  Absent files do not. */
static int
file_contains (const char *path, const char *needle)
{
  FILE *fp = fopen (path, "rb");
  char *buf;
  long len;
  int found;

  if (!fp)
    return 0;
  assert_int_equal (fseek (fp, 0, SEEK_END), 0);
  len = ftell (fp);
  rewind (fp);
  buf = malloc (len + 1);
  assert_non_null (buf);
  assert_int_equal (fread (buf, 1, len, fp), (size_t) len);
  fclose (fp);
  found = memmem (buf, len, needle, strlen (needle)) != NULL;
  free (buf);
  return found;
}

static void
test_no_plaintext_on_disk (void **state)
{
  struct fixture *fx = *state;
  struct ferry f = { 0 };
  struct ferry_store_row row = { 0 }, got = { 0 };
  char db[160], wal[200];
  json_t *data, *o, *plain;
  struct stat sb;

  snprintf (db, sizeof db, "%s/ferry.db", fx->dir);
  snprintf (wal, sizeof wal, "%s-wal", db);
  f.state_dir = fx->dir;
  f.store = ferry_internal_store_open (db, 0);
  assert_non_null (f.store);

  /* Seal as apply does and store the row. */
  data = json_pack ("{s:s, s:s}", "user", "administrator@vsphere.local",
                    "password", password);
  row.kind = strdup ("Secret");
  row.ns = strdup ("default");
  row.name = strdup ("vsphere-creds");
  row.api_version = strdup ("v1");
  row.spec = json_pack ("{s:s}", "type", "Opaque");
  assert_int_equal (ferry_internal_secret_seal (&f, "default", "vsphere-creds",
                                                data, &row.sealed,
                                                &row.sealed_len), 0);
  assert_int_equal (ferry_internal_store_insert (f.store, &row), 0);
  json_decref (data);

  /* The key was created on first use, private. */
  assert_int_equal (stat (fx->key_path, &sb), 0);
  assert_int_equal (sb.st_mode & 07777, 0600);

  /* Neither the database nor its WAL holds the password. */
  assert_int_equal (stat (wal, &sb), 0);
  assert_true (sb.st_size > 0);
  assert_false (file_contains (db, password));
  assert_false (file_contains (wal, password));
  assert_true (file_contains (wal, "vsphere-creds"));  /* we do look at it */

  /* Shown hidden by default, base64 on request. */
  assert_int_equal (ferry_internal_store_get (f.store, "Secret", "default",
                                              "vsphere-creds", &got), 1);
  o = ferry_internal_row_to_object (&f, &got, 0);
  assert_non_null (o);
  assert_string_equal (json_string_value (json_object_get (o, "apiVersion")), "v1");
  assert_string_equal (json_string_value (json_object_get (o, "kind")), "Secret");
  assert_string_equal (json_string_value (json_object_get (o, "type")), "Opaque");
  assert_null (json_object_get (o, "spec"));
  json_t *md = json_object_get (o, "metadata");
  assert_string_equal (json_string_value (json_object_get (md, "name")),
                       "vsphere-creds");
  assert_string_equal (json_string_value (json_object_get (md, "resourceVersion")),
                       "1");
  assert_string_equal (json_string_value (json_object_get (md, "uid")), got.uid);
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (o, "data"),
                                           "password")),
                       "(hidden: 22 bytes)");
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (o, "data"), "user")),
                       "(hidden: 27 bytes)");
  json_decref (o);
  o = ferry_internal_row_to_object (&f, &got, FERRY_GET_SECRET_VALUES);
  assert_non_null (o);
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (o, "data"),
                                           "password")),
                       "U3VwM3ItUzNjcmV0LVBhc3N3MHJkIQ==");
  json_decref (o);

  /* The blob opens for its own object only. */
  plain = ferry_internal_secret_unseal (&f, "default", "vsphere-creds",
                                        got.sealed, got.sealed_len);
  assert_non_null (plain);
  assert_string_equal (json_string_value (json_object_get (plain, "password")),
                       password);
  json_decref (plain);
  assert_null (ferry_internal_secret_unseal (&f, "default", "other",
                                             got.sealed, got.sealed_len));
  assert_string_equal (ferry_get_error (),
                       "unseal Secret/default/other: the sealed data could not "
                       "be decrypted (wrong key or tampered data)");
  ferry_internal_store_row_clear (&got);

  /* After the last connection closes (checkpoint into ferry.db). */
  ferry_internal_store_close (f.store);
  assert_false (file_contains (db, password));
  assert_false (file_contains (wal, password));
  assert_true (file_contains (db, "vsphere-creds"));

  /* Non-string values are refused before anything is sealed. */
  f.store = NULL;
  data = json_pack ("{s:i}", "port", 443);
  unsigned char *blob = NULL;
  size_t blob_len = 0;
  assert_int_equal (ferry_internal_secret_seal (&f, "default", "x", data, &blob,
                                                &blob_len), -1);
  assert_string_equal (ferry_get_error (),
                       "seal Secret default/x: the value of port is not a string");
  json_decref (data);

  ferry_internal_store_row_clear (&row);
  explicit_bzero (f.key, sizeof f.key);
}

static void
test_objects_shape (void **state)
{
  struct fixture *fx = *state;
  struct ferry f = { .state_dir = fx->dir };
  struct ferry_store_row row = {
    .uid = (char *) "0b7e2d9c-5f7a-4c1e-8d2b-3a4f5e6d7c8b",
    .kind = (char *) "Plan",
    .ns = (char *) "prod",
    .name = (char *) "p1",
    .api_version = (char *) "forklift.konveyor.io/v1beta1",
    .generation = 2,
    .resource_version = 17,
    .created = (char *) "2026-11-26T04:47:49Z",
  };
  json_t *o;

  row.metadata = json_pack ("{s:{s:s}, s:{s:s}, s:s}", "annotations", "a", "b",
                            "labels", "l", "m", "uid", "forged");
  row.spec = json_pack ("{s:b}", "warm", 1);
  o = ferry_internal_row_to_object (&f, &row, 0);
  assert_non_null (o);
  CLEANUP_FREE char *text = json_dumps (o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  assert_string_equal (text,
                       "{\"apiVersion\":\"forklift.konveyor.io/v1beta1\","
                       "\"kind\":\"Plan\",\"metadata\":{\"name\":\"p1\","
                       "\"namespace\":\"prod\","
                       "\"uid\":\"0b7e2d9c-5f7a-4c1e-8d2b-3a4f5e6d7c8b\","
                       "\"generation\":2,\"resourceVersion\":\"17\","
                       "\"creationTimestamp\":\"2026-11-26T04:47:49Z\","
                       "\"labels\":{\"l\":\"m\"},\"annotations\":{\"a\":\"b\"}},"
                       "\"spec\":{\"warm\":true}}");
  json_decref (o);

  /* With a status, and a Secret without data. */
  row.status = json_pack ("{s:s}", "phase", "Ready");
  o = ferry_internal_row_to_object (&f, &row, 0);
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (o, "status"),
                                           "phase")), "Ready");
  json_decref (o);
  json_decref (row.metadata);
  json_decref (row.spec);
  json_decref (row.status);
  row.metadata = row.spec = row.status = NULL;
  row.kind = (char *) "Secret";
  row.api_version = (char *) "v1";
  o = ferry_internal_row_to_object (&f, &row, 0);
  assert_non_null (o);
  assert_string_equal (json_string_value (json_object_get (o, "type")), "Opaque");
  assert_int_equal (json_object_size (json_object_get (o, "data")), 0);
  assert_null (json_object_get (o, "spec"));
  json_decref (o);
}

/* ---- the library API: ferry_get, ferry_list, ferry_set_status,
 * ferry_delete --------------------------------------------------------- */

static void
store_plan (struct ferry *f, const char *ns, const char *name)
{
  struct ferry_store_row row = { 0 };
  row.kind = strdup ("Plan");
  row.ns = strdup (ns);
  row.name = strdup (name);
  row.api_version = strdup ("forklift.konveyor.io/v1beta1");
  row.spec = json_pack ("{s:b}", "warm", 0);
  assert_int_equal (ferry_internal_store_insert (f->store, &row), 0);
  ferry_internal_store_row_clear (&row);
}

static void
test_api (void **state)
{
  struct fixture *fx = *state;
  struct ferry *f = ferry_open (fx->dir, FERRY_OPEN_NO_MODULES);
  struct ferry_store_row row = { 0 };
  json_t *o, *list, *status;

  assert_non_null (f);
  store_plan (f, "prod", "b");
  store_plan (f, "default", "a");
  store_plan (f, "default", "c");

  /* get: kind through ferry_kind_canonical, ns NULL is "default". */
  o = ferry_get (f, "plans", NULL, "a", 0);
  assert_non_null (o);
  assert_string_equal (json_string_value (json_object_get (o, "kind")), "Plan");
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (o, "metadata"),
                                           "namespace")), "default");
  assert_false (json_is_true (json_object_get (json_object_get (o, "spec"),
                                               "warm")));
  assert_null (json_object_get (o, "status"));
  json_decref (o);
  assert_null (ferry_get (f, "Plan", NULL, "b", 0));
  assert_string_equal (ferry_get_error (), "plan default/b not found");
  assert_null (ferry_get (f, "Plan", "prod", "nope", 0));
  assert_string_equal (ferry_get_error (), "plan prod/nope not found");
  assert_null (ferry_get (f, "Plan", "prod", "b", 0x80));
  assert_string_equal (ferry_get_error (), "ferry_get: unknown flags 0x80");
  ferry_clear_error ();
  assert_null (ferry_get (f, "nosuchkind", NULL, "a", 0));
  assert_non_null (strstr (ferry_get_error (), "nosuchkind"));

  /* list: every namespace, or one; ordered by namespace then name. */
  list = ferry_list (f, "plan", NULL, 0);
  assert_int_equal (json_array_size (list), 3);
  const char *expect[] = { "default/a", "default/c", "prod/b" };
  for (size_t i = 0; i < 3; i++) {
    json_t *md = json_object_get (json_array_get (list, i), "metadata");
    char got[64];
    snprintf (got, sizeof got, "%s/%s",
              json_string_value (json_object_get (md, "namespace")),
              json_string_value (json_object_get (md, "name")));
    assert_string_equal (got, expect[i]);
  }
  json_decref (list);
  list = ferry_list (f, "Plan", "prod", 0);
  assert_int_equal (json_array_size (list), 1);
  json_decref (list);
  list = ferry_list (f, "Migration", NULL, 0);
  assert_non_null (list);
  assert_int_equal (json_array_size (list), 0);
  json_decref (list);

  /* set_status bumps resourceVersion, not generation. */
  status = json_pack ("{s:[{s:s,s:s}]}", "conditions", "type", "Ready",
                      "status", "True");
  assert_int_equal (ferry_set_status (f, "plan", NULL, "a", status), 0);
  assert_int_equal (ferry_set_status (f, "plan", NULL, "zz", status), -1);
  assert_string_equal (ferry_get_error (), "plan default/zz not found");
  json_decref (status);
  o = ferry_get (f, "plan", "default", "a", 0);
  json_t *md = json_object_get (o, "metadata");
  assert_string_equal (json_string_value (json_object_get (md, "resourceVersion")),
                       "2");
  assert_int_equal (json_integer_value (json_object_get (md, "generation")), 1);
  assert_string_equal (json_string_value
                       (json_object_get (json_array_get
                                         (json_object_get
                                          (json_object_get (o, "status"),
                                           "conditions"), 0), "type")),
                       "Ready");
  json_decref (o);

  /* delete: not found is an error. */
  assert_int_equal (ferry_delete (f, "plan", NULL, "a"), 0);
  assert_int_equal (ferry_delete (f, "plan", NULL, "a"), -1);
  assert_string_equal (ferry_get_error (), "plan default/a not found");
  assert_int_equal (ferry_internal_store_get (f->store, "Plan", "default", "a",
                                              &row), 0);

  /* A Secret through the API. */
  json_t *data = json_pack ("{s:s}", "password", password);
  row.kind = strdup ("Secret");
  row.ns = strdup ("default");
  row.name = strdup ("creds");
  row.api_version = strdup ("v1");
  assert_int_equal (ferry_internal_secret_seal (f, "default", "creds", data,
                                                &row.sealed, &row.sealed_len), 0);
  json_decref (data);
  assert_int_equal (ferry_internal_store_insert (f->store, &row), 0);
  ferry_internal_store_row_clear (&row);
  o = ferry_get (f, "secret", NULL, "creds", 0);
  assert_non_null (o);
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get (o, "data"),
                                           "password")), "(hidden: 22 bytes)");
  json_decref (o);
  list = ferry_list (f, "secrets", NULL, FERRY_GET_SECRET_VALUES);
  assert_int_equal (json_array_size (list), 1);
  assert_string_equal (json_string_value (json_object_get
                                          (json_object_get
                                           (json_array_get (list, 0), "data"),
                                           "password")),
                       "U3VwM3ItUzNjcmV0LVBhc3N3MHJkIQ==");
  json_decref (list);
  ferry_close (f);

  /* Read-only: the existing key is used, never created. */
  f = ferry_open (fx->dir, FERRY_OPEN_NO_MODULES | FERRY_OPEN_READONLY);
  assert_non_null (f);
  o = ferry_get (f, "secret", NULL, "creds", FERRY_GET_SECRET_VALUES);
  assert_non_null (o);
  json_decref (o);
  assert_int_equal (ferry_delete (f, "secret", NULL, "creds"), -1);
  assert_non_null (strstr (ferry_get_error (), "read-only"));
  ferry_close (f);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    FIXTURE_TEST (test_key_created_private),
    FIXTURE_TEST (test_key_refusals),
    FIXTURE_TEST (test_key_concurrent_create),
    FIXTURE_TEST (test_round_trip),
    FIXTURE_TEST (test_unseal_failures),
    FIXTURE_TEST (test_no_plaintext_on_disk),
    FIXTURE_TEST (test_objects_shape),
    FIXTURE_TEST (test_api),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}

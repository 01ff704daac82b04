/* Unit tests of the OVA provider's tar offset finder (providers/ova/tar.c,
 * compiled in): real archives built here with tar(1) in ustar, GNU (long
 * names) and pax formats, checked member by member against the bytes, plus
 * damaged archives.
 */
#include <config.h>

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

#include "../../providers/ova/tar.c"

static char tmpdir[] = "/tmp/ferry-test-ova-tar.XXXXXX";

/* A member name longer than ustar's 100 bytes. */
#define LONG_NAME                                                       \
  "a-very-long-directory-name-that-goes-on-and-on/and-a-file-name-that-" \
  "makes-the-whole-path-longer-than-one-hundred-bytes.vmdk"

static long
read_fd (void *opaque, void *buf, size_t count, uint64_t offset)
{
  ssize_t r = pread (*(int *) opaque, buf, count, (off_t) offset);
  return r;
}

struct mem { const unsigned char *p; size_t len; };

static long
read_mem (void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct mem *m = opaque;
  if (offset >= m->len)
    return 0;
  if (count > m->len - offset)
    count = m->len - offset;
  memcpy (buf, m->p + offset, count);
  return (long) count;
}

static void
write_file (const char *name, size_t size, unsigned seed)
{
  char path[4096];
  FILE *fp;

  snprintf (path, sizeof path, "%s/%s", tmpdir, name);
  fp = fopen (path, "wb");
  assert_non_null (fp);
  for (size_t i = 0; i < size; i++)
    fputc ((int) ((i * 31 + seed) & 0xff), fp);
  fclose (fp);
}

static int
setup (void **state)
{
  char cmd[8192];
  static const char longname[] = LONG_NAME;

  if (!mkdtemp (tmpdir))
    return -1;
  write_file ("first.ovf", 1000, 1);
  write_file ("disk.vmdk", 70000, 2);
  write_file ("empty.mf", 0, 3);
  snprintf (cmd, sizeof cmd, "mkdir -p %s/a-very-long-directory-name-that-goes-on-and-on", tmpdir);
  if (system (cmd) != 0)
    return -1;
  write_file (longname, 513, 4);
  snprintf (cmd, sizeof cmd,
            "cd %s && tar --format=ustar -cf ustar.tar first.ovf disk.vmdk empty.mf"
            " && tar --format=gnu -cf gnu.tar first.ovf '%s' disk.vmdk"
            " && tar --format=pax -cf pax.tar first.ovf '%s' disk.vmdk"
            " && tar --format=ustar -cf dot.tar ./first.ovf ./disk.vmdk",
            tmpdir, longname, longname);
  return system (cmd) == 0 ? 0 : -1;
}

static int
teardown (void **state)
{
  char cmd[4200];
  snprintf (cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system (cmd) == 0 ? 0 : -1;
}

/* Every member's bytes at the offset are the file's bytes. */
static void
check_archive (const char *tarname, const char *const *names, size_t nr)
{
  char path[4096], err[256];
  struct ova_tar_index idx;
  struct stat st;
  int fd;

  snprintf (path, sizeof path, "%s/%s", tmpdir, tarname);
  fd = open (path, O_RDONLY);
  assert_true (fd >= 0);
  assert_int_equal (fstat (fd, &st), 0);
  assert_int_equal (ova_tar_index_read (read_fd, &fd, st.st_size, &idx, err,
                                        sizeof err), 0);
  assert_int_equal (idx.nr, nr);
  for (size_t i = 0; i < nr; i++) {
    const struct ova_tar_member *m = ova_tar_find (&idx, names[i]);
    char fpath[4096];
    FILE *fp;
    unsigned char *a, *b;

    assert_non_null (m);
    snprintf (fpath, sizeof fpath, "%s/%s", tmpdir, names[i]);
    fp = fopen (fpath, "rb");
    assert_non_null (fp);
    a = malloc (m->size + 1);
    b = malloc (m->size + 1);
    assert_int_equal (fread (a, 1, m->size + 1, fp), m->size);
    fclose (fp);
    assert_int_equal (pread (fd, b, m->size, m->offset), (ssize_t) m->size);
    assert_memory_equal (a, b, m->size);
    assert_int_equal (m->offset % 512, 0);
    free (a);
    free (b);
  }
  ova_tar_index_free (&idx);
  close (fd);
}

static void
test_ustar (void **state)
{
  const char *names[] = { "first.ovf", "disk.vmdk", "empty.mf" };
  check_archive ("ustar.tar", names, 3);
}

/* The members of gnu.tar and pax.tar. */
static const char *const long_names[] = { "first.ovf", LONG_NAME, "disk.vmdk" };

static void
test_gnu_longname (void **state)
{
  check_archive ("gnu.tar", long_names, 3);
}

static void
test_pax (void **state)
{
  check_archive ("pax.tar", long_names, 3);
}

static void
test_dot_slash (void **state)
{
  const char *names[] = { "first.ovf", "disk.vmdk" };
  check_archive ("dot.tar", names, 2);
}

/* Cut the ustar archive everywhere that matters: never a crash, and a
 * reason when a member is incomplete.
 */
static void
test_truncated (void **state)
{
  char path[4096], err[256];
  struct ova_tar_index idx;
  unsigned char *buf;
  FILE *fp;
  long len;

  snprintf (path, sizeof path, "%s/ustar.tar", tmpdir);
  fp = fopen (path, "rb");
  assert_non_null (fp);
  fseek (fp, 0, SEEK_END);
  len = ftell (fp);
  fseek (fp, 0, SEEK_SET);
  buf = malloc (len);
  assert_int_equal (fread (buf, 1, len, fp), (size_t) len);
  fclose (fp);

  /* Cut inside disk.vmdk's data (header at 1536, data at 2048). */
  {
    struct mem m = { buf, 2048 + 1000 };
    assert_int_equal (ova_tar_index_read (read_mem, &m, m.len, &idx, err,
                                          sizeof err), -1);
    assert_non_null (strstr (err, "truncated"));
    assert_int_equal (idx.nr, 1);       /* first.ovf is whole */
    ova_tar_index_free (&idx);
  }
  /* Cut inside a header. */
  {
    struct mem m = { buf, 1536 + 100 };
    assert_int_equal (ova_tar_index_read (read_mem, &m, m.len, &idx, err,
                                          sizeof err), -1);
    assert_non_null (strstr (err, "truncated tar header"));
    ova_tar_index_free (&idx);
  }
  /* Every length: no crash, no leak. */
  for (long cut = 0; cut <= len; cut += 97) {
    struct mem m = { buf, (size_t) cut };
    (void) ova_tar_index_read (read_mem, &m, m.len, &idx, err, sizeof err);
    ova_tar_index_free (&idx);
  }
  /* A damaged checksum. */
  buf[1536 + 148] ^= 1;
  {
    struct mem m = { buf, (size_t) len };
    assert_int_equal (ova_tar_index_read (read_mem, &m, m.len, &idx, err,
                                          sizeof err), -1);
    assert_non_null (strstr (err, "checksum"));
    assert_non_null (strstr (err, "1536"));
    ova_tar_index_free (&idx);
  }
  /* Not a tar at all. */
  {
    static const unsigned char junk[1024] = "<?xml version=\"1.0\"?><Envelope/>";
    struct mem m = { junk, sizeof junk };
    assert_int_equal (ova_tar_index_read (read_mem, &m, m.len, &idx, err,
                                          sizeof err), -1);
    ova_tar_index_free (&idx);
  }
  free (buf);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_ustar),
    cmocka_unit_test (test_gnu_longname),
    cmocka_unit_test (test_pax),
    cmocka_unit_test (test_dot_slash),
    cmocka_unit_test (test_truncated),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}

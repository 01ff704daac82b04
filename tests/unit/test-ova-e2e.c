/* End to end through libferry: the loader finds the OVA module in the build
 * tree, the module inventories a real OVA (tests/make-ova.sh), and
 * disk_open gives a disk source served by qemu-nbd (libferry's
 * ferry_nbd_source_spawn) that reads the disk straight out of the .ova;
 * every byte is compared with the source image, and the extents must show
 * the image's holes.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <ferry/ferry.h>

#include "test-common.h"

static char tmp[] = "/tmp/ferry-test-ova-e2e.XXXXXX";
static int created;

struct holes { uint64_t hole_bytes, data_bytes, next; };

static int
count_extent (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct holes *h = opaque;
  assert_int_equal (offset, h->next);   /* ascending, no gaps */
  h->next = offset + length;
  if (flags & FERRY_EXTENT_ZERO)
    h->hole_bytes += length;
  else
    h->data_bytes += length;
  return 0;
}

static void
test_e2e (void **state)
{
  const char *top = test_srcdir ();
  char url[4200], raw[4200], statedir[4200];
  struct ferry *f;
  const struct ferry_provider *p;
  struct ferry_open_args args = { .struct_size = sizeof args };
  struct test_inventory r;
  void *h = NULL;
  const char *id;
  json_t *put, *vm, *disks, *d;
  size_t i;

  assert_non_null (top);
  if (test_sh ("command -v qemu-img >/dev/null && command -v qemu-nbd >/dev/null") != 0)
    skip ();
  assert_non_null (mkdtemp (tmp));
  created = 1;
  assert_int_equal (test_sh ("sh %s/tests/make-ova.sh %s/src e2e >/dev/null && "
                             "mkdir %s/ova && mv %s/src/e2e.ova %s/ova/",
                             top, tmp, tmp, tmp, tmp), 0);
  snprintf (url, sizeof url, "%s/ova", tmp);
  snprintf (statedir, sizeof statedir, "%s/state", tmp);

  f = ferry_open (statedir, 0);
  assert_non_null (f);
  p = ferry_get0_provider (f, "ova");
  if (!p)
    print_error ("%s\n", ferry_get_error ());
  assert_non_null (p);

  args.name = "e2e";
  args.ns = "default";
  args.type = "ova";
  args.url = url;
  assert_int_equal (p->open (&args, &h), FERRY_OPEN_OK);
  assert_int_equal (p->test_connection (h), 0);
  test_inventory_init (&r);
  assert_int_equal (p->inventory (h, &r.sink), 0);
  assert_int_equal (json_object_size (json_object_get (r.put, FERRY_INV_VM)),
                    1);
  json_object_foreach (json_object_get (r.put, FERRY_INV_VM), id, put) {
    vm = json_object_get (put, "doc");
    assert_int_equal (json_array_size (json_object_get (vm, "concerns")), 0);
    disks = json_object_get (vm, "disks");
    assert_int_equal (json_array_size (disks), 2);
    assert_int_equal (p->power_state (h, id), FERRY_POWER_OFF);
    json_array_foreach (disks, i, d) {
      const char *disk_id = json_string_value (json_object_get (d, "id"));
      struct ferry_disk_source *src = p->disk_open (h, id, disk_id, NULL);
      struct holes holes = { 0, 0, 0 };
      unsigned char *a = malloc (1 << 20), *b = malloc (1 << 20);
      FILE *fp;
      int64_t size;

      if (!src)
        print_error ("%s\n", ferry_get_error ());
      assert_non_null (src);
      size = src->ops->size (src);
      assert_int_equal (size, json_integer_value (json_object_get (d, "capacity")));
      snprintf (raw, sizeof raw, "%s/src/e2e-disk%zu.raw", tmp, i + 1);
      fp = fopen (raw, "rb");
      assert_non_null (fp);
      for (int64_t off = 0; off < size; off += 1 << 20) {
        size_t n = size - off < (1 << 20) ? (size_t) (size - off) : 1 << 20;
        assert_int_equal (fread (a, 1, n, fp), n);
        assert_int_equal (src->ops->pread (src, b, n, (uint64_t) off), 0);
        assert_memory_equal (a, b, n);
      }
      fclose (fp);
      if (src->ops->extents) {
        assert_int_equal (src->ops->extents (src, 0, (uint64_t) size,
                                             count_extent, &holes), 0);
        assert_true (holes.next >= (uint64_t) size || holes.next > 0);
        assert_true (holes.hole_bytes > 0);     /* the images are sparse */
        assert_true (holes.data_bytes > 0);
      }
      src->ops->close (src);
      free (a);
      free (b);
    }
  }
  json_decref (r.put);
  p->close (h);
  ferry_close (f);
}

static int
teardown (void **state)
{
  if (!created)
    return 0;
  return test_sh ("rm -rf %s", tmp) == 0 ? 0 : -1;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_e2e),
  };
  return cmocka_run_group_tests (tests, NULL, teardown);
}

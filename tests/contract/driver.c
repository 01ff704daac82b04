/* The contract test's driver: a program built out of tree against the
 * installed libferry that loads a provider through the library and calls
 * it.  Usage: driver STATE_DIR PROVIDER_NAME
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/ferry.h>

int
main (int argc, char **argv)
{
  struct ferry *f;
  const struct ferry_provider *p;
  struct ferry_open_args args;
  struct ferry_disk_source *src;
  void *h = NULL;
  json_t *spec;
  int r;

  if (argc != 3) {
    fprintf (stderr, "usage: driver STATE_DIR PROVIDER_NAME\n");
    return 2;
  }
  f = ferry_open (argv[1], 0);
  if (!f) {
    fprintf (stderr, "driver: %s\n", ferry_get_error ());
    return 1;
  }
  p = ferry_get0_provider (f, argv[2]);
  if (!p) {
    fprintf (stderr, "driver: %s\n", ferry_get_error ());
    return 1;
  }
  memset (&args, 0, sizeof args);
  args.struct_size = sizeof args;
  args.name = "contract";
  args.ns = "default";
  args.type = "somebody-else";
  args.url = "";
  args.state_dir = argv[1];
  r = p->open (&args, &h);
  printf ("open other type: %s\n", r == FERRY_OPEN_DECLINED ? "declined" : "WRONG");

  args.type = "my";
  args.url = "my://fail";
  r = p->open (&args, &h);
  printf ("open failing url: %s: %s\n", r == FERRY_OPEN_ERROR ? "error" : "WRONG",
          ferry_get_error ());

  args.url = "my://ok";
  if (p->open (&args, &h) != FERRY_OPEN_OK) {
    fprintf (stderr, "driver: open: %s\n", ferry_get_error ());
    return 1;
  }
  printf ("open: ok\n");
  if (p->test_connection (h) != 0) {
    fprintf (stderr, "driver: test_connection: %s\n", ferry_get_error ());
    return 1;
  }
  printf ("test_connection: ok\n");
  spec = p->vm_spec (h, "vm-1");
  printf ("vm_spec: %s\n", spec ? json_string_value (json_object_get (spec, "name")) : "NULL");
  json_decref (spec);
  src = p->disk_open (h, "vm-1", "disk-0", NULL);
  if (src) {
    printf ("disk size: %" PRId64 "\n", src->ops->size (src));
    src->ops->close (src);
  }
  printf ("can_warm: %s\n", p->can_warm ? "yes" : "not supported");
  p->close (h);
  ferry_close (f);
  return 0;
}

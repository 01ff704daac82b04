/* Drive the built kubevirt destination module through the ABI, one
 * callback per command, for integration/test-kubevirt-module.sh:
 *
 *   kubevirt-driver PROVIDER.json SECRET.json COMMAND ARGS...
 *     test                               test_connection
 *     upload VOLUME.json FILE            volume_create + ferry_transfer of FILE
 *     vm-create SPEC.json VOLUMES.json   vm_create
 *     validate TARGETS.json              validate_targets; prints the conditions
 *     vm-exists NS NAME                  prints 1 or 0
 *     power-on NS NAME                   vm_power_on
 *     cleanup PLAN VMID                  cleanup
 *
 * PROVIDER.json is the Provider's spec ({url, settings}); SECRET.json the
 * Secret's decrypted data (or "-" for none).  The module comes from
 * FERRY_MODULE_PATH (the ./run wrapper points it at the build tree).  On
 * failure the module's error goes to stderr and the exit status is 1.
 */
#include <config.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>

#include <ferry/ferry.h>
#include <ferry/transfer.h>

static json_t *
load (const char *path)
{
  json_error_t err;
  json_t *j;

  if (strcmp (path, "-") == 0)
    return NULL;
  j = json_load_file (path, 0, &err);
  if (j == NULL) {
    fprintf (stderr, "kubevirt-driver: %s:%d: %s\n", path, err.line, err.text);
    exit (2);
  }
  return j;
}

static int
remove_one (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  remove (path);
  return 0;
}

static int
fail (void)
{
  fprintf (stderr, "%s\n", ferry_get_error ());
  return 1;
}

int
main (int argc, char **argv)
{
  char state[] = "/tmp/ferry-kvdriver-XXXXXX";
  struct ferry *f;
  const struct ferry_destination *d;
  json_t *spec = NULL, *secret = NULL;
  struct ferry_open_args args = { .struct_size = sizeof args };
  void *h = NULL;
  const char *cmd;
  int rc = 0;

  if (argc < 4) {
    fprintf (stderr, "usage: kubevirt-driver PROVIDER.json SECRET.json COMMAND ARGS...\n");
    return 2;
  }
  if (mkdtemp (state) == NULL) {
    perror ("mkdtemp");
    return 2;
  }
  f = ferry_open (state, 0);
  if (f == NULL) {
    rc = fail ();
    goto out;
  }
  d = ferry_get0_destination (f, "kubevirt");
  if (d == NULL) {
    fprintf (stderr, "kubevirt-driver: no kubevirt destination module loaded\n");
    rc = 2;
    goto out;
  }
  spec = load (argv[1]);
  secret = load (argv[2]);
  args.name = "host-cluster";
  args.ns = "default";
  args.type = "openshift";
  args.url = json_string_value (json_object_get (spec, "url"));
  if (args.url == NULL)
    args.url = "";
  args.spec = spec;
  args.secret = secret;
  args.state_dir = state;
  if (d->open (&args, &h) != FERRY_OPEN_OK) {
    rc = fail ();
    goto out;
  }
  cmd = argv[3];

  if (strcmp (cmd, "test") == 0)
    rc = d->test_connection (h) == 0 ? 0 : fail ();
  else if (strcmp (cmd, "upload") == 0 && argc == 6) {
    json_t *vol = load (argv[4]);
    struct ferry_disk_source *src = ferry_file_source_open (argv[5]);
    struct ferry_volume_sink *sink;
    struct ferry_transfer_options opts = { .struct_size = sizeof opts, .verify = 1 };
    struct ferry_transfer_result res = { 0 };

    sink = src ? d->volume_create (h, vol) : NULL;
    if (src == NULL || sink == NULL)
      rc = fail ();
    else if (ferry_transfer (src, sink, &opts, &res) == -1) {
      rc = fail ();
      sink->ops->close (sink);
    }
    else if (sink->ops->close (sink) == -1)
      rc = fail ();
    else
      printf ("%s %.3f\n", res.sha256, res.seconds);
    if (src)
      src->ops->close (src);
    json_decref (vol);
  }
  else if (strcmp (cmd, "vm-create") == 0 && argc == 6) {
    json_t *vm = load (argv[4]), *vols = load (argv[5]);
    rc = d->vm_create (h, vm, vols) == 0 ? 0 : fail ();
    json_decref (vm);
    json_decref (vols);
  }
  else if (strcmp (cmd, "validate") == 0 && argc == 5) {
    json_t *targets = load (argv[4]);
    json_t *conds = d->validate_targets ? d->validate_targets (h, targets) : NULL;
    if (conds == NULL)
      rc = fail ();
    else {
      char *text = json_dumps (conds, JSON_COMPACT);
      printf ("%s\n", text ? text : "");
      free (text);
    }
    json_decref (conds);
    json_decref (targets);
  }
  else if (strcmp (cmd, "vm-exists") == 0 && argc == 6) {
    int r = d->vm_exists (h, argv[4], argv[5]);
    if (r == -1)
      rc = fail ();
    else
      printf ("%d\n", r);
  }
  else if (strcmp (cmd, "power-on") == 0 && argc == 6)
    rc = d->vm_power_on (h, argv[4], argv[5]) == 0 ? 0 : fail ();
  else if (strcmp (cmd, "cleanup") == 0 && argc == 6)
    rc = d->cleanup (h, argv[4], argv[5]) == 0 ? 0 : fail ();
  else {
    fprintf (stderr, "kubevirt-driver: unknown command or wrong arguments: %s\n", cmd);
    rc = 2;
  }
  d->close (h);
 out:
  json_decref (spec);
  json_decref (secret);
  if (f)
    ferry_close (f);
  nftw (state, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  return rc;
}

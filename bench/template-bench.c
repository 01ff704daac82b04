/* template-bench: execute one compiled PVC name template for N disks and
 * report operations per second (the Go side is
 * tests/peers/gotemplate "bench").  Output: "ferry N SECONDS OPS/S BYTES".
 *
 *   template-bench N TEMPLATE
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ferry-template.h"

int
main (int argc, char **argv)
{
  if (argc != 3) {
    fprintf (stderr, "usage: template-bench N TEMPLATE\n");
    return 2;
  }
  long n = atol (argv[1]);
  char *err = NULL;
  struct ferry_template *t = ferry_template_parse ("pvc", argv[2], &err);
  if (!t) {
    fprintf (stderr, "%s\n", err);
    free (err);
    return 1;
  }
  /* the same data as the Go peer's */
  struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  ferry_template_data_set_string (d, "VmName", "My.VM_01 \xc3\x9cn\xc3\xaf" "code");
  ferry_template_data_set_string (d, "TargetVmName", "my-vm-01");
  ferry_template_data_set_string (d, "PlanName", "migration-plan-production-east");
  ferry_template_data_set_string (d, "VmId", "vm-1234");
  ferry_template_data_set_int (d, "RootDiskIndex", 0);
  ferry_template_data_set_bool (d, "Shared", true);
  ferry_template_data_set_string (d, "FileName", "[datastore1] my vm/my vm_1.vmdk");
  ferry_template_data_set_string (d, "WinDriveLetter", "c");
  ferry_template_data_set_string (d, "DiskId", "6000C29a-1b2c-3d4e");

  struct timespec a, b;
  size_t total = 0;
  clock_gettime (CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    ferry_template_data_set_int (d, "DiskIndex", i);
    size_t len;
    char *out = ferry_template_execute_len (t, d, &len, &err);
    if (!out) {
      fprintf (stderr, "%s\n", err);
      free (err);
      return 1;
    }
    total += len;
    free (out);
  }
  clock_gettime (CLOCK_MONOTONIC, &b);
  double el = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
  printf ("ferry %ld %.3f %.0f %zu\n", n, el, (double) n / el, total);
  ferry_template_data_free (d);
  ferry_template_free (t);
  return 0;
}

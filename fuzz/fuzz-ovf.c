/* Fuzz harness for the OVA provider's parsers of outside data: the OVF
 * descriptor (libxml2), the .mf manifest, the tar header walk and the disk
 * format probe.  Each input goes through all four; the provider's sources
 * are compiled in.
 *
 *   fuzz-ovf FILE|DIR...   replay inputs (run-fuzz-ovf.sh: the corpus
 *                          in fuzz/corpus/ovf and tests/data/ova)
 * With clang -fsanitize=fuzzer and -DFERRY_LIBFUZZER the same entry point
 * runs under libFuzzer (see fuzz/README.md).
 */
#include <config.h>

#include "../providers/ova/ovf.c"
#include "../providers/ova/manifest.c"
#include "../providers/ova/tar.c"
#include "../providers/ova/vmdk.c"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

struct fuzz_mem { const uint8_t *p; size_t len; };

static long
fuzz_read (void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct fuzz_mem *m = opaque;
  if (offset >= m->len)
    return 0;
  if (count > m->len - offset)
    count = m->len - offset;
  memcpy (buf, m->p + offset, count);
  return (long) count;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  json_t *doc, *concerns, *mf;
  struct ova_tar_index idx;
  struct fuzz_mem m = { data, size };
  char err[256];
  const char *sub;

  doc = ovf_parse ((const char *) data, size, "fuzz.ovf");
  json_decref (doc);

  concerns = json_array ();
  mf = ova_manifest_parse ((const char *) data, size, "fuzz.mf", concerns);
  json_decref (mf);
  json_decref (concerns);

  (void) ova_tar_index_read (fuzz_read, &m, size, &idx, err, sizeof err);
  for (size_t i = 0; i < idx.nr; i++)
    if (idx.members[i].offset + idx.members[i].size > size)
      abort ();                         /* the index must stay in bounds */
  ova_tar_index_free (&idx);

  (void) ova_probe_format (data, size, &sub);
  (void) ova_probe_virtual_size (data, size);
  return 0;
}

#include "replay.h"

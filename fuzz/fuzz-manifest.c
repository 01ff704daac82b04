/* fuzz: manifests through ferry_apply_buffer (dry run: parse, schema,
 * semantic checks, duplicate detection, and the store lookups of apply).
 * Any input may be refused, but never crash, leak or hang.
 */
#include <config.h>

#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "replay.h"

static struct ferry *f;
static char dir[64];

static int
rm_one (const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
  return remove (p);
}

static void
done (void)
{
  ferry_close (f);
  nftw (dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (!f) {
    strcpy (dir, "/tmp/ferry-fuzz-manifest.XXXXXX");
    if (!mkdtemp (dir))
      abort ();
    f = ferry_open (dir, FERRY_OPEN_NO_MODULES);
    if (!f)
      abort ();
    atexit (done);
    ferry_set_log_level (FERRY_LOG_ERROR);
  }
  ferry_apply_buffer (f, "fuzz.yaml", (const char *) data, size, NULL,
                      FERRY_APPLY_DRY_RUN, NULL, NULL);
  return 0;
}

/* ferry core: the module loader (loader.c, on libltdl).
 *
 * Search order: each directory of $FERRY_MODULE_PATH (colon-separated),
 * then $(providerdir) and $(destinationdir) unless $FERRY_MODULE_PATH_ONLY
 * is set (the run-in-place wrapper sets it).  A module whose path lies in a
 * directory named "providers" must be a provider, "destinations" a
 * destination.  Refusals (bad ABI, missing entry symbol, missing mandatory
 * callback, empty or duplicate name, kind mismatch) are recorded with the
 * file and the reason and logged as warnings; the other modules still load.
 * Modules are never unloaded.
 */
#ifndef FERRY_CORE_LOADER_H
#define FERRY_CORE_LOADER_H

#include "ferry/ferry.h"

struct ferry_modules;

/* Scans and loads.  Never fails because of a bad module; NULL only on
 * allocation or libltdl initialisation failure.
 */
struct ferry_modules *ferry_internal_modules_load (void);
void ferry_internal_modules_free (struct ferry_modules *m);

#endif /* FERRY_CORE_LOADER_H */

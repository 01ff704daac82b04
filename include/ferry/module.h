/* ferry: what every loadable module shares.
 *
 * A module is a libtool module that exports exactly one symbol,
 * ferry_module_entry, which FERRY_REGISTER_PROVIDER or
 * FERRY_REGISTER_DESTINATION defines.  The entry returns the module's
 * descriptor after stamping its header (struct size, ABI version, kind);
 * authors never fill the header by hand.
 *
 * ABI rule: descriptor structs only ever grow at the end.  The loader zeroes
 * its own copy and copies min(its size, the module's size), so a module built
 * against an older header reads as NULL for every newer callback.
 */
#ifndef FERRY_MODULE_H
#define FERRY_MODULE_H

#include <stdint.h>
#include <jansson.h>

#include "ferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped only for an incompatible change; appending fields does not bump it. */
#define FERRY_MODULE_ABI_VERSION 1

#define FERRY_MODULE_ENTRY_SYMBOL "ferry_module_entry"

enum ferry_module_kind {
  FERRY_MODULE_PROVIDER = 1,
  FERRY_MODULE_DESTINATION = 2,
};

/* Concurrency a module tolerates; the core takes the strictest. */
enum ferry_thread_model {
  FERRY_THREAD_MODEL_SERIALIZE_ALL = 0, /* one call at a time, all handles */
  FERRY_THREAD_MODEL_SERIALIZE_HANDLE = 1, /* one call at a time per handle */
  FERRY_THREAD_MODEL_PARALLEL = 2,      /* any call from any thread */
};

/* Stamped by the registration macro; first in every descriptor. */
struct ferry_module_header {
  uint32_t struct_size;                 /* bytes, sizeof the descriptor */
  uint32_t abi_version;                 /* FERRY_MODULE_ABI_VERSION */
  uint32_t kind;                        /* enum ferry_module_kind */
  uint32_t reserved;                    /* zero */
};

/* What open() is handed.  Borrowed for the duration of the call; a module
 * that keeps a value copies it.
 */
struct ferry_open_args {
  uint32_t struct_size;                 /* bytes; fields are only appended */
  const char *name;                     /* Provider metadata.name */
  const char *ns;                       /* Provider metadata.namespace */
  const char *type;                     /* spec.type, e.g. "vsphere" */
  const char *url;                      /* spec.url, may be "" */
  const json_t *spec;                   /* the whole Provider spec */
  const json_t *secret;                 /* decrypted Secret data: object of
                                           strings, or NULL.  Never log it. */
  const char *state_dir;                /* private scratch: <state>/providers/<uid> */
  /* vSphere area: the provider's Host objects (Forklift's Host: an ESXi
   * host's address on the migration network and its own Secret), as
   * [{"id", "ipAddress", "secret": {decrypted data}}], or NULL.  Never log
   * the secrets.
   */
  const json_t *hosts;
};

/* open() returns one of these. */
#define FERRY_OPEN_OK 0
#define FERRY_OPEN_ERROR (-1)
#define FERRY_OPEN_DECLINED 1           /* "not mine": not an error */

enum ferry_power_state {
  FERRY_POWER_UNKNOWN = 0,
  FERRY_POWER_OFF = 1,
  FERRY_POWER_ON = 2,
  FERRY_POWER_SUSPENDED = 3,
};

#if defined(__GNUC__)
#define FERRY_MODULE_EXPORT __attribute__((visibility ("default")))
#else
#define FERRY_MODULE_EXPORT
#endif

#ifdef __cplusplus
#define FERRY_EXTERN_C extern "C"
#else
#define FERRY_EXTERN_C
#endif

/* Used by the registration macros in provider.h and destination.h. */
#define FERRY_INTERNAL_REGISTER(desc, kind_)                            \
  FERRY_EXTERN_C FERRY_MODULE_EXPORT                                    \
  const struct ferry_module_header *ferry_module_entry (void);          \
  FERRY_EXTERN_C FERRY_MODULE_EXPORT                                    \
  const struct ferry_module_header *ferry_module_entry (void)           \
  {                                                                     \
    (desc).hdr.struct_size = sizeof (desc);                             \
    (desc).hdr.abi_version = FERRY_MODULE_ABI_VERSION;                  \
    (desc).hdr.kind = (kind_);                                          \
    return &(desc).hdr;                                                 \
  }

#ifdef __cplusplus
}
#endif

#endif /* FERRY_MODULE_H */

/* ferry OVA provider: declarations shared by the module's files (ovf.c,
 * tar.c, manifest.c, vmdk.c, ova.c) and by the unit tests and fuzz
 * harness that compile those files directly.  Nothing here leaves the
 * module.
 */
#ifndef FERRY_OVA_INTERNAL_H
#define FERRY_OVA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

/* ---- Cleanup helpers (module-local: core's are not exported) ---------- */

static inline void ova_cleanup_free (void *p) { free (*(void **) p); }
static inline void ova_cleanup_json (json_t **p) { json_decref (*p); }
static inline void ova_cleanup_close (int *fd) { if (*fd >= 0) close (*fd); }
#define OVA_CLEANUP_FREE __attribute__((cleanup (ova_cleanup_free)))
#define OVA_CLEANUP_JSON __attribute__((cleanup (ova_cleanup_json)))
#define OVA_CLEANUP_CLOSE __attribute__((cleanup (ova_cleanup_close)))

/* Limits that keep hostile input from costing memory or time. */
#define OVA_MAX_OVF_SIZE (32u << 20)    /* bytes of OVF XML we read */
#define OVA_MAX_MF_SIZE (1u << 20)      /* bytes of manifest we read */
#define OVA_MAX_CAPACITY (UINT64_C (64) << 40) /* bytes: 64 TiB per disk */
#define OVA_MAX_MEMBERS 4096            /* tar members per .ova */

/* ---- ovf.c: OVF descriptor parsing ------------------------------------- */

/* Parse an OVF descriptor (what names it for messages, e.g. "a.ova!a.ovf").
 * Never fails on bad input: the result is always an object
 *   {virtualSystems: [...], files: [...], networks: [...], source,
 *    concerns: [...]}
 * where a document that cannot be used at all has no virtualSystems and a
 * Critical concern saying why.  Each virtual system:
 *   {id, name, osId, osType, osDescription, cpuCount, coresPerSocket,
 *    memoryMB, firmware, secureBoot, tpm, virtualSystemType,
 *    disks: [{diskId, name, fileRef, capacity (bytes),
 *             capacityAllocationUnits, populatedSize, format, bus,
 *             controllerIndex, unit}],
 *    nics: [{name, mac, network, model}], networks: [names], concerns}
 * Returns NULL only when out of memory (after ferry_error()).  Caller frees.
 */
json_t *ovf_parse (const char *buf, size_t len, const char *what);

/* "byte * 2^30", "byte*1024^3", "MegaBytes", "GB", "byte" ... -> multiplier.
 * NULL or "" means bytes.  Returns 0 and sets *mult, or -1 (no error
 * reported: the caller makes it a concern).
 */
int ovf_parse_units (const char *units, uint64_t *mult);

/* Append {category, label, assessment} to the array concerns. */
void ova_concern (json_t *concerns, const char *category, const char *label,
                  const char *fmt, ...) __attribute__((format (printf, 4, 5)));

/* ---- tar.c: where each member's bytes are ------------------------------ */

struct ova_tar_member {
  char *name;                           /* path inside the archive, no "./" */
  uint64_t offset;                      /* bytes: where the data starts */
  uint64_t size;                        /* bytes */
};

struct ova_tar_index {
  struct ova_tar_member *members;       /* regular files only, archive order */
  size_t nr;
};

/* Reads count bytes at offset; returns the number read (short at EOF) or -1. */
typedef long (*ova_read_fn) (void *opaque, void *buf, size_t count,
                             uint64_t offset);

/* Walk the 512-byte headers (ustar, GNU long names, pax path/size).
 * total is the archive size in bytes.  Returns 0, or -1 with a one-line
 * reason in err (no ferry_error: a bad archive is a concern, not an error
 * of the caller).  idx is filled in either case and freed by the caller.
 */
int ova_tar_index_read (ova_read_fn read_fn, void *opaque, uint64_t total,
                        struct ova_tar_index *idx, char *err, size_t errlen);
void ova_tar_index_free (struct ova_tar_index *idx);
const struct ova_tar_member *ova_tar_find (const struct ova_tar_index *idx,
                                           const char *name);

/* ---- manifest.c: .mf digests ------------------------------------------- */

/* Parse "SHA256(file)= hex" lines into {file: {algorithm, digest}}.
 * Malformed lines become Warning concerns in concerns (what names the .mf).
 * Returns NULL only when out of memory.
 */
json_t *ova_manifest_parse (const char *buf, size_t len, const char *what,
                            json_t *concerns);

/* A running digest: of one algorithm ("SHA1", "SHA256", "SHA512"), or of
 * all three at once when algorithm is NULL (a manifest not read yet).
 */
struct ova_digest;
struct ova_digest *ova_digest_new (const char *algorithm);
void ova_digest_update (struct ova_digest *d, const void *buf, size_t len);
/* Lower-case hex of algorithm ("SHA1", "SHA256", "SHA512") into out
 * (at least 129 bytes).  Returns 0 or -1 if unknown or not computed.  Finalizes once;
 * later calls return the same value.
 */
int ova_digest_hex (struct ova_digest *d, const char *algorithm, char *out);
void ova_digest_free (struct ova_digest *d);

/* SHA-256 of the concatenation of parts (each NUL-terminated, the NULs
 * included as separators), formatted as a UUID (8-4-4-4-12 lower-case
 * hex, the first 128 bits).  Ids are built with this, see README.md.
 */
void ova_stable_id (char out[37], const char *const *parts);

/* ---- vmdk.c: what a disk file is --------------------------------------- */

/* From the first bytes of a disk file: "vmdk" (hosted sparse extent,
 * monolithicSparse or streamOptimized), "vmdk-descriptor" (a text
 * descriptor naming other extents), "qcow2", or "raw".  subformat gets
 * "streamOptimized", "monolithicSparse" or "" when known.
 */
const char *ova_probe_format (const unsigned char *buf, size_t len,
                              const char **subformat);

/* The virtual disk size in bytes a sparse VMDK or qcow2 header declares,
 * or 0 when unknown (raw images: their file size).
 */
uint64_t ova_probe_virtual_size (const unsigned char *buf, size_t len);

/* Escape a value for qemu's key=value option syntax (commas doubled).
 * Caller frees.
 */
char *ova_qemu_opt_escape (const char *s);

#endif /* FERRY_OVA_INTERNAL_H */

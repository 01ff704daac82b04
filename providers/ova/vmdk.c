/* ferry OVA provider: what a disk file is, from its first bytes.
 *
 * OVA disks are nearly always VMDK: streamOptimized (VMware's OVF export)
 * or monolithicSparse (VirtualBox, older tools), both "hosted sparse
 * extents" starting with the magic "KDMV" and an embedded descriptor whose
 * createType says which.  Some tools ship a text descriptor with a flat
 * extent beside it, qcow2, or raw images; qemu handles all of them once
 * told the format.
 */
#include <config.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ova-internal.h"

static uint64_t
le64 (const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static const char *
find_create_type (const unsigned char *buf, size_t len)
{
  static const char key[] = "createType=\"";
  size_t klen = sizeof key - 1;

  for (size_t i = 0; i + klen < len; i++)
    if (memcmp (buf + i, key, klen) == 0) {
      const unsigned char *v = buf + i + klen;
      size_t rest = len - i - klen;
      if (rest >= 15 && memcmp (v, "streamOptimized", 15) == 0)
        return "streamOptimized";
      if (rest >= 16 && memcmp (v, "monolithicSparse", 16) == 0)
        return "monolithicSparse";
      if (rest >= 14 && memcmp (v, "monolithicFlat", 14) == 0)
        return "monolithicFlat";
      return "";
    }
  return "";
}

const char *
ova_probe_format (const unsigned char *buf, size_t len,
                  const char **subformat)
{
  *subformat = "";
  if (len >= 4 && memcmp (buf, "KDMV", 4) == 0) {
    /* Header: flags at 8 (bit 16: compressed grains, bit 17: markers),
     * descriptorOffset (sectors) at 28, descriptorSize at 36.
     */
    if (len >= 44) {
      uint32_t flags = (uint32_t) buf[8] | (uint32_t) buf[9] << 8
        | (uint32_t) buf[10] << 16 | (uint32_t) buf[11] << 24;
      uint64_t doff = le64 (buf + 28) * 512, dsize = le64 (buf + 36) * 512;
      if (doff && doff < len) {
        size_t n = dsize < len - doff ? (size_t) dsize : len - doff;
        *subformat = find_create_type (buf + doff, n);
      }
      if (!**subformat)
        *subformat = (flags & 0x30000) == 0x30000
          ? "streamOptimized" : "monolithicSparse";
    }
    return "vmdk";
  }
  if (len >= 21 && memcmp (buf, "# Disk DescriptorFile", 21) == 0) {
    *subformat = find_create_type (buf, len);
    return "vmdk-descriptor";
  }
  if (len >= 4 && memcmp (buf, "QFI\xfb", 4) == 0)
    return "qcow2";
  return "raw";
}

uint64_t
ova_probe_virtual_size (const unsigned char *buf, size_t len)
{
  uint64_t v = 0;

  if (len >= 20 && memcmp (buf, "KDMV", 4) == 0) {
    v = le64 (buf + 12);                /* capacity, in sectors */
    return v > UINT64_MAX / 512 ? 0 : v * 512;
  }
  if (len >= 32 && memcmp (buf, "QFI\xfb", 4) == 0) {
    for (int i = 24; i < 32; i++)       /* size, big-endian bytes */
      v = (v << 8) | buf[i];
    return v;
  }
  return 0;
}

char *
ova_qemu_opt_escape (const char *s)
{
  size_t n = 0;
  char *out, *p;

  for (const char *q = s; *q; q++)
    n += (*q == ',') ? 2 : 1;
  out = malloc (n + 1);
  if (!out)
    return NULL;
  for (p = out; *s; s++) {
    *p++ = *s;
    if (*s == ',')
      *p++ = ',';
  }
  *p = '\0';
  return out;
}

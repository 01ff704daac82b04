/* ferry OVA provider: where each tar member's bytes are.
 *
 * An .ova is a tar archive; qemu reads a disk straight out of it given the
 * member's data offset and size (file.offset/file.size of the raw driver),
 * so nothing is ever extracted.  libarchive does not expose data offsets,
 * so the 512-byte headers are walked here: ustar/v7, GNU long names ('L'),
 * pax extended headers ('x': path, size) and global headers ('g', skipped).
 * Every field is checked against the archive size; a damaged archive gives
 * a one-line reason, never a crash.
 */
#include <config.h>

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ova-internal.h"

#define BLOCK 512u
#define MAX_LONGNAME 65536u             /* bytes of a GNU or pax path */
#define MAX_PAX 1048576u                /* bytes of one pax header */

static bool
all_zero (const unsigned char *b)
{
  for (unsigned i = 0; i < BLOCK; i++)
    if (b[i])
      return false;
  return true;
}

/* Octal (NUL/space terminated) or GNU base-256 numeric field. */
static int
tar_number (const unsigned char *f, size_t len, uint64_t *r)
{
  uint64_t v = 0;
  size_t i = 0;

  if (f[0] & 0x80) {                    /* base-256, big-endian */
    if (f[0] & 0x40)
      return -1;                        /* negative */
    v = f[0] & 0x3f;
    for (i = 1; i < len; i++) {
      if (v > (UINT64_MAX >> 8))
        return -1;
      v = (v << 8) | f[i];
    }
    *r = v;
    return 0;
  }
  while (i < len && f[i] == ' ')
    i++;
  if (i == len || f[i] < '0' || f[i] > '7')
    return -1;
  for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
    if (v > (UINT64_MAX >> 3))
      return -1;
    v = (v << 3) | (uint64_t) (f[i] - '0');
  }
  for (; i < len; i++)
    if (f[i] != ' ' && f[i] != '\0')
      return -1;
  *r = v;
  return 0;
}

static bool
checksum_ok (const unsigned char *h)
{
  uint64_t want;
  unsigned long sum = 0;

  if (tar_number (h + 148, 8, &want) == -1)
    return false;
  for (unsigned i = 0; i < BLOCK; i++)
    sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum == want;
}

static char *
field_string (const unsigned char *f, size_t len)
{
  size_t n = strnlen ((const char *) f, len);
  return strndup ((const char *) f, n);
}

/* "./a/b" -> "a/b" (in place). */
static void
normalize (char *name)
{
  while (name[0] == '.' && name[1] == '/')
    memmove (name, name + 2, strlen (name + 2) + 1);
}

/* Parse pax records "LEN key=value\n" for path and size. */
static int
pax_parse (const char *buf, size_t len, char **path, uint64_t *size,
           bool *have_size)
{
  size_t pos = 0;

  while (pos < len) {
    size_t reclen = 0, i = pos;
    const char *kv, *eq, *end;

    while (i < len && isdigit ((unsigned char) buf[i])) {
      reclen = reclen * 10 + (size_t) (buf[i] - '0');
      if (reclen > len)
        return -1;
      i++;
    }
    if (i == pos || i >= len || buf[i] != ' ' || reclen < 5
        || pos + reclen > len || buf[pos + reclen - 1] != '\n')
      return -1;
    kv = buf + i + 1;
    end = buf + pos + reclen - 1;
    eq = memchr (kv, '=', end - kv);
    if (!eq)
      return -1;
    if ((size_t) (eq - kv) == 4 && memcmp (kv, "path", 4) == 0) {
      free (*path);
      *path = strndup (eq + 1, end - (eq + 1));
      if (!*path)
        return -1;
    }
    else if ((size_t) (eq - kv) == 4 && memcmp (kv, "size", 4) == 0) {
      uint64_t v = 0;
      const char *p = eq + 1;
      if (p == end)
        return -1;
      for (; p < end; p++) {
        if (!isdigit ((unsigned char) *p) || v > UINT64_MAX / 10)
          return -1;
        v = v * 10 + (uint64_t) (*p - '0');
      }
      *size = v;
      *have_size = true;
    }
    pos += reclen;
  }
  return 0;
}

/* Read a whole special member (long name, pax) into a NUL-terminated buffer. */
static char *
read_member (ova_read_fn read_fn, void *opaque, uint64_t off, uint64_t size)
{
  char *buf = malloc (size + 1);
  long r;

  if (!buf)
    return NULL;
  r = read_fn (opaque, buf, size, off);
  if (r < 0 || (uint64_t) r != size) {
    free (buf);
    return NULL;
  }
  buf[size] = '\0';
  return buf;
}

int
ova_tar_index_read (ova_read_fn read_fn, void *opaque, uint64_t total,
                    struct ova_tar_index *idx, char *err, size_t errlen)
{
  unsigned char h[BLOCK];
  uint64_t off = 0;
  char *long_name = NULL, *pax_path = NULL;
  uint64_t pax_size = 0;
  bool have_pax_size = false;
  int ret = -1;

  idx->members = NULL;
  idx->nr = 0;
  err[0] = '\0';

  for (;;) {
    uint64_t size, data, next;
    long r;
    char type;

    if (off == total) {
      /* Some writers omit the end-of-archive blocks; every member read so
       * far is whole.  A member cut off here shows up as a missing file.
       */
      ret = 0;
      goto out;
    }
    r = read_fn (opaque, h, BLOCK, off);
    if (r < 0) {
      snprintf (err, errlen, "read error at byte %" PRIu64, off);
      goto out;
    }
    if ((size_t) r < BLOCK) {
      snprintf (err, errlen, "truncated tar header at byte %" PRIu64, off);
      goto out;
    }
    if (all_zero (h)) {
      ret = 0;                          /* end of archive */
      goto out;
    }
    if (!checksum_ok (h)) {
      snprintf (err, errlen, "bad tar header checksum at byte %" PRIu64
                " (not a tar archive, or damaged)", off);
      goto out;
    }
    if (tar_number (h + 124, 12, &size) == -1) {
      snprintf (err, errlen, "bad size field in the tar header at byte %"
                PRIu64, off);
      goto out;
    }
    type = (char) h[156];
    data = off + BLOCK;
    if (have_pax_size && type != 'x' && type != 'g' && type != 'L'
        && type != 'K')
      size = pax_size;
    if (size > total || data > total - size) {
      snprintf (err, errlen, "member at byte %" PRIu64 " claims %" PRIu64
                " bytes, past the end of the archive (%" PRIu64 " bytes): "
                "truncated", off, size, total);
      goto out;
    }
    next = data + ((size + BLOCK - 1) / BLOCK) * BLOCK;

    switch (type) {
    case 'L':                           /* GNU long name of the next member */
      if (size > MAX_LONGNAME) {
        snprintf (err, errlen, "GNU long name at byte %" PRIu64 " is too "
                  "long", off);
        goto out;
      }
      free (long_name);
      long_name = read_member (read_fn, opaque, data, size);
      if (!long_name) {
        snprintf (err, errlen, "cannot read the GNU long name at byte %"
                  PRIu64, off);
        goto out;
      }
      break;
    case 'x': {                         /* pax header of the next member */
      char *pax;
      if (size > MAX_PAX) {
        snprintf (err, errlen, "pax header at byte %" PRIu64 " is too long",
                  off);
        goto out;
      }
      pax = read_member (read_fn, opaque, data, size);
      if (!pax || pax_parse (pax, size, &pax_path, &pax_size,
                             &have_pax_size) == -1) {
        free (pax);
        snprintf (err, errlen, "bad pax header at byte %" PRIu64, off);
        goto out;
      }
      free (pax);
      break;
    }
    case 'g':                           /* pax global header: nothing we use */
    case 'K':                           /* GNU long link name */
      break;
    case '0': case '\0': case '7': {    /* regular file */
      struct ova_tar_member *m;
      char *name;

      if (idx->nr >= OVA_MAX_MEMBERS) {
        snprintf (err, errlen, "more than %u members", OVA_MAX_MEMBERS);
        goto out;
      }
      if (pax_path)
        name = pax_path, pax_path = NULL;
      else if (long_name)
        name = long_name, long_name = NULL;
      else if (memcmp (h + 257, "ustar", 5) == 0 && h[345]) {
        char *prefix = field_string (h + 345, 155);
        char *base = field_string (h, 100);
        name = NULL;
        if (prefix && base && asprintf (&name, "%s/%s", prefix, base) == -1)
          name = NULL;
        free (prefix);
        free (base);
      }
      else
        name = field_string (h, 100);
      if (!name) {
        snprintf (err, errlen, "out of memory");
        goto out;
      }
      normalize (name);
      m = realloc (idx->members, (idx->nr + 1) * sizeof *m);
      if (!m) {
        free (name);
        snprintf (err, errlen, "out of memory");
        goto out;
      }
      idx->members = m;
      m[idx->nr].name = name;
      m[idx->nr].offset = data;
      m[idx->nr].size = size;
      idx->nr++;
    }
      /* fall through */
    default:                            /* directories, links, devices */
      free (long_name);
      free (pax_path);
      long_name = pax_path = NULL;
      have_pax_size = false;
      break;
    }
    if (next > total) {
      /* The last member's padding is missing: the data is all there, but
       * the archive was cut.
       */
      snprintf (err, errlen, "the archive is truncated after byte %" PRIu64,
                data + size);
      goto out;
    }
    off = next;
  }

 out:
  free (long_name);
  free (pax_path);
  return ret;
}

void
ova_tar_index_free (struct ova_tar_index *idx)
{
  for (size_t i = 0; i < idx->nr; i++)
    free (idx->members[i].name);
  free (idx->members);
  idx->members = NULL;
  idx->nr = 0;
}

const struct ova_tar_member *
ova_tar_find (const struct ova_tar_index *idx, const char *name)
{
  while (name[0] == '.' && name[1] == '/')
    name += 2;
  for (size_t i = 0; i < idx->nr; i++)
    if (strcmp (idx->members[i].name, name) == 0)
      return &idx->members[i];
  return NULL;
}

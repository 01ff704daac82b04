/* ferry OVA provider: the .mf manifest and digests.
 *
 * A manifest has one line per file, "SHA256(disk1.vmdk)= <hex>" (SHA1 and
 * SHA512 too; OVF 1.x used SHA1, 2.x SHA256).  Digests are computed while
 * the bytes stream past (ova.c), several algorithms at once when the
 * manifest comes after the file it describes.  Stable ids are built here
 * too, since they are SHA-256 as well.
 */
#include <config.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include <ferry/error.h>

#include "ova-internal.h"

static const struct {
  const char *name;
  size_t hexlen;
} algorithms[] = {
  { "SHA1", 40 }, { "SHA256", 64 }, { "SHA512", 128 },
};
#define NR_ALG (sizeof algorithms / sizeof algorithms[0])

json_t *
ova_manifest_parse (const char *buf, size_t len, const char *what,
                    json_t *concerns)
{
  json_t *out = json_object ();
  size_t pos = 0;
  unsigned lineno = 0;

  if (!out) {
    ferry_error ("ova: %s: out of memory", what);
    return NULL;
  }
  while (pos < len) {
    const char *line = buf + pos, *nl = memchr (line, '\n', len - pos);
    size_t n = nl ? (size_t) (nl - line) : len - pos;
    char *l, *open, *close, *eq, *hex, *end;
    size_t alg;

    pos += n + (nl ? 1 : 0);
    lineno++;
    l = strndup (line, n);
    if (!l) {
      json_decref (out);
      ferry_error ("ova: %s: out of memory", what);
      return NULL;
    }
    /* Trim, allow CRLF. */
    end = l + strlen (l);
    while (end > l && isspace ((unsigned char) end[-1]))
      *--end = '\0';
    if (!*l) {
      free (l);
      continue;
    }
    open = strchr (l, '(');
    close = strrchr (l, ')');
    eq = close ? strchr (close, '=') : NULL;
    if (!open || !close || close < open || !eq) {
      ova_concern (concerns, "Warning", "Malformed manifest",
                   "%s: line %u is not \"ALGORITHM(file)= digest\"", what,
                   lineno);
      free (l);
      continue;
    }
    *open = '\0';
    *close = '\0';
    /* "SHA256 (file) = hex" also seen; trim around the algorithm. */
    for (end = open; end > l && isspace ((unsigned char) end[-1]); )
      *--end = '\0';
    hex = eq + 1;
    while (isspace ((unsigned char) *hex))
      hex++;
    for (alg = 0; alg < NR_ALG; alg++)
      if (strcasecmp (l, algorithms[alg].name) == 0)
        break;
    if (alg == NR_ALG) {
      ova_concern (concerns, "Warning", "Unsupported manifest digest",
                   "%s: line %u uses digest %s; only SHA1, SHA256 and SHA512 "
                   "are checked", what, lineno, l);
      free (l);
      continue;
    }
    bool ok = strlen (hex) == algorithms[alg].hexlen;
    for (char *p = hex; ok && *p; p++) {
      if (!isxdigit ((unsigned char) *p))
        ok = false;
      *p = tolower ((unsigned char) *p);
    }
    if (!ok) {
      ova_concern (concerns, "Warning", "Malformed manifest",
                   "%s: line %u: the %s digest of %s is not %zu hex digits",
                   what, lineno, algorithms[alg].name, open + 1,
                   algorithms[alg].hexlen);
      free (l);
      continue;
    }
    {
      const char *file = open + 1;
      while (file[0] == '.' && file[1] == '/')
        file += 2;
      json_object_set_new (out, file,
                           json_pack ("{s:s, s:s}", "algorithm",
                                      algorithms[alg].name, "digest", hex));
    }
    free (l);
  }
  return out;
}

struct ova_digest {
  EVP_MD_CTX *ctx[NR_ALG];
  char hex[NR_ALG][129];
  bool done;
};

struct ova_digest *
ova_digest_new (const char *algorithm)
{
  struct ova_digest *d = calloc (1, sizeof *d);
  const EVP_MD *md[NR_ALG] = { EVP_sha1 (), EVP_sha256 (), EVP_sha512 () };

  if (!d)
    return NULL;
  for (size_t i = 0; i < NR_ALG; i++) {
    if (algorithm && strcasecmp (algorithm, algorithms[i].name) != 0)
      continue;
    d->ctx[i] = EVP_MD_CTX_new ();
    if (!d->ctx[i] || EVP_DigestInit_ex (d->ctx[i], md[i], NULL) != 1) {
      ova_digest_free (d);
      return NULL;
    }
  }
  return d;
}

void
ova_digest_update (struct ova_digest *d, const void *buf, size_t len)
{
  for (size_t i = 0; i < NR_ALG && !d->done; i++)
    if (d->ctx[i])
      EVP_DigestUpdate (d->ctx[i], buf, len);
}

int
ova_digest_hex (struct ova_digest *d, const char *algorithm, char *out)
{
  if (!d->done) {
    for (size_t i = 0; i < NR_ALG; i++) {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int mdlen = 0;
      if (!d->ctx[i])
        continue;
      EVP_DigestFinal_ex (d->ctx[i], md, &mdlen);
      for (unsigned j = 0; j < mdlen; j++)
        snprintf (&d->hex[i][2 * j], 3, "%02x", md[j]);
    }
    d->done = true;
  }
  for (size_t i = 0; i < NR_ALG; i++)
    if (strcasecmp (algorithm, algorithms[i].name) == 0 && d->ctx[i]) {
      memcpy (out, d->hex[i], sizeof d->hex[i]);
      return 0;
    }
  return -1;
}

void
ova_digest_free (struct ova_digest *d)
{
  if (!d)
    return;
  for (size_t i = 0; i < NR_ALG; i++)
    EVP_MD_CTX_free (d->ctx[i]);
  free (d);
}

void
ova_stable_id (char out[37], const char *const *parts)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  char hex[33];

  if (ctx && EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL) == 1) {
    for (size_t i = 0; parts[i]; i++)
      EVP_DigestUpdate (ctx, parts[i], strlen (parts[i]) + 1);
    EVP_DigestFinal_ex (ctx, md, &mdlen);
  }
  EVP_MD_CTX_free (ctx);
  if (mdlen < 16)
    memset (md, 0, 16);
  for (unsigned j = 0; j < 16; j++)
    snprintf (&hex[2 * j], 3, "%02x", md[j]);
  snprintf (out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
            hex + 16, hex + 20);
}

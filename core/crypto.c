/* ferry core: secrets at rest (see crypto.h).
 *
 * The key is created in a private temporary file (O_CREAT|O_EXCL|O_NOFOLLOW,
 * 0600), filled, fsync'd and then hard-linked to its name, so that another
 * process never sees a half-written key, and two processes creating the key
 * at once agree on one (link fails with EEXIST for the loser, who loads the
 * winner's).  The directory is fsync'd too: a database commit whose sealed
 * data outlives its key after a power cut would be unreadable forever.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "internal.h"
#include "crypto.h"

#define MAGIC "FRY1"
#define MAGIC_LEN 4                     /* bytes */
#define NONCE_LEN 12                    /* bytes, the GCM standard nonce */
#define TAG_LEN 16                      /* bytes */
#define OVERHEAD (MAGIC_LEN + NONCE_LEN + TAG_LEN)

/* The first OpenSSL error of the queue (cleared), for messages. */
static const char *
openssl_reason (char *buf, size_t len)
{
  unsigned long e = ERR_get_error ();
  if (e == 0)
    snprintf (buf, len, "unknown OpenSSL error");
  else
    ERR_error_string_n (e, buf, len);
  ERR_clear_error ();
  return buf;
}

static int
write_all (int fd, const unsigned char *p, size_t len)
{
  while (len > 0) {
    ssize_t n = write (fd, p, len);
    if (n == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= n;
  }
  return 0;
}

static int
fsync_parent (const char *path)
{
  CLEANUP_FREE char *dir = strdup (path);
  char *slash;

  if (!dir)
    return -1;
  slash = strrchr (dir, '/');
  if (!slash)
    strcpy (dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  CLEANUP_CLOSE int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd == -1 || fsync (fd) == -1)
    return -1;
  return 0;
}

/* 0 created, 1 someone else created it first, -1 error. */
static int
create_key (const char *path)
{
  unsigned char key[FERRY_SECRET_KEY_LEN];
  CLEANUP_FREE char *tmp = NULL;
  CLEANUP_CLOSE int fd = -1;
  int r = -1;

  unsigned char rnd[8];

  /* A random temporary name: other processes and threads may be creating
   * the key at the same moment.
   */
  if (RAND_bytes (key, sizeof key) != 1 || RAND_bytes (rnd, sizeof rnd) != 1) {
    char why[256];
    ferry_error ("create secret key %s: RAND_bytes: %s", path,
                 openssl_reason (why, sizeof why));
    goto out;
  }
  if (asprintf (&tmp, "%s.new-%02x%02x%02x%02x%02x%02x%02x%02x", path,
                rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
                rnd[7]) == -1) {
    tmp = NULL;
    ferry_error_errno (errno, "create secret key %s", path);
    goto out;
  }
  fd = open (tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd == -1) {
    ferry_error_errno (errno, "create secret key %s", tmp);
    goto out;
  }
  if (write_all (fd, key, sizeof key) == -1 || fsync (fd) == -1) {
    ferry_error_errno (errno, "write secret key %s", tmp);
    goto out_unlink;
  }
  if (link (tmp, path) == -1) {
    if (errno == EEXIST)
      r = 1;
    else
      ferry_error_errno (errno, "create secret key %s", path);
    goto out_unlink;
  }
  if (fsync_parent (path) == -1) {
    ferry_error_errno (errno, "sync the directory of secret key %s", path);
    goto out_unlink;
  }
  r = 0;

 out_unlink:
  unlink (tmp);
 out:
  OPENSSL_cleanse (key, sizeof key);
  return r;
}

int
ferry_internal_secret_key_load (const char *path, int create,
                                unsigned char key[FERRY_SECRET_KEY_LEN])
{
  unsigned char buf[FERRY_SECRET_KEY_LEN + 1];
  struct stat sb;
  size_t got = 0;
  int attempts = 0;
  int fd;

 again:
  fd = open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd == -1) {
    if (errno == ENOENT && create && attempts++ < 3) {
      int r = create_key (path);
      if (r == -1)
        return -1;
      goto again;                       /* load what is now there */
    }
    if (errno == ELOOP)
      ferry_error ("open secret key %s: it is a symbolic link, which ferry "
                   "refuses: put the key file itself there", path);
    else if (errno == ENOENT)
      ferry_error_errno (errno, "open secret key %s (it is created by the "
                         "first command that stores a Secret)", path);
    else
      ferry_error_errno (errno, "open secret key %s", path);
    return -1;
  }
  CLEANUP_CLOSE int cfd = fd;

  if (fstat (cfd, &sb) == -1) {
    ferry_error_errno (errno, "stat secret key %s", path);
    return -1;
  }
  if (!S_ISREG (sb.st_mode)) {
    ferry_error ("secret key %s is not a regular file: move it away and "
                 "restore the key file from a backup", path);
    return -1;
  }
  if (sb.st_mode & 077) {
    ferry_error ("secret key %s has mode %04o, which lets other users read "
                 "it: run chmod 600 %s (and consider the key exposed)",
                 path, (unsigned) (sb.st_mode & 07777), path);
    return -1;
  }
  if (sb.st_size != FERRY_SECRET_KEY_LEN) {
    ferry_error ("secret key %s is %lld bytes, not %d: it is damaged; "
                 "restore it from a backup (a new key cannot open the "
                 "Secrets already stored)", path, (long long) sb.st_size,
                 FERRY_SECRET_KEY_LEN);
    return -1;
  }
  /* Read one byte more than expected to notice a file that grew. */
  while (got < sizeof buf) {
    ssize_t n = read (cfd, buf + got, sizeof buf - got);
    if (n == -1) {
      if (errno == EINTR)
        continue;
      ferry_error_errno (errno, "read secret key %s", path);
      OPENSSL_cleanse (buf, sizeof buf);
      return -1;
    }
    if (n == 0)
      break;
    got += n;
  }
  if (got != FERRY_SECRET_KEY_LEN) {
    ferry_error ("secret key %s is %zu bytes, not %d: it is damaged; "
                 "restore it from a backup", path, got, FERRY_SECRET_KEY_LEN);
    OPENSSL_cleanse (buf, sizeof buf);
    return -1;
  }
  memcpy (key, buf, FERRY_SECRET_KEY_LEN);
  OPENSSL_cleanse (buf, sizeof buf);
  return 0;
}

static void
free_ctx (EVP_CIPHER_CTX **ctx)
{
  EVP_CIPHER_CTX_free (*ctx);
}
#define CLEANUP_CIPHER_CTX __attribute__((cleanup (free_ctx)))

int
ferry_internal_seal (const unsigned char key[FERRY_SECRET_KEY_LEN],
                     const char *aad, const void *plain, size_t len,
                     unsigned char **out, size_t *out_len)
{
  CLEANUP_CIPHER_CTX EVP_CIPHER_CTX *ctx = NULL;
  unsigned char *blob, *nonce, *ct, *tag;
  char why[256];
  int n, fin;

  *out = NULL;
  *out_len = 0;
  if (len > (size_t) INT_MAX - OVERHEAD) {
    ferry_error ("seal %s: %zu bytes is too large", aad, len);
    return -1;
  }
  blob = malloc (len + OVERHEAD);
  if (!blob) {
    ferry_error_errno (errno, "seal %s", aad);
    return -1;
  }
  memcpy (blob, MAGIC, MAGIC_LEN);
  nonce = blob + MAGIC_LEN;
  ct = nonce + NONCE_LEN;
  tag = ct + len;

  if (RAND_bytes (nonce, NONCE_LEN) != 1
      || !(ctx = EVP_CIPHER_CTX_new ())
      || EVP_EncryptInit_ex2 (ctx, EVP_aes_256_gcm (), key, nonce, NULL) != 1
      || EVP_EncryptUpdate (ctx, NULL, &n, (const unsigned char *) aad,
                            (int) strlen (aad)) != 1
      || EVP_EncryptUpdate (ctx, ct, &n, plain, (int) len) != 1
      || EVP_EncryptFinal_ex (ctx, ct + n, &fin) != 1
      || (size_t) n + fin != len
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, tag) != 1) {
    ferry_error ("seal %s: AES-256-GCM encryption failed: %s", aad,
                 openssl_reason (why, sizeof why));
    free (blob);
    return -1;
  }
  *out = blob;
  *out_len = len + OVERHEAD;
  return 0;
}

int
ferry_internal_unseal (const unsigned char key[FERRY_SECRET_KEY_LEN],
                       const char *aad, const unsigned char *sealed,
                       size_t len, unsigned char **out, size_t *out_len)
{
  CLEANUP_CIPHER_CTX EVP_CIPHER_CTX *ctx = NULL;
  const unsigned char *nonce, *ct, *tag;
  unsigned char *plain;
  size_t ct_len;
  int n = 0, fin = 0;

  *out = NULL;
  *out_len = 0;
  if (!sealed || len < OVERHEAD || memcmp (sealed, MAGIC, MAGIC_LEN) != 0) {
    ferry_error ("unseal %s: the stored data is not a sealed blob "
                 "(%zu bytes, no " MAGIC " header): the database is damaged",
                 aad, sealed ? len : 0);
    return -1;
  }
  if (len > (size_t) INT_MAX) {
    ferry_error ("unseal %s: %zu bytes is too large", aad, len);
    return -1;
  }
  nonce = sealed + MAGIC_LEN;
  ct = nonce + NONCE_LEN;
  ct_len = len - OVERHEAD;
  tag = ct + ct_len;

  plain = malloc (ct_len + 1);
  if (!plain) {
    ferry_error_errno (errno, "unseal %s", aad);
    return -1;
  }
  if (!(ctx = EVP_CIPHER_CTX_new ())
      || EVP_DecryptInit_ex2 (ctx, EVP_aes_256_gcm (), key, nonce, NULL) != 1
      || EVP_DecryptUpdate (ctx, NULL, &n, (const unsigned char *) aad,
                            (int) strlen (aad)) != 1
      || EVP_DecryptUpdate (ctx, plain, &n, ct, (int) ct_len) != 1
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
                              (void *) tag) != 1
      || EVP_DecryptFinal_ex (ctx, plain + n, &fin) != 1
      || (size_t) n + fin != ct_len) {
    ERR_clear_error ();
    ferry_error ("unseal %s: the sealed data could not be decrypted "
                 "(wrong key or tampered data)", aad);
    ferry_internal_free_secret (plain, ct_len + 1);
    return -1;
  }
  plain[ct_len] = '\0';
  *out = plain;
  *out_len = ct_len;
  return 0;
}

void
ferry_internal_free_secret (void *p, size_t len)
{
  if (!p)
    return;
  OPENSSL_cleanse (p, len);
  free (p);
}

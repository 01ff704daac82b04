/* ferry core: secrets at rest.
 *
 * AES-256-GCM (OpenSSL EVP).  The 32-byte key lives in <state>/secret.key,
 * created 0600 with O_EXCL on first use and never logged.  A sealed blob is
 * "FRY1" | 12-byte random nonce | ciphertext | 16-byte tag; the associated
 * data binds it to the object ("Secret/<ns>/<name>"), so a blob copied onto
 * another object does not open.
 */
#ifndef FERRY_CORE_CRYPTO_H
#define FERRY_CORE_CRYPTO_H

#include <stddef.h>

#define FERRY_SECRET_KEY_LEN 32

/* Loads the key, creating it if absent (unless create is 0).  The key file
 * must be a regular file of exactly 32 bytes, mode 0600 or stricter.
 */
int ferry_internal_secret_key_load (const char *path, int create,
                                    unsigned char key[FERRY_SECRET_KEY_LEN]);

/* *out is malloc'd, the caller's. */
int ferry_internal_seal (const unsigned char key[FERRY_SECRET_KEY_LEN],
                         const char *aad, const void *plain, size_t len,
                         unsigned char **out, size_t *out_len);
/* *out is malloc'd with a trailing NUL (not counted in *out_len).  Fails
 * with a clear error on a wrong key, a tampered blob or the wrong object.
 */
int ferry_internal_unseal (const unsigned char key[FERRY_SECRET_KEY_LEN],
                           const char *aad, const unsigned char *sealed,
                           size_t len, unsigned char **out, size_t *out_len);

/* Overwrite then free. */
void ferry_internal_free_secret (void *p, size_t len);

#endif /* FERRY_CORE_CRYPTO_H */

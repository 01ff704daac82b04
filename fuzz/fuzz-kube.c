/* Fuzz harness for the kubevirt destination's parsers of outside data:
 * kubeconfig documents (and the base64 of their *-data fields), and the
 * Status objects API servers answer errors with.  The module's sources are
 * compiled in; nothing touches the network.
 *
 *   fuzz-kube FILE|DIR...  replay inputs (run-fuzz-kube.sh: fuzz/corpus/kube)
 * With clang -fsanitize=fuzzer and -DFERRY_LIBFUZZER the same entry point
 * runs under libFuzzer (see fuzz/README.md).
 */
#include <config.h>

#include "../destinations/kubevirt/kubeconfig.c"
#include "../destinations/kubevirt/status.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const paths[] = {
    "/apis/cdi.kubevirt.io/v1beta1/namespaces/ns/datavolumes",
    "/api/v1/namespaces/ns/persistentvolumeclaims/x",
    "/api/v1/namespaces/x",
    "/apis",
  };
  static const long codes[] = { 401, 403, 404, 409, 422, 500 };
  struct kube_conn c = { 0 };
  char *text = malloc (size + 1);
  json_t *body;
  size_t i;

  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';
  /* Relative file names resolve under a directory that does not exist. */
  if (kube_conn_parse_kubeconfig ("fuzz", text, size, "/nonexistent-fuzz", &c) == 0)
    kube_conn_clear (&c);
  free (kube_base64_decode (text, NULL));
  body = json_loadb (text, size, 0, NULL);
  for (i = 0; i < sizeof codes / sizeof codes[0]; ++i)
    free (kube_status_message (i % 2 ? "POST" : "GET", paths[i % 4], codes[i], body, text));
  free (kube_status_message ("DELETE", text, 409, body, text));
  json_decref (body);
  free (text);
  return 0;
}

#include "replay.h"

/* Fuzz harness for the vSphere provider's parsers of outside data: the
 * SOAP envelope and fault parser, then every object of a
 * RetrievePropertiesEx answer through each inventory document builder
 * (VM devices, hosts' networking, clusters, datastores, networks).  The
 * provider's sources are compiled in; nothing touches the network.
 *
 *   fuzz-soap FILE|DIR...  replay inputs (run-fuzz-soap.sh: fuzz/corpus/soap,
 *                          answers captured from govmomi's simulator, and
 *                          hand-made broken ones)
 * With clang -fsanitize=fuzzer and -DFERRY_LIBFUZZER the same entry point
 * runs under libFuzzer (see fuzz/README.md).
 */
#include <config.h>

#include "../providers/vsphere/soap.c"
#include "../providers/vsphere/session.c"
#include "../providers/vsphere/collect.c"
#include "../providers/vsphere/inventory.c"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
fuzz_object (struct vsphere_handle *h, const struct vsphere_object *obj,
             void *opaque)
{
  json_t *docs[] = {
    vsphere_vm_doc (obj), cluster_doc (obj), host_doc (obj),
    datastore_doc (obj), network_doc (obj),
  };
  for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
    char *s = docs[i] ? json_dumps (docs[i], 0) : NULL;
    free (s);
    json_decref (docs[i]);
  }
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  xmlDocPtr doc = NULL;
  xmlNodePtr body;
  struct vsphere_fault fault = { 0 };
  int r;

  r = vsphere_soap_parse ((const char *) data, size, &doc, &body, &fault);
  if (r == 0) {
    xmlNodePtr rv = vsphere_xml_child (body, "returnval");
    char *t = vsphere_xml_text (rv, "token");
    free (t);
    (void) page (NULL, rv, fuzz_object, NULL);
    xmlFreeDoc (doc);
  }
  else if (r == 1) {
    if (!fault.type || !fault.message)
      abort ();                         /* a fault always has both */
    vsphere_fault_clear (&fault);
  }
  else if (doc)
    abort ();                           /* no document on error */
  return 0;
}

#include "replay.h"

/* ferry vSphere provider: reading properties with the PropertyCollector.
 *
 * A full read of one managed object type goes through a ContainerView of
 * the root folder (recursive), then RetrievePropertiesEx and, while the
 * answer carries a token, ContinueRetrievePropertiesEx: pages of
 * VSPHERE_PAGE objects, each page handed to the callback and freed, so
 * memory is bounded by the page, not by the inventory.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/error.h>

#include "vsphere.h"

#define VSPHERE_PAGE 500                /* objects per page */

/* Builds <propSet> for type with paths. */
static char *
prop_set (const char *type, const char *const *paths)
{
  size_t len = strlen (type) + 64;
  char *r, *p;

  for (size_t i = 0; paths[i]; i++)
    len += strlen (paths[i]) + 22;
  r = p = malloc (len);
  if (!r)
    return NULL;
  p += sprintf (p, "<propSet><type>%s</type>", type);
  for (size_t i = 0; paths[i]; i++)
    p += sprintf (p, "<pathSet>%s</pathSet>", paths[i]);
  strcpy (p, "</propSet>");
  return r;
}

/* Hands every object of one page (a RetrieveResult) to fn. */
static int
page (struct vsphere_handle *h, xmlNodePtr result, vsphere_object_fn fn,
      void *opaque)
{
  for (xmlNodePtr o = vsphere_xml_child (result, "objects"); o;
       o = vsphere_xml_next (o, "objects")) {
    struct vsphere_object obj = { 0 };
    xmlNodePtr ref = vsphere_xml_child (o, "obj");
    VSPHERE_CLEANUP_FREE char *id = vsphere_xml_text (ref, NULL);
    xmlChar *type = ref ? xmlGetNoNsProp (ref, (const xmlChar *) "type") : NULL;
    int r;

    if (!id || !type) {
      xmlFree (type);
      ferry_error ("vsphere: RetrievePropertiesEx: an object without obj "
                   "or its type");
      return -1;
    }
    obj.id = id;
    obj.type = (const char *) type;
    obj.node = o;
    r = fn ? fn (h, &obj, opaque) : 0;
    xmlFree (type);
    if (r == -1)
      return -1;
  }
  return 0;
}

static int
retrieve (struct vsphere_handle *h, const char *specs, const char *what,
          vsphere_object_fn fn, void *opaque)
{
  VSPHERE_CLEANUP_FREE char *args = NULL;
  VSPHERE_CLEANUP_FREE char *token = NULL;
  xmlDocPtr doc = NULL;
  xmlNodePtr rv;
  int r;

  if (asprintf (&args, "%s<options><maxObjects>%d</maxObjects></options>",
                specs, VSPHERE_PAGE) == -1) {
    ferry_error ("vsphere: RetrievePropertiesEx of %s: out of memory", what);
    return -1;
  }
  if (vsphere_call (h, "RetrievePropertiesEx", "PropertyCollector",
                    h->property_collector, args, what, &doc, &rv) == -1)
    return -1;
  for (;;) {
    r = rv ? page (h, rv, fn, opaque) : 0;
    free (token);
    token = rv ? vsphere_xml_text (rv, "token") : NULL;
    xmlFreeDoc (doc);
    doc = NULL;
    if (r == -1)
      return -1;
    if (!token || !*token)
      return 0;
    VSPHERE_CLEANUP_FREE char *esc = vsphere_xml_escape (token);
    VSPHERE_CLEANUP_FREE char *targs = NULL;
    if (!esc || asprintf (&targs, "<token>%s</token>", esc) == -1) {
      targs = NULL;
      ferry_error ("vsphere: ContinueRetrievePropertiesEx of %s: "
                   "out of memory", what);
      return -1;
    }
    if (vsphere_call (h, "ContinueRetrievePropertiesEx", "PropertyCollector",
                      h->property_collector, targs, what, &doc, &rv) == -1)
      return -1;
  }
}

static int
retrieve_view (struct vsphere_handle *h, const char *type,
               const char *const *paths, vsphere_object_fn fn, void *opaque)
{
  VSPHERE_CLEANUP_XML xmlDocPtr vdoc = NULL;
  VSPHERE_CLEANUP_FREE char *args = NULL;
  VSPHERE_CLEANUP_FREE char *view = NULL;
  VSPHERE_CLEANUP_FREE char *props = prop_set (type, paths);
  VSPHERE_CLEANUP_FREE char *specs = NULL;
  unsigned logins = h->logins;
  xmlNodePtr rv;
  int r;

  if (!props
      || asprintf (&args, "<container type=\"Folder\">%s</container>"
                   "<type>%s</type><recursive>true</recursive>",
                   h->root, type) == -1) {
    args = NULL;
    ferry_error ("vsphere: CreateContainerView of %s: out of memory", type);
    return -1;
  }
  if (vsphere_call (h, "CreateContainerView", "ViewManager", h->view_manager,
                    args, type, &vdoc, &rv) == -1)
    return -1;
  view = vsphere_xml_text (rv, NULL);
  if (!view || !*view) {
    ferry_error ("vsphere: CreateContainerView of %s: no view in the answer",
                 type);
    return -1;
  }
  if (asprintf (&specs,
                "<specSet>%s<objectSet><obj type=\"ContainerView\">%s</obj>"
                "<skip>true</skip>"
                "<selectSet xsi:type=\"TraversalSpec\"><name>view</name>"
                "<type>ContainerView</type><path>view</path>"
                "<skip>false</skip></selectSet></objectSet></specSet>",
                props, view) == -1) {
    specs = NULL;
    ferry_error ("vsphere: RetrievePropertiesEx of %s: out of memory", type);
    return -1;
  }
  r = retrieve (h, specs, type, fn, opaque);
  if (r == -1 && h->logins != logins)
    return -2;                          /* the view died with its session */
  if (h->logins == logins) {
    VSPHERE_CLEANUP_XML xmlDocPtr ddoc = NULL;
    xmlNodePtr drv;
    if (vsphere_call (h, "DestroyView", "ContainerView", view, NULL, NULL,
                      &ddoc, &drv) == -1 && r == 0)
      r = -1;
  }
  return r;
}

int
vsphere_retrieve_all (struct vsphere_handle *h, const char *type,
                      const char *const *paths, vsphere_object_fn fn,
                      void *opaque)
{
  int r = retrieve_view (h, type, paths, fn, opaque);

  /* The session expired between the view and the read (or between two
   * pages): the module logged in again; read everything once more with a
   * view of the new session (puts are idempotent).
   */
  if (r == -2)
    r = retrieve_view (h, type, paths, fn, opaque);
  return r == -2 ? -1 : r;
}

int
vsphere_retrieve_one (struct vsphere_handle *h, const char *type,
                      const char *id, const char *const *paths,
                      vsphere_object_fn fn, void *opaque)
{
  VSPHERE_CLEANUP_FREE char *props = prop_set (type, paths);
  VSPHERE_CLEANUP_FREE char *esc = vsphere_xml_escape (id);
  VSPHERE_CLEANUP_FREE char *specs = NULL;
  VSPHERE_CLEANUP_FREE char *what = NULL;

  if (!props || !esc
      || asprintf (&specs,
                   "<specSet>%s<objectSet><obj type=\"%s\">%s</obj>"
                   "<skip>false</skip></objectSet></specSet>",
                   props, type, esc) == -1
      || asprintf (&what, "%s %s", type, id) == -1) {
    ferry_error ("vsphere: RetrievePropertiesEx of %s: out of memory", id);
    return -1;
  }
  return retrieve (h, specs, what, fn, opaque);
}

xmlNodePtr
vsphere_prop (const struct vsphere_object *obj, const char *name)
{
  for (xmlNodePtr p = vsphere_xml_child (obj->node, "propSet"); p;
       p = vsphere_xml_next (p, "propSet")) {
    xmlNodePtr n = vsphere_xml_child (p, "name");
    xmlChar *c = n ? xmlNodeGetContent (n) : NULL;
    bool match = c && strcmp ((const char *) c, name) == 0;
    xmlFree (c);
    if (match)
      return vsphere_xml_child (p, "val");
  }
  return NULL;
}

json_t *
vsphere_ref_json (xmlNodePtr ref)
{
  xmlChar *type;
  VSPHERE_CLEANUP_FREE char *id = NULL;
  json_t *r;

  if (!ref)
    return NULL;
  type = xmlGetNoNsProp (ref, (const xmlChar *) "type");
  id = vsphere_xml_text (ref, NULL);
  if (!type || !id) {
    xmlFree (type);
    return NULL;
  }
  r = json_pack ("{s:s, s:s}", "kind",
                 vsphere_kind_of ((const char *) type), "id", id);
  xmlFree (type);
  return r;
}

const char *
vsphere_kind_of (const char *type)
{
  static const struct { const char *type, *kind; } kinds[] = {
    { "ClusterComputeResource", "Cluster" },
    { "HostSystem", "Host" },
    { "VirtualMachine", "VM" },
    { "DistributedVirtualPortgroup", "Network" },
    { "OpaqueNetwork", "Network" },
    { "VmwareDistributedVirtualSwitch", "Switch" },
    { "DistributedVirtualSwitch", "Switch" },
    { "VirtualMachineSnapshot", "VirtualMachineSnapshot" },
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp (kinds[i].type, type) == 0)
      return kinds[i].kind;
  return type;
}

/* ferry: the inventory a provider reports.
 *
 * Entities are JSON documents whose field names follow Forklift's inventory
 * service (cpuCount, coresPerSocket, memoryMB, firmware, powerState,
 * disks[]{key,file,datastore,capacity,shared,rdm,bus,mode}, nics[]{mac,network},
 * changeTrackingEnabled, ...), so users' rules and scripts carry over.
 * The core stores them with indexed columns: provider, kind, id, name,
 * parent, revision.
 */
#ifndef FERRY_INVENTORY_H
#define FERRY_INVENTORY_H

#include <stdint.h>
#include <jansson.h>

#include "ferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Entity kinds (the "kind" argument below). */
#define FERRY_INV_VM "vm"
#define FERRY_INV_DISK "disk"
#define FERRY_INV_NETWORK "network"
#define FERRY_INV_STORAGE "storage"
#define FERRY_INV_HOST "host"
#define FERRY_INV_CLUSTER "cluster"
#define FERRY_INV_DATACENTER "datacenter"
#define FERRY_INV_FOLDER "folder"

/* Handed to a provider's inventory() and watch().  Every call is part of
 * one store transaction that commits when the provider callback returns 0
 * (and rolls back when it returns -1).
 */
struct ferry_inventory_sink {
  uint32_t struct_size;                 /* bytes; fields are only appended */
  void *opaque;                         /* the core's; do not touch */
  /* Insert or replace one entity.  doc is borrowed (the sink copies it).
   * parent may be NULL.  Returns 0 or -1.
   */
  int (*put) (struct ferry_inventory_sink *sink, const char *kind,
              const char *id, const char *name, const char *parent,
              const json_t *doc);
  /* Remove one entity (no error if absent). */
  int (*remove) (struct ferry_inventory_sink *sink, const char *kind,
                 const char *id);
  /* Full syncs only: remove every entity of this provider not put since
   * the sync began.
   */
  int (*prune) (struct ferry_inventory_sink *sink);
};

#ifdef __cplusplus
}
#endif

#endif /* FERRY_INVENTORY_H */

/* ferry core: provider inventories in the store (the sink handed to
 * provider modules, refresh, list, get).
 */
#include <config.h>

#include <errno.h>
#include <string.h>
#include <time.h>

#include "instance.h"

struct sink_state {
  struct ferry_store *store;
  const char *provider_uid;
  int64_t mark;                         /* this sync's mark */
  int count;                            /* entities put */
};

static int
sink_put (struct ferry_inventory_sink *sink, const char *kind, const char *id,
          const char *name, const char *parent, const json_t *doc)
{
  struct sink_state *s = sink->opaque;

  if (!kind || !*kind || !id || !*id || !doc) {
    ferry_error ("inventory: a provider put an entity without kind, id or document");
    return -1;
  }
  if (ferry_internal_store_inv_put (s->store, s->provider_uid, kind, id,
                                    name ? name : "", parent, doc) == -1)
    return -1;
  s->count++;
  return 0;
}

static int
sink_remove (struct ferry_inventory_sink *sink, const char *kind, const char *id)
{
  struct sink_state *s = sink->opaque;
  if (ferry_internal_store_inv_remove (s->store, s->provider_uid, kind, id) == -1)
    return -1;
  s->count++;
  return 0;
}

static int
sink_prune (struct ferry_inventory_sink *sink)
{
  struct sink_state *s = sink->opaque;
  return ferry_internal_store_inv_prune (s->store, s->provider_uid, s->mark);
}

/* The sink that writes a provider's inventory into the store. */
static void
sink_init (struct ferry_inventory_sink *sink, struct sink_state *state,
           struct ferry *f, const struct ferry_instance *inst)
{
  *state = (struct sink_state) { .store = f->store, .provider_uid = inst->uid };
  *sink = (struct ferry_inventory_sink) {
    .struct_size = sizeof *sink,
    .opaque = state,
    .put = sink_put,
    .remove = sink_remove,
    .prune = sink_prune,
  };
}

/* One store transaction: a full sync (version NULL: the provider's whole
 * inventory, then prune what it no longer has) or one watch update set.
 */
static int
sync_once (struct ferry *f, struct ferry_instance *inst,
           struct ferry_inventory_sink *sink, struct sink_state *state,
           char **version)
{
  int r;

  state->count = 0;
  if (ferry_internal_store_begin (f->store) == -1)
    return -1;
  if (!version) {
    state->mark = ferry_internal_store_inv_begin_sync (f->store, inst->uid);
    r = state->mark < 0 ? -1 : inst->provider->inventory (inst->handle, sink);
  }
  else
    r = inst->provider->watch (inst->handle, sink, version);
  if (r == -1) {
    ferry_internal_store_rollback (f->store);
    return -1;
  }
  return ferry_internal_store_commit (f->store);
}

int
ferry_inventory_refresh (struct ferry *f, const char *ns, const char *provider)
{
  struct ferry_instance *inst = ferry_internal_source_open (f, ns, provider);
  struct sink_state state;
  struct ferry_inventory_sink sink;
  int r = -1;

  if (!inst)
    return -1;
  sink_init (&sink, &state, f, inst);
  if (sync_once (f, inst, &sink, &state, NULL) == -1) {
    ferry_error_prefix ("inventory of provider %s/%s", ns, provider);
    goto out;
  }
  ferry_log_object (FERRY_LOG_INFO, "provider", ns, provider,
                    "inventory refreshed: %d entities", state.count);
  r = state.count;
 out:
  ferry_internal_instance_close (inst);
  return r;
}

/* --- inventory watch (vSphere area): a full sync, then the provider's
 * incremental updates (watch), one store transaction per update set.
 */

/* Watch polls that fail in a row before the watch gives up. */
#define WATCH_MAX_FAILURES 10

/* Sleep ms, waking early when ferry_migration_stop was called. */
static void
watch_sleep (unsigned ms)
{
  for (unsigned slept = 0; slept < ms && !ferry_migration_stopping ();
       slept += 100) {
    struct timespec ts = { 0, 100 * 1000000L };
    while (nanosleep (&ts, &ts) == -1 && errno == EINTR
           && !ferry_migration_stopping ())
      ;
  }
}

int
ferry_inventory_watch (struct ferry *f, const char *ns, const char *provider,
                       unsigned interval_ms, unsigned max_updates,
                       ferry_inventory_update_fn fn, void *opaque)
{
  struct ferry_instance *inst = ferry_internal_source_open (f, ns, provider);
  CLEANUP_FREE char *version = NULL;
  int r = -1;

  if (!inst)
    return -1;
  if (!inst->provider->watch) {
    ferry_error ("provider %s/%s (type %s) has no incremental inventory: use "
                 "'ferry inventory refresh' without --watch", ns, provider,
                 inst->type);
    goto out;
  }
  struct sink_state state;
  struct ferry_inventory_sink sink;
  sink_init (&sink, &state, f, inst);
  if (sync_once (f, inst, &sink, &state, NULL) == -1) {
    ferry_error_prefix ("inventory of provider %s/%s", ns, provider);
    goto out;
  }
  if (fn)
    fn (opaque, 0, state.count);
  unsigned failures = 0;
  for (unsigned n = 1; !ferry_migration_stopping (); n++) {
    /* The update set a watch returns is never partial: the module reads
     * changed objects whole (see its README); an empty set changes nothing.
     */
    sink.prune = NULL;
    if (sync_once (f, inst, &sink, &state, &version) == -1) {
      /* A slow or lost source must not end a long-running watch: retry
       * with backoff, from a full sync (with prune), since what was
       * removed meanwhile is only known that way.
       */
      if (++failures >= WATCH_MAX_FAILURES) {
        ferry_error_prefix ("inventory watch of provider %s/%s (%u failures in a row)",
                            ns, provider, failures);
        goto out;
      }
      unsigned delay_ms = 1000u << (failures < 6 ? failures - 1 : 5);
      ferry_log_object (FERRY_LOG_WARN, "provider", ns, provider,
                        "inventory watch: %s; full sync again in %u s (failure %u of %u)",
                        ferry_get_error (), delay_ms / 1000, failures,
                        WATCH_MAX_FAILURES);
      ferry_warn ("inventory watch of provider %s/%s: %s; retrying in %u s",
                  ns, provider, ferry_get_error (), delay_ms / 1000);
      ferry_clear_error ();
      watch_sleep (delay_ms);
      free (version);
      version = NULL;
      sink.prune = sink_prune;
      if (sync_once (f, inst, &sink, &state, NULL) == 0)
        ferry_clear_error ();
      continue;
    }
    failures = 0;
    if (state.count > 0) {
      ferry_log_object (FERRY_LOG_INFO, "provider", ns, provider,
                        "inventory watch: %d entities changed", state.count);
      if (fn)
        fn (opaque, n, state.count);
    }
    if (max_updates && n >= max_updates)
      break;
    watch_sleep (interval_ms);
  }
  r = 0;
 out:
  {
    /* Closing the provider may report errors of its own: keep ours. */
    CLEANUP_FREE char *err = r == -1 ? strdup (ferry_get_error ()) : NULL;
    ferry_internal_instance_close (inst);
    if (err)
      ferry_error ("%s", err);
  }
  return r;
}

/* "vms" -> "vm", and so on; NULL if unknown. */
static const char *
inventory_kind (const char *k)
{
  static const char *const kinds[][2] = {
    { "vm", "vms" }, { "disk", "disks" }, { "network", "networks" },
    { "storage", "storages" }, { "host", "hosts" }, { "cluster", "clusters" },
    { "datacenter", "datacenters" }, { "folder", "folders" },
  };
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp (k, kinds[i][0]) == 0 || strcmp (k, kinds[i][1]) == 0)
      return kinds[i][0];
  ferry_error ("unknown inventory kind '%s' (use vms, disks, networks, storages, "
               "hosts, clusters, datacenters or folders)", k);
  return NULL;
}

char *
ferry_internal_provider_uid (struct ferry *f, const char *ns, const char *name)
{
  struct ferry_store_row row = { 0 };
  int r = ferry_internal_store_get (f->store, "Provider", ns, name, &row);
  if (r == 0)
    ferry_error ("provider %s/%s does not exist", ns, name);
  char *uid = r == 1 ? strdup (row.uid) : NULL;
  ferry_internal_store_row_clear (&row);
  return uid;
}

json_t *
ferry_inventory_list (struct ferry *f, const char *ns, const char *provider,
                      const char *kind)
{
  const char *k = inventory_kind (kind);
  if (!k)
    return NULL;
  CLEANUP_FREE char *uid = ferry_internal_provider_uid (f, ns, provider);
  if (!uid)
    return NULL;
  return ferry_internal_store_inv_list (f->store, uid, k);
}

json_t *
ferry_inventory_get (struct ferry *f, const char *ns, const char *provider,
                     const char *kind, const char *id_or_name)
{
  const char *k = inventory_kind (kind);
  if (!k)
    return NULL;
  CLEANUP_FREE char *uid = ferry_internal_provider_uid (f, ns, provider);
  if (!uid)
    return NULL;
  ferry_clear_error ();
  json_t *doc = ferry_internal_store_inv_get (f->store, uid, k, id_or_name);
  if (!doc && !*ferry_get_error ())
    ferry_error ("provider %s/%s has no %s with id or name '%s' "
                 "(try 'ferry inventory refresh --provider %s')",
                 ns, provider, k, id_or_name, provider);
  return doc;
}

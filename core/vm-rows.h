/* ferry core: group commit of Migration VM status rows (issue 5's crash
 * rule: every transition is committed to the store before it is acted on).
 *
 * Each VM of a running Migration stores its own status.vms entry as a row
 * (store.h, schema v3).  Commits, not rows, are the cost: with WAL and
 * synchronous=FULL each commit is an fsync, and the writers of one
 * database take turns.  So the VM threads of every Migration of the
 * process that write to one state directory queue their rows; the first
 * writer that finds no commit under way writes every queued row in one
 * transaction, and each writer returns only once the transaction holding
 * its row is committed (or failed).  Durability per row is unchanged; the
 * number of fsyncs drops from one per transition to one per batch.
 *
 * Thread safety: any thread; one mutex per state directory guards its
 * queue.
 */
#ifndef FERRY_CORE_VM_ROWS_H
#define FERRY_CORE_VM_ROWS_H

#include <stddef.h>

#include "store.h"

/* Store vm_json (the entry of VM vm_id) at position of the Migration with
 * migration_uid and wait
 * until it is committed.  store is the calling thread's own connection to
 * <state_dir>/ferry.db (used if this thread writes the batch).  0, or -1
 * with the error of the batch's commit.
 */
int ferry_internal_vm_row_commit (struct ferry_store *store,
                                  const char *state_dir,
                                  const char *migration_uid, size_t position,
                                  const char *vm_id, const char *vm_json);

/* Rows committed and transactions used so far in this process (bench and
 * tests: rows / commits is the mean batch).
 */
void ferry_internal_vm_row_stats (unsigned long long *rows,
                                  unsigned long long *commits);

#endif /* FERRY_CORE_VM_ROWS_H */

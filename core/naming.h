/* ferry core: target names (VMs, volumes) through the name-template
 * library (templates/), as Forklift names them.
 */
#ifndef FERRY_CORE_NAMING_H
#define FERRY_CORE_NAMING_H

#include <stddef.h>
#include <jansson.h>

/* name itself when it is a valid DNS-1123 subdomain, else Forklift's
 * automatic renaming of it.  Caller frees; NULL after an error.
 */
char *ferry_internal_target_vm_name (const char *name);

/* The volume (PVC) name of disk number index of a VM: the VM's
 * pvcNameTemplate, else the plan's, else Forklift's default, evaluated and
 * checked to be a DNS-1123 label (with a random suffix when the plan sets
 * pvcNameTemplateUseGenerateName).  vm_status gives id, name, newName.
 * Caller frees; NULL after an error that shows the template, the VM and
 * the bad output.
 */
char *ferry_internal_pvc_name (const json_t *plan, const json_t *plan_vm,
                               const json_t *vm_status, const json_t *disk,
                               size_t index);

#endif /* FERRY_CORE_NAMING_H */

/* ferry: the neutral VM spec.
 *
 * Every provider produces it (vm_spec), every destination consumes it
 * (vm_create); destinations never look at provider JSON.  It is a JSON
 * object (jansson) with these members; absent optional members take the
 * defaults given.
 *
 *   name            string   target VM name (DNS-1123 subdomain)
 *   namespace       string   target namespace (default "default"); set by
 *                            the core from the plan, not by providers
 *   sourceId        string   the VM's id at the source
 *   sourceName      string   the VM's name at the source; set by the core
 *   sourceName      string   the VM's name at the source, when it differs
 *                            from name (renamed); set by the core (kubevirt:
 *                            Forklift's original-name/display-name annotations)
 *   serial          string   optional, the BIOS serial (vSphere: the VM's UUID)
 *   cpu             object   {sockets, cores, threads}  (integers, default 1)
 *   memoryMB        integer  MiB
 *   firmware        string   "bios" | "efi"
 *   secureBoot      boolean  (efi only; default false)
 *   tpm             boolean  default false
 *   machineType     string   optional, e.g. "q35"
 *   clock           object   {timezone: string, utc: boolean}
 *   guest           object   {os: string, distro: string, version: string, arch: string}
 *   disks           array    [{id, capacity (bytes), bus ("virtio"|"scsi"|"sata"|"ide"),
 *                             bootOrder (integer, optional), shared (boolean),
 *                             serial (string, optional), volume (string: volume name)}]
 *   nics            array    [{mac, model ("virtio"|"e1000e"|...), network
 *                             (source network id), target {type: "pod"|"multus"|"ignored",
 *                             name, namespace}}]
 *   powerState      string   "on" | "off" at the source
 *   runStrategy     string   "Always" | "Halted" | "Manual" | "RerunOnFailure"
 *   labels          object   string -> string
 *   annotations     object   string -> string
 *   nodeSelector    object   string -> string
 *   affinity        object   Kubernetes Affinity, verbatim
 */
#ifndef FERRY_VMSPEC_H
#define FERRY_VMSPEC_H

#define FERRY_VMSPEC_NAME "name"
#define FERRY_VMSPEC_NAMESPACE "namespace"
#define FERRY_VMSPEC_SOURCE_ID "sourceId"
#define FERRY_VMSPEC_CPU "cpu"
#define FERRY_VMSPEC_MEMORY_MB "memoryMB"
#define FERRY_VMSPEC_FIRMWARE "firmware"
#define FERRY_VMSPEC_SECURE_BOOT "secureBoot"
#define FERRY_VMSPEC_TPM "tpm"
#define FERRY_VMSPEC_DISKS "disks"
#define FERRY_VMSPEC_NICS "nics"
#define FERRY_VMSPEC_POWER_STATE "powerState"

#endif /* FERRY_VMSPEC_H */

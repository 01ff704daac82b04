/* Loader test: a shared object without ferry_module_entry. */
#include <ferry/module.h>

FERRY_EXTERN_C FERRY_MODULE_EXPORT int ferry_module_entry_typo (void);

int
ferry_module_entry_typo (void)
{
  return 0;
}

/* ferry templates (being written). */
#include "ferry-template.h"
int ferry_template_placeholder_ (void);
int ferry_template_placeholder_ (void) { return 0; }

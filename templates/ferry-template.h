#ifndef FERRY_TEMPLATE_H
#define FERRY_TEMPLATE_H
#endif

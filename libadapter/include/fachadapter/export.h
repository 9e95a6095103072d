// FACHADAPTER_API marks the symbols libfachadapter exports; everything else is hidden.
#ifndef FACHADAPTER_EXPORT_H_
#define FACHADAPTER_EXPORT_H_

#if defined(FACHADAPTER_BUILDING_LIBRARY)
#define FACHADAPTER_API __attribute__((visibility("default")))
#else
#define FACHADAPTER_API
#endif

#endif  // FACHADAPTER_EXPORT_H_

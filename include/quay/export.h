// The one export macro of libquay. The library is built with hidden symbols by
// default; everything an embedder may call is marked QUAY_EXPORT.
#pragma once

#if defined(QUAY_BUILDING_LIBRARY)
#define QUAY_EXPORT __attribute__((visibility("default")))
#else
#define QUAY_EXPORT
#endif

// The helpers are static inline functions in include/CPlatform.h; this file gives the target a source.
#include "CPlatform.h"

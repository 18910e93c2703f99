// The architecture table (hunch/arch.h): filled in by the schema refactor (issue 12).
#include "hunch/model.h"

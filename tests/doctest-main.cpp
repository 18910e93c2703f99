// The one doctest main shared by every test executable (native and WASM).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

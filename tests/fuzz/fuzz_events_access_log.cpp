// fuzz_events_access_log: arbitrary bytes through the web-server access-log reader (native/train/
// ingest.h, ingest-formats.h: common, combined and unquoted lines, bracketed and bare times with
// named or numeric months, the page filter by method, status and extension), read as an access
// log or sniffed, with the option bytes, file/gzip paths and Dataset checks of fuzz_events_csv
// (whose harness this includes; see that file for the input layout).
//
// Regression replay: tests/native/test-fuzz-regressions.cpp (HUNCH_FUZZ_NO_ENTRY).
#define HUNCH_FUZZ_EVENTS_HARNESS_ONLY
#include "fuzz_events_csv.cpp"
#undef HUNCH_FUZZ_EVENTS_HARNESS_ONLY

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_events::run(data, size, hunch_fuzz_events::Family::ACCESS_LOG);
}
#endif

// fuzz_events_analytics: arbitrary bytes through the analytics-export readers (native/train/
// ingest.h, ingest-formats.h): GA4's BigQuery export (event_params records, µs times), Segment's
// calls and per-session JSON with an events array (the OTTO shape), each forced or sniffed, on
// the JSON value parser of ingest-formats.cpp; with the option bytes, file/gzip paths and Dataset
// checks of fuzz_events_csv (whose harness this includes; see that file for the input layout:
// byte 0 bits 0-1 pick GA4, Segment, per-session JSON or AUTO).
//
// Regression replay: tests/native/test-fuzz-regressions.cpp (HUNCH_FUZZ_NO_ENTRY).
#define HUNCH_FUZZ_EVENTS_HARNESS_ONLY
#include "fuzz_events_csv.cpp"
#undef HUNCH_FUZZ_EVENTS_HARNESS_ONLY

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_events::run(data, size, hunch_fuzz_events::Family::ANALYTICS);
}
#endif

// fuzz_events_jsonl: arbitrary bytes through the JSON Lines event-log reader (native/train/
// ingest.h), read as JSONL or sniffed, with the same option bytes, file/gzip paths and Dataset
// checks as fuzz_events_csv (whose harness this includes; see that file for the input layout).
// The JSON seeds and libFuzzer's mutations reach the parser's strings, escapes and surrogates,
// numbers, literals and the non-recursive skipping of nested values.
//
// Regression replay: tests/native/test-fuzz-regressions.cpp (HUNCH_FUZZ_NO_ENTRY).
#define HUNCH_FUZZ_EVENTS_HARNESS_ONLY
#include "fuzz_events_csv.cpp"
#undef HUNCH_FUZZ_EVENTS_HARNESS_ONLY

#ifndef HUNCH_FUZZ_NO_ENTRY
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return hunch_fuzz_events::run(data, size, hunch_fuzz_events::Family::JSONL);
}
#endif

// Small helpers shared by the tests: paths into the repository and whole-file reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hunch_test {

// Absolute path of a file in the source tree (tests run natively and under node with NODERAWFS).
std::string source_path(const std::string& relative);
// Reads a whole file; fails the current test when it cannot.
std::vector<uint8_t> read_file(const std::string& path);
bool write_file(const std::string& path, const std::vector<uint8_t>& bytes);

#ifndef __EMSCRIPTEN__
// Runs a shell command; appends what it prints to *out and returns its exit code (-1 when it
// did not exit normally). The native tests drive the CLI with it.
int run_command(const std::string& command, std::string* out);
#endif

}  // namespace hunch_test

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

}  // namespace hunch_test

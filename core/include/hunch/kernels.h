// Kernel tables: the numeric kernels the layers call (int8 and f32 matrix × vector, softmax
// pieces, the LSTM cell, …), one table per implementation. Outside the core a table is an
// opaque handle: chosen by name, handed to a Sequence, named in messages. What a table holds and
// how the implementations agree: core/src/kernels/README.md.
//
// Tables a build can have: "ref" (scalar reference, always), "wasm-simd128" (Emscripten builds)
// and "xnnpack" (native builds with libxnnpack; rounds int8 products to 8 bits, so never the
// default unless chosen).
//
// The library reads no environment and no configuration file: a program that lets its user
// choose (the CLI and the test programs read HUNCH_KERNELS) passes the choice in through
// set_default_kernels, or hands a table to each Sequence.
#pragma once

#include <string>
#include <vector>

#include "hunch/error.h"

namespace hunch {

struct KernelTable;  // defined inside the core (core/src/kernels/kernels.h)

// Names of the tables this build has, "ref" first.
std::vector<std::string> kernels_available();
// The table called `name`, or nullptr when this build has none by that name (or name is null).
const KernelTable* kernels_by_name(const char* name);
// A table's name: "ref", "wasm-simd128" or "xnnpack".
const char* kernels_name(const KernelTable& table);
// The table a Sequence constructed without one uses: the build's best ("wasm-simd128" under
// Emscripten, else "ref") until set_default_kernels chooses another.
const KernelTable& kernels_default();
// Makes the table called `name` the default for the Sequences constructed from then on (those
// that exist keep theirs); meant to be called once, at start-up. A name this build has no table
// for is an error naming it and the tables available, and leaves the default as it was.
Error set_default_kernels(const std::string& name);

}  // namespace hunch

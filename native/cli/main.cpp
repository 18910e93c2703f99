// hunch — the native command-line tool: train, evaluate, quantise, inspect and query models.
// Each subcommand lives in cmd-<name>.cpp and parses its own flags (args.h).
//
// HUNCH_KERNELS=ref|xnnpack chooses the kernel table of every command (tests, benchmarks): the
// library reads no environment, so it is read here, once, and passed in before the command runs.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cli/args.h"
#include "hunch/kernels.h"
#include "hunch/version.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Command kCommands[] = {
    {"train", hunch::cli::run_train, "train a model from an event log (CSV, TSV, JSON Lines, gzip)"},
    {"eval", hunch::cli::run_eval, "evaluate a model: leave-one-out HR/NDCG/MRR beside popularity and Markov baselines"},
    {"quantize", hunch::cli::run_quantize, "convert a float model to int8 (per-row scales)"},
    {"inspect", hunch::cli::run_inspect, "print a model's header, metadata and tensor table (or why it is invalid)"},
    {"predict", hunch::cli::run_predict, "push events into a model and print the top-k next actions"},
    {"synth", hunch::cli::run_synth, "generate the bundled shop's event log (and the demo's site map)"},
};

void usage(FILE* out) {
  std::fprintf(out, "hunch %s — on-device next-action prediction\n\nusage: hunch <command> [options]\n\ncommands:\n",
               HUNCH_VERSION);
  for (const auto& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  std::fprintf(out, "\n'hunch <command> --help' describes a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("hunch %s\n", HUNCH_VERSION);
    return 0;
  }
  if (const char* env = std::getenv("HUNCH_KERNELS"); env && *env) {
    if (hunch::Error e = hunch::set_default_kernels(env)) {
      std::fprintf(stderr, "hunch: HUNCH_KERNELS: %s\n", e.message.c_str());
      return 2;
    }
  }
  for (const auto& c : kCommands)
    if (cmd == c.name) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "hunch: unknown command '%s'\n\n", cmd.c_str());
  usage(stderr);
  return 2;
}

// Command-line parsing shared by every `hunch` subcommand.
//
// Each command declares its flags (name, value or switch, default, help); -o is short for --output
// where a command has one. parse() rejects
// unknown flags and missing values with a message naming the flag, and --help prints the table.
// Values are read back typed (get_int/get_double/...), each refusing a malformed value with
// "--flag: expected an integer, got 'x'".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hunch::cli {

class Args {
 public:
  Args(std::string command, std::string usage, std::string summary);

  // A flag taking a value (--name VALUE or --name=VALUE).
  void option(const std::string& name, const std::string& default_value, const std::string& help);
  // A switch (--name); get_bool() is true when given.
  void flag(const std::string& name, const std::string& help);

  // Parses argv (after the subcommand). Returns false and fills *error on bad input; sets
  // help_requested() for --help/-h. Positional arguments are collected in order.
  bool parse(int argc, char** argv, std::string* error);

  // parse() for a command's main: returns -1 to go on, else the exit code after printing
  // (0 after --help on stdout, 2 after a usage error on stderr).
  int parse_or_exit(int argc, char** argv);

  const std::string& command() const { return command_; }
  bool help_requested() const { return help_; }
  std::string help_text() const;

  const std::vector<std::string>& positional() const { return positional_; }
  bool        given(const std::string& name) const;
  std::string get(const std::string& name) const;
  bool        get_bool(const std::string& name) const;
  // Typed getters: false + *error when the value does not parse or is out of [min, max].
  bool get_int(const std::string& name, int64_t min, int64_t max, int64_t* out, std::string* error) const;
  bool get_double(const std::string& name, double min, double max, double* out, std::string* error) const;

 private:
  struct Spec {
    std::string name, default_value, help;
    bool        is_switch = false;
    bool        given = false;
    std::string value;
  };
  const Spec* find(const std::string& name) const;
  Spec*       find(const std::string& name);

  std::string              command_, usage_, summary_;
  std::vector<Spec>        specs_;
  std::vector<std::string> positional_;
  bool                     help_ = false;
};

// Every subcommand: int run_<name>(int argc, char** argv), argv[0] being the subcommand name.
// Returns the process exit code (0 ok, 1 runtime error, 2 usage error).
int run_inspect(int argc, char** argv);
int run_predict(int argc, char** argv);
int run_train(int argc, char** argv);
int run_eval(int argc, char** argv);
int run_quantize(int argc, char** argv);
int run_synth(int argc, char** argv);

}  // namespace hunch::cli

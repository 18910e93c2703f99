#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace hunch::cli {

Args::Args(std::string command, std::string usage, std::string summary)
    : command_(std::move(command)), usage_(std::move(usage)), summary_(std::move(summary)) {}

void Args::option(const std::string& name, const std::string& default_value, const std::string& help) {
  specs_.push_back({name, default_value, help, false, false, default_value});
}

void Args::flag(const std::string& name, const std::string& help) {
  specs_.push_back({name, "", help, true, false, ""});
}

const Args::Spec* Args::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}
Args::Spec* Args::find(const std::string& name) {
  return const_cast<Spec*>(static_cast<const Args*>(this)->find(name));
}

bool Args::parse(int argc, char** argv, std::string* error) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") { only_positional = true; continue; }
    if (a == "-h" || a == "--help") { help_ = true; continue; }
    // The one short option: -o means --output wherever a command has --output.
    if (a == "-o" && find("output")) a = "--output";
    if (a.rfind("--", 0) != 0) {
      *error = "hunch " + command_ + ": unknown option '" + a + "' (see hunch " + command_ + " --help)";
      return false;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Spec* s = find(name);
    if (!s) {
      *error = "hunch " + command_ + ": unknown option '--" + name + "' (see hunch " + command_ + " --help)";
      return false;
    }
    if (s->is_switch) {
      if (has_value) {
        *error = "hunch " + command_ + ": option '--" + name + "' takes no value";
        return false;
      }
      s->given = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        *error = "hunch " + command_ + ": option '--" + name + "' needs a value";
        return false;
      }
      value = argv[++i];
    }
    s->given = true;
    s->value = value;
  }
  return true;
}

int Args::parse_or_exit(int argc, char** argv) {
  std::string error;
  if (!parse(argc, argv, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  if (help_) {
    std::fputs(help_text().c_str(), stdout);
    return 0;
  }
  return -1;
}

std::string Args::help_text() const {
  std::ostringstream o;
  o << "usage: hunch " << command_ << " " << usage_ << "\n\n" << summary_ << "\n";
  if (!specs_.empty()) o << "\noptions:\n";
  for (const auto& s : specs_) {
    std::string left = "  --" + s.name + (s.is_switch ? "" : " VALUE");
    o << left;
    for (size_t pad = left.size(); pad < 28; ++pad) o << ' ';
    o << ' ' << s.help;
    if (!s.is_switch && !s.default_value.empty()) o << " (default: " << s.default_value << ")";
    o << "\n";
  }
  o << "  -h, --help                   this text\n";
  return o.str();
}

bool Args::given(const std::string& name) const {
  const Spec* s = find(name);
  return s && s->given;
}

std::string Args::get(const std::string& name) const {
  const Spec* s = find(name);
  return s ? s->value : std::string();
}

bool Args::get_bool(const std::string& name) const { return given(name); }

bool Args::get_int(const std::string& name, int64_t min, int64_t max, int64_t* out, std::string* error) const {
  std::string v = get(name);
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || errno || *end != '\0') {
    *error = "--" + name + ": expected an integer, got '" + v + "'";
    return false;
  }
  if (x < min || x > max) {
    *error = "--" + name + ": " + v + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    return false;
  }
  *out = x;
  return true;
}

bool Args::get_double(const std::string& name, double min, double max, double* out, std::string* error) const {
  std::string v = get(name);
  errno = 0;
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || errno || *end != '\0' || !std::isfinite(x)) {
    *error = "--" + name + ": expected a number, got '" + v + "'";
    return false;
  }
  if (x < min || x > max) {
    std::ostringstream o;
    o << "--" << name << ": " << v << " is out of range [" << min << ", " << max << "]";
    *error = o.str();
    return false;
  }
  *out = x;
  return true;
}

}  // namespace hunch::cli

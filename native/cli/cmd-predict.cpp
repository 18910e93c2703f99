// hunch predict MODEL --events "view:/a,click:/b" — the top-k next actions through the same
// core (Model + Sequence) that the browser runs, natively.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/args.h"
#include "hunch/format.h"  // json_string
#include "hunch/kernels.h"
#include "hunch/model.h"
#include "hunch/sequence.h"

namespace hunch::cli {

namespace {

struct ParsedEvent {
  std::string action, type;
  double      time = NAN;
  std::vector<std::pair<std::string, std::string>> attrs;  // [column=value;…]
};

// Text with its escaped characters marked: a backslash makes the next character part of a name
// (\, \@ \[ \] \; \= \: \\), so that an action such as
// "/u/bob@example.com" or "/s?x=a,b" can be written. The searches below skip marked characters.
struct Marked {
  std::string       s;
  std::vector<bool> lit;  // per character of s: it was escaped
  size_t find(char c, size_t from = 0) const {
    for (size_t i = from; i < s.size(); ++i)
      if (s[i] == c && !lit[i]) return i;
    return std::string::npos;
  }
  size_t rfind(char c) const {
    for (size_t i = s.size(); i-- > 0;)
      if (s[i] == c && !lit[i]) return i;
    return std::string::npos;
  }
  Marked sub(size_t b, size_t n = std::string::npos) const {
    const size_t e = n == std::string::npos || b + n > s.size() ? s.size() : b + n;
    return {s.substr(b, e - b), std::vector<bool>(lit.begin() + long(b), lit.begin() + long(e))};
  }
};

// Items are comma-separated: [type:]action[[column=value;…]][@seconds]. The "type:" prefix is
// taken as a type only when the model knows that type, so actions containing ':' (URLs) still
// work. The bracket gives attributes (a model trained with --attr-columns): a product the model
// does not know still gets its category's signal. A backslash escapes the next character (Marked).
bool parse_events(const Model& m, const std::string& raw, std::vector<ParsedEvent>* out, std::string* error) {
  Marked text;
  for (size_t i = 0; i < raw.size(); ++i) {
    const bool escaped = raw[i] == '\\' && i + 1 < raw.size();
    if (escaped) ++i;
    text.s += raw[i];
    text.lit.push_back(escaped);
  }
  size_t start = 0;
  while (start <= text.s.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.s.size();
    Marked item = text.sub(start, end - start);
    start = end + 1;
    if (item.s.empty()) {
      if (end == text.s.size()) break;
      *error = "--events: empty item at character " + std::to_string(end);
      return false;
    }
    ParsedEvent e;
    if (size_t at = item.rfind('@'); at != std::string::npos) {
      char* stop = nullptr;
      e.time = std::strtod(item.s.c_str() + at + 1, &stop);
      if (at + 1 == item.s.size() || *stop != '\0' || !std::isfinite(e.time)) {
        *error = "--events: '" + item.s + "': the time after '@' must be a number of seconds (write '\\@' for an '@' in a name)";
        return false;
      }
      item = item.sub(0, at);
    }
    if (size_t open = item.rfind('['); open != std::string::npos && !item.s.empty() && item.s.back() == ']' && !item.lit.back()) {
      const Marked inner = item.sub(open + 1, item.s.size() - open - 2);
      item = item.sub(0, open);
      for (size_t b = 0; b < inner.s.size();) {
        size_t stop = inner.find(';', b);
        if (stop == std::string::npos) stop = inner.s.size();
        const Marked kv = inner.sub(b, stop - b);
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) {
          *error = "--events: attribute '" + kv.s + "' must be column=value";
          return false;
        }
        const std::string column = kv.s.substr(0, eq);
        const auto& names = m.attributes().names();
        if (std::find(names.begin(), names.end(), column) == names.end()) {
          std::string have;
          for (const auto& n : names) have += (have.empty() ? "" : ", ") + n;
          *error = "--events: the model has no attribute column '" + column + "' (it has: " +
                   (have.empty() ? "none" : have) + ")";
          return false;
        }
        e.attrs.emplace_back(column, kv.s.substr(eq + 1));
        b = stop + 1;
      }
    }
    if (size_t colon = item.find(':'); colon != std::string::npos && m.type_id(item.s.substr(0, colon)) != 0) {
      e.type = item.s.substr(0, colon);
      item = item.sub(colon + 1);
    }
    if (item.s.empty()) {
      *error = "--events: an item has no action";
      return false;
    }
    e.action = item.s;
    out->push_back(e);
  }
  return true;
}

}  // namespace

int run_predict(int argc, char** argv) {
  Args args("predict", "MODEL.hunch --events \"[type:]action[[column=value;…]][@seconds],…\"",
            "Pushes the events into a fresh sequence and prints the top-k next actions, the next event type,\n"
            "the exit probability and, for a model with a conversion head, the conversion probability,\n"
            "computed by the same core the browser SDK runs.");
  args.option("events", "", "comma-separated events: [type:]action[[column=value;…]][@seconds] (the bracket: attributes; a backslash escapes the next character: \\, \\@ \\[ in a name)");
  args.option("k", "10", "how many next actions to print");
  args.option("kernels", "", "kernel implementation: ref, xnnpack (default: the build's default)");
  args.flag("json", "print one JSON object instead of tables");
  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  std::string error;
  if (args.positional().size() != 1) {
    std::fprintf(stderr, "hunch predict: expected one model file (see --help)\n");
    return 2;
  }
  int64_t k = 10;
  if (!args.get_int("k", 1, 1000000, &k, &error)) {
    std::fprintf(stderr, "hunch predict: %s\n", error.c_str());
    return 2;
  }
  const KernelTable* kernels = nullptr;
  if (args.given("kernels")) {
    kernels = kernels_by_name(args.get("kernels").c_str());
    if (!kernels) {
      std::fprintf(stderr, "hunch predict: --kernels: '%s' is not available in this build\n", args.get("kernels").c_str());
      return 2;
    }
  }
  std::unique_ptr<Model> model;
  if (Error e = Model::load_file(args.positional()[0], &model)) {
    std::fprintf(stderr, "hunch predict: %s\n", e.message.c_str());
    return 1;
  }
  std::vector<ParsedEvent> events;
  if (!parse_events(*model, args.get("events"), &events, &error)) {
    std::fprintf(stderr, "hunch predict: %s\n", error.c_str());
    return 2;
  }
  Sequence seq(*model, kernels);
  size_t unknown = 0;
  for (const auto& pe : events) {
    Event e;
    e.action = model->route_id(pe.action);  // as the SDK does: the page to its route
    e.type = pe.type.empty() ? 0 : model->type_id(pe.type);
    e.time = pe.time;
    for (const auto& [column, value] : pe.attrs) {
      const auto& names = model->attributes().names();
      const uint32_t k = uint32_t(std::find(names.begin(), names.end(), column) - names.begin());
      e.attr[k] = model->attributes().id(k, value);
    }
    unknown += e.action == 0;
    if (Error err = seq.push(e)) {
      std::fprintf(stderr, "hunch predict: %s\n", err.message.c_str());
      return 1;
    }
  }
  std::vector<Prediction> top(static_cast<size_t>(k));
  size_t n = seq.predict(top.size(), top.data());
  const auto& types = seq.type_probabilities();
  std::vector<uint64_t> idx;
  std::vector<float> weight;
  seq.attention(&idx, &weight);
  // NaN without a conversion head (JSON null, as the SDK's conversionProbability()).
  const float conversion = seq.conversion_probability();
  std::string goals;
  for (uint32_t t : model->goal_types()) goals += (goals.empty() ? "" : ", ") + model->type_name(t);

  if (args.get_bool("json")) {
    std::printf("{\"events\":%zu,\"unknown_actions\":%zu,\"top\":[", events.size(), unknown);
    for (size_t i = 0; i < n; ++i)
      std::printf("%s{\"action\":%s,\"id\":%u,\"probability\":%.9g}", i ? "," : "",
                  json_string(model->action_name(top[i].action)).c_str(), top[i].action, double(top[i].probability));
    std::printf("],\"next_type\":{");
    for (size_t t = 0; t < types.size() && n; ++t)
      std::printf("%s%s:%.9g", t ? "," : "", json_string(model->type_name(uint32_t(t))).c_str(), double(types[t]));
    std::printf("},\"exit\":%.9g,\"conversion\":", n ? double(seq.exit_probability()) : 0.0);
    if (n && std::isfinite(conversion)) std::printf("%.9g", double(conversion));
    else std::printf("null");
    std::printf(",\"attention\":[");
    for (size_t i = 0; i < idx.size(); ++i)
      std::printf("%s{\"event\":%llu,\"weight\":%.6g}", i ? "," : "", (unsigned long long)idx[i], double(weight[i]));
    std::printf("]}\n");
    return 0;
  }
  if (events.empty()) {
    std::printf("no events given: nothing to predict from (use --events)\n");
    return 0;
  }
  std::printf("%zu events pushed (%zu unknown actions)\n\n  rank  probability  action\n", events.size(), unknown);
  for (size_t i = 0; i < n; ++i)
    std::printf("  %4zu  %11.6f  %s\n", i + 1, double(top[i].probability), model->action_name(top[i].action).c_str());
  std::printf("\nnext event type:");
  for (size_t t = 0; t < types.size(); ++t)
    std::printf(" %s %.3f", model->type_name(uint32_t(t)).c_str(), double(types[t]));
  std::printf("\nexit probability: %.4f\n", double(seq.exit_probability()));
  if (std::isfinite(conversion)) std::printf("conversion probability: %.4f (goal: %s)\n", double(conversion), goals.c_str());
  else std::printf("conversion probability: none (the model has no conversion head)\n");
  std::printf("attention (most weighed past events):");
  std::vector<size_t> order(idx.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return weight[a] > weight[b]; });
  for (size_t i = 0; i < order.size() && i < 5; ++i) {
    const auto& pe = events[idx[order[i]]];
    std::printf(" #%llu %s (%.2f)", (unsigned long long)idx[order[i]], pe.action.c_str(), double(weight[order[i]]));
  }
  std::printf("\n");
  return 0;
}

}  // namespace hunch::cli

// hunch inspect FILE — header, metadata and tensor table of a model, or the reader's error.
//
// Reads the container first (so a broken file gets the container's exact error), then the
// architecture check of Model::load, so "valid" here means "a browser would load it".
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cli/args.h"
#include "hunch/format.h"
#include "hunch/model.h"
#include "train/privacy.h"

namespace hunch::cli {

namespace {

std::string value_text(const MetaValue& v, bool full) {
  char buf[64];
  switch (v.type) {
    case MetaType::U32:
    case MetaType::U64: std::snprintf(buf, sizeof buf, "%" PRIu64, v.u); return buf;
    case MetaType::I32: std::snprintf(buf, sizeof buf, "%" PRId64, v.i); return buf;
    case MetaType::F32: std::snprintf(buf, sizeof buf, "%.6g", double(v.f)); return buf;
    case MetaType::STRING: return "'" + v.str + "'";
    case MetaType::STRING_ARRAY: {
      std::string s = "[" + std::to_string(v.strings.size()) + "] ";
      size_t shown = full ? v.strings.size() : std::min<size_t>(v.strings.size(), 8);
      for (size_t i = 0; i < shown; ++i) s += (i ? ", '" : "'") + v.strings[i] + "'";
      if (shown < v.strings.size()) s += ", …";
      return s;
    }
    case MetaType::F32_ARRAY: {
      std::string s = "[" + std::to_string(v.floats.size()) + "] ";
      for (size_t i = 0; i < v.floats.size() && (full || i < 24); ++i) {
        std::snprintf(buf, sizeof buf, "%s%g", i ? ", " : "", double(v.floats[i]));
        s += buf;
      }
      return s;
    }
  }
  return "?";
}

// --vocab: every string value of the file's metadata (the vocabularies, attribute values, goal
// types, rules, the training file's name …) and front-coded action names (vocab.actions.fc[INDEX]), one
// per line as KEY[INDEX]<tab>TEXT — what anyone who
// downloads the model can read out of it. Tab, newline, carriage return and backslash are written
// \t \n \r \\ so that one line is one string.
void print_strings(const Model& model) {
  const ModelFile& f = model.file();
  auto line = [](const std::string& where, const std::string& text) {
    std::string out = where + '\t';
    for (char c : text)
      out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\\' ? "\\\\" : std::string(1, c);
    std::printf("%s\n", out.c_str());
  };
  for (const auto& m : f.metadata) {
    if (m.value.type == MetaType::STRING) line(m.key, m.value.str);
    if (m.value.type == MetaType::STRING_ARRAY)
      for (size_t i = 0; i < m.value.strings.size(); ++i) line(m.key + "[" + std::to_string(i) + "]", m.value.strings[i]);
  }
  if (model.front_coded_names()) {  // the names are a tensor (docs/format.md), as readable as the key
    const std::vector<std::string> names = model.action_names();
    for (size_t i = 0; i < names.size(); ++i) line(std::string(kActionsFcTensor) + "[" + std::to_string(i) + "]", names[i]);
  }
}

}  // namespace

int run_inspect(int argc, char** argv) {
  Args args("inspect", "MODEL.hunch", "Prints a model's header, metadata and tensor table, and whether it loads.");
  args.flag("full", "print whole string and number arrays in the metadata, not just their heads");
  args.flag("vocab",
            "print only the strings a visitor can read out of the file, one per line as KEY[INDEX]<tab>TEXT: actions, "
            "types, attribute values and every other string in the metadata (docs/privacy.md)");
  args.flag("no-crc", "skip the CRC check (to look inside a damaged file)");
  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  std::string error;
  if (args.positional().size() != 1) {
    std::fprintf(stderr, "hunch inspect: expected one model file (see --help)\n");
    return 2;
  }
  const std::string path = args.positional()[0];
  std::vector<uint8_t> bytes;
  if (Error e = read_model_bytes(path, &bytes)) {
    std::fprintf(stderr, "hunch inspect: %s\n", e.message.c_str());
    return 1;
  }
  ReadOptions opts;
  opts.verify_crc = !args.get_bool("no-crc");
  std::unique_ptr<Model> model;
  Error e = Model::load(bytes.data(), bytes.size(), &model, opts);
  if (e) {
    std::fprintf(stderr, "hunch inspect: %s: invalid model: %s\n", path.c_str(), e.message.c_str());
    return 1;
  }
  const ModelFile& f = model->file();
  if (args.get_bool("vocab")) {
    print_strings(*model);
    return 0;
  }
  const Hyper& hp = model->hyper();
  std::printf("%s\n", path.c_str());
  std::printf("  format version %u, %" PRIu64 " bytes, data at offset %" PRIu64 ", CRC32 0x%08x (%s)\n", f.version,
              f.file_size, f.data_offset, f.crc32, opts.verify_crc ? "verified" : "not checked");
  std::printf("  architecture %s: V=%u actions, T=%u types, G=%u gap buckets, D=%u, W=%u", arch_name(hp.arch),
              hp.vocab_size, hp.type_count, hp.gap_buckets, hp.embed, hp.window);
  if (copy_window_of(hp) != hp.window) std::printf(", copy window Wc=%u", copy_window_of(hp));
  if (hp.arch == Arch::LSTM_ATTN) std::printf(", H=%u, A=%u\n", hp.hidden, hp.attn_size);
  else std::printf(", L=%u, heads=%u, F=%u\n", hp.layers, hp.heads, hp.ffn);
  // The optional parts (docs/format.md): what the SDK's conversionProbability() and the session
  // counting will do with this file.
  std::string goals;
  for (uint32_t t : model->goal_types()) goals += (goals.empty() ? "" : ", ") + model->type_name(t);
  std::printf("  heads: next action%s, next type, exit%s%s; session inputs: %s; calibrated: %s\n",
              hp.copy && hp.transition_bytes ? " (with copy and transition terms)"
              : hp.copy                      ? " (with copy terms)"
              : hp.transition_bytes          ? " (with transition terms)"
                                             : "",
              hp.conversion ? ", conversion (goal " : "",
              hp.conversion ? (goals + ")").c_str() : "",
              hp.session_inputs ? ("yes, sessions split after " + std::to_string(int64_t(model->session_gap())) + " s").c_str()
                                : "no",
              model->calibration().is_identity() ? "no" : "yes (hunch.calibration.*)");
  if (const hunch::AttrIndex& ai = model->attributes(); ai.columns()) {
    std::printf("  attributes (event.attributes, hunch predict's action[column=value]):");
    for (uint32_t k = 0; k < ai.columns(); ++k)
      std::printf("%s %s (%s, %u values)", k ? "," : "", ai.names()[k].c_str(), ai.numeric(k) ? "numeric buckets" : "category",
                  ai.start(k + 1) - ai.start(k) - 1);
    std::printf("\n");
  }
  // What the weights promise the training users (hunch.privacy.*: hunch train --dp-epsilon).
  std::printf("  privacy: %s\n", train::privacy_summary(*model).c_str());

  {  // What the vocabulary lets out (docs/privacy.md): its thresholds and the normalisation.
    const MetaEntry* users = f.find_meta("hunch.vocab.min_users");
    const Routes& r = model->routes();
    std::printf("  vocabulary: %s; action normalisation: %s", users && users->value.type == MetaType::U32
                ? ("names of at least " + std::to_string(users->value.u) + " users").c_str() : "no user threshold recorded",
                r.enabled() ? "routes (query, fragment and ids dropped" : "off (names as logged)");
    if (r.enabled())
      std::printf("%s%s)", r.keep_query().empty() ? "" : ", some parameters kept",
                  r.rules().empty() ? "" : (", " + std::to_string(r.rules().size()) + " rules").c_str());
    std::printf("\n");
  }

  std::printf("\nmetadata (%zu):\n", f.metadata.size());
  for (const auto& m : f.metadata)
    std::printf("  %-34s %-12s %s\n", m.key.c_str(), meta_type_name(m.value.type),
                value_text(m.value, args.get_bool("full")).c_str());

  std::printf("\ntensors (%zu):\n  %-22s %-5s %-14s %10s %10s\n", f.tensors.size(), "name", "dtype", "shape",
              "offset", "bytes");
  uint64_t params = 0, i8_params = 0;
  for (const auto& t : f.tensors) {
    std::string shape = "(";
    for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
    shape += ")";
    std::printf("  %-22s %-5s %-14s %10" PRIu64 " %10" PRIu64 "\n", t.name.c_str(), dtype_name(t.dtype),
                shape.c_str(), t.offset, t.nbytes);
    params += t.elements();
    if (t.dtype == DType::I8) i8_params += t.elements();
  }
  std::printf("\n  %" PRIu64 " parameters, %" PRIu64 " of them int8\n", params, i8_params);
  return 0;
}

}  // namespace hunch::cli

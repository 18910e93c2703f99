#include "train/export.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>

#include "hunch/packed.h"
#include "hunch/transitions.h"
#include "hunch/version.h"
#include "train/transitions.h"

namespace hunch::train {

void write_network(const Net& net, const Dataset& data, hunch::ModelWriter* w) {
  const hunch::Hyper& h = net.cfg.hyper;
  w->set_string("general.architecture", hunch::arch_name(h.arch));
  w->set_string("general.tool_version", std::string("hunch ") + HUNCH_VERSION);
  w->set_u32("general.quantization_version", 0);
  for (const hunch::HyperKey& k : hunch::hyper_keys(h.arch)) w->set_u32(k.key, h.*k.field);
  w->set_strings("hunch.vocab.actions", data.actions);
  w->set_strings("hunch.vocab.event_types", data.types);
  w->set_floats("hunch.time.gap_edges", data.gap_edges);
  // How the vocabulary was made (docs/privacy.md): the thresholds, and the normalisation the
  // core applies to pushed names (hunch/routes.h).
  w->set_u32("hunch.vocab.min_count", data.min_count);
  w->set_u32("hunch.vocab.min_users", data.min_users);
  if (data.routes.enabled()) {
    w->set_u32("hunch.normalize.version", data.routes.version());
    if (!data.routes.keep_query().empty()) w->set_strings("hunch.normalize.keep_query", data.routes.keep_query());
    if (!data.routes.rules().empty()) w->set_strings("hunch.normalize.rules", data.routes.rules());
  }
  if (h.conversion) w->set_strings("hunch.conversion.goal_types", data.goal_types);
  if (h.session_inputs) w->set_f32("hunch.session.gap", net.cfg.session_gap);
  if (h.copy) w->set_u32("hunch.copy", 1);
  // Only where it differs from W: files of a copy window W stay byte for byte what they were.
  if ((h.copy || h.attr_columns) && h.copy_window && h.copy_window != h.window)
    w->set_u32("hunch.copy.window", h.copy_window);
  const hunch::Calibration& c = net.calibration;
  if (c.exit_a != 1 || c.exit_b != 0) w->set_floats("hunch.calibration.exit", {c.exit_a, c.exit_b});
  if (c.conversion_a != 1 || c.conversion_b != 0)
    w->set_floats("hunch.calibration.conversion", {c.conversion_a, c.conversion_b});
  if (c.type_temperature != 1) w->set_floats("hunch.calibration.type", {c.type_temperature});
  if (h.transition_bytes) w->set_u32("hunch.transition.bytes", h.transition_bytes);
  if (h.action_counts) w->set_u32("hunch.head.action.counts", 1);
  // --tie: head.action.w is emb.action; the file holds it once (docs/format.md).
  if (net.cfg.tie_embeddings) w->set_u32("hunch.head.action.tied", 1);
  if (h.attr_columns) {
    w->set_strings("hunch.attr.columns", data.attr_columns);
    std::vector<std::string> kinds;
    for (bool numeric : data.attr_numeric) kinds.push_back(numeric ? "numeric" : "category");
    w->set_strings("hunch.attr.kinds", kinds);
    w->set_strings("hunch.attr.values", data.attr_values);
  }
  // In the table's order; the transition and attribute tables are data, not trained parameters.
  std::vector<uint8_t> attr_table;
  for (const hunch::TensorLayout& l : hunch::tensor_layout(h)) {
    if (l.name == "attr.table") {  // u16 little-endian value ids, V × K
      for (uint16_t id : data.action_attr) {
        attr_table.push_back(uint8_t(id & 0xff));
        attr_table.push_back(uint8_t(id >> 8));
      }
      w->add_u8(l.name, l.shape(), attr_table.data());
      continue;
    }
    if (l.spec->bytes) {
      w->add_u8(l.name, l.shape(), net.cfg.transitions->table.data());
      continue;
    }
    if (net.cfg.tie_embeddings && l.name == "head.action.w") continue;
    const long i = net.params.find(l.name);
    w->add_f32(l.name, l.shape(), i < 0 ? nullptr : net.params.ptr(size_t(i)));
  }
}

namespace {

void copy_meta(const hunch::MetaEntry& m, hunch::ModelWriter* w) {
  using hunch::MetaType;
  const auto& v = m.value;
  switch (v.type) {
    case MetaType::U32: w->set_u32(m.key, uint32_t(v.u)); break;
    case MetaType::I32: w->set_i32(m.key, int32_t(v.i)); break;
    case MetaType::F32: w->set_f32(m.key, v.f); break;
    case MetaType::U64: w->set_u64(m.key, v.u); break;
    case MetaType::STRING: w->set_string(m.key, v.str); break;
    case MetaType::STRING_ARRAY: w->set_strings(m.key, v.strings); break;
    case MetaType::F32_ARRAY: w->set_floats(m.key, v.floats); break;
  }
}

}  // namespace

namespace {

// Whether `name` holds the codes of a packed table (hunch/packed.h): X.q4 / X.q4.scale under the
// key hunch.int4.X, X.u8 under hunch.u8.X. Copied as they are (U8) by quantize_model.
bool is_packed_tensor(const hunch::ModelFile& f, const std::string& name) {
  auto base = [&](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return name.size() > n && name.compare(name.size() - n, n, suffix) == 0 ? name.substr(0, name.size() - n) : "";
  };
  for (const char* suffix : {".q4", ".q4.scale"})
    if (!base(suffix).empty() && f.find_meta("hunch.int4." + base(suffix))) return true;
  return !base(".u8").empty() && f.find_meta("hunch.u8." + base(".u8"));
}

}  // namespace

Error quantize_model(const hunch::ModelFile& in, hunch::ModelWriter* out,
                     std::vector<TensorQuantization>* report) {
  // Which tensors are quantised is the architecture table's word (TensorSpec::quantised).
  hunch::Hyper hyper;
  if (Error e = hunch::read_hyper(in, &hyper)) return e;
  std::map<std::string, bool> quantised;
  for (const hunch::TensorLayout& l : hunch::tensor_layout(hyper)) quantised[l.name] = l.spec->quantised;
  for (const auto& m : in.metadata) copy_meta(m, out);
  out->set_u32("general.quantization_version", 1);
  std::vector<int8_t> q;
  std::vector<float> scales;
  for (const auto& t : in.tensors) {
    const auto spec = t.name == hunch::kActionsFcTensor ? quantised.end() : quantised.find(t.name);
    if (spec == quantised.end() && t.name != hunch::kActionsFcTensor && !is_packed_tensor(in, t.name))
      return Error("quantize: tensor '" + t.name + "' is not part of this architecture");
    if (t.dtype == hunch::DType::I8) {
      out->add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
      continue;
    }
    if (t.dtype == hunch::DType::U8) {  // an encoded table (transition.table, the names): as it is
      out->add_u8(t.name, t.shape, t.u8);
      continue;
    }
    if (!t.f32) return Error("quantize: tensor '" + t.name + "' has no data");
    if (!spec->second || t.shape.size() != 2) {
      out->add_f32(t.name, t.shape, t.f32);
      continue;
    }
    const uint64_t rows = t.shape[0], cols = t.shape[1];
    q.resize(rows * cols);
    scales.resize(rows);
    TensorQuantization r;
    r.name = t.name;
    r.rows = rows;
    r.cols = cols;
    r.max_error = hunch::quantize_rows(rows, cols, t.f32, q.data(), scales.data());
    for (uint64_t k = 0; k < rows * cols; ++k) r.max_abs = std::max(r.max_abs, std::fabs(t.f32[k]));
    out->add_i8(t.name, rows, cols, q.data(), scales.data());
    if (report) report->push_back(r);
  }
  return Error();
}

Error front_code_names(const hunch::ModelFile& in, hunch::ModelWriter* out) {
  hunch::Hyper hp;
  if (Error e = hunch::read_hyper(in, &hp)) return e;
  const hunch::MetaEntry* named = in.find_meta("hunch.vocab.actions");
  if (!named) return Error("front-coding names: the model's names are already front-coded");
  for (const auto& t : in.tensors)
    if (is_packed_tensor(in, t.name))
      return Error("front-coding names: the model's action tables are packed (tensor '" + t.name +
                   "'); front-code the source model (--front-code-names --int4-embeddings does both, in that order)");
  const std::vector<std::string>& names = named->value.strings;
  const uint32_t V = hp.vocab_size;
  // old_of[new id] and new_of[old id]: id 0 (<unk>) stays, the rest in the names' byte order.
  std::vector<uint32_t> old_of(V), new_of(V);
  for (uint32_t i = 0; i < V; ++i) old_of[i] = i;
  std::sort(old_of.begin() + 1, old_of.end(), [&](uint32_t a, uint32_t b) { return names[a] < names[b]; });
  std::vector<std::string> sorted(V);
  for (uint32_t n = 0; n < V; ++n) {
    new_of[old_of[n]] = n;
    sorted[n] = names[old_of[n]];
  }
  std::vector<uint8_t> block;
  if (Error e = hunch::encode_front_coded(sorted, &block)) return Error("front-coding names: " + e.message);

  std::map<std::string, const hunch::TensorSpec*> spec;
  for (const hunch::TensorLayout& l : hunch::tensor_layout(hp)) spec[l.name] = l.spec;
  for (const auto& m : in.metadata)
    if (m.key != "hunch.vocab.actions") copy_meta(m, out);
  out->add_u8(hunch::kActionsFcTensor, {block.size()}, block.data());
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  for (const auto& t : in.tensors) {
    const auto s = spec.find(t.name);
    if (s == spec.end()) return Error("front-coding names: tensor '" + t.name + "' is not part of this architecture");
    const bool by_action = s->second->rows.sym == hunch::Sym::V && s->second->rows.factor == 1;
    const uint64_t rows = t.shape.empty() ? 0 : t.shape[0];
    if (t.name == "transition.table") {
      std::vector<uint32_t> row_start;
      if (Error e = hunch::index_transitions(t.u8, size_t(t.elements()), V, &row_start)) return e;
      std::vector<std::vector<hunch::Transition>> rows_new(V);
      for (uint32_t n = 0; n < V; ++n) {
        hunch::TransitionRow r(t.u8, row_start[old_of[n]]);
        hunch::Transition x;
        while (r.next(&x)) rows_new[n].push_back({new_of[x.next], x.bucket});
        std::sort(rows_new[n].begin(), rows_new[n].end(),
                  [](const hunch::Transition& a, const hunch::Transition& b) { return a.next < b.next; });
      }
      bytes.clear();
      hunch::encode_transitions(rows_new, &bytes);
      out->add_u8(t.name, {bytes.size()}, bytes.data());
      out->set_u32("hunch.transition.bytes", uint32_t(bytes.size()));  // the gaps' varints changed size
    } else if (t.name == "attr.table") {  // V rows of 2K bytes
      const size_t row = size_t(2) * hp.attr_columns;
      bytes.resize(size_t(t.elements()));
      for (uint32_t n = 0; n < V; ++n) std::memcpy(bytes.data() + n * row, t.u8 + size_t(old_of[n]) * row, row);
      out->add_u8(t.name, t.shape, bytes.data());
    } else if (!by_action) {
      if (t.dtype == hunch::DType::I8) out->add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
      else if (t.dtype == hunch::DType::U8) out->add_u8(t.name, t.shape, t.u8);
      else out->add_f32(t.name, t.shape, t.f32);
    } else if (rows != V || t.dtype == hunch::DType::U8) {
      return Error("front-coding names: tensor '" + t.name + "' is indexed by action but not as rows of f32 or int8");
    } else {  // rows of an f32 or int8 table: row n is the old row old_of[n]
      const size_t cols = t.shape.size() == 2 ? size_t(t.shape[1]) : 1;
      const size_t row = t.dtype == hunch::DType::I8 ? cols : 4 * cols;
      const uint8_t* src = t.dtype == hunch::DType::I8 ? reinterpret_cast<const uint8_t*>(t.i8)
                                                       : reinterpret_cast<const uint8_t*>(t.f32);
      bytes.resize(row * V);
      for (uint32_t n = 0; n < V; ++n) std::memcpy(bytes.data() + n * row, src + size_t(old_of[n]) * row, row);
      if (t.dtype == hunch::DType::I8) {
        scales.resize(V);
        for (uint32_t n = 0; n < V; ++n) scales[n] = t.scales[old_of[n]];
        out->add_i8(t.name, V, cols, reinterpret_cast<const int8_t*>(bytes.data()), scales.data());
      } else {
        out->add_f32(t.name, t.shape, reinterpret_cast<const float*>(bytes.data()));
      }
    }
  }
  return Error();
}

Error pack_action_tables(const hunch::ModelFile& in, hunch::ModelWriter* out,
                         std::vector<TensorQuantization>* report) {
  for (const auto& m : in.metadata) {
    if (m.key.rfind("hunch.int4.", 0) == 0 || m.key.rfind("hunch.u8.", 0) == 0)
      return Error("packing action tables: the model is already packed (key " + m.key + ")");
    copy_meta(m, out);
  }
  std::vector<float> w, scales;
  std::vector<uint8_t> packed, codes;
  for (const auto& t : in.tensors) {
    const bool matrix = (t.name == "emb.action" || t.name == "head.action.w") && t.shape.size() == 2 &&
                        t.dtype != hunch::DType::U8;
    const bool bias = t.name == "head.action.b" && t.shape.size() == 1 && t.dtype == hunch::DType::F32;
    if (!matrix && !bias) {
      if (t.dtype == hunch::DType::I8) out->add_i8(t.name, t.shape[0], t.shape[1], t.i8, t.scales);
      else if (t.dtype == hunch::DType::U8) out->add_u8(t.name, t.shape, t.u8);
      else out->add_f32(t.name, t.shape, t.f32);
      continue;
    }
    TensorQuantization r;
    r.name = t.name;
    r.rows = t.shape[0];
    r.cols = matrix ? t.shape[1] : 1;
    const size_t n = size_t(r.rows * r.cols);
    w.resize(n);  // the float values (an int8 table dequantised: the int4 codes round those)
    for (size_t k = 0; k < n; ++k)
      w[k] = t.dtype == hunch::DType::I8 ? float(t.i8[k]) * t.scales[k / r.cols] : t.f32[k];
    for (float v : w) r.max_abs = std::max(r.max_abs, std::fabs(v));
    codes.resize(size_t(r.rows));
    if (matrix) {
      float top = 0;
      packed.resize(size_t(r.rows) * hunch::int4_row_bytes(size_t(r.cols)));
      r.max_error = hunch::quantize_rows_int4(size_t(r.rows), size_t(r.cols), w.data(), packed.data(), codes.data(), &top);
      if (std::isnan(r.max_error)) return Error("packing action tables: tensor '" + t.name + "' has a non-finite weight");
      out->set_f32("hunch.int4." + t.name, top);
      out->add_u8(t.name + ".q4", {r.rows, hunch::int4_row_bytes(size_t(r.cols))}, packed.data());
      out->add_u8(t.name + ".q4.scale", {r.rows}, codes.data());
    } else {
      std::vector<float> table;
      r.max_error = hunch::quantize_u8_table(n, w.data(), codes.data(), &table);
      if (std::isnan(r.max_error)) return Error("packing action tables: tensor '" + t.name + "' has a non-finite value");
      out->set_floats("hunch.u8." + t.name, table);
      out->add_u8(t.name + ".u8", {r.rows}, codes.data());
    }
    if (report) report->push_back(r);
  }
  return Error();
}

namespace {

// Removes PATH.tmp-PID-XXXXXX files whose writer is gone: what a writer killed between mkstemp
// and rename (SIGKILL, power loss) leaves behind. Gone means both: no process with that pid
// here, and no lock on the file — every writer holds an exclusive flock on its temp file until
// the rename, and the kernel drops it when the writer dies. The lock is what protects a live
// writer whose pid this process cannot see (another pid namespace sharing the directory).
void remove_dead_writers_temps(const std::string& dir, const std::string& base) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  const std::string prefix = base + ".tmp-";
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());  // PID-XXXXXX
    const size_t dash = rest.find('-');
    if (dash == 0 || dash == std::string::npos || dash > 9 || rest.size() - dash - 1 != 6) continue;
    if (rest.find_first_not_of("0123456789") != dash) continue;
    const pid_t pid = pid_t(std::stol(rest.substr(0, dash)));
    if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
    const int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;  // a symlink, or gone already
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_EX | LOCK_NB) == 0)
      unlinkat(dirfd(d), e->d_name, 0);
    close(fd);
  }
  closedir(d);
}

}  // namespace

Error write_file_atomic(const std::string& path, const std::vector<uint8_t>& bytes) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  remove_dead_writers_temps(dir, slash == std::string::npos ? path : path.substr(slash + 1));
  // The writer's pid in the name lets a later writer tell a dead writer's leftover from a live one.
  std::string tmp = path + ".tmp-" + std::to_string(getpid()) + "-XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0)
    return Error("cannot create a temporary file next to '" + path + "': " + std::strerror(errno));
  // Held until close: tells remove_dead_writers_temps of other writers that this one is alive.
  flock(fd, LOCK_EX | LOCK_NB);
  auto fail = [&](const char* what) {
    Error e("cannot write '" + path + "' (" + what + "): " + std::strerror(errno));
    if (fd >= 0) close(fd);
    unlink(tmp.c_str());
    return e;
  };
  // mkstemp creates 0600; a model file is an ordinary file (umask applies).
  mode_t mask = umask(0);
  umask(mask);
  if (fchmod(fd, 0666 & ~mask) != 0) return fail("chmod");
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    if (n == 0) {
      errno = EIO;
      return fail("write");
    }
    done += size_t(n);
  }
  if (fsync(fd) != 0) return fail("fsync");
  if (close(fd) != 0) {
    fd = -1;
    return fail("close");
  }
  fd = -1;
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  // Persist the rename itself; a failure here does not undo a complete, renamed file.
  int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return Error();
}

}  // namespace hunch::train

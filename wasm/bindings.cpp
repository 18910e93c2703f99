// Embind bindings of the core: the raw module the TypeScript SDK (js/) wraps. Nothing else.
//
// Handles (Model, Sequence) are Embind classes the SDK owns and delete()s in close(). No call
// throws: failures return false / an empty result and leave their message in lastError(), so a
// bad model never aborts the instance and the next good model still loads. Bulk data crosses
// the boundary as typed-array copies (one memcpy), never element by element.
#include <emscripten/bind.h>
#include <emscripten/emmalloc.h>
#include <emscripten/val.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "hunch/format.h"
#include "hunch/kernels.h"
#include "hunch/model.h"
#include "hunch/sequence.h"
#include "hunch/version.h"

using emscripten::val;

namespace {

// Copies a JS Uint8Array into a C++ buffer with one TypedArray.set. Not a std::vector: its
// zero fill and (at -Oz) its element-wise destruction are byte loops that run, on a cold start,
// as V8's lazily compiled baseline code: for a 700 KB model they took longer than the copy
// (bench/start.mjs profile).
struct JsBytes {
  std::unique_ptr<uint8_t[]> p;
  size_t                     n = 0;
  const uint8_t* data() const { return p.get(); }
  size_t         size() const { return n; }
};
JsBytes bytes_from_js(const val& bytes) {
  JsBytes b;
  b.n = bytes["length"].as<size_t>();
  b.p.reset(new uint8_t[b.n ? b.n : 1]);  // uninitialised: set() writes every byte
  if (b.n) val(emscripten::typed_memory_view(b.n, b.p.get())).call<void>("set", bytes);
  return b;
}

template <typename T>
val copy_to_js(const char* ctor, const T* data, size_t n) {
  return val::global(ctor).new_(val(emscripten::typed_memory_view(n, data)));
}

}  // namespace

class WasmModel {
 public:
  // Returns false on a bad model (message in lastError()); the object stays usable for another
  // load attempt.
  bool load(const val& bytes) {
    if (model_) {  // sequences point at the loaded model: never swap it under them
      error_ = "this Model handle already holds a model; create a new handle";
      return false;
    }
    const JsBytes buf = bytes_from_js(bytes);
    std::unique_ptr<hunch::Model> m;
    hunch::Error e = hunch::Model::load(buf.data(), buf.size(), &m);
    if (e) {
      error_ = e.message;
      return false;
    }
    model_ = std::move(m);
    error_.clear();
    return true;
  }
  bool loaded() const { return model_ != nullptr; }
  std::string lastError() const { return error_; }

  uint32_t vocabSize() const { return model_ ? model_->hyper().vocab_size : 0; }
  uint32_t typeCount() const { return model_ ? model_->hyper().type_count : 0; }
  uint32_t window() const { return model_ ? model_->hyper().window : 0; }
  uint32_t copyWindow() const { return model_ ? hunch::copy_window_of(model_->hyper()) : 0; }
  uint32_t checksum() const { return model_ ? model_->checksum() : 0; }
  std::string architecture() const { return model_ ? hunch::arch_name(model_->hyper().arch) : ""; }
  // Names as UTF-8 bytes joined with '\0' (names never contain NUL: the model loader refuses
  // them): one typed-array copy, decoded and split by the browser's native TextDecoder — no
  // per-name call, no per-byte JS loop at load time.
  val actionNames() const {
    if (!model_) return joined(nullptr);
    const std::vector<std::string> names = model_->action_names();  // decoded here when front-coded
    return joined(&names);
  }
  val typeNames() const { return joined(model_ ? &model_->types() : nullptr); }
  // Name -> id through the model's own hash map or sorted names (0 = unknown), so the SDK builds no
  // vocabulary-sized map in JS; it caches the few names a user actually sends. The name is a
  // pushed one (a page's path and query): the model's normalisation maps it to its route first.
  uint32_t actionId(const std::string& name) const { return model_ ? model_->route_id(name) : 0; }
  // One name by id ("" out of range): predict() names its top-k without the SDK decoding the
  // whole vocabulary at load.
  std::string actionName(uint32_t id) const {
    return model_ && id < model_->hyper().vocab_size ? model_->action_name(id) : std::string();
  }
  uint32_t typeId(const std::string& name) const { return model_ ? model_->type_id(name) : 0; }
  // Metadata and hyper-parameters as JSON (vocabularies left out: see actionNames).
  std::string metadataJson() const { return model_ ? hunch::metadata_json(model_->file()) : "{}"; }
  // Names of the types the conversion head predicts (hunch.conversion.goal_types), joined with
  // '\0' as typeNames(); empty when the model has no conversion head.
  val goalTypes() const {
    // The metadata's own list (validated by Model::load): no copy of the names.
    const hunch::MetaEntry* e = model_ ? model_->file().find_meta("hunch.conversion.goal_types") : nullptr;
    return joined(e ? &e->value.strings : nullptr);
  }

  // The attribute columns (hunch/attributes.h) joined with '\0' as typeNames(); empty without.
  val attributeColumns() const {
    const hunch::MetaEntry* e = model_ ? model_->file().find_meta("hunch.attr.columns") : nullptr;
    return joined(e ? &e->value.strings : nullptr);
  }

  const hunch::Model* model() const { return model_.get(); }

 private:
  static val joined(const std::vector<std::string>* v) {
    std::string o;
    if (v)
      for (size_t i = 0; i < v->size(); ++i) {
        if (i) o += '\0';
        o += (*v)[i];
      }
    return copy_to_js("Uint8Array", reinterpret_cast<const uint8_t*>(o.data()), o.size());
  }
  std::unique_ptr<hunch::Model> model_;
  std::string                   error_;
};

class WasmSequence {
 public:
  // The SDK keeps the WasmModel alive (and refuses to close it) while sequences exist.
  explicit WasmSequence(const WasmModel& m) : seq_(*m.model()) {}

  bool push(uint32_t action, uint32_t type, double time) {
    return ok(seq_.push({action, type, time}));
  }
  // With attributes: `values` holds one value per attribute column in the model's order, joined
  // with '\0'; an empty one means "the action's own" (attr.table). Mapped by the model
  // (AttrIndex::id: a value it does not know, or a numeric column's non-number, is <none>).
  bool pushWithAttributes(uint32_t action, uint32_t type, double time, const std::string& values) {
    hunch::Event e{action, type, time};
    const hunch::AttrIndex& ai = seq_.model().attributes();
    size_t at = 0;
    for (uint32_t k = 0; k < ai.columns() && at <= values.size(); ++k) {
      size_t end = values.find('\0', at);
      if (end == std::string::npos) end = values.size();
      if (end > at) e.attr[k] = ai.id(k, std::string_view(values.data() + at, end - at));
      at = end + 1;
    }
    return ok(seq_.push(e));
  }
  void reset() { seq_.reset(); }
  std::string lastError() const { return error_; }
  // The kind of the last failure as a stable name (hunch::error_code_name): the SDK branches on
  // it, never on lastError()'s wording. "state_for_other_model": restore() got another model's.
  std::string lastErrorCode() const { return hunch::error_code_name(code_); }
  double length() const { return double(seq_.length()); }
  double lastTime() const { return seq_.last_time(); }
  uint32_t stateBytes() const { return uint32_t(seq_.state_bytes()); }

  // Top-k into internal buffers; read them with topIds()/topProbs() (copies).
  uint32_t predict(uint32_t k) {
    if (top_.size() < k) top_.resize(k);
    n_ = seq_.predict(k, top_.data());
    ids_.resize(n_);
    probs_.resize(n_);
    for (size_t i = 0; i < n_; ++i) {
      ids_[i] = top_[i].action;
      probs_[i] = top_[i].probability;
    }
    return uint32_t(n_);
  }
  val topIds() const { return copy_to_js("Uint32Array", ids_.data(), n_); }
  val topProbs() const { return copy_to_js("Float32Array", probs_.data(), n_); }
  val typeProbs() const {
    const auto& p = seq_.type_probabilities();
    return copy_to_js("Float32Array", p.data(), seq_.length() ? p.size() : 0);
  }
  float exitProbability() const { return seq_.exit_probability(); }
  // NaN when the model has no conversion head (the SDK maps it to null).
  float conversionProbability() const { return seq_.conversion_probability(); }
  // Attention of the last step: event indices (since reset) and weights, oldest first.
  val attentionIndex() {
    seq_.attention(&att_idx_, &att_w_);
    att_idx_f_.assign(att_idx_.begin(), att_idx_.end());
    return copy_to_js("Float64Array", att_idx_f_.data(), att_idx_f_.size());
  }
  val attentionWeights() {
    seq_.attention(&att_idx_, &att_w_);
    return copy_to_js("Float32Array", att_w_.data(), att_w_.size());
  }

  val save() const {
    std::vector<uint8_t> out;
    seq_.save(&out);
    return copy_to_js("Uint8Array", out.data(), out.size());
  }
  // The state with its rings in another encoding (0 f32, 1 f16, 2 int8: hunch::StateEncoding):
  // for bench/state.mjs, which measures the options; save() is the default (int8).
  val saveEncoded(uint32_t encoding) const {
    std::vector<uint8_t> out;
    seq_.save(&out, hunch::StateEncoding(encoding > 2 ? 2 : encoding));
    return copy_to_js("Uint8Array", out.data(), out.size());
  }
  bool restore(const val& bytes) {
    const JsBytes buf = bytes_from_js(bytes);
    return ok(seq_.restore(buf.data(), buf.size()));
  }

 private:
  // Keeps a failure's message and code for lastError()/lastErrorCode(); true on success.
  bool ok(const hunch::Error& e) {
    if (!e) return true;
    error_ = e.message;
    code_ = e.code;
    return false;
  }
  hunch::Sequence                seq_;
  std::vector<hunch::Prediction> top_;
  std::vector<uint32_t>          ids_;
  std::vector<float>             probs_;
  size_t                         n_ = 0;
  std::vector<uint64_t>          att_idx_;
  std::vector<double>            att_idx_f_;
  std::vector<float>             att_w_;
  std::string                    error_;
  hunch::ErrorCode               code_ = hunch::ErrorCode::OK;
};

// Heap figures for leak tests: bytes in use by malloc, and the wasm memory size.
double heapUsed() { return double(emmalloc_dynamic_heap_size() - emmalloc_free_dynamic_memory()); }
double memoryBytes() { return double(__builtin_wasm_memory_size(0)) * 65536.0; }
std::string version() { return HUNCH_VERSION; }
std::string kernels() { return hunch::kernels_name(hunch::kernels_default()); }

EMSCRIPTEN_BINDINGS(hunch) {
  using namespace emscripten;
  class_<WasmModel>("Model")
      .constructor<>()
      .function("load", &WasmModel::load)
      .function("loaded", &WasmModel::loaded)
      .function("lastError", &WasmModel::lastError)
      .function("vocabSize", &WasmModel::vocabSize)
      .function("typeCount", &WasmModel::typeCount)
      .function("window", &WasmModel::window)
      .function("copyWindow", &WasmModel::copyWindow)
      .function("checksum", &WasmModel::checksum)
      .function("architecture", &WasmModel::architecture)
      .function("actionNames", &WasmModel::actionNames)
      .function("typeNames", &WasmModel::typeNames)
      .function("actionId", &WasmModel::actionId)
      .function("actionName", &WasmModel::actionName)
      .function("typeId", &WasmModel::typeId)
      .function("metadataJson", &WasmModel::metadataJson)
      .function("goalTypes", &WasmModel::goalTypes)
      .function("attributeColumns", &WasmModel::attributeColumns);
  class_<WasmSequence>("Sequence")
      .constructor<const WasmModel&>()
      .function("push", &WasmSequence::push)
      .function("pushWithAttributes", &WasmSequence::pushWithAttributes)
      .function("reset", &WasmSequence::reset)
      .function("lastError", &WasmSequence::lastError)
      .function("lastErrorCode", &WasmSequence::lastErrorCode)
      .function("length", &WasmSequence::length)
      .function("lastTime", &WasmSequence::lastTime)
      .function("stateBytes", &WasmSequence::stateBytes)
      .function("predict", &WasmSequence::predict)
      .function("topIds", &WasmSequence::topIds)
      .function("topProbs", &WasmSequence::topProbs)
      .function("typeProbs", &WasmSequence::typeProbs)
      .function("exitProbability", &WasmSequence::exitProbability)
      .function("conversionProbability", &WasmSequence::conversionProbability)
      .function("attentionIndex", &WasmSequence::attentionIndex)
      .function("attentionWeights", &WasmSequence::attentionWeights)
      .function("save", &WasmSequence::save)
      .function("saveEncoded", &WasmSequence::saveEncoded)
      .function("restore", &WasmSequence::restore);
  function("heapUsed", &heapUsed);
  function("memoryBytes", &memoryBytes);
  function("version", &version);
  function("kernels", &kernels);
}

// What the bench/core tools share: the model, loaded or a message, and the contexts they measure
// on, read from a `user item item …` file (bench/next-action.sh writes Amazon's that way).
#pragma once

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "hunch/model.h"
#include "hunch/sequence.h"

namespace hunch::bench {

// The model at path, or nullptr after printing "tool: the error".
inline std::unique_ptr<Model> load_model(const char* tool, const char* path) {
  std::unique_ptr<Model> model;
  if (Error e = Model::load_file(path, &model)) {
    std::fprintf(stderr, "%s: %s\n", tool, e.message.c_str());
    return nullptr;
  }
  return model;
}

// For each line with 3 or more items (at most max_contexts of them), the items but the last two
// pushed into seq one minute apart (the validation context of the leave-one-out protocol), then
// fn(pushed ids). Returns the number of contexts, or -1 after printing why it stopped.
template <class Fn>
long replay_contexts(const char* tool, const char* path, size_t max_contexts, const Model& model, Sequence* seq,
                     Fn&& fn) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "%s: cannot read %s\n", tool, path);
    return -1;
  }
  long contexts = 0;
  std::string line, user, item;
  std::vector<std::string> items;
  std::vector<uint32_t> pushed;
  while (size_t(contexts) < max_contexts && std::getline(in, line)) {
    std::istringstream ls(line);
    items.clear();
    ls >> user;
    while (ls >> item) items.push_back(item);
    if (items.size() < 3) continue;
    seq->reset();
    pushed.clear();
    for (size_t i = 0; i + 2 < items.size(); ++i) {
      Event e;
      e.action = model.action_id(items[i]);
      e.time = double(i) * 60;
      if (Error err = seq->push(e)) {
        std::fprintf(stderr, "%s: %s: %s\n", tool, path, err.message.c_str());
        return -1;
      }
      pushed.push_back(e.action);
    }
    fn(pushed);
    ++contexts;
  }
  return contexts;
}

}  // namespace hunch::bench

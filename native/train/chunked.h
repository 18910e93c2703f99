// ChunkedVector: a growable array of trivially copyable records held in fixed-size blocks, for
// ingestion's per-event records (ingest.cpp), where one copy of every event of a 10^8-event log
// is gigabytes.
//
// Why not std::vector: growing one to n elements doubles its capacity, so it holds up to 2n
// slots, and during each reallocation the old and the new array (3n) at once. Here growing
// never copies, the last block is only touched (and so only resident) as far as it is filled,
// and blocks can be handed back to the system from the front while the contents are consumed
// in order (release_front: ingestion frees its records while it builds the Dataset from them,
// so the two are never both whole). Each block is its own anonymous mapping (POSIX mmap), so a
// freed block leaves the process at once whatever malloc's heap looks like.
//
// Indexing costs a shift and a mask; the iterator is random-access, so std::sort works on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(_WIN32)
#include <cstdlib>
#else
#include <sys/mman.h>
#endif

namespace hunch::train {

template <class T, unsigned kShift = 16>
class ChunkedVector {
  static_assert(std::is_trivially_copyable<T>::value, "records are copied as bytes");

 public:
  static constexpr size_t kBlock = size_t(1) << kShift;
  static constexpr size_t kMask = kBlock - 1;

  ChunkedVector() = default;
  ChunkedVector(const ChunkedVector&) = delete;
  ChunkedVector& operator=(const ChunkedVector&) = delete;
  ChunkedVector(ChunkedVector&& o) noexcept : blocks_(std::move(o.blocks_)), size_(o.size_) { o.size_ = 0; }
  ChunkedVector& operator=(ChunkedVector&& o) noexcept {
    if (this != &o) {
      clear();
      blocks_ = std::move(o.blocks_);
      size_ = o.size_;
      o.size_ = 0;
    }
    return *this;
  }
  ~ChunkedVector() { clear(); }

  size_t size() const { return size_; }
  bool   empty() const { return size_ == 0; }
  T&       operator[](size_t i) { return blocks_[i >> kShift][i & kMask]; }
  const T& operator[](size_t i) const { return blocks_[i >> kShift][i & kMask]; }

  void push_back(const T& v) {
    if ((size_ >> kShift) == blocks_.size()) blocks_.push_back(allocate());
    blocks_[size_ >> kShift][size_ & kMask] = v;
    ++size_;
  }
  // Keeps the first n records (n <= size()) and frees the blocks past them.
  void shrink(size_t n) {
    if (n > size_) return;
    size_ = n;
    const size_t keep = (n + kMask) >> kShift;
    for (size_t b = keep; b < blocks_.size(); ++b) release(b);
    blocks_.resize(keep);
  }
  // Frees every block wholly below record n: those records must not be read again (size() and
  // the later records are unchanged).
  void release_front(size_t n) {
    for (size_t b = 0; b < (n >> kShift) && b < blocks_.size(); ++b) release(b);
  }
  void clear() {
    for (size_t b = 0; b < blocks_.size(); ++b) release(b);
    blocks_.clear();
    blocks_.shrink_to_fit();
    size_ = 0;
  }
  // Bytes of the blocks held, the last one as far as it is filled (only that part is resident).
  uint64_t bytes() const {
    size_t held = 0;
    for (T* p : blocks_) held += p != nullptr;
    const size_t unfilled = blocks_.empty() || !blocks_.back() ? 0 : blocks_.size() * kBlock - size_;
    return (uint64_t(held) * kBlock - unfilled) * sizeof(T) + blocks_.capacity() * sizeof(T*);
  }

  template <class Owner, class Ref>
  class Iter {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = std::remove_reference_t<Ref>*;
    using reference = Ref;

    Iter() = default;
    Iter(Owner* v, size_t i) : v_(v), i_(i) {}
    // iterator → const_iterator
    template <class O2, class R2, class = std::enable_if_t<!std::is_same<R2, Ref>::value>>
    Iter(const Iter<O2, R2>& o) : v_(o.v_), i_(o.i_) {}

    reference operator*() const { return (*v_)[i_]; }
    pointer   operator->() const { return &(*v_)[i_]; }
    reference operator[](difference_type d) const { return (*v_)[i_ + d]; }
    Iter& operator++() { ++i_; return *this; }
    Iter& operator--() { --i_; return *this; }
    Iter  operator++(int) { Iter t = *this; ++i_; return t; }
    Iter  operator--(int) { Iter t = *this; --i_; return t; }
    Iter& operator+=(difference_type d) { i_ += d; return *this; }
    Iter& operator-=(difference_type d) { i_ -= d; return *this; }
    friend Iter operator+(Iter a, difference_type d) { return a += d; }
    friend Iter operator+(difference_type d, Iter a) { return a += d; }
    friend Iter operator-(Iter a, difference_type d) { return a -= d; }
    friend difference_type operator-(const Iter& a, const Iter& b) {
      return static_cast<difference_type>(a.i_) - static_cast<difference_type>(b.i_);
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.i_ == b.i_; }
    friend bool operator!=(const Iter& a, const Iter& b) { return a.i_ != b.i_; }
    friend bool operator<(const Iter& a, const Iter& b) { return a.i_ < b.i_; }
    friend bool operator>(const Iter& a, const Iter& b) { return a.i_ > b.i_; }
    friend bool operator<=(const Iter& a, const Iter& b) { return a.i_ <= b.i_; }
    friend bool operator>=(const Iter& a, const Iter& b) { return a.i_ >= b.i_; }

   private:
    template <class, class> friend class Iter;
    Owner* v_ = nullptr;
    size_t i_ = 0;
  };
  using iterator = Iter<ChunkedVector, T&>;
  using const_iterator = Iter<const ChunkedVector, const T&>;
  iterator       begin() { return {this, 0}; }
  iterator       end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  static constexpr size_t kBytes = kBlock * sizeof(T);
  static T* allocate() {
#if defined(_WIN32)
    void* p = std::malloc(kBytes);
    if (!p) throw std::bad_alloc();
#else
    void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
#endif
    return static_cast<T*>(p);
  }
  void release(size_t b) {
    if (!blocks_[b]) return;
#if defined(_WIN32)
    std::free(blocks_[b]);
#else
    munmap(blocks_[b], kBytes);
#endif
    blocks_[b] = nullptr;
  }

  std::vector<T*> blocks_;
  size_t          size_ = 0;
};

}  // namespace hunch::train

#pragma once
// The pending-event set of a discrete-event simulation.
//
// EventQueue<Payload> orders events by (time, sequence number), where the sequence number
// is the order of schedule() calls: events at equal times pop first-in first-out, so a run
// never depends on how the container breaks ties.
//
// Implementation: a ladder queue (Tang, Goh & Thng, 2005) over a small heap. Events live in
// slots (payload, sequence number) that never move; the containers hold 16-byte keys (time,
// slot), and the heap breaks equal times by the slots' sequence numbers. The near future is
// a 4-ary implicit min-heap. Later times fall into "rungs": arrays of equal-width
// time buckets (unsorted vectors), each rung spanning one bucket of the rung above it, and
// times beyond every rung into an unsorted "top" vector. When the heap runs dry the next
// bucket of the lowest rung is heapified into it if small, or else split into a new,
// finer rung; an exhausted rung is dropped; when no rung is left the top is split into a
// new one (spanning the top's minimum to about its 90th percentile, so that a few
// far-future events do not stretch it). Rungs have at most kMaxRungBuckets buckets, so the
// bucket tails being appended to stay in cache and every move of a key is a streaming copy,
// like a radix sort's; the only random access per event is its slot, prefetched when its
// key enters the heap. That makes schedule+pop O(1) amortized for smooth time
// distributions. Skewed ones degrade gracefully: if the heap outgrows its bound (buckets too
// wide for the current density), everything is split again; if all events share one time,
// it is a heap of everything.
//
// Cancellation is lazy: the payload is destroyed at once and the key becomes a tombstone,
// dropped when it reaches the heap's top or its bucket is loaded or split, or when
// tombstones outnumber pending events and every container is compacted; the slot is then
// reused. The top of the heap is always a pending event, so next_time() is O(1).
// bench/event_queue_bench.cpp compares it with std::priority_queue in the hold model.
//
// An EventId names (slot, generation); the generation of a slot changes each time its event
// stops being pending, so a stale id is recognised. Ids are unique until one slot has been
// reused 2^32 times.
//
// Not thread-safe.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "sim/time.hpp"

namespace swarm::sim {

using EventId = uint64_t;

template <typename Payload>
class EventQueue {
 public:
  struct Entry {
    SimTime time;
    EventId id;
    Payload payload;
  };

  EventQueue() = default;

  // Adds an event at `at` (any time, earlier ones included) and returns its id, never 0.
  EventId schedule(SimTime at, Payload payload);

  // Returns true if `id` was pending; its payload is destroyed now and it never pops.
  // Returns false for an event already popped or cancelled, and for an unknown id.
  bool cancel(EventId id);

  // Pending (scheduled, not popped, not cancelled) events.
  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }

  // Time of the earliest pending event. REQUIRES: !empty().
  SimTime next_time() const {
    assert(!empty());
    return SimTime::from_ns(heap_[0].time);
  }

  // Removes and returns the earliest pending event (first scheduled among equal times).
  // REQUIRES: !empty().
  Entry pop();

  // Events held: pending ones plus cancelled ones not reclaimed yet. At most about twice
  // size() plus a small constant; for tests and benchmarks.
  size_t stored() const { return live_ + tombstones_; }

 private:
  static constexpr size_t kArity = 4;
  // Compaction runs when tombstones exceed this and the pending count.
  static constexpr size_t kMinTombstonesToCompact = 64;
  // A bucket (or top) this small goes straight to the heap; a larger one is split.
  static constexpr size_t kMaxLoad = 48;
  // Events per bucket a new rung is sized for, and its largest number of buckets.
  static constexpr size_t kEventsPerBucket = 8;
  static constexpr size_t kMaxRungBuckets = 512;
  static constexpr size_t kSample = 512;
  // The heap may grow to max(this, twice its size when last refilled, stored() / 16) before
  // everything is split again: that happens when the buckets are too wide for the events'
  // current density. The last term bounds the amortized cost of respreading.
  static constexpr size_t kMinHeapLimit = 256;

  struct Key {
    int64_t time;
    uint32_t slot;
  };
  struct Slot {
    std::optional<Payload> payload;  // empty: free, or a cancelled event still stored
    uint64_t seq = 0;                // schedule order of the event stored here
    uint32_t generation = 1;         // starts at 1 so that no id is 0
  };
  // Bucket b of a rung holds the times whose offset from `start` lies in
  // [b << shift, (b + 1) << shift) and below end_off. Offsets below `cursor` are consumed:
  // their times belong to the heap or to lower rungs.
  struct Rung {
    int64_t start;
    uint64_t end_off;
    uint64_t cursor;
    unsigned shift;
  };

  // (time, sequence) order. Equal times are rarer than not, and their slots are cached:
  // every key entering the heap has its slot prefetched or just written.
  bool before(const Key& a, const Key& b) const {
    if (a.time != b.time) [[likely]] return a.time < b.time;
    return slots_[a.slot].seq < slots_[b.slot].seq;
  }
  static EventId make_id(uint32_t slot, uint32_t generation) {
    return (static_cast<uint64_t>(generation) << 32) | slot;
  }
  // time - start as an unsigned offset. REQUIRES: time >= start.
  static uint64_t offset(int64_t time, int64_t start) {
    return static_cast<uint64_t>(time) - static_cast<uint64_t>(start);
  }
  static int64_t add_offset(int64_t start, uint64_t off) {
    return static_cast<int64_t>(static_cast<uint64_t>(start) + off);
  }
  bool is_dead(const Key& k) const { return !slots_[k.slot].payload; }
  // Forgets a tombstone, freeing its slot.
  void reclaim(const Key& k) {
    free_slots_.push_back(k.slot);
    --tombstones_;
  }
  // Drops the tombstones of `keys`, keeping the order of the others.
  void drop_dead(std::vector<Key>& keys);

  uint32_t take_slot();
  // Stores a key where its time belongs: heap, a rung's bucket or the top.
  void place(const Key& k);
  // Restores the invariant: the heap's top is pending, or nothing is.
  void settle() {
    if (heap_.empty() || is_dead(heap_[0])) settle_slow();
  }
  void settle_slow();
  // REQUIRES: heap empty, live_ > 0. Loads the next bucket into the heap, splitting buckets
  // and the top into rungs as needed.
  void refill();
  // Splits `keys` (no tombstones, times >= start) into a new lowest rung starting at
  // `start` and spanning at most `region` ns, with buckets sized so that `span` ns hold
  // about kEventsPerBucket keys each. Keys beyond the rung stay in `keys`. Returns the
  // rung's end offset.
  uint64_t add_rung(std::vector<Key>& keys, int64_t start, uint64_t region, uint64_t span);
  // REQUIRES: heap empty. Moves `keys` into the heap, prefetching their slots.
  void load_heap(std::vector<Key>& keys);
  // The buckets of rung r that may hold keys: from the cursor's to the last.
  std::span<std::vector<Key>> live_buckets(size_t r) {
    const Rung& rung = rungs_[r];
    if (rung.cursor >= rung.end_off) return {};
    const size_t first = rung.cursor >> rung.shift;
    const size_t end = ((rung.end_off - 1) >> rung.shift) + 1;
    return std::span<std::vector<Key>>(buckets_[r]).subspan(first, end - first);
  }
  // Moves every key to the top (see kMinHeapLimit).
  void respread();
  // Drops tombstones from every container.
  void compact();
  void reset_heap_limit() {
    heap_limit_ = std::max({kMinHeapLimit, 2 * heap_.size(), (live_ + tombstones_) / 16});
  }

  void heap_push(const Key& k) {
    heap_.emplace_back();
    sift_up(heap_.size() - 1, k);
  }
  void sift_up(size_t hole, Key key);
  // Removes heap_[0], refilling the root from the last key.
  void remove_top();
  void make_heap();

  // Where a key goes: with no rung, times < heap_end_ to the heap, the others to the top.
  // With rungs: times before the lowest rung's cursor to the heap, then the first rung
  // (lowest first) whose end is beyond the time, else the top. Ranges never overlap, and
  // every key in the heap precedes every key elsewhere.
  std::vector<Key> heap_;
  std::vector<Rung> rungs_;                              // [0] is the coarsest
  std::vector<std::vector<std::vector<Key>>> buckets_;  // [rung][bucket]; kept for reuse
  std::vector<Key> top_;
  std::vector<Key> scratch_;
  int64_t heap_end_ = std::numeric_limits<int64_t>::min();
  size_t heap_limit_ = kMinHeapLimit;
  std::vector<int64_t> sample_;

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_seq_ = 0;
  size_t live_ = 0;
  size_t tombstones_ = 0;  // cancelled keys still stored somewhere
};

template <typename Payload>
EventId EventQueue<Payload>::schedule(SimTime at, Payload payload) {
  const uint32_t slot = take_slot();
  Slot& s = slots_[slot];
  s.payload.emplace(std::move(payload));
  const EventId id = make_id(slot, s.generation);
  ++live_;
  s.seq = next_seq_++;
  place(Key{at.ns(), slot});
  // A new earliest event is on top of the heap already unless the heap was empty.
  if (heap_.empty()) settle();
  return id;
}

template <typename Payload>
bool EventQueue<Payload>::cancel(EventId id) {
  const auto slot = static_cast<uint32_t>(id);
  if (slot >= slots_.size()) return false;
  Slot& s = slots_[slot];
  if (s.generation != static_cast<uint32_t>(id >> 32) || !s.payload) return false;
  s.payload.reset();
  ++s.generation;
  --live_;
  ++tombstones_;
  if (tombstones_ > kMinTombstonesToCompact && tombstones_ > live_) compact();
  settle();
  return true;
}

template <typename Payload>
typename EventQueue<Payload>::Entry EventQueue<Payload>::pop() {
  assert(!empty());
  const Key top = heap_[0];
  Slot& s = slots_[top.slot];
  Entry entry{SimTime::from_ns(top.time), make_id(top.slot, s.generation), std::move(*s.payload)};
  s.payload.reset();
  ++s.generation;
  free_slots_.push_back(top.slot);
  --live_;
  remove_top();
  settle();
  return entry;
}

template <typename Payload>
uint32_t EventQueue<Payload>::take_slot() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  assert(slots_.size() < std::numeric_limits<uint32_t>::max());
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

template <typename Payload>
void EventQueue<Payload>::place(const Key& k) {
  const bool to_heap = rungs_.empty()
                           ? k.time < heap_end_
                           : k.time < rungs_.back().start ||
                                 offset(k.time, rungs_.back().start) < rungs_.back().cursor;
  if (to_heap) {
    heap_push(k);
    if (heap_.size() > heap_limit_) respread();
    return;
  }
  for (size_t r = rungs_.size(); r-- > 0;) {
    const Rung& rung = rungs_[r];
    const uint64_t off = offset(k.time, rung.start);
    if (off < rung.end_off) {
      buckets_[r][off >> rung.shift].push_back(k);
      return;
    }
  }
  top_.push_back(k);
}

template <typename Payload>
void EventQueue<Payload>::settle_slow() {
  for (;;) {
    while (!heap_.empty() && is_dead(heap_[0])) {
      reclaim(heap_[0]);
      remove_top();
    }
    if (!heap_.empty()) return;
    if (live_ == 0) {
      // Every key left is a tombstone: reclaim them all and start afresh.
      compact();
      rungs_.clear();
      heap_end_ = std::numeric_limits<int64_t>::min();
      return;
    }
    refill();
  }
}

template <typename Payload>
void EventQueue<Payload>::refill() {
  while (!rungs_.empty()) {
    const size_t r = rungs_.size() - 1;
    Rung& rung = rungs_[r];
    if (rung.cursor >= rung.end_off) {
      // Exhausted: its whole range now belongs to the heap.
      heap_end_ = add_offset(rung.start, rung.end_off);
      rungs_.pop_back();
      continue;
    }
    const uint64_t region_start = rung.cursor;
    const uint64_t b = region_start >> rung.shift;
    const uint64_t width = uint64_t{1} << rung.shift;
    const uint64_t bucket_first = b << rung.shift;
    rung.cursor = rung.end_off - bucket_first > width ? bucket_first + width : rung.end_off;
    std::vector<Key>& bucket = buckets_[r][b];
    drop_dead(bucket);
    if (bucket.empty()) continue;
    int64_t lo = bucket[0].time;
    int64_t hi = lo;
    for (const Key& k : bucket) {
      lo = std::min(lo, k.time);
      hi = std::max(hi, k.time);
    }
    if (bucket.size() <= kMaxLoad || lo == hi) {
      load_heap(bucket);
      return;
    }
    // Split the rest of the bucket into a finer rung; this rung resumes where it ends.
    const int64_t start = add_offset(rung.start, region_start);
    const uint64_t region = rung.cursor - region_start;
    scratch_.swap(bucket);  // add_rung may reallocate buckets_
    const uint64_t child_end = add_rung(scratch_, start, region, offset(hi, start));
    assert(scratch_.empty());
    rungs_[r].cursor = region_start + child_end;
  }
  drop_dead(top_);
  assert(!top_.empty());
  int64_t lo = top_[0].time;
  int64_t hi = lo;
  for (const Key& k : top_) {
    lo = std::min(lo, k.time);
    hi = std::max(hi, k.time);
  }
  if (top_.size() <= kMaxLoad || lo == hi) {
    // The heap takes everything; later times go to the top again. Keys at time `hi`
    // scheduled from now on follow those in the heap, so they may go to the top.
    heap_end_ = hi;
    load_heap(top_);
    return;
  }
  // Span the top's minimum to about its 90th percentile, from a strided sample.
  const size_t stride = top_.size() / kSample + 1;
  sample_.clear();
  for (size_t i = 0; i < top_.size(); i += stride) sample_.push_back(top_[i].time);
  const size_t q = sample_.size() * 9 / 10;
  std::nth_element(sample_.begin(), sample_.begin() + q, sample_.end());
  scratch_.clear();
  scratch_.swap(top_);
  add_rung(scratch_, lo, offset(std::numeric_limits<int64_t>::max(), lo),
           offset(sample_[q], lo));
  top_.swap(scratch_);  // the keys beyond the new rung stay on top
}

template <typename Payload>
uint64_t EventQueue<Payload>::add_rung(std::vector<Key>& keys, int64_t start, uint64_t region,
                                       uint64_t span) {
  // The smallest power-of-two width giving `span` fewer than `target` buckets; then as many
  // buckets (up to `target`) as the region allows.
  const size_t target = std::clamp<size_t>(keys.size() / kEventsPerBucket, 2, kMaxRungBuckets);
  unsigned shift = 0;
  while (shift < 63 && (span >> shift) >= target) ++shift;
  const uint64_t width = uint64_t{1} << shift;
  const uint64_t fit = (region >> shift) + ((region & (width - 1)) != 0 ? 1 : 0);
  const uint64_t count = std::max<uint64_t>(1, std::min<uint64_t>(fit, target));
  const uint64_t last = (count - 1) << shift;  // < region: no overflow
  const uint64_t end_off = last + std::min(region - last, width);
  const size_t r = rungs_.size();
  rungs_.push_back(Rung{start, end_off, 0, shift});
  if (buckets_.size() <= r) buckets_.resize(r + 1);
  if (buckets_[r].size() < count) buckets_[r].resize(count);
  std::vector<std::vector<Key>>& buckets = buckets_[r];
  size_t kept = 0;
  for (const Key& k : keys) {
    const uint64_t off = offset(k.time, start);
    if (off < end_off) {
      buckets[off >> shift].push_back(k);
    } else {
      keys[kept++] = k;
    }
  }
  keys.resize(kept);
  return end_off;
}

template <typename Payload>
void EventQueue<Payload>::load_heap(std::vector<Key>& keys) {
  for (const Key& k : keys) __builtin_prefetch(&slots_[k.slot]);
  heap_.swap(keys);
  keys.clear();
  make_heap();
  reset_heap_limit();
}

template <typename Payload>
void EventQueue<Payload>::drop_dead(std::vector<Key>& keys) {
  if (tombstones_ == 0) return;
  size_t kept = 0;
  for (const Key& k : keys) {
    if (is_dead(k)) {
      reclaim(k);
    } else {
      keys[kept++] = k;
    }
  }
  keys.resize(kept);
}

template <typename Payload>
void EventQueue<Payload>::respread() {
  top_.insert(top_.end(), heap_.begin(), heap_.end());
  heap_.clear();
  for (size_t r = 0; r < rungs_.size(); ++r) {
    for (std::vector<Key>& bucket : live_buckets(r)) {
      top_.insert(top_.end(), bucket.begin(), bucket.end());
      bucket.clear();
    }
  }
  rungs_.clear();
  heap_end_ = std::numeric_limits<int64_t>::min();
  settle();
}

template <typename Payload>
void EventQueue<Payload>::compact() {
  drop_dead(heap_);
  make_heap();
  for (size_t r = 0; r < rungs_.size(); ++r) {
    for (std::vector<Key>& bucket : live_buckets(r)) drop_dead(bucket);
  }
  drop_dead(top_);
  assert(tombstones_ == 0);
}

template <typename Payload>
void EventQueue<Payload>::sift_up(size_t hole, Key key) {
  Key* h = heap_.data();
  while (hole > 0) {
    const size_t parent = (hole - 1) / kArity;
    if (!before(key, h[parent])) break;
    h[hole] = h[parent];
    hole = parent;
  }
  h[hole] = key;
}

template <typename Payload>
void EventQueue<Payload>::remove_top() {
  const Key last = heap_.back();
  heap_.pop_back();
  const size_t n = heap_.size();
  if (n == 0) return;
  Key* h = heap_.data();
  size_t hole = 0;
  // Walk the hole down to a leaf along the smallest children, then sift `last` up from
  // there (Floyd's bottom-up deletion: `last` is usually large, so this saves comparisons).
  for (;;) {
    const size_t first = kArity * hole + 1;
    size_t best;
    if (first + 3 < n) {
      const size_t a = before(h[first + 1], h[first]) ? first + 1 : first;
      const size_t b = before(h[first + 3], h[first + 2]) ? first + 3 : first + 2;
      best = before(h[b], h[a]) ? b : a;
    } else if (first < n) {
      best = first;
      for (size_t c = first + 1; c < n; ++c) {
        if (before(h[c], h[best])) best = c;
      }
    } else {
      break;
    }
    h[hole] = h[best];
    hole = best;
  }
  sift_up(hole, last);
}

template <typename Payload>
void EventQueue<Payload>::make_heap() {
  // Floyd's construction: sift every internal node down, last first.
  const size_t n = heap_.size();
  Key* h = heap_.data();
  for (size_t i = n < 2 ? 0 : (n - 2) / kArity + 1; i-- > 0;) {
    const Key key = h[i];
    size_t hole = i;
    for (;;) {
      const size_t first = kArity * hole + 1;
      if (first >= n) break;
      size_t best = first;
      for (size_t c = first + 1; c < first + kArity && c < n; ++c) {
        if (before(h[c], h[best])) best = c;
      }
      if (!before(h[best], key)) break;
      h[hole] = h[best];
      hole = best;
    }
    h[hole] = key;
  }
}

}  // namespace swarm::sim

#pragma once
// The pending-event set of a discrete-event simulation.
//
// EventQueue<Payload> orders events by (time, sequence number), where the sequence number
// is the order of schedule() calls: events at equal times pop first-in first-out, so a run
// never depends on how the container breaks ties.
//
// Implementation: a two-level calendar queue. Each event lives in a slot (payload, time,
// sequence) that never moves. The near future is a 4-ary implicit min-heap of small keys
// (time, sequence, slot); later times fall into an array of equal-width time buckets, each
// an unsorted list threaded through the slots; times beyond the array go to an unsorted
// overflow vector of keys. When the heap runs dry the next non-empty bucket is heapified
// into it; when the array is used up, the overflow is spread over a new array sized so that
// a bucket holds a few events (the array spans the overflow's minimum to about its 90th
// percentile, so a few far-future events do not stretch it). The heap thus stays small and
// cached, and a bucket insertion touches only the slot being written and a 4-byte list
// head: O(1) amortized per operation for smooth time distributions. Skewed ones degrade
// gracefully: if the heap outgrows its bound (buckets too wide for the current density),
// everything is spread again; if all events share one time, it is a heap of everything.
//
// Cancellation is lazy: the payload is destroyed at once and the event becomes a tombstone,
// dropped when it reaches the heap's top or its bucket is loaded, or when tombstones
// outnumber pending events and every container is compacted; the slot is then reused. The
// top of the heap is always a pending event, so next_time() is O(1).
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
  static constexpr uint32_t kNil = std::numeric_limits<uint32_t>::max();
  // Compaction runs when tombstones exceed this and the pending count.
  static constexpr size_t kMinTombstonesToCompact = 64;
  // An overflow this small goes straight to the heap.
  static constexpr size_t kDirectToHeap = 32;
  // Events per bucket the array is sized for.
  static constexpr size_t kEventsPerBucket = 4;
  static constexpr size_t kMaxBuckets = size_t{1} << 20;
  // With at most 2^20 buckets of at most 2^43 ns, the array spans at most 2^63 ns, so
  // bucket offsets never overflow.
  static constexpr unsigned kMaxShift = 43;
  static constexpr size_t kSample = 512;
  // The heap may grow to max(this, twice its size when last refilled, stored() / 16) before
  // everything is spread over a new array: that happens when the buckets are too wide for
  // the events' current density. The last term bounds the amortized cost of respreading.
  static constexpr size_t kMinHeapLimit = 256;

  struct Key {
    int64_t time;
    uint64_t seq;
    uint32_t slot;
  };
  struct Slot {
    std::optional<Payload> payload;  // empty: free, or a cancelled event still stored
    int64_t time = 0;                // key of the event stored here
    uint64_t seq = 0;
    uint32_t generation = 1;  // starts at 1 so that no id is 0
    uint32_t next = kNil;     // next slot in the same bucket
  };

  static bool before(const Key& a, const Key& b) {
    return a.time < b.time || (a.time == b.time && a.seq < b.seq);
  }
  static EventId make_id(uint32_t slot, uint32_t generation) {
    return (static_cast<uint64_t>(generation) << 32) | slot;
  }
  Key key_of(uint32_t slot) const { return Key{slots_[slot].time, slots_[slot].seq, slot}; }
  // Offset of `time` from base_. REQUIRES: time >= base_.
  uint64_t offset(int64_t time) const {
    return static_cast<uint64_t>(time) - static_cast<uint64_t>(base_);
  }
  bool is_dead(uint32_t slot) const { return !slots_[slot].payload; }
  // Forgets a tombstone, freeing its slot.
  void reclaim(uint32_t slot) {
    free_slots_.push_back(slot);
    --tombstones_;
  }

  uint32_t take_slot();
  // Stores the event of `slot` where its time belongs: heap, bucket or overflow.
  void place(uint32_t slot);
  void push_bucket(size_t bucket, uint32_t slot) {
    slots_[slot].next = bucket_head_[bucket];
    bucket_head_[bucket] = slot;
  }
  // Restores the invariant: the heap's top is pending, or nothing is.
  void settle();
  // REQUIRES: heap empty, live_ > 0. Fills the heap from the next non-empty bucket, else
  // spreads the overflow over a new bucket array (leaving the heap empty).
  void refill();
  // REQUIRES: heap empty, no bucket left. Spreads the overflow (non-empty once tombstones
  // are dropped) over a new array, or moves it to the heap if small.
  void spread_overflow();
  // Moves every event to the overflow and spreads it (see kMinHeapLimit).
  void respread();
  // Drops tombstones from the heap (then re-heapified), the buckets and the overflow.
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

  // Where events are: time < base_ or offset < heap_end_off_: heap_; offset below
  // array_end_off_: bucket offset >> shift_ (from next_bucket_ on); beyond: overflow_.
  std::vector<Key> heap_;
  std::vector<uint32_t> bucket_head_;  // first slot of each bucket's list, or kNil
  std::vector<Key> overflow_;
  int64_t base_ = std::numeric_limits<int64_t>::min();
  uint64_t heap_end_off_ = 0;
  uint64_t array_end_off_ = 0;
  unsigned shift_ = 0;
  size_t next_bucket_ = 0;  // buckets before it are empty: their times belong to the heap
  size_t num_buckets_ = 0;
  size_t heap_limit_ = kMinHeapLimit;
  std::vector<int64_t> sample_;  // scratch of spread_overflow()

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  uint64_t next_seq_ = 0;
  size_t live_ = 0;
  size_t tombstones_ = 0;  // cancelled events still stored somewhere
};

template <typename Payload>
EventId EventQueue<Payload>::schedule(SimTime at, Payload payload) {
  const uint32_t slot = take_slot();
  Slot& s = slots_[slot];
  s.payload.emplace(std::move(payload));
  s.time = at.ns();
  s.seq = next_seq_++;
  const EventId id = make_id(slot, s.generation);
  ++live_;
  place(slot);
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
  const uint32_t slot = heap_[0].slot;
  Slot& s = slots_[slot];
  Entry entry{SimTime::from_ns(s.time), make_id(slot, s.generation), std::move(*s.payload)};
  s.payload.reset();
  ++s.generation;
  free_slots_.push_back(slot);
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
  assert(slots_.size() < kNil);
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

template <typename Payload>
void EventQueue<Payload>::place(uint32_t slot) {
  const int64_t time = slots_[slot].time;
  const uint64_t off = offset(time);
  if (time < base_ || off < heap_end_off_) {
    heap_push(key_of(slot));
    if (heap_.size() > heap_limit_) respread();
  } else if (off < array_end_off_) {
    push_bucket(off >> shift_, slot);
  } else {
    overflow_.push_back(key_of(slot));
  }
}

template <typename Payload>
void EventQueue<Payload>::settle() {
  for (;;) {
    while (!heap_.empty() && is_dead(heap_[0].slot)) {
      reclaim(heap_[0].slot);
      remove_top();
    }
    if (!heap_.empty()) return;
    if (live_ == 0) {
      // Every event left is a tombstone: reclaim them all and start afresh.
      compact();
      base_ = std::numeric_limits<int64_t>::min();
      heap_end_off_ = array_end_off_ = 0;
      next_bucket_ = num_buckets_ = 0;
      return;
    }
    refill();
  }
}

template <typename Payload>
void EventQueue<Payload>::refill() {
  while (next_bucket_ < num_buckets_) {
    uint32_t slot = bucket_head_[next_bucket_];
    bucket_head_[next_bucket_++] = kNil;
    heap_end_off_ = static_cast<uint64_t>(next_bucket_) << shift_;
    while (slot != kNil) {
      const uint32_t next = slots_[slot].next;
      if (is_dead(slot)) {
        reclaim(slot);
      } else {
        heap_.push_back(key_of(slot));
      }
      slot = next;
    }
    if (!heap_.empty()) {
      make_heap();
      reset_heap_limit();
      return;
    }
  }
  spread_overflow();
}

template <typename Payload>
void EventQueue<Payload>::spread_overflow() {
  // Drop tombstones; find the range.
  size_t kept = 0;
  int64_t lo = std::numeric_limits<int64_t>::max();
  int64_t hi = std::numeric_limits<int64_t>::min();
  for (const Key& k : overflow_) {
    if (is_dead(k.slot)) {
      reclaim(k.slot);
      continue;
    }
    lo = std::min(lo, k.time);
    hi = std::max(hi, k.time);
    overflow_[kept++] = k;
  }
  overflow_.resize(kept);
  assert(kept > 0);
  base_ = lo;
  next_bucket_ = 0;
  heap_end_off_ = 0;
  if (kept <= kDirectToHeap) {
    // Everything into the heap, which then covers up to the latest time.
    heap_.swap(overflow_);
    make_heap();
    const uint64_t span = offset(hi);
    heap_end_off_ = span == std::numeric_limits<uint64_t>::max() ? span : span + 1;
    array_end_off_ = heap_end_off_;
    num_buckets_ = 0;
    reset_heap_limit();
    return;
  }
  // Size the buckets from about the 90th percentile of a strided sample.
  const size_t stride = kept / kSample + 1;
  sample_.clear();
  for (size_t i = 0; i < kept; i += stride) sample_.push_back(overflow_[i].time);
  const size_t q = sample_.size() * 9 / 10;
  std::nth_element(sample_.begin(), sample_.begin() + q, sample_.end());
  const uint64_t span = offset(sample_[q]);
  const size_t target = std::clamp<size_t>(kept * 9 / 10 / kEventsPerBucket, 1, kMaxBuckets);
  unsigned shift = 0;
  while (shift < kMaxShift && (span >> shift) >= target) ++shift;
  shift_ = shift;
  num_buckets_ = std::min<size_t>((span >> shift) + 1, kMaxBuckets);
  array_end_off_ = static_cast<uint64_t>(num_buckets_) << shift;
  if (bucket_head_.size() < num_buckets_) bucket_head_.resize(num_buckets_, kNil);
  kept = 0;
  for (const Key& k : overflow_) {
    const uint64_t off = offset(k.time);
    if (off < array_end_off_) {
      push_bucket(off >> shift, k.slot);
    } else {
      overflow_[kept++] = k;
    }
  }
  overflow_.resize(kept);
}

template <typename Payload>
void EventQueue<Payload>::respread() {
  overflow_.insert(overflow_.end(), heap_.begin(), heap_.end());
  heap_.clear();
  for (size_t b = next_bucket_; b < num_buckets_; ++b) {
    for (uint32_t slot = bucket_head_[b]; slot != kNil; slot = slots_[slot].next) {
      overflow_.push_back(key_of(slot));
    }
    bucket_head_[b] = kNil;
  }
  num_buckets_ = next_bucket_ = 0;
  spread_overflow();
  settle();
}

template <typename Payload>
void EventQueue<Payload>::compact() {
  auto filter = [this](std::vector<Key>& keys) {
    size_t kept = 0;
    for (const Key& k : keys) {
      if (is_dead(k.slot)) {
        reclaim(k.slot);
      } else {
        keys[kept++] = k;
      }
    }
    keys.resize(kept);
  };
  filter(heap_);
  make_heap();
  for (size_t b = next_bucket_; b < num_buckets_; ++b) {
    uint32_t* link = &bucket_head_[b];
    while (*link != kNil) {
      const uint32_t slot = *link;
      if (is_dead(slot)) {
        *link = slots_[slot].next;
        reclaim(slot);
      } else {
        link = &slots_[slot].next;
      }
    }
  }
  filter(overflow_);
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

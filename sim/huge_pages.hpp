#pragma once
// Transparent huge pages for the per-node arrays of large populations.
//
// Placement and the network look nodes up at random: in arrays of millions of entries each
// look-up misses the TLB as well as the cache, and the page walk (two-dimensional under a
// hypervisor) costs more than the miss itself. With 2 MiB pages the walk is shorter and its
// tables stay in the cache: a FedBuff iteration over 10 million nodes took 0.40-0.55 ms CPU on
// 4 KiB pages and 0.20-0.32 ms on huge pages (bench/README.md). Debian's kernels give huge
// pages only where asked (transparent_hugepage=madvise), so the arrays ask: their buffer is
// allocated, advised, then filled, since only pages first touched after the advice are huge.
// Arrays under 4 MiB are left alone. The advice changes no result, and where the kernel does
// not take it nothing else changes either.

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace swarm::sim {

// Asks for huge pages over the whole 2 MiB pages inside [data, data + bytes).
inline void advise_huge_pages(const void* data, size_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  if (bytes < 2 * kHuge) return;
  const uintptr_t at = reinterpret_cast<uintptr_t>(data);
  const uintptr_t begin = (at + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (at + bytes) & ~(kHuge - 1);
  // Advice only: a kernel without transparent huge pages refuses it, and nothing changes.
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

// v.reserve(n), advised for huge pages before its new entries are touched.
template <typename T>
void reserve_huge(std::vector<T>& v, size_t n) {
  if (n <= v.capacity()) return;
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(T));
}

}  // namespace swarm::sim

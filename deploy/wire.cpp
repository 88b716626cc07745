#include "deploy/wire.hpp"

#include <cerrno>

namespace swarm::deploy {
namespace {

// Frames from this size on are sent without a copy (below, a copy is cheaper than the
// bookkeeping).
constexpr size_t kZeroCopyBytes = 64 * 1024;

}  // namespace

uint64_t send_message(zmq::socket_t& socket, const Message& m, const std::string* routing_id) {
  const std::vector<Blob> frames = encode(m);
  uint64_t bytes = 0;
  if (routing_id != nullptr) {
    socket.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore);  // consumed by the ROUTER, not sent
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto b = frames[i].bytes();
    const zmq::send_flags flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    if (b.size() < kZeroCopyBytes) {
      socket.send(zmq::const_buffer(b.data(), b.size()), flags);
    } else {
      // A model or an update: ZeroMQ sends from the blob's own bytes, which a copy of the
      // blob keeps alive until its I/O thread is done with them (then frees the copy).
      auto* keep = new Blob(frames[i]);
      zmq::message_t message(const_cast<std::byte*>(b.data()), b.size(),
                             [](void*, void* hint) { delete static_cast<Blob*>(hint); }, keep);
      socket.send(message, flags);
    }
    bytes += framed_size(b.size());
  }
  return bytes;
}

std::optional<Received> receive_frames(zmq::socket_t& socket) {
  Received r;
  const auto parts = zmq::recv_multipart(socket, std::back_inserter(r.frames), zmq::recv_flags::dontwait);
  if (!parts) return std::nullopt;
  for (const zmq::message_t& f : r.frames) r.wire_bytes += framed_size(f.size());
  return r;
}

bool poll_interruptible(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout) {
  try {
    zmq::poll(items, count, timeout);
    return true;
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return false;
  }
}

Message decode_frames(const std::vector<zmq::message_t>& frames, size_t first, size_t max_bytes) {
  std::vector<std::span<const std::byte>> spans;
  for (size_t i = first; i < frames.size(); ++i) {
    spans.emplace_back(static_cast<const std::byte*>(frames[i].data()), frames[i].size());
  }
  return decode(spans, max_bytes);
}

}  // namespace swarm::deploy

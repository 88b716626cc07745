#include "deploy/wire.hpp"

#include <cerrno>

namespace swarm::deploy {

uint64_t send_message(zmq::socket_t& socket, const Message& m, const std::string* routing_id) {
  const std::vector<Blob> frames = encode(m);
  uint64_t bytes = 0;
  if (routing_id != nullptr) {
    socket.send(zmq::buffer(*routing_id), zmq::send_flags::sndmore);  // consumed by the ROUTER, not sent
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto b = frames[i].bytes();
    socket.send(zmq::const_buffer(b.data(), b.size()),
                i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
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

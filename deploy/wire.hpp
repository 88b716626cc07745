#pragma once
// ZeroMQ helpers shared by the coordinator and the node agent: sending a Message as frames,
// receiving frames into a decoded Message, and counting the bytes on the wire.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "deploy/protocol.hpp"

namespace swarm::deploy {

// Bytes a frame of `payload` bytes takes on the wire in ZMTP 3 (flags and size: 2 bytes up to
// 255, else 9), besides the payload.
inline uint64_t framed_size(size_t payload) { return payload + (payload < 256 ? 2 : 9); }

// Sends `m`, after `routing_id` when given (a ROUTER). Returns the bytes sent, framed (the
// routing id is not sent: the ROUTER consumes it).
uint64_t send_message(zmq::socket_t& socket, const Message& m, const std::string* routing_id = nullptr);

// What receive_frames() got.
struct Received {
  std::vector<zmq::message_t> frames;  // the routing id first on a ROUTER
  uint64_t wire_bytes = 0;  // every frame, framed (a ROUTER's caller subtracts the routing id)
};

// One multipart message if one is queued (never blocks), else nullopt.
std::optional<Received> receive_frames(zmq::socket_t& socket);

// zmq::poll that returns false when a signal interrupted it (the caller then checks its flags).
bool poll_interruptible(zmq::pollitem_t* items, size_t count, std::chrono::milliseconds timeout);

// Decodes frames[first..] (ProtocolError as decode()).
Message decode_frames(const std::vector<zmq::message_t>& frames, size_t first, size_t max_bytes);

}  // namespace swarm::deploy

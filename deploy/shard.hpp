#pragma once
// A node's shard folder: the datasets one node holds, written by the coordinator side from the
// scenario's partition and read by the node agent. Raw samples reach a node only this way,
// never over the wire.
//
//   DIR/shard.json           {"format": "swarmsim-shard", "version": 1, "node": ID,
//                             "datasets": {NAME: {"samples": N, "features": F, "classes": C}}}
//   DIR/NAME.features.f32    F x N float32, little-endian, one sample after the other
//   DIR/NAME.labels.u8       N bytes
//
// Samples are stored in the order of the node's view, so training on the shard reads exactly
// what training on the view reads (same numbers, bit for bit).

#include <filesystem>

#include "swarm/task_context.hpp"
#include "swarm/types.hpp"

namespace swarm::deploy {

// Writes the swarm::ml::DatasetView entries of `data` into `dir` (created). Throws UsageError
// for an entry of another type or a name that is not [A-Za-z0-9_-]+, DataError on I/O errors.
void write_shard(const std::filesystem::path& dir, NodeId node, const LocalData& data);

struct Shard {
  NodeId node = 0;
  LocalData data;  // name -> swarm::ml::DatasetView over storage of its own
};

// Reads a shard folder, refusing (DataError, naming the file) a missing or malformed manifest,
// a dataset name that would leave the folder, and files of the wrong size.
Shard read_shard(const std::filesystem::path& dir);

}  // namespace swarm::deploy

#pragma once
// The GEMM kernel of a run (training.kernel), and the memory of what `auto` chose on this
// machine.
//
// `auto` times the kernels on the model's step (ml::choose_kernel). Two kernels within a few
// percent of each other could then come out either way from one invocation to the next, and
// kernels give different numbers; so the first choice for a model is remembered in a small
// file, and every later run on the machine takes it: the same scenario and seed give the same
// numbers on every invocation. The file is keyed by the kernels' identities (library version,
// OpenBLAS's core type, Eigen's instruction sets), so another CPU, build or OPENBLAS_CORETYPE
// measures afresh. Deleting it measures again.

#include <filesystem>
#include <functional>
#include <vector>

#include "scenario/scenario.hpp"
#include "swarm/ml/kernel.hpp"

namespace swarm::scenario {

// $XDG_CACHE_HOME/swarmsim/kernels.json, else ~/.cache/swarmsim/kernels.json; empty when
// neither variable is set.
std::filesystem::path kernel_memory_file();

// The choice remembered in `file` for a model of `layers` at `batch`, or else `measure()`'s,
// then remembered there (the file locked meanwhile, so that runs starting together agree). A
// file that cannot be read, written or parsed is left alone or replaced, never an error: the
// choice is then measured and not remembered. With an empty `file`, just measure().
ml::KernelChoice remembered_kernel(const std::filesystem::path& file, const std::vector<int>& layers, int batch,
                                   const std::function<ml::KernelChoice()>& measure);

// The GEMM kernel runs of `scenario` compute with, for a model of `layers` (inputs, hidden...,
// classes): training.kernel, or when it says auto, the one remembered for the model on this
// machine (kernel_memory_file()), else the faster measured here (ml::choose_kernel).
ml::KernelChoice run_kernel(const Scenario& scenario, const std::vector<int>& layers);

}  // namespace swarm::scenario

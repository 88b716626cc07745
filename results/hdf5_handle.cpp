#include "results/hdf5_handle.hpp"

namespace swarm::results::detail {

void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string hdf5_error_message() {
  std::string message;
  // Upward: from the innermost error (the cause) to the API call; keep the first.
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* error, void* data) -> herr_t {
        auto* out = static_cast<std::string*>(data);
        if (out->empty() && error->desc != nullptr) *out = error->desc;
        return 0;
      },
      &message);
  H5Eclear2(H5E_DEFAULT);
  return message;
}

void fail(const std::string& file, const std::string& what) {
  const std::string cause = hdf5_error_message();
  throw DataError("results file " + file + ": " + what + (cause.empty() ? "" : " (HDF5: " + cause + ")"));
}

}  // namespace swarm::results::detail

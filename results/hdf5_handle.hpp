#pragma once
// Private to results/: owning handles over HDF5 C API ids, and the conversion of HDF5 failures
// into swarm::DataError naming the file.

#include <hdf5.h>

#include <string>
#include <utility>

#include "swarm/error.hpp"

namespace swarm::results::detail {

// Owns one HDF5 id and closes it with the function it was given. Move-only.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now; returns false if HDF5 reported an error.
  bool reset() {
    herr_t status = 0;
    if (id_ >= 0 && close_ != nullptr) status = close_(id_);
    id_ = H5I_INVALID_HID;
    return status >= 0;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// Turns HDF5's automatic error printing off (the errors become exceptions instead). Idempotent.
void silence_hdf5();

// The innermost message of HDF5's current error stack ("" if none), e.g. "unable to open file".
std::string hdf5_error_message();

// Throws DataError "results file FILE: WHAT: <HDF5's message>".
[[noreturn]] void fail(const std::string& file, const std::string& what);

// Checks an HDF5 call's return value (an id or a status): negative -> fail(file, what).
inline hid_t check(hid_t id, const std::string& file, const char* what) {
  if (id < 0) fail(file, what);
  return id;
}

}  // namespace swarm::results::detail

#pragma once
// Single owner of a libuv handle. The destructor closes the handle through uv_close exactly
// once; the memory is released in the close callback, when libuv is done with it.

#include <uv.h>

#include <memory>
#include <utility>

namespace popgate::net {

template <class T>
class UvHandle {
 public:
  UvHandle() : handle_(std::make_unique<T>()) {}
  ~UvHandle() { reset(); }
  UvHandle(UvHandle&& other) noexcept
      : handle_(std::move(other.handle_)), initialized_(std::exchange(other.initialized_, false)) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::move(other.handle_);
      initialized_ = std::exchange(other.initialized_, false);
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  T* get() const { return handle_.get(); }
  uv_handle_t* raw() const { return reinterpret_cast<uv_handle_t*>(handle_.get()); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_.get()); }

  // Call once uv_*_init succeeded: from then on the handle must be closed, not just freed.
  void markInitialized() { initialized_ = true; }

  void reset() {
    if (!handle_) return;
    if (!initialized_) {
      handle_.reset();
      return;
    }
    initialized_ = false;
    raw()->data = nullptr;  // callbacks still in flight (write, connect) see no owner
    uv_close(raw(), [](uv_handle_t* h) { std::unique_ptr<T> release(reinterpret_cast<T*>(h)); });
    static_cast<void>(handle_.release());
  }

 private:
  std::unique_ptr<T> handle_;
  bool initialized_ = false;
};

}  // namespace popgate::net

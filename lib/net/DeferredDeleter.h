#pragma once
// Frees objects on the next loop iteration, after the callback stack that retired them has
// unwound (a connection must not be destroyed from inside its own callbacks).

#include <uv.h>

#include <memory>
#include <vector>

#include "lib/net/UvHandle.h"

namespace popgate::net {

class DeferredDeleter {
 public:
  explicit DeferredDeleter(uv_loop_t* loop);
  ~DeferredDeleter();

  template <class T>
  void retire(std::unique_ptr<T> object) {
    pending_.push_back(std::shared_ptr<void>(std::move(object)));
    schedule();
  }
  void flush();

 private:
  void schedule();

  UvHandle<uv_idle_t> idle_;
  std::vector<std::shared_ptr<void>> pending_;
};

}  // namespace popgate::net

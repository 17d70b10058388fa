#pragma once
// The handle an asynchronous step returns (Envoy's PoolRequest::cancel(), as RAII): destroying
// it before the step's callback fired cancels the step, and the callback never fires afterwards.
// Destroying it after the callback fired (or from inside the callback) does nothing.

#include <memory>

namespace popgate {

class Cancelable {
 public:
  virtual ~Cancelable() = default;
};

using Pending = std::unique_ptr<Cancelable>;

}  // namespace popgate

#pragma once
// Reads YAML into plain values and collects every problem with its line, so that
// --check-config can list them all at once. Shared by the top-level loader (proxy/config) and
// every backend kind, which parses its own section: one wording and one line numbering for all.
// yaml-cpp's conversion exceptions are caught here and nowhere else.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "lib/config/EnvExpansion.h"

namespace popgate::config {

struct ConfigProblem {
  int line = 0;  // 1-based; 0 when no line applies
  std::string message;
};

class ConfigReader {
 public:
  ConfigReader(std::vector<ConfigProblem>& problems, std::vector<ConfigProblem>& warnings)
      : problems_(problems), warnings_(warnings) {}

  void problem(const YAML::Node& node, std::string message);
  void warning(const YAML::Node& node, std::string message);

  // False (and a problem) unless `node` is a mapping; reports keys that are not in `known`.
  bool mapping(const YAML::Node& node, const std::string& where,
               const std::set<std::string>& known);

  template <class T>
  bool scalar(const YAML::Node& node, const std::string& what, T& out) {
    if (!node.IsScalar()) {
      problem(node, what + " must be a scalar");
      return false;
    }
    std::string text;
    if (!expand(node, what, text)) return false;
    try {
      // Only a value that referred to the environment is converted from its expansion: the
      // others keep yaml-cpp's own conversion of the node.
      out = text == node.Scalar() ? node.as<T>() : YAML::Node(text).as<T>();
      return true;
    } catch (const YAML::Exception&) {
      problem(node, what + " has an invalid value '" + text + "'");
      return false;
    }
  }

  void port(const YAML::Node& node, const std::string& what, int& out);
  // Whole seconds from `min` to 86400 (one day). False (and a problem) when not.
  bool seconds(const YAML::Node& node, const std::string& what, std::chrono::seconds& out,
               long min = 1);
  // A whole number from `min` to `max`.
  bool count(const YAML::Node& node, const std::string& what, std::size_t& out, std::size_t min,
             std::size_t max = 10'000'000);

  bool failed() const { return !problems_.empty(); }

  // Where ${NAME} references in values are looked up (lib/config/EnvExpansion.h); the process
  // environment unless a test says otherwise.
  void setEnvironment(EnvironmentLookup lookup) { environment_ = std::move(lookup); }

 private:
  // The node's scalar with ${NAME} references expanded; false (and a problem) when one fails.
  bool expand(const YAML::Node& node, const std::string& what, std::string& out);

  EnvironmentLookup environment_ = processEnvironment;
  std::vector<ConfigProblem>& problems_;
  std::vector<ConfigProblem>& warnings_;
};

}  // namespace popgate::config

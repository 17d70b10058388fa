#include "lib/config/ConfigReader.h"

namespace popgate::config {

void ConfigReader::problem(const YAML::Node& node, std::string message) {
  problems_.push_back({node.Mark().line + 1, std::move(message)});
}

void ConfigReader::warning(const YAML::Node& node, std::string message) {
  warnings_.push_back({node.Mark().line + 1, std::move(message)});
}

bool ConfigReader::mapping(const YAML::Node& node, const std::string& where,
                           const std::set<std::string>& known) {
  if (!node.IsMap()) {
    problem(node, where + " must be a mapping");
    return false;
  }
  for (const auto& item : node) {
    std::string key = item.first.as<std::string>("");
    if (!known.count(key)) problem(item.first, "unknown key '" + key + "' in " + where);
  }
  return true;
}

bool ConfigReader::expand(const YAML::Node& node, const std::string& what, std::string& out) {
  const std::string& text = node.Scalar();
  if (text.find('$') == std::string::npos) {
    out = text;
    return true;
  }
  auto expanded = expandEnvironment(text, environment_);
  if (!expanded) {
    problem(node, what + ": " + expanded.error().detail);
    return false;
  }
  out = std::move(expanded.value());
  return true;
}

void ConfigReader::port(const YAML::Node& node, const std::string& what, int& out) {
  if (scalar(node, what, out) && (out < 1 || out > 65535)) {
    problem(node, what + " must be between 1 and 65535");
  }
}

bool ConfigReader::seconds(const YAML::Node& node, const std::string& what,
                           std::chrono::seconds& out, long min) {
  long value = 0;
  if (!scalar(node, what, value)) return false;
  if (value < min || value > 86400) {
    problem(node, what + " must be between " + std::to_string(min) + " and 86400");
    return false;
  }
  out = std::chrono::seconds(value);
  return true;
}

bool ConfigReader::count(const YAML::Node& node, const std::string& what, std::size_t& out,
                         std::size_t min, std::size_t max) {
  long long value = 0;
  if (!scalar(node, what, value)) return false;
  if (value < 0 || static_cast<unsigned long long>(value) < min ||
      static_cast<unsigned long long>(value) > max) {
    problem(node, what + " must be between " + std::to_string(min) + " and " + std::to_string(max));
    return false;
  }
  out = static_cast<std::size_t>(value);
  return true;
}

}  // namespace popgate::config

# Shared by scripts/test.sh and scripts/deep_checks.sh (sourced, from the repository's root):
# timed phases reported at exit, also when one fails, and -Werror builds in Ninja directories.

jobs="$(nproc)"
timings=()
report() {
  local status=$?
  if [ ${#timings[@]} -gt 0 ]; then
    echo "== phase timings"
    printf '%s\n' "${timings[@]}"
  fi
  return "$status"
}
trap report EXIT
# phase NAME COMMAND...: runs COMMAND and records how long it took.
phase() {
  local name="$1" start=$SECONDS
  shift
  echo "== $name"
  "$@"
  timings+=("$(printf '%5d s  %s' $((SECONDS - start)) "$name")")
}
# configure DIR ARGS...: Ninja for a new build directory; an existing one keeps its generator.
configure() {
  local dir="$1"
  shift
  local generator=()
  if [ ! -f "$dir/CMakeCache.txt" ]; then generator=(-G Ninja); fi
  cmake -S . -B "$dir" "${generator[@]}" -DPOPGATE_WERROR=ON "$@"
}
build() {
  configure "$@"
  cmake --build "$1" -j"$jobs"
}

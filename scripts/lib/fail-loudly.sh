# Sourced first by every shell script of the project. Under `set -e` a failing command ends the
# script, and in places (`x=$(…)`, pipelines under pipefail, the last command of a function) it
# ends it without a word. This ERR trap makes every such end say what stopped: the script, the step
# in progress (set with `station_step`), the command, its exit status and where it stands.
# Commands whose failure is expected must be handled where they run (`|| …`, `if …`).
set -Eeuo pipefail

STATION_STEP=${STATION_STEP:-}
station_step() { STATION_STEP="$*"; }

_station_fail_loudly() {
  local status=$? command=$BASH_COMMAND
  # Report once, in the shell that stops: a failure inside $(…) or ( … ) also fails the command
  # around it, and the parent reports that with its own step and line.
  if [ "${BASH_SUBSHELL:-0}" -gt 0 ]; then return "$status"; fi
  local where="${BASH_SOURCE[1]:-$0}:${BASH_LINENO[0]:-?}" verb="exited with"
  # `return 1` says little: show the line that called the function that gave up (the function has
  # printed its reason before).
  local file=${BASH_SOURCE[1]:-} line=${BASH_LINENO[0]:-0}
  if [[ $command == return* ]] && [ -f "$file" ]; then
    command=$(sed -n "${line}{s/^[[:space:]]*//;s/[[:space:]]*$//;p}" "$file" 2>/dev/null || true)
    verb="returned"
  fi
  printf '%s: FAILED%s: `%s` %s status %d (%s)\n' \
    "$(basename "$0")" "${STATION_STEP:+ in step \"$STATION_STEP\"}" "$command" "$verb" "$status" "$where" >&2
  return "$status"
}
trap _station_fail_loudly ERR

# Sourced by every script that fills the cache (~/.cache/scoring-operator, or $SCORING_CACHE): two checkouts may
# want the same entry at once, and neither may see, or move into place, the other's half-written file.
# POSIX sh, so that scripts/node24.sh can use it from whatever shell sources that.

# cache_ensure ENTRY READY BUILD [ARGS...]
# Makes the cache entry ENTRY (a file or directory) complete. `READY ARGS...` says whether it is: it runs first with no
# lock, so a cached entry costs one check and writes nothing. Otherwise, holding an exclusive flock(1) on
# DIR/.NAME.lock beside ENTRY, READY is asked again (another run may have built it while this one waited), and only
# then `BUILD ARGS...` runs with CACHE_TMP set to a new directory beside ENTRY (removed afterwards). BUILD makes its
# files there and mv's them into place: a rename within one file system, so a reader finds the old file or the whole
# new one. The lock is the kernel's and dies with its holder, so a killed run never leaves a stale one.
# Call it as a plain command under `set -e`: in an `if` or after `||`, the shell ignores errors inside BUILD.
cache_ensure() {
  _cache_entry=$1 _cache_ready=$2 _cache_build=$3
  shift 3
  "$_cache_ready" "$@" && return 0
  _cache_dir=$(dirname -- "$_cache_entry")
  mkdir -p "$_cache_dir"
  (
    set -e
    _cache_lock="$_cache_dir/.$(basename -- "$_cache_entry").lock"
    exec 9>"$_cache_lock"
    if ! flock -n 9; then
      echo "cache: waiting for another run that is making $_cache_entry ($_cache_lock)" >&2
      flock 9
    fi
    "$_cache_ready" "$@" && exit 0
    CACHE_TMP=$(mktemp -d "$_cache_dir/.tmp.XXXXXX")
    trap 'rm -rf "$CACHE_TMP"' EXIT
    "$_cache_build" "$@"
  )
}

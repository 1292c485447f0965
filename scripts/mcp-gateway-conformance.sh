#!/usr/bin/env bash
# Runs the MCP conformance suite in server mode against `agentd serve`'s gateway (/mcp) and
# compares each run with test/server/gateway-conformance-baseline.json. Exits non-zero when a
# scenario fails that the baseline does not expect.
#
#   bash scripts/mcp-gateway-conformance.sh            # every run in the baseline
#   bash scripts/mcp-gateway-conformance.sh 2026-07-28 # only runs whose id contains this
#
# The suite calls its own fixture tools, resources and prompts; a test-only MCP server
# (test/server/fixtures/conformance-server.ts) provides them, registered in a temporary
# AGENTD_HOME without a name prefix, behind a permit-all policy for its actions. The suite
# cannot send an API key, so agentd serve runs with --gateway-open (loopback only: /mcp
# without a key is the caller "anonymous"). Results go to $MCP_CONFORMANCE_OUT (default: a
# temporary directory, removed at the end). agentd serve runs in a process group of its own,
# and the script ends that group (serve and the MCP servers it started) however it exits.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
node_bin="$root/node_modules/.bin/node"
baseline="$root/test/server/gateway-conformance-baseline.json"
out=${MCP_CONFORMANCE_OUT:-}
own_out=
if [ -z "$out" ]; then
  out=$(mktemp -d -t agentd-gateway-conformance-XXXXXX)
  own_out=$out
fi
filter=${1:-}

# run-id|package version|arguments (the run ids are the baseline's keys)
runs=(
  "0.2.0-alpha.12 --requirements 2025-11-25|0.2.0-alpha.12|--requirements 2025-11-25"
  "0.2.0-alpha.12 --requirements 2026-07-28|0.2.0-alpha.12|--requirements 2026-07-28"
)

started=$SECONDS
home="$out/home"
rm -rf "$home"
mkdir -p "$home/policies"
export AGENTD_HOME="$home"
agentd() { "$node_bin" "$root/bin/agentd.js" "$@"; }

# The fixture, offered without a prefix; policies permit its actions (and only those).
if ! agentd mcp add conformance --sandbox none --no-gateway-prefix -- \
  "$node_bin" "$root/test/server/fixtures/conformance-server.ts" >"$out/mcp-add.txt" 2>&1; then
  echo "conformance: could not register the fixture server:"
  cat "$out/mcp-add.txt"
  exit 1
fi
echo 'permit (principal, action in Action::"conformance", resource);' >"$home/policies/conformance.cedar"

# Not through the agentd function: `$!` of a backgrounded function is its subshell, and killing
# that leaves node running. setsid makes node the leader of a new process group (the background
# job of a non-interactive shell is not one, so setsid execs in place and `$!` is node's pid).
setsid "$node_bin" "$root/bin/agentd.js" serve --port 0 --policy "$home/policies" --gateway-open \
  --rate-limit 100000 >"$out/serve.txt" 2>&1 &
serve_pid=$!
stop() {
  # agentd serve ends its MCP servers on SIGTERM; whatever of the group is left after 10 s is killed.
  kill -TERM -- "-$serve_pid" 2>/dev/null
  for _ in $(seq 1 100); do
    kill -0 -- "-$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$serve_pid" 2>/dev/null
  wait "$serve_pid" 2>/dev/null
  [ -n "$own_out" ] && rm -rf "$own_out"
}
trap stop EXIT
url=
for _ in $(seq 1 100); do
  url=$(grep -o 'serving on http://[^ ]*' "$out/serve.txt" | head -1 | sed 's/^serving on //; s/\x1b\[[0-9;]*m//g')
  [ -n "$url" ] && break
  if ! kill -0 "$serve_pid" 2>/dev/null; then break; fi
  sleep 0.2
done
if [ -z "$url" ]; then
  echo "conformance: agentd serve did not start:"
  cat "$out/serve.txt"
  exit 1
fi
echo "::: agentd serve at $url (gateway open, fixture 'conformance' without prefix)"

status=0
for run in "${runs[@]}"; do
  IFS='|' read -r id version args <<<"$run"
  [[ -n "$filter" && "$id" != *"$filter"* ]] && continue
  dir="$out/$(echo "$id" | tr ' /' '__')"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "::: conformance@$version server $args"
  run_started=$SECONDS
  # shellcheck disable=SC2086 # $args is a list of flags
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@$version" conformance server \
    --url "$url/mcp" $args --timeout 60000 -o "$dir/results" >"$dir/cli.txt" 2>&1
  echo "    (ran in $((SECONDS - run_started)) s${MCP_CONFORMANCE_OUT:+; output in $dir})"
  "$node_bin" scripts/mcp-conformance-compare.ts "$baseline" "$id" "$dir/results" "$dir/cli.txt" ||
    status=1
done
echo "gateway conformance: $((SECONDS - started)) s in all; $([ $status -eq 0 ] && echo 'no new failures' || echo 'NEW FAILURES')"
exit $status

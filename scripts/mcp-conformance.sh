#!/usr/bin/env bash
# Runs the MCP conformance suite against agentd's MCP client (test/mcp/conformance/client.ts)
# and compares each run with test/mcp/conformance-baseline.json. Exits non-zero when a
# scenario fails that the baseline does not expect.
#
#   bash scripts/mcp-conformance.sh            # every run in the baseline
#   bash scripts/mcp-conformance.sh 2026-07-28 # only runs whose id contains this
#
# The conformance CLI needs Node 22 (npx -p node@22); agentd's client runs on the project's
# Node 24. Results go to $MCP_CONFORMANCE_OUT (default: a temporary directory, removed at the end).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
node_bin="$root/node_modules/.bin/node"
baseline="$root/test/mcp/conformance-baseline.json"
client="$node_bin $root/test/mcp/conformance/client.ts"
out=${MCP_CONFORMANCE_OUT:-}
if [ -z "$out" ]; then
  out=$(mktemp -d -t agentd-mcp-conformance-XXXXXX)
  trap 'rm -rf "$out"' EXIT
fi
filter=${1:-}

# run-id|package version|arguments (the run ids are the baseline's keys)
runs=(
  "0.1.16 --suite all|0.1.16|--suite all"
  "0.2.0-alpha.12 --requirements 2025-11-25|0.2.0-alpha.12|--requirements 2025-11-25"
  "0.2.0-alpha.12 --requirements 2026-07-28|0.2.0-alpha.12|--requirements 2026-07-28"
  "0.2.0-alpha.12 --suite all|0.2.0-alpha.12|--suite all"
)

status=0
started=$SECONDS
for run in "${runs[@]}"; do
  IFS='|' read -r id version args <<<"$run"
  [[ -n "$filter" && "$id" != *"$filter"* ]] && continue
  dir="$out/$(echo "$id" | tr ' /' '__')"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "::: conformance@$version client $args"
  run_started=$SECONDS
  # shellcheck disable=SC2086 # $args is a list of flags
  # Scenarios run in parallel; on a busy 2-core machine the default 30 s per client is too
  # short for the OAuth flows, so each gets 2 minutes.
  npx -y -p node@22 -p "@modelcontextprotocol/conformance@$version" conformance client \
    --command "$client" $args --timeout 120000 -o "$dir/results" >"$dir/cli.txt" 2>&1
  echo "    (ran in $((SECONDS - run_started)) s${MCP_CONFORMANCE_OUT:+; output in $dir})"
  "$node_bin" scripts/mcp-conformance-compare.ts "$baseline" "$id" "$dir/results" "$dir/cli.txt" ||
    status=1
done
echo "conformance: $((SECONDS - started)) s in all; $([ $status -eq 0 ] && echo 'no new failures' || echo 'NEW FAILURES')"
exit $status

#!/usr/bin/env bash
# Installs agentd the way a user does, from the tarball `npm pack` makes, into an empty folder
# outside the repository, and uses it from there: the CLI on an example copied out of the
# package, the API from an .mjs file and from a .ts file type-checked against the shipped
# declarations, and a tool defined with defineTool as the README shows. The commands are the
# README's "Install" section. Exits non-zero on the first thing that does not work.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/agentd-package-check-XXXXXX")
trap 'rm -rf "$work"' EXIT
node24="$root/node_modules/node/bin"
# The user's machine: Node 24 on the PATH (the checkout's, which npm ci brought).
export PATH="$node24:$PATH"
export AGENTD_HOME="$work/home"
unset ANTHROPIC_API_KEY OPENAI_API_KEY
say() { printf 'package-check: %s\n' "$*"; }
fail() { printf 'package-check: FAILED: %s\n' "$*" >&2; exit 1; }

cd "$root"
say "npm pack (builds dist/)"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
[ -f "$tarball" ] || fail "npm pack made no tarball"

app="$work/app"
mkdir -p "$app"
cd "$app"
printf '{ "name": "app", "private": true, "type": "module" }\n' > package.json
say "npm install the tarball into $app"
npm install --no-audit --no-fund --loglevel=error "$tarball" @types/node@24 >/dev/null
[ -d node_modules/agentd/src ] && fail "the package ships src/"
[ -d node_modules/agentd/test ] && fail "the package ships test/"

say "npx agentd --version"
version=$(npx agentd --version)
[ "$version" = "$(node -p "require('$root/package.json').version")" ] || fail "--version printed '$version'"

say "npx agentd run on an example copied out of the package"
cp -r node_modules/agentd/examples/unit-converter ./unit-converter
out=$(npx agentd run unit-converter/agent.yaml "A marathon in km, and 100 F in C")
grep -q '42.19' <<<"$out" || fail "the example's answer lacks 42.19 km: $out"
grep -q '37.77' <<<"$out" || fail "the example's answer lacks 37.78 C: $out"

say "npx agentd init coder, then its offline demo: a fix committed on a work branch"
npx agentd init coder my-coder >/dev/null || fail "agentd init coder failed"
npx agentd policy test my-coder/policy-cases.yaml >/dev/null || fail "the coder's policy cases failed"
npx agentd run my-coder "Fix the failing test" >/dev/null 2>&1 || fail "the coder's demo failed"
[ "$(git -C my-coder/demo-repo log --format=%s -1)" = "fix slugify: one dash for each run of other characters" ] ||
  fail "the coder's demo committed no fix"
npx agentd init --list | grep -q '^security-review ' || fail "agentd init --list lacks security-review"

say "telemetry on: the OpenTelemetry SDK loads from the installed dependencies"
err=$(AGENTD_TELEMETRY=on OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:9 npx agentd run unit-converter/agent.yaml "5 miles in km" 2>&1 >/dev/null) ||
  fail "the run with telemetry on failed: $err"
grep -q 'telemetry: .* not exported to http://127.0.0.1:9/v1/traces' <<<"$err" ||
  fail "no word from the exporter about the endpoint nothing listens on: $err"
run=$(npx agentd runs list --json | head -n 1 | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).id')
npx agentd runs trace "$run" -o trace.json 2>/dev/null || fail "agentd runs trace failed"
grep -q '"invoke_agent unit-converter"' trace.json || fail "the exported trace has no invoke_agent span"

say "a tool defined with defineTool, as the README shows"
cat > tools.ts <<'EOF'
import { defineTool, z } from 'agentd';

export const shout = defineTool({
  name: 'shout',
  description: 'Upper-cases a word.',
  input: z.object({ word: z.string() }),
  idempotent: true,
  execute: ({ word }, { idempotencyKey }) => `${word.toUpperCase()} (${idempotencyKey.length > 0})`,
});
EOF
cat > script.yaml <<'EOF'
turns:
  - tool_calls: [{ name: shout, input: { word: quiet } }]
  - text: "{{results}}"
EOF
cat > agent.yaml <<'EOF'
name: shouter
model: scripted/shouter
script: ./script.yaml
instructions: Shout the word.
tools:
  - module: ./tools.ts
EOF
out=$(npx agentd run agent.yaml "shout quiet")
grep -q 'QUIET (true)' <<<"$out" || fail "the tool's result is missing: $out"

say "a tool whose schema comes from zod itself, not from agentd's z"
sed -e "s/^import { defineTool, z } from 'agentd';/import { defineTool } from 'agentd';\nimport { z } from 'zod';/" tools.ts > zod-tools.ts
sed -e 's#./tools.ts#./zod-tools.ts#' agent.yaml > zod-agent.yaml
out=$(npx agentd run zod-agent.yaml "shout quiet")
grep -q 'QUIET (true)' <<<"$out" || fail "the zod tool's result is missing: $out"

say "the fs connector's search (it runs in a worker thread) from the built package"
mkdir -p search/src
printf 'export const a = 1; // TODO: find me\n' > search/src/a.ts
cat > search/script.yaml <<'EOF'
turns:
  - tool_calls: [{ name: fs__search, input: { pattern: "TODO", path: "." } }]
  - text: "{{results}}"
EOF
cat > search/agent.yaml <<'EOF'
name: searcher
model: scripted/searcher
script: ./script.yaml
instructions: Search.
tools: [fs.search]
connectors:
  fs:
    roots: [.]
EOF
out=$(cd search && npx agentd run agent.yaml "find the TODO")
grep -q 'src/a.ts:1' <<<"$out" || fail "fs.search found nothing: $out"

say "agentd serve from the package serves the web console at /"
[ -f node_modules/agentd/console/dist/index.html ] || fail "the package has no console/dist/index.html"
serve_log="$work/serve.log"
node_modules/.bin/agentd serve --port 0 > "$serve_log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 600); do
  url=$(grep -o 'serving on http://[^ ]*' "$serve_log" | head -n 1 | cut -d' ' -f3 || true)
  [ -n "$url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$url" ] || { kill "$serve_pid" 2>/dev/null; fail "agentd serve did not start: $(cat "$serve_log")"; }
page=$(curl -fsS "$url/" || true)
kill "$serve_pid" 2>/dev/null
wait "$serve_pid" 2>/dev/null || true
grep -qi '<!doctype html' <<<"$page" || fail "GET / did not answer the console's page: ${page:0:200}"

say "the API from an .mjs file"
cat > api.mjs <<'EOF'
import { defineTool, runAgent, ScriptedModel, SqliteStore, z } from 'agentd';

const add = defineTool({
  name: 'add',
  description: 'Adds two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => String(a + b),
});
const store = new SqliteStore({ path: `${process.env.AGENTD_HOME}/api-mjs.db` });
const model = new ScriptedModel('adder', {
  turns: [{ tool_calls: [{ name: 'add', input: { a: 2, b: 3 } }] }, { text: 'sum: {{results}}' }],
});
const { runId, state } = await runAgent({
  store,
  agent: { name: 'adder', instructions: 'Add.', model, tools: [add] },
  task: 'add 2 and 3',
});
const events = await store.readEvents(runId);
await store.close();
if (state.status !== 'completed' || !state.output?.includes('5')) {
  throw new Error(`run ended ${state.status}: ${state.output}`);
}
console.log(`${state.status} in ${events.length} events: ${state.output}`);
EOF
node api.mjs | grep -q '^completed in' || fail "api.mjs"

say "the API from a .ts file, type-checked against the shipped declarations"
sed -e 's/^const add = /const add: Tool = /' \
  -e "s/^import { defineTool, runAgent, ScriptedModel, SqliteStore, z } from 'agentd';/import { defineTool, type RunResult, runAgent, ScriptedModel, SqliteStore, type Tool, z } from 'agentd';/" \
  -e 's/^const { runId, state } = await/const { runId, state }: RunResult = await/' api.mjs > api.ts
cat > tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "es2024",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "types": ["node"],
    "strict": true,
    "noEmit": true,
    "skipLibCheck": false
  },
  "include": ["api.ts", "tools.ts", "zod-tools.ts"]
}
EOF
# The checkout's compiler, so the check needs nothing more from the registry.
node "$root/node_modules/typescript/bin/tsc" -p . || fail "tsc against the shipped declarations"
echo 'const bad: number = "x"; export {};' > wrong.ts
if node "$root/node_modules/typescript/bin/tsc" --noEmit --strict --module nodenext wrong.ts >/dev/null 2>&1; then
  fail "tsc accepted a type error: the check checks nothing"
fi
node api.ts | grep -q '^completed in' || fail "api.ts"

say "an older Node gets one line saying what to do"
if [ -x /usr/bin/node ] && [ "$(/usr/bin/node -p 'process.versions.node.split(".")[0] < 22')" = true ]; then
  set +e
  message=$(/usr/bin/node node_modules/agentd/bin/agentd.js --version 2>&1)
  code=$?
  set -e
  [ "$code" = 2 ] || fail "Node $(/usr/bin/node --version): exit $code, not 2"
  grep -q '^agentd: needs Node 22.13 or newer.*npx -p node@24 -p agentd agentd --version$' <<<"$message" ||
    fail "Node $(/usr/bin/node --version) said: $message"
  say "  $message"
  say "npx -p node@24 -p <tarball> agentd --version, on that older Node"
  version=$(PATH="$(dirname /usr/bin/node):${PATH#"$node24:"}" npx --yes --loglevel=error -p node@24 -p "$tarball" agentd --version)
  [ "$version" = "$(node -p "require('$root/package.json').version")" ] || fail "npx -p node@24 printed '$version'"
else
  say "  (no older system Node here: skipped)"
fi
say "ok: $(basename "$tarball") installs and works on its own"

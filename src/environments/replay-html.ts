import type { JsonValue } from '../core/messages.ts';
import { escapeHtml as h } from '../evals/reports/html.ts';
import type { FrameStore } from './frame-store.ts';
import type { Trajectory } from './trajectory.ts';

interface Frame {
  caption: string;
  text?: string;
  image?: string;
}

/**
 * An episode as a page that plays it back: each frame is the observation after a step (a
 * world model's image, inlined as a data URI from the frame store, or the text a gridworld
 * shows), with the action, reward and return under it; play, pause and a step slider. One
 * self-contained file: no script or image from anywhere else, so it opens offline.
 */
export function replayHtml(trajectory: Trajectory, frames: FrameStore): string {
  const steps = trajectory.steps as { [key: string]: JsonValue }[];
  const first = trajectory.first_observation as { [key: string]: JsonValue } | null;
  const list: Frame[] = [frameOf('reset', first, frames)];
  let total = 0;
  for (const step of steps) {
    total += Number(step.reward ?? 0);
    const ended = step.terminated ? ' · terminated' : step.truncated ? ' · truncated' : '';
    list.push(
      frameOf(
        `step ${step.step}: ${JSON.stringify(step.action)} · reward ${step.reward} · return ${Math.round(total * 1e6) / 1e6}${ended}`,
        step.observation as { [key: string]: JsonValue },
        frames,
      ),
    );
  }
  const source = trajectory.source as { run: string; agent: string; model: string };
  const title = `${trajectory.environment} seed ${trajectory.seed}: ${source.agent} (${source.run})`;
  // The frames as JSON inside a script block: "<" escaped so no text can close the block.
  const data = JSON.stringify(list).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}
#view img{image-rendering:pixelated;width:384px;height:auto;border:1px solid #ccc}
#view pre{font:16px/1.1 ui-monospace,monospace;background:#f6f6f6;padding:.8em;display:inline-block}
#caption{margin:.6em 0;font-family:ui-monospace,monospace}
input[type=range]{width:384px}
</style></head><body>
<h1>${h(title)}</h1>
<p>${h(String(trajectory.success ? 'reached the goal' : 'did not reach the goal'))} · ${steps.length} steps · return ${h(String(trajectory.return))} · model ${h(source.model)}</p>
<div id="view"></div>
<div id="caption"></div>
<button id="play">pause</button> <input id="at" type="range" min="0" max="${list.length - 1}" value="0">
<script id="frames" type="application/json">${data}</script>
<script>
const frames = JSON.parse(document.getElementById('frames').textContent);
const view = document.getElementById('view'), caption = document.getElementById('caption');
const at = document.getElementById('at'), play = document.getElementById('play');
let i = 0, timer;
function show(n) {
  i = n; at.value = String(n);
  const f = frames[n];
  view.replaceChildren();
  if (f.image) { const img = document.createElement('img'); img.src = f.image; img.alt = f.caption; view.append(img); }
  if (f.text) { const pre = document.createElement('pre'); pre.textContent = f.text; view.append(pre); }
  caption.textContent = f.caption;
}
function start() { timer = setInterval(() => show((i + 1) % frames.length), 400); play.textContent = 'pause'; }
function stop() { clearInterval(timer); timer = undefined; play.textContent = 'play'; }
play.onclick = () => (timer ? stop() : start());
at.oninput = () => { stop(); show(Number(at.value)); };
show(0); start();
</script>
</body></html>
`;
}

function frameOf(
  caption: string,
  observation: { [key: string]: JsonValue } | null | undefined,
  frames: FrameStore,
): Frame {
  const frame: Frame = { caption };
  if (typeof observation?.text === 'string') frame.text = observation.text;
  const images = Array.isArray(observation?.images) ? observation.images : [];
  const digest = (images[0] as { digest?: unknown } | undefined)?.digest;
  if (typeof digest === 'string') {
    const bytes = frames.get(digest);
    if (bytes) frame.image = `data:image/png;base64,${bytes.toString('base64')}`;
    else frame.caption += ` (frame ${digest.slice(0, 12)} is not in ${frames.dir})`;
  }
  return frame;
}

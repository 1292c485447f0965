import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileItem {
  name: string;
  /** Share of the busy time (all samples but idle), 0..1. */
  share: number;
  ms: number;
}

export interface ProfileSummary {
  /** Time the process was busy (not idle) during the profile, in ms. */
  busyMs: number;
  idleMs: number;
  /** Self time by what it is for: the groups the README names. */
  byGroup: ProfileItem[];
  /** Self time by where the code lives: agentd's folders, packages, Node internals, GC. */
  byArea: ProfileItem[];
  /** Self time by function. */
  byFunction: ProfileItem[];
  /** Inclusive time of agentd's own functions (they and what they call). */
  agentdInclusive: ProfileItem[];
}

/** Where a function lives, as a reader would name it. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8 (program)';
    return `native ${functionName}`;
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const src = url.indexOf('/src/');
  if (src !== -1 && !url.includes('/bench/')) {
    return `agentd src/${url.slice(src + 5).split('/')[0]}`;
  }
  if (url.includes('/bench/')) return 'bench harness';
  if (url === 'node:inspector') return 'profiler';
  if (url.startsWith('node:internal/deps/undici')) return 'node: undici (fetch)';
  if (url.startsWith('node:')) {
    const parts = url.slice(5).split('/');
    return `node: ${parts[0] === 'internal' ? (parts[1] ?? 'internal') : parts[0]}`;
  }
  return url;
}

/** What an area's time is for. */
export function groupOf(area: string, functionName: string): string {
  if (
    area === 'agentd src/store' ||
    ['exec', 'run', 'prepare', 'get', 'all'].includes(functionName)
  ) {
    return 'durable log (SQLite)';
  }
  if (area.startsWith('agentd')) return 'agentd loop, model adapter, fold';
  if (
    area === 'node: undici (fetch)' ||
    ['writev', 'writeUtf8String', 'writeBuffer'].includes(functionName)
  ) {
    return 'HTTP client (undici, sockets): the raw loop pays it too';
  }
  if (area.startsWith('@ai-sdk/') || area === 'eventsource-parser' || area === 'node: webstreams') {
    return 'AI SDK provider layer (web streams, SSE and JSON parsing)';
  }
  if (area === 'zod') return 'zod (tool input validation)';
  if (area === 'GC') return 'GC';
  return 'Node and V8 (event loop, microtasks, timers, streams, errors)';
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + 14);
  const src = url.indexOf('/src/');
  if (src !== -1) return url.slice(src + 1);
  return url.replace(/^file:\/\/.*\/bench\//, 'bench/');
}

function sorted(map: Map<string, number>, total: number, limit: number): ProfileItem[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
}

export function summarizeProfile(file: string, limit = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let idle = 0;
  let busy = 0;
  const areas = new Map<string, number>();
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const area = areaOf(frame);
    if (area === 'idle') {
      idle += us;
      continue;
    }
    // The profiler's own work (starting, stopping, serialising) is not agentd's.
    if (area === 'profiler') continue;
    busy += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    const group = groupOf(area, frame.functionName);
    groups.set(group, (groups.get(group) ?? 0) + us);
    const name = frame.url
      ? `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`
      : frame.functionName;
    functions.set(name, (functions.get(name) ?? 0) + us);
    // Inclusive time of agentd functions: charge each agentd frame on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      if (!areaOf(f).startsWith('agentd')) continue;
      const key = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    byGroup: sorted(groups, busy, limit),
    byArea: sorted(areas, busy, limit),
    byFunction: sorted(functions, busy, limit),
    agentdInclusive: sorted(inclusive, busy, limit),
  };
}

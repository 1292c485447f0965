import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/agentd.js', import.meta.url));

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  /** Stops the server (SIGTERM to its process group) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * `agentd serve --port 0` as a user starts it: its own process group, a clean environment
 * with this home. Resolves with its URL once it says it is serving.
 */
export function startServe(home: string, args: string[] = []): Promise<ServeProcess> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(ANTHROPIC|OPENAI|AGENTD)_/.test(key)) env[key] = value;
  }
  Object.assign(env, { AGENTD_HOME: home, NO_COLOR: '1' });
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', ...args], {
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    await exited;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (match) resolve({ url: match[1]!, child, stop });
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.once('exit', (code) =>
      reject(new Error(`agentd serve exited ${code}: ${err.slice(-500)}`)),
    );
  });
}

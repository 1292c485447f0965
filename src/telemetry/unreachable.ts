import { connect } from 'node:net';

/**
 * Resolves with the reason when nothing accepts connections at `url` (refused, no such host);
 * never resolves when something does. Lets a command stop waiting at exit for a collector
 * that is not there, instead of sitting out the exporter's retries.
 */
export function unreachable(url: string): Promise<string> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return;
    }
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    const socket = connect({ host: target.hostname.replace(/^\[|\]$/g, ''), port });
    socket.unref();
    socket.setTimeout(0);
    socket.once('connect', () => socket.destroy());
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.destroy();
      if (
        error.code &&
        ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'].includes(
          error.code,
        )
      ) {
        resolve(`${error.code}: nothing accepts connections at ${target.host}`);
      }
    });
  });
}

import { loadConfig } from '../../config/config.ts';
import { errorMessage } from '../../core/errors.ts';
import { discoverServers } from '../../models/local/discovery.ts';
import { listGgufFiles, modelFolders } from '../../models/local/gguf-file.ts';
import { formatInt, table } from '../format.ts';

/**
 * `agentd models --local`: the GGUF files in the model folders with what their headers say,
 * and the model servers answering on 127.0.0.1, each model with the ref an agent spec writes.
 */
export async function localModelsCommand(options: { json?: boolean }): Promise<number> {
  const config = loadConfig();
  const folders = modelFolders(config.home, config.local?.modelDirs);
  // A person waits for this listing, so a slow machine gets longer than the 200 ms a run allows.
  const servers = discoverServers({
    ports: config.local?.ports,
    timeoutMs: Math.max(1000, config.local?.discoveryTimeoutMs ?? 0),
  });
  const files = listGgufFiles(folders);
  const rows: { ref: string; source: string; details: string[]; info?: object }[] = [];
  if (files.length > 0) {
    const { readGgufInfo, formatParameters } = await import('../../models/local/gguf-info.ts');
    for (const path of files) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      try {
        const info = await readGgufInfo(path);
        rows.push({
          ref: `local/${name}`,
          source: path,
          details: [
            info.architecture,
            formatParameters(info.parameters),
            info.quantization,
            info.contextLength ? formatInt(info.contextLength) : '-',
          ],
          info,
        });
      } catch (error) {
        rows.push({
          ref: `local/${name}`,
          source: path,
          details: [`unreadable: ${errorMessage(error)}`, '', '', ''],
          info: { error: errorMessage(error) },
        });
      }
    }
  }
  for (const server of await servers) {
    for (const model of server.models) {
      rows.push({
        ref: model.ref,
        source: `${server.label} ${server.baseUrl}`,
        details: [
          model.details?.family ?? '-',
          model.details?.parameters ?? '-',
          model.details?.quantization ?? '-',
          '-',
        ],
        info: { server: server.kind, baseUrl: server.baseUrl, ...model },
      });
    }
  }
  if (options.json) {
    for (const row of rows) {
      process.stdout.write(
        `${JSON.stringify({ ref: row.ref, source: row.source, ...row.info })}\n`,
      );
    }
    return 0;
  }
  if (rows.length > 0) {
    process.stdout.write(
      `${table(
        ['MODEL', 'ARCH', 'PARAMS', 'QUANT', 'CONTEXT', 'WHERE'],
        rows.map((r) => [r.ref, ...r.details, r.source]),
      )}\n\n`,
    );
  }
  process.stdout.write(
    `${rows.length === 0 ? 'No local models found. ' : ''}GGUF files are looked for in ${folders.join(', ')}; servers on 127.0.0.1 (Ollama, llama.cpp, vLLM, LM Studio) on their default ports or local.ports in ${config.configPath}.\n`,
  );
  return 0;
}

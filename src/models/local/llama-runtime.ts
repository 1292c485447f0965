import { availableParallelism } from 'node:os';
import type {
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import type { LocalChatTemplate } from '../../definition/agent-spec.ts';
import { ModelCallError } from '../model.ts';

/** How a GGUF model is loaded; the first load of a file in a process decides. */
export interface LocalLoadOptions {
  /** Tokens each sequence holds; default: what the GGUF was trained for, as far as memory allows. */
  contextSize?: number;
  /** Generations that run at once on the loaded model (default 2); more runs wait their turn. */
  sequences?: number;
  /** CPU threads (default: one fewer than the cores, at least one). */
  threads?: number;
  /** Requests that may wait for a free sequence before more are refused (default 64). */
  maxWaiting?: number;
}

export const defaultSequences = 2;
const defaultMaxWaiting = 64;

type NodeLlamaCpp = typeof import('node-llama-cpp');

let bindings: Promise<NodeLlamaCpp> | undefined;
let llamaInstance: Promise<Llama> | undefined;

/** node-llama-cpp, imported on first use: nothing else in agentd loads it. */
export function nodeLlamaCpp(): Promise<NodeLlamaCpp> {
  bindings ??= import('node-llama-cpp').catch((error: unknown) => {
    bindings = undefined;
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      throw new AgentdError(
        'model_load_failed',
        'local models need node-llama-cpp: run npm install node-llama-cpp@3 where agentd is installed',
      );
    }
    throw error;
  });
  return bindings;
}

/** The process's one llama.cpp instance: CPU, prebuilt binaries only (never a build or download). */
export function llama(): Promise<Llama> {
  llamaInstance ??= nodeLlamaCpp().then(async ({ getLlama, LlamaLogLevel }) => {
    try {
      return await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    } catch (error) {
      llamaInstance = undefined;
      throw new AgentdError(
        'model_load_failed',
        `node-llama-cpp has no prebuilt binary that loads here (${errorMessage(error)}); reinstall node-llama-cpp for this platform`,
      );
    }
  });
  return llamaInstance;
}

/** A sequence lent to one generation; `release` gives it back (once). */
export interface SequenceLease {
  sequence: LlamaContextSequence;
  release(): void;
}

/**
 * A GGUF model loaded once per process, shared by every run that names it: one context
 * with a fixed number of sequences, lent out in order of asking; the wait is bounded.
 */
export class LoadedModel {
  readonly path: string;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly chatWrapper: ChatWrapper;
  readonly llama: Llama;
  readonly #free: LlamaContextSequence[];
  readonly #waiting: { grant: (s: LlamaContextSequence) => void; fail: (e: unknown) => void }[] =
    [];
  readonly #maxWaiting: number;
  readonly #grammars = new Map<string, Promise<LlamaGrammar>>();
  readonly #wrappers = new Map<LocalChatTemplate, ChatWrapper>();
  readonly #resolveWrapper: (type: LocalChatTemplate) => ChatWrapper;

  constructor(
    path: string,
    llama: Llama,
    model: LlamaModel,
    context: LlamaContext,
    resolveWrapper: (type: LocalChatTemplate) => ChatWrapper,
    maxWaiting: number,
  ) {
    this.path = path;
    this.llama = llama;
    this.model = model;
    this.context = context;
    this.#resolveWrapper = resolveWrapper;
    this.chatWrapper = this.chatWrapperFor('auto');
    this.#maxWaiting = maxWaiting;
    this.#free = Array.from({ length: context.totalSequences }, () => context.getSequence());
  }

  get sequences(): number {
    return this.context.totalSequences;
  }

  /** Generations waiting for a sequence right now. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** A free sequence, or the next one freed; refused when too many wait, abandoned on abort. */
  acquire(signal?: AbortSignal): Promise<SequenceLease> {
    signal?.throwIfAborted();
    const free = this.#free.pop();
    if (free) return Promise.resolve(this.#lease(free));
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(
        new ModelCallError(
          `local model ${this.path} is busy: ${this.sequences} generations running and ${this.#waiting.length} waiting`,
          { retryable: true },
        ),
      );
    }
    return new Promise<SequenceLease>((resolve, reject) => {
      const entry = {
        grant: (sequence: LlamaContextSequence) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#lease(sequence));
        },
        fail: reject,
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  /**
   * The chat wrapper of a template type (`auto`: the GGUF's own template, else node-llama-cpp's
   * wrapper for the architecture), made once per type: runs sharing the model may differ.
   */
  chatWrapperFor(type: LocalChatTemplate): ChatWrapper {
    let wrapper = this.#wrappers.get(type);
    if (!wrapper) {
      wrapper = this.#resolveWrapper(type);
      this.#wrappers.set(type, wrapper);
    }
    return wrapper;
  }

  /** The grammar for a JSON schema, made once per schema and kept with the model. */
  grammarFor(schema: object): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.#grammars.get(key);
    if (!grammar) {
      // biome-ignore lint/suspicious/noExplicitAny: the schema is checked by node-llama-cpp itself
      grammar = this.llama.createGrammarForJsonSchema(schema as any);
      grammar.catch(() => this.#grammars.delete(key));
      if (this.#grammars.size >= 32) this.#grammars.delete(this.#grammars.keys().next().value!);
      this.#grammars.set(key, grammar);
    }
    return grammar;
  }

  #lease(sequence: LlamaContextSequence): SequenceLease {
    let released = false;
    return {
      sequence,
      release: () => {
        if (released) return;
        released = true;
        const next = this.#waiting.shift();
        if (next) next.grant(sequence);
        else this.#free.push(sequence);
      },
    };
  }
}

const loaded = new Map<string, Promise<LoadedModel>>();

/** The model at `path`, loaded on first use and kept for the process. */
export function loadModel(path: string, options: LocalLoadOptions = {}): Promise<LoadedModel> {
  let model = loaded.get(path);
  if (!model) {
    model = load(path, options);
    model.catch(() => loaded.delete(path));
    loaded.set(path, model);
  }
  return model;
}

/** Frees every loaded model (tests, benchmarks); later calls load again. */
export async function unloadAll(): Promise<void> {
  const models = [...loaded.values()];
  loaded.clear();
  for (const model of models) {
    const m = await model.catch(() => undefined);
    if (m) {
      await m.context.dispose();
      await m.model.dispose();
    }
  }
}

async function load(path: string, options: LocalLoadOptions): Promise<LoadedModel> {
  const instance = await llama();
  const { resolveChatWrapper } = await nodeLlamaCpp();
  let model: LlamaModel;
  try {
    model = await instance.loadModel({ modelPath: path });
  } catch (error) {
    throw new AgentdError(
      'model_load_failed',
      `${path}: node-llama-cpp could not load it: ${errorMessage(error)}`,
    );
  }
  const sequences = options.sequences ?? defaultSequences;
  let context: LlamaContext;
  try {
    context = await model.createContext({
      sequences,
      contextSize: options.contextSize ?? { max: model.trainContextSize },
      threads: options.threads ?? Math.max(1, availableParallelism() - 1),
    });
  } catch (error) {
    await model.dispose();
    throw new AgentdError(
      'model_load_failed',
      `${path}: no room for ${sequences} sequences of its context in memory (${errorMessage(error)}); lower provider.context_size or provider.sequences`,
    );
  }
  return new LoadedModel(
    path,
    instance,
    model,
    context,
    (type) => resolveChatWrapper(model, type === 'auto' ? {} : { type }),
    options.maxWaiting ?? defaultMaxWaiting,
  );
}

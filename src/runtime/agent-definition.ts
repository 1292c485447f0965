import type { Limits } from '../core/events.ts';
import type { ImageSource, Model, ModelSettings } from '../models/model.ts';
import type { Authorizer } from '../policy/authorizer.ts';
import type { Tool } from '../tools/tool.ts';
import type { CompactionSettings } from './compaction.ts';

/** What an agent is to the loop: who it is, its model, its tools and the rules it runs under. */
export interface AgentDefinition {
  name: string;
  instructions: string;
  model: Model;
  tools: readonly Tool[];
  settings?: ModelSettings;
  limits?: Partial<Limits>;
  compaction?: Partial<CompactionSettings>;
  /**
   * Decides every tool call before it runs (see src/policy). Without one, every call is
   * allowed, and the run records that no policy set applies.
   */
  policy?: Authorizer;
  /** Images tool results name by digest (a world model's frames), shown to the model. */
  images?: ImageSource;
  /** Tags every run of the agent gets (its spec's `tags:`), before the run's own. */
  tags?: readonly string[];
}

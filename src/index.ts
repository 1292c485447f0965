/** agentd's public API for tool authors and embedders. */
export { z } from 'zod';
export type { RunEvent, RunStatus } from './core/events.ts';
export type { JsonValue, Message, ToolCall, ToolResult } from './core/messages.ts';
export type { RunState } from './core/run-state.ts';
export { foldRun } from './core/run-state.ts';
export type {
  Environment,
  Observation,
  ObservationImage,
  StepResult,
} from './environments/environment.ts';
export type { StepRecord } from './environments/episode.ts';
export { Gridworld, generateGrid } from './environments/gridworld.ts';
export { type GridAction, gridActions, solveGrid } from './environments/gridworld-solver.ts';
export type { CallRecord, RunRecord, TurnRecord } from './evals/run-record.ts';
export {
  type CustomEvaluatorDefinition,
  type CustomResult,
  defineEvaluator,
  type EvalCase,
  type EvalContext,
  type Score,
} from './evals/types.ts';
export type { Model, ModelRequest, ModelStreamPart } from './models/model.ts';
export { createModel, type HostedModelOptions } from './models/providers.ts';
export {
  definePolicy,
  ScriptedModel,
  type ScriptedPolicy,
  type ScriptedTurn,
} from './models/scripted-model.ts';
export {
  type AgentDefinition,
  type RunOptions,
  type RunResult,
  runAgent,
} from './runtime/agent-loop.ts';
export { SqliteStore } from './store/sqlite/sqlite-store.ts';
export type { Store } from './store/store.ts';
export type { TeamTask } from './store/team-store.ts';
export {
  resumeTeam,
  runTeam,
  type TeamMemberSetup,
  type TeamResult,
  type TeamSetup,
} from './teams/runner.ts';
export { teamToolManifests } from './teams/tools.ts';
export { defineTool } from './tools/define-tool.ts';
export type { Tool, ToolContext } from './tools/tool.ts';

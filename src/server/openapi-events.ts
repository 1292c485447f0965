import type { RunEventType } from '../core/events.ts';

/** JSON Schema of a run's events as the API sends them (`GET /runs/{id}/events`). */
type Schema = Record<string, unknown>;

const str = { type: 'string' };
const int = { type: 'integer' };
const num = { type: 'number' };
const bool = { type: 'boolean' };
const strings = { type: 'array', items: str };
const cost = { type: ['number', 'null'] };
const json = { description: 'any JSON value' };
const verdict = { enum: ['allow', 'deny', 'needs_approval'] };

const object = (required: string[], properties: Schema): Schema => ({
  type: 'object',
  required,
  properties,
});

export const usageSchema = object(
  ['inputTokens', 'outputTokens', 'cachedInputTokens', 'cacheWriteTokens', 'reasoningTokens'],
  {
    inputTokens: int,
    outputTokens: int,
    cachedInputTokens: int,
    cacheWriteTokens: int,
    reasoningTokens: int,
  },
);

export const limitsSchema = object(['maxTurns', 'maxToolRepairs'], {
  maxTurns: int,
  maxToolRepairs: int,
  maxTokens: int,
  maxCostUsd: num,
  maxTimeMs: num,
});

const policy = {
  type: 'object',
  required: ['mode'],
  properties: {
    mode: { enum: ['none', 'enforce', 'log_only'] },
    message: str,
    dir: str,
    files: strings,
    policies: int,
    logOnlyPolicies: int,
    version: str,
    approvalTimeoutMs: num,
  },
};

/** Each event type's data: the compiler checks that every type of `RunEvent` is here. */
const eventData: Record<RunEventType, Schema> = {
  'run.started': object(['agent', 'model', 'task', 'instructions', 'tools', 'limits'], {
    agent: str,
    model: str,
    task: str,
    instructions: str,
    tools: {
      type: 'array',
      items: object(['name', 'description'], { name: str, description: str }),
    },
    limits: { $ref: '#/components/schemas/RunLimits' },
    scripted: object(['script'], { script: str }),
    specPath: str,
    cwd: str,
    parentRunId: str,
    policy,
    actor: str,
    tags: strings,
    session: object(['id'], {
      id: str,
      previousRuns: strings,
      compacted: bool,
      summary: str,
      summarized: strings,
    }),
    context: str,
    memory: object(['mode', 'namespaces', 'memories', 'tokens'], {
      mode: { enum: ['hybrid', 'full-text'] },
      note: str,
      namespaces: strings,
      memories: {
        type: 'array',
        items: object(['id', 'kind', 'trust', 'source', 'score'], {
          id: str,
          kind: str,
          trust: { enum: ['trusted', 'untrusted'] },
          source: { enum: ['user', 'model', 'tool'] },
          score: num,
        }),
      },
      instructions: str,
      tokens: int,
    }),
  }),
  'model.request': object(['turn', 'model', 'messageCount', 'toolCount'], {
    turn: int,
    model: str,
    messageCount: int,
    toolCount: int,
    effort: str,
    contextTokens: int,
    contextWindow: int,
  }),
  'model.retry': object(['turn', 'attempt', 'delayMs', 'error'], {
    turn: int,
    attempt: int,
    delayMs: num,
    status: int,
    error: str,
  }),
  'model.response': object(
    ['turn', 'text', 'toolCalls', 'usage', 'costUsd', 'stopReason', 'durationMs'],
    {
      turn: int,
      text: str,
      toolCalls: {
        type: 'array',
        items: object(['id', 'name', 'input'], { id: str, name: str, input: json }),
      },
      compaction: { type: 'object', additionalProperties: true },
      usage: { $ref: '#/components/schemas/Usage' },
      costUsd: cost,
      stopReason: {
        enum: ['end_turn', 'tool_calls', 'max_tokens', 'content_filter', 'error', 'other'],
      },
      durationMs: num,
    },
  ),
  'tool.call': object(['callId', 'name', 'input', 'idempotencyKey'], {
    callId: str,
    name: str,
    input: json,
    idempotencyKey: str,
  }),
  'tool.progress': object(['callId', 'name', 'progress'], {
    callId: str,
    name: str,
    progress: num,
    total: num,
    message: str,
  }),
  'tool.result': object(['callId', 'name', 'output', 'isError', 'durationMs'], {
    callId: str,
    name: str,
    output: json,
    isError: bool,
    errorKind: {
      enum: ['validation', 'unknown_tool', 'execution', 'cancelled', 'denied', 'in_doubt'],
    },
    durationMs: num,
  }),
  'policy.decision': object(
    [
      'callId',
      'name',
      'action',
      'principal',
      'resource',
      'decision',
      'effect',
      'mode',
      'policies',
      'reason',
      'inputDigest',
      'latencyUs',
      'auditSeq',
    ],
    {
      callId: str,
      name: str,
      action: str,
      principal: str,
      resource: str,
      decision: verdict,
      effect: verdict,
      mode: { enum: ['enforce', 'log_only'] },
      policies: strings,
      approvalPolicies: strings,
      errors: strings,
      reason: str,
      logOnly: object(['decision', 'policies'], { decision: verdict, policies: strings }),
      inputDigest: str,
      latencyUs: num,
      auditSeq: int,
    },
  ),
  'run.error': object(['code', 'message'], { code: str, message: str }),
  'run.resumed': object(['session'], {
    session: int,
    limits: { $ref: '#/components/schemas/RunLimits' },
    inDoubt: { enum: ['rerun', 'skip'] },
    policy,
  }),
  'context.compacted': object(
    [
      'mode',
      'removedMessages',
      'removedEvents',
      'tokensBefore',
      'tokensAfter',
      'summary',
      'model',
      'usage',
      'costUsd',
      'durationMs',
    ],
    {
      mode: { enum: ['runtime', 'provider'] },
      removedMessages: int,
      removedEvents: { type: 'array', items: int },
      tokensBefore: int,
      tokensAfter: int,
      summary: str,
      model: str,
      usage: { $ref: '#/components/schemas/Usage' },
      costUsd: cost,
      durationMs: num,
    },
  ),
  'run.needs_attention': object(['message', 'calls'], {
    message: str,
    calls: {
      type: 'array',
      items: object(['callId', 'name', 'input', 'idempotencyKey'], {
        callId: str,
        name: str,
        input: json,
        idempotencyKey: str,
      }),
    },
  }),
  'run.suspended': object(['reason'], { reason: str }),
  'voice.transcript': object(
    [
      'utterance',
      'text',
      'provider',
      'model',
      'segments',
      'startMs',
      'endMs',
      'finalLatencyMs',
      'costUsd',
    ],
    {
      utterance: int,
      text: str,
      provider: str,
      model: str,
      language: str,
      segments: {
        type: 'array',
        items: object(['text', 'start', 'end'], {
          text: str,
          start: num,
          end: num,
          confidence: num,
        }),
      },
      startMs: num,
      endMs: num,
      finalLatencyMs: num,
      costUsd: cost,
      audio: object(['digest', 'bytes'], { digest: str, bytes: int }),
    },
  ),
  'run.tagged': object(['added', 'removed', 'by'], { added: strings, removed: strings, by: str }),
  'user.message': object(['text', 'source'], {
    text: str,
    source: { enum: ['voice', 'text'] },
    transcriptSeq: int,
  }),
  'approval.requested': object(
    [
      'approvalId',
      'callId',
      'name',
      'action',
      'resource',
      'input',
      'policies',
      'reason',
      'expiresAt',
      'auditSeq',
    ],
    {
      approvalId: str,
      callId: str,
      name: str,
      action: str,
      resource: str,
      input: json,
      policies: strings,
      reason: str,
      expiresAt: str,
      auditSeq: int,
      resumed: { const: true },
    },
  ),
  'approval.answered': object(['approvalId', 'callId', 'name', 'answer', 'by', 'othersWaiting'], {
    approvalId: str,
    callId: str,
    name: str,
    answer: { enum: ['approved', 'denied', 'timed_out', 'cancelled', 'withdrawn'] },
    by: str,
    reason: str,
    auditSeq: int,
    othersWaiting: int,
  }),
  'budget.warning': object(['budget', 'used', 'limit'], {
    budget: { enum: ['turns', 'tokens', 'cost', 'time'] },
    used: num,
    limit: num,
  }),
  'run.finished': object(['status', 'reason', 'turns', 'usage', 'costUsd', 'durationMs'], {
    status: { enum: ['completed', 'failed', 'cancelled', 'budget_exceeded'] },
    reason: {
      enum: [
        'final_answer',
        'max_turns',
        'max_tokens',
        'max_cost',
        'max_time',
        'cancelled',
        'model_error',
        'tool_arguments_invalid',
        'internal_error',
      ],
    },
    detail: str,
    output: str,
    summary: str,
    turns: int,
    usage: { $ref: '#/components/schemas/Usage' },
    costUsd: cost,
    durationMs: num,
  }),
};

const eventName = (type: string) =>
  `RunEvent_${type.replace(/(^|[._])(\w)/g, (_, _s: string, c: string) => c.toUpperCase())}`;

/**
 * `RunEvent` (one of the event types, told apart by `type`) and a schema per type
 * (`RunEvent_ModelResponse`, ...), for the components of the OpenAPI document.
 */
export function runEventSchemas(): Record<string, Schema> {
  const schemas: Record<string, Schema> = {};
  for (const [type, data] of Object.entries(eventData)) {
    schemas[eventName(type)] = object(['runId', 'seq', 'at', 'type', 'data'], {
      runId: str,
      seq: int,
      at: { type: 'string', format: 'date-time' },
      type: { const: type },
      data,
    });
  }
  schemas.RunEvent = {
    oneOf: Object.keys(eventData).map((type) => ({
      $ref: `#/components/schemas/${eventName(type)}`,
    })),
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(
        Object.keys(eventData).map((type) => [type, `#/components/schemas/${eventName(type)}`]),
      ),
    },
  };
  schemas.Usage = usageSchema;
  schemas.RunLimits = limitsSchema;
  return schemas;
}

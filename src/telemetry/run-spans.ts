import type { EventOf, RunEvent, StopReason } from '../core/events.ts';
import type { JsonValue, Message } from '../core/messages.ts';
import type { Redactor } from '../core/redact.ts';
import { applyEvent, emptyRunState, type RunState } from '../core/run-state.ts';
import type { Usage } from '../core/usage.ts';
import { genAi, general } from './attribute-names.ts';
import type { Attributes, SpanRecord } from './span-record.ts';
import { formatTraceparent, spanIdOf } from './trace-ids.ts';

/** Where a run's spans go in a trace: its trace, and the span its segments are children of. */
export interface RunTraceContext {
  traceId: string;
  /** A caller's span (`traceparent`), or the lead's run span for a team member. */
  parent?: { spanId: string; remote: boolean };
  sampled: boolean;
}

export interface RunSpanOptions {
  /** Message text, instructions, tool arguments and results as attributes (opt-in). */
  captureContent: boolean;
  /** Applied to every piece of content before it becomes an attribute. */
  redact: Redactor;
  /** Also emit the v1.36 names that changed since (see `latestGenAiOnly`). */
  legacyNames: boolean;
}

interface OpenSpan {
  record: SpanRecord;
  /** The tool call (execute_tool) or approval it stands for. */
  callId?: string;
}

/** The error type of a segment that ended because the process running it stopped. */
export const interruptedError = 'agentd.interrupted';

/**
 * A run's spans, built from its events in order as they become durable: `invoke_agent` for
 * each segment (the first session, then each resume, linked to the one before), `chat` for
 * each model call, `execute_tool` for each tool call, with approvals and compactions of
 * their own. Times are the events' times. Feeding a stored log gives the spans that were
 * exported while it was written, with the same ids.
 */
export class RunSpans {
  readonly runId: string;
  readonly context: RunTraceContext;
  readonly #options: RunSpanOptions;
  #segment: OpenSpan | undefined;
  /** The previous segment, which a resumed one links to. */
  #previousSegment: string | undefined;
  #segmentStartMs = 0;
  #segmentSeq = 0;
  #lastMs = 0;
  #chat: OpenSpan | undefined;
  readonly #tools = new Map<string, OpenSpan>();
  readonly #approvals = new Map<string, OpenSpan>();
  /** Tool calls without a result, by call id: what a resumed segment may still run. */
  readonly #pending = new Map<string, { name: string; seq: number }>();
  #turnRetries = 0;
  #agent = '';
  #model = '';
  /** The model's attributes, the same on every span of the run (built once). */
  #modelCache: { invoke_agent: Attributes; chat: Attributes } | undefined;
  #session: string | undefined;
  #descriptions = new Map<string, string>();
  /** The fold, kept only when content is captured (the messages a model call was sent). */
  readonly #state: RunState | undefined;

  constructor(runId: string, context: RunTraceContext, options: RunSpanOptions) {
    this.runId = runId;
    this.context = context;
    this.#options = options;
    this.#state = options.captureContent ? emptyRunState(runId) : undefined;
  }

  /** Adds the next durable event; returns the spans it ended. */
  add(event: RunEvent): SpanRecord[] {
    const ended: SpanRecord[] = [];
    const at = Date.parse(event.at);
    // What a model call is sent: the fold before its request (kept only to capture content).
    const messagesBefore =
      this.#state && event.type === 'model.request' ? this.#state.messages.slice() : undefined;
    if (this.#state) applyEvent(this.#state, event);
    // A change of tags is bookkeeping, maybe long after the run stopped: no span, no time.
    if (event.type === 'run.tagged') return ended;
    switch (event.type) {
      case 'run.started':
        this.#start(event, at);
        break;
      case 'run.resumed':
        ended.push(...this.closeOpen());
        this.#resume(event, at);
        break;
      case 'model.request':
        this.#modelRequest(event, at, messagesBefore);
        break;
      case 'model.retry':
        this.#modelRetry(event, at);
        break;
      case 'model.response':
        ended.push(this.#modelResponse(event, at));
        break;
      case 'context.compacted':
        ended.push(this.#compacted(event, at));
        break;
      case 'tool.call':
      case 'policy.decision':
      case 'tool.result':
        this.#toolEvent(event, at, ended);
        break;
      case 'approval.requested':
        this.#approvalRequested(event, at);
        break;
      case 'approval.answered':
        this.#approvalAnswered(event, at, ended);
        break;
      case 'budget.warning':
        this.#segmentSpan(at).record.events.push({
          name: 'agentd.budget.warning',
          timeMs: at,
          attributes: {
            'agentd.budget.name': event.data.budget,
            'agentd.budget.used': event.data.used,
            'agentd.budget.limit': event.data.limit,
          },
        });
        break;
      case 'run.error':
        this.#runError(event, at);
        break;
      case 'run.needs_attention':
      case 'run.suspended':
      case 'run.finished':
        this.#segmentEnd(event, at, ended);
        break;
      default:
        break;
    }
    this.#lastMs = at;
    return ended;
  }

  #modelRequest(
    event: EventOf<'model.request'>,
    at: number,
    messagesBefore: Message[] | undefined,
  ): void {
    this.#turnRetries = 0;
    this.#chat = this.#open(`chat ${this.#modelId()}`, 'client', event.seq, '', at, {
      ...this.#modelAttributes('chat'),
      'agentd.turn': event.data.turn,
      'agentd.request.messages': event.data.messageCount,
      ...(event.data.effort ? { 'agentd.request.effort': event.data.effort } : {}),
      ...(event.data.contextTokens !== undefined
        ? { 'agentd.context.tokens': event.data.contextTokens }
        : {}),
      ...(messagesBefore
        ? this.#content(genAi.inputMessages, () => inputMessages(messagesBefore))
        : {}),
    });
  }

  #modelRetry(event: EventOf<'model.retry'>, at: number): void {
    const chat = this.#chatSpan(at);
    this.#turnRetries++;
    chat.record.events.push({
      name: 'agentd.model.retry',
      timeMs: at,
      attributes: {
        'agentd.retry.attempt': event.data.attempt,
        'agentd.retry.delay_ms': event.data.delayMs,
        ...(event.data.status !== undefined ? { 'agentd.retry.status': event.data.status } : {}),
      },
    });
    chat.record.attributes['agentd.model.retries'] = this.#turnRetries;
  }

  /** Ends the model call's `chat` span. */
  #modelResponse(event: EventOf<'model.response'>, at: number): SpanRecord {
    const chat = this.#chatSpan(at);
    const data = event.data;
    Object.assign(chat.record.attributes, {
      [genAi.responseModel]: this.#modelId(),
      [genAi.responseFinishReasons]: [finishReason(data.stopReason)],
      ...usageAttributes(data.usage),
      ...(data.costUsd !== null ? { 'agentd.cost_usd': data.costUsd } : {}),
      ...(data.toolCalls.length ? { 'agentd.response.tool_calls': data.toolCalls.length } : {}),
      ...this.#content(genAi.outputMessages, () => [
        {
          role: 'assistant',
          parts: assistantParts(data.text, data.toolCalls),
          finish_reason: finishReason(data.stopReason),
        },
      ]),
    });
    if (data.stopReason === 'error') this.#fail(chat.record, 'model_error');
    this.#chat = undefined;
    return this.#end(chat, at);
  }

  /** A compaction's span, from its start (its duration before the event) to the event. */
  #compacted(event: EventOf<'context.compacted'>, at: number): SpanRecord {
    const data = event.data;
    const span = this.#open('agentd.compaction', 'internal', event.seq, '', at - data.durationMs, {
      'agentd.compaction.mode': data.mode,
      'agentd.compaction.tokens_before': data.tokensBefore,
      'agentd.compaction.tokens_after': data.tokensAfter,
      'agentd.compaction.removed_messages': data.removedMessages,
      'agentd.compaction.removed_events': data.removedEvents.length,
      'agentd.compaction.model': data.model,
      ...usageAttributes(data.usage),
      ...(data.costUsd !== null ? { 'agentd.cost_usd': data.costUsd } : {}),
      ...this.#content('agentd.compaction.summary', () => data.summary),
    });
    return this.#end(span, at);
  }

  /** A tool call's `execute_tool` span: opened by the call, told the decision, ended by the result. */
  #toolEvent(
    event: EventOf<'tool.call' | 'policy.decision' | 'tool.result'>,
    at: number,
    ended: SpanRecord[],
  ): void {
    if (event.type === 'tool.call') {
      const data = event.data;
      this.#pending.set(data.callId, { name: data.name, seq: event.seq });
      this.#tools.set(
        data.callId,
        this.#toolSpan(data.callId, data.name, event.seq, '', at, data.input),
      );
    } else if (event.type === 'policy.decision') {
      const data = event.data;
      Object.assign(this.#toolOf(data.callId, data.name, at).record.attributes, {
        'agentd.policy.decision': data.decision,
        'agentd.policy.effect': data.effect,
        'agentd.policy.mode': data.mode,
        'agentd.policy.principal': data.principal,
        'agentd.policy.action': data.action,
        'agentd.policy.ids': data.policies,
        'agentd.policy.latency_us': data.latencyUs,
        'agentd.audit.seq': data.auditSeq,
      });
    } else {
      const data = event.data;
      const tool = this.#toolOf(data.callId, data.name, at);
      this.#tools.delete(data.callId);
      this.#pending.delete(data.callId);
      Object.assign(
        tool.record.attributes,
        this.#content(genAi.toolCallResult, () => contentText(data.output)),
      );
      if (data.isError) this.#fail(tool.record, data.errorKind ?? 'execution');
      ended.push(this.#end(tool, at));
    }
  }

  #approvalRequested(event: EventOf<'approval.requested'>, at: number): void {
    const data = event.data;
    const tool = this.#toolOf(data.callId, data.name, at);
    const span = this.#open(`agentd.approval ${data.name}`, 'internal', event.seq, '', at, {
      'agentd.approval.id': data.approvalId,
      [genAi.toolName]: data.name,
      [genAi.toolCallId]: data.callId,
      'agentd.policy.ids': data.policies,
      'agentd.approval.expires_at': data.expiresAt,
      ...(data.resumed ? { 'agentd.approval.resumed': true } : {}),
    });
    span.record.parentSpanId = tool.record.spanId;
    span.callId = data.callId;
    this.#approvals.set(data.approvalId, span);
  }

  #approvalAnswered(event: EventOf<'approval.answered'>, at: number, ended: SpanRecord[]): void {
    const data = event.data;
    const span = this.#approvals.get(data.approvalId);
    if (!span) return; // asked in a segment whose spans were already closed
    this.#approvals.delete(data.approvalId);
    Object.assign(span.record.attributes, {
      'agentd.approval.answer': data.answer,
      'agentd.approval.answered_by': data.by,
      'agentd.approval.wait_ms': at - span.record.startMs,
    });
    if (data.answer !== 'approved') {
      this.#toolOf(data.callId, data.name, at).record.attributes['agentd.approval.answer'] =
        data.answer;
    }
    ended.push(this.#end(span, at));
  }

  #runError(event: EventOf<'run.error'>, at: number): void {
    const segment = this.#segmentSpan(at);
    segment.record.attributes['agentd.run.error'] = event.data.code;
    segment.record.events.push({
      name: 'agentd.run.error',
      timeMs: at,
      attributes: {
        [general.errorType]: event.data.code,
        ...this.#content('agentd.error.message', () => event.data.message),
      },
    });
  }

  /** The segment ends: the run finished, paused for a person, or was suspended. */
  #segmentEnd(
    event: EventOf<'run.needs_attention' | 'run.suspended' | 'run.finished'>,
    at: number,
    ended: SpanRecord[],
  ): void {
    const segment = this.#segmentSpan(at);
    const attributes = segment.record.attributes;
    if (event.type === 'run.finished') {
      const data = event.data;
      Object.assign(attributes, {
        'agentd.run.status': data.status,
        'agentd.run.reason': data.reason,
        'agentd.run.turns': data.turns,
        ...usageAttributes(data.usage),
        ...(data.costUsd !== null ? { 'agentd.cost_usd': data.costUsd } : {}),
      });
      if (data.status === 'budget_exceeded') {
        segment.record.events.push({
          name: 'agentd.budget.exceeded',
          timeMs: at,
          attributes: { 'agentd.run.reason': data.reason },
        });
      }
      if (data.status === 'failed') {
        this.#fail(segment.record, String(attributes['agentd.run.error'] ?? data.reason));
      }
    } else {
      attributes['agentd.run.status'] =
        event.type === 'run.suspended' ? 'suspended' : 'needs_attention';
    }
    // Spans still open end with the segment: nothing more happens in it.
    ended.push(...this.#closeChildren(at, event.type === 'run.finished' ? undefined : event.type));
    ended.push(this.#end(segment, at));
    this.#segment = undefined;
  }

  /**
   * Ends every span still open at the last event: the segment stopped there (the process
   * was killed, or the log ends while the run goes on elsewhere). A resume calls it first.
   */
  closeOpen(): SpanRecord[] {
    if (!this.#segment && !this.#chat && this.#tools.size === 0) return [];
    const at = this.#lastMs;
    const ended = this.#closeChildren(at, interruptedError);
    if (this.#segment) {
      this.#fail(this.#segment.record, interruptedError);
      ended.push(this.#end(this.#segment, at));
      this.#segment = undefined;
    }
    return ended;
  }

  /**
   * The `traceparent` an MCP call of `callId` carries (SEP-414: `params._meta`): its
   * `execute_tool` span, or the one a resumed segment opens for it.
   */
  traceparentOf(callId: string): string | undefined {
    const open = this.#tools.get(callId);
    if (open)
      return formatTraceparent({ ...this.#contextOf(open.record), sampled: this.context.sampled });
    const pending = this.#pending.get(callId);
    if (!pending || !this.#segment) return undefined;
    return formatTraceparent({
      traceId: this.context.traceId,
      spanId: spanIdOf(this.runId, this.#segmentSeq, `tool:${callId}`),
      sampled: this.context.sampled,
    });
  }

  #contextOf(record: SpanRecord): { traceId: string; spanId: string } {
    return { traceId: record.traceId, spanId: record.spanId };
  }

  #start(event: EventOf<'run.started'>, at: number): void {
    const data = event.data;
    this.#agent = data.agent;
    this.#model = data.model;
    this.#session = data.session?.id;
    this.#descriptions = new Map(data.tools.map((tool) => [tool.name, tool.description]));
    const memory = data.memory;
    this.#openSegment(event.seq, at, {
      ...(data.limits.maxCostUsd !== undefined
        ? { 'agentd.run.limits.max_cost_usd': data.limits.maxCostUsd }
        : {}),
      ...(data.limits.maxTokens !== undefined
        ? { 'agentd.run.limits.max_tokens': data.limits.maxTokens }
        : {}),
      ...(data.parentRunId ? { 'agentd.run.parent_id': data.parentRunId } : {}),
      ...(data.actor ? { 'agentd.actor': data.actor } : {}),
      ...(data.tags?.length ? { 'agentd.run.tags': data.tags } : {}),
      ...(data.scripted ? { 'agentd.model.scripted': true } : {}),
      'agentd.policy.mode': data.policy?.mode ?? 'none',
      ...(data.policy && data.policy.mode !== 'none'
        ? { 'agentd.policy.version': data.policy.version }
        : {}),
      ...(memory
        ? {
            'agentd.memory.mode': memory.mode,
            'agentd.memory.recalled': memory.memories.length,
            'agentd.memory.trusted': memory.memories.filter((m) => m.trust === 'trusted').length,
            'agentd.memory.untrusted': memory.memories.filter((m) => m.trust === 'untrusted')
              .length,
            'agentd.memory.tokens': memory.tokens,
          }
        : {}),
      ...this.#content(genAi.systemInstructions, () => [
        { type: 'text', content: data.instructions },
      ]),
    });
  }

  #resume(event: EventOf<'run.resumed'>, at: number): void {
    this.#openSegment(event.seq, at, {
      'agentd.run.resume': event.data.session,
      ...(event.data.inDoubt ? { 'agentd.run.in_doubt': event.data.inDoubt } : {}),
    });
  }

  #openSegment(seq: number, at: number, attributes: Attributes): void {
    const segment = this.#open(`invoke_agent ${this.#agent}`, 'internal', seq, '', at, {
      ...this.#modelAttributes('invoke_agent'),
      [genAi.agentName]: this.#agent,
      [genAi.agentId]: this.runId,
      ...(this.#session ? { [genAi.conversationId]: this.#session } : {}),
      'agentd.run.id': this.runId,
      ...attributes,
    });
    const parent = this.context.parent;
    if (parent) segment.record.parentSpanId = parent.spanId;
    else delete segment.record.parentSpanId;
    if (parent?.remote) segment.record.parentRemote = true;
    if (this.#previousSegment) {
      segment.record.links.push({
        traceId: this.context.traceId,
        spanId: this.#previousSegment,
        attributes: { 'agentd.link': 'resumed_from' },
      });
    }
    this.#previousSegment = segment.record.spanId;
    this.#segment = segment;
    this.#segmentStartMs = at;
    this.#segmentSeq = seq;
  }

  /** The model's id without agentd's `provider/` prefix, as the provider knows it. */
  #modelId(): string {
    const slash = this.#model.indexOf('/');
    return slash > 0 ? this.#model.slice(slash + 1) : this.#model;
  }

  #modelAttributes(operation: 'invoke_agent' | 'chat'): Attributes {
    if (!this.#modelCache) {
      const slash = this.#model.indexOf('/');
      const provider = providerName(slash > 0 ? this.#model.slice(0, slash) : this.#model);
      const of = (name: string): Attributes => ({
        [genAi.operationName]: name,
        [genAi.providerName]: provider,
        ...(this.#options.legacyNames ? { [genAi.system]: provider } : {}),
        [genAi.requestModel]: this.#modelId(),
      });
      this.#modelCache = { invoke_agent: of('invoke_agent'), chat: of('chat') };
    }
    return this.#modelCache[operation];
  }

  #toolSpan(
    callId: string,
    name: string,
    seq: number,
    key: string,
    at: number,
    input?: JsonValue,
  ): OpenSpan {
    const description = this.#descriptions.get(name);
    const span = this.#open(`execute_tool ${name}`, 'internal', seq, key, at, {
      [genAi.operationName]: 'execute_tool',
      [genAi.toolName]: name,
      [genAi.toolCallId]: callId,
      [genAi.toolType]: 'function',
      ...(description ? { [genAi.toolDescription]: description } : {}),
      ...(input !== undefined
        ? this.#content(genAi.toolCallArguments, () => contentText(input))
        : {}),
    });
    span.callId = callId;
    return span;
  }

  /** The open span of a call; a call carried into a resumed segment gets its own there. */
  #toolOf(callId: string, name: string, at: number): OpenSpan {
    const open = this.#tools.get(callId);
    if (open) return open;
    const span = this.#toolSpan(
      callId,
      name,
      this.#segmentSeq,
      `tool:${callId}`,
      this.#segment ? this.#segmentStartMs : at,
    );
    span.record.attributes['agentd.tool.resumed'] = true;
    this.#tools.set(callId, span);
    return span;
  }

  /** The open model call; one made again after a resume gets its own span there. */
  #chatSpan(at: number): OpenSpan {
    if (this.#chat) return this.#chat;
    this.#chat = this.#open(
      `chat ${this.#modelId()}`,
      'client',
      this.#segmentSeq,
      'chat',
      this.#segment ? this.#segmentStartMs : at,
      {
        ...this.#modelAttributes('chat'),
        'agentd.model.resumed': true,
      },
    );
    return this.#chat;
  }

  #segmentSpan(at: number): OpenSpan {
    // Events after a segment ended (none today) would still need a home.
    this.#segment ??= this.#open(`invoke_agent ${this.#agent}`, 'internal', 0, 'orphan', at, {
      ...this.#modelAttributes('invoke_agent'),
    });
    return this.#segment;
  }

  #open(
    name: string,
    kind: SpanRecord['kind'],
    seq: number,
    key: string,
    startMs: number,
    attributes: Attributes,
  ): OpenSpan {
    const parent = this.#segment?.record.spanId;
    return {
      record: {
        name,
        kind,
        traceId: this.context.traceId,
        spanId: spanIdOf(this.runId, seq, key),
        ...(parent ? { parentSpanId: parent } : {}),
        startMs,
        endMs: startMs,
        attributes,
        links: [],
        events: [],
        status: { code: 'unset' },
      },
    };
  }

  #end(span: OpenSpan, at: number): SpanRecord {
    span.record.endMs = Math.max(at, span.record.startMs);
    return span.record;
  }

  #fail(record: SpanRecord, errorType: string): void {
    record.attributes[general.errorType] = errorType;
    record.status = { code: 'error', message: errorType };
  }

  /** Ends approvals, tool calls and the model call still open (`errorType`: why). */
  #closeChildren(at: number, errorType: string | undefined): SpanRecord[] {
    const ended: SpanRecord[] = [];
    const close = (span: OpenSpan) => {
      if (errorType === interruptedError) this.#fail(span.record, errorType);
      else if (errorType) span.record.attributes['agentd.ended_by'] = errorType;
      ended.push(this.#end(span, at));
    };
    for (const span of this.#approvals.values()) close(span);
    this.#approvals.clear();
    for (const span of this.#tools.values()) close(span);
    this.#tools.clear();
    if (this.#chat) close(this.#chat);
    this.#chat = undefined;
    return ended;
  }

  /** A content attribute, only when capture is on (`value` is computed only then), redacted. */
  #content(name: string, value: () => unknown): Attributes {
    if (!this.#options.captureContent) return {};
    const content = value();
    const text = typeof content === 'string' ? content : JSON.stringify(content);
    return { [name]: this.#options.redact(text) };
  }
}

/** agentd's provider names as the conventions' `gen_ai.provider.name` values. */
export function providerName(provider: string): string {
  switch (provider) {
    case 'anthropic':
    case 'openai':
      return provider;
    case 'openai-compatible':
      return 'openai_compatible';
    default:
      return `agentd.${provider}`;
  }
}

/** Stop reasons as the conventions' finish reasons (OpenAI's words). */
function finishReason(reason: StopReason): string {
  switch (reason) {
    case 'end_turn':
      return 'stop';
    case 'tool_calls':
      return 'tool_calls';
    case 'max_tokens':
      return 'length';
    default:
      return reason;
  }
}

function usageAttributes(usage: Usage): Attributes {
  return {
    [genAi.usageInputTokens]: usage.inputTokens,
    [genAi.usageOutputTokens]: usage.outputTokens,
    ...(usage.cachedInputTokens
      ? { [genAi.usageCacheReadInputTokens]: usage.cachedInputTokens }
      : {}),
    ...(usage.cacheWriteTokens
      ? { [genAi.usageCacheCreationInputTokens]: usage.cacheWriteTokens }
      : {}),
    ...(usage.reasoningTokens ? { [genAi.usageReasoningOutputTokens]: usage.reasoningTokens } : {}),
  };
}

function contentText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function assistantParts(
  text: string,
  toolCalls: readonly { id: string; name: string; input: JsonValue }[],
) {
  return [
    ...(text ? [{ type: 'text', content: text }] : []),
    ...toolCalls.map((call) => ({
      type: 'tool_call',
      id: call.id,
      name: call.name,
      arguments: call.input,
    })),
  ];
}

/** Messages in the conventions' input-messages schema (role and parts). */
function inputMessages(messages: readonly Message[]): unknown[] {
  return messages.map((message) => {
    if (message.role === 'user') {
      return { role: 'user', parts: [{ type: 'text', content: message.text }] };
    }
    if (message.role === 'assistant') {
      return { role: 'assistant', parts: assistantParts(message.text, message.toolCalls) };
    }
    return {
      role: 'tool',
      parts: message.results.map((result) => ({
        type: 'tool_call_response',
        id: result.callId,
        result: result.output,
      })),
    };
  });
}

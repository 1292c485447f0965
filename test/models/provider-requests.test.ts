import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { ToolCall } from '../../src/core/messages.ts';
import type { ModelRequest, ToolDefinition } from '../../src/models/model.ts';
import { FakeProvider, type RecordedRequest, reply } from '../support/fake-provider.ts';
import { type Api, apis, modelIds, modelOn, run, testKeys } from '../support/provider-models.ts';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

const instructions = 'You are a careful code reviewer. Cite file paths.';

const readFile: ToolDefinition = {
  name: 'read_file',
  description: 'Read a UTF-8 file from the workspace.',
  inputSchema: {
    type: 'object',
    properties: { path: { type: 'string', description: 'Relative path' } },
    required: ['path'],
    additionalProperties: false,
  },
};
const grep: ToolDefinition = {
  name: 'grep',
  description: 'Search files for a regular expression.',
  inputSchema: {
    type: 'object',
    properties: {
      pattern: { type: 'string' },
      paths: { type: 'array', items: { type: 'string' } },
      limit: { type: 'integer', minimum: 1 },
    },
    required: ['pattern'],
    additionalProperties: false,
  },
};

const question = 'Find the TODOs in src/models and read retry.ts.';

const firstRequest: ModelRequest = {
  instructions,
  messages: [{ role: 'user', text: question }],
  tools: [readFile, grep],
  settings: { maxOutputTokens: 2048 },
};

/** The follow-up agentd sends after running the calls: the calls, then their results. */
function followUp(calls: ToolCall[]): ModelRequest {
  const [read, search, third] = calls;
  return {
    ...firstRequest,
    messages: [
      ...firstRequest.messages,
      { role: 'assistant', text: 'Reading and searching.', toolCalls: calls },
      {
        role: 'tool',
        results: [
          {
            callId: read!.id,
            name: 'read_file',
            output: 'export const defaultRetryPolicy = {};',
            isError: false,
          },
          {
            callId: search!.id,
            name: 'grep',
            output: { matches: [{ file: 'src/models/model.ts', line: 3 }] },
            isError: false,
          },
          {
            callId: third!.id,
            name: 'read_file',
            output: 'ENOENT: no such file: src/missing.ts',
            isError: true,
          },
        ],
      },
      { role: 'user', text: 'Now summarize.' },
    ],
  };
}

const calls: ToolCall[] = [
  { id: 'call_read_1', name: 'read_file', input: { path: 'src/models/retry.ts' } },
  { id: 'call_grep_2', name: 'grep', input: { pattern: 'TODO', paths: ['src/models'] } },
  { id: 'call_read_3', name: 'read_file', input: { path: 'src/missing.ts' } },
];

async function conversation(api: Api): Promise<[RecordedRequest, RecordedRequest]> {
  fake.enqueue(reply.toolCalls(calls, { text: 'Reading and searching.' }), reply.text('Summary.'));
  const model = await modelOn(fake, api);
  const first = await run(model, firstRequest);
  expect(first.calls).toEqual(calls);
  const second = await run(model, followUp(first.calls));
  expect(second.text).toBe('Summary.');
  expect(fake.requests).toHaveLength(2);
  return [fake.requests[0]!, fake.requests[1]!];
}

const [readCall, grepCall, missingCall] = calls.map((call) => ({
  ...call,
  arguments: JSON.stringify(call.input),
}));
const grepOutput = '{"matches":[{"file":"src/models/model.ts","line":3}]}';
const fileText = 'export const defaultRetryPolicy = {};';
const missing = 'ENOENT: no such file: src/missing.ts';

test.each(apis)(
  '%s: the key goes in the provider header, to the right path and model',
  async (api) => {
    const [first, second] = await conversation(api);
    for (const sent of [first, second]) {
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe(
        api === 'anthropic'
          ? '/v1/messages'
          : api === 'openai-responses'
            ? '/v1/responses'
            : '/v1/chat/completions',
      );
      if (api === 'anthropic') {
        expect(sent.headers['x-api-key']).toBe(testKeys[api]);
        expect(sent.headers['anthropic-version']).toBe('2023-06-01');
        expect(sent.headers.authorization).toBeUndefined();
      } else {
        expect(sent.headers.authorization).toBe(`Bearer ${testKeys[api]}`);
      }
      expect(sent.body).toMatchObject({ model: modelIds[api], stream: true });
    }
  },
);

describe('anthropic messages request', () => {
  test('system prompt, tools with their schemas, then calls and results', async () => {
    const [first, second] = await conversation('anthropic');

    expect(first.body).toMatchObject({
      system: [{ type: 'text', text: instructions }],
      max_tokens: 2048,
      tools: [
        {
          name: 'read_file',
          description: readFile.description,
          input_schema: readFile.inputSchema,
        },
        { name: 'grep', description: grep.description, input_schema: grep.inputSchema },
      ],
      tool_choice: { type: 'auto' },
    });
    expect(first.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: question }] },
    ]);
    expect(second.body.system).toEqual(first.body.system);
    expect(second.body.messages).toEqual([
      {
        role: 'user',
        content: [{ type: 'text', text: 'Find the TODOs in src/models and read retry.ts.' }],
      },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Reading and searching.' },
          ...calls.map(({ id, name, input }) => ({ type: 'tool_use', id, name, input })),
        ],
      },
      {
        // Tool results travel in a user turn, with the next user text after them.
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: readCall!.id, content: fileText },
          { type: 'tool_result', tool_use_id: grepCall!.id, content: grepOutput },
          { type: 'tool_result', tool_use_id: missingCall!.id, content: missing, is_error: true },
          { type: 'text', text: 'Now summarize.' },
        ],
      },
    ]);
  });
});

describe('openai responses request', () => {
  test('instructions as a developer message, function tools, calls and outputs as items', async () => {
    const [first, second] = await conversation('openai-responses');

    expect(first.body).toMatchObject({
      max_output_tokens: 2048,
      tools: [
        {
          type: 'function',
          name: 'read_file',
          description: readFile.description,
          parameters: readFile.inputSchema,
        },
        {
          type: 'function',
          name: 'grep',
          description: grep.description,
          parameters: grep.inputSchema,
        },
      ],
      tool_choice: 'auto',
    });
    expect(first.body.input).toEqual([
      // gpt-5.1 is a reasoning model: the system prompt goes as a developer message.
      { role: 'developer', content: instructions },
      { role: 'user', content: [{ type: 'input_text', text: question }] },
    ]);
    expect(second.body.input).toEqual([
      { role: 'developer', content: instructions },
      { role: 'user', content: [{ type: 'input_text', text: question }] },
      { role: 'assistant', content: 'Reading and searching.' },
      ...[readCall!, grepCall!, missingCall!].map((call) => ({
        type: 'function_call',
        call_id: call.id,
        name: call.name,
        arguments: call.arguments,
      })),
      { type: 'function_call_output', call_id: readCall!.id, output: fileText },
      { type: 'function_call_output', call_id: grepCall!.id, output: grepOutput },
      {
        type: 'function_call_output',
        call_id: missingCall!.id,
        output: JSON.stringify({ error: missing }),
      },
      { role: 'user', content: [{ type: 'input_text', text: 'Now summarize.' }] },
    ]);
  });
});

describe.each(['openai-chat', 'openai-compatible'] as const)('%s request', (api) => {
  test('system message, function tools, assistant tool_calls and tool messages', async () => {
    const [first, second] = await conversation(api);

    expect(first.body).toMatchObject({
      max_tokens: 2048,
      stream_options: { include_usage: true },
      tools: [
        {
          type: 'function',
          function: {
            name: 'read_file',
            description: readFile.description,
            parameters: readFile.inputSchema,
          },
        },
        {
          type: 'function',
          function: { name: 'grep', description: grep.description, parameters: grep.inputSchema },
        },
      ],
      tool_choice: 'auto',
    });
    expect(first.body.messages).toEqual([
      { role: 'system', content: instructions },
      { role: 'user', content: question },
    ]);
    expect(second.body.messages).toEqual([
      { role: 'system', content: instructions },
      { role: 'user', content: question },
      {
        role: 'assistant',
        content: 'Reading and searching.',
        tool_calls: [readCall!, grepCall!, missingCall!].map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        })),
      },
      { role: 'tool', tool_call_id: readCall!.id, content: fileText },
      { role: 'tool', tool_call_id: grepCall!.id, content: grepOutput },
      {
        role: 'tool',
        tool_call_id: missingCall!.id,
        // @ai-sdk/openai wraps error text as JSON; @ai-sdk/openai-compatible sends it as is.
        content: api === 'openai-chat' ? JSON.stringify({ error: missing }) : missing,
      },
      { role: 'user', content: 'Now summarize.' },
    ]);
  });
});

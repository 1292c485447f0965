import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameStore } from '../../src/environments/frame-store.ts';
import { encodePng } from '../../src/environments/png.ts';
import type { ModelRequest } from '../../src/models/model.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { modelOn, run } from '../support/provider-models.ts';
import { tempDir } from '../support/temp-dir.ts';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterAll(() => fake.close());

describe("a world model's frames reach a vision-capable model as images", () => {
  it('anthropic: the step result is its JSON, then the frame as an image block', async () => {
    const frames = new FrameStore(tempDir());
    const png = encodePng(2, 2, new Uint8Array(12).fill(200));
    const digest = frames.put(png);
    const output = {
      step: 1,
      action: { keys: ['w'] },
      observation: { images: [{ mediaType: 'image/png', digest, width: 2, height: 2 }] },
      reward: 0,
    };
    const request: ModelRequest = {
      instructions: 'Walk to the beacon.',
      messages: [
        { role: 'user', text: 'Go.' },
        {
          role: 'assistant',
          text: '',
          toolCalls: [{ id: 'toolu_1', name: 'env_step', input: { keys: ['w'] } }],
        },
        {
          role: 'tool',
          results: [{ callId: 'toolu_1', name: 'env_step', output, isError: false }],
        },
      ],
      tools: [],
      settings: {},
      images: (d) => frames.get(d),
    };
    fake.enqueue(reply.text('I see the field.'));
    await run(await modelOn(fake, 'anthropic'), request);
    const sent = fake.requests.at(-1)!.body as { messages: { role: string; content: unknown[] }[] };
    const result = sent.messages[2]!.content[0] as { type: string; content: unknown[] };
    expect(result.type).toBe('tool_result');
    expect(result.content).toEqual([
      { type: 'text', text: JSON.stringify(output) },
      {
        type: 'image',
        source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') },
      },
    ]);
    // A frame that is not stored stays a digest in the JSON: nothing invented.
    fake.enqueue(reply.text('ok'));
    await run(await modelOn(fake, 'anthropic'), { ...request, images: () => undefined });
    const plain = fake.requests.at(-1)!.body as { messages: { content: { content: unknown }[] }[] };
    expect(plain.messages[2]!.content[0]!.content).toBe(JSON.stringify(output));
  });

  it('openai responses: an input image after the output text; chat completions (text-only tool messages): the JSON alone', async () => {
    const frames = new FrameStore(tempDir());
    const png = encodePng(2, 2, new Uint8Array(12).fill(90));
    const digest = frames.put(png);
    const output = { step: 1, observation: { images: [{ mediaType: 'image/png', digest }] } };
    const request = (): ModelRequest => ({
      instructions: 'x',
      messages: [
        { role: 'user', text: 'Go.' },
        { role: 'assistant', text: '', toolCalls: [{ id: 'call_1', name: 'env_step', input: {} }] },
        { role: 'tool', results: [{ callId: 'call_1', name: 'env_step', output, isError: false }] },
      ],
      tools: [],
      settings: {},
      images: (d) => frames.get(d),
    });
    fake.enqueue(reply.text('ok'));
    await run(await modelOn(fake, 'openai-responses'), request());
    const responses = fake.requests.at(-1)!.body as {
      input: { type?: string; output?: unknown }[];
    };
    expect(responses.input.find((i) => i.type === 'function_call_output')!.output).toEqual([
      { type: 'input_text', text: JSON.stringify(output) },
      { type: 'input_image', image_url: `data:image/png;base64,${png.toString('base64')}` },
    ]);
    fake.enqueue(reply.text('ok'));
    await run(await modelOn(fake, 'openai-chat'), request());
    const chat = fake.requests.at(-1)!.body as { messages: { role: string; content: unknown }[] };
    expect(chat.messages.find((m) => m.role === 'tool')!.content).toBe(JSON.stringify(output));
  });
});

// JSON Schemas of the dataset formats, written from their public descriptions (OpenAI's
// fine-tuning and preference fine-tuning file formats, Hugging Face's chat `messages` and TRL's
// conversational preference format), independent of the code that writes them.

const text = { type: 'string' };
const openaiToolCall = {
  type: 'object',
  required: ['id', 'type', 'function'],
  additionalProperties: false,
  properties: {
    id: text,
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      additionalProperties: false,
      properties: { name: text, arguments: text },
    },
  },
};
const openaiMessage = {
  oneOf: [
    {
      type: 'object',
      required: ['role', 'content'],
      additionalProperties: false,
      properties: { role: { enum: ['system', 'user'] }, content: text, weight: { enum: [0, 1] } },
    },
    {
      type: 'object',
      required: ['role'],
      additionalProperties: false,
      properties: {
        role: { const: 'assistant' },
        content: { type: ['string', 'null'] },
        tool_calls: { type: 'array', items: openaiToolCall, minItems: 1 },
        weight: { enum: [0, 1] },
      },
      anyOf: [
        { required: ['tool_calls'] },
        { properties: { content: { type: 'string' } }, required: ['content'] },
      ],
    },
    {
      type: 'object',
      required: ['role', 'tool_call_id', 'content'],
      additionalProperties: false,
      properties: { role: { const: 'tool' }, tool_call_id: text, content: text },
    },
  ],
};
const tool = {
  type: 'object',
  required: ['type', 'function'],
  additionalProperties: false,
  properties: {
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: text, description: text, parameters: { type: 'object' } },
    },
  },
};

export const openaiChatSchema = {
  type: 'object',
  required: ['messages'],
  additionalProperties: false,
  properties: {
    messages: { type: 'array', items: openaiMessage, minItems: 2 },
    tools: { type: 'array', items: tool },
    parallel_tool_calls: { type: 'boolean' },
  },
};

export const openaiPreferenceSchema = {
  type: 'object',
  required: ['input', 'preferred_output', 'non_preferred_output'],
  additionalProperties: false,
  properties: {
    input: {
      type: 'object',
      required: ['messages'],
      additionalProperties: false,
      properties: {
        messages: { type: 'array', items: openaiMessage, minItems: 1 },
        tools: { type: 'array', items: tool },
        parallel_tool_calls: { type: 'boolean' },
      },
    },
    preferred_output: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: { role: { const: 'assistant' }, content: text },
      },
    },
    non_preferred_output: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      items: {
        type: 'object',
        required: ['role', 'content'],
        properties: { role: { const: 'assistant' }, content: text },
      },
    },
  },
};

const hfMessage = {
  type: 'object',
  required: ['role', 'content'],
  properties: {
    role: { enum: ['system', 'user', 'assistant', 'tool'] },
    content: text,
    name: text,
    tool_call_id: text,
    tool_calls: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'function'],
        properties: {
          id: text,
          type: { const: 'function' },
          function: {
            type: 'object',
            required: ['name', 'arguments'],
            properties: { name: text, arguments: { type: 'object' } },
          },
        },
      },
    },
  },
};

export const hfChatSchema = {
  type: 'object',
  required: ['messages'],
  properties: {
    messages: { type: 'array', items: hfMessage, minItems: 2 },
    tools: { type: 'array', items: tool },
  },
};

export const trlPreferenceSchema = {
  type: 'object',
  required: ['prompt', 'chosen', 'rejected'],
  additionalProperties: false,
  properties: {
    prompt: { type: 'array', items: hfMessage, minItems: 1 },
    chosen: { type: 'array', items: hfMessage, minItems: 1 },
    rejected: { type: 'array', items: hfMessage, minItems: 1 },
  },
};

import { expect, it } from 'vitest';
import type { McpConnection } from '../../src/tools/mcp/mcp-connection.ts';
import { McpError } from '../../src/tools/mcp/mcp-error.ts';
import { type McpToolProgress, mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import { toolContext } from './support.ts';

/**
 * What agentd does with server-everything, whatever the transport: its tools as agentd
 * tools, resources, prompts, progress and cancellation.
 */
export function everythingCases(connect: () => McpConnection): void {
  it('lists its tools as agentd tools named <server>__<tool> and calls them', async () => {
    const connection = connect();
    const tools = await mcpTools(connection);
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining(['everything__echo', 'everything__get-sum', 'everything__get-env']),
    );
    const echo = byName.get('everything__echo')!;
    expect(echo.description).toMatch(/echo/i);
    expect(echo.inputSchema).toMatchObject({ type: 'object', properties: { message: {} } });
    expect(echo.idempotent).toBe(true); // readOnlyHint
    expect(await echo.execute({ message: 'hi' }, toolContext())).toBe('Echo: hi');

    const sum = byName.get('everything__get-sum')!;
    expect(sum.validate({ a: 1, b: 'two' })).toMatchObject({ ok: false });
    expect(sum.validate({ a: 1, b: 2 })).toEqual({ ok: true, value: { a: 1, b: 2 } });
    expect(await sum.execute({ a: 2, b: 3 }, toolContext())).toBe('The sum of 2 and 3 is 5.');
    expect(connection.protocolVersion).toBe('2025-11-25');
  });

  it('returns structured content as JSON once, and describes images', async () => {
    const tools = new Map((await mcpTools(connect())).map((tool) => [tool.name, tool]));
    const weather = await tools
      .get('everything__get-structured-content')!
      .execute({ location: 'Chicago' }, toolContext());
    expect(JSON.parse(weather as string)).toMatchObject({ temperature: expect.any(Number) });
    const image = await tools.get('everything__get-tiny-image')!.execute({}, toolContext());
    expect(image).toMatch(/\[image: image\/png, \d+ bytes\]/);
  });

  it('gives a tool error for an unknown tool, naming the server', async () => {
    const connection = connect();
    const error = await connection.callTool('no-such-tool', {}).then(
      (result) => result,
      (e: unknown) => e,
    );
    // servers answer either with a protocol error or an isError result
    if (error instanceof McpError) expect(error.message).toContain('MCP server "everything"');
    else expect(error).toMatchObject({ isError: true });
  });

  it('lists and reads resources and resource templates', async () => {
    const connection = connect();
    const resources = await connection.listResources();
    expect(resources.length).toBeGreaterThan(0);
    expect(resources[0]?.uri).toMatch(/^demo:\/\/resource\//);
    const templates = await connection.listResourceTemplates();
    expect(templates.map((t) => t.uriTemplate)).toContain(
      'demo://resource/dynamic/text/{resourceId}',
    );
    const read = await connection.readResource('demo://resource/dynamic/text/3');
    expect(read.contents[0]).toMatchObject({
      uri: 'demo://resource/dynamic/text/3',
      text: expect.stringContaining('Resource 3'),
    });
    const first = await connection.readResource(resources[0]!.uri);
    expect(first.contents.length).toBeGreaterThan(0);
  });

  it('lists prompts and gets one with arguments', async () => {
    const connection = connect();
    const prompts = await connection.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(
      expect.arrayContaining(['simple-prompt', 'args-prompt']),
    );
    const prompt = await connection.getPrompt('args-prompt', { city: 'Lyon', state: 'Rhône' });
    expect(prompt.messages[0]?.content).toMatchObject({
      type: 'text',
      text: "What's weather in Lyon, Rhône?",
    });
  });

  it('surfaces progress notifications through the adapter hook, with the run and call', async () => {
    const progress: McpToolProgress[] = [];
    const tools = await mcpTools(connect(), { onProgress: (p) => progress.push(p) });
    const long = tools.find((t) => t.name === 'everything__trigger-long-running-operation')!;
    const result = await long.execute({ duration: 0.6, steps: 3 }, toolContext());
    expect(result).toMatch(/Long running operation completed/);
    // The last notification may arrive with the result and be dropped with the request.
    expect(progress.map((p) => [p.progress, p.total]).slice(0, 2)).toEqual([
      [1, 3],
      [2, 3],
    ]);
    expect(progress[0]).toMatchObject({
      runId: 'run-1',
      callId: 'call-1',
      tool: 'everything__trigger-long-running-operation',
      server: 'everything',
    });
  });

  it('cancels a call when the run is cancelled, and the connection goes on', async () => {
    const connection = connect();
    const controller = new AbortController();
    const progress: McpToolProgress[] = [];
    // cancelled once the server says it is under way
    const tools = await mcpTools(connection, {
      onProgress: (p) => {
        progress.push(p);
        controller.abort();
      },
    });
    const long = tools.find((t) => t.name === 'everything__trigger-long-running-operation')!;
    await expect(
      long.execute({ duration: 10, steps: 10 }, toolContext(controller.signal)),
    ).rejects.toThrow(
      'MCP server "everything": tool "trigger-long-running-operation" was cancelled',
    );
    // the call ended then, not when the operation would have: its last steps never came
    expect(progress.length).toBeLessThan(10);
    const echo = tools.find((t) => t.name === 'everything__echo')!;
    expect(await echo.execute({ message: 'still here' }, toolContext())).toBe('Echo: still here');
  });
}

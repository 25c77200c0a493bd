import { describe, expect, it } from 'vitest';
import { readSse } from '../../../src/cli/read-sse.ts';

/** A response whose body arrives in the given chunks, as a network would cut it. */
function chunked(parts: string[]): Response {
  const encoder = new TextEncoder();
  return new Response(
    new ReadableStream({
      start(controller) {
        for (const part of parts) controller.enqueue(encoder.encode(part));
        controller.close();
      },
    }),
  );
}

describe('readSse', () => {
  it('yields each event with its id and data across chunk boundaries, skipping comments and bare ids', async () => {
    const response = chunked([
      ': outpost events\nretry: 1000\nid: 1-0\n\n',
      'id: 2-0\nevent: audit\nda',
      'ta: {"a":1}\n\nid: 3-0\ndata: line one\ndata: line two\n\n: heartbeat\n\n',
    ]);
    const seen = [];
    for await (const message of readSse(response)) seen.push(message);
    expect(seen).toEqual([
      { id: '2-0', event: 'audit', data: '{"a":1}' },
      { id: '3-0', data: 'line one\nline two' },
    ]);
  });
});

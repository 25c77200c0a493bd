import { describe, expect, it } from 'vitest';
import { LogModel } from '../../../web/src/log-model.ts';

describe("the console's log model", () => {
  it("shows each slice's lines under its label, and still knows the host each line is about", () => {
    const model = new LogModel();
    model.append([
      {
        seq: 1,
        type: 'stdout',
        time: '2026-11-26T10:00:00.000Z',
        data: 'PLAY [deploy] ***',
        slice: 'vpc1-proxy#1',
      },
      {
        seq: 2,
        type: 'stdout',
        time: '2026-11-26T10:00:01.000Z',
        data: 'ok: [web-1]',
        slice: 'vpc1-proxy#1',
      },
      {
        seq: 3,
        type: 'stdout',
        time: '2026-11-26T10:00:01.000Z',
        data: '\u001b[0;33mchanged: [web-7]\u001b[0m',
        slice: 'vpc2-proxy#2',
      },
      { seq: 4, type: 'stdout', time: '2026-11-26T10:00:02.000Z', data: 'outpost: 2 slices ended' },
    ]);
    expect(model.lines).toEqual([
      '[vpc1-proxy#1] PLAY [deploy] ***',
      '[vpc1-proxy#1] ok: [web-1]',
      '[vpc2-proxy#2] \u001b[0;33mchanged: [web-7]\u001b[0m',
      'outpost: 2 slices ended',
    ]);
    expect(model.hostOf).toEqual([undefined, 'web-1', 'web-7', undefined]);
    // Search finds a slice by its label.
    expect(model.lower.filter((line) => line.includes('vpc2-proxy#2'))).toEqual([
      '[vpc2-proxy#2] changed: [web-7]',
    ]);
  });
});

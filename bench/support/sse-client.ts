import http from 'node:http';
import { BENCH_TOKEN } from './outpost-service.ts';
import { nowMs } from './stats.ts';

/** One SSE block as read: its entry type (`event:` line), and its data when asked for. */
export interface SseBlock {
  type: string;
  data?: string;
}

/** Options of {@link followSse}. */
export interface FollowOptions {
  /** Called for each block with its receive time (epoch ms); return true to stop reading. */
  onBlock?: (block: SseBlock, at: number) => boolean | void;
  /** Keep the data line of blocks of these types (parsing costs CPU; leave empty for counting). */
  keepData?: string[];
}

/** What a follower saw. */
export interface FollowResult {
  blocks: number;
  byType: Record<string, number>;
  firstAt?: number;
  lastAt?: number;
  bytes: number;
  error?: string;
}

/**
 * Follows `GET /v1/jobs/<id>/events` with plain node:http (cheap enough to run 50 at once in the bench
 * process) until the `end` entry, the server closing, or `onBlock` returning true.
 */
export function followSse(
  base: string,
  jobId: string,
  options: FollowOptions = {},
): {
  done: Promise<FollowResult>;
  close(): void;
} {
  const result: FollowResult = { blocks: 0, byType: {}, bytes: 0 };
  let request: http.ClientRequest | undefined;
  const done = new Promise<FollowResult>((resolve) => {
    const url = new URL(`/v1/jobs/${jobId}/events`, base);
    request = http.get(url, {
      headers: { authorization: `Bearer ${BENCH_TOKEN}`, accept: 'text/event-stream' },
      agent: false,
    });
    request.on('error', (error) => {
      result.error ??= error.message;
      resolve(result);
    });
    request.on('response', (response) => {
      if (response.statusCode !== 200) {
        result.error = `HTTP ${response.statusCode}`;
        response.resume();
        resolve(result);
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      let stopped = false;
      response.on('data', (chunk: string) => {
        if (stopped) return;
        const at = nowMs();
        result.bytes += chunk.length;
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const typeStart = block.indexOf('\nevent: ');
          if (typeStart < 0) continue; // comments, retry line, heartbeats
          const typeEnd = block.indexOf('\n', typeStart + 8);
          const type = block.slice(typeStart + 8, typeEnd < 0 ? undefined : typeEnd);
          result.blocks += 1;
          result.byType[type] = (result.byType[type] ?? 0) + 1;
          result.firstAt ??= at;
          result.lastAt = at;
          const sse: SseBlock = { type };
          if (options.keepData?.includes(type)) {
            const dataStart = block.indexOf('\ndata: ');
            if (dataStart >= 0) sse.data = block.slice(dataStart + 7);
          }
          if (options.onBlock?.(sse, at) === true || type === 'end') {
            stopped = true;
            request?.destroy();
            resolve(result);
            return;
          }
        }
      });
      response.on('end', () => resolve(result));
      response.on('error', () => resolve(result));
    });
  });
  return { done, close: () => request?.destroy() };
}

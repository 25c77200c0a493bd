import type { LogWriter } from './log-writer.ts';

/**
 * One writer onto two: a slice's own log and its parent's (whose writer labels each entry with the
 * slice). Status entries stay in the first: they are the slice's, not its parent's. Order is kept in
 * each; `flush` waits for both; back-pressure comes from either.
 */
export function teeLogWriter(own: LogWriter, copy: LogWriter): LogWriter {
  return {
    write(type, data) {
      own.write(type, data);
      if (type !== 'status') copy.write(type, data);
    },
    async flush() {
      await Promise.all([own.flush(), copy.flush()]);
    },
    ready() {
      const waits = [own.ready?.(), copy.ready?.()].filter((wait) => wait !== undefined);
      return waits.length === 0 ? undefined : Promise.all(waits).then(() => undefined);
    },
  };
}

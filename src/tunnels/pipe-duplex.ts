import type { Duplex } from 'node:stream';

/**
 * Joins two streams both ways. An end on one side is passed on as an end (half-close) so a request
 * over a shut-down write side still gets its answer. When one side closes, the other may flush what
 * it was given (up to `graceMs`) and is then destroyed; an error on either side destroys both at
 * once. Neither socket nor SSH channel outlives its partner; `onDone` runs exactly once.
 */
export function pipeDuplex(a: Duplex, b: Duplex, onDone: (error?: Error) => void, graceMs = 5000): void {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = (error?: Error) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    a.destroy();
    b.destroy();
    onDone(error);
  };
  const settle = (other: Duplex) => {
    if (done || timer) return;
    if (other.destroyed || other.writableFinished) return finish();
    other.once('finish', () => finish());
    timer = setTimeout(() => finish(), graceMs);
    other.end();
  };
  a.on('error', finish);
  b.on('error', finish);
  a.on('close', () => settle(b));
  b.on('close', () => settle(a));
  a.pipe(b);
  b.pipe(a);
}

import { useEffect, useRef, useState } from 'preact/hooks';

/** What {@link usePoll} holds: the latest value, the latest error, and a way to load again now. */
export interface Polled<T> {
  value: T | undefined;
  error: string | undefined;
  reload(): void;
}

/** Loads `load()` now and every `everyMs` (0: once) while shown; clears and reloads when `deps` change. */
export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[] = []): Polled<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  // Other deps: what was shown belongs to the old ones.
  const depsKey = JSON.stringify(deps);
  const shownFor = useRef(depsKey);
  if (shownFor.current !== depsKey) {
    shownFor.current = depsKey;
    if (value !== undefined) setValue(undefined);
  }
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const next = await loader.current();
        if (!alive) return;
        setValue(next);
        setError(undefined);
      } catch (caught) {
        if (alive) setError((caught as Error).message);
      }
      if (alive && everyMs > 0) timer = setTimeout(() => void run(), everyMs);
    };
    void run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { value, error, reload: () => setTick((n) => n + 1) };
}

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { parseAnsi } from '../ansi.ts';
import type { LogModel } from '../log-model.ts';

const LINE_HEIGHT = 18;
const OVERSCAN = 12;
const HEADER = /^(play|task|running handler|play recap)\b/;

/** Which lines a view shows: all, or one host's lines plus the play and task headers around them. */
class LineIndex {
  readonly indices: number[] = [];
  #upTo = 0;
  constructor(readonly host: string) {}
  extend(model: LogModel): void {
    for (; this.#upTo < model.lines.length; this.#upTo++) {
      const about = model.hostOf[this.#upTo];
      if (about === this.host || (about === undefined && HEADER.test(model.lower[this.#upTo] ?? '')))
        this.indices.push(this.#upTo);
    }
  }
}

/** Matches of a search over the shown lines, extended as lines arrive (search works while the job runs). */
class SearchIndex {
  readonly matches: number[] = [];
  #upTo = 0;
  constructor(readonly needle: string) {}
  extend(model: LogModel, count: number, lineAt: (row: number) => number): void {
    for (; this.#upTo < count; this.#upTo++) {
      if (model.lower[lineAt(this.#upTo)]?.includes(this.needle)) this.matches.push(this.#upTo);
    }
  }
}

/**
 * A job's log, windowed: only the lines on screen are in the page, so 200,000 lines scroll without a
 * stall. ANSI colours are rendered; follow keeps the view at the bottom only while it is there; search
 * covers every line (on screen or not); a host filter narrows to one host.
 */
export function LogView(props: {
  model: LogModel;
  version: number;
  host: string;
  search: string;
  matchIndex: number;
  follow: boolean;
  onMatches(count: number): void;
}) {
  const { model } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(480);
  const atBottom = useRef(true);
  const frame = useRef(0);

  const lineIndex = useMemo(
    () => (props.host ? new LineIndex(props.host) : undefined),
    [props.host, model, model.generation],
  );
  lineIndex?.extend(model);
  const count = lineIndex ? lineIndex.indices.length : model.lines.length;
  const lineAt = (row: number): number => (lineIndex ? (lineIndex.indices[row] ?? 0) : row);

  const needle = props.search.trim().toLowerCase();
  const searchIndex = useMemo(
    () => (needle ? new SearchIndex(needle) : undefined),
    [needle, lineIndex, model.generation],
  );
  searchIndex?.extend(model, count, lineAt);
  const matches = searchIndex?.matches.length ?? 0;
  useEffect(() => props.onMatches(matches), [matches]);

  // Jump to the current match.
  useEffect(() => {
    const row = searchIndex?.matches[props.matchIndex];
    const element = scroller.current;
    if (row === undefined || !element) return;
    element.scrollTop = Math.max(0, row * LINE_HEIGHT - element.clientHeight / 2);
    atBottom.current = false;
    // Render the match's rows now: the scroll event's animation frame never comes in a hidden tab.
    setTop(element.scrollTop);
  }, [searchIndex, props.matchIndex]);

  // Follow: stay at the bottom while new lines come, only when the reader is at the bottom.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element || !props.follow || !atBottom.current) return;
    element.scrollTop = element.scrollHeight;
    setTop(element.scrollTop);
  }, [count, props.follow, lineIndex]);

  useEffect(() => {
    const element = scroller.current;
    if (!element) return;
    setHeight(element.clientHeight);
    const resize = new ResizeObserver(() => setHeight(element.clientHeight));
    resize.observe(element);
    return () => resize.disconnect();
  }, []);

  const onScroll = (): void => {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = element.scrollTop + element.clientHeight >= element.scrollHeight - LINE_HEIGHT * 2;
    cancelAnimationFrame(frame.current);
    frame.current = requestAnimationFrame(() => setTop(element.scrollTop));
  };

  const first = Math.max(0, Math.floor(top / LINE_HEIGHT) - OVERSCAN);
  const last = Math.min(count, Math.ceil((top + height) / LINE_HEIGHT) + OVERSCAN);
  const current = searchIndex?.matches[props.matchIndex];
  const rows = [];
  for (let row = first; row < last; row++) {
    const index = lineAt(row);
    const text = model.lines[index] ?? '';
    rows.push(
      <div
        key={index}
        class={`line${row === current ? ' current' : ''}`}
        style={{ top: `${row * LINE_HEIGHT}px` }}
        data-line={index + 1}
      >
        {needle && model.lower[index]?.includes(needle) ? highlight(text, needle) : renderAnsi(text)}
      </div>,
    );
  }
  return (
    <div
      class="log"
      ref={scroller}
      onScroll={onScroll}
      tabIndex={0}
      role="log"
      aria-label={`Job log, ${count} lines`}
      data-lines={count}
    >
      <div class="log-body" style={{ height: `${count * LINE_HEIGHT}px` }}>
        {rows}
      </div>
    </div>
  );
}

function renderAnsi(text: string) {
  return parseAnsi(text).map((span, i) =>
    span.classes ? (
      <span key={i} class={span.classes}>
        {span.text}
      </span>
    ) : (
      span.text
    ),
  );
}

function highlight(text: string, needle: string) {
  const plain = parseAnsi(text)
    .map((span) => span.text)
    .join('');
  const lower = plain.toLowerCase();
  const parts = [];
  let at = 0;
  for (let found = lower.indexOf(needle); found >= 0; found = lower.indexOf(needle, found + needle.length)) {
    parts.push(plain.slice(at, found), <mark key={found}>{plain.slice(found, found + needle.length)}</mark>);
    at = found + needle.length;
  }
  parts.push(plain.slice(at));
  return parts;
}

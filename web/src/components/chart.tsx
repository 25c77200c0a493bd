import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatRate } from '../format.ts';
import type { SeriesLine } from '../types.ts';

// Mid-tone colours that keep their contrast on the light and the dark background.
const PALETTE = ['#2f7ed8', '#e4572e', '#29a35a', '#a05cd6', '#d4a017', '#17a2b8', '#d63384', '#6c757d'];

/** One uPlot chart of a host metric: several lines on one time axis, sized to its container. */
export function Chart(props: {
  title: string;
  lines: SeriesLine[];
  unit: SeriesLine['unit'];
  /** The window shown, epoch ms: the whole of it, however few points there are yet. */
  window: [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  const points = props.lines.reduce((sum, line) => sum + line.points.length, 0);
  useEffect(() => {
    const element = box.current;
    if (!element || points === 0) return;
    const data = align(props.lines);
    const format = (value: number | null): string =>
      value === null
        ? '—'
        : props.unit === 'B/s'
          ? formatRate(value)
          : `${value.toFixed(props.unit === '%' ? 1 : 2)}${props.unit}`;
    const plot = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 180,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: {
          x: { time: true, range: [props.window[0] / 1000, props.window[1] / 1000] },
          y: props.unit === '%' ? { range: [0, 100] } : { auto: true },
        },
        axes: [
          {
            stroke: '#888',
            grid: { stroke: 'rgba(128,128,128,0.2)' },
            ticks: { stroke: 'rgba(128,128,128,0.3)' },
          },
          {
            stroke: '#888',
            size: 70,
            grid: { stroke: 'rgba(128,128,128,0.2)' },
            ticks: { stroke: 'rgba(128,128,128,0.3)' },
            values: (_u, values) => values.map((value) => format(value)),
          },
        ],
        series: [
          {},
          ...props.lines.map((line, i) => ({
            label: line.name,
            stroke: PALETTE[i % PALETTE.length] ?? '#888',
            width: 1.5,
            spanGaps: true,
            value: (_u: uPlot, value: number | null) => format(value),
          })),
        ],
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, element.clientWidth), height: 180 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.lines, props.unit, props.window[0], props.window[1]]);
  return (
    <figure class="chart" data-points={points} aria-label={`${props.title}: ${points} points`}>
      <figcaption>{props.title}</figcaption>
      {points === 0 ? <p class="empty">No points in this window.</p> : <div ref={box} />}
    </figure>
  );
}

/** uPlot's columns: one x (seconds) shared by every line, nulls where a line has no point. */
function align(lines: SeriesLine[]): uPlot.AlignedData {
  const times = [...new Set(lines.flatMap((line) => line.points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = lines.map((line) => {
    const column: (number | null)[] = new Array<number | null>(times.length).fill(null);
    for (const [t, value] of line.points) column[index.get(t) ?? 0] = value;
    return column;
  });
  return [times.map((t) => t / 1000), ...columns];
}

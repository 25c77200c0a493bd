import { spawn } from 'node:child_process';
import xterm from '@xterm/headless';

/** What a command left on a terminal's screen. */
export interface TerminalRun {
  exitCode: number | null;
  /** The screen and its scrollback as a person sees them, one string per row, trailing spaces cut. */
  screen: string[];
  /** Every byte the command wrote (escape sequences included). */
  raw: string;
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `argv` on a pseudo-terminal (util-linux `script`, so the command's stdout and stderr are a TTY
 * of `cols` x `rows`) and renders what it wrote with a real terminal emulator (xterm.js, headless):
 * the result is the screen, with redrawn lines redrawn, not the raw stream.
 */
export async function runInTerminal(
  argv: string[],
  options: { cwd: string; env: Record<string, string | undefined>; cols?: number; rows?: number },
): Promise<TerminalRun> {
  const cols = options.cols ?? 160;
  const rows = options.rows ?? 50;
  const command = `stty cols ${cols} rows ${rows}; exec ${argv.map(quote).join(' ')}`;
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: options.cwd,
    env: { ...options.env, TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let raw = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (raw += chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const terminal = new xterm.Terminal({ cols, rows, scrollback: 10_000, allowProposedApi: true });
  // script's pty turns \n into \r\n already; the emulator renders the bytes as a terminal would.
  await new Promise<void>((resolve) => terminal.write(raw, resolve));
  const buffer = terminal.buffer.active;
  const screen: string[] = [];
  for (let i = 0; i < buffer.length; i++) screen.push(buffer.getLine(i)?.translateToString(true) ?? '');
  while (screen.at(-1) === '') screen.pop();
  terminal.dispose();
  return { exitCode, screen, raw };
}

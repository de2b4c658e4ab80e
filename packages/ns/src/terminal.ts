import { Duplex } from 'node:stream';
import { call, NsError } from './errors';
import { native, type NativeTerminal } from './native';
import { NsCodes } from './codes';

/** The size of a terminal, in character cells. */
export interface TerminalSize {
  /** Columns. */
  cols: number;
  /** Rows. */
  rows: number;
}

function checkSize(cols: number, rows: number): void {
  for (const [name, v] of [
    ['cols', cols],
    ['rows', rows],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 65535) {
      throw new NsError({ code: NsCodes.InvalidOption, message: `terminal ${name} must be an integer from 1 to 65535`, path: `terminal.${name}` });
    }
  }
}

/**
 * The master side of a child's pseudo-terminal, as a Node `Duplex`: what
 * the child writes to its stdout/stderr is read here (with the terminal's
 * line discipline applied: `\n` arrives as `\r\n`, input is echoed), what
 * is written here is the child's input. The stream ends when the child
 * side of the pty is closed (the child and its descendants exited) and is
 * destroyed after that; destroying it earlier hangs up the child (SIGHUP).
 * Reads and writes never block the event loop.
 */
export class Terminal extends Duplex {
  #native: NativeTerminal | null = null;
  #ready: Promise<NativeTerminal>;
  #reading = false;
  #size: TerminalSize | null = null;

  /** @internal Created by {@link spawn} with `terminal`. */
  constructor(ready: Promise<NativeTerminal>) {
    super({ allowHalfOpen: false });
    this.#ready = ready.then((t) => {
      this.#native = t;
      if (this.destroyed) t.close();
      else if (this.#size) call(() => t.resize(this.#size!.cols, this.#size!.rows));
      return t;
    });
    // A spawn that failed before the pty existed: nothing to read, ever.
    this.#ready.catch(() => this.destroy());
  }

  /**
   * Wrap a pty master file descriptor (one received over a console socket,
   * or handed out by another package such as `@ctr/runtime`); the stream
   * owns and closes it. Throws `ENS_INVALID_OPTION` if `fd` is not an open
   * terminal.
   *
   * ```ts
   * const t = Terminal.fromFd(masterFd);
   * t.pipe(process.stdout);
   * ```
   */
  static fromFd(fd: number): Terminal {
    if (!Number.isInteger(fd) || fd < 0) throw new NsError({ code: NsCodes.InvalidOption, message: 'fd must be a file descriptor', path: 'fd' });
    return new Terminal(Promise.resolve(call(() => native.terminalFromFd(fd))));
  }

  override _read(): void {
    if (this.#reading) return;
    this.#reading = true;
    void this.#ready.then(
      (t) => this.#pump(t),
      () => undefined,
    );
  }

  async #pump(t: NativeTerminal): Promise<void> {
    try {
      for (;;) {
        const chunk = await call(() => t.read());
        if (chunk === null) {
          this.push(null);
          return;
        }
        if (!this.push(chunk)) break;
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.#reading = false;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#ready.then((t) => call(() => t.write(chunk))).then(
      () => cb(),
      (err: Error) => cb(err),
    );
  }

  override _final(cb: (err?: Error | null) => void): void {
    // A pty has no half-close: the child sees end of input only if it is
    // sent the EOF character (`terminal.write('\x04')` in canonical mode).
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#native?.close();
    cb(err);
  }

  /**
   * Set the window size (`TIOCSWINSZ`); the child gets `SIGWINCH`. Before
   * the child runs, the size is applied as soon as the pty exists.
   */
  resize(cols: number, rows: number): void {
    checkSize(cols, rows);
    if (this.#native) call(() => this.#native!.resize(cols, rows));
    else this.#size = { cols, rows };
  }

  /** The window size, once the child runs (`null` before). */
  get size(): TerminalSize | null {
    if (!this.#native || this.destroyed) return this.#size;
    const [cols, rows] = call(() => this.#native!.size());
    return { cols: cols!, rows: rows! };
  }

  /**
   * Take the master file descriptor out of this stream (once the child
   * runs), e.g. to pass it to another process; the stream is destroyed and
   * the caller owns the fd.
   */
  takeFd(): number {
    if (!this.#native) throw new NsError({ code: NsCodes.Console, message: 'the terminal does not exist yet (await spawned)' });
    const fd = this.#native.takeFd();
    this.destroy();
    return fd;
  }
}

/** @internal Validate a `terminal` option into the binding's size fields. */
export function terminalSize(opt: boolean | TerminalSize | undefined): { cols?: number; rows?: number } | null {
  if (opt === undefined || opt === false) return null;
  if (opt === true) return {};
  if (typeof opt !== 'object' || opt === null) {
    throw new NsError({ code: NsCodes.InvalidOption, message: 'terminal must be true or { cols, rows }', path: 'terminal' });
  }
  checkSize(opt.cols, opt.rows);
  return { cols: opt.cols, rows: opt.rows };
}

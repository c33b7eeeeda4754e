/**
 * Progress of a long command on stderr: only when stderr is a terminal and
 * the output is not machine-read (--json), one line rewritten in place.
 */
export class Progress {
  private readonly on: boolean;
  private shown = false;
  private last = 0;

  constructor(quiet = false) {
    this.on = !quiet && process.stderr.isTTY === true;
  }

  /** Show `text` (at most ten times a second). */
  show(text: string): void {
    if (!this.on) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const width = (process.stderr.columns ?? 80) - 1;
    process.stderr.write(`\r\x1b[K${`genpt: ${text}`.slice(0, width)}`);
    this.shown = true;
  }

  /** Remove the line before normal output. */
  clear(): void {
    if (!this.shown) return;
    process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}

/**
 * Progress for long bench phases: a redrawn bar on a terminal, a line every few seconds otherwise (CI logs).
 */
export class Progress {
  private lastLine = 0;
  constructor(private readonly label: string, private readonly total: number) {}

  update(done: number, extra = ''): void {
    const now = Date.now();
    const pct = this.total > 0 ? Math.min(1, done / this.total) : 1;
    if (process.stderr.isTTY) {
      const width = 30;
      const bar = '#'.repeat(Math.round(pct * width)).padEnd(width, '.');
      process.stderr.write(`\r${this.label} [${bar}] ${done}/${this.total} ${extra}   `);
    } else if (now - this.lastLine > 2000 || done >= this.total) {
      this.lastLine = now;
      process.stderr.write(`${this.label}: ${done}/${this.total} ${extra}\n`);
    }
  }

  done(extra = ''): void {
    this.update(this.total, extra);
    if (process.stderr.isTTY) process.stderr.write('\n');
  }
}

/**
 * Latency samples in milliseconds, with percentiles. Keeps every sample (benches are bounded in time), so
 * percentiles are exact.
 */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private n = 0;

  record(ms: number): void {
    if (this.n === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): { count: number; p50: number; p90: number; p99: number; p999: number; max: number; mean: number } {
    const sorted = this.samples.slice(0, this.n).sort();
    const at = (q: number) => (this.n === 0 ? 0 : sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!);
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += sorted[i]!;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return { count: this.n, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), p999: round(at(0.999)), max: round(at(1)), mean: round(this.n ? sum / this.n : 0) };
  }

  /** Points of the cumulative distribution, for plotting. */
  cdf(points = 100): { x: number; y: number }[] {
    const sorted = this.samples.slice(0, this.n).sort();
    const out: { x: number; y: number }[] = [];
    for (let i = 1; i <= points && this.n > 0; i++) {
      const q = i / points;
      out.push({ x: sorted[Math.min(this.n - 1, Math.floor(q * this.n) - (q === 1 ? 1 : 0))]!, y: q * 100 });
    }
    return out;
  }
}

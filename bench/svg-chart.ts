/**
 * A dependency-free SVG line chart: one or more named series over shared axes. Enough to look at latency
 * distributions and throughput side by side in a browser or an image viewer.
 */
export interface Series {
  readonly name: string;
  readonly points: readonly { x: number; y: number }[];
}

const COLORS = ['#d6336c', '#1c7ed6', '#37b24d', '#f59f00', '#7048e8', '#495057'];

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function lineChart(opts: { title: string; xLabel: string; yLabel: string; series: readonly Series[]; logX?: boolean }): string {
  const W = 900, H = 420, L = 70, R = 300, T = 40, B = 50;
  const pw = W - L - R, ph = H - T - B;
  const all = opts.series.flatMap((s) => s.points);
  const xMin = opts.logX ? Math.max(1e-3, Math.min(...all.map((p) => p.x).filter((x) => x > 0))) : 0;
  const xMax = niceMax(Math.max(...all.map((p) => p.x), 1e-3));
  const yMax = niceMax(Math.max(...all.map((p) => p.y), 1e-3));
  const sx = (x: number) => opts.logX
    ? L + (Math.log10(Math.max(x, xMin)) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1) * pw
    : L + (x / xMax) * pw;
  const sy = (y: number) => T + ph - (y / yMax) * ph;
  const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(opts.title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const y = (yMax * i) / 5;
    parts.push(`<line x1="${L}" x2="${L + pw}" y1="${sy(y)}" y2="${sy(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 6}" y="${sy(y) + 4}" text-anchor="end">${+y.toPrecision(3)}</text>`);
    const x = opts.logX ? xMin * (xMax / xMin) ** (i / 5) : (xMax * i) / 5;
    parts.push(`<text x="${sx(x)}" y="${T + ph + 16}" text-anchor="middle">${+x.toPrecision(3)}</text>`);
  }
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${T + ph}" stroke="#333"/><line x1="${L}" x2="${L + pw}" y1="${T + ph}" y2="${T + ph}" stroke="#333"/>`);
  parts.push(`<text x="${L + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${T + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel)}</text>`);
  opts.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => `${j ? 'L' : 'M'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<rect x="${L + pw + 14}" y="${T + i * 20}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${L + pw + 32}" y="${T + i * 20 + 10}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

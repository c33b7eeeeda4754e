/**
 * A bar chart of the seed rows, new against old, then (when given) every
 * row's ratio to the kernel's C against the 1.5x target, as a self-contained
 * SVG.
 */
import type { SeedRow } from './seed.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

export function benchSvg(rows: readonly SeedRow[], title: string, ratios: ReadonlyArray<{ label: string; ratio: number }> = []): string {
  const bars: Array<{ label: string; newNs: number; oldNs: number }> = [];
  for (const op of ['map', 'unmap'] as const) {
    for (const r of rows) {
      const shape = r.pgcount === 1 ? `2^${r.pgsizeLg2}` : `${r.pgcount}*2^${r.pgsizeLg2}`;
      bars.push({
        label: `${op} ${r.label} ${shape}`,
        newNs: op === 'map' ? r.newT.mapAvg : r.newT.unmapAvg,
        oldNs: op === 'map' ? r.oldT.mapAvg : r.oldT.unmapAvg,
      });
    }
  }
  const rowH = 34;
  const left = 190;
  const width = 900;
  const plot = width - left - 120;
  const max = Math.log10(Math.max(...bars.flatMap((b) => [b.newNs, b.oldNs])) * 1.2);
  const x = (ns: number) => (Math.max(0, Math.log10(Math.max(ns, 1))) / max) * plot;
  const ratioTop = 50 + bars.length * rowH + 30;
  const ratioH = 22;
  const height = ratios.length === 0 ? ratioTop : ratioTop + 40 + ratios.length * ratioH + 20;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${left}" y="30" width="12" height="10" fill="#2b7bb9"/><text x="${left + 16}" y="39">new (iommupt)</text>`,
    `<rect x="${left + 130}" y="30" width="12" height="10" fill="#c9c9c9"/><text x="${left + 146}" y="39">old (io-pgtable style)</text>`,
    `<text x="${left + 330}" y="39" fill="#555">average ns per call, log scale</text>`,
  ];
  bars.forEach((b, i) => {
    const y = 50 + i * rowH;
    parts.push(`<text x="${left - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 3}" width="${x(b.oldNs).toFixed(1)}" height="12" fill="#c9c9c9"/>`);
    parts.push(`<rect x="${left}" y="${y + 16}" width="${x(b.newNs).toFixed(1)}" height="12" fill="#2b7bb9"/>`);
    parts.push(`<text x="${left + x(b.oldNs) + 4}" y="${y + 13}" fill="#555">${b.oldNs.toFixed(0)}</text>`);
    parts.push(`<text x="${left + x(b.newNs) + 4}" y="${y + 26}">${b.newNs.toFixed(0)}</text>`);
  });
  if (ratios.length !== 0) {
    // Linear scale to the largest ratio (at least 2x), the 1.5x target drawn across.
    const maxR = Math.max(2, ...ratios.map((r) => r.ratio)) * 1.1;
    const rx = (v: number) => (v / maxR) * plot;
    const y0 = ratioTop + 30;
    parts.push(`<text x="10" y="${ratioTop + 14}" font-size="14" font-weight="bold">genpt / kernel C, per row (target 1.5x)</text>`);
    const target = left + rx(1.5);
    parts.push(
      `<line x1="${target.toFixed(1)}" y1="${y0 - 6}" x2="${target.toFixed(1)}" y2="${y0 + ratios.length * ratioH}" stroke="#c62828" stroke-dasharray="4 3"/>`,
    );
    parts.push(`<text x="${(target + 4).toFixed(1)}" y="${y0 - 8}" fill="#c62828">1.5x</text>`);
    ratios.forEach((r, i) => {
      const y = y0 + i * ratioH;
      const fill = r.ratio <= 1.5 ? '#2e7d32' : '#ef6c00';
      parts.push(`<text x="${left - 8}" y="${y + 13}" text-anchor="end">${esc(r.label)}</text>`);
      parts.push(`<rect class="ratio" x="${left}" y="${y + 3}" width="${rx(r.ratio).toFixed(1)}" height="14" fill="${fill}"/>`);
      parts.push(`<text x="${(left + rx(r.ratio) + 4).toFixed(1)}" y="${y + 14}">${r.ratio.toFixed(2)}x</text>`);
    });
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

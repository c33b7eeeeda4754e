/** One line per amd-iommu script step and its result. */
import { pciName } from '@genpt/amd-driver';
import { protText } from '../decode/leaf.js';
import { bytesText, hx } from '../dump/units.js';
import type { DmaRecord, DmaResultJson } from './runner.js';

function range(start: string, len: bigint): string {
  const s = BigInt(start);
  return `${hx(s)}-${hx(s + len - 1n)} (${bytesText(len)})`;
}

/** At most 32 bytes of hex, then the count. */
function shortHex(hex: string): string {
  return hex.length <= 64 ? hex : `${hex.slice(0, 64)}... (${hex.length / 2} bytes)`;
}

export function dmaStepText(r: DmaRecord): string[] {
  const s = r.step;
  switch (s.op) {
    case 'map':
      return [
        `map ${range(s.iova, BigInt(s.len))} -> ${hx(BigInt(s.paddr))} ${protText(s.prot)}: ${(r.result as { err: unknown }).err === 0 ? 'ok' : String((r.result as { err: unknown }).err)}`,
      ];
    case 'unmap':
      return [`unmap ${range(s.iova, BigInt(s.len))}: unmapped ${bytesText(BigInt((r.result as { unmapped: string }).unmapped))}`];
    case 'iova_to_phys':
      return [`iova_to_phys ${hx(BigInt(s.iova))} -> ${String(r.result)}`];
    case 'dump':
      return ['dump:'];
    case 'dma': {
      const d = r.result as DmaResultJson;
      const what = `dma ${s.write ? 'write' : 'read'} ${range(s.iova, BigInt(s.len))} by ${pciName(s.device)}`;
      if (d.ok) return [`${what}: ok${d.data !== undefined ? `, read ${shortHex(d.data)}` : ''}`];
      const f = d.fault!;
      const done = d.bytes ? ` after ${d.bytes} bytes${d.data ? ` (${shortHex(d.data)})` : ''}` : '';
      return [`${what}: ${f.name} at ${f.address} (flags ${f.flags}, domain ${f.domainId})${done}`];
    }
    case 'mem_write':
      return [`mem_write ${range(s.paddr, BigInt(s.data.length / 2))}: ${shortHex(s.data)}`];
    case 'mem_read':
      return [`mem_read ${range(s.paddr, BigInt(s.len))}: ${shortHex(r.result as string)}`];
    case 'events': {
      const ev = r.result as Array<{ name: string; message: string }>;
      return [`events: ${ev.length === 0 ? 'none' : ev.length}`, ...ev.map((e) => `  ${e.message || e.name}`)];
    }
  }
}

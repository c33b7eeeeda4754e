/** One line (or a few) per script step and its result, for `genpt run` and `genpt demo`. */
import { errnoName } from '@genpt/pt-core';
import type { GoldenGather, GoldenStep } from '@genpt/golden';
import { protText } from './decode/leaf.js';
import { bytesText, hx } from './dump/units.js';
import type { FreedTable, StepRecord } from './runner.js';

const M64 = (1n << 64n) - 1n;

function b(h: string): bigint {
  return BigInt(h);
}

function range(start: string, len: string): string {
  const s = b(start);
  const l = b(len);
  return l === 0n ? `${hx(s)} +0` : `${hx(s)}-${hx((s + l - 1n) & M64)} (${bytesText(l)})`;
}

function gatherText(g: GoldenGather): string {
  const empty = b(g.start) > b(g.end);
  const span = empty ? 'nothing to invalidate' : `invalidate ${hx(b(g.start))}-${hx(b(g.end))}`;
  const pages = g.freedTablePages;
  return pages === undefined ? span : `${span}, ${pages} table page${pages === 1 ? '' : 's'} freed`;
}

function errText(err: unknown): string {
  return err === 0 ? 'ok' : String(err);
}

function eventText(e: GoldenStep): string {
  if (e.op === 'change_top') return `driver: change_top, the top grows to level ${e.topLevel}`;
  if (e.op === 'iotlb_sync') {
    return `driver: iotlb_sync mid-op, ${gatherText({ start: e.start, end: e.end, freedTablePages: e.freedTablePages })}`;
  }
  return `driver: ${e.op}`;
}

function freedText(f: FreedTable): string {
  return `freed: L${f.level} table @${hx(f.pa)} (path [${f.path.join(',')}], VA ${hx(f.va)}-${hx(f.vaLast)})`;
}

/** The step and its result, e.g. "map 0x0-0x3fff (16K) -> 0x1234400000 rw: ok, mapped 16K". */
export function stepText(r: StepRecord): string[] {
  const s = r.step;
  const res = r.result as Record<string, unknown> & string;
  let line: string;
  switch (s.op) {
    case 'map': {
      const m = res as unknown as { err: unknown; mapped: string };
      line = `map ${range(s.iova, s.len)} -> ${hx(b(s.paddr))} ${protText(s.prot)}: ${errText(m.err)}, mapped ${bytesText(b(m.mapped))}`;
      break;
    }
    case 'unmap': {
      const u = res as unknown as { unmapped: string; gather: GoldenGather };
      line = `unmap ${range(s.iova, s.len)}: unmapped ${bytesText(b(u.unmapped))}; gather: ${gatherText(u.gather)}`;
      break;
    }
    case 'iova_to_phys': {
      const v = b(res);
      // The kernel returns a negative errno cast to an address for an IOVA outside the table.
      const text = v > M64 - 4096n ? `${errnoName(Number(M64 - v + 1n))} (outside the table)` : v === 0n ? '0x0 (not mapped)' : hx(v);
      line = `iova_to_phys ${hx(b(s.iova))} -> ${text}`;
      break;
    }
    case 'cut':
    case 'split':
    case 'collapse': {
      const c = res as unknown as { err: unknown; gather: GoldenGather };
      const what =
        s.op === 'cut'
          ? `cut at ${hx(b(s.iova))}`
          : s.op === 'split'
            ? `split ${range(s.iova, s.len)} to at most ${bytesText(1n << BigInt(s.maxPgszLg2))}`
            : `collapse ${range(s.iova, s.len)}`;
      line = `${what}: ${errText(c.err)}; gather: ${gatherText(c.gather)}`;
      break;
    }
    case 'set_dirty':
      line = `set_dirty ${hx(b(s.iova))}: ${errText((res as unknown as { err: unknown }).err)}`;
      break;
    case 'read_and_clear_dirty': {
      const d = res as unknown as { dirty: Array<[string, string]>; err: unknown; gather: GoldenGather };
      const list = d.dirty.length === 0 ? 'none' : d.dirty.map(([a, l]) => range(a, l)).join(', ');
      line = `read_and_clear_dirty ${range(s.iova, s.size)}${s.flags ? ' (no clear)' : ''}: ${errText(d.err)}, dirty: ${list}; gather: ${gatherText(d.gather)}`;
      break;
    }
    case 'dump':
      line = 'dump:';
      break;
    case 'deinit':
      line = `deinit: ${(res as unknown as { leakedPages: number }).leakedPages} table pages leaked`;
      break;
    case 'preserve': {
      const p = res as unknown as { err: unknown; descriptor?: { tables: unknown[]; topLevel: number; topPa: number } };
      const d = p.descriptor;
      const to = r.kho?.file !== undefined ? `, descriptor written to ${r.kho.file}` : '';
      line =
        d === undefined
          ? `preserve: ${errText(p.err)}`
          : `preserve: ok, ${d.tables.length} table pages, top level ${d.topLevel} at ${hx(d.topPa)}${to}`;
      break;
    }
    case 'restore': {
      const p = res as unknown as { err: unknown; tables: number };
      const from = r.kho?.image !== undefined ? `from image ${r.kho.image}` : 'in the same memory';
      const why = r.kho?.reason ? ` (${r.kho.reason.replace(/^\w+: /, '')})` : '';
      line = `restore ${from}: ${errText(p.err)}${p.err === 0 ? `, adopted ${p.tables} table pages` : why}`;
      break;
    }
  }
  return [line, ...r.events.map((e) => `  ${eventText(e)}`), ...(r.freed ?? []).map((f) => `  ${freedText(f)}`)];
}

/**
 * Decode the table dumps of golden traces with a format alone (no walker):
 * every leaf item must decode to the OA, size and permissions the trace's
 * own maps put there and re-encode to the same 64 bits; every table item
 * must decode as a table pointer.
 */
import {
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_SIGN_EXTEND,
  PtCommon,
  PtRange,
  PtState,
  PtWriteAttrs,
  TableMemory,
  U64Pair,
  featureBits,
  hiOfBig,
  IntervalMap,
  loOfBig,
  U64_MAX,
  u64ToBigInt,
  type AnyPtFormat,
} from '@genpt/pt-core';
import { defaultGoldenCfg } from './session.js';
import type { GoldenTrace } from './schema.js';

export interface DecodeReport {
  leaves: number;
  tables: number;
  dumps: number;
  problems: string[];
}

function hex(v: bigint): string {
  return '0x' + v.toString(16);
}

/** Check every dump of one trace; returns counts and the first problems found. */
export function decodeGoldenDumps(trace: GoldenTrace, fmt: AnyPtFormat): DecodeReport {
  const report: DecodeReport = { leaves: 0, tables: 0, dumps: 0, problems: [] };
  if (trace.init.err !== 0) return report;
  const common = new PtCommon(fmt, new TableMemory({ maxBytes: 1 << 16 }), { debug: true });
  common.features = featureBits(trace.config.features, fmt.featureNames);
  common.maxVaszLg2 = trace.init.maxVaszLg2!;
  common.maxOaszLg2 = trace.init.maxOaszLg2!;
  // The format's init sets what the config decides beyond the widths (a granule chosen at init: DART, ARMv8).
  fmt.iommuFmtInit(common, defaultGoldenCfg(trace.config));
  const vasz = trace.init.maxVaszLg2!;
  const signExtend = common.feature(PT_FEAT_SIGN_EXTEND);
  const oaMask = (1n << BigInt(fmt.maxOutputAddressLg2)) - 1n;
  // A scratch table to decode and re-encode items in.
  const scratch = common.mem.alloc(Math.max(12, common.tablememLg2sz));
  const range = new PtRange(common);
  const pts = new PtState(range).init(range, 0, scratch);
  const words = common.words;
  const attrs = new PtWriteAttrs();
  const want = new PtWriteAttrs();
  const written = new PtWriteAttrs();
  const oa = new U64Pair();
  // What the trace's successful (or partial) maps and its unmaps leave mapped.
  const model = new IntervalMap();
  const problem = (s: string) => {
    if (report.problems.length < 20) report.problems.push(s);
  };
  const setItem = (index: number, v: bigint) => pts.setItem(index, hiOfBig(v), loOfBig(v));
  const item = (index: number) => u64ToBigInt(pts.itemHi(index), pts.itemLo(index));

  trace.steps.forEach((step, stepIndex) => {
    if (step.op === 'map' && step.result) {
      const len = BigInt(step.result.mapped);
      if (len > 0n) model.map(BigInt(step.iova), BigInt(step.iova) + len - 1n, BigInt(step.paddr), step.prot);
    } else if (step.op === 'unmap' && step.result) {
      const len = BigInt(step.result.unmapped);
      if (len > 0n) model.unmap(BigInt(step.iova), BigInt(step.iova) + len - 1n);
    } else if (step.op === 'dump' && step.result) {
      report.dumps++;
      for (const table of step.result.tables) {
        const level = table.level;
        const isz = common.itemLg2sz[level]!;
        pts.level = level;
        for (const [index, rawHex, kind] of table.entries) {
          const raw = BigInt(rawHex);
          words.fill(0, pts.base, pts.base + 1024);
          const at = `step ${stepIndex} table [${table.path.join(',')}] L${level} index ${index}`;
          if (kind === 'T') {
            report.tables++;
            pts.index = index & 511;
            setItem(pts.index, raw);
            if (fmt.loadEntryRaw(pts) !== PT_ENTRY_TABLE) problem(`${at}: T item ${rawHex} does not decode as a table`);
            continue;
          }
          if (kind !== 'L') continue;
          report.leaves++;
          // Decode where it sits (index within this scratch table)
          pts.index = index & 511;
          setItem(pts.index, raw);
          if (fmt.loadEntryRaw(pts) !== PT_ENTRY_OA) {
            problem(`${at}: L item ${rawHex} does not decode as a leaf`);
            continue;
          }
          const contig = fmt.entryNumContigLg2(pts);
          const size = isz + contig;
          fmt.entryOa(pts, oa);
          const entryOa = oa.bigint();
          // This item's share of the entry (pt_item_oa()'s default is only exact at index 0).
          const itemOa = entryOa + (BigInt(index & ((1 << contig) - 1)) << BigInt(isz));
          let va = BigInt(table.va) + (BigInt(index) << BigInt(isz));
          if (signExtend && (va >> BigInt(vasz - 1)) & 1n) va |= U64_MAX & ~((1n << BigInt(vasz)) - 1n);
          // The trace's maps put this OA at this VA, in one mapping covering the whole entry.
          let hit = model.find(va);
          if (hit === undefined && signExtend) {
            // Linux 7.0 lets a map run across the canonical hole (quirk-canonical-hole):
            // its pages past the hole were asked for at non-canonical VAs.
            va &= (1n << BigInt(vasz)) - 1n;
            hit = model.find(va);
          }
          const entryVa = va & ~((1n << BigInt(size)) - 1n);
          if (hit === undefined) {
            problem(`${at}: leaf at VA ${hex(va)} but the trace mapped nothing there`);
            continue;
          }
          // OAs past the format's width wrap (quirk-oa-overflow: only paddr is checked).
          const m = hit.range;
          const mappedOa = hit.oa & oaMask;
          if (mappedOa !== itemOa) problem(`${at}: VA ${hex(va)} decodes to ${hex(itemOa)}, mapped ${hex(mappedOa)}`);
          if (entryVa < m.start || entryVa + (1n << BigInt(size)) - 1n > m.last) {
            problem(`${at}: a 2^${size} leaf at ${hex(entryVa)} is not inside the mapping [${hex(m.start)}, ${hex(m.last + 1n)})`);
          }
          // Permissions: what set_prot makes of the mapping's prot. A clean
          // leaf's bits differ from those map wrote where the dirty state
          // lives in the permission bits (ARMv8 DBM: AP[2], S2AP[1]), so
          // compare the written (dirty) form: the hardware's write puts it back.
          fmt.attrFromEntry(pts, attrs);
          const dirty = fmt.hasWriteDirty && fmt.entryIsWriteDirty(pts);
          written.set(attrs.descriptorHi, attrs.descriptorLo);
          if (fmt.hasWriteDirty && !dirty && fmt.entryMakeWriteDirty(pts)) {
            fmt.loadEntryRaw(pts);
            fmt.attrFromEntry(pts, written);
            setItem(pts.index, raw);
            fmt.loadEntryRaw(pts);
          }
          fmt.iommuSetProt(common, want, m.prot);
          if (written.descriptorHi !== want.descriptorHi || written.descriptorLo !== want.descriptorLo) {
            problem(`${at}: attrs of ${rawHex} are not those of prot ${m.prot}`);
          }
          // Re-encode the whole entry and compare this item (dirty state is hardware's, add it back).
          const first = pts.index & ~((1 << contig) - 1);
          words.fill(0, pts.base, pts.base + 1024);
          pts.index = first;
          fmt.installLeafEntry(pts, oa.set(hiOfBig(entryOa), loOfBig(entryOa)).hi, oa.lo, size, attrs);
          pts.index = index & 511;
          if (dirty) {
            fmt.loadEntryRaw(pts);
            fmt.entryMakeWriteDirty(pts);
          }
          if (item(pts.index) !== raw) problem(`${at}: re-encoding gives ${hex(item(pts.index))}, the dump has ${rawHex}`);
        }
      }
    }
  });
  return report;
}

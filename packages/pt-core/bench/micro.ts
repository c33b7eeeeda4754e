/**
 * Micro-benchmark of pt-core's hot primitives against their BigInt
 * equivalents. Each case runs one operation over 512 inputs (a table's worth)
 * per sample; the numbers are ns per operation (median and minimum over
 * mitata's samples).
 *
 *   pnpm --filter @genpt/pt-core bench
 */
import { do_not_optimize, measure } from 'mitata';
import os from 'node:os';
import { ffs64, fls64, ptComputeBestPgsize, TableMemory, u64AddHi, u64AddLo, U64Pair, u64ShrLo, u64Split } from '../src/index.js';

const N = 512;
const M64 = (1n << 64n) - 1n;

// Inputs: a table of entries and a list of VAs/values, both as word pairs and as BigInt.
const mem = new TableMemory();
const tablePa = mem.alloc(12);
const words = mem.words;
const base = mem.wordIndex(tablePa);
const big = new BigUint64Array(N);
const vaHi = new Int32Array(N);
const vaLo = new Int32Array(N);
const vaBig: bigint[] = [];
let seed = 0x12345678;
function rnd32(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed | 0;
}
for (let i = 0; i < N; i++) {
  const hi = rnd32();
  const lo = rnd32();
  words[base + 2 * i] = lo;
  words[base + 2 * i + 1] = hi;
  big[i] = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  vaHi[i] = hi;
  vaLo[i] = lo;
  vaBig.push(big[i]!);
}
const safeNums = Array.from({ length: N }, (_, i) => i * 0x1000 + 0x7000_0000_0000);
const bigNums = safeNums.map((n) => BigInt(n));

interface Case {
  name: string;
  genpt: () => unknown;
  bigint: () => unknown;
}

const cases: Case[] = [
  {
    name: 'entry load (present test)',
    genpt: () => {
      let n = 0;
      for (let i = 0; i < N; i++) if (words[base + 2 * i]! & 1) n++;
      return n;
    },
    bigint: () => {
      let n = 0;
      for (let i = 0; i < N; i++) if (big[i]! & 1n) n++;
      return n;
    },
  },
  {
    name: 'entry store (OA | attrs)',
    genpt: () => {
      for (let i = 0; i < N; i++) {
        const w = base + 2 * i;
        words[w] = (i << 12) | 1;
        words[w + 1] = 0x60000000;
      }
    },
    bigint: () => {
      for (let i = 0; i < N; i++) big[i] = (BigInt(i) << 12n) | 1n | 0x6000000000000000n;
    },
  },
  {
    name: 'entry cmpxchg',
    genpt: () => {
      let ok = 0;
      for (let i = 0; i < N; i++) {
        const w = base + 2 * i;
        if (words[w] === ((i << 12) | 1) && words[w + 1] === 0x60000000) {
          words[w] = (i << 12) | 1;
          words[w + 1] = 0x60000000;
          ok++;
        }
      }
      return ok;
    },
    bigint: () => {
      let ok = 0;
      for (let i = 0; i < N; i++) {
        const want = (BigInt(i) << 12n) | 1n | 0x6000000000000000n;
        if (big[i] === want) {
          big[i] = want;
          ok++;
        }
      }
      return ok;
    },
  },
  {
    name: 'u64 add',
    genpt: () => {
      let h = 0;
      let l = 0;
      for (let i = 0; i < N; i++) {
        const nh = u64AddHi(h, l, vaHi[i]!, vaLo[i]!);
        l = u64AddLo(h, l, vaHi[i]!, vaLo[i]!);
        h = nh;
      }
      return h ^ l;
    },
    bigint: () => {
      let a = 0n;
      for (let i = 0; i < N; i++) a = BigInt.asUintN(64, a + vaBig[i]!);
      return a;
    },
  },
  {
    name: 'VA -> table index (level 2)',
    genpt: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += u64ShrLo(vaHi[i]!, vaLo[i]!, 30) & 511;
      return s;
    },
    bigint: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += Number((vaBig[i]! >> 30n) & 511n);
      return s;
    },
  },
  {
    name: 'fls64 / ffs64',
    genpt: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += fls64(vaHi[i]!, vaLo[i]!) + ffs64(vaHi[i]!, vaLo[i]!);
      return s;
    },
    bigint: () => {
      let s = 0;
      for (let i = 0; i < N; i++) {
        const v = vaBig[i]!;
        s += v.toString(2).length;
        s += v === 0n ? 64 : (v & -v).toString(2).length - 1;
      }
      return s;
    },
  },
  {
    name: 'best page size',
    genpt: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += ptComputeBestPgsize(0x000fffff, -4096, 0, vaLo[i]! & ~0xfff, 0, 0x7fffffff, 0, 0);
      return s;
    },
    bigint: () => {
      let s = 0;
      for (let i = 0; i < N; i++) s += bigBestPgsize(0xffffffffff000n, vaBig[i]! & 0x7ffff000n, 0x7fffffffn, 0n);
      return s;
    },
  },
  {
    name: 'API number -> words',
    genpt: () => {
      const p = new U64Pair();
      let s = 0;
      for (let i = 0; i < N; i++) {
        u64Split(safeNums[i]!, p);
        s ^= p.hi ^ p.lo;
      }
      return s;
    },
    bigint: () => {
      let s = 0n;
      for (let i = 0; i < N; i++) {
        const v = bigNums[i]!;
        if (v < 0n || v > M64) throw new RangeError();
        s ^= v;
      }
      return s;
    },
  },
];

function bigBestPgsize(bitmap: bigint, va: bigint, last: bigint, oa: bigint): number {
  if (va >= last) return 0;
  const len = last - va + 1n;
  let mask = va | oa | (1n << BigInt(len.toString(2).length - 1));
  let best = 0;
  while (!(mask & 1n)) {
    mask >>= 1n;
    best++;
  }
  const b = best < 63 ? bitmap & ((1n << BigInt(best + 1)) - 1n) : bitmap;
  return b === 0n ? 0 : b.toString(2).length - 1;
}

async function main(): Promise<void> {
  console.log(`pt-core micro-benchmark: ${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} cpus, node ${process.version}`);
  console.log('ns per operation (median / min), mitata, 512 operations per sample\n');
  const rows: string[][] = [['operation', 'genpt (u32 words)', 'BigInt', 'BigInt / genpt']];
  for (const c of cases) {
    const a = await measure(() => do_not_optimize(c.genpt()));
    const b = await measure(() => do_not_optimize(c.bigint()));
    const fmt = (s: { p50: number; min: number }) => `${(s.p50 / N).toFixed(2)} / ${(s.min / N).toFixed(2)}`;
    rows.push([c.name, fmt(a), fmt(b), `${(b.p50 / a.p50).toFixed(1)}x`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
}

await main();

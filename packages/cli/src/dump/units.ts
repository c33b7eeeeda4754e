/** Sizes and addresses for people: 4K, 2M, 1G; 0x-prefixed hex. */

const UNITS: ReadonlyArray<readonly [number, string]> = [
  [60, 'E'],
  [50, 'P'],
  [40, 'T'],
  [30, 'G'],
  [20, 'M'],
  [10, 'K'],
];

/** 2^lg2 bytes as "4K", "2M", "512G"; "1B" .. "512B" below a KiB. */
export function sizeLg2Text(lg2: number): string {
  for (const [u, name] of UNITS) if (lg2 >= u) return `${2 ** (lg2 - u)}${name}`;
  return `${2 ** lg2}B`;
}

/** Any byte count, exactly: "16K", "6M", "1G+4M+64K", "4097B". */
export function bytesText(n: bigint): string {
  if (n === 0n) return '0';
  const parts: string[] = [];
  let rest = n;
  for (const [u, name] of UNITS) {
    const unit = 1n << BigInt(u);
    if (rest >= unit) {
      parts.push(`${rest / unit}${name}`);
      rest %= unit;
    }
  }
  if (rest > 0n) parts.push(`${rest}B`);
  // Too many pieces reads worse than a plain number.
  return parts.length <= 3 ? parts.join('+') : `${n}B`;
}

/** "0x..." lowercase, no padding. */
export function hx(v: bigint | number): string {
  return '0x' + v.toString(16);
}

/**
 * The campaign's coverage so far: a bitmap of hashed features (a branch and
 * its hit-count bucket, a pair of preemption points, the order two tasks took
 * a lock in), AFL/libFuzzer-style. A run is interesting when it sets a bit.
 */
const BITS = 22;
const MASK = (1 << BITS) - 1;

export const enum FeatureKind {
  Branch = 1,
  Pair = 2,
  LockOrder = 3,
}

/** A 32-bit mix of a kind and up to three numbers. */
export function feature(kind: FeatureKind, a: number, b = 0, c = 0): number {
  let h = Math.imul(kind, 0x9e3779b1) ^ a;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) ^ c;
  h = Math.imul(h ^ (h >>> 16), 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

/** AFL's hit-count buckets: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
export function bucket(n: number): number {
  if (n <= 3) return n;
  if (n < 8) return 4;
  if (n < 16) return 5;
  if (n < 32) return 6;
  if (n < 128) return 7;
  return 8;
}

export class FeatureMap {
  private readonly bits = new Uint8Array((MASK + 1) >>> 3);
  size = 0;

  /** Add a run's features; how many were new. */
  addAll(fs: readonly number[]): number {
    let fresh = 0;
    for (const f of fs) {
      const i = f & MASK;
      const m = 1 << (i & 7);
      const byte = this.bits[i >>> 3]!;
      if ((byte & m) === 0) {
        this.bits[i >>> 3] = byte | m;
        fresh++;
      }
    }
    this.size += fresh;
    return fresh;
  }
}

/** What a hardware table walk found, shared by the v1 and v2 walkers. */

export const WALK_OK = 0;
/** An entry on the path was not present (PR/P = 0), or the IOVA is outside the table. */
export const WALK_NOT_PRESENT = 1;
/** The leaf was found but does not allow the access. */
export const WALK_PERMISSION = 2;
/** An entry had an illegal encoding (reserved level, bad page size, reserved bits). */
export const WALK_RESERVED = 3;

/** Walk flags. */
export const WALK_WRITE = 1 << 0;
/** Set the Accessed bit in the entries the walk used. */
export const WALK_UPDATE_A = 1 << 1;
/** Set the Dirty bit in the leaf on a permitted write. */
export const WALK_UPDATE_D = 1 << 2;

export class WalkResult {
  status = WALK_OK;
  /** Permissions along the path (valid once a leaf was reached). */
  read = false;
  write = false;
  /** Leaf size. */
  sizeLg2 = 0;
  /** OA of the leaf's first byte. */
  oaHi = 0;
  oaLo = 0;
  /** PA of the leaf entry the walk used. */
  leafPa = -1;
  /** The leaf's D bit after the walk. */
  dirty = false;
  /** The walk started from a cached directory entry. */
  pdeHit = false;

  reset(): this {
    this.status = WALK_OK;
    this.read = false;
    this.write = false;
    this.sizeLg2 = 0;
    this.oaHi = 0;
    this.oaLo = 0;
    this.leafPa = -1;
    this.dirty = false;
    this.pdeHit = false;
    return this;
  }
}

/**
 * The iommufd object table (ictx->objects): ids allocated lowest-free from 1,
 * objects invisible until finalized, and a users count that makes
 * IOMMU_DESTROY fail with EBUSY while anything else holds the object.
 */
import { fail } from './errors.js';

export type IommufdObjType = 'ioas' | 'hwpt_paging' | 'device' | 'access' | 'selftest';

export abstract class IommufdObject {
  abstract readonly type: IommufdObjType;
  id = 0;
  /** The table's own reference plus one per holder (hwpt -> ioas, attach -> hwpt ...). */
  users = 1;
  /** Release what the object holds; called once when it leaves the table. */
  abstract destroy(): void;
}

export class ObjectTable {
  private readonly objs = new Map<number, { obj: IommufdObject; live: boolean }>();

  /** _iommufd_object_alloc(): reserve the lowest free id. */
  alloc<T extends IommufdObject>(obj: T): T {
    let id = 1;
    while (this.objs.has(id)) id++;
    obj.id = id;
    this.objs.set(id, { obj, live: false });
    return obj;
  }

  /** iommufd_object_finalize(): make it visible to lookups. */
  finalize(obj: IommufdObject): void {
    this.objs.get(obj.id)!.live = true;
  }

  /** iommufd_object_abort_and_destroy(): undo an allocation that failed half way. */
  abort(obj: IommufdObject): void {
    if (this.objs.get(obj.id)?.obj !== obj) throw new Error('abort of an object not in the table');
    this.objs.delete(obj.id);
    obj.destroy();
  }

  /** iommufd_get_object(): ENOENT when missing, not finalized, or of another type. */
  get<T extends IommufdObject>(id: number, type?: T['type']): T {
    const e = this.objs.get(id);
    if (e === undefined || !e.live || (type !== undefined && e.obj.type !== type)) fail('ENOENT', `object ${id}`);
    return e.obj as T;
  }

  /** iommufd_object_remove(): destroy unless someone else holds it (EBUSY). */
  remove(id: number): void {
    const e = this.objs.get(id);
    if (e === undefined || !e.live) fail('ENOENT', `object ${id}`);
    if (e.obj.users !== 1) fail('EBUSY', `object ${id} is in use`);
    this.objs.delete(id);
    e.obj.destroy();
  }

  /** Drop a reference; destroy when only the table's own is left (iommufd_object_put_and_try_destroy). */
  putAndTryDestroy(obj: IommufdObject): void {
    obj.users--;
    if (obj.users === 1 && this.objs.get(obj.id)?.obj === obj) this.remove(obj.id);
  }

  has(id: number): boolean {
    return this.objs.get(id)?.live ?? false;
  }

  /** Finalized objects, for teardown. */
  list(): IommufdObject[] {
    return [...this.objs.values()].filter((e) => e.live).map((e) => e.obj);
  }

  get size(): number {
    return this.objs.size;
  }
}

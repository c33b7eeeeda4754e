/**
 * preserve: describe the live table so another PtIommu can adopt its pages
 * in place (PtIommu.restore): KHO's preserve for a kernel live upgrade, or
 * an emulator's snapshot of a device's translation state. Reads only; the
 * descriptor stays true until the next change to the table.
 */
import { PtError } from '@genpt/pt-core';
import { definePtOp } from '../op.js';
import { PT_PRESERVE_KIND, type PtPreserveDescriptor } from '../preserve-descriptor.js';

export const preserveOp = definePtOp({
  name: 'preserve',
  // validate's walk lists the tables and their levels; preserve owns no state.
  newState: () => null,
  build: () => null,
  methods: {
    /**
     * The descriptor of this table: format, config, top level and PA, and
     * every table page with its level and block size, the top first, as
     * plain JSON. EFAULT (naming the first bad pointer) for a table whose
     * structure validate() refuses: such a table cannot be restored.
     */
    preserve(): PtPreserveDescriptor {
      this.opCheckLive();
      const st = this.states.validate;
      const n = this.walks.validate(this, st);
      if (n !== 0) throw new PtError('EFAULT', `preserve: ${st.problems[0]!.message}${n > 1 ? ` (and ${n - 1} more)` : ''}`);
      const common = this.common;
      const mem = common.mem;
      return {
        kind: PT_PRESERVE_KIND,
        format: this.fmt.name,
        config: { ...this.cfg },
        topLevel: common.topLevel,
        topPa: common.topTable,
        basePa: mem.basePa,
        tables: st.tables.map((pa, i) => ({ pa, level: st.levels[i]!, sizeLg2: mem.blockLg2(pa) })),
      };
    },
  },
});

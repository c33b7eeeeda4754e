// An error thrown from inside the per-format map code: a checked table whose
// format installs leaves one page off, so pt_check_install_leaf_args fires
// under the map walk of the format's slot. Prints the error as JSON for
// toolchain-check.mjs, which looks at the files the stack names.
import { X86_64Format } from '@genpt/fmt-x86-64';
import { PtIommu } from '@genpt/iommu-ops';
import { IOMMU_READ } from '@genpt/pt-core';

Error.stackTraceLimit = 50;

class OffByOnePage extends X86_64Format {
  installLeafRun(pts, count, oaHi, oaLo, oaszLg2, attrs) {
    return super.installLeafRun(pts, count, oaHi, oaLo + 0x1000, oaszLg2, attrs);
  }
}

const cfg = { features: 0, hwMaxVaszLg2: 47, hwMaxOaszLg2: 52, topLevel: 3 };
const table = PtIommu.init(new OffByOnePage(), cfg, { checked: true });
try {
  table.mapRange(0x200000, 0x80200000, 0x200000, IOMMU_READ);
  console.log(JSON.stringify({ thrown: false }));
} catch (e) {
  console.log(JSON.stringify({ thrown: true, name: e.name, message: e.message, stack: e.stack }));
}

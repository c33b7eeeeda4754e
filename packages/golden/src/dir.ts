import { fileURLToPath } from 'node:url';

/** The kernel's golden traces shipped with this package (traces/<format>/<config>--<scenario>.json). */
export const goldenDir: string = fileURLToPath(new URL('../traces', import.meta.url));

/** Linux's io-pgtable traces shipped with this package (traces-iopgtable/lpae, traces-iopgtable/armv7s). */
export const goldenIoPgtableDir: string = fileURLToPath(new URL('../traces-iopgtable', import.meta.url));

import { fileURLToPath } from 'node:url';

/** The kernel's golden traces shipped with this package (traces/<format>/<config>--<scenario>.json). */
export const goldenDir: string = fileURLToPath(new URL('../traces', import.meta.url));

import { fileURLToPath } from 'node:url';

/** The kernel's golden traces shipped with this package (golden/<format>/<config>--<scenario>.json). */
export const goldenDir: string = fileURLToPath(new URL('../../golden', import.meta.url));

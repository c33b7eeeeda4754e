/** Path of a usable Chromium or Chrome (GENPT_CHROMIUM first), or undefined. */
export function findChromium(): string | undefined;
/** The one line telling a user without a browser what to do. */
export const NO_CHROMIUM: string;

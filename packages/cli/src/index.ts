/** @genpt/cli: the genpt command, also callable as a function. */
export { main, mainHelp } from './main.js';
export { CliError } from './cli-error.js';
export { formats } from './formats.js';

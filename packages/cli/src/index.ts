/** @genpt/cli: the genpt command, also callable as a function, and the pieces it is built from. */
export { main, mainHelp } from './main.js';
export { CliError } from './cli-error.js';
export { formats } from './formats.js';
export { configNames, resolveConfig, type NamedConfig } from './configs.js';
export { parseScript, parseProt, OPS, type Script, type OpStep, type KhoFiles } from './script.js';
export { ScriptRunner, type StepRecord, type FreedTable } from './runner.js';
export { chooseSetup, openRunner, runScript, type Setup, type SetupFlags } from './setup.js';
export { demoScript, type DemoPart } from './demo-script.js';
export { stepText } from './step-text.js';
export { LeafDecoder, protText, type LeafInfo } from './decode/leaf.js';
export {
  tableTree,
  type TableTreeOptions,
  type TableTree,
  type TableNode,
  type Run,
  type LeafRun,
  type TableRun,
  type OtherRun,
} from './dump/model.js';
export { renderTextDump, type TextDumpOptions } from './dump/text.js';
export { renderHtmlDump } from './dump/html.js';
export { treeJson } from './dump/json.js';
export { tableImage, walkCommand } from './outputs.js';
export { MemoryImage } from './walk/image.js';
export { walkImage, type WalkResult, type WalkLevel, type WalkFault, type WalkTableParams } from './walk/walk.js';
export { AmdDmaRunner, type DmaRecord, type DmaResultJson } from './dma/runner.js';
export { dmaScriptFrom, DMA_OPS, type DmaScript, type DmaStep } from './dma/script.js';

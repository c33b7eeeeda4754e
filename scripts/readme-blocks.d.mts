export interface ReadmeExample {
  /** The program, as the README shows it. */
  code: string;
  /** The lines the README says it prints, or null when it shows none. */
  expected: string[] | null;
  /** Line of the README where its block opens. */
  line: number;
}
export interface ReadmeInstall {
  /** `npm install ...` as written, without a trailing comment. */
  command: string;
  /** Everything after `npm install`. */
  args: string[];
  /** The package names among args (flags left out). */
  packages: string[];
}
/** The install line and the runnable examples of a package README. */
export function parseReadme(text: string): { install: ReadmeInstall | null; examples: ReadmeExample[] };
/** The packages an example imports (node: builtins and relative imports left out). */
export function importedPackages(code: string): string[];

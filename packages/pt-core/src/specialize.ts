/**
 * Per-format specialisation of generic code.
 *
 * The kernel compiles its generic page table code once per format so the
 * format's accessors inline. V8 keeps type feedback per function, so one
 * walker calling several formats' methods goes megamorphic (an order of
 * magnitude slower per entry). A *template* is a plain function whose body
 * defines the generic code and returns it; {@link specialize} compiles a fresh
 * copy of it from its source for each format, so each copy's call sites only
 * ever see one format and inline it.
 *
 * A template must be self-contained: it may use its parameters, names it
 * defines, and globals, never a module import (those are not in scope of the
 * copy). Pass dependencies in as parameters and destructure them at the top.
 */

type Template = (...args: never[]) => unknown;

const caches = new WeakMap<Template, WeakMap<object, Template>>();

function envDisabled(): boolean {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env?.['GENPT_SPECIALIZE'] === '0';
}

let enabled = !envDisabled();

/**
 * Turn specialisation off (every caller shares the original function, e.g.
 * to debug with source maps) or back on. Also settable with
 * GENPT_SPECIALIZE=0 in the environment.
 */
export function setSpecialization(on: boolean): void {
  enabled = on;
}

export function specializationEnabled(): boolean {
  return enabled;
}

function compile<T extends Template>(template: T, label: string): T {
  const src = Function.prototype.toString.call(template);
  if (!/^function[\s*(]/.test(src) && !/^\(?[\w\s,]*\)?\s*=>/.test(src)) {
    throw new TypeError(`template ${template.name} must be a plain function`);
  }
  const safe = label.replace(/[^\w.-]/g, '_');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return new Function(`"use strict";\nreturn (${src});\n//# sourceURL=genpt-specialized/${safe}.js`)() as T;
  } catch (e) {
    // No code generation allowed here (a CSP); fall back to the shared copy.
    if (e instanceof EvalError) return template;
    throw e;
  }
}

/**
 * The copy of `template` dedicated to `key` (a format object, usually),
 * compiled on first use and cached for the key's lifetime.
 */
export function specialize<T extends Template>(template: T, key: object, label: string): T {
  if (!enabled) return template;
  let perKey = caches.get(template);
  if (perKey === undefined) {
    perKey = new WeakMap();
    caches.set(template, perKey);
  }
  let fn = perKey.get(key) as T | undefined;
  if (fn === undefined) {
    fn = compile(template, `${label}.${template.name}`);
    perKey.set(key, fn);
  }
  return fn;
}

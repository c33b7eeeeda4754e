import { describe, expect, it } from 'vitest';
import { genpt } from './run-cli.js';

const COMMANDS = ['demo', 'run', 'dump', 'walk', 'golden', 'bench'];

describe('genpt --help', () => {
  it('lists every command with a summary', () => {
    const r = genpt(['--help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(r.stdout).toContain('hex (0x...) or decimal');
  });

  for (const c of COMMANDS) {
    it(`${c} --help prints its usage on stdout and exits 0`, () => {
      const r = genpt([c, '--help']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: genpt ${c}`));
      expect(r.stderr).toBe('');
    });
  }

  it('unknown options of any command are usage errors with EINVAL, exit 2', () => {
    for (const c of COMMANDS) {
      const r = genpt([c, '--no-such-option']);
      expect(r.status, c).toBe(2);
      expect(r.stderr, c).toMatch(/^genpt: EINVAL: /);
      expect(r.stdout, c).toBe('');
    }
  });
});

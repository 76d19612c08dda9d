/**
 * The README's quicer sections cannot drift from the code: the quick start is
 * examples/quick-start.ts (built and run by echo.test.ts), and the conn_opts table lists
 * exactly the keys src/quicer/options.ts knows, with the defaults it applies and the state
 * its validation gives each key (takes effect / read-only / not available yet).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { QUICER_CONN_OPTS, QUICER_CONN_OPT_KEYS, validateConnOpts } from '../../src/quicer/options.js';
import { selfSignedCertificate } from '../../src/tls/certificate-authority.js';
import * as quicer from '../../src/quicer/quicer.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

interface Row {
  key: string;
  side: string;
  default: string;
  state: string;
  notes: string;
}

function connOptsTable(): Row[] {
  const start = readme.indexOf('<!-- conn_opts table');
  const end = readme.indexOf('<!-- end of conn_opts table -->');
  expect(start).toBeGreaterThan(0);
  expect(end).toBeGreaterThan(start);
  const lines = readme.slice(start, end).split('\n').filter((l) => l.startsWith('| `'));
  return lines.map((l) => {
    const cells = l.split(' | ').map((c) => c.replace(/^\| /, '').replace(/ \|$/, '').trim());
    return { key: cells[0]!.replace(/`/g, ''), side: cells[1]!, default: cells[2]!, state: cells[3]!, notes: cells.slice(4).join(' | ') };
  });
}

const STATE_TEXT = { effective: 'takes effect', 'read-only': 'read-only', 'not-available-yet': 'not available yet' } as const;

/** The words validation uses when it refuses a key of that state outright. */
function refusal(key: string): string | undefined {
  try {
    validateConnOpts({ alpn: ['x'], [key]: -1 }, { side: 'client' });
  } catch (e) {
    const m = (e as Error).message;
    if (!m.startsWith(`conn_opts.${key}: -1 was given, but`)) return undefined;
    if (m.includes('not available yet')) return 'not available yet';
    if (m.includes('read-only')) return 'read-only';
  }
  return undefined;
}

function fmt(v: number | boolean): string {
  return typeof v === 'boolean' ? String(v) : v.toLocaleString('en-US');
}

describe('README: the conn_opts table', () => {
  const rows = connOptsTable();
  /** A listener's options need a certificate. */
  let serverBase: Record<string, unknown>;
  beforeAll(async () => {
    const id = await selfSignedCertificate({ hosts: ['localhost'], now: Date.now() });
    serverBase = { alpn: ['x'], cert: id.certificatePem, key: id.privateKeyPem };
  });

  it('lists every key options.ts knows, once', () => {
    const keys = rows.map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual([...QUICER_CONN_OPT_KEYS].sort());
  });

  it('gives each key the state options.ts declares, and validation acts on it', () => {
    const declared = new Map(QUICER_CONN_OPTS.map((i) => [i.key, STATE_TEXT[i.state]]));
    const mismatches = rows.filter((r) => r.state !== declared.get(r.key)).map((r) => `${r.key}: README says ${r.state}, options.ts ${declared.get(r.key)}`);
    expect(mismatches).toEqual([]);
    for (const r of rows) {
      if (r.state === 'takes effect') expect(refusal(r.key), r.key).toBeUndefined();
      else expect(refusal(r.key), r.key).toBe(r.state);
    }
  });

  it('gives each setting the default options.ts applies (client default in parentheses when it differs)', () => {
    const server = validateConnOpts(serverBase, { side: 'server' }).settings;
    const client = validateConnOpts({ alpn: ['x'] }, { side: 'client' }).settings;
    let checked = 0;
    for (const r of rows) {
      const s = server[r.key];
      if (s === undefined) continue;
      const c = client[r.key]!;
      expect(r.default, r.key).toBe(fmt(s) + (c !== s ? ` (client: ${fmt(c)})` : ''));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    const d = validateConnOpts({ alpn: ['x'] }, { side: 'client' });
    const row = (k: string): Row => rows.find((r) => r.key === k)!;
    expect(row('custom_verify').default).toBe(String(d.customVerify));
    expect(row('quic_event_mask').default).toBe(String(d.quicEventMask));
    expect(d.verifyPeer).toBe(false);
    expect(row('verify').default).toBe('none');
  });

  it('says BBR is not available yet exactly when validation refuses congestion_control_algorithm 1', () => {
    const refused = (() => {
      try {
        validateConnOpts({ alpn: ['x'], congestion_control_algorithm: 1 }, { side: 'client' });
        return false;
      } catch (e) {
        return (e as Error).message.includes('not available yet');
      }
    })();
    expect(rows.find((r) => r.key === 'congestion_control_algorithm')!.notes.includes('not available yet')).toBe(refused);
  });
});

describe('README: the quick start', () => {
  it('is examples/quick-start.ts (importing purequic)', () => {
    const file = readFileSync(new URL('../../examples/quick-start.ts', import.meta.url), 'utf8');
    const code = file.slice(file.indexOf('*/\n') + 3).replace("'../src/index.js'", "'purequic'");
    const start = readme.indexOf('### Quick start');
    const open = readme.indexOf('```ts\n', start) + '```ts\n'.length;
    const close = readme.indexOf('```\n', open);
    expect(readme.slice(open, close)).toBe(code);
  });
});

describe("README: quicer's functions", () => {
  /** Helpers the quicer namespace carries that are not quicer functions (what setopt stands on). */
  const notQuicerFunctions = ['migrateLocalAddress', 'startLocalMigration', 'applyRuntimeSettings'];

  it('lists every function of the quicer namespace, and only those', () => {
    const start = readme.indexOf("### quicer's functions");
    const para = readme.slice(start, readme.indexOf('A function that needs an owner', start));
    const listed = [...para.matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1]!).filter((n) => n !== 'quicer');
    const functions = Object.entries(quicer)
      .filter(([, v]) => typeof v === 'function' && !/^[A-Z]/.test((v as { name: string }).name))
      .map(([k]) => k)
      .filter((k) => !notQuicerFunctions.includes(k));
    expect([...listed].sort()).toEqual([...functions].sort());
  });
});

/**
 * The quicer layer's public surface is documented and exported: every exported declaration of
 * src/quicer/ and every public member of its exported classes and interfaces (callbacks and
 * props fields included) carries a doc comment (what TypeDoc renders), and src/index.ts exports
 * the quicer API next to the transport's.
 */
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import * as api from '../../src/index.js';
import * as quicerModule from '../../src/quicer/quicer.js';

const dir = new URL('../../src/quicer/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

/** Declarations without a doc comment right above them, as "file:line name". */
function undocumented(file: string): string[] {
  const lines = readFileSync(new URL(file, dir), 'utf8').split('\n');
  const out: string[] = [];
  const documented = (i: number): boolean => (lines[i - 1] ?? '').trim().endsWith('*/');
  let inBody = false;
  let lastMember = '';
  lines.forEach((line, i) => {
    const decl = /^export (?:declare )?(?:abstract )?(?:async )?(function|class|interface|type|const|let|enum) (\w+)/.exec(line);
    if (decl) {
      // The implementation signature of an overloaded function needs no comment of its own.
      const overload = decl[1] === 'function' && (lines[i - 1] ?? '').startsWith(`export function ${decl[2]}`);
      if (!documented(i) && !overload) out.push(`${file}:${i + 1} ${decl[2]}`);
      inBody = (decl[1] === 'class' || decl[1] === 'interface') && !line.trimEnd().endsWith('}');
      lastMember = '';
      return;
    }
    if (inBody && line.startsWith('}')) {
      inBody = false;
      return;
    }
    if (!inBody || /^ {2}(private|protected|#)/.test(line)) return;
    const member = /^ {2}(?:static )?(?:readonly )?(override )?(?:async )?(?:get |set )?([A-Za-z_$][\w$]*)[?!]?(?:\(|<|:| =)/.exec(line);
    if (!member || member[2] === 'constructor') return;
    // Overrides inherit the base's documentation; overload implementations follow a signature.
    const overload = member[2] === lastMember;
    lastMember = member[2]!;
    if (member[1] === undefined && !overload && !documented(i)) out.push(`${file}:${i + 1} ${member[2]}`);
  });
  return out;
}

describe('src/quicer: doc comments on the public surface (declarations, class and interface members)', () => {
  it.each(files)('%s', (file) => {
    expect(undocumented(file)).toEqual([]);
  });
});

describe('src/index.ts: the quicer API', () => {
  it('exports quicer\'s functions as the quicer namespace', () => {
    expect(Object.keys(api.quicer).sort()).toEqual(Object.keys(quicerModule).sort());
    for (const f of ['connect', 'asyncConnect', 'listen', 'handshake', 'startStream', 'asyncSend', 'recv', 'shutdownConnection', 'getopt', 'setopt', 'peername', 'sendDgram']) {
      expect(typeof (api.quicer as Record<string, unknown>)[f], f).toBe('function');
    }
  });

  it('exports the behaviours, processes and handles, and still the transport', () => {
    expect(typeof api.QuicConnection.startLink).toBe('function');
    expect(typeof api.QuicConnection.startAcceptor).toBe('function');
    for (const c of [api.ConnectionProcess, api.Process, api.Inbox, api.QuicConn, api.QuicStrm, api.QuicListener]) expect(typeof c).toBe('function');
    expect(api.SendFlag.FIN).toBe(4);
    expect(api.SendFlag.SYNC).toBe(4096);
    expect(typeof api.QuicEndpoint.bind).toBe('function');
    expect(typeof api.Connection).toBe('function');
  });
});

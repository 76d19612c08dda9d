import { describe, it, expect } from 'vitest';
import { LocalConnectionIds, PeerConnectionIds, type ConnectionIdSource } from '../../src/transport/connection-id.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';

function source(): ConnectionIdSource {
  let n = 100;
  return {
    length: 8,
    generate: () => Uint8Array.of(n++, 0, 0, 0, 0, 0, 0, 1),
    resetToken: (cid) => new Uint8Array(16).fill(cid[0]!),
  };
}
const cid = (b: number) => Uint8Array.of(b, 1, 2, 3);
const token = (b: number) => new Uint8Array(16).fill(b);

function code(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof QuicError ? e.code : -1;
  }
  return undefined;
}

describe('LocalConnectionIds', () => {
  it('issues up to the peer limit and replaces retired IDs', () => {
    const l = new LocalConnectionIds(source(), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    l.setPeerLimit(4);
    expect(l.all.map((c) => c.sequence)).toEqual([0, 1, 2, 3]);
    expect(l.pending).toEqual([1, 2, 3]);
    expect(l.added.length).toBe(3);
    l.onRetire(0, l.get(1)!.cid, 0x19);
    expect(l.all.map((c) => c.sequence)).toEqual([1, 2, 3, 4]);
    expect(l.retired.length).toBe(1);
  });

  it('rejects retiring an unissued sequence or the ID in use', () => {
    const l = new LocalConnectionIds(source(), Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9));
    l.setPeerLimit(2);
    expect(code(() => l.onRetire(5, new Uint8Array(0), 0x19))).toBe(TransportError.PROTOCOL_VIOLATION);
    expect(code(() => l.onRetire(1, l.get(1)!.cid, 0x19))).toBe(TransportError.PROTOCOL_VIOLATION);
  });
});

describe('PeerConnectionIds', () => {
  it('enforces active_connection_id_limit with CONNECTION_ID_LIMIT_ERROR', () => {
    const p = new PeerConnectionIds(2);
    p.setInitial(cid(0));
    p.onNewConnectionId(1, 0, cid(1), token(1), 0x18);
    expect(code(() => p.onNewConnectionId(2, 0, cid(2), token(2), 0x18))).toBe(TransportError.CONNECTION_ID_LIMIT_ERROR);
  });

  it('applies retire_prior_to: retires older IDs and moves to a live one', () => {
    const p = new PeerConnectionIds(4);
    p.setInitial(cid(0));
    p.onNewConnectionId(1, 0, cid(1), token(1), 0x18);
    p.onNewConnectionId(2, 2, cid(2), token(2), 0x18);
    expect(p.retirePending.sort()).toEqual([0, 1]);
    expect(p.activeSequence).toBe(2);
    expect(p.active).toEqual(cid(2));
    // A late NEW_CONNECTION_ID below retire_prior_to is retired at once.
    p.onNewConnectionId(1, 0, cid(1), token(1), 0x18);
    expect(p.retirePending.filter((s) => s === 1).length).toBe(2);
  });

  it('treats conflicting reuse as PROTOCOL_VIOLATION and identical repeats as retransmissions', () => {
    const p = new PeerConnectionIds(4);
    p.setInitial(cid(0));
    p.onNewConnectionId(1, 0, cid(1), token(1), 0x18);
    expect(code(() => p.onNewConnectionId(1, 0, cid(1), token(1), 0x18))).toBeUndefined();
    expect(code(() => p.onNewConnectionId(1, 0, cid(7), token(1), 0x18))).toBe(TransportError.PROTOCOL_VIOLATION);
    expect(code(() => p.onNewConnectionId(3, 0, cid(1), token(3), 0x18))).toBe(TransportError.PROTOCOL_VIOLATION);
    const z = new PeerConnectionIds(4);
    z.setInitial(new Uint8Array(0));
    expect(code(() => z.onNewConnectionId(1, 0, cid(1), token(1), 0x18))).toBe(TransportError.PROTOCOL_VIOLATION);
  });

  it('recognises the peer stateless reset tokens', () => {
    const p = new PeerConnectionIds(4);
    p.setInitial(cid(0), token(9));
    p.onNewConnectionId(1, 0, cid(1), token(1), 0x18);
    expect(p.isStatelessReset(token(9))).toBe(true);
    expect(p.isStatelessReset(token(1))).toBe(true);
    expect(p.isStatelessReset(token(2))).toBe(false);
    expect(p.rotate()).toBe(true);
    expect(p.activeSequence).toBe(1);
    expect(p.retirePending).toEqual([0]);
  });
});

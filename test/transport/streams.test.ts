import { describe, it, expect } from 'vitest';
import { StreamMap, type LocalStreamSettings, type PeerStreamLimits } from '../../src/transport/streams.js';
import type { QuicStream } from '../../src/transport/stream.js';
import { QuicError, TransportError } from '../../src/transport/errors.js';

const local: LocalStreamSettings = {
  maxPeerBidi: 4,
  maxPeerUni: 2,
  windowBidiLocal: 1000,
  windowBidiRemote: 2000,
  windowUni: 3000,
  maxStreamWindow: 1 << 20,
};
const peer: PeerStreamLimits = { maxBidi: 2, maxUni: 1, dataBidiLocal: 10, dataBidiRemote: 20, dataUni: 30 };

function make(role: 'client' | 'server') {
  const opened: number[] = [];
  const m = new StreamMap(role, { ...local }, { ...peer }, { onPeerStreamOpened: (s: QuicStream) => opened.push(s.id) });
  return { m, opened };
}

function code(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof QuicError ? e.code : -1;
  }
  return undefined;
}

describe('StreamMap', () => {
  it('numbers local streams 0, 4, 8 for a client (bidi) and 3, 7 for a server (uni), within the peer limit', () => {
    const c = make('client').m;
    expect(c.open(true)!.id).toBe(0);
    expect(c.open(true)!.id).toBe(4);
    expect(c.open(true)).toBeUndefined();
    expect(c.streamsBlockedOwed[0]).toBe(2);
    expect(c.onMaxStreams(true, 3)).toBe(true);
    expect(c.streamsBlockedOwed[0]).toBe(-1);
    expect(c.open(true)!.id).toBe(8);
    const s = make('server').m;
    expect(s.open(false)!.id).toBe(3);
    expect(s.open(false)).toBeUndefined();
  });

  it('gives each stream the right initial send and receive credit', () => {
    const { m } = make('client');
    const mine = m.open(true)!;
    expect(mine.sendCredit.limit).toBe(20); // peer's bidi_remote
    expect(mine.recvCredit.limit).toBe(1000); // our bidi_local
    const theirs = m.lookup(1, 0x08, true, false)!;
    expect(theirs.sendCredit.limit).toBe(10); // peer's bidi_local
    expect(theirs.recvCredit.limit).toBe(2000); // our bidi_remote
    const uni = m.lookup(3, 0x08, true, false)!;
    expect(uni.send).toBeUndefined();
    expect(uni.recvCredit.limit).toBe(3000);
  });

  it('opens lower-numbered peer streams implicitly and enforces the advertised limit', () => {
    const { m, opened } = make('server');
    m.lookup(8, 0x08, true, false);
    expect(opened).toEqual([0, 4, 8]);
    expect(code(() => m.lookup(16, 0x08, true, false))).toBe(TransportError.STREAM_LIMIT_ERROR);
    expect(code(() => m.lookup(12, 0x08, true, false))).toBeUndefined();
  });

  it('rejects frames on streams in the wrong direction or not yet opened', () => {
    const { m } = make('client');
    m.open(false); // id 2, our send-only
    expect(code(() => m.lookup(2, 0x08, true, false))).toBe(TransportError.STREAM_STATE_ERROR); // STREAM on our uni
    expect(code(() => m.lookup(3, 0x11, false, true))).toBe(TransportError.STREAM_STATE_ERROR); // MAX_STREAM_DATA on peer uni
    expect(code(() => m.lookup(4, 0x08, true, false))).toBe(TransportError.STREAM_STATE_ERROR); // our bidi 4 not opened
  });

  it('ignores frames for forgotten streams and tops up the peer stream credit', () => {
    const { m } = make('server');
    const a = m.lookup(0, 0x08, true, false)!;
    const b = m.lookup(4, 0x08, true, false)!;
    m.remove(a);
    expect(m.lookup(0, 0x08, true, false)).toBeUndefined();
    expect(m.maxStreamsPending[0]).toBe(false);
    m.remove(b);
    expect(m.maxStreamsPending[0]).toBe(true);
    expect(m.peerLimit[0]).toBe(6);
  });

  it('raises send credit on existing streams when the peer limits arrive', () => {
    const { m } = make('client');
    const s = m.open(true)!;
    m.setPeerLimits({ ...peer, dataBidiRemote: 500, maxBidi: 10 });
    expect(s.sendCredit.limit).toBe(500);
    expect(m.available(true)).toBe(9);
  });
});

/**
 * 0-RTT at the connection level (RFC 9000 §7.4.1, RFC 9001 §4.6): a client resumes with the
 * session ticket of a first connection and sends stream data in 0-RTT packets; an accepting
 * server delivers it before the handshake completes; a rejecting server makes the client
 * resend it in 1-RTT, and it still arrives exactly once.
 */
import { describe, it, expect } from 'vitest';
import { makePair, runHandshake, payload, NOW0, type QuicPair, type PairOptions } from '../support/quic-pair.js';
import { wirePackets, u8 } from '../support/quic-wire.js';
import type { Connection } from '../../src/transport/connection.js';
import type { ConnectionEvent } from '../../src/transport/events.js';
import { FrameType } from '../../src/transport/frame-types.js';
import { PacketType } from '../../src/transport/packet.js';

/** A first connection's session ticket (the server issues one after the handshake). */
async function ticket(opts: PairOptions = {}): Promise<Uint8Array> {
  const pair = await makePair(opts);
  expect(runHandshake(pair)).toBe(true);
  pair.net.run(() => pair.clientEvents.some((e) => e.type === 'sessionTicket'), 1000);
  const e = pair.clientEvents.find((x) => x.type === 'sessionTicket') as Extract<ConnectionEvent, { type: 'sessionTicket' }> | undefined;
  expect(e).toBeDefined();
  return e!.ticket;
}

function readAll(c: Connection, id: number): { data: Uint8Array; fin: boolean } {
  const parts: Uint8Array[] = [];
  let fin = false;
  for (let r = c.streamRead(id); r; r = c.streamRead(id)) {
    if (r.data.length) parts.push(u8(r.data));
    fin ||= r.fin;
    if (r.data.length === 0) break;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return { data: out, fin };
}

interface Observed {
  zeroRttStream: number;
  oneRttStreamFrames: number;
  serverReadBeforeComplete: number;
}

/** Second connection: resumes with `session`, writes `data` on a stream before the handshake. */
async function resumed(session: Uint8Array, serverEarlyData: boolean, data: Uint8Array, extra: PairOptions = {}) {
  const pair: QuicPair = await makePair({
    ...extra,
    start: NOW0 + 5000,
    client: { tls: { session } },
    server: { tls: { earlyData: serverEarlyData } },
  });
  const client = pair.client;
  const obs: Observed = { zeroRttStream: 0, oneRttStreamFrames: 0, serverReadBeforeComplete: 0 };
  pair.net.tap = (from, d) => {
    if (from === 0) {
      for (const p of wirePackets(pair, 0, d)) {
        for (const f of p.frames ?? []) {
          if (f.type !== FrameType.Stream) continue;
          if (p.type === PacketType.ZeroRtt) obs.zeroRttStream += f.data.length;
          else if (p.type === PacketType.OneRtt) obs.oneRttStreamFrames++;
        }
      }
    }
    return d;
  };
  const id = client.openStream(true);
  expect(id).toBe(0);
  client.streamWrite(id!, data, true);
  let got = new Uint8Array(0);
  let fin = false;
  pair.net.afterStep = () => {
    pair.collect();
    const s = pair.server.conn;
    if (s === undefined) return;
    const r = readAll(s, 0);
    if (r.data.length) {
      if (!s.handshakeComplete) obs.serverReadBeforeComplete += r.data.length;
      const g = new Uint8Array(got.length + r.data.length);
      g.set(got);
      g.set(r.data, got.length);
      got = g;
    }
    fin ||= r.fin;
  };
  pair.net.run(() => fin && client.handshakeConfirmed, 10_000);
  return { pair, got, fin, obs };
}

describe('0-RTT', () => {
  it('resumption with a ticket: 0-RTT stream data is accepted and read before the handshake completes', async () => {
    const session = await ticket({ server: { tls: { earlyData: true } } });
    const data = payload(3000, 9);
    const { pair, got, fin, obs } = await resumed(session, true, data);
    expect(fin).toBe(true);
    expect(got).toEqual(data);
    expect(obs.zeroRttStream).toBe(3000);
    expect(obs.serverReadBeforeComplete).toBe(3000);
    expect(obs.oneRttStreamFrames).toBe(0);
    const done = pair.clientEvents.find((e) => e.type === 'handshakeCompleted') as Extract<ConnectionEvent, { type: 'handshakeCompleted' }>;
    expect(done.resumed).toBe(true);
    expect(done.earlyData).toBe('accepted');
    expect(pair.clientEvents.some((e) => e.type === 'earlyData' && e.status === 'accepted')).toBe(true);
    expect(pair.server.conn!.earlyDataStatus).toBe('accepted');
  });

  it('0-RTT rejected by the server: the data is resent in 1-RTT and arrives exactly once', async () => {
    const session = await ticket({ server: { tls: { earlyData: true } } });
    const data = payload(20_000, 4);
    const { pair, got, fin, obs } = await resumed(session, false, data);
    expect(pair.clientEvents.some((e) => e.type === 'earlyData' && e.status === 'rejected')).toBe(true);
    expect(obs.zeroRttStream).toBeGreaterThan(0);
    expect(obs.serverReadBeforeComplete).toBe(0);
    expect(obs.oneRttStreamFrames).toBeGreaterThan(0);
    expect(fin).toBe(true);
    expect(got.length).toBe(20_000);
    expect(got).toEqual(data);
    const done = pair.clientEvents.find((e) => e.type === 'handshakeCompleted') as Extract<ConnectionEvent, { type: 'handshakeCompleted' }>;
    expect(done.resumed).toBe(true);
    expect(done.earlyData).toBe('rejected');
    expect(pair.client.state).toBe('established');
    expect(pair.server.conn!.state).toBe('established');
  });

  it('0-RTT with loss: every byte still arrives exactly once', async () => {
    const session = await ticket({ server: { tls: { earlyData: true } } });
    const data = payload(50_000, 5);
    for (const accept of [true, false]) {
      const { got, fin } = await resumed(session, accept, data, { link: { delay: 10, loss: 0.2 }, seed: 9 });
      expect(fin).toBe(true);
      expect(got).toEqual(data);
    }
  });

  it('a session whose 0-RTT window is smaller than the data: the rest waits for 1-RTT', async () => {
    const session = await ticket({ server: { tls: { earlyData: true } }, serverTransport: { initialMaxStreamDataBidiRemote: 4000 } });
    const data = payload(30_000, 6);
    const { got, fin, obs } = await resumed(session, true, data, { serverTransport: { initialMaxStreamDataBidiRemote: 4000 } });
    expect(obs.zeroRttStream).toBe(4000);
    expect(fin).toBe(true);
    expect(got).toEqual(data);
  });

  it('a client without a ticket sends no 0-RTT', async () => {
    const pair = await makePair({ server: { tls: { earlyData: true } } });
    let zeroRtt = 0;
    pair.net.tap = (from, d) => {
      if (from === 0) zeroRtt += wirePackets(pair, 0, d).filter((p) => p.type === PacketType.ZeroRtt).length;
      return d;
    };
    const id = pair.client.openStream(true);
    expect(id).toBeUndefined(); // no remembered stream limits: nothing can be opened yet
    expect(runHandshake(pair)).toBe(true);
    expect(zeroRtt).toBe(0);
    expect(pair.client.earlyDataStatus).toBe('not-offered');
  });
});

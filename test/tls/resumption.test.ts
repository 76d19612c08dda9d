/**
 * Session tickets, PSK resumption and 0-RTT in the QUIC profile: accepted and rejected early
 * data, HRR after a PSK offer, expired and undecryptable tickets, and the session/ticket
 * encodings.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeBackend } from '../../src/crypto/node-backend.js';
import { createTestPki } from '../../src/tls/certificate-authority.js';
import {
  createTicketSealer,
  decodeClientSession,
  decodeTicketState,
  encodeClientSession,
  encodeTicketState,
  obfuscatedTicketAge,
  type ClientSession,
} from '../../src/tls/session.js';
import type { EarlyDataInfo, TlsClientConfig, TlsServerConfig } from '../../src/tls/types.js';
import { toHex } from '../../src/util/bytes.js';
import { pairMismatches, quicPair, SERVER_TP, type TestIdentity } from '../support/tls-pair.js';

const NOW = 1_750_000_000_000;
let id: TestIdentity;
const sealer = createTicketSealer(nodeBackend, new Uint8Array(32).fill(0x42));

beforeAll(async () => {
  const pki = await createTestPki({ now: NOW, hosts: ['localhost'] });
  id = { chain: pki.chain, privateKey: pki.leaf.privateKey, trusted: pki.trusted };
}, 60_000);

/** Runs a first handshake and returns the client's session from the server's ticket. */
async function firstSession(server: Partial<TlsServerConfig> = {}, ticket: Parameters<import('../../src/tls/server.js').TlsServer['sendSessionTicket']>[1] = {}) {
  const pair = quicPair(id, { server: { ticketSealer: sealer, earlyData: true, ...server } }, NOW);
  await pair.run();
  expect(pairMismatches(pair)).toEqual([]);
  expect(pair.server.sendSessionTicket(NOW + 10, ticket)).toBe(true);
  pair.now = NOW + 20;
  await pair.run({}, false);
  const ev = pair.last('client', 'sessionTicket');
  expect(ev).toBeDefined();
  return ev!.session;
}

async function resume(session: Uint8Array, at: number, client: Partial<TlsClientConfig> = {}, server: Partial<TlsServerConfig> = {}) {
  const pair = quicPair(id, { client: { session, ...client }, server: { ticketSealer: sealer, earlyData: true, ...server } }, at);
  await pair.run();
  return pair;
}

describe('resumption with 0-RTT', () => {
  it('accepted: both sides derive the same 0-RTT secret, the policy sees the ticket data, the session carries the server transport parameters', async () => {
    const session = await firstSession({}, { applicationData: Uint8Array.of(1, 2, 3), earlyDataContext: Uint8Array.of(9, 9) });
    const decoded = decodeClientSession(session);
    expect(decoded).toMatchObject({ maxEarlyData: 0xffffffff, alpn: 'h3', serverName: 'localhost', cipherSuite: 0x1301, lifetime: 86400 });
    expect(toHex(decoded.transportParameters)).toBe(toHex(SERVER_TP));
    const seen: EarlyDataInfo[] = [];
    const pair = await resume(session, NOW + 5000, {}, { earlyData: (info) => (seen.push(info), true) });
    expect(pairMismatches(pair)).toEqual([]);
    const c = pair.secrets('client');
    const s = pair.secrets('server');
    expect(c.get('zeroRtt/write')).toBeDefined();
    expect(c.get('zeroRtt/write')).toBe(s.get('zeroRtt/read'));
    for (const side of ['client', 'server'] as const) {
      expect(pair.last(side, 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'accepted', alpn: 'h3', signatureScheme: undefined });
      expect(pair.last(side, 'earlyData')).toEqual({ type: 'earlyData', status: 'accepted' });
    }
    expect(pair.last('client', 'peerCertificates')).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ serverName: 'localhost', alpn: 'h3' });
    expect(toHex(seen[0]!.applicationData)).toBe('010203');
    expect(toHex(seen[0]!.earlyDataContext)).toBe('0909');
    expect(seen[0]!.ticketAge).toBe(5000 - 10);
  });

  it('the 0-RTT write secret comes out with the ClientHello, before any server byte', async () => {
    const session = await firstSession();
    const pair = quicPair(id, { client: { session }, server: { ticketSealer: sealer } }, NOW + 100);
    pair.client.start(NOW + 100);
    const first = pair.client.pollEvent();
    expect(first).toMatchObject({ type: 'secret', level: 'zeroRtt', direction: 'write' });
  });

  it('rejected by policy: PSK still resumes the session, early data is rejected on both sides, no 0-RTT read key', async () => {
    const session = await firstSession();
    const pair = await resume(session, NOW + 100, {}, { earlyData: () => false });
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.secrets('server').has('zeroRtt/read')).toBe(false);
    expect(pair.secrets('client').has('zeroRtt/write')).toBe(true);
    for (const side of ['client', 'server'] as const) {
      expect(pair.last(side, 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'rejected' });
    }
  });

  it('rejected when the server now disables 0-RTT; tickets then carry no early_data', async () => {
    const session = await firstSession();
    const pair = await resume(session, NOW + 100, {}, { earlyData: false });
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'rejected' });
    const noEarly = await firstSession({ earlyData: false });
    expect(decodeClientSession(noEarly).maxEarlyData).toBe(0);
    const again = await resume(noEarly, NOW + 100);
    expect(again.failure).toBeUndefined();
    expect(again.last('client', 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'not-offered' });
  });

  it('rejected when the ticket age disagrees with the server clock beyond the allowed skew', async () => {
    const session = decodeClientSession(await firstSession());
    // Pretend the client got the ticket 60 s later than it did: its age runs 60 s short.
    const shifted = encodeClientSession({ ...session, receivedAt: session.receivedAt + 60_000 });
    const pair = await resume(shifted, NOW + 70_000);
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('server', 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'rejected' });
  });

  it('not offered when the client no longer offers the ticket\'s ALPN; the PSK still resumes', async () => {
    const session = await firstSession();
    const pair = await resume(session, NOW + 100, { alpn: ['hq-interop'] }, { alpn: ['hq-interop', 'h3'] });
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('server', 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'not-offered', alpn: 'hq-interop' });
  });

  it('rejected when the server now selects another ALPN than the ticket\'s', async () => {
    const session = await firstSession();
    const pair = await resume(session, NOW + 100, { alpn: ['h3', 'hq-interop'] }, { alpn: ['hq-interop', 'h3'] });
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'rejected', alpn: 'hq-interop' });
  });

  it('HelloRetryRequest after a PSK offer drops early data but keeps the PSK', async () => {
    const session = await firstSession();
    const pair = await resume(session, NOW + 100, {}, { groups: ['secp256r1'] });
    expect(pairMismatches(pair)).toEqual([]);
    for (const side of ['client', 'server'] as const) {
      expect(pair.last(side, 'handshakeComplete')).toMatchObject({ resumed: true, earlyData: 'rejected', group: 'secp256r1' });
    }
    expect(pair.secrets('server').has('zeroRtt/read')).toBe(false);
  });

  it('expired tickets are not offered: full handshake', async () => {
    const session = await firstSession({ ticketLifetime: 60 });
    const pair = await resume(session, NOW + 61_000);
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'handshakeComplete')).toMatchObject({ resumed: false, earlyData: 'not-offered' });
  });

  it('a ticket the server cannot open (other key) gives a full handshake and rejected early data, not an error', async () => {
    const session = await firstSession();
    const other = createTicketSealer(nodeBackend, new Uint8Array(32).fill(7));
    const pair = await resume(session, NOW + 100, {}, { ticketSealer: other });
    expect(pairMismatches(pair)).toEqual([]);
    expect(pair.last('client', 'handshakeComplete')).toMatchObject({ resumed: false, earlyData: 'rejected' });
    expect(pair.last('client', 'peerCertificates')).toBeDefined();
  });

  it('a ticket is not used for another server name', async () => {
    const session = decodeClientSession(await firstSession());
    const renamed = encodeClientSession({ ...session, serverName: 'other.test' });
    const pair = await resume(renamed, NOW + 100, { serverName: 'other.test', verify: 'none' });
    expect(pair.failure).toBeUndefined();
    expect(pair.last('server', 'handshakeComplete')).toMatchObject({ resumed: false });
  });

  it('several tickets per connection get distinct PSKs', async () => {
    const pair = quicPair(id, { server: { ticketSealer: sealer } }, NOW);
    await pair.run();
    pair.server.sendSessionTicket(NOW);
    pair.server.sendSessionTicket(NOW);
    await pair.run({}, false);
    const tickets = pair.clientEvents.filter((e) => e.type === 'sessionTicket');
    expect(tickets).toHaveLength(2);
    const psks = tickets.map((t) => (t.type === 'sessionTicket' ? toHex(decodeClientSession(t.session).psk) : ''));
    expect(psks[0]).not.toBe(psks[1]);
  });

  it('sendSessionTicket before the handshake completed or without a ticketSealer is a TypeError', async () => {
    const pair = quicPair(id, { server: { ticketSealer: sealer } });
    expect(() => pair.server.sendSessionTicket(NOW)).toThrow(TypeError);
    const noSealer = quicPair(id);
    await noSealer.run();
    expect(() => noSealer.server.sendSessionTicket(NOW)).toThrow(/ticketSealer/);
  });

  it('under client authentication a ticket keeps the client\'s chain: resuming restores that identity, with no certificate exchanged', async () => {
    const c = await createTestPki({ now: NOW, hosts: ['client.test'] });
    const credentials = { certificateChain: c.chain, privateKey: c.leaf.privateKey };
    const server: Partial<TlsServerConfig> = { ticketSealer: sealer, clientAuth: 'require', trustedCertificates: c.trusted };
    const first = quicPair(id, { client: { credentials }, server }, NOW);
    await first.run();
    expect(pairMismatches(first)).toEqual([]);
    expect(first.server.sendSessionTicket(NOW + 10)).toBe(true);
    first.now = NOW + 20;
    await first.run({}, false);
    const session = first.last('client', 'sessionTicket')!.session;

    const second = quicPair(id, { client: { session, credentials }, server }, NOW + 5000);
    await second.run();
    expect(pairMismatches(second)).toEqual([]);
    const done = second.last('server', 'handshakeComplete')!;
    expect(done.resumed).toBe(true);
    expect(done.peerCertificates!.map(toHex)).toEqual(c.chain.map(toHex));
    expect(second.serverEvents.some((e) => e.type === 'peerCertificates')).toBe(false); // nothing was sent or verified again

    // A session that proved no identity does not satisfy a server that requires one: full handshake.
    const anonymous = await firstSession();
    const third = quicPair(id, { client: { session: anonymous, credentials }, server }, NOW + 5000);
    await third.run();
    expect(pairMismatches(third)).toEqual([]);
    const full = third.last('server', 'handshakeComplete')!;
    expect(full.resumed).toBe(false);
    expect(full.peerCertificates!.map(toHex)).toEqual(c.chain.map(toHex));
  });
});

describe('session and ticket encodings', () => {
  const arbBytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  const arbName = fc.option(fc.stringMatching(/^[a-z0-9.-]{1,20}$/), { nil: undefined });

  it('client sessions round-trip', () => {
    fc.assert(
      fc.property(
        fc.record({
          cipherSuite: fc.constantFrom(0x1301, 0x1302, 0x1303),
          psk: arbBytes(32, 48),
          ticket: arbBytes(1, 300),
          ageAdd: fc.integer({ min: 0, max: 0xffffffff }),
          lifetime: fc.integer({ min: 0, max: 604800 }),
          receivedAt: fc.integer({ min: 0, max: 2 ** 45 }),
          maxEarlyData: fc.integer({ min: 0, max: 0xffffffff }),
          alpn: arbName,
          serverName: arbName,
          transportParameters: arbBytes(0, 100),
        }),
        (s: ClientSession) => {
          const back = decodeClientSession(encodeClientSession(s));
          expect({ ...back, psk: toHex(back.psk), ticket: toHex(back.ticket), transportParameters: toHex(back.transportParameters) }).toEqual({
            ...s,
            psk: toHex(s.psk),
            ticket: toHex(s.ticket),
            transportParameters: toHex(s.transportParameters),
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ticket states round-trip, client certificates included', () => {
    fc.assert(
      fc.property(
        fc.record({
          cipherSuite: fc.constantFrom(0x1301, 0x1302, 0x1303),
          psk: arbBytes(32, 48),
          issuedAt: fc.integer({ min: 0, max: 2 ** 45 }),
          lifetime: fc.integer({ min: 0, max: 604800 }),
          ageAdd: fc.integer({ min: 0, max: 0xffffffff }),
          maxEarlyData: fc.integer({ min: 0, max: 0xffffffff }),
          alpn: arbName,
          serverName: arbName,
          applicationData: arbBytes(0, 50),
          earlyDataContext: arbBytes(0, 50),
          clientCertificates: fc.array(arbBytes(1, 200), { maxLength: 3 }),
        }),
        (s) => {
          const back = decodeTicketState(encodeTicketState(s))!;
          expect(toHex(encodeTicketState(back))).toBe(toHex(encodeTicketState(s)));
          expect(back.clientCertificates.map(toHex)).toEqual(s.clientCertificates.map(toHex));
          expect({ ...back, psk: 0, applicationData: 0, earlyDataContext: 0, clientCertificates: 0 }).toEqual({ ...s, psk: 0, applicationData: 0, earlyDataContext: 0, clientCertificates: 0 });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('garbage is not a session (TypeError) and not a ticket (undefined)', () => {
    fc.assert(
      fc.property(arbBytes(0, 80), (b) => {
        try {
          decodeClientSession(b);
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
        }
        const t = decodeTicketState(b);
        if (t !== undefined) expect(toHex(encodeTicketState(t))).toBe(toHex(b));
      }),
      { numRuns: 300 },
    );
  });

  it('the sealer authenticates: a flipped bit or another key does not open', () => {
    const plain = Uint8Array.of(1, 2, 3, 4, 5);
    const t = sealer.seal(plain);
    expect(toHex(sealer.open(t)!)).toBe('0102030405');
    expect(toHex(t)).not.toBe(toHex(sealer.seal(plain))); // fresh nonce per ticket
    for (let i = 0; i < t.length; i++) {
      const bad = t.slice();
      bad[i]! ^= 0x10;
      expect(sealer.open(bad)).toBeUndefined();
    }
    expect(createTicketSealer(nodeBackend, new Uint8Array(32)).open(t)).toBeUndefined();
    expect(sealer.open(new Uint8Array(5))).toBeUndefined();
    expect(() => createTicketSealer(nodeBackend, new Uint8Array(16))).toThrow(TypeError);
  });

  it('obfuscated ticket age wraps modulo 2^32', () => {
    const s = { receivedAt: 1000, ageAdd: 0xfffffff0 } as ClientSession;
    expect(obfuscatedTicketAge(s, 1000 + 0x20)).toBe(0x10);
  });
});

/** Key update (RFC 9001 §6): next-generation secrets, the key-phase holder, both backends. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { nodeBackend } from '../../src/crypto/node-backend.js';
import { nobleBackend } from '../../src/crypto/noble-backend.js';
import { defaultCrypto } from '../../src/crypto/index.js';
import type { CryptoBackend } from '../../src/crypto/backend.js';
import { OneRttProtection, OpenedWith, nextGenerationSecret } from '../../src/transport/key-update.js';
import { createHeaderProtector, createPayloadProtector, type PacketProtectionSuite } from '../../src/transport/protection.js';
import { QUIC_V1, QUIC_V2, versionParameters } from '../../src/transport/version.js';
import { fromHex, toHex } from '../../src/util/bytes.js';

function vectors(name: string): Record<string, any> {
  return JSON.parse(readFileSync(new URL(`../../../shared/vectors/${name}`, import.meta.url), 'utf8'));
}

const BACKENDS: readonly CryptoBackend[] = [nodeBackend, nobleBackend, defaultCrypto];
const VERSIONS = [
  { name: 'v1', vec: vectors('rfc9001-initial.json'), params: versionParameters(QUIC_V1)! },
  { name: 'v2', vec: vectors('rfc9369-v2.json'), params: versionParameters(QUIC_V2)! },
];
const CHACHA: PacketProtectionSuite = { aead: 'chacha20-poly1305', hash: 'sha256', hp: 'chacha20' };
const AES: PacketProtectionSuite = { aead: 'aes-128-gcm', hash: 'sha256', hp: 'aes-128-ecb' };
const V1 = versionParameters(QUIC_V1)!;

/** A 1-RTT packet: short header 0x40|pnLen-1, 8-byte DCID, 2-byte pn, `text` as payload. */
function build(keys: OneRttProtection, pn: number, text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const buf = new Uint8Array(1 + 8 + 2 + payload.length + 16);
  buf[0] = 0x41;
  buf.fill(0xdc, 1, 9);
  buf[9] = (pn >>> 8) & 0xff;
  buf[10] = pn & 0xff;
  buf.set(payload, 11);
  expect(keys.protect(buf, 0, 9, 2, 11 + payload.length, pn)).toBe(buf.length);
  return buf;
}

/** Receives `packet`; returns the payload text, or undefined when it fails to open. */
function receive(keys: OneRttProtection, packet: Uint8Array, pn: number): string | undefined {
  const buf = packet.slice();
  const pnLength = keys.unprotectHeader(buf, 0, 9, buf.length);
  expect(pnLength).toBe(2);
  expect(keys.truncatedPacketNumber).toBe(pn & 0xffff);
  const n = keys.openPayload(buf, 0, 11, buf.length, pn);
  return n < 0 ? undefined : new TextDecoder().decode(buf.subarray(11, 11 + n));
}

describe.each(BACKENDS)('$name backend', (crypto) => {
  describe.each(VERSIONS)('$name', ({ vec, params }) => {
    const ch = vec.chacha20_short_header;

    it('A.5: the "ku" secret is the next generation of the ChaCha20 traffic secret', () => {
      expect(toHex(nextGenerationSecret(crypto, CHACHA, params, fromHex(ch.secret)))).toBe(ch.ku);
    });

    it('A.5: generation 0 protects the RFC packet; after an update the payload key comes from "ku" and the hp key stays', () => {
      const secret = fromHex(ch.secret);
      const keys = new OneRttProtection(crypto, CHACHA, params, secret, secret);
      const buf = new Uint8Array(4 + 1 + 16);
      buf.set(fromHex(ch.unprotected_header));
      buf[4] = 0x01;
      keys.protect(buf, 0, 1, 3, 5, ch.packet_number);
      expect(toHex(buf)).toBe(ch.packet);

      keys.initiateKeyUpdate();
      expect(keys.keyPhase).toBe(1);
      expect(keys.generation).toBe(1);
      const next = new Uint8Array(21);
      next.set(fromHex(ch.unprotected_header));
      next[4] = 0x01;
      keys.protect(next, 0, 1, 3, 5, ch.packet_number);
      // The original hp key removes header protection; the KEY_PHASE bit is now set.
      const hp = createHeaderProtector(crypto, CHACHA, params, secret);
      expect(hp.remove(next, 0, 1, next.length)).toBe(3);
      expect(next[0]).toBe(0x42 | 0x04);
      // The payload opens with keys derived from "ku", not with the original ones.
      const kuKeys = createPayloadProtector(crypto, CHACHA, params, fromHex(ch.ku));
      const oldKeys = createPayloadProtector(crypto, CHACHA, params, secret);
      expect(oldKeys.open(next.slice(), 0, 4, next.length, ch.packet_number)).toBe(-1);
      expect(kuKeys.open(next, 0, 4, next.length, ch.packet_number)).toBe(1);
      expect(next[4]).toBe(0x01);
    });
  });

  it('client and server follow each other through updates started by either side', () => {
    const cSecret = new Uint8Array(32).fill(1);
    const sSecret = new Uint8Array(32).fill(2);
    const client = new OneRttProtection(crypto, AES, V1, cSecret, sSecret);
    const server = new OneRttProtection(crypto, AES, V1, sSecret, cSecret);

    expect(receive(server, build(client, 1, 'hello'), 1)).toBe('hello');
    expect(server.lastOpenedWith).toBe(OpenedWith.Current);
    const delayed = build(client, 2, 'old phase, delayed');

    client.initiateKeyUpdate();
    expect(client.keyPhase).toBe(1);
    const p3 = build(client, 3, 'new phase');
    expect(p3[0]! & 0x04).toBe(0); // protected first byte: the phase bit is masked
    expect(receive(server, p3, 3)).toBe('new phase');
    expect(server.lastOpenedWith).toBe(OpenedWith.Next);
    expect(server.keyPhase).toBe(1);
    expect(server.generation).toBe(1);
    expect(server.hasPreviousKeys).toBe(true);

    // A packet of the old phase, older than everything in the new one, opens with the previous keys.
    expect(receive(server, delayed, 2)).toBe('old phase, delayed');
    expect(server.lastOpenedWith).toBe(OpenedWith.Previous);
    expect(server.keyPhase).toBe(1);

    // The server's replies now use the new keys, which the client opens as current.
    expect(receive(client, build(server, 1, 'reply'), 1)).toBe('reply');
    expect(client.lastOpenedWith).toBe(OpenedWith.Current);

    // Once the previous keys are dropped, a delayed old-phase packet no longer opens.
    server.discardPreviousKeys();
    expect(server.hasPreviousKeys).toBe(false);
    expect(receive(server, delayed, 2)).toBeUndefined();
    expect(server.lastOpenedWith).toBe(OpenedWith.None);
    expect(server.generation).toBe(1);

    // The server starts the next update; the client follows.
    server.initiateKeyUpdate();
    expect(receive(client, build(server, 2, 'second update'), 2)).toBe('second update');
    expect(client.lastOpenedWith).toBe(OpenedWith.Next);
    expect([client.generation, client.keyPhase]).toEqual([2, 0]);
    expect(receive(server, build(client, 4, 'both at generation 2'), 4)).toBe('both at generation 2');
    expect(server.lastOpenedWith).toBe(OpenedWith.Current);
  });

  it('a forged packet with the other phase does not move the keys', () => {
    const secret = new Uint8Array(32).fill(5);
    const rx = new OneRttProtection(crypto, AES, V1, secret, secret);
    // Same hp key, but three updates ahead: phase 1 with keys that are not rx's next ones.
    const stranger = new OneRttProtection(crypto, AES, V1, secret, secret);
    stranger.initiateKeyUpdate();
    stranger.initiateKeyUpdate();
    stranger.initiateKeyUpdate();
    expect(receive(rx, build(stranger, 9, 'forged'), 9)).toBeUndefined();
    expect([rx.generation, rx.keyPhase, rx.lastOpenedWith]).toEqual([0, 0, OpenedWith.None]);
  });

  it('each generation counts its own sealed packets', () => {
    const secret = new Uint8Array(32).fill(7);
    const k = new OneRttProtection(crypto, AES, V1, secret, secret);
    build(k, 1, 'first');
    build(k, 2, 'second');
    expect(k.sendKeys.sealedPackets).toBe(2);
    k.initiateKeyUpdate();
    expect(k.sendKeys.sealedPackets).toBe(0);
    expect(k.limits.confidentiality).toBe(2 ** 23);
  });
});

/**
 * The key schedule and transcript against every secret, key, IV, binder and Finished value of
 * RFC 8448 §3 (1-RTT), §4 (resumed 0-RTT, psk_dhe_ke) and §5 (HelloRetryRequest, P-256).
 */
import { describe, expect, it } from 'vitest';
import { nodeBackend as crypto } from '../../src/crypto/node-backend.js';
import { deriveSecret, emptyHash, finishedKey, KeySchedule, recordKeys, resumptionPsk, Transcript } from '../../src/tls/key-schedule.js';
import { encodeMessageHash } from '../../src/tls/messages.js';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { loadVectors } from '../support/tls-pair.js';

const simple = loadVectors('rfc8448-simple-1rtt.json');
const resumed = loadVectors('rfc8448-resumed-0rtt.json');
const hrr = loadVectors('rfc8448-hrr.json');
const h = (s: string | undefined): Uint8Array => fromHex(s!);

function transcriptOf(...messages: (string | undefined)[]): Transcript {
  const t = new Transcript(crypto);
  for (const m of messages) t.add(h(m));
  t.setHash('sha256');
  return t;
}

/** Checks the handshake and application stages shared by all three traces. */
function checkFromHandshake(v: Record<string, string>, ks: KeySchedule, ecdhe: Uint8Array, helloHash: string, sfHash: string, cfHash: string) {
  expect(toHex(ks.enterHandshake(ecdhe))).toBe(v.handshake_secret);
  const chts = ks.clientHandshakeTrafficSecret(h(helloHash));
  const shts = ks.serverHandshakeTrafficSecret(h(helloHash));
  expect(toHex(chts)).toBe(v.client_handshake_traffic_secret);
  expect(toHex(shts)).toBe(v.server_handshake_traffic_secret);
  const ck = recordKeys(crypto, 'sha256', chts, 16);
  const sk = recordKeys(crypto, 'sha256', shts, 16);
  expect([toHex(ck.key), toHex(ck.iv), toHex(sk.key), toHex(sk.iv)]).toEqual([
    v.client_handshake_key,
    v.client_handshake_iv,
    v.server_handshake_key,
    v.server_handshake_iv,
  ]);
  expect(toHex(finishedKey(crypto, 'sha256', chts))).toBe(v.client_finished_key);
  expect(toHex(finishedKey(crypto, 'sha256', shts))).toBe(v.server_finished_key);
  expect(toHex(deriveSecret(crypto, 'sha256', ks.handshakeSecret!, 'derived', emptyHash(crypto, 'sha256')))).toBe(v.derived_for_master);
  expect(toHex(ks.enterMaster())).toBe(v.master_secret);
  const cats = ks.clientApplicationTrafficSecret(h(sfHash));
  const sats = ks.serverApplicationTrafficSecret(h(sfHash));
  expect(toHex(cats)).toBe(v.client_application_traffic_secret_0);
  expect(toHex(sats)).toBe(v.server_application_traffic_secret_0);
  expect(toHex(ks.exporterMasterSecret(h(sfHash)))).toBe(v.exporter_master_secret);
  const cak = recordKeys(crypto, 'sha256', cats, 16);
  const sak = recordKeys(crypto, 'sha256', sats, 16);
  expect([toHex(cak.key), toHex(cak.iv), toHex(sak.key), toHex(sak.iv)]).toEqual([
    v.client_application_key,
    v.client_application_iv,
    v.server_application_key,
    v.server_application_iv,
  ]);
  expect(toHex(ks.resumptionMasterSecret(h(cfHash)))).toBe(v.resumption_master_secret);
  return { chts, shts };
}

describe('RFC 8448 §3 key schedule', () => {
  const v = simple;
  it('transcript hashes of the RFC messages', () => {
    const t = transcriptOf(v.client_hello, v.server_hello);
    expect(toHex(t.hash())).toBe(v.transcript_hash_client_hello_server_hello);
    t.add(h(v.encrypted_extensions));
    t.add(h(v.certificate));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_certificate);
    expect(toHex(t.hashWith(h(v.certificate_verify)))).toBe(v.transcript_hash_through_certificate_verify);
    t.add(h(v.certificate_verify));
    t.add(h(v.server_finished));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_server_finished);
    t.add(h(v.client_finished));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_client_finished);
  });

  it('ECDHE, every secret, key, IV, Finished and the resumption PSK', () => {
    const client = crypto.keyShareFromPrivateKey('x25519', h(v.client_x25519_private));
    const server = crypto.keyShareFromPrivateKey('x25519', h(v.server_x25519_private));
    expect(toHex(client.publicKey)).toBe(v.client_x25519_public);
    const ecdhe = server.deriveSecret(client.publicKey)!;
    expect(toHex(ecdhe)).toBe(v.ecdhe_shared_secret);
    const ks = new KeySchedule(crypto, 'sha256');
    expect(toHex(ks.earlySecret)).toBe(v.early_secret);
    expect(toHex(deriveSecret(crypto, 'sha256', ks.earlySecret, 'derived', emptyHash(crypto, 'sha256')))).toBe(v.derived_for_handshake);
    const { chts, shts } = checkFromHandshake(
      v,
      ks,
      ecdhe,
      v.transcript_hash_client_hello_server_hello!,
      v.transcript_hash_through_server_finished!,
      v.transcript_hash_through_client_finished!,
    );
    expect(toHex(ks.verifyData(shts, h(v.transcript_hash_through_certificate_verify)))).toBe(v.server_finished!.slice(8));
    expect(toHex(ks.verifyData(chts, h(v.transcript_hash_through_server_finished)))).toBe(v.client_finished!.slice(8));
    expect(toHex(resumptionPsk(crypto, 'sha256', h(v.resumption_master_secret), Uint8Array.of(0, 0)))).toBe(v.resumption_psk);
  });
});

describe('RFC 8448 §4 resumed 0-RTT key schedule', () => {
  const v = resumed;
  it('binder key, truncated ClientHello hash, binder, early secrets and 0-RTT key/IV', () => {
    const ks = new KeySchedule(crypto, 'sha256', h(v.psk));
    expect(toHex(ks.earlySecret)).toBe(v.early_secret);
    expect(toHex(ks.binderKey(false))).toBe(v.binder_key);
    expect(toHex(finishedKey(crypto, 'sha256', h(v.binder_key)))).toBe(v.binder_finished_key);
    expect(v.client_hello!.startsWith(v.truncated_client_hello!)).toBe(true);
    const truncatedHash = crypto.hash('sha256', h(v.truncated_client_hello));
    expect(toHex(truncatedHash)).toBe(v.transcript_hash_truncated_client_hello);
    expect(toHex(ks.binder(false, truncatedHash))).toBe(v.psk_binder);
    expect(v.client_hello!.endsWith(v.psk_binder!)).toBe(true);
    const chHash = crypto.hash('sha256', h(v.client_hello));
    expect(toHex(chHash)).toBe(v.transcript_hash_client_hello);
    const cets = ks.clientEarlyTrafficSecret(chHash);
    expect(toHex(cets)).toBe(v.client_early_traffic_secret);
    expect(toHex(ks.earlyExporterMasterSecret(chHash))).toBe(v.early_exporter_master_secret);
    const k = recordKeys(crypto, 'sha256', cets, 16);
    expect([toHex(k.key), toHex(k.iv)]).toEqual([v.client_early_key, v.client_early_iv]);
    expect(toHex(ks.binderKey(true))).not.toBe(v.binder_key); // "ext binder" differs from "res binder"
  });

  it('psk_dhe_ke schedule, Finished values (with EndOfEarlyData in the transcript)', () => {
    const ks = new KeySchedule(crypto, 'sha256', h(v.psk));
    const ecdhe = crypto.keyShareFromPrivateKey('x25519', h(v.server_x25519_private)).deriveSecret(h(v.client_x25519_public))!;
    expect(toHex(ecdhe)).toBe(v.ecdhe_shared_secret);
    expect(toHex(deriveSecret(crypto, 'sha256', ks.earlySecret, 'derived', emptyHash(crypto, 'sha256')))).toBe(v.derived_for_handshake);
    const t = transcriptOf(v.client_hello, v.server_hello);
    expect(toHex(t.hash())).toBe(v.transcript_hash_client_hello_server_hello);
    t.add(h(v.encrypted_extensions));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_encrypted_extensions);
    t.add(h(v.server_finished));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_server_finished);
    t.add(h(v.end_of_early_data));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_end_of_early_data);
    t.add(h(v.client_finished));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_client_finished);
    const { chts, shts } = checkFromHandshake(
      v,
      ks,
      ecdhe,
      v.transcript_hash_client_hello_server_hello!,
      v.transcript_hash_through_server_finished!,
      v.transcript_hash_through_client_finished!,
    );
    expect(toHex(ks.verifyData(shts, h(v.transcript_hash_through_encrypted_extensions)))).toBe(v.server_finished!.slice(8));
    expect(toHex(ks.verifyData(chts, h(v.transcript_hash_through_end_of_early_data)))).toBe(v.client_finished!.slice(8));
  });
});

describe('RFC 8448 §5 HelloRetryRequest key schedule', () => {
  const v = hrr;
  it('message_hash transcript and every secret with P-256', () => {
    const t = transcriptOf(v.client_hello_1);
    t.replaceWithMessageHash();
    expect(toHex(encodeMessageHash(crypto.hash('sha256', h(v.client_hello_1))))).toBe(v.message_hash);
    expect(toHex(t.hash())).toBe(toHex(crypto.hash('sha256', h(v.message_hash))));
    t.add(h(v.hello_retry_request));
    t.add(h(v.client_hello_2));
    t.add(h(v.server_hello));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_server_hello);
    t.add(h(v.encrypted_extensions));
    t.add(h(v.certificate));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_certificate);
    t.add(h(v.certificate_verify));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_certificate_verify);
    t.add(h(v.server_finished));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_server_finished);
    t.add(h(v.client_finished));
    expect(toHex(t.hash())).toBe(v.transcript_hash_through_client_finished);

    const client = crypto.keyShareFromPrivateKey('secp256r1', h(v.client_p256_private));
    const server = crypto.keyShareFromPrivateKey('secp256r1', h(v.server_p256_private));
    expect(toHex(client.publicKey)).toBe(v.client_p256_public);
    expect(toHex(server.publicKey)).toBe(v.server_p256_public);
    const ecdhe = client.deriveSecret(server.publicKey)!;
    expect(toHex(ecdhe)).toBe(v.ecdhe_shared_secret);
    const ks = new KeySchedule(crypto, 'sha256');
    expect(toHex(ks.earlySecret)).toBe(v.early_secret);
    const { chts, shts } = checkFromHandshake(
      v,
      ks,
      ecdhe,
      v.transcript_hash_through_server_hello!,
      v.transcript_hash_through_server_finished!,
      v.transcript_hash_through_client_finished!,
    );
    expect(toHex(ks.verifyData(shts, h(v.transcript_hash_through_certificate_verify)))).toBe(v.server_finished!.slice(8));
    expect(toHex(ks.verifyData(chts, h(v.transcript_hash_through_server_finished)))).toBe(v.client_finished!.slice(8));
  });

  it('using a stage before it is reached is a TypeError', () => {
    const ks = new KeySchedule(crypto, 'sha384');
    expect(ks.earlySecret.length).toBe(48);
    expect(() => ks.clientHandshakeTrafficSecret(new Uint8Array(48))).toThrow(TypeError);
    expect(() => ks.enterMaster()).toThrow(TypeError);
    expect(() => new Transcript(crypto).hash()).toThrow(TypeError);
  });
});

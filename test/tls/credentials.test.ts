import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  certificateMatchesKey,
  encodePem,
  loadCertificateChain,
  loadCredentials,
  loadPrivateKey,
  parsePem,
} from '../../src/tls/credentials.js';
import { createTestPki, type TestPki } from '../../src/tls/certificate-authority.js';
import { toHex, utf8 } from '../../src/util/bytes.js';

const NOW = Date.UTC(2025, 0, 15);

const pkcs8Of = (k: KeyObject): string => toHex(new Uint8Array(k.export({ type: 'pkcs8', format: 'der' })));
const hex = (b: Uint8Array): string => toHex(b);
const bytes = (b: Buffer | string): Uint8Array => (typeof b === 'string' ? utf8(b) : new Uint8Array(b));

describe('loadPrivateKey', () => {
  let p256: KeyObject;
  let p384: KeyObject;
  let rsa: KeyObject;
  let ed25519: KeyObject;

  beforeAll(() => {
    p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    ed25519 = generateKeyPairSync('ed25519').privateKey;
  });

  it('reads PKCS#8 as PEM text, PEM bytes and DER for every key type', () => {
    for (const key of [p256, p384, rsa, ed25519]) {
      const pem = key.export({ type: 'pkcs8', format: 'pem' }) as string;
      const der = key.export({ type: 'pkcs8', format: 'der' });
      for (const input of [pem, bytes(pem), bytes(der)]) expect(hex(loadPrivateKey(input))).toBe(pkcs8Of(key));
    }
  });

  it('reads SEC1 EC keys (P-256, P-384), with or without an EC PARAMETERS block', () => {
    for (const key of [p256, p384]) {
      const pem = key.export({ type: 'sec1', format: 'pem' }) as string;
      expect(pem).toContain('BEGIN EC PRIVATE KEY');
      expect(hex(loadPrivateKey(pem))).toBe(pkcs8Of(key));
      expect(hex(loadPrivateKey(bytes(key.export({ type: 'sec1', format: 'der' }))))).toBe(pkcs8Of(key));
    }
    const withParams = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n' + (p256.export({ type: 'sec1', format: 'pem' }) as string);
    expect(hex(loadPrivateKey(withParams))).toBe(pkcs8Of(p256));
  });

  it('reads PKCS#1 RSA keys', () => {
    const pem = rsa.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(pem).toContain('BEGIN RSA PRIVATE KEY');
    expect(hex(loadPrivateKey(pem))).toBe(pkcs8Of(rsa));
    expect(hex(loadPrivateKey(bytes(rsa.export({ type: 'pkcs1', format: 'der' }))))).toBe(pkcs8Of(rsa));
  });

  it('decrypts encrypted PKCS#8 (PBES2, AES-256-CBC) with the right password, PEM and DER', () => {
    for (const key of [p256, rsa, ed25519]) {
      const pem = key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
      const der = key.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'secret' });
      expect(pem).toContain('BEGIN ENCRYPTED PRIVATE KEY');
      expect(hex(loadPrivateKey(pem, 'secret'))).toBe(pkcs8Of(key));
      expect(hex(loadPrivateKey(bytes(der), 'secret'))).toBe(pkcs8Of(key));
    }
  });

  it('says when the password is wrong or missing', () => {
    const pem = p256.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }) as string;
    const der = bytes(p256.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: 'secret' }));
    for (const input of [pem, der]) {
      expect(() => loadPrivateKey(input)).toThrow(TypeError);
      expect(() => loadPrivateKey(input)).toThrow(/encrypted and no password was given/);
      expect(() => loadPrivateKey(input, 'wrong')).toThrow(TypeError);
      expect(() => loadPrivateKey(input, 'wrong')).toThrow(/wrong password/);
    }
  });

  it('decrypts legacy PEM encryption (Proc-Type headers)', () => {
    const pem = rsa.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
    expect(pem).toContain('Proc-Type: 4,ENCRYPTED');
    expect(hex(loadPrivateKey(pem, 'pw'))).toBe(pkcs8Of(rsa));
    expect(() => loadPrivateKey(pem)).toThrow(/no password/);
    expect(() => loadPrivateKey(pem, 'nope')).toThrow(/wrong password/);
  });

  it('finds the key in a PEM file that also holds certificates', async () => {
    const pki = await createTestPki({ now: NOW });
    const combined = pki.leaf.certificatePem + pki.intermediate.certificatePem + pki.leaf.privateKeyPem;
    expect(hex(loadPrivateKey(combined))).toBe(hex(pki.leaf.privateKey));
  });

  it('rejects unsupported key types, junk and non-key PEM with TypeError', () => {
    const x25519 = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => loadPrivateKey(x25519)).toThrow(/unsupported private key type x25519/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(() => loadPrivateKey(k1)).toThrow(/unsupported EC curve secp256k1/);
    expect(() => loadPrivateKey(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toThrow(/not PKCS#8, SEC1/);
    expect(() => loadPrivateKey(new Uint8Array([1, 2, 3]))).toThrow(/neither PEM nor/);
    expect(() => loadPrivateKey('hello')).toThrow(/no private key block/);
    expect(() => loadPrivateKey('-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n')).toThrow(/not a valid private key/);
    expect(() => loadPrivateKey(42 as unknown as string)).toThrow(/must be a string or Uint8Array, got number/);
  });
});

describe('loadCertificateChain', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await createTestPki({ now: NOW });
  });

  it('reads PEM chains in order, from text or bytes, skipping other text and blocks', () => {
    const text = `subject=CN=leaf\n${pki.leaf.certificatePem}\n${pki.leaf.privateKeyPem}${pki.intermediate.certificatePem}trailer`;
    for (const input of [text, utf8(text)]) {
      const chain = loadCertificateChain(input);
      expect(chain.map(hex)).toEqual([hex(pki.leaf.certificate), hex(pki.intermediate.certificate)]);
    }
  });

  it('reads one DER certificate and CRLF PEM', () => {
    expect(loadCertificateChain(pki.root.certificate).map(hex)).toEqual([hex(pki.root.certificate)]);
    expect(loadCertificateChain(pki.root.certificatePem.replace(/\n/g, '\r\n')).map(hex)).toEqual([hex(pki.root.certificate)]);
  });

  it('rejects input without a certificate, bad DER and bad base64 with TypeError', () => {
    expect(() => loadCertificateChain(pki.leaf.privateKeyPem)).toThrow(/no CERTIFICATE block/);
    expect(() => loadCertificateChain('')).toThrow(/no CERTIFICATE block/);
    expect(() => loadCertificateChain(new Uint8Array(0))).toThrow(/empty/);
    expect(() => loadCertificateChain(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toThrow(/not a valid X\.509 certificate/);
    expect(() => loadCertificateChain(new Uint8Array([...pki.root.certificate, 0]))).toThrow(/not a DER certificate/);
    expect(() => loadCertificateChain(pki.leaf.privateKey)).toThrow(TypeError);
    expect(() => loadCertificateChain('-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n')).toThrow(/not base64/);
    expect(() => loadCertificateChain('-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n')).toThrow(/CERTIFICATE block 1/);
  });

  it('checks that a certificate and a key belong together', async () => {
    expect(certificateMatchesKey(pki.leaf.certificate, pki.leaf.privateKey)).toBe(true);
    expect(certificateMatchesKey(pki.leaf.certificate, pki.root.privateKey)).toBe(false);
    expect(() => certificateMatchesKey(new Uint8Array([1]), pki.leaf.privateKey)).toThrow(TypeError);
    expect(() => certificateMatchesKey(pki.leaf.certificate, new Uint8Array([1]))).toThrow(TypeError);

    const creds = loadCredentials(pki.leaf.certificatePem + pki.intermediate.certificatePem, pki.leaf.privateKeyPem);
    expect(creds.certificateChain.length).toBe(2);
    expect(hex(creds.privateKey)).toBe(hex(pki.leaf.privateKey));
    expect(() => loadCredentials(pki.leaf.certificatePem, pki.intermediate.privateKeyPem)).toThrow(/does not match the leaf certificate \(CN=localhost\)/);
  });
});

describe('PEM encoding', () => {
  it('round-trips any bytes under any label (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('CERTIFICATE', 'PRIVATE KEY', 'X509 CRL'), (der, label) => {
        const pem = encodePem(label, der);
        expect(pem.split('\n').every((line) => line.length <= 64)).toBe(true);
        const blocks = parsePem(pem);
        expect(blocks.length).toBe(1);
        expect(blocks[0]!.label).toBe(label);
        expect(hex(blocks[0]!.der)).toBe(hex(der));
      }),
    );
  });
});

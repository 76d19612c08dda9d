import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import {
  nodeRootCertificates,
  readCertificateChainFile,
  readCredentialsFiles,
  readPrivateKeyFile,
  readTrustedCertificatesFile,
} from '../../src/tls/credential-files.js';
import { createTestPki, type TestPki } from '../../src/tls/certificate-authority.js';
import { verifyCertificateChain } from '../../src/tls/certificates.js';
import { toHex } from '../../src/util/bytes.js';

const NOW = Date.UTC(2025, 0, 15);

describe('credential files', () => {
  let dir: string;
  let pki: TestPki;
  const path = (name: string): string => join(dir, name);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'purequic-creds-'));
    pki = await createTestPki({ now: NOW });
    writeFileSync(path('chain.pem'), pki.leaf.certificatePem + pki.intermediate.certificatePem);
    writeFileSync(path('leaf.der'), pki.leaf.certificate);
    writeFileSync(path('key.pem'), pki.leaf.privateKeyPem);
    writeFileSync(path('key.der'), pki.leaf.privateKey);
    const encrypted = createPrivateKey({ key: Buffer.from(pki.leaf.privateKey), format: 'der', type: 'pkcs8' }).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'hunter2',
    });
    writeFileSync(path('key-encrypted.pem'), encrypted);
    writeFileSync(path('ca-bundle.pem'), `# bundle\n${pki.root.certificatePem}\n${pki.intermediate.certificatePem}`);
    writeFileSync(path('garbage.pem'), 'not a certificate');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads chains, keys and CA bundles from PEM and DER files', async () => {
    expect(readCertificateChainFile(path('chain.pem')).map(toHex)).toEqual([toHex(pki.leaf.certificate), toHex(pki.intermediate.certificate)]);
    expect(readCertificateChainFile(path('leaf.der')).map(toHex)).toEqual([toHex(pki.leaf.certificate)]);
    for (const f of ['key.pem', 'key.der']) expect(toHex(readPrivateKeyFile(path(f)))).toBe(toHex(pki.leaf.privateKey));
    expect(toHex(readPrivateKeyFile(path('key-encrypted.pem'), 'hunter2'))).toBe(toHex(pki.leaf.privateKey));
    const trusted = readTrustedCertificatesFile(path('ca-bundle.pem'));
    expect(trusted.length).toBe(2);
    const chain = readCertificateChainFile(path('chain.pem'));
    expect(await verifyCertificateChain(chain, { trusted, now: NOW, purpose: 'server', serverName: 'localhost' })).toEqual({ ok: true });
    const creds = readCredentialsFiles(path('chain.pem'), path('key-encrypted.pem'), 'hunter2');
    expect(creds.certificateChain.length).toBe(2);
  });

  it('names the file in every error', () => {
    expect(() => readCertificateChainFile(path('missing.pem'))).toThrow(new RegExp(`cannot read certificate file .*missing\\.pem`));
    expect(() => readCertificateChainFile(path('garbage.pem'))).toThrow(TypeError);
    expect(() => readCertificateChainFile(path('garbage.pem'))).toThrow(/garbage\.pem: no CERTIFICATE block/);
    expect(() => readPrivateKeyFile(path('key-encrypted.pem'))).toThrow(/key-encrypted\.pem: the private key is encrypted/);
    expect(() => readPrivateKeyFile(path('key-encrypted.pem'), 'wrong')).toThrow(/key-encrypted\.pem: wrong password/);
    expect(() => readTrustedCertificatesFile(path('garbage.pem'))).toThrow(/garbage\.pem/);
    expect(() => readCredentialsFiles(path('chain.pem'), path('ca-bundle.pem'))).toThrow(/ca-bundle\.pem: no private key block/);
    expect(() => readPrivateKeyFile('')).toThrow(TypeError);
  });

  it("loads Node's bundled root store as DER certificates", () => {
    const roots = nodeRootCertificates();
    expect(roots.length).toBeGreaterThan(50);
    expect(roots.every((r) => r[0] === 0x30)).toBe(true);
  });
});

import { describe, it, expect, beforeAll } from 'vitest';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import {
  createCertificate,
  createTestPki,
  generatePrivateKey,
  selfSignedCertificate,
  type CertificateKeyType,
} from '../../src/tls/certificate-authority.js';
import { certificateMatchesKey, loadCertificateChain, loadPrivateKey } from '../../src/tls/credentials.js';
import { leafPublicKey, verifyCertificateChain } from '../../src/tls/certificates.js';
import { defaultCrypto, SignatureScheme, type CryptoBackend } from '../../src/crypto/index.js';
import { toHex, utf8 } from '../../src/util/bytes.js';

const NOW = Date.UTC(2025, 0, 15, 12);
const DAY = 86_400_000;

const nodeKey = (pkcs8: Uint8Array) => createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });

describe('certificate authority', () => {
  let rsaKey: Uint8Array;
  beforeAll(async () => {
    rsaKey = await generatePrivateKey('rsa-2048');
  });

  const keyTypes: CertificateKeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'ed25519'];

  for (const keyType of keyTypes) {
    it(`issues a ${keyType} hierarchy that node:crypto, the loaders, the verifier and the TLS signer accept`, async () => {
      const isRsa = keyType === 'rsa-2048';
      // CA and leaf both of this key type (one RSA key reused for the RSA roles).
      const root = await createCertificate({ now: NOW, commonName: `${keyType} root`, isCA: true, keyType, ...(isRsa ? { privateKey: rsaKey } : {}) });
      const inter = await createCertificate({ now: NOW, commonName: `${keyType} inter`, isCA: true, pathLength: 0, keyType, issuer: root });
      const leaf = await createCertificate({
        now: NOW, commonName: 'leaf', hosts: ['leaf.example', '192.0.2.7'], keyType, issuer: inter, ...(isRsa ? { privateKey: rsaKey } : {}),
      });

      // node:crypto checks every signature with the issuer's key.
      const [nRoot, nInter, nLeaf] = [root, inter, leaf].map((c) => new X509Certificate(c.certificate));
      expect(nRoot!.verify(nRoot!.publicKey)).toBe(true);
      expect(nInter!.verify(nRoot!.publicKey)).toBe(true);
      expect(nLeaf!.verify(nInter!.publicKey)).toBe(true);
      expect(nLeaf!.verify(nLeaf!.publicKey)).toBe(false);
      expect(nLeaf!.checkIssued(nInter!)).toBe(true);
      expect(nRoot!.ca).toBe(true);
      expect(nLeaf!.ca).toBe(false);
      expect(nLeaf!.subjectAltName).toBe('DNS:leaf.example, IP Address:192.0.2.7');
      expect(nLeaf!.checkHost('leaf.example')).toBe('leaf.example');
      expect(nLeaf!.publicKey.asymmetricKeyType).toBe(keyType.startsWith('ecdsa') ? 'ec' : keyType === 'rsa-2048' ? 'rsa' : 'ed25519');

      // Our loaders read the PEM forms back to the same DER.
      expect(toHex(loadCertificateChain(leaf.certificatePem)[0]!)).toBe(toHex(leaf.certificate));
      expect(toHex(loadPrivateKey(leaf.privateKeyPem))).toBe(toHex(leaf.privateKey));
      expect(certificateMatchesKey(leaf.certificate, leaf.privateKey)).toBe(true);
      expect(certificateMatchesKey(leaf.certificate, inter.privateKey)).toBe(false);

      // Our verifier accepts the chain.
      expect(
        await verifyCertificateChain([leaf.certificate, inter.certificate], { trusted: [root.certificate], now: NOW, purpose: 'server', serverName: 'leaf.example' }),
      ).toEqual({ ok: true });

      // A CertificateVerify-style signature with the key verifies with the certificate's key.
      const signer = defaultCrypto.createSigner(leaf.privateKey);
      const verifier = defaultCrypto.createVerifier(leafPublicKey(leaf.certificate));
      expect(signer.schemes.length).toBeGreaterThan(0);
      const message = utf8('TLS 1.3, server CertificateVerify\0transcript-hash');
      for (const scheme of signer.schemes) {
        const signature = signer.sign(scheme, message);
        expect(verifier.verify(scheme, message, signature)).toBe(true);
        expect(verifier.verify(scheme, utf8('other message'), signature)).toBe(false);
      }
      if (isRsa) expect(signer.schemes).toContain(SignatureScheme.rsa_pss_rsae_sha256);
    });
  }

  it('writes the requested validity window, and UTCTime/GeneralizedTime by year', async () => {
    const c = await createCertificate({ now: NOW, commonName: 'window', notBefore: NOW - 10 * DAY, notAfter: Date.UTC(2051, 5, 1) });
    const n = new X509Certificate(c.certificate);
    expect(new Date(n.validFrom).getTime()).toBe(NOW - 10 * DAY);
    expect(new Date(n.validTo).getTime()).toBe(Date.UTC(2051, 5, 1));
    const d = await createCertificate({ now: NOW, commonName: 'default window' });
    const nd = new X509Certificate(d.certificate);
    expect(new Date(nd.validFrom).getTime()).toBe(NOW - 3_600_000);
    expect(new Date(nd.validTo).getTime()).toBe(NOW + 365 * DAY);
  });

  it('encodes key usage, extended key usage, basic constraints and the subject', async () => {
    const c = await createCertificate({
      now: NOW, commonName: 'usage', organization: 'Example Org', keyUsage: ['digitalSignature', 'keyEncipherment', 'decipherOnly'], extendedKeyUsage: ['clientAuth', 'codeSigning'],
    });
    const n = new X509Certificate(c.certificate);
    expect(n.subject).toBe('O=Example Org\nCN=usage');
    expect(n.issuer).toBe(n.subject);
    expect(n.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.3']); // node's name for extended key usage
    const parsed = pkijs.Certificate.fromBER(c.certificate);
    const ku = parsed.extensions!.find((e) => e.extnID === '2.5.29.15')!;
    expect(ku.critical).toBe(true);
    const bits = ku.parsedValue as asn1js.BitString;
    // digitalSignature (bit 0), keyEncipherment (bit 2), decipherOnly (bit 8): 1010 0000 1xxx xxxx.
    expect(toHex(bits.valueBlock.valueHexView)).toBe('a080');
    expect(bits.valueBlock.unusedBits).toBe(7);
    const bc = parsed.extensions!.find((e) => e.extnID === '2.5.29.19')!;
    expect(bc.critical).toBe(true);
    expect((bc.parsedValue as pkijs.BasicConstraints).cA).toBe(false);

    const ca = pkijs.Certificate.fromBER((await createCertificate({ now: NOW, commonName: 'ca', isCA: true, pathLength: 2 })).certificate);
    const caBc = ca.extensions!.find((e) => e.extnID === '2.5.29.19')!.parsedValue as pkijs.BasicConstraints;
    expect(caBc.cA).toBe(true);
    expect(caBc.pathLenConstraint).toBe(2);
    const caKu = ca.extensions!.find((e) => e.extnID === '2.5.29.15')!.parsedValue as asn1js.BitString;
    expect(toHex(caKu.valueBlock.valueHexView)).toBe('86'); // digitalSignature, keyCertSign, cRLSign
    const noBc = pkijs.Certificate.fromBER((await createCertificate({ now: NOW, commonName: 'bare', basicConstraints: false, keyUsage: [], extendedKeyUsage: [] })).certificate);
    expect(noBc.extensions!.map((e) => e.extnID).sort()).toEqual(['2.5.29.14', '2.5.29.35']);
  });

  it('takes the serial number from the injected randomness', async () => {
    const fixed: CryptoBackend = { ...defaultCrypto, randomFill: (out: Uint8Array) => out.fill(0xab) };
    const c = await createCertificate({ now: NOW, commonName: 'serial', crypto: fixed });
    expect(new X509Certificate(c.certificate).serialNumber).toBe('6B' + 'AB'.repeat(15));
    const a = await createCertificate({ now: NOW, commonName: 'a' });
    const b = await createCertificate({ now: NOW, commonName: 'a' });
    expect(new X509Certificate(a.certificate).serialNumber).not.toBe(new X509Certificate(b.certificate).serialNumber);
  });

  it('reuses a given private key', async () => {
    const key = await generatePrivateKey('ed25519');
    const c = await createCertificate({ now: NOW, commonName: 'reuse', privateKey: key });
    expect(toHex(c.privateKey)).toBe(toHex(new Uint8Array(nodeKey(key).export({ type: 'pkcs8', format: 'der' }))));
    expect(certificateMatchesKey(c.certificate, key)).toBe(true);
  });

  it('makes a self-signed certificate for the demo hosts that verifies when pinned', async () => {
    const self = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], now: NOW });
    const n = new X509Certificate(self.certificate);
    expect(n.subject).toBe('CN=localhost');
    expect(n.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(n.verify(n.publicKey)).toBe(true);
    for (const serverName of ['localhost', '127.0.0.1', '::1']) {
      expect(await verifyCertificateChain([self.certificate], { trusted: [self.certificate], now: NOW, purpose: 'server', serverName })).toEqual({ ok: true });
    }
    expect(await verifyCertificateChain([self.certificate], { trusted: [self.certificate], now: NOW, purpose: 'client' })).toEqual({ ok: true });
  });

  it('createTestPki returns the chain a server sends and the root a client trusts', async () => {
    const pki = await createTestPki({ now: NOW, leafKeyType: 'ed25519' });
    expect(pki.chain.map(toHex)).toEqual([toHex(pki.leaf.certificate), toHex(pki.intermediate.certificate)]);
    expect(pki.trusted.map(toHex)).toEqual([toHex(pki.root.certificate)]);
    expect(await verifyCertificateChain(pki.chain, { trusted: pki.trusted, now: NOW, purpose: 'server', serverName: '::1' })).toEqual({ ok: true });
  });

  it('rejects invalid requests with TypeError or RangeError naming the field', async () => {
    await expect(createCertificate({ now: NOW, commonName: '' })).rejects.toThrow(/commonName/);
    await expect(createCertificate({ now: Number.NaN, commonName: 'x' })).rejects.toThrow(/now must be/);
    await expect(createCertificate({ now: NOW, commonName: 'x', notBefore: NOW, notAfter: NOW - 1 })).rejects.toThrow(RangeError);
    await expect(createCertificate({ now: NOW, commonName: 'x', pathLength: -1, isCA: true })).rejects.toThrow(/pathLength/);
    await expect(createCertificate({ now: NOW, commonName: 'x', keyType: 'dsa' as CertificateKeyType })).rejects.toThrow(/unknown key type dsa/);
    await expect(createCertificate({ now: NOW, commonName: 'x', keyUsage: ['signEverything' as 'digitalSignature'] })).rejects.toThrow(/unknown key usage/);
    await expect(createCertificate({ now: NOW, commonName: 'x', privateKey: new Uint8Array([1, 2]) })).rejects.toThrow(/privateKey is not a PKCS#8/);
    await expect(selfSignedCertificate({ hosts: [], now: NOW })).rejects.toThrow(/hosts/);
  });
});

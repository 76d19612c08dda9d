import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { generateKeyPairSync } from 'node:crypto';
import {
  createCertificate,
  createTestPki,
  generatePrivateKey,
  selfSignedCertificate,
  type IssuedCertificate,
  type TestPki,
} from '../../src/tls/certificate-authority.js';
import { verifyCertificateChain, leafPublicKey, leafSignatureVerifier, type CertificateVerdict } from '../../src/tls/certificates.js';
import { TlsAlert } from '../../src/tls/alerts.js';
import { QuicError } from '../../src/transport/errors.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const DAY = 86_400_000;

function expectRejected(v: CertificateVerdict, alert: number, reason?: RegExp): void {
  expect(v.ok).toBe(false);
  if (v.ok) return;
  expect({ alert: v.alert, reason: v.reason }).toMatchObject({ alert });
  if (reason) expect(v.reason).toMatch(reason);
}

/** Replaces every occurrence of `from` in `bytes` with `to` (same length). */
function replaceBytes(bytes: Uint8Array, from: number[], to: number[]): Uint8Array {
  const out = bytes.slice();
  let count = 0;
  for (let i = 0; i + from.length <= out.length; i++) {
    if (from.every((b, j) => out[i + j] === b)) {
      out.set(to, i);
      count++;
    }
  }
  expect(count).toBeGreaterThan(0);
  return out;
}

describe('verifyCertificateChain', () => {
  let pki: TestPki;
  let rsaKey: Uint8Array;
  let otherRoot: IssuedCertificate;

  beforeAll(async () => {
    pki = await createTestPki({ now: NOW, hosts: ['localhost', 'www.example.com', '127.0.0.1', '::1'] });
    rsaKey = await generatePrivateKey('rsa-2048');
    otherRoot = await createCertificate({ now: NOW, commonName: 'Other root', isCA: true });
  });

  const server = (trusted: Uint8Array[], serverName?: string) => ({
    trusted,
    now: NOW,
    purpose: 'server' as const,
    ...(serverName !== undefined ? { serverName } : {}),
  });

  it('accepts leaf ← intermediate ← trusted root for its host names and IPs', async () => {
    for (const host of ['localhost', 'WWW.Example.com', '127.0.0.1', '::1', '0:0:0:0:0:0:0:1', undefined]) {
      expect(await verifyCertificateChain(pki.chain, server(pki.trusted, host))).toEqual({ ok: true });
    }
    expect(await verifyCertificateChain(pki.chain, { trusted: pki.trusted, now: NOW, purpose: 'client' })).toEqual({ ok: true });
  });

  it('accepts a chain that also carries the root and an unrelated certificate', async () => {
    const chain = [pki.leaf.certificate, otherRoot.certificate, pki.intermediate.certificate, pki.root.certificate];
    expect(await verifyCertificateChain(chain, server(pki.trusted, 'localhost'))).toEqual({ ok: true });
  });

  it('verifies chains signed with P-384, Ed25519 and RSA keys', async () => {
    for (const caKeyType of ['ecdsa-p384', 'ed25519'] as const) {
      const p = await createTestPki({ now: NOW, caKeyType, leafKeyType: caKeyType });
      expect(await verifyCertificateChain(p.chain, server(p.trusted, 'localhost'))).toEqual({ ok: true });
    }
    // RSA intermediate signing an RSA leaf (one RSA key reused for speed).
    const inter = await createCertificate({ now: NOW, commonName: 'RSA intermediate', isCA: true, privateKey: rsaKey, issuer: pki.root });
    const leaf = await createCertificate({ now: NOW, commonName: 'rsa leaf', hosts: ['rsa.example'], privateKey: rsaKey, issuer: inter });
    expect(await verifyCertificateChain([leaf.certificate, inter.certificate], server(pki.trusted, 'rsa.example'))).toEqual({ ok: true });
  });

  it('rejects a chain to an untrusted root with unknown_ca', async () => {
    expectRejected(await verifyCertificateChain(pki.chain, server([otherRoot.certificate])), TlsAlert.unknown_ca, /purequic test/);
    expectRejected(await verifyCertificateChain(pki.chain, server([])), TlsAlert.unknown_ca);
    const withRoot = [...pki.chain, pki.root.certificate];
    expectRejected(await verifyCertificateChain(withRoot, server([otherRoot.certificate])), TlsAlert.unknown_ca, /self-signed root that is not trusted/);
  });

  it('rejects a chain missing its intermediate with unknown_ca', async () => {
    expectRejected(
      await verifyCertificateChain([pki.leaf.certificate], server(pki.trusted)),
      TlsAlert.unknown_ca,
      /^the issuer "CN=purequic test intermediate CA" of certificate "CN=localhost" \(chain position 0\) is neither trusted nor in the chain$/,
    );
  });

  it('rejects expired and not-yet-valid certificates with certificate_expired, naming the certificate', async () => {
    const expired = await createCertificate({
      now: NOW, commonName: 'expired', hosts: ['localhost'], issuer: pki.intermediate, notBefore: NOW - 30 * DAY, notAfter: NOW - DAY,
    });
    expectRejected(
      await verifyCertificateChain([expired.certificate, pki.intermediate.certificate], server(pki.trusted)),
      TlsAlert.certificate_expired,
      /"CN=expired" \(chain position 0\) expired at 2025-01-14T12:00:00.000Z/,
    );
    const future = await createCertificate({
      now: NOW, commonName: 'future', hosts: ['localhost'], issuer: pki.intermediate, notBefore: NOW + DAY, notAfter: NOW + 30 * DAY,
    });
    expectRejected(
      await verifyCertificateChain([future.certificate, pki.intermediate.certificate], server(pki.trusted)),
      TlsAlert.certificate_expired,
      /"CN=future" \(chain position 0\) is not valid before 2025-01-16/,
    );
    // The same chain checked at a later time is fine; the valid chain checked later than its end is not.
    expect(await verifyCertificateChain([future.certificate, pki.intermediate.certificate], { ...server(pki.trusted), now: NOW + 2 * DAY })).toEqual({ ok: true });
    expectRejected(await verifyCertificateChain(pki.chain, { ...server(pki.trusted), now: NOW + 400 * DAY }), TlsAlert.certificate_expired);
  });

  it('names an expired intermediate or trusted root', async () => {
    const inter = await createCertificate({
      now: NOW, commonName: 'old intermediate', isCA: true, issuer: pki.root, notBefore: NOW - 30 * DAY, notAfter: NOW - DAY,
    });
    const leaf = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: inter });
    expectRejected(
      await verifyCertificateChain([leaf.certificate, inter.certificate], server(pki.trusted)),
      TlsAlert.certificate_expired,
      /"CN=old intermediate" \(chain position 1\) expired/,
    );
    const oldRoot = await createCertificate({ now: NOW, commonName: 'old root', isCA: true, notBefore: NOW - 30 * DAY, notAfter: NOW - DAY });
    const leaf2 = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: oldRoot });
    expectRejected(
      await verifyCertificateChain([leaf2.certificate], server([oldRoot.certificate])),
      TlsAlert.certificate_expired,
      /^trusted certificate "CN=old root" expired/,
    );
  });

  it('rejects an intermediate without the CA basic constraint with bad_certificate', async () => {
    for (const notCa of [
      { isCA: false },
      { isCA: false, keyUsage: ['keyCertSign', 'digitalSignature'] as const },
      { basicConstraints: false, keyUsage: ['digitalSignature'] as const },
    ]) {
      const inter = await createCertificate({ now: NOW, commonName: 'not a CA', issuer: pki.root, ...notCa, keyUsage: [...notCa.keyUsage ?? []] });
      const leaf = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: inter });
      expectRejected(
        await verifyCertificateChain([leaf.certificate, inter.certificate], server(pki.trusted)),
        TlsAlert.bad_certificate,
        /"CN=not a CA" \(chain position 1\) issues certificates but is not a CA/,
      );
    }
  });

  it('rejects a CA whose key usage lacks keyCertSign', async () => {
    const inter = await createCertificate({ now: NOW, commonName: 'no certsign', isCA: true, keyUsage: ['digitalSignature', 'cRLSign'], issuer: pki.root });
    const leaf = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: inter });
    expectRejected(
      await verifyCertificateChain([leaf.certificate, inter.certificate], server(pki.trusted)),
      TlsAlert.bad_certificate,
      /lacks keyCertSign/,
    );
  });

  it('enforces pathLenConstraint', async () => {
    const root = await createCertificate({ now: NOW, commonName: 'Root pathlen 0', isCA: true, pathLength: 0 });
    const inter = await createCertificate({ now: NOW, commonName: 'Intermediate', isCA: true, issuer: root });
    const leaf = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: inter });
    expectRejected(
      await verifyCertificateChain([leaf.certificate, inter.certificate], server([root.certificate])),
      TlsAlert.bad_certificate,
      /"CN=Root pathlen 0" allows 0 intermediate CA\(s\)/,
    );
    // A leaf directly under the pathLen-0 root is fine.
    const direct = await createCertificate({ now: NOW, commonName: 'direct', hosts: ['localhost'], issuer: root });
    expect(await verifyCertificateChain([direct.certificate], server([root.certificate]))).toEqual({ ok: true });
  });

  it('checks extended key usage against the purpose', async () => {
    const clientOnly = await createCertificate({ now: NOW, commonName: 'client', hosts: ['localhost'], extendedKeyUsage: ['clientAuth'], issuer: pki.intermediate });
    const chain = [clientOnly.certificate, pki.intermediate.certificate];
    expectRejected(await verifyCertificateChain(chain, server(pki.trusted)), TlsAlert.bad_certificate, /lacks serverAuth/);
    expect(await verifyCertificateChain(chain, { trusted: pki.trusted, now: NOW, purpose: 'client' })).toEqual({ ok: true });

    const serverOnly = await createCertificate({ now: NOW, commonName: 'server', extendedKeyUsage: ['serverAuth'], issuer: pki.intermediate });
    expectRejected(
      await verifyCertificateChain([serverOnly.certificate, pki.intermediate.certificate], { trusted: pki.trusted, now: NOW, purpose: 'client' }),
      TlsAlert.bad_certificate,
      /lacks clientAuth/,
    );
    const any = await createCertificate({ now: NOW, commonName: 'any', extendedKeyUsage: ['anyExtendedKeyUsage'], issuer: pki.intermediate });
    expect(await verifyCertificateChain([any.certificate, pki.intermediate.certificate], server(pki.trusted))).toEqual({ ok: true });
    const none = await createCertificate({ now: NOW, commonName: 'no eku', extendedKeyUsage: [], issuer: pki.intermediate });
    expect(await verifyCertificateChain([none.certificate, pki.intermediate.certificate], server(pki.trusted))).toEqual({ ok: true });
  });

  it('rejects an intermediate restricted to another purpose', async () => {
    const inter = await createCertificate({ now: NOW, commonName: 'email CA', isCA: true, extendedKeyUsage: ['emailProtection'], issuer: pki.root });
    const leaf = await createCertificate({ now: NOW, commonName: 'leaf', issuer: inter });
    expectRejected(await verifyCertificateChain([leaf.certificate, inter.certificate], server(pki.trusted)), TlsAlert.bad_certificate, /"CN=email CA".*serverAuth/);
  });

  it('requires digitalSignature on the leaf when key usage is present', async () => {
    const leaf = await createCertificate({ now: NOW, commonName: 'kex only', keyUsage: ['keyEncipherment'], issuer: pki.intermediate });
    expectRejected(
      await verifyCertificateChain([leaf.certificate, pki.intermediate.certificate], server(pki.trusted)),
      TlsAlert.bad_certificate,
      /lacks digitalSignature/,
    );
    const noKu = await createCertificate({ now: NOW, commonName: 'no ku', keyUsage: [], issuer: pki.intermediate });
    expect(await verifyCertificateChain([noKu.certificate, pki.intermediate.certificate], server(pki.trusted))).toEqual({ ok: true });
  });

  it('rejects a certificate for another host with bad_certificate', async () => {
    for (const host of ['other.example', 'example.com', 'a.www.example.com', '127.0.0.2', '::2']) {
      expectRejected(
        await verifyCertificateChain(pki.chain, server(pki.trusted, host)),
        TlsAlert.bad_certificate,
        new RegExp(`^certificate is not valid for host ${host.replace(/\./g, '\\.')}$`),
      );
    }
  });

  it('rejects tampered signatures with bad_certificate', async () => {
    const tamperedLeaf = pki.leaf.certificate.slice();
    tamperedLeaf[tamperedLeaf.length - 5]! ^= 0x01;
    expectRejected(
      await verifyCertificateChain([tamperedLeaf, pki.intermediate.certificate], server(pki.trusted)),
      TlsAlert.bad_certificate,
      /signature on certificate "CN=localhost" \(chain position 0\) does not verify/,
    );
    const tamperedInter = pki.intermediate.certificate.slice();
    tamperedInter[tamperedInter.length - 5]! ^= 0x01;
    expectRejected(
      await verifyCertificateChain([pki.leaf.certificate, tamperedInter], server(pki.trusted)),
      TlsAlert.bad_certificate,
      /signature on certificate "CN=purequic test intermediate CA" \(chain position 1\)/,
    );
  });

  it('rejects a leaf whose content was altered after signing', async () => {
    // Change the host name inside the signed part: localhost → localhosT.
    const altered = replaceBytes(pki.leaf.certificate, [...Buffer.from('localhost')], [...Buffer.from('localhosT')]);
    expectRejected(await verifyCertificateChain([altered, pki.intermediate.certificate], server(pki.trusted)), TlsAlert.bad_certificate, /does not verify/);
  });

  it('maps the empty chain per RFC 8446 §4.4.2.4', async () => {
    expectRejected(await verifyCertificateChain([], server(pki.trusted)), TlsAlert.decode_error);
    expectRejected(await verifyCertificateChain([], { trusted: pki.trusted, now: NOW, purpose: 'client' }), TlsAlert.certificate_required);
  });

  it('rejects unparsable certificates with bad_certificate', async () => {
    for (const junk of [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), new Uint8Array([1, 2, 3]), new Uint8Array(0), pki.leaf.certificate.subarray(0, 100)]) {
      expectRejected(await verifyCertificateChain([junk], server(pki.trusted)), TlsAlert.bad_certificate, /chain position 0 could not be parsed/);
    }
    const trailing = new Uint8Array([...pki.leaf.certificate, 0]);
    expectRejected(await verifyCertificateChain([trailing, pki.intermediate.certificate], server(pki.trusted)), TlsAlert.bad_certificate, /trailing/);
  });

  it('rejects a leaf key type the TLS stack cannot use with unsupported_certificate', async () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const leaf = await createCertificate({ now: NOW, commonName: 'k1', privateKey: new Uint8Array(k1), issuer: pki.intermediate });
    expectRejected(
      await verifyCertificateChain([leaf.certificate, pki.intermediate.certificate], server(pki.trusted)),
      TlsAlert.unsupported_certificate,
      /unsupported public key/,
    );
  });

  it('rejects a certificate signed with SHA-1 with unsupported_certificate', async () => {
    const inter = await createCertificate({ now: NOW, commonName: 'RSA intermediate', isCA: true, privateKey: rsaKey, issuer: pki.root });
    const leaf = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: inter });
    // sha256WithRSAEncryption (1.2.840.113549.1.1.11) → sha1WithRSAEncryption (…1.1.5), both places.
    const sha256WithRsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    const sha1WithRsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05];
    const sha1Leaf = replaceBytes(leaf.certificate, sha256WithRsa, sha1WithRsa);
    expectRejected(
      await verifyCertificateChain([sha1Leaf, inter.certificate], server(pki.trusted)),
      TlsAlert.unsupported_certificate,
      /unsupported algorithm \(1\.2\.840\.113549\.1\.1\.5\)/,
    );
  });

  it('rejects unknown critical extensions and ignores unknown non-critical ones', async () => {
    const ext = (critical: boolean) => [{ oid: '1.3.6.1.4.1.55555.1', critical, value: new Uint8Array([0x05, 0x00]) }];
    const critical = await createCertificate({ now: NOW, commonName: 'crit', issuer: pki.intermediate, extraExtensions: ext(true) });
    expectRejected(
      await verifyCertificateChain([critical.certificate, pki.intermediate.certificate], server(pki.trusted)),
      TlsAlert.unsupported_certificate,
      /unsupported critical extension 1\.3\.6\.1\.4\.1\.55555\.1/,
    );
    const plain = await createCertificate({ now: NOW, commonName: 'noncrit', issuer: pki.intermediate, extraExtensions: ext(false) });
    expect(await verifyCertificateChain([plain.certificate, pki.intermediate.certificate], server(pki.trusted))).toEqual({ ok: true });
  });

  it('trusts a self-signed leaf listed as trusted, and only that', async () => {
    const self = await selfSignedCertificate({ hosts: ['localhost', '127.0.0.1', '::1'], now: NOW });
    for (const host of ['localhost', '127.0.0.1', '::1']) {
      expect(await verifyCertificateChain([self.certificate], server([self.certificate], host))).toEqual({ ok: true });
    }
    expectRejected(await verifyCertificateChain([self.certificate], server([self.certificate], 'example.com')), TlsAlert.bad_certificate);
    expectRejected(await verifyCertificateChain([self.certificate], server(pki.trusted)), TlsAlert.unknown_ca, /self-signed root that is not trusted/);
    expectRejected(
      await verifyCertificateChain([self.certificate], { ...server([self.certificate]), now: NOW + 400 * DAY }),
      TlsAlert.certificate_expired,
    );
    const tampered = self.certificate.slice();
    tampered[tampered.length - 3]! ^= 0x80;
    expectRejected(await verifyCertificateChain([tampered], server([self.certificate])), TlsAlert.bad_certificate, /different signature/);
  });

  it('terminates on issuer loops', async () => {
    // A and B issue each other; neither leads to the trusted root.
    const keyA = await generatePrivateKey('ecdsa-p256');
    const keyB = await generatePrivateKey('ecdsa-p256');
    const a0 = await createCertificate({ now: NOW, commonName: 'Loop A', isCA: true, privateKey: keyA });
    const b = await createCertificate({ now: NOW, commonName: 'Loop B', isCA: true, privateKey: keyB, issuer: a0 });
    const a = await createCertificate({ now: NOW, commonName: 'Loop A', isCA: true, privateKey: keyA, issuer: b });
    const leaf = await createCertificate({ now: NOW, commonName: 'leaf', hosts: ['localhost'], issuer: a });
    expectRejected(await verifyCertificateChain([leaf.certificate, a.certificate, b.certificate], server(pki.trusted)), TlsAlert.unknown_ca, /within 64 issuer look-ups/);
  });

  it('turns any corruption of the leaf into a verdict, and accepts only changes outside the signed part (property)', async () => {
    const der = pki.leaf.certificate;
    // Outer SEQUENCE header (4 bytes for these sizes), then the TBSCertificate SEQUENCE.
    expect(der[1]).toBe(0x82);
    const tbsEnd = 4 + 4 + ((der[6]! << 8) | der[7]!);
    const alerts = new Set<number>([TlsAlert.bad_certificate, TlsAlert.unsupported_certificate, TlsAlert.unknown_ca, TlsAlert.certificate_expired]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat({ max: der.length - 1 }), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 3 }),
        fc.option(fc.nat({ max: der.length - 1 }), { nil: undefined }),
        async (flips, cut) => {
          const bad = der.slice(0, cut ?? der.length);
          for (const f of flips) if (f.at < bad.length) bad[f.at]! ^= f.xor;
          const v = await verifyCertificateChain([bad, pki.intermediate.certificate], server(pki.trusted, 'localhost'));
          if (v.ok) {
            expect(bad.length).toBe(der.length);
            expect(flips.every((f) => f.at >= tbsEnd)).toBe(true);
          } else {
            expect(alerts.has(v.alert)).toBe(true);
            expect(v.reason.length).toBeGreaterThan(10);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects over-long chains', async () => {
    const chain = [pki.leaf.certificate, ...new Array<Uint8Array>(20).fill(pki.intermediate.certificate)];
    expectRejected(await verifyCertificateChain(chain, server(pki.trusted)), TlsAlert.bad_certificate, /exceeds the limit/);
  });

  it('throws TypeError for invalid options', async () => {
    await expect(verifyCertificateChain(pki.chain, { trusted: pki.trusted, now: Number.NaN, purpose: 'server' })).rejects.toThrow(TypeError);
    await expect(verifyCertificateChain(pki.chain, { trusted: pki.trusted, now: NOW, purpose: 'peer' as 'server' })).rejects.toThrow(/purpose/);
    await expect(verifyCertificateChain(pki.chain, { trusted: [new Uint8Array([1, 2])], now: NOW, purpose: 'server' })).rejects.toThrow(/options\.trusted\[0\]/);
  });
});

describe('leafPublicKey / leafSignatureVerifier', () => {
  it('returns the SPKI the leaf key signs for, and QuicError(bad_certificate) for junk', async () => {
    const self = await selfSignedCertificate({ hosts: ['localhost'], now: NOW, keyType: 'ed25519' });
    const spki = leafPublicKey(self.certificate);
    expect(spki[0]).toBe(0x30);
    const verifier = leafSignatureVerifier(self.certificate);
    expect(verifier.schemes).toContain(0x0807);
    let thrown: unknown;
    try {
      leafPublicKey(new Uint8Array([0x30, 0x00]));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(QuicError);
    expect((thrown as QuicError).tlsAlert).toBe(TlsAlert.bad_certificate);
  });
});

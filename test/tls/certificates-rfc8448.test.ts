import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { fromHex, toHex } from '../../src/util/bytes.js';
import { certificateMatchesKey, loadCertificateChain, loadPrivateKey } from '../../src/tls/credentials.js';
import { leafSignatureVerifier, matchesServerName, verifyCertificateChain } from '../../src/tls/certificates.js';
import { TlsAlert } from '../../src/tls/alerts.js';
import { SignatureScheme } from '../../src/crypto/index.js';

/** RFC 8448 §3: the server's self-signed RSA certificate ("CN=rsa", 2016-07-30 … 2026-07-30, no subjectAltName) and key. */
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/rfc8448-simple-1rtt.json', import.meta.url), 'utf8')) as {
  server_certificate_der: string;
  certificate_verify: string;
  certificate_verify_signed_content: string;
  server_rsa_key: Record<string, string>;
};

const certificate = fromHex(vectors.server_certificate_der);
const DURING = Date.UTC(2020, 0, 1);
const AFTER = Date.UTC(2026, 7, 1);

const b64url = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');

describe('RFC 8448 server certificate (independent of our generator)', () => {
  it('loads, and pairs with the RFC server RSA key', () => {
    expect(toHex(loadCertificateChain(certificate)[0]!)).toBe(vectors.server_certificate_der);
    const k = vectors.server_rsa_key;
    const key = createPrivateKey({
      key: {
        kty: 'RSA',
        n: b64url(k.modulus!), e: b64url(k.public_exponent!), d: b64url(k.private_exponent!), p: b64url(k.prime1!), q: b64url(k.prime2!),
        dp: b64url(k.exponent1!), dq: b64url(k.exponent2!), qi: b64url(k.coefficient!),
      },
      format: 'jwk',
    });
    const pkcs8 = loadPrivateKey(key.export({ type: 'pkcs1', format: 'pem' }) as string);
    expect(certificateMatchesKey(certificate, pkcs8)).toBe(true);
  });

  it("verifies the RFC's CertificateVerify signature with the certificate's key", () => {
    const message = fromHex(vectors.certificate_verify);
    // handshake header (4) + scheme (2) + length (2) + signature
    expect(toHex(message.subarray(4, 6))).toBe('0804');
    const signature = message.subarray(8);
    const verifier = leafSignatureVerifier(certificate);
    const content = fromHex(vectors.certificate_verify_signed_content);
    expect(verifier.verify(SignatureScheme.rsa_pss_rsae_sha256, content, signature)).toBe(true);
    content[content.length - 1]! ^= 1;
    expect(verifier.verify(SignatureScheme.rsa_pss_rsae_sha256, content, signature)).toBe(false);
  });

  it('is accepted only when pinned and within its validity period', async () => {
    expect(await verifyCertificateChain([certificate], { trusted: [certificate], now: DURING, purpose: 'server' })).toEqual({ ok: true });
    const untrusted = await verifyCertificateChain([certificate], { trusted: [], now: DURING, purpose: 'server' });
    expect(untrusted).toMatchObject({ ok: false, alert: TlsAlert.unknown_ca });
    const expired = await verifyCertificateChain([certificate], { trusted: [certificate], now: AFTER, purpose: 'server' });
    expect(expired).toMatchObject({ ok: false, alert: TlsAlert.certificate_expired, reason: 'certificate "CN=rsa" (chain position 0) expired at 2026-07-30T01:23:59.000Z' });
  });

  it('is not valid for its common name, which is never used for host matching', async () => {
    expect(matchesServerName(certificate, 'rsa')).toBe(false);
    const v = await verifyCertificateChain([certificate], { trusted: [certificate], now: DURING, purpose: 'server', serverName: 'rsa' });
    expect(v).toEqual({ ok: false, alert: TlsAlert.bad_certificate, reason: 'certificate is not valid for host rsa' });
  });
});

/**
 * A small certificate authority: issues root, intermediate and leaf X.509 v3 certificates with
 * fresh or given keys, for tests (valid, expired, mis-constrained chains) and for the demo's
 * self-signed server certificate. Built with pkijs/asn1js; keys and signatures come from
 * node:crypto. Configuration-time code: it reads no clock (the caller passes `now`) and takes
 * serial-number randomness from a `CryptoBackend`; key generation itself uses node:crypto's
 * generator, which draws on OpenSSL's random source.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CryptoBackend } from '../crypto/backend.js';
import { defaultCrypto } from '../crypto/index.js';
import { encodePem } from './credentials.js';

/** Key algorithms the authority can generate. RSA keys are plain rsaEncryption keys (usable with TLS rsa_pss_rsae_*). */
export type CertificateKeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'rsa-2048' | 'ed25519';

/** X.509 key usage bits (RFC 5280 §4.2.1.3), in bit order. */
export const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

/** Extended key usage purposes (RFC 5280 §4.2.1.12) by name. */
export const EXTENDED_KEY_USAGE_OIDS = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  OCSPSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGE_OIDS;

/** A certificate with its private key, in DER and PEM. */
export interface IssuedCertificate {
  /** The certificate, DER. */
  readonly certificate: Uint8Array;
  /** Its private key, unencrypted PKCS#8 DER. */
  readonly privateKey: Uint8Array;
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** What to put in a certificate. */
export interface CertificateRequest {
  /** Subject common name. */
  commonName: string;
  /** Optional subject organization (O). */
  organization?: string;
  /** Current time, ms since the epoch; the default validity window is [now − 1 h, now + 365 d]. */
  now: number;
  /** Key algorithm of a freshly generated key (default `ecdsa-p256`); ignored when `privateKey` is given. */
  keyType?: CertificateKeyType;
  /** Reuse this PKCS#8 DER key instead of generating one (RSA generation is slow). */
  privateKey?: Uint8Array;
  /** subjectAltName entries: IP literals (v4 or v6) become iPAddress, everything else dNSName. */
  hosts?: readonly string[];
  /** Start of validity, ms since the epoch. */
  notBefore?: number;
  /** End of validity, ms since the epoch. */
  notAfter?: number;
  /** basicConstraints cA (default false). */
  isCA?: boolean;
  /** basicConstraints pathLenConstraint (CA only). */
  pathLength?: number;
  /** Include a basicConstraints extension at all (default true). */
  basicConstraints?: boolean;
  /** Key usage bits; empty array omits the extension. Default: CA → keyCertSign, cRLSign, digitalSignature; leaf → digitalSignature. */
  keyUsage?: readonly KeyUsageName[];
  /** Extended key usages; empty array omits the extension. Default: CA → none; leaf → serverAuth, clientAuth. */
  extendedKeyUsage?: readonly ExtendedKeyUsageName[];
  /** The signing CA; absent → self-signed. */
  issuer?: IssuedCertificate;
  /** Further extensions, DER-encoded values as they go inside extnValue (e.g. to test unknown critical extensions). */
  extraExtensions?: readonly { oid: string; critical: boolean; value: Uint8Array }[];
  /** Source of the serial number's randomness (default `defaultCrypto`). */
  crypto?: CryptoBackend;
}

const OID = {
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  ecdsaWithSha512: '1.2.840.10045.4.3.4',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ed25519: '1.3.101.112',
} as const;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function generateKeyObject(type: CertificateKeyType): Promise<KeyObject> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, _pub: KeyObject, priv: KeyObject): void => (err ? reject(err) : resolve(priv));
    switch (type) {
      case 'ecdsa-p256':
        return generateKeyPair('ec', { namedCurve: 'P-256' }, done);
      case 'ecdsa-p384':
        return generateKeyPair('ec', { namedCurve: 'P-384' }, done);
      case 'rsa-2048':
        return generateKeyPair('rsa', { modulusLength: 2048, publicExponent: 0x10001 }, done);
      case 'ed25519':
        return generateKeyPair('ed25519', undefined, done);
      default:
        return reject(new TypeError(`unknown key type ${String(type)} (expected ecdsa-p256, ecdsa-p384, rsa-2048 or ed25519)`));
    }
  });
}

/** A fresh private key of `type` as PKCS#8 DER. */
export async function generatePrivateKey(type: CertificateKeyType): Promise<Uint8Array> {
  const key = await generateKeyObject(type);
  return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
}

function keyObjectFromPkcs8(pkcs8: Uint8Array, what: string): KeyObject {
  try {
    return createPrivateKey({ key: Buffer.from(pkcs8.buffer, pkcs8.byteOffset, pkcs8.byteLength), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new TypeError(`${what} is not a PKCS#8 DER private key: ${(e as Error).message}`);
  }
}

/** Certificate signature algorithm (and hash for node's `sign`) for an issuer key. */
function signatureAlgorithmFor(key: KeyObject): { oid: string; hash: string | null; nullParams: boolean } {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { oid: OID.ecdsaWithSha256, hash: 'sha256', nullParams: false };
      if (curve === 'secp384r1') return { oid: OID.ecdsaWithSha384, hash: 'sha384', nullParams: false };
      if (curve === 'secp521r1') return { oid: OID.ecdsaWithSha512, hash: 'sha512', nullParams: false };
      throw new TypeError(`cannot sign certificates with EC curve ${curve ?? '(unknown)'}`);
    }
    case 'rsa':
      return { oid: OID.sha256WithRsa, hash: 'sha256', nullParams: true };
    case 'ed25519':
      return { oid: OID.ed25519, hash: null, nullParams: false };
    default:
      throw new TypeError(`cannot sign certificates with a ${key.asymmetricKeyType ?? 'unknown'} key`);
  }
}

/** A Name with one attribute per RDN (O first when given, then CN). */
function distinguishedName(commonName: string, organization: string | undefined): pkijs.RelativeDistinguishedNames {
  const attributes: [string, string][] = [];
  if (organization !== undefined) attributes.push([OID.organization, organization]);
  attributes.push([OID.commonName, commonName]);
  const schema = new asn1js.Sequence({
    value: attributes.map(
      ([type, value]) => new asn1js.Set({ value: [new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) }).toSchema()] }),
    ),
  });
  // Parsed from DER so pkijs keeps the encoding (built directly it would merge all attributes into one RDN).
  return pkijs.RelativeDistinguishedNames.fromBER(schema.toBER(false));
}

function certificateTime(ms: number): pkijs.Time {
  const value = new Date(ms);
  const year = value.getUTCFullYear();
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 on (and before 1950).
  const type = year >= 1950 && year < 2050 ? pkijs.TimeType.UTCTime : pkijs.TimeType.GeneralizedTime;
  return new pkijs.Time({ type, value });
}

/** Bytes of an IPv4 or IPv6 literal for an iPAddress SAN. */
function ipAddressBytes(host: string): Uint8Array {
  if (isIP(host) === 4) return Uint8Array.from(host.split('.').map(Number));
  // Let the URL parser canonicalise the v6 literal, then expand it.
  const canonical = new URL(`http://[${host}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function keyUsageBitString(usages: readonly KeyUsageName[]): asn1js.BitString {
  let highest = -1;
  const bits = new Uint8Array(2);
  for (const name of usages) {
    const bit = KEY_USAGE_BITS.indexOf(name);
    if (bit < 0) throw new TypeError(`unknown key usage ${String(name)} (expected one of ${KEY_USAGE_BITS.join(', ')})`);
    bits[bit >> 3]! |= 0x80 >> (bit & 7);
    highest = Math.max(highest, bit);
  }
  const byteCount = (highest >> 3) + 1;
  return new asn1js.BitString({ valueHex: bits.slice(0, byteCount), unusedBits: byteCount * 8 - (highest + 1) });
}

function extension(extnID: string, critical: boolean, value: { toSchema(): asn1js.AsnType } | asn1js.AsnType): pkijs.Extension {
  const schema = 'toSchema' in value ? value.toSchema() : value;
  return new pkijs.Extension({ extnID, critical, extnValue: schema.toBER(false) });
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bytes. */
function keyIdentifier(spki: pkijs.PublicKeyInfo): Uint8Array {
  return new Uint8Array(createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest());
}

function checkTime(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a finite number of ms since the epoch, got ${String(value)}`);
  }
}

function validateRequest(r: CertificateRequest): void {
  if (typeof r !== 'object' || r === null) throw new TypeError('certificate request must be an object');
  if (typeof r.commonName !== 'string' || r.commonName === '') {
    throw new TypeError(`commonName must be a non-empty string, got ${JSON.stringify(r.commonName)}`);
  }
  checkTime(r.now, 'now');
  if (r.notBefore !== undefined) checkTime(r.notBefore, 'notBefore');
  if (r.notAfter !== undefined) checkTime(r.notAfter, 'notAfter');
  if (r.pathLength !== undefined && (!Number.isInteger(r.pathLength) || r.pathLength < 0)) {
    throw new RangeError(`pathLength must be a non-negative integer, got ${r.pathLength}`);
  }
  for (const h of r.hosts ?? []) {
    if (typeof h !== 'string' || h === '') throw new TypeError(`hosts entries must be non-empty strings, got ${JSON.stringify(h)}`);
  }
}

/**
 * Issues one certificate: generates (or reuses) a key, fills subject, validity, extensions,
 * and signs with `request.issuer`'s key (or its own key when self-signed). Throws TypeError or
 * RangeError for an invalid request.
 */
export async function createCertificate(request: CertificateRequest): Promise<IssuedCertificate> {
  validateRequest(request);
  const isCA = request.isCA ?? false;
  const notBefore = request.notBefore ?? request.now - HOUR_MS;
  const notAfter = request.notAfter ?? request.now + 365 * DAY_MS;
  if (notAfter < notBefore) throw new RangeError(`notAfter (${new Date(notAfter).toISOString()}) is before notBefore (${new Date(notBefore).toISOString()})`);

  const subjectKey = request.privateKey
    ? keyObjectFromPkcs8(request.privateKey, 'privateKey')
    : await generateKeyObject(request.keyType ?? 'ecdsa-p256');
  const spkiDer = createPublicKey(subjectKey).export({ type: 'spki', format: 'der' });
  const spki = pkijs.PublicKeyInfo.fromBER(spkiDer);

  let issuerName: pkijs.RelativeDistinguishedNames;
  let issuerKey: KeyObject;
  let authorityKeyId: Uint8Array;
  const subjectName = distinguishedName(request.commonName, request.organization);
  const subjectKeyId = keyIdentifier(spki);
  if (request.issuer) {
    let issuerCert: pkijs.Certificate;
    try {
      issuerCert = pkijs.Certificate.fromBER(request.issuer.certificate);
    } catch (e) {
      throw new TypeError(`issuer.certificate is not a DER certificate: ${(e as Error).message}`);
    }
    issuerName = issuerCert.subject;
    issuerKey = keyObjectFromPkcs8(request.issuer.privateKey, 'issuer.privateKey');
    authorityKeyId = keyIdentifier(issuerCert.subjectPublicKeyInfo);
  } else {
    issuerName = subjectName;
    issuerKey = subjectKey;
    authorityKeyId = subjectKeyId;
  }
  const algorithm = signatureAlgorithmFor(issuerKey);

  const serial = new Uint8Array(16);
  (request.crypto ?? defaultCrypto).randomFill(serial);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive, and no leading zero byte

  const extensions: pkijs.Extension[] = [];
  if (request.basicConstraints ?? true) {
    const bc = new pkijs.BasicConstraints(
      isCA && request.pathLength !== undefined ? { cA: true, pathLenConstraint: request.pathLength } : { cA: isCA },
    );
    extensions.push(extension(OID.basicConstraints, true, bc));
  }
  const keyUsage = request.keyUsage ?? (isCA ? ['keyCertSign', 'cRLSign', 'digitalSignature'] : ['digitalSignature']);
  if (keyUsage.length > 0) extensions.push(extension(OID.keyUsage, true, keyUsageBitString(keyUsage)));
  const eku = request.extendedKeyUsage ?? (isCA ? [] : ['serverAuth', 'clientAuth']);
  if (eku.length > 0) {
    const keyPurposes = eku.map((name) => {
      const oid = EXTENDED_KEY_USAGE_OIDS[name];
      if (oid === undefined) throw new TypeError(`unknown extended key usage ${String(name)}`);
      return oid;
    });
    extensions.push(extension(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes })));
  }
  if (request.hosts && request.hosts.length > 0) {
    const altNames = request.hosts.map((h) =>
      isIP(h) !== 0
        ? new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipAddressBytes(h) }) })
        : new pkijs.GeneralName({ type: 2, value: h }),
    );
    extensions.push(extension(OID.subjectAltName, false, new pkijs.AltName({ altNames })));
  }
  extensions.push(extension(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: subjectKeyId })));
  extensions.push(
    extension(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: authorityKeyId }) })),
  );

  for (const extra of request.extraExtensions ?? []) {
    extensions.push(new pkijs.Extension({ extnID: extra.oid, critical: extra.critical, extnValue: extra.value.slice().buffer }));
  }

  const algorithmIdentifier = (): pkijs.AlgorithmIdentifier =>
    new pkijs.AlgorithmIdentifier(
      algorithm.nullParams ? { algorithmId: algorithm.oid, algorithmParams: new asn1js.Null() } : { algorithmId: algorithm.oid },
    );
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.signature = algorithmIdentifier();
  cert.issuer = issuerName;
  cert.notBefore = certificateTime(notBefore);
  cert.notAfter = certificateTime(notAfter);
  cert.subject = subjectName;
  cert.subjectPublicKeyInfo = spki;
  cert.extensions = extensions;
  cert.signatureAlgorithm = algorithmIdentifier();

  const tbs = new Uint8Array(cert.encodeTBS().toBER(false));
  const signature = sign(algorithm.hash, tbs, issuerKey.asymmetricKeyType === 'ec' ? { key: issuerKey, dsaEncoding: 'der' } : issuerKey);
  const der = new Uint8Array(
    new asn1js.Sequence({
      value: [asn1js.fromBER(tbs).result, cert.signatureAlgorithm.toSchema(), new asn1js.BitString({ valueHex: signature })],
    }).toBER(false),
  );
  const pkcs8 = new Uint8Array(subjectKey.export({ type: 'pkcs8', format: 'der' }));
  return { certificate: der, privateKey: pkcs8, certificatePem: encodePem('CERTIFICATE', der), privateKeyPem: encodePem('PRIVATE KEY', pkcs8) };
}

/** Options for `selfSignedCertificate`. */
export interface SelfSignedOptions {
  /** Host names and IP literals the certificate is for (first one is also the CN unless `commonName` is given). */
  hosts: readonly string[];
  /** Current time, ms since the epoch. */
  now: number;
  keyType?: CertificateKeyType;
  commonName?: string;
  /** Validity in days from `now` (default 365). */
  validityDays?: number;
  crypto?: CryptoBackend;
}

/**
 * A self-signed server/client certificate for `hosts` (e.g. `['localhost', '127.0.0.1', '::1']`),
 * valid from an hour before `now`. A peer trusts it by listing the certificate itself as trusted.
 */
export async function selfSignedCertificate(options: SelfSignedOptions): Promise<IssuedCertificate> {
  if (!Array.isArray(options.hosts) || options.hosts.length === 0) throw new TypeError('hosts must be a non-empty array of names');
  const days = options.validityDays ?? 365;
  if (!(days > 0)) throw new RangeError(`validityDays must be positive, got ${days}`);
  checkTime(options.now, 'now');
  return createCertificate({
    commonName: options.commonName ?? options.hosts[0]!,
    now: options.now,
    notAfter: options.now + days * DAY_MS,
    hosts: options.hosts,
    keyType: options.keyType ?? 'ecdsa-p256',
    ...(options.crypto ? { crypto: options.crypto } : {}),
  });
}

/** A root → intermediate → leaf hierarchy. */
export interface TestPki {
  readonly root: IssuedCertificate;
  readonly intermediate: IssuedCertificate;
  readonly leaf: IssuedCertificate;
  /** What a server sends: leaf then intermediate (DER). */
  readonly chain: Uint8Array[];
  /** What a client trusts: the root (DER). */
  readonly trusted: Uint8Array[];
}

/** Options for `createTestPki`. */
export interface TestPkiOptions {
  now: number;
  /** Leaf host names / IPs (default localhost, 127.0.0.1, ::1). */
  hosts?: readonly string[];
  /** Leaf key type (default ecdsa-p256). */
  leafKeyType?: CertificateKeyType;
  /** Root and intermediate key type (default ecdsa-p256). */
  caKeyType?: CertificateKeyType;
  /** Reuse this key for the leaf. */
  leafPrivateKey?: Uint8Array;
  crypto?: CryptoBackend;
}

/** Issues a root CA (pathLen 1), an intermediate CA (pathLen 0) and a leaf for `hosts`. */
export async function createTestPki(options: TestPkiOptions): Promise<TestPki> {
  const base = { now: options.now, ...(options.crypto ? { crypto: options.crypto } : {}) };
  const caKeyType = options.caKeyType ?? 'ecdsa-p256';
  const root = await createCertificate({ ...base, commonName: 'purequic test root CA', isCA: true, pathLength: 1, keyType: caKeyType });
  const intermediate = await createCertificate({
    ...base,
    commonName: 'purequic test intermediate CA',
    isCA: true,
    pathLength: 0,
    keyType: caKeyType,
    issuer: root,
  });
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const leaf = await createCertificate({
    ...base,
    commonName: hosts[0] ?? 'purequic test leaf',
    hosts,
    keyType: options.leafKeyType ?? 'ecdsa-p256',
    ...(options.leafPrivateKey ? { privateKey: options.leafPrivateKey } : {}),
    issuer: intermediate,
  });
  return { root, intermediate, leaf, chain: [leaf.certificate, intermediate.certificate], trusted: [root.certificate] };
}

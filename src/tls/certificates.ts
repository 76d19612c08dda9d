/**
 * Peer certificate checks for the TLS handshake: chain validation against trusted roots
 * (pkijs's chain engine, with signatures checked by node:crypto so Ed25519 and RSA-PSS work),
 * the key-usage and purpose rules a TLS peer certificate must meet, and server-name matching.
 *
 * Everything here judges bytes from the network, so nothing throws for a bad certificate:
 * verification returns a `CertificateVerdict` with the TLS alert to send; `leafPublicKey`
 * throws `QuicError` (CRYPTO_ERROR + alert). Runs once per handshake, not per packet.
 */
import { X509Certificate as NodeCertificate, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { CryptoBackend, SignatureVerifier } from '../crypto/backend.js';
import { defaultCrypto } from '../crypto/index.js';
import { QuicError } from '../transport/errors.js';
import { equalBytes } from '../util/bytes.js';
import { TlsAlert } from './alerts.js';
import { matchesServerNameIn } from './server-name.js';

/** Outcome of a certificate check: accepted, or the TLS alert to abort with and why. */
export type CertificateVerdict = { ok: true } | { ok: false; alert: number; reason: string };

/** What the peer's certificate is checked for: `server` when a client checks a server, `client` when a server checks a client. */
export type CertificatePurpose = 'server' | 'client';

/** Inputs of `verifyCertificateChain`. */
export interface ChainVerificationOptions {
  /** Trusted root (or directly trusted end-entity) certificates, DER. */
  readonly trusted: readonly Uint8Array[];
  /** Host name or IP literal the leaf must be valid for (checked when given). */
  readonly serverName?: string;
  /** Verification time, ms since the epoch. */
  readonly now: number;
  readonly purpose: CertificatePurpose;
}

/** Longest chain accepted from a peer. */
export const MAX_CHAIN_LENGTH = 16;
/** Issuer look-ups allowed while building paths (bounds loops and fan-out in crafted chains). */
const MAX_ISSUER_SEARCHES = 64;

const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  anyExtendedKeyUsage: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/** Extensions whose meaning is enforced here or by pkijs; any other critical extension makes a certificate unusable. */
const UNDERSTOOD_EXTENSIONS = new Set([
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.15', // keyUsage
  '2.5.29.17', // subjectAltName
  '2.5.29.19', // basicConstraints
  '2.5.29.30', // nameConstraints (pkijs)
  '2.5.29.32', // certificatePolicies (pkijs)
  '2.5.29.33', // policyMappings (pkijs)
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.36', // policyConstraints (pkijs)
  '2.5.29.37', // extKeyUsage
  '2.5.29.54', // inhibitAnyPolicy (pkijs)
]);

/** Certificate signature algorithms accepted in a chain (SHA-1 and MD5 based ones are not). */
const SIGNATURE_ALGORITHMS = new Map([
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
  ['1.2.840.113549.1.1.10', 'RSASSA-PSS'],
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
]);

const KEY_USAGE_DIGITAL_SIGNATURE = 0;
const KEY_USAGE_KEY_CERT_SIGN = 5;

/** pkijs's crypto engine, bound explicitly to Node's WebCrypto (no reliance on a global). */
const pkiCryptoEngine = new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as pkijs.CryptoEngineParameters['crypto'] });

/** node:crypto's view of a certificate: enough to pre-select trust anchors without a full parse. */
interface CertificateView {
  readonly der: Uint8Array;
  readonly node: NodeCertificate;
  /** The DER TBSCertificate (a view into `der`). */
  readonly tbs: Uint8Array;
  /** Subject for messages, e.g. `CN=example.com, O=Example`. */
  readonly label: string;
}

/** A certificate parsed by both node:crypto and pkijs. */
interface ParsedCertificate extends CertificateView {
  readonly pki: pkijs.Certificate;
}

const viewByDer = new WeakMap<Uint8Array, CertificateView>();
const parsedByDer = new WeakMap<Uint8Array, ParsedCertificate>();
const parsedByPki = new WeakMap<pkijs.Certificate, ParsedCertificate>();

/** Header and content length of the DER element at `offset`, or undefined when malformed or truncated. */
function derElement(bytes: Uint8Array, offset: number): { header: number; length: number } | undefined {
  const first = bytes[offset + 1];
  if (first === undefined) return undefined;
  let length = first;
  let header = 2;
  if (first >= 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) {
      const b = bytes[offset + 2 + i];
      if (b === undefined) return undefined;
      length = length * 256 + b;
    }
    header += n;
  }
  return offset + header + length <= bytes.length ? { header, length } : undefined;
}

/** node:crypto's parse (cached per array), or why `der` is not a certificate. */
function viewCertificate(der: Uint8Array): CertificateView | string {
  const cached = viewByDer.get(der);
  if (cached) return cached;
  if (!(der instanceof Uint8Array) || der.length === 0) return 'empty or not bytes';
  const outer = derElement(der, 0);
  if (der[0] !== 0x30 || !outer) return 'not DER';
  if (outer.header + outer.length !== der.length) return `${der.length - outer.header - outer.length} bytes of trailing data`;
  const inner = derElement(der, outer.header);
  if (der[outer.header] !== 0x30 || !inner) return 'no TBSCertificate';
  let node: NodeCertificate;
  try {
    node = new NodeCertificate(der);
  } catch (e) {
    return `not an X.509 certificate (${(e as Error).message})`;
  }
  const view: CertificateView = {
    der,
    node,
    tbs: der.subarray(outer.header, outer.header + inner.header + inner.length),
    label: node.subject.replace(/\n/g, ', ') || '(empty subject)',
  };
  viewByDer.set(der, view);
  return view;
}

/** Full parse (cached per array), or why `der` is not a certificate. */
function parseCertificate(der: Uint8Array): ParsedCertificate | string {
  const cached = parsedByDer.get(der);
  if (cached) return cached;
  const view = viewCertificate(der);
  if (typeof view === 'string') return view;
  let pki: pkijs.Certificate;
  try {
    pki = new pkijs.Certificate({ schema: asn1js.fromBER(der).result });
  } catch (e) {
    return `not an X.509 certificate (${(e as Error).message})`;
  }
  const parsed: ParsedCertificate = { ...view, pki };
  parsedByDer.set(der, parsed);
  parsedByPki.set(pki, parsed);
  return parsed;
}

function extensionValue(cert: pkijs.Certificate, oid: string): unknown {
  for (const ext of cert.extensions ?? []) if (ext.extnID === oid) return ext.parsedValue ?? null;
  return undefined;
}

/** basicConstraints, or undefined when absent; null when present but unreadable. */
function basicConstraintsOf(cert: pkijs.Certificate): { cA: boolean; pathLength: number | undefined } | undefined | null {
  const v = extensionValue(cert, OID.basicConstraints);
  if (v === undefined) return undefined;
  if (!(v instanceof pkijs.BasicConstraints)) return null;
  const pl = v.pathLenConstraint;
  const pathLength = pl === undefined ? undefined : typeof pl === 'number' ? pl : pl.valueBlock.valueDec;
  return { cA: v.cA === true, pathLength };
}

/** Whether key usage bit `bit` is set; undefined when there is no keyUsage extension, null when unreadable. */
function keyUsageHas(cert: pkijs.Certificate, bit: number): boolean | undefined | null {
  const v = extensionValue(cert, OID.keyUsage);
  if (v === undefined) return undefined;
  if (!(v instanceof asn1js.BitString)) return null;
  const bytes = v.valueBlock.valueHexView;
  return ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0;
}

/** extKeyUsage purposes; undefined when absent, null when unreadable. */
function extendedKeyUsagesOf(cert: pkijs.Certificate): readonly string[] | undefined | null {
  const v = extensionValue(cert, OID.extKeyUsage);
  if (v === undefined) return undefined;
  return v instanceof pkijs.ExtKeyUsage ? v.keyPurposes : null;
}

function isoTime(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'an invalid time' : d.toISOString();
}

function fail(alert: number, reason: string): CertificateVerdict {
  return { ok: false, alert, reason };
}

/** Why `p` is not valid at `now`, or undefined when it is. */
function validityProblem(p: ParsedCertificate, now: number, where: string): string | undefined {
  const notBefore = p.pki.notBefore.value;
  const notAfter = p.pki.notAfter.value;
  if (!(notBefore.getTime() <= now)) return `${where} is not valid before ${isoTime(notBefore)}`;
  if (!(now <= notAfter.getTime())) return `${where} expired at ${isoTime(notAfter)}`;
  return undefined;
}

/** Why `p` cannot act as an issuer, or undefined when it can. */
function issuerProblem(p: ParsedCertificate, where: string): string | undefined {
  const bc = basicConstraintsOf(p.pki);
  if (bc === null) return `${where} has an unreadable basicConstraints extension`;
  if (bc === undefined || !bc.cA) return `${where} issues certificates but is not a CA (basicConstraints cA is not set)`;
  const certSign = keyUsageHas(p.pki, KEY_USAGE_KEY_CERT_SIGN);
  if (certSign === null) return `${where} has an unreadable keyUsage extension`;
  if (certSign === false) return `${where} issues certificates but its key usage lacks keyCertSign`;
  return undefined;
}

function purposeOid(purpose: CertificatePurpose): string {
  return purpose === 'server' ? OID.serverAuth : OID.clientAuth;
}

/** Why the extended key usage of `p` does not allow `purpose`, or undefined when it does (or is absent). */
function purposeProblem(p: ParsedCertificate, purpose: CertificatePurpose, where: string): string | undefined {
  const eku = extendedKeyUsagesOf(p.pki);
  if (eku === undefined) return undefined;
  if (eku === null) return `${where} has an unreadable extendedKeyUsage extension`;
  if (eku.includes(purposeOid(purpose)) || eku.includes(OID.anyExtendedKeyUsage)) return undefined;
  return `${where} is not valid for TLS ${purpose} authentication (extended key usage lacks ${purpose === 'server' ? 'serverAuth' : 'clientAuth'})`;
}

function unknownCriticalExtension(p: ParsedCertificate): string | undefined {
  for (const ext of p.pki.extensions ?? []) if (ext.critical && !UNDERSTOOD_EXTENSIONS.has(ext.extnID)) return ext.extnID;
  return undefined;
}

/** The checks on a leaf that apply however it is trusted: critical extensions, key usage, purpose. */
function leafProblem(leaf: ParsedCertificate, purpose: CertificatePurpose, where: string): CertificateVerdict | undefined {
  const critical = unknownCriticalExtension(leaf);
  if (critical) return fail(TlsAlert.unsupported_certificate, `${where} has an unsupported critical extension ${critical}`);
  const signs = keyUsageHas(leaf.pki, KEY_USAGE_DIGITAL_SIGNATURE);
  if (signs === null) return fail(TlsAlert.bad_certificate, `${where} has an unreadable keyUsage extension`);
  if (signs === false) return fail(TlsAlert.bad_certificate, `${where} key usage lacks digitalSignature, so it cannot sign a TLS handshake`);
  const wrongPurpose = purposeProblem(leaf, purpose, where);
  if (wrongPurpose) return fail(TlsAlert.bad_certificate, wrongPurpose);
  return undefined;
}

/** Rules pkijs leaves out, applied to a built path [leaf, …, trust anchor]. */
function pathProblem(path: readonly ParsedCertificate[], purpose: CertificatePurpose, describe: (p: ParsedCertificate) => string): CertificateVerdict | undefined {
  for (let i = 1; i < path.length; i++) {
    const ca = path[i]!;
    const where = describe(ca);
    const notIssuer = issuerProblem(ca, where);
    if (notIssuer) return fail(TlsAlert.bad_certificate, notIssuer);
    const bc = basicConstraintsOf(ca.pki);
    // Intermediate CAs below this one: path[1 .. i-1].
    if (bc && bc.pathLength !== undefined && i - 1 > bc.pathLength) {
      return fail(TlsAlert.bad_certificate, `${where} allows ${bc.pathLength} intermediate CA(s) below it (pathLenConstraint) but the path has ${i - 1}`);
    }
    if (i < path.length - 1) {
      const critical = unknownCriticalExtension(ca);
      if (critical) return fail(TlsAlert.unsupported_certificate, `${where} has an unsupported critical extension ${critical}`);
      const wrongPurpose = purposeProblem(ca, purpose, where);
      if (wrongPurpose) return fail(TlsAlert.bad_certificate, wrongPurpose);
    }
  }
  return undefined;
}

/** What path building saw, for explaining a failure. */
interface SearchLog {
  searches: number;
  limitHit: boolean;
  unsupportedAlgorithm: string | undefined;
  badSignature: string | undefined;
  /** Where the path ended without reaching a trusted certificate. */
  deadEnd: string | undefined;
  /** Certificates found as issuers, in discovery order. */
  readonly issuers: ParsedCertificate[];
}

function keyIdentifierOf(cert: pkijs.Certificate, oid: string): Uint8Array | undefined {
  const v = extensionValue(cert, oid);
  if (oid === '2.5.29.14') return v instanceof asn1js.OctetString ? v.valueBlock.valueHexView : undefined;
  if (v instanceof pkijs.AuthorityKeyIdentifier && v.keyIdentifier) return v.keyIdentifier.valueBlock.valueHexView;
  return undefined;
}

/** True when `issuer`'s key verifies `child`'s signature (node:crypto, any algorithm OpenSSL knows). */
function signedBy(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return child.node.verify(issuer.node.publicKey);
  } catch {
    return false;
  }
}

/**
 * pkijs `findIssuer` callback: the certificates among the trusted and presented ones whose
 * subject is `cert`'s issuer (and whose key identifier matches when both say) and whose key
 * verifies `cert`'s signature. Records why candidates were rejected.
 */
async function findIssuer(cert: pkijs.Certificate, engine: pkijs.CertificateChainValidationEngine, log: SearchLog, describe: (p: ParsedCertificate) => string): Promise<pkijs.Certificate[]> {
  const child = parsedByPki.get(cert);
  if (!child) return [];
  if (++log.searches > MAX_ISSUER_SEARCHES) {
    log.limitHit = true;
    return [];
  }
  const algorithm = cert.signatureAlgorithm.algorithmId;
  if (!SIGNATURE_ALGORITHMS.has(algorithm)) {
    log.unsupportedAlgorithm ??= `${describe(child)} is signed with an unsupported algorithm (${algorithm})`;
    return [];
  }
  if (cert.subject.isEqual(cert.issuer) && signedBy(child, child)) {
    log.deadEnd ??= `${describe(child)} is a self-signed root that is not trusted`;
    return [cert];
  }
  const authorityKeyId = keyIdentifierOf(cert, '2.5.29.35');
  const found: pkijs.Certificate[] = [];
  let nameMatched = false;
  for (const candidate of [...engine.trustedCerts, ...engine.certs]) {
    if (candidate === cert || !cert.issuer.isEqual(candidate.subject)) continue;
    const subjectKeyId = keyIdentifierOf(candidate, '2.5.29.14');
    if (authorityKeyId && subjectKeyId && !equalBytes(authorityKeyId, subjectKeyId)) continue;
    const issuer = parsedByPki.get(candidate);
    if (!issuer) continue;
    nameMatched = true;
    if (signedBy(child, issuer)) {
      found.push(candidate);
      if (!log.issuers.includes(issuer)) log.issuers.push(issuer);
    } else {
      log.badSignature ??= `the signature on ${describe(child)} does not verify with the key of ${describe(issuer)}`;
    }
  }
  if (!nameMatched) {
    log.deadEnd ??= `the issuer "${child.node.issuer.replace(/\n/g, ', ')}" of ${describe(child)} is neither trusted nor in the chain`;
  }
  return found;
}

/** pkijs result codes (CertificateChainValidationEngine) this module maps. */
const PKIJS_EXPIRED = 8;
const PKIJS_NAME_CHAINING = 10;
const PKIJS_CA_CODES = new Set([3, 4, 5, 7, 14]);
const PKIJS_CRITICAL_EXTENSION = 6;
const PKIJS_NO_PATH_CODES = new Set([-1, 60, 97]);

function checkOptions(chain: unknown, options: ChainVerificationOptions): void {
  if (!Array.isArray(chain)) throw new TypeError('chain must be an array of DER certificates');
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (!Array.isArray(options.trusted)) throw new TypeError('options.trusted must be an array of DER certificates');
  if (typeof options.now !== 'number' || !Number.isFinite(options.now)) {
    throw new TypeError(`options.now must be a finite number of ms since the epoch, got ${String(options.now)}`);
  }
  if (options.purpose !== 'server' && options.purpose !== 'client') {
    throw new TypeError(`options.purpose must be 'server' or 'client', got ${String(options.purpose)}`);
  }
  if (options.serverName !== undefined && typeof options.serverName !== 'string') {
    throw new TypeError(`options.serverName must be a string, got ${typeof options.serverName}`);
  }
}

/**
 * Validates a peer's certificate chain (leaf first, as sent in the TLS Certificate message)
 * against `trusted` roots at time `now`: signatures, validity periods, CA basic constraints
 * and path length, keyCertSign on issuers, digitalSignature on the leaf (when key usage is
 * present), extended key usage for `purpose` (when present), unsupported critical extensions,
 * and — when `serverName` is given — the leaf's subjectAltName. A leaf that is itself one of
 * the trusted certificates (byte for byte) is accepted without a path (pinned self-signed
 * certificates). Never rejects for bad input; throws TypeError only for invalid options.
 */
export async function verifyCertificateChain(chain: readonly Uint8Array[], options: ChainVerificationOptions): Promise<CertificateVerdict> {
  checkOptions(chain, options);
  const { now, purpose } = options;
  if (chain.length === 0) {
    // RFC 8446 §4.4.2.4: empty server Certificate → decode_error; empty client Certificate → certificate_required.
    return purpose === 'server'
      ? fail(TlsAlert.decode_error, 'the server sent an empty certificate chain')
      : fail(TlsAlert.certificate_required, 'the client sent no certificate');
  }
  if (chain.length > MAX_CHAIN_LENGTH) {
    return fail(TlsAlert.bad_certificate, `certificate chain of ${chain.length} certificates exceeds the limit of ${MAX_CHAIN_LENGTH}`);
  }

  const presented: ParsedCertificate[] = [];
  for (let i = 0; i < chain.length; i++) {
    const p = parseCertificate(chain[i]!);
    if (typeof p === 'string') return fail(TlsAlert.bad_certificate, `certificate at chain position ${i} could not be parsed: ${p}`);
    presented.push(p);
  }
  const trusted = selectTrustAnchors(presented, options.trusted);
  const positions = new Map<ParsedCertificate, number>();
  presented.forEach((p, i) => {
    if (!positions.has(p)) positions.set(p, i);
  });
  const trustedSet = new Set(trusted);
  const describe = (p: ParsedCertificate): string =>
    positions.has(p) ? `certificate "${p.label}" (chain position ${positions.get(p)})` : trustedSet.has(p) ? `trusted certificate "${p.label}"` : `certificate "${p.label}"`;

  const leaf = presented[0]!;
  const leafWhere = describe(leaf);
  try {
    defaultCrypto.createVerifier(leafPublicKey(leaf.der));
  } catch (e) {
    return fail(TlsAlert.unsupported_certificate, `${leafWhere} has an unsupported public key: ${(e as Error).message}`);
  }

  const trustedCopy = trusted.find((t) => equalBytes(t.tbs, leaf.tbs));
  if (trustedCopy) {
    if (!equalBytes(trustedCopy.der, leaf.der)) {
      return fail(TlsAlert.bad_certificate, `${leafWhere} has the content of a trusted certificate but a different signature`);
    }
    // Directly trusted: no path to build.
    const expired = validityProblem(leaf, now, leafWhere);
    if (expired) return fail(TlsAlert.certificate_expired, expired);
  } else {
    const verdict = await validatePath(presented, trusted, options, describe);
    if (!verdict.ok) return verdict;
  }
  const leafVerdict = leafProblem(leaf, purpose, leafWhere);
  if (leafVerdict) return leafVerdict;
  if (options.serverName !== undefined && !matchesServerNameIn(leaf.der, options.serverName)) {
    return fail(TlsAlert.bad_certificate, `certificate is not valid for host ${options.serverName}`);
  }
  return { ok: true };
}

/**
 * The trusted certificates that can matter for `presented`: those with the same TBS as a
 * presented one, or named as (or checked by OpenSSL as) the issuer of one. Only these get the
 * slower pkijs parse, so a large CA bundle costs little per handshake. Throws TypeError for a
 * trusted entry that is not a certificate.
 */
function selectTrustAnchors(presented: readonly ParsedCertificate[], trustedDer: readonly Uint8Array[]): ParsedCertificate[] {
  const anchors: ParsedCertificate[] = [];
  for (let i = 0; i < trustedDer.length; i++) {
    const view = viewCertificate(trustedDer[i]!);
    if (typeof view === 'string') throw new TypeError(`options.trusted[${i}] is not a DER certificate: ${view}`);
    const relevant = presented.some(
      (p) => equalBytes(p.tbs, view.tbs) || p.node.issuer === view.node.subject || p.node.checkIssued(view.node),
    );
    if (!relevant) continue;
    const parsed = parseCertificate(view.der);
    if (typeof parsed === 'string') throw new TypeError(`options.trusted[${i}] is not a certificate pkijs can read: ${parsed}`);
    anchors.push(parsed);
  }
  return anchors;
}

/** Builds and checks a path from the leaf to a trusted certificate with pkijs's engine, then applies the rules it leaves out. */
async function validatePath(
  presented: readonly ParsedCertificate[],
  trusted: readonly ParsedCertificate[],
  options: ChainVerificationOptions,
  describe: (p: ParsedCertificate) => string,
): Promise<CertificateVerdict> {
  const leaf = presented[0]!;
  // Intermediates without duplicates (same TBS) of the leaf, of each other or of trusted ones:
  // pkijs treats the last certificate as the leaf and drops later duplicates.
  const seen = [leaf.tbs, ...trusted.map((t) => t.tbs)];
  const intermediates: pkijs.Certificate[] = [];
  for (const p of presented.slice(1)) {
    if (seen.some((t) => equalBytes(t, p.tbs))) continue;
    seen.push(p.tbs);
    intermediates.push(p.pki);
  }
  const log: SearchLog = { searches: 0, limitHit: false, unsupportedAlgorithm: undefined, badSignature: undefined, deadEnd: undefined, issuers: [] };
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: trusted.map((t) => t.pki),
    certs: [...intermediates, leaf.pki],
    checkDate: new Date(options.now),
    findIssuer: (cert, eng) => findIssuer(cert, eng, log, describe),
  });
  let result: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    result = await engine.verify({}, pkiCryptoEngine);
  } catch (e) {
    return fail(TlsAlert.internal_error, `certificate validation failed unexpectedly: ${(e as Error).message}`);
  }

  if (!result.result) return explainFailure(result, presented, log, options.now, describe);

  const path: ParsedCertificate[] = [];
  for (const c of result.certificatePath ?? []) {
    const p = parsedByPki.get(c);
    if (p) path.push(p);
  }
  if (path.length < 2 || path[0] !== leaf) return fail(TlsAlert.internal_error, 'certificate validation returned an unexpected path');
  return pathProblem(path, options.purpose, describe) ?? { ok: true };
}

function explainFailure(
  result: pkijs.CertificateChainValidationEngineVerifyResult,
  presented: readonly ParsedCertificate[],
  log: SearchLog,
  now: number,
  describe: (p: ParsedCertificate) => string,
): CertificateVerdict {
  const code = result.resultCode;
  if (log.limitHit) {
    return fail(TlsAlert.unknown_ca, `no path to a trusted certificate found within ${MAX_ISSUER_SEARCHES} issuer look-ups`);
  }
  if (code === PKIJS_EXPIRED) {
    for (const p of [...presented, ...log.issuers]) {
      const problem = validityProblem(p, now, describe(p));
      if (problem) return fail(TlsAlert.certificate_expired, problem);
    }
    return fail(TlsAlert.certificate_expired, `a certificate in the path is not valid at ${isoTime(new Date(now))}`);
  }
  if (PKIJS_CA_CODES.has(code)) {
    for (const p of log.issuers) {
      const problem = issuerProblem(p, describe(p));
      if (problem) return fail(TlsAlert.bad_certificate, problem);
    }
    return fail(TlsAlert.bad_certificate, `an issuing certificate is not a usable CA: ${result.resultMessage}`);
  }
  if (code === PKIJS_CRITICAL_EXTENSION) return fail(TlsAlert.unsupported_certificate, result.resultMessage);
  if (code === PKIJS_NAME_CHAINING) return fail(TlsAlert.bad_certificate, `issuer and subject names do not chain: ${result.resultMessage}`);
  if (PKIJS_NO_PATH_CODES.has(code)) {
    if (log.unsupportedAlgorithm) return fail(TlsAlert.unsupported_certificate, log.unsupportedAlgorithm);
    if (log.badSignature) return fail(TlsAlert.bad_certificate, log.badSignature);
    if (log.deadEnd) return fail(TlsAlert.unknown_ca, log.deadEnd);
    if (code === -1 && !/certificate path/i.test(result.resultMessage)) {
      // pkijs threw while processing the peer's certificates (e.g. a malformed extension value).
      return fail(TlsAlert.bad_certificate, `certificate chain could not be processed: ${result.resultMessage}`);
    }
    return fail(TlsAlert.unknown_ca, `no path from ${describe(presented[0]!)} to a trusted certificate`);
  }
  // Policy and name-constraint failures.
  return fail(TlsAlert.bad_certificate, `certificate chain rejected: ${result.resultMessage}`);
}

/**
 * True when the certificate's subjectAltName covers `name`: a host name (compared
 * case-insensitively, one left-most `*` label matching exactly one label, never for names of
 * fewer than three labels) or an IPv4/IPv6 literal (compared as bytes with iPAddress entries).
 * A name ending in a numeric label that is not a strict IP literal (e.g. `010.0.0.1`) matches
 * nothing. The subject common name is never used. False for a certificate that does not parse.
 */
export function matchesServerName(certDer: Uint8Array, name: string): boolean {
  if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${typeof name}`);
  const p = parseCertificate(certDer);
  return typeof p !== 'string' && matchesServerNameIn(p.der, name);
}

/**
 * The leaf's SubjectPublicKeyInfo, DER (for `CryptoBackend.createVerifier`). Throws
 * `QuicError` CRYPTO_ERROR(bad_certificate) when `certDer` is not a certificate.
 */
export function leafPublicKey(certDer: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(new NodeCertificate(certDer).publicKey.export({ type: 'spki', format: 'der' }));
  } catch (e) {
    throw QuicError.fromAlert(TlsAlert.bad_certificate, `peer certificate could not be parsed: ${(e as Error).message}`);
  }
}

/**
 * A verifier for CertificateVerify signatures made with the leaf's key. Throws `QuicError`
 * CRYPTO_ERROR(bad_certificate) for an unparsable certificate and
 * CRYPTO_ERROR(unsupported_certificate) for a key type the backend cannot verify.
 */
export function leafSignatureVerifier(certDer: Uint8Array, crypto: CryptoBackend = defaultCrypto): SignatureVerifier {
  const spki = leafPublicKey(certDer);
  try {
    return crypto.createVerifier(spki);
  } catch (e) {
    throw QuicError.fromAlert(TlsAlert.unsupported_certificate, `peer certificate key is not supported: ${(e as Error).message}`);
  }
}

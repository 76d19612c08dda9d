/**
 * Loading certificates and private keys from memory (PEM text or DER bytes) into the forms
 * the TLS engine uses: certificates as DER, private keys as PKCS#8 DER. This is
 * configuration-time work (it may be slow and may allocate freely); nothing here runs per
 * packet. Errors are TypeErrors whose message says what was wrong with the input.
 */
import { X509Certificate, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { equalBytes } from '../util/bytes.js';

/** One `-----BEGIN <label>-----` … `-----END <label>-----` block of a PEM text. */
export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`. */
  readonly label: string;
  /** RFC 1421 headers (`Proc-Type`, `DEK-Info`) when the block has them, else empty. */
  readonly headers: ReadonlyMap<string, string>;
  /** The decoded base64 body. */
  readonly der: Uint8Array;
  /** The block's full text, markers included. */
  readonly text: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n?([\s\S]*?)-----END \1-----/g;
const BASE64_BODY = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/**
 * Splits PEM text into its blocks, in order. Text outside the blocks (comments such as
 * `openssl x509 -text` output) is ignored. Throws TypeError when a block's body is not base64.
 */
export function parsePem(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    const label = m[1]!;
    let body = m[2]!;
    const headers = new Map<string, string>();
    // RFC 1421 headers (first line contains ':') run up to the first blank line.
    if (/^[^\r\n]*:/.test(body)) {
      const end = /\r?\n[ \t]*\r?\n/.exec(body);
      const headerText = end ? body.slice(0, end.index) : '';
      for (const line of headerText.split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      body = end ? body.slice(end.index + end[0].length) : body;
    }
    if (!BASE64_BODY.test(body)) {
      throw new TypeError(`PEM block ${blocks.length + 1} (${label}) has a body that is not base64`);
    }
    blocks.push({ label, headers, der: new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64')), text: m[0] });
  }
  return blocks;
}

/** PEM text of `der` under `label` (64-character base64 lines, trailing newline). */
export function encodePem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  let out = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return out + `-----END ${label}-----\n`;
}

/**
 * Total length (header + content) of the DER element starting at `bytes[0]`, or -1 when the
 * header is malformed or claims more bytes than there are.
 */
function derElementLength(bytes: Uint8Array): number {
  if (bytes.length < 2) return -1;
  const first = bytes[1]!;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 4 || bytes.length < 2 + n) return -1;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + bytes[2 + i]!;
    header = 2 + n;
  }
  const total = header + length;
  return total <= bytes.length ? total : -1;
}

/** True when `bytes` is exactly one DER SEQUENCE (tag 0x30) with nothing after it. */
function isSingleDerSequence(bytes: Uint8Array): boolean {
  return bytes[0] === 0x30 && derElementLength(bytes) === bytes.length;
}

/** True when bytes (not already known as DER) look like PEM text. */
function looksLikePem(bytes: Uint8Array): boolean {
  if (bytes[0] === 0x30) return false;
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 65536)).toString('latin1');
  return head.includes('-----BEGIN ');
}

function asText(input: string | Uint8Array): string | undefined {
  if (typeof input === 'string') return input;
  if (looksLikePem(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  return undefined;
}

function describeInput(input: unknown): string {
  return input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input;
}

function checkInput(input: unknown, what: string): asserts input is string | Uint8Array {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a string or Uint8Array, got ${describeInput(input)}`);
  }
}

/** Throws TypeError unless `der` parses as one X.509 certificate. */
function checkCertificateDer(der: Uint8Array, where: string): void {
  if (!isSingleDerSequence(der)) throw new TypeError(`${where} is not a DER certificate (not a single DER SEQUENCE)`);
  try {
    new X509Certificate(der);
  } catch (e) {
    throw new TypeError(`${where} is not a valid X.509 certificate: ${(e as Error).message}`);
  }
}

/**
 * Reads a certificate chain: PEM text (or its bytes) with one or more `CERTIFICATE` blocks,
 * leaf first, order kept; or the bytes of a single DER certificate. Returns each certificate
 * as DER. Throws TypeError when there is no certificate or one does not parse.
 */
export function loadCertificateChain(input: string | Uint8Array): Uint8Array[] {
  checkInput(input, 'certificate input');
  const text = asText(input);
  if (text === undefined) {
    const der = input as Uint8Array;
    if (der.length === 0) throw new TypeError('certificate input is empty');
    if (der[0] !== 0x30) throw new TypeError('no CERTIFICATE block found in the input, and it is not DER either');
    checkCertificateDer(der, 'certificate input');
    return [der.slice()];
  }
  const blocks = parsePem(text).filter((b) => b.label === 'CERTIFICATE');
  if (blocks.length === 0) throw new TypeError('no CERTIFICATE block found in the PEM input');
  return blocks.map((b, i) => {
    checkCertificateDer(b.der, `CERTIFICATE block ${i + 1}`);
    return b.der;
  });
}

const KEY_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'];

/** Key types the TLS engine can sign with (see the crypto backend's `createSigner`). */
const SUPPORTED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

function checkSupportedKey(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss' || type === 'ed25519') return;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve !== undefined && SUPPORTED_CURVES.has(curve)) return;
    throw new TypeError(`unsupported EC curve ${curve ?? '(unknown)'} (supported: P-256, P-384, P-521)`);
  }
  throw new TypeError(`unsupported private key type ${type ?? '(unknown)'} (supported: EC P-256/P-384/P-521, RSA, RSA-PSS, Ed25519)`);
}

function passwordError(e: unknown, password: string | undefined): TypeError {
  const code = (e as { code?: string }).code;
  if (password === undefined || code === 'ERR_MISSING_PASSPHRASE') {
    return new TypeError('the private key is encrypted and no password was given');
  }
  return new TypeError(`wrong password for the encrypted private key (or the key is corrupt): ${(e as Error).message}`);
}

/** The first element inside a DER SEQUENCE is a SEQUENCE only for EncryptedPrivateKeyInfo. */
function isEncryptedPkcs8Der(der: Uint8Array): boolean {
  if (der[0] !== 0x30) return false;
  const lenByte = der[1] ?? 0;
  const header = lenByte < 0x80 ? 2 : 2 + (lenByte & 0x7f);
  return der[header] === 0x30;
}

function keyFromDer(der: Buffer, password: string | undefined): KeyObject {
  if (!isSingleDerSequence(der)) throw new TypeError('private key input is neither PEM nor a single DER structure');
  if (isEncryptedPkcs8Der(der)) {
    if (password === undefined) throw new TypeError('the private key is encrypted and no password was given');
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8', passphrase: password });
    } catch (e) {
      throw passwordError(e, password);
    }
  }
  for (const type of ['pkcs8', 'sec1', 'pkcs1'] as const) {
    try {
      return createPrivateKey({ key: der, format: 'der', type });
    } catch {
      // try the next encoding
    }
  }
  throw new TypeError('private key DER is not PKCS#8, SEC1 (EC) or PKCS#1 (RSA)');
}

function keyFromPem(text: string, password: string | undefined): KeyObject {
  const block = parsePem(text).find((b) => KEY_LABELS.includes(b.label));
  if (!block) {
    throw new TypeError(`no private key block found in the PEM input (looked for ${KEY_LABELS.join(', ')})`);
  }
  const legacyEncrypted = (block.headers.get('Proc-Type') ?? '').includes('ENCRYPTED');
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || legacyEncrypted;
  if (encrypted && password === undefined) throw new TypeError('the private key is encrypted and no password was given');
  try {
    return createPrivateKey(encrypted ? { key: block.text, format: 'pem', passphrase: password } : { key: block.text, format: 'pem' });
  } catch (e) {
    if (encrypted) throw passwordError(e, password);
    throw new TypeError(`the ${block.label} block is not a valid private key: ${(e as Error).message}`);
  }
}

/**
 * Reads a private key and returns it as unencrypted PKCS#8 DER. Accepts PEM text (or its
 * bytes) or DER of PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`), PKCS#1
 * (`RSA PRIVATE KEY`) and encrypted PKCS#8 (`ENCRYPTED PRIVATE KEY`, PBES2), the last with
 * `password`. Supported key types: EC P-256/P-384/P-521, RSA, RSA-PSS, Ed25519.
 * Throws TypeError for a missing or wrong password, an unreadable key or an unsupported type.
 */
export function loadPrivateKey(input: string | Uint8Array, password?: string): Uint8Array {
  checkInput(input, 'private key input');
  if (password !== undefined && typeof password !== 'string') {
    throw new TypeError(`password must be a string, got ${describeInput(password)}`);
  }
  const text = asText(input);
  let key: KeyObject;
  if (text !== undefined) {
    key = keyFromPem(text, password);
  } else {
    const bytes = input as Uint8Array;
    key = keyFromDer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), password);
  }
  checkSupportedKey(key);
  return new Uint8Array(key.export({ type: 'pkcs8', format: 'der' }));
}

function spkiOfCertificate(certDer: Uint8Array): Uint8Array {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certDer);
  } catch (e) {
    throw new TypeError(`certificate is not a valid X.509 certificate: ${(e as Error).message}`);
  }
  return new Uint8Array(cert.publicKey.export({ type: 'spki', format: 'der' }));
}

function spkiOfPrivateKey(pkcs8Der: Uint8Array): Uint8Array {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: Buffer.from(pkcs8Der.buffer, pkcs8Der.byteOffset, pkcs8Der.byteLength), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new TypeError(`private key is not a valid PKCS#8 key: ${(e as Error).message}`);
  }
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/**
 * True when the certificate's public key is the public half of the PKCS#8 private key.
 * Throws TypeError when either input does not parse.
 */
export function certificateMatchesKey(certDer: Uint8Array, pkcs8Der: Uint8Array): boolean {
  return equalBytes(spkiOfCertificate(certDer), spkiOfPrivateKey(pkcs8Der));
}

/** A certificate chain with the private key of its leaf, ready for the TLS engine. */
export interface Credentials {
  /** DER certificates, leaf first. */
  readonly certificateChain: Uint8Array[];
  /** The leaf's private key, unencrypted PKCS#8 DER. */
  readonly privateKey: Uint8Array;
}

/**
 * Loads a chain and its private key (see `loadCertificateChain`, `loadPrivateKey`) and checks
 * that they belong together. Throws TypeError naming the leaf when the key does not match.
 */
export function loadCredentials(chain: string | Uint8Array, key: string | Uint8Array, password?: string): Credentials {
  const certificateChain = loadCertificateChain(chain);
  const privateKey = loadPrivateKey(key, password);
  const leaf = certificateChain[0]!;
  if (!certificateMatchesKey(leaf, privateKey)) {
    const subject = new X509Certificate(leaf).subject.replace(/\n/g, ', ');
    throw new TypeError(`the private key does not match the leaf certificate (${subject})`);
  }
  return { certificateChain, privateKey };
}

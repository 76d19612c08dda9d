/**
 * QUIC packet protection (RFC 9001 §5, RFC 9369 §3.3): packet keys from a traffic secret,
 * Initial secrets, the AEAD nonce, payload encryption in place and header protection.
 *
 * Everything works on byte offsets in a caller-owned buffer (the datagram being built or the
 * one received), so it needs nothing from the header parser: the caller says where the header
 * starts, where the packet number is and where the payload ends. Per-packet calls allocate no
 * buffers of their own (only the views the crypto interface takes) and report failure to
 * authenticate as a return value, never an exception.
 *
 * Key update (RFC 9001 §6) is in ./key-update.ts, the Retry integrity tag in ./retry-integrity.ts.
 */
import type {
  Aead,
  AeadAlgorithm,
  CryptoBackend,
  HashAlgorithm,
  HeaderProtection,
  HeaderProtectionAlgorithm,
} from '../crypto/backend.js';
import { aeadKeyLength, hashLength } from '../crypto/backend.js';
import { hkdfExpandLabel } from '../crypto/hkdf-label.js';
import type { VersionParameters } from './version.js';

/** AEAD tag length for every QUIC AEAD. */
export const AEAD_TAG_LENGTH = 16;
/** Header protection samples ciphertext starting 4 bytes after the packet number's start (RFC 9001 §5.4.2). */
export const HP_SAMPLE_OFFSET = 4;
/** Length of the header-protection sample. */
export const HP_SAMPLE_LENGTH = 16;
const IV_LENGTH = 12;
const TWO_POW_32 = 4294967296;

/**
 * The three algorithms a TLS cipher suite fixes for QUIC packet protection. The TLS layer's
 * cipher-suite objects have this shape and can be passed as they are.
 */
export interface PacketProtectionSuite {
  readonly aead: AeadAlgorithm;
  readonly hash: HashAlgorithm;
  readonly hp: HeaderProtectionAlgorithm;
}

/** Suite used for Initial packets (RFC 9001 §5.2): AES-128-GCM with SHA-256. */
export const INITIAL_SUITE: PacketProtectionSuite = { aead: 'aes-128-gcm', hash: 'sha256', hp: 'aes-128-ecb' };

/** How many packets one key may protect, and how many forgeries the connection tolerates (RFC 9001 §6.6). */
export interface AeadLimits {
  /** Packets one key may encrypt before a key update is required (Infinity: no practical limit). */
  readonly confidentiality: number;
  /** Packets failing authentication, across all keys of the connection, before it must close with AEAD_LIMIT_REACHED. */
  readonly integrity: number;
}

const GCM_LIMITS: AeadLimits = { confidentiality: 2 ** 23, integrity: 2 ** 52 };
// RFC 9001 §6.6: ChaCha20-Poly1305's confidentiality limit exceeds 2^62 packets, so it never binds.
const CHACHA_LIMITS: AeadLimits = { confidentiality: Number.POSITIVE_INFINITY, integrity: 2 ** 36 };

/** AEAD usage limits of RFC 9001 §6.6 for `aead`. */
export function aeadLimits(aead: AeadAlgorithm): AeadLimits {
  switch (aead) {
    case 'aes-128-gcm':
    case 'aes-256-gcm':
      return GCM_LIMITS;
    case 'chacha20-poly1305':
      return CHACHA_LIMITS;
    default:
      throw new TypeError(`unknown AEAD ${String(aead)}`);
  }
}

/** The secrets RFC 9001 §5.2 derives from the client's first Destination Connection ID. */
export interface InitialSecrets {
  readonly initialSecret: Uint8Array;
  readonly client: Uint8Array;
  readonly server: Uint8Array;
}

/** Initial secrets for `version` and the client's original Destination Connection ID. */
export function deriveInitialSecrets(crypto: CryptoBackend, version: VersionParameters, dcid: Uint8Array): InitialSecrets {
  const initialSecret = crypto.hkdfExtract('sha256', version.initialSalt, dcid);
  return {
    initialSecret,
    client: hkdfExpandLabel(crypto, 'sha256', initialSecret, 'client in', new Uint8Array(0), 32),
    server: hkdfExpandLabel(crypto, 'sha256', initialSecret, 'server in', new Uint8Array(0), 32),
  };
}

/** Raw packet-protection keys derived from one traffic secret. */
export interface PacketKeyMaterial {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly hp: Uint8Array;
}

function hpKeyLength(hp: HeaderProtectionAlgorithm): number {
  return hp === 'aes-128-ecb' ? 16 : 32;
}

/** Payload key and IV of RFC 9001 §5.1 ("quic key" / "quic iv", or the v2 labels). */
export function derivePayloadKey(
  crypto: CryptoBackend,
  suite: PacketProtectionSuite,
  version: VersionParameters,
  secret: Uint8Array,
): { key: Uint8Array; iv: Uint8Array } {
  const empty = new Uint8Array(0);
  return {
    key: hkdfExpandLabel(crypto, suite.hash, secret, version.keyLabel, empty, aeadKeyLength(suite.aead)),
    iv: hkdfExpandLabel(crypto, suite.hash, secret, version.ivLabel, empty, IV_LENGTH),
  };
}

/** Key, IV and header-protection key for `secret` (RFC 9001 §5.1). */
export function derivePacketKeyMaterial(
  crypto: CryptoBackend,
  suite: PacketProtectionSuite,
  version: VersionParameters,
  secret: Uint8Array,
): PacketKeyMaterial {
  checkSecret(suite, secret);
  const { key, iv } = derivePayloadKey(crypto, suite, version, secret);
  const hp = hkdfExpandLabel(crypto, suite.hash, secret, version.hpLabel, new Uint8Array(0), hpKeyLength(suite.hp));
  return { key, iv, hp };
}

function checkSecret(suite: PacketProtectionSuite, secret: Uint8Array): void {
  if (secret.length !== hashLength(suite.hash)) {
    throw new TypeError(`a ${suite.hash} traffic secret is ${hashLength(suite.hash)} bytes, got ${secret.length}`);
  }
}

function checkRange(buf: Uint8Array, start: number, end: number, what: string): void {
  if (!(start >= 0 && start <= end && end <= buf.length)) {
    throw new RangeError(`${what} [${start}, ${end}) is not inside a buffer of ${buf.length} bytes`);
  }
}

/**
 * Header protection with one hp key (RFC 9001 §5.4). The hp key survives key updates, so this
 * is separate from the payload keys.
 */
export class HeaderProtector {
  private readonly maskBytes = new Uint8Array(5);
  /** Truncated packet number read by the last successful `remove`. */
  truncatedPacketNumber = 0;

  constructor(readonly protection: HeaderProtection) {}

  /**
   * Masks the first byte at `headerStart` (low 4 bits for a long header, 5 for a short one)
   * and the `pnLength` packet-number bytes at `pnOffset`. The 16-byte sample at
   * `pnOffset + 4` must already be ciphertext.
   */
  apply(buf: Uint8Array, headerStart: number, pnOffset: number, pnLength: number): void {
    const sample = pnOffset + HP_SAMPLE_OFFSET;
    const mask = this.maskBytes;
    this.protection.mask(buf.subarray(sample, sample + HP_SAMPLE_LENGTH), mask);
    const first = buf[headerStart]!;
    buf[headerStart] = first ^ (mask[0]! & (first & 0x80 ? 0x0f : 0x1f));
    for (let i = 0; i < pnLength; i++) buf[pnOffset + i]! ^= mask[1 + i]!;
  }

  /**
   * Removes header protection in place. Returns the packet-number length (1..4) and stores the
   * truncated packet number in `truncatedPacketNumber`; returns 0, touching nothing, when the
   * packet ending at `packetEnd` is too short to hold the sample (such a packet is discarded).
   */
  remove(buf: Uint8Array, headerStart: number, pnOffset: number, packetEnd: number): number {
    const sample = pnOffset + HP_SAMPLE_OFFSET;
    if (headerStart < 0 || pnOffset <= headerStart || sample + HP_SAMPLE_LENGTH > packetEnd || packetEnd > buf.length) {
      return 0;
    }
    const mask = this.maskBytes;
    this.protection.mask(buf.subarray(sample, sample + HP_SAMPLE_LENGTH), mask);
    const first = buf[headerStart]!;
    const clear = first ^ (mask[0]! & (first & 0x80 ? 0x0f : 0x1f));
    buf[headerStart] = clear;
    const pnLength = (clear & 0x03) + 1;
    let pn = 0;
    for (let i = 0; i < pnLength; i++) {
      const b = buf[pnOffset + i]! ^ mask[1 + i]!;
      buf[pnOffset + i] = b;
      pn = pn * 256 + b;
    }
    this.truncatedPacketNumber = pn;
    return pnLength;
  }
}

/**
 * Payload protection with one AEAD key and IV (one key-phase generation, one direction).
 * Counts what RFC 9001 §6.6 limits: packets sealed and packets that failed to open.
 */
export class PayloadProtector {
  /** Scratch nonce: the IV with the packet number XORed into its low 8 bytes. */
  private readonly nonce = new Uint8Array(IV_LENGTH);
  private readonly iv: Uint8Array;
  /** Packets encrypted with this key. */
  sealedPackets = 0;
  /** Packets that failed authentication with this key. */
  failedOpens = 0;

  constructor(
    readonly aead: Aead,
    iv: Uint8Array,
  ) {
    if (iv.length !== IV_LENGTH) throw new TypeError(`packet protection IV must be ${IV_LENGTH} bytes, got ${iv.length}`);
    this.iv = iv.slice();
    this.nonce.set(this.iv);
  }

  /** The AEAD nonce for `packetNumber` (RFC 9001 §5.3), in a scratch buffer reused by the next call. */
  nonceFor(packetNumber: number): Uint8Array {
    if (!(packetNumber >= 0 && packetNumber <= Number.MAX_SAFE_INTEGER) || !Number.isInteger(packetNumber)) {
      throw new RangeError(`packet number ${packetNumber} is not an integer in 0..2^53-1`);
    }
    const hi = Math.floor(packetNumber / TWO_POW_32);
    const lo = packetNumber >>> 0;
    const iv = this.iv;
    const n = this.nonce;
    n[4] = iv[4]! ^ (hi >>> 24);
    n[5] = iv[5]! ^ ((hi >>> 16) & 0xff);
    n[6] = iv[6]! ^ ((hi >>> 8) & 0xff);
    n[7] = iv[7]! ^ (hi & 0xff);
    n[8] = iv[8]! ^ (lo >>> 24);
    n[9] = iv[9]! ^ ((lo >>> 16) & 0xff);
    n[10] = iv[10]! ^ ((lo >>> 8) & 0xff);
    n[11] = iv[11]! ^ (lo & 0xff);
    return n;
  }

  /**
   * Encrypts `buf[payloadStart, payloadEnd)` in place, authenticating the header
   * `buf[headerStart, payloadStart)`, and writes the tag after it. Returns the packet end
   * (`payloadEnd + 16`). Throws RangeError when the tag does not fit in `buf`.
   */
  seal(buf: Uint8Array, headerStart: number, payloadStart: number, payloadEnd: number, packetNumber: number): number {
    checkRange(buf, headerStart, payloadStart, 'packet header');
    checkRange(buf, payloadStart, payloadEnd + AEAD_TAG_LENGTH, 'payload and tag');
    const nonce = this.nonceFor(packetNumber);
    this.sealedPackets++;
    return (
      payloadStart +
      this.aead.seal(
        nonce,
        buf.subarray(headerStart, payloadStart),
        buf.subarray(payloadStart, payloadEnd),
        buf.subarray(payloadStart, payloadEnd + AEAD_TAG_LENGTH),
      )
    );
  }

  /**
   * Decrypts `buf[payloadStart, packetEnd)` (ciphertext and tag) in place, authenticating the
   * unprotected header `buf[headerStart, payloadStart)`. Returns the plaintext length, or -1
   * when the packet fails authentication (or is shorter than a tag); the buffer is then
   * unchanged beyond what header-protection removal did. A packet number beyond 2^53 − 1,
   * which only a peer skipping absurdly far ahead can produce, also gives -1.
   */
  open(buf: Uint8Array, headerStart: number, payloadStart: number, packetEnd: number, packetNumber: number): number {
    checkRange(buf, headerStart, payloadStart, 'packet header');
    checkRange(buf, payloadStart, packetEnd, 'payload');
    if (packetNumber > Number.MAX_SAFE_INTEGER) return -1;
    const nonce = this.nonceFor(packetNumber);
    const n = this.aead.open(
      nonce,
      buf.subarray(headerStart, payloadStart),
      buf.subarray(payloadStart, packetEnd),
      buf.subarray(payloadStart, packetEnd),
    );
    if (n < 0) this.failedOpens++;
    return n;
  }

  /**
   * Like `open`, but returns the plaintext as a view the caller may keep (the AEAD's own
   * output: no copy back into `buf`), or undefined when the packet fails authentication.
   */
  openView(buf: Uint8Array, headerStart: number, payloadStart: number, packetEnd: number, packetNumber: number): Uint8Array | undefined {
    checkRange(buf, headerStart, payloadStart, 'packet header');
    checkRange(buf, payloadStart, packetEnd, 'payload');
    if (packetNumber > Number.MAX_SAFE_INTEGER) return undefined;
    const nonce = this.nonceFor(packetNumber);
    const pt = this.aead.decrypt(nonce, buf.subarray(headerStart, payloadStart), buf.subarray(payloadStart, packetEnd));
    if (pt === undefined) this.failedOpens++;
    return pt;
  }
}

/**
 * Packet protection for one direction at one encryption level (Initial, 0-RTT, Handshake, or
 * 1-RTT without key updates): a payload protector and a header protector.
 */
export class PacketProtection {
  constructor(
    readonly payload: PayloadProtector,
    readonly header: HeaderProtector,
    readonly limits: AeadLimits,
  ) {}

  /** Truncated packet number read by the last successful `unprotectHeader`. */
  get truncatedPacketNumber(): number {
    return this.header.truncatedPacketNumber;
  }

  /**
   * Protects a packet whose plain header `buf[headerStart, pnOffset + pnLength)` (including
   * the truncated packet number, and for long headers a Length that counts the tag) and
   * payload `buf[pnOffset + pnLength, payloadEnd)` are written: encrypts the payload in place,
   * appends the tag, applies header protection. Returns the packet end (`payloadEnd + 16`).
   * Throws RangeError when the tag does not fit or when the payload is too short for the
   * header-protection sample (pad so that pnLength + payload length ≥ 4).
   */
  protect(
    buf: Uint8Array,
    headerStart: number,
    pnOffset: number,
    pnLength: number,
    payloadEnd: number,
    packetNumber: number,
  ): number {
    return protectWith(this.payload, this.header, buf, headerStart, pnOffset, pnLength, payloadEnd, packetNumber);
  }

  /** Removes header protection; see {@link HeaderProtector.remove}. Returns the pn length or 0. */
  unprotectHeader(buf: Uint8Array, headerStart: number, pnOffset: number, packetEnd: number): number {
    return this.header.remove(buf, headerStart, pnOffset, packetEnd);
  }

  /**
   * Decrypts the payload in place once the header is unprotected and the full packet number
   * decoded. `payloadStart` is `pnOffset + pnLength`. Returns the plaintext length or -1.
   */
  openPayload(buf: Uint8Array, headerStart: number, payloadStart: number, packetEnd: number, packetNumber: number): number {
    return this.payload.open(buf, headerStart, payloadStart, packetEnd, packetNumber);
  }

  /** Like `openPayload`, returning the plaintext as a keepable view (see {@link PayloadProtector.openView}). */
  openPayloadView(buf: Uint8Array, headerStart: number, payloadStart: number, packetEnd: number, packetNumber: number): Uint8Array | undefined {
    return this.payload.openView(buf, headerStart, payloadStart, packetEnd, packetNumber);
  }
}

/** The shared body of `protect` for fixed and key-phased protection. */
export function protectWith(
  payload: PayloadProtector,
  header: HeaderProtector,
  buf: Uint8Array,
  headerStart: number,
  pnOffset: number,
  pnLength: number,
  payloadEnd: number,
  packetNumber: number,
): number {
  if (!(pnLength >= 1 && pnLength <= 4)) throw new RangeError(`packet number length ${pnLength} is not 1..4`);
  if (payloadEnd - pnOffset < HP_SAMPLE_OFFSET) {
    throw new RangeError(
      `payload of ${payloadEnd - pnOffset - pnLength} bytes is too short for header protection: pad to ${HP_SAMPLE_OFFSET - pnLength}`,
    );
  }
  const end = payload.seal(buf, headerStart, pnOffset + pnLength, payloadEnd, packetNumber);
  header.apply(buf, headerStart, pnOffset, pnLength);
  return end;
}

/** Payload protection for `secret` (key and IV derived per RFC 9001 §5.1). */
export function createPayloadProtector(
  crypto: CryptoBackend,
  suite: PacketProtectionSuite,
  version: VersionParameters,
  secret: Uint8Array,
): PayloadProtector {
  checkSecret(suite, secret);
  const { key, iv } = derivePayloadKey(crypto, suite, version, secret);
  return new PayloadProtector(crypto.createAead(suite.aead, key), iv);
}

/** Header protection for `secret` (hp key derived per RFC 9001 §5.1). */
export function createHeaderProtector(
  crypto: CryptoBackend,
  suite: PacketProtectionSuite,
  version: VersionParameters,
  secret: Uint8Array,
): HeaderProtector {
  checkSecret(suite, secret);
  const hp = hkdfExpandLabel(crypto, suite.hash, secret, version.hpLabel, new Uint8Array(0), hpKeyLength(suite.hp));
  return new HeaderProtector(crypto.createHeaderProtection(suite.hp, hp));
}

/** Packet protection for one direction from its traffic secret. */
export function createPacketProtection(
  crypto: CryptoBackend,
  suite: PacketProtectionSuite,
  version: VersionParameters,
  secret: Uint8Array,
): PacketProtection {
  const m = derivePacketKeyMaterial(crypto, suite, version, secret);
  return new PacketProtection(
    new PayloadProtector(crypto.createAead(suite.aead, m.key), m.iv),
    new HeaderProtector(crypto.createHeaderProtection(suite.hp, m.hp)),
    aeadLimits(suite.aead),
  );
}

/** Initial packet protection for both directions, from the client's original Destination Connection ID. */
export function createInitialProtection(
  crypto: CryptoBackend,
  version: VersionParameters,
  dcid: Uint8Array,
): { client: PacketProtection; server: PacketProtection } {
  const s = deriveInitialSecrets(crypto, version, dcid);
  return {
    client: createPacketProtection(crypto, INITIAL_SUITE, version, s.client),
    server: createPacketProtection(crypto, INITIAL_SUITE, version, s.server),
  };
}

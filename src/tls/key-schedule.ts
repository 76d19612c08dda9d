/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1) and handshake transcript (§4.4.1): early,
 * handshake and master secrets, the traffic secrets derived from them, Finished MACs, PSK
 * binders, resumption PSKs and exporters (§7.5).
 */
import { hashLength, type CryptoBackend, type HashAlgorithm, type IncrementalHash } from '../crypto/backend.js';
import { hkdfExpandLabel } from '../crypto/hkdf-label.js';
import { encodeMessageHash } from './messages.js';

const EMPTY = new Uint8Array(0);

/** Derive-Secret(secret, label, transcript hash) of RFC 8446 §7.1. */
export function deriveSecret(
  crypto: CryptoBackend,
  hash: HashAlgorithm,
  secret: Uint8Array,
  label: string,
  transcriptHash: Uint8Array,
): Uint8Array {
  return hkdfExpandLabel(crypto, hash, secret, label, transcriptHash, hashLength(hash));
}

/** Hash of the empty string, per backend and algorithm. */
const emptyHashes = new WeakMap<CryptoBackend, Map<HashAlgorithm, Uint8Array>>();

export function emptyHash(crypto: CryptoBackend, hash: HashAlgorithm): Uint8Array {
  let m = emptyHashes.get(crypto);
  if (m === undefined) emptyHashes.set(crypto, (m = new Map()));
  let h = m.get(hash);
  if (h === undefined) m.set(hash, (h = crypto.hash(hash, EMPTY)));
  return h;
}

/** finished_key = HKDF-Expand-Label(base, "finished", "", Hash.length). */
export function finishedKey(crypto: CryptoBackend, hash: HashAlgorithm, baseKey: Uint8Array): Uint8Array {
  return hkdfExpandLabel(crypto, hash, baseKey, 'finished', EMPTY, hashLength(hash));
}

/** Finished verify_data = HMAC(finished_key(base), transcript hash). Also the PSK binder. */
export function finishedVerifyData(
  crypto: CryptoBackend,
  hash: HashAlgorithm,
  baseKey: Uint8Array,
  transcriptHash: Uint8Array,
): Uint8Array {
  return crypto.hmac(hash, finishedKey(crypto, hash, baseKey), transcriptHash);
}

/** The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", nonce, Hash.length) (§4.6.1). */
export function resumptionPsk(crypto: CryptoBackend, hash: HashAlgorithm, resumptionMasterSecret: Uint8Array, nonce: Uint8Array): Uint8Array {
  return hkdfExpandLabel(crypto, hash, resumptionMasterSecret, 'resumption', nonce, hashLength(hash));
}

/** TLS record key and IV of a traffic secret (§7.3). QUIC uses "quic key"/"quic iv" instead (RFC 9001 §5.1). */
export function recordKeys(
  crypto: CryptoBackend,
  hash: HashAlgorithm,
  secret: Uint8Array,
  keyLength: number,
): { key: Uint8Array; iv: Uint8Array } {
  return {
    key: hkdfExpandLabel(crypto, hash, secret, 'key', EMPTY, keyLength),
    iv: hkdfExpandLabel(crypto, hash, secret, 'iv', EMPTY, 12),
  };
}

/** TLS-Exporter(label, context, length) over an exporter master secret (§7.5). */
export function exportKeyingMaterial(
  crypto: CryptoBackend,
  hash: HashAlgorithm,
  exporterMasterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const secret = deriveSecret(crypto, hash, exporterMasterSecret, label, emptyHash(crypto, hash));
  return hkdfExpandLabel(crypto, hash, secret, 'exporter', crypto.hash(hash, context), length);
}

/**
 * The secrets chain of one connection: Early Secret → Handshake Secret → Master Secret, each
 * stage extracting with the previous stage's "derived" secret as salt.
 */
export class KeySchedule {
  private readonly zeros: Uint8Array;
  /** Current stage secret. */
  private secret: Uint8Array;
  earlySecret: Uint8Array;
  handshakeSecret: Uint8Array | undefined;
  masterSecret: Uint8Array | undefined;

  /** Starts at the Early Secret: HKDF-Extract(0, psk or zeros). */
  constructor(
    private readonly crypto: CryptoBackend,
    readonly hash: HashAlgorithm,
    psk?: Uint8Array,
  ) {
    this.zeros = new Uint8Array(hashLength(hash));
    this.earlySecret = crypto.hkdfExtract(hash, this.zeros, psk ?? this.zeros);
    this.secret = this.earlySecret;
  }

  /** binder_key: "ext binder" for external PSKs, "res binder" for resumption. */
  binderKey(external: boolean): Uint8Array {
    return this.derive(this.earlySecret, external ? 'ext binder' : 'res binder', emptyHash(this.crypto, this.hash));
  }

  /** The binder value for a (truncated) ClientHello transcript hash. */
  binder(external: boolean, truncatedHash: Uint8Array): Uint8Array {
    return finishedVerifyData(this.crypto, this.hash, this.binderKey(external), truncatedHash);
  }

  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Uint8Array {
    return this.derive(this.earlySecret, 'c e traffic', clientHelloHash);
  }

  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Uint8Array {
    return this.derive(this.earlySecret, 'e exp master', clientHelloHash);
  }

  /** Moves to the Handshake Secret with the (EC)DHE shared secret (zeros for psk_ke). */
  enterHandshake(sharedSecret: Uint8Array | undefined): Uint8Array {
    const salt = this.derive(this.secret, 'derived', emptyHash(this.crypto, this.hash));
    this.handshakeSecret = this.crypto.hkdfExtract(this.hash, salt, sharedSecret ?? this.zeros);
    this.secret = this.handshakeSecret;
    return this.handshakeSecret;
  }

  clientHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return this.derive(this.stage(this.handshakeSecret), 'c hs traffic', helloHash);
  }

  serverHandshakeTrafficSecret(helloHash: Uint8Array): Uint8Array {
    return this.derive(this.stage(this.handshakeSecret), 's hs traffic', helloHash);
  }

  /** Moves to the Master Secret. */
  enterMaster(): Uint8Array {
    const salt = this.derive(this.stage(this.handshakeSecret), 'derived', emptyHash(this.crypto, this.hash));
    this.masterSecret = this.crypto.hkdfExtract(this.hash, salt, this.zeros);
    this.secret = this.masterSecret;
    return this.masterSecret;
  }

  clientApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.derive(this.stage(this.masterSecret), 'c ap traffic', serverFinishedHash);
  }

  serverApplicationTrafficSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.derive(this.stage(this.masterSecret), 's ap traffic', serverFinishedHash);
  }

  exporterMasterSecret(serverFinishedHash: Uint8Array): Uint8Array {
    return this.derive(this.stage(this.masterSecret), 'exp master', serverFinishedHash);
  }

  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return this.derive(this.stage(this.masterSecret), 'res master', clientFinishedHash);
  }

  /** Finished verify_data for a handshake traffic secret. */
  verifyData(baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
    return finishedVerifyData(this.crypto, this.hash, baseKey, transcriptHash);
  }

  private derive(secret: Uint8Array, label: string, context: Uint8Array): Uint8Array {
    return deriveSecret(this.crypto, this.hash, secret, label, context);
  }

  private stage(s: Uint8Array | undefined): Uint8Array {
    if (s === undefined) throw new TypeError('key schedule used out of order');
    return s;
  }
}

/**
 * The running handshake transcript. Messages are kept raw until the hash is known (it comes
 * with the cipher suite in ServerHello); after that they go straight into an incremental hash.
 */
export class Transcript {
  private pending: Uint8Array[] = [];
  private h: IncrementalHash | undefined;
  hashAlgorithm: HashAlgorithm | undefined;

  constructor(private readonly crypto: CryptoBackend) {}

  /** Fixes the hash algorithm and hashes everything buffered so far. */
  setHash(alg: HashAlgorithm): void {
    if (this.h !== undefined) {
      if (alg !== this.hashAlgorithm) throw new TypeError('transcript hash changed');
      return;
    }
    this.hashAlgorithm = alg;
    this.h = this.crypto.createHash(alg);
    for (const m of this.pending) this.h.update(m);
    this.pending = [];
  }

  /** Adds one whole handshake message (header included). Copies it when the hash is not yet known. */
  add(message: Uint8Array): void {
    if (this.h !== undefined) this.h.update(message);
    else this.pending.push(message.slice());
  }

  /** Hash of the transcript so far (hash must be set). */
  hash(): Uint8Array {
    if (this.h === undefined) throw new TypeError('transcript hash not set');
    return this.h.digest();
  }

  /** Hash of the transcript followed by `extra`, without adding `extra`. */
  hashWith(extra: Uint8Array): Uint8Array {
    if (this.h === undefined) throw new TypeError('transcript hash not set');
    const c = this.h.clone();
    c.update(extra);
    return c.digest();
  }

  /**
   * Replaces the transcript (ClientHello1 only) by message_hash(Hash(ClientHello1)), as after a
   * HelloRetryRequest (RFC 8446 §4.4.1). The hash algorithm must be set.
   */
  replaceWithMessageHash(): void {
    const alg = this.hashAlgorithm;
    if (alg === undefined || this.h === undefined) throw new TypeError('transcript hash not set');
    const digest = this.h.digest();
    this.h = this.crypto.createHash(alg);
    this.h.update(encodeMessageHash(digest));
  }
}

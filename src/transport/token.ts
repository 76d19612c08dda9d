import type { Aead, CryptoBackend } from '../crypto/backend.js';
import { utf8 } from '../util/bytes.js';

/** Kinds of address-validation token (RFC 9000 §8.1.3–8.1.4). */
export const TokenKind = {
  Retry: 1,
  NewToken: 2,
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface TokenContents {
  kind: TokenKind;
  /** When the token was issued (ms). */
  issued: number;
  /** Retry tokens: the client's original DCID, and the SCID of the Retry packet. */
  originalDcid: Uint8Array;
  retrySourceCid: Uint8Array;
}

const NONCE = 12;
const TAG = 16;

/**
 * Seals and opens the tokens a server hands out in Retry packets and NEW_TOKEN frames.
 * A token is AES-128-GCM under a server-held key: kind ‖ nonce ‖ AEAD(issued time, original
 * DCID, Retry SCID), with the client's address as associated data — so a token only opens
 * for the address it was issued to, and cannot be forged or altered.
 */
export class TokenProtector {
  private readonly aead: Aead;

  constructor(
    private readonly crypto: CryptoBackend,
    key: Uint8Array,
  ) {
    this.aead = crypto.createAead('aes-128-gcm', key);
  }

  /** A token for the client at `address` (any stable string form, e.g. "ip:port" or "ip"). */
  seal(kind: TokenKind, address: string, now: number, originalDcid?: Uint8Array, retrySourceCid?: Uint8Array): Uint8Array {
    const od = originalDcid ?? new Uint8Array(0);
    const rs = retrySourceCid ?? new Uint8Array(0);
    const plain = new Uint8Array(8 + 1 + od.length + 1 + rs.length);
    const dv = new DataView(plain.buffer);
    dv.setFloat64(0, now);
    plain[8] = od.length;
    plain.set(od, 9);
    plain[9 + od.length] = rs.length;
    plain.set(rs, 10 + od.length);
    const out = new Uint8Array(1 + NONCE + plain.length + TAG);
    out[0] = kind;
    const nonce = out.subarray(1, 1 + NONCE);
    this.crypto.randomFill(nonce);
    this.aead.seal(nonce, this.aad(kind, address), plain, out.subarray(1 + NONCE));
    return out;
  }

  /**
   * Opens a token presented by the client at `address`. Undefined when it is not ours, was
   * issued to another address, is older than `maxAgeMs`, or is malformed.
   */
  open(token: Uint8Array, address: string, now: number, maxAgeMs: number): TokenContents | undefined {
    if (token.length < 1 + NONCE + 8 + 2 + TAG) return undefined;
    const kind = token[0]!;
    if (kind !== TokenKind.Retry && kind !== TokenKind.NewToken) return undefined;
    const plain = new Uint8Array(token.length - 1 - NONCE - TAG);
    const n = this.aead.open(token.subarray(1, 1 + NONCE), this.aad(kind, address), token.subarray(1 + NONCE), plain);
    if (n < 0) return undefined;
    const issued = new DataView(plain.buffer).getFloat64(0);
    if (!(issued <= now + 1000) || now - issued > maxAgeMs) return undefined;
    const odLen = plain[8]!;
    if (9 + odLen >= plain.length) return undefined;
    const rsLen = plain[9 + odLen]!;
    if (10 + odLen + rsLen !== plain.length) return undefined;
    return {
      kind: kind as TokenKind,
      issued,
      originalDcid: plain.slice(9, 9 + odLen),
      retrySourceCid: plain.slice(10 + odLen),
    };
  }

  private aad(kind: number, address: string): Uint8Array {
    return utf8(`${kind}|${address}`);
  }
}

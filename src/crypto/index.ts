export * from './backend.js';
export { nodeBackend } from './node-backend.js';
export { hkdfLabel, hkdfExpandLabel } from './hkdf-label.js';
import { nodeBackend } from './node-backend.js';
import type { CryptoBackend } from './backend.js';

/** The backend used when none is given. */
export const defaultCrypto: CryptoBackend = nodeBackend;

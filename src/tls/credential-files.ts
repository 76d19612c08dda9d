/**
 * The credential loaders of ./credentials.ts, reading from file paths. Configuration-time IO,
 * kept apart from the sans-IO TLS engine. Every error message names the file.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { loadCertificateChain, loadCredentials, loadPrivateKey, type Credentials } from './credentials.js';

function readBytes(path: string, what: string): Uint8Array {
  if (typeof path !== 'string' || path === '') throw new TypeError(`${what} path must be a non-empty string, got ${JSON.stringify(path)}`);
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new Error(`cannot read ${what} file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function withPath<T>(path: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    if (e instanceof TypeError) throw new TypeError(`${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Reads a certificate chain file (PEM, leaf first; or one DER certificate). See `loadCertificateChain`. */
export function readCertificateChainFile(path: string): Uint8Array[] {
  const bytes = readBytes(path, 'certificate');
  return withPath(path, () => loadCertificateChain(bytes));
}

/** Reads a private key file (PEM or DER; PKCS#8, SEC1, PKCS#1, encrypted PKCS#8 with `password`) as PKCS#8 DER. See `loadPrivateKey`. */
export function readPrivateKeyFile(path: string, password?: string): Uint8Array {
  const bytes = readBytes(path, 'private key');
  return withPath(path, () => loadPrivateKey(bytes, password));
}

/** Reads a CA bundle (PEM with any number of CERTIFICATE blocks, or one DER certificate) as trusted roots. */
export function readTrustedCertificatesFile(path: string): Uint8Array[] {
  const bytes = readBytes(path, 'trusted certificates');
  return withPath(path, () => loadCertificateChain(bytes));
}

/** Reads a certificate chain file and its key file and checks that they match. See `loadCredentials`. */
export function readCredentialsFiles(certificatePath: string, keyPath: string, password?: string): Credentials {
  const chain = readBytes(certificatePath, 'certificate');
  const key = readBytes(keyPath, 'private key');
  return withPath(`${certificatePath} + ${keyPath}`, () => loadCredentials(chain, key, password));
}

/** The root certificates bundled with Node (Mozilla's CA store), DER: a default trust store for clients. */
export function nodeRootCertificates(): Uint8Array[] {
  return rootCertificates.flatMap((pem) => loadCertificateChain(pem));
}

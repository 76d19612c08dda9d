// Makes sure the interop peers (ngtcp2, quiche; see ../shared/peers/README.md) are installed
// before the test suite runs: when one is missing, runs ../shared/peers/install.sh (Debian
// packages and npm; it needs root for apt-get). A failed install is reported, not fatal: the
// interop tests then fail with a message naming the installer.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** True when every peer the interop tests use is present. */
export function peersInstalled(peersDir = process.env.PEERS_DIR ?? '/tmp/peers') {
  return (
    existsSync('/usr/bin/gtlsclient') &&
    existsSync('/usr/sbin/gtlsserver') &&
    existsSync(join(peersDir, 'npm', 'node_modules', '@matrixai', 'quic', 'package.json')) &&
    existsSync(join(peersDir, 'certs', 'cert.pem'))
  );
}

/** Installs the peers when missing; `root` is the repository root. Returns true when they are there. */
export function ensurePeers(root) {
  if (peersInstalled()) return true;
  const installer = join(root, '..', 'shared', 'peers', 'install.sh');
  if (!existsSync(installer)) {
    console.log(`interop peers missing and ${installer} not found: the interop tests will fail`);
    return false;
  }
  console.log(`interop peers missing: running ${installer}`);
  const started = Date.now();
  const r = spawnSync('bash', [installer], { cwd: root, stdio: 'inherit' });
  console.log(`peer installer exited with ${r.status} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return peersInstalled();
}

// nebula-cert, run through the one command runner. Private keys are written by nebula-cert itself
// into a 0700 directory and set to 0600; they are never read into the agent except to export.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runner } from '../exec.ts';
import { parseCertPrint, type CertInfo } from './cert-info.ts';

export class NebulaCert {
  private readonly run: Runner;
  constructor(run: Runner) {
    this.run = run;
  }

  /**
   * `limits`: the networks certificates of this CA may carry (ips) and route (subnets); Nebula
   * refuses, when signing and at every handshake, a certificate of this CA outside them.
   */
  async createCa(name: string, keyFile: string, certFile: string, limits: { ips: string[]; subnets: string[] }): Promise<void> {
    // 10 years: the owner's authority outlives stations; host certificates are shorter.
    await this.run([
      'nebula-cert',
      'ca',
      '-name',
      name,
      '-duration',
      '87600h',
      '-ips',
      limits.ips.join(','),
      '-subnets',
      limits.subnets.join(','),
      '-out-key',
      keyFile,
      '-out-crt',
      certFile,
    ]);
    await chmod(keyFile, 0o600);
    await chmod(certFile, 0o600);
  }

  async keygen(keyFile: string, pubFile: string): Promise<void> {
    await this.run(['nebula-cert', 'keygen', '-out-key', keyFile, '-out-pub', pubFile]);
    await chmod(keyFile, 0o600);
  }

  /** Signs a public key (PEM text) into a certificate; returns the certificate PEM. */
  /** `subnets`: the node subnet behind the station, which peers route to it over the mesh. */
  async sign(opts: { caKey: string; caCrt: string; name: string; ip: string; groups: string[]; publicKeyPem: string; subnets?: string[] }): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'station-sign-'));
    try {
      await writeFile(join(dir, 'in.pub'), opts.publicKeyPem, { mode: 0o600 });
      await this.run([
        'nebula-cert',
        'sign',
        '-ca-key',
        opts.caKey,
        '-ca-crt',
        opts.caCrt,
        '-name',
        opts.name,
        '-ip',
        opts.ip,
        '-groups',
        opts.groups.join(','),
        ...(opts.subnets?.length ? ['-subnets', opts.subnets.join(',')] : []),
        '-duration',
        '8760h',
        '-in-pub',
        join(dir, 'in.pub'),
        '-out-crt',
        join(dir, 'out.crt'),
      ]);
      return await readFile(join(dir, 'out.crt'), 'utf8');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async print(file: string): Promise<CertInfo[]> {
    return parseCertPrint((await this.run(['nebula-cert', 'print', '-json', '-path', file])).stdout);
  }

  /** Certificate text -> its details (via a temp file: nebula-cert reads only files). */
  async inspect(pem: string): Promise<CertInfo[]> {
    const dir = await mkdtemp(join(tmpdir(), 'station-cert-'));
    try {
      await writeFile(join(dir, 'c.crt'), pem, { mode: 0o600 });
      return await this.print(join(dir, 'c.crt'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** True when `certPem` is signed by one of the CAs in `caPem` and not expired. */
  async verify(caPem: string, certPem: string): Promise<boolean> {
    const dir = await mkdtemp(join(tmpdir(), 'station-verify-'));
    try {
      await writeFile(join(dir, 'ca.crt'), caPem, { mode: 0o600 });
      await writeFile(join(dir, 'h.crt'), certPem, { mode: 0o600 });
      const r = await this.run(['nebula-cert', 'verify', '-ca', join(dir, 'ca.crt'), '-crt', join(dir, 'h.crt')], { allowFailure: true });
      return r.exitCode === 0;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

// Parsers of nebula-cert output (pure; tested on captured real output in test/fixtures/nebula/).
import { ValidationError } from '../errors.ts';

export interface CertInfo {
  name: string;
  fingerprint: string;
  isCa: boolean;
  /** hex, as nebula-cert prints it */
  publicKey: string;
  issuer: string;
  /** CIDR, e.g. 100.90.0.2/10 */
  ips: string[];
  /** networks behind the host it may route for (unsafe routes), e.g. its node subnet */
  subnets: string[];
  groups: string[];
  notAfter: string;
}

/** `nebula-cert print -json -path FILE`: one JSON object per certificate in the file. */
export function parseCertPrint(stdout: string): CertInfo[] {
  const out: CertInfo[] = [];
  for (const line of stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const raw = JSON.parse(line) as { details?: Record<string, unknown>; fingerprint?: unknown };
    const d = raw.details;
    if (!d || typeof raw.fingerprint !== 'string') throw new ValidationError('MESH_CERT_INVALID', 'not a nebula certificate');
    out.push({
      name: String(d.name),
      fingerprint: raw.fingerprint,
      isCa: d.isCa === true,
      publicKey: String(d.publicKey),
      issuer: String(d.issuer ?? ''),
      ips: (d.ips as string[] | undefined) ?? [],
      subnets: (d.subnets as string[] | undefined) ?? [],
      groups: (d.groups as string[] | undefined) ?? [],
      notAfter: String(d.notAfter),
    });
  }
  return out;
}

/** The raw key inside a `NEBULA X25519 PUBLIC KEY` PEM, as hex (the form nebula-cert print uses). */
export function publicKeyHex(pem: string): string {
  const m = /-----BEGIN NEBULA X25519 PUBLIC KEY-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END NEBULA X25519 PUBLIC KEY-----/.exec(pem);
  if (!m) throw new ValidationError('MESH_KEY_INVALID', 'the public key is not a Nebula X25519 public key PEM');
  const key = Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
  if (key.length !== 32) throw new ValidationError('MESH_KEY_INVALID', 'the public key has the wrong length');
  return key.toString('hex');
}

/** Splits a file of concatenated PEM certificates. */
export const splitPem = (text: string): string[] =>
  text.match(/-----BEGIN NEBULA CERTIFICATE-----[\s\S]+?-----END NEBULA CERTIFICATE-----\n?/g)?.map((p) => `${p.trimEnd()}\n`) ?? [];

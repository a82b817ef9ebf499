// Nebula's own view of its tunnels, read from its JSON log lines (logging.format: json). Pure;
// tested on captured real output in test/fixtures/nebula/.
export interface NebulaLogEvent {
  kind: 'handshake' | 'tunnel-closed' | 'relay' | 'blocked' | 'other';
  /** the peer's mesh address */
  vpnIp?: string;
  /** the peer's certificate name */
  certName?: string;
  at: string;
  /** handshake duration in ms, when nebula reports it */
  durationMs?: number;
  /** the relay the handshake went through (a station behind NAT nobody can punch to) */
  relay?: string;
  /** HOST:PORT the handshake came from or went to, when direct */
  udpAddr?: string;
  msg: string;
}

export function parseNebulaLogLine(line: string): NebulaLogEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const msg = String(raw.msg ?? '');
  const vpnIp = typeof raw.vpnIp === 'string' ? raw.vpnIp : undefined;
  const certName = typeof raw.certName === 'string' ? raw.certName : undefined;
  const at = String(raw.time ?? new Date().toISOString());
  const durationMs = typeof raw.durationNs === 'number' ? raw.durationNs / 1e6 : undefined;
  let kind: NebulaLogEvent['kind'] = 'other';
  if (/^Handshake message (received|sent)$/.test(msg) && raw.handshake && (raw.handshake as { stage?: number }).stage === 2) kind = 'handshake';
  else if (/Close tunnel received|Tunnel status|tearing down|Taking down tunnel/.test(msg)) kind = 'tunnel-closed';
  else if (/relay/i.test(msg)) kind = 'relay';
  if (/blocklist|blocked/i.test(msg) || /blocklist/i.test(String(raw.error ?? ''))) kind = 'blocked';
  const relay = typeof raw.relay === 'string' ? raw.relay : undefined;
  const udp = raw.udpAddr as { ip?: string; port?: number } | undefined;
  const udpAddr = udp?.ip ? `${udp.ip}:${udp.port}` : undefined;
  return { kind, vpnIp, certName, at, durationMs, msg, relay, udpAddr };
}

// station status | hardware | token
import type { Command } from '../command.ts';
import { json, readCommand } from '../command.ts';
import { table, bytes, duration, keyValues } from '../format.ts';
import type { StationStatus } from '../../../agent/status.ts';
import type { HardwareReport } from '../../../hardware/report.ts';

export const statusCommand = readCommand<StationStatus>(['status'], 'the station: name, health, subsystems', '/status', showStatus);

export const hardwareCommand = readCommand<HardwareReport>(['hardware'], 'what this box is and what it can do (with reasons)', '/hardware', showHardware);

export const tokenCommand: Command = {
  words: ['token'],
  summary: 'print the admin token (for Authorization: Bearer)',
  async run(args, client) {
    const token = client.token();
    return args.json ? json({ token }) : token;
  },
};

function showStatus(status: StationStatus): string {
  const lines = [
    keyValues([
      ['station', `${status.name} (${status.health})`],
      ['version', status.version],
      ['up', duration(status.uptimeSeconds)],
      [
        'hardware',
        status.hardware
          ? `${status.hardware.model}, ${status.hardware.arch}, ${status.hardware.cpuCores} cores, ${bytes(status.hardware.memoryBytes)}`
          : 'detecting',
      ],
    ]),
    '',
    table(
      ['SUBSYSTEM', 'STATE', 'REASON'],
      status.subsystems.map((s) => [s.name, s.state, s.reason ?? '']),
    ),
  ];
  for (const [name, summary] of Object.entries(status.summaries))
    lines.push(
      '',
      `${name}: ${Object.entries(summary)
        .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`)
        .join(' ')}`,
    );
  return lines.join('\n');
}

function showHardware(hw: HardwareReport): string {
  return [
    keyValues([
      [
        'board',
        `${hw.board.manufacturer} ${hw.board.model}`.trim() + (hw.board.virtual ? ` (virtual${hw.board.virtualHost ? `, ${hw.board.virtualHost}` : ''})` : ''),
      ],
      ['serial', hw.board.serial],
      ['os', `${hw.os.distro} ${hw.os.release}, kernel ${hw.os.kernel}, ${hw.os.arch}`],
      ['cpu', `${hw.cpu.brand} (${hw.cpu.cores} cores)`],
      ['memory', `${bytes(hw.memory.availableBytes)} free of ${bytes(hw.memory.totalBytes)}`],
      ['disks', hw.disks.map((d) => `${d.name} ${bytes(d.sizeBytes)}`).join(', ') || '-'],
      ['network', hw.network.map((n) => `${n.name}${n.ipv4.length ? ` ${n.ipv4.join(',')}` : ''} (${n.state})`).join(', ') || '-'],
      ['wifi', hw.wifi.map((w) => w.name).join(', ') || 'none'],
      ['temperature', hw.temperatures.mainC === null ? 'not available' : `${hw.temperatures.mainC} °C`],
    ]),
    '',
    table(
      ['CAPABILITY', 'OK', 'WHY'],
      hw.capabilities.map((c) => [c.id, c.available ? 'yes' : 'no', c.reason]),
    ),
  ].join('\n');
}

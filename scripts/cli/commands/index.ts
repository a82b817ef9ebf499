// Every CLI command. A capability adds its commands here.
import type { Command } from '../command.ts';
import { statusCommand, hardwareCommand, tokenCommand } from './station.ts';
import { pairCommand, wifiCommands } from './pair.ts';
import { nodeCommands } from './node.ts';
import { REPLICA_COMMANDS } from './replicas.ts';
import { MESH_COMMANDS } from './mesh.ts';
import { DISK_COMMANDS } from './disk.ts';
import { BUNDLE_COMMANDS } from './bundle.ts';

export const COMMANDS: Command[] = [
  statusCommand,
  hardwareCommand,
  tokenCommand,
  pairCommand,
  ...wifiCommands,
  ...nodeCommands,
  ...REPLICA_COMMANDS,
  ...MESH_COMMANDS,
  ...DISK_COMMANDS,
  ...BUNDLE_COMMANDS,
];

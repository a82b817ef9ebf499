// Every CLI command. A capability adds its commands here.
import type { Command } from '../command.ts';
import { statusCommand, hardwareCommand, tokenCommand } from './station.ts';
import { pairCommand, wifiCommands } from './pair.ts';
import { MESH_COMMANDS } from './mesh.ts';
import { nodeCommands } from './node.ts';

export const COMMANDS: Command[] = [
  statusCommand,
  hardwareCommand,
  tokenCommand,
  pairCommand,
  ...wifiCommands,
  ...MESH_COMMANDS,
  ...nodeCommands,
];

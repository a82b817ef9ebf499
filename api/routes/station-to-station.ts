// The options of a route that the owner's (or a community's) other stations call over the mesh. Such
// a route takes no admin token, for a mutation too (`publicMutation`): its handler knows the caller by
// the mesh address the request comes from (MeshSubsystem.identify, 403 for anyone else), and its
// summary in the OpenAPI document says so, and who calls it.
import type { FastifySchema } from 'fastify';

export function stationToStation<S extends FastifySchema>(route: { tags: string[]; summary: string; from?: string } & S) {
  const { tags, summary, from, ...schema } = route;
  return {
    config: { publicMutation: true },
    schema: { tags, summary: `station-to-station over the mesh${from ? `, from ${from}` : ''}: ${summary}`, ...schema },
  };
}

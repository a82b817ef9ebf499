// The groups in a station's mesh certificate, written in one place: every station is in `station`
// and in `owner-OWNER`; lighthouses are also in `lighthouse`. The authority signs them, policies'
// owner:NAME peers become `owner-NAME` Nebula firewall groups, and the network resolves a group to
// the addresses of its stations.

export const STATION_GROUP = 'station';
export const LIGHTHOUSE_GROUP = 'lighthouse';

export const ownerGroup = (owner: string): string => `owner-${owner}`;

/** The owner an `owner-NAME` group stands for; undefined for any other group. */
export const ownerOfGroup = (group: string): string | undefined => /^owner-(.+)$/.exec(group)?.[1];

/** The groups of one station's certificate. */
export const groupsFor = (owner: string, lighthouse: boolean): string[] => [STATION_GROUP, ownerGroup(owner), ...(lighthouse ? [LIGHTHOUSE_GROUP] : [])];

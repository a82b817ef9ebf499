// The event bus: a room following another subscribes to that room's area (node.*, mesh.*) and sees
// nothing else, and stops seeing it when it unsubscribes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventBus } from '../../../agent/events.ts';

test("subscribeArea: every event of the area, none of another room's, none after stopping", () => {
  const events = new EventBus();
  const seen: string[] = [];
  const stop = events.subscribeArea('node', (event) => seen.push(`${event.type} ${JSON.stringify(event.data)}`));
  events.publish('node.error', { name: 'web', message: 'no space' });
  events.publish('mesh.peers', { peers: ['s2'] });
  events.publish('station.started', { name: 's1' });
  events.publish('node.deleted', { name: 'web', volumesDeleted: false });
  stop();
  events.publish('node.deleted', { name: 'db', volumesDeleted: false });
  assert.equal(seen, ['node.error {"name":"web","message":"no space"}', 'node.deleted {"name":"web","volumesDeleted":false}']);
});

test.run();

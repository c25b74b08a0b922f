// aedes-persistence-level ships no types. Its main export wraps the async class in the callback
// interface aedes 0.x used; aedes 1.x wants the async class itself, which this module exports.
declare module 'aedes-persistence-level/asyncPersistence.js' {
  import type { Level } from 'level';
  export default class AsyncLevelPersistence {
    constructor(db: Level<string, unknown>);
    setup(broker: unknown): Promise<void>;
    outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: unknown): Promise<unknown>;
    cleanSubscriptions(client: { id: string }): Promise<void>;
    incomingGetPacket(client: { id: string }, packet: { messageId?: number }): Promise<unknown>;
  }
}

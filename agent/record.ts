/**
 * What flows through the agent: `sources/ → processors/ → buffer/ → sinks/`.
 *
 * Acknowledgements drive progress. Every record a source emits carries an `Ack`: a range of the
 * source's own sequence numbers (per file for the tail source, per message for MQTT). The
 * pipeline settles the range once the data is safe — delivered to the collector (or AWS), or,
 * for sources that allow it, durably in the disk spool — and only then does the source move its
 * checkpoint (tail) or send PUBACK (MQTT). Ranges of one target merge when contiguous, so a
 * batch of 500 lines from one file carries one Ack, not 500.
 */

export interface AckTarget {
  /** Marks source sequence numbers [from, to] as safe. Called once per number, in any order. */
  settle(from: number, to: number): void;
  /** Whether data durably in the agent's spool counts as safe (MQTT: yes; files: they can be re-read, so no). */
  readonly spoolIsSafe: boolean;
}

export interface Ack {
  target: AckTarget;
  from: number;
  to: number;
}

/** One record on its way to a stream: data exactly as it will be stored. */
export interface AgentRecord {
  data: Buffer;
  /** Absent: the flow's partitionKeyOption (RANDOM / DETERMINISTIC) decides. */
  partitionKey?: string;
  acks: Ack[];
}

/** Appends `ack` to `acks`, merging it into the last range when it continues it. */
export function addAck(acks: Ack[], ack: Ack): void {
  const last = acks[acks.length - 1];
  if (last && last.target === ack.target && last.to + 1 === ack.from) last.to = ack.to;
  else acks.push({ ...ack });
}

export function settleAll(acks: readonly Ack[]): void {
  for (const ack of acks) ack.target.settle(ack.from, ack.to);
}

/**
 * Why a rule action did not deliver. Codes are stable (tests and the error action's message carry
 * them); `retryable` failures are retried with backoff while the device's QoS 1/2 message stays
 * unacknowledged, the others go to the rule's error action at once.
 */
export type RuleFailureCode =
  /** The payload is not JSON but the rule reads a field of it. */
  | 'MalformedPayload'
  /** A template or condition names a payload field the message does not have. */
  | 'MissingField'
  /** The action's Kinesis stream does not exist. */
  | 'UnknownStream'
  /** The action's Firehose delivery stream does not exist. */
  | 'UnknownDeliveryStream'
  /** No Firehose delivery is wired into this collector. */
  | 'FirehoseTargetUnavailable'
  /** The target refused the record for good (too large, invalid partition key, …). */
  | 'RecordRejected'
  /** Throttled or failed inside the target; worth retrying. */
  | 'TargetBusy';

export class RuleFailure extends Error {
  constructor(
    readonly code: RuleFailureCode,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'RuleFailure';
  }
}

/** A message as the rules see it: the device's PUBLISH plus when and from whom it came. */
import { RuleFailure } from './failure.js';

export class RuleMessage {
  private parsed: { value: unknown } | undefined;

  constructor(
    readonly topic: string,
    readonly payload: Buffer,
    readonly clientId: string,
    readonly receivedMs: number,
  ) {}

  /** The payload parsed as JSON (once); MalformedPayload if it is not JSON. */
  json(): unknown {
    if (!this.parsed) {
      try {
        this.parsed = { value: JSON.parse(this.payload.toString('utf8')) as unknown };
      } catch {
        throw new RuleFailure('MalformedPayload', `payload on ${this.topic} is not JSON`);
      }
    }
    return this.parsed.value;
  }
}

/**
 * BufferingHints: a destination flushes when the buffer reaches SizeInMBs or its oldest record
 * is IntervalInSeconds old, whichever comes first; 0 s means "deliver now". Ranges and defaults
 * per destination from the Firehose API reference (BufferingHints, HttpEndpointBufferingHints,
 * SplunkBufferingHints, AmazonopensearchserviceBufferingHints).
 */
import { AwsError } from '../../shared/errors.js';

export interface BufferingLimits {
  sizeMiB: { min: number; max: number; default: number };
  intervalSeconds: { min: number; max: number; default: number };
}

export interface WireBufferingHints {
  SizeInMBs?: number;
  IntervalInSeconds?: number;
}

export interface Buffering {
  sizeBytes: number;
  intervalMs: number;
}

// ExtendedS3 BufferingHints: 1–128 MiB (default 5), 0–900 s (default 300).
export const s3BufferingLimits: BufferingLimits = {
  sizeMiB: { min: 1, max: 128, default: 5 },
  intervalSeconds: { min: 0, max: 900, default: 300 },
};

// HttpEndpointBufferingHints: 1–64 MiB (default 5), 0–900 s (default 300).
export const httpEndpointBufferingLimits: BufferingLimits = {
  sizeMiB: { min: 1, max: 64, default: 5 },
  intervalSeconds: { min: 0, max: 900, default: 300 },
};

/** The hints with AWS's defaults filled in; out-of-range values are refused. */
export function normalizeBufferingHints(hints: WireBufferingHints | undefined, limits: BufferingLimits, destination: string): Required<WireBufferingHints> {
  const size = hints?.SizeInMBs ?? limits.sizeMiB.default;
  const interval = hints?.IntervalInSeconds ?? limits.intervalSeconds.default;
  if (size < limits.sizeMiB.min || size > limits.sizeMiB.max) {
    throw new AwsError('InvalidArgumentException', `BufferingHints.SizeInMBs must be between ${limits.sizeMiB.min} and ${limits.sizeMiB.max} for ${destination} destinations.`);
  }
  if (interval < limits.intervalSeconds.min || interval > limits.intervalSeconds.max) {
    throw new AwsError(
      'InvalidArgumentException',
      `BufferingHints.IntervalInSeconds must be between ${limits.intervalSeconds.min} and ${limits.intervalSeconds.max} for ${destination} destinations.`,
    );
  }
  return { SizeInMBs: size, IntervalInSeconds: interval };
}

export function bufferingOf(hints: Required<WireBufferingHints>): Buffering {
  return { sizeBytes: hints.SizeInMBs * 1024 * 1024, intervalMs: hints.IntervalInSeconds * 1000 };
}

/**
 * The operations that address a resource by `ResourceARN` (tags by resource, resource policies)
 * accept a stream ARN or a consumer ARN (`…:stream/<name>/consumer/<name>:<creation time>`). Tags and
 * policies on consumers are not kept yet, so a consumer ARN is answered as not found.
 */
import { AwsError } from '../../../shared/errors.js';
import type { StreamRef } from '../../store/streams.js';

const CONSUMER_ARN = /^arn:aws[\w-]*:kinesis:[\w-]+:\d{12}:stream\/[a-zA-Z0-9_.-]+\/consumer\/([a-zA-Z0-9_.-]+):\d+$/;

/** The stream a stream ARN names; ResourceNotFoundException for a consumer ARN (see above). */
export function streamOfResource(resourceArn: string): StreamRef {
  const consumer = CONSUMER_ARN.exec(resourceArn);
  if (consumer) throw new AwsError('ResourceNotFoundException', `Consumer ${consumer[1]} not found.`);
  return { streamArn: resourceArn };
}

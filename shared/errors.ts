/**
 * The one registry of wire errors. `code` is the AWS `__type` a client sees and what tests
 * assert; messages follow AWS's wording where AWS has one. Inside the code we throw `AwsError`
 * and the server turns it into `HTTP <status> {"__type": code, "message": ...}`.
 */

export const errorCodes = {
  // client errors every operation can return
  SerializationException: 400,
  ValidationException: 400,
  InvalidArgumentException: 400,
  ResourceNotFoundException: 400,
  ResourceInUseException: 400,
  LimitExceededException: 400,
  ExpiredIteratorException: 400,
  ExpiredNextTokenException: 400,
  ProvisionedThroughputExceededException: 400,
  AccessDeniedException: 400,
  UnknownOperationException: 400,
  // Firehose: UpdateDestination with a stale CurrentDeliveryStreamVersionId
  ConcurrentModificationException: 400,
  // Riffle lease operations: a conditional lease update lost a race (DynamoDB's name, as the KCL sees it)
  ConditionalCheckFailedException: 400,
  // authentication (AWS answers these with 400 or 403)
  MissingAuthenticationTokenException: 400,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 400,
  UnrecognizedClientException: 400,
  // transport-level
  RequestEntityTooLargeException: 413,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  // Firehose's throttling answer (firehose service-2.json: httpStatusCode 503)
  ServiceUnavailableException: 503,
  // a request body that did not arrive in time (RFC 9110 §15.5.9)
  RequestTimeoutException: 408,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export class AwsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, status: number = errorCodes[code]) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}

export function isAwsError(error: unknown, code?: ErrorCode): error is AwsError {
  return error instanceof AwsError && (code === undefined || error.code === code);
}

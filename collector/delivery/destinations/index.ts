/** Every destination a delivery stream can have, by its registry key and by its API member names. */
import type { DestinationSpec } from './destination.js';
import { extendedS3Destination } from './extended-s3.js';
import { httpEndpointDestination } from './http-endpoint.js';
import { elasticsearchDestination, opensearchDestination } from './opensearch.js';
import { redshiftDestination } from './redshift.js';
import { splunkDestination } from './splunk.js';

const specs: DestinationSpec[] = [
  extendedS3Destination,
  httpEndpointDestination,
  redshiftDestination,
  opensearchDestination,
  elasticsearchDestination,
  splunkDestination,
];

export const destinationSpecs: ReadonlyMap<string, DestinationSpec> = new Map(specs.map((spec) => [spec.kind, spec]));

/**
 * CreateDeliveryStream / UpdateDestination members that name a destination. The legacy
 * S3DestinationConfiguration/Update is the ExtendedS3 destination with fewer members.
 */
export const configurationMembers: ReadonlyMap<string, DestinationSpec> = new Map([
  ...specs.map((spec) => [spec.configurationMember, spec] as const),
  ['S3DestinationConfiguration', extendedS3Destination],
]);

export const updateMembers: ReadonlyMap<string, DestinationSpec> = new Map([
  ...specs.map((spec) => [spec.updateMember, spec] as const),
  ['S3DestinationUpdate', extendedS3Destination],
]);

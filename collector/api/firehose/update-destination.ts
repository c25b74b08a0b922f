import { AwsError } from '../../../shared/errors.js';
import { destinationSpecs, updateMembers } from '../../delivery/destinations/index.js';
import { deliveryStreamResource, type FirehoseOperation } from './operation.js';

export interface UpdateDestinationInput {
  DeliveryStreamName: string;
  CurrentDeliveryStreamVersionId: string;
  DestinationId: string;
  [updateMember: string]: unknown;
}

/**
 * UpdateDestination: an update of the same destination type merges into the current
 * configuration; one of another type replaces it (Firehose API reference). Every update bumps
 * VersionId — the version new object names carry — and needs the current one.
 */
export const updateDestination: FirehoseOperation<UpdateDestinationInput> = {
  name: 'UpdateDestination',
  resource: deliveryStreamResource,
  async handle(input, { deliveryStreams }) {
    const given = Object.keys(input).filter((member) => member.endsWith('DestinationUpdate'));
    if (given.length !== 1) throw new AwsError('InvalidArgumentException', 'Exactly one destination update must be specified.');
    const member = given[0]!;
    const spec = updateMembers.get(member);
    if (!spec) throw new AwsError('InvalidArgumentException', `${member} is not supported by Riffle yet.`);
    const update = input[member] as Record<string, unknown>;
    await deliveryStreams.update(input.DeliveryStreamName, (meta) => {
      if (input.CurrentDeliveryStreamVersionId !== String(meta.versionId)) {
        throw new AwsError(
          'ConcurrentModificationException',
          `Cannot update firehose: ${meta.name} since the current version id: ${meta.versionId} and the specified version id: ${input.CurrentDeliveryStreamVersionId} do not match`,
        );
      }
      if (input.DestinationId !== meta.destination.id) {
        throw new AwsError('InvalidArgumentException', `Destination Id ${input.DestinationId} not found.`);
      }
      const current = destinationSpecs.get(meta.destination.kind);
      const config = current === spec ? spec.merge(meta.destination.config, update) : spec.normalize(update);
      return {
        ...meta,
        versionId: meta.versionId + 1,
        lastUpdateMs: deliveryStreams.now(),
        destination: { ...meta.destination, kind: spec.kind, config },
      };
    });
    return {};
  },
};

import { changeShardLevelMetrics, type EnhancedMonitoringInput } from './enable-enhanced-monitoring.js';
import { streamResource, type KinesisOperation } from './operation.js';

export const disableEnhancedMonitoring: KinesisOperation<EnhancedMonitoringInput> = {
  name: 'DisableEnhancedMonitoring',
  resource: streamResource,
  handle: (input, { store }) => changeShardLevelMetrics(store, input, 'disable'),
};

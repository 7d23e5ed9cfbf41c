import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import {
  PersistentCacheHealthIndicator,
  PersistentCacheModule,
  type PersistentCacheModuleOptions,
} from '../../lib';
import { trackApps } from './apps';
import { boot, type Harness } from './harness';

/** Where applications put the indicator: a module of their own that imports TerminusModule (not the cache's). */
@Module({})
class HealthModule {}
const healthModule: DynamicModule = {
  module: HealthModule,
  imports: [TerminusModule],
  providers: [PersistentCacheHealthIndicator],
  exports: [PersistentCacheHealthIndicator],
};

export interface HealthHarness extends Harness {
  indicator: PersistentCacheHealthIndicator;
}

/**
 * Registers the `afterEach` that closes the suite's apps (call it at the top of a test file) and returns `start`,
 * which boots the cache with `options` beside {@link healthModule}.
 */
export function healthApps() {
  const apps = trackApps<HealthHarness>();
  const start = async (options: PersistentCacheModuleOptions): Promise<HealthHarness> => {
    const h = await boot([PersistentCacheModule.forRoot(options), healthModule]);
    return apps.track({ ...h, indicator: h.app.get(PersistentCacheHealthIndicator) });
  };
  return { apps, start };
}

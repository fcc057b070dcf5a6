import type { RouteDefinition } from './route.js';
import { billingRoutes } from './routes/billing.js';
import { customersRoutes } from './routes/customers.js';
import { didsRoutes } from './routes/dids.js';
import { hierarchyRoutes } from './routes/hierarchy.js';
import { metaRoutes } from './routes/meta.js';
import { pbxRoutes } from './routes/pbx.js';
import { phoneLinesRoutes } from './routes/phone-lines.js';
import { switchRoutes } from './routes/switch.js';
import { systemRoutes } from './routes/system.js';

/**
 * The routes table, one file per route group under routes/: the single source for
 * CDK, the local server and the OpenAPI document.
 */
export const routes = {
  ...metaRoutes,
  ...customersRoutes,
  ...hierarchyRoutes,
  ...phoneLinesRoutes,
  ...systemRoutes,
  ...switchRoutes,
  ...pbxRoutes,
  ...didsRoutes,
  ...billingRoutes,
} as const satisfies Record<string, RouteDefinition>;

export type RouteName = keyof typeof routes;
export const routeList: readonly RouteDefinition[] = Object.values(routes);

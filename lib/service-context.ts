import { ulid } from 'ulid';
import { type Db, sharedDb } from './data/client.js';
import type { DidProviders } from './domain/dids/provider.js';
import { didProvidersFromEnvironment } from './providers/index.js';

/** What domain services need from the outside world; tests pass their own. */
export interface ServiceContext {
  readonly db: Db;
  readonly now: () => Date;
  readonly newId: () => string;
  /** The external DID providers a `provider` batch orders from. */
  readonly didProviders: DidProviders;
}

const providers = didProvidersFromEnvironment();

const shared: ServiceContext = {
  get db() {
    return sharedDb();
  },
  didProviders: providers,
  now: () => new Date(),
  newId: () => ulid(),
};

export const sharedServiceContext = (): ServiceContext => shared;

import { ulid } from 'ulid';
import { type Db, sharedDb } from './data/client.js';

/** What domain services need from the outside world; tests pass their own. */
export interface ServiceContext {
  readonly db: Db;
  readonly now: () => Date;
  readonly newId: () => string;
}

const shared: ServiceContext = {
  get db() {
    return sharedDb();
  },
  now: () => new Date(),
  newId: () => ulid(),
};

export const sharedServiceContext = (): ServiceContext => shared;

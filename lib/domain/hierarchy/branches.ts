import { readCustomer } from '../../data/customer.js';
import { branchesPartition } from '../../data/keys.js';
import type { Page } from '../../data/pagination.js';
import type { Branch } from '../../schemas/additional-info.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, visibleOrNotFound } from '../access.js';
import { queryByName } from '../customers/customers.js';

/**
 * The branches of a main office, by name, one page per query of the
 * `branchesByMainOffice` index. The main office is read beside the query, in
 * parallel, only to check the caller's scope.
 */
export async function listBranches(
  ctx: ServiceContext,
  caller: Caller,
  mainOfficeId: string,
  query: { readonly limit: number; readonly cursor?: string },
): Promise<Page<Branch>> {
  const index = {
    name: 'branchesByMainOffice',
    pk: 'mainOfficePk',
    value: branchesPartition(mainOfficeId),
  };
  const [mainOffice, page] = await Promise.all([
    readCustomer(ctx.db, mainOfficeId),
    queryByName(ctx, index, query),
  ]);
  visibleOrNotFound(caller, mainOffice);
  return {
    items: page.items.map(({ id, name, status }) => ({ id, name, status })),
    nextCursor: page.nextCursor,
  };
}

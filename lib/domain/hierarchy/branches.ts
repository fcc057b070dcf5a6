import {
  branchListRows,
  customerLists,
  queryCustomersByName,
  readCustomer,
} from '../../data/customer.js';
import type { Page } from '../../data/pagination.js';
import type { Branch } from '../../schemas/additional-info.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, visibleOrNotFound } from '../access.js';

/**
 * The branches of a main office, by name, one query per page reading only what a
 * branch row shows. The main office is
 * read beside the query, in parallel, only to check the caller's scope.
 */
export async function listBranches(
  ctx: ServiceContext,
  caller: Caller,
  mainOfficeId: string,
  query: { readonly limit: number; readonly cursor?: string },
): Promise<Page<Branch>> {
  const [mainOffice, page] = await Promise.all([
    readCustomer(ctx.db, mainOfficeId),
    queryCustomersByName(ctx.db, customerLists.branchesOf(mainOfficeId), query, branchListRows),
  ]);
  visibleOrNotFound(caller, mainOffice);
  return page;
}

import { mainOfficeOf } from '../../data/customer.js';
import { type PbxKind, pbxSortKey, pbxSortPrefix } from '../../data/keys.js';
import { invalidCursor, type Page } from '../../data/pagination.js';
import { type PbxItem, queryPbxItems } from '../../data/pbx-item.js';
import type { Extension, HuntGroup } from '../../schemas/pbx.js';
import type { ServiceContext } from '../../service-context.js';
import { type Caller, readVisibleCustomer } from '../access.js';
import { presentPbxItem } from './items.js';

/**
 * A customer's extensions or hunt groups with, for a branch, its main office's: two
 * sorted lists read side by side and merged, no copy per branch. The cursor is the
 * sort key of the last item shown.
 */
export async function listPbxItems(
  ctx: ServiceContext,
  caller: Caller,
  customerId: string,
  kind: PbxKind,
  query: { limit: number; cursor?: string },
): Promise<Page<Extension | HuntGroup>> {
  const after = query.cursor === undefined ? undefined : decodePbxCursor(query.cursor, kind);
  const pageOf = (ownerId: string) =>
    queryPbxItems(ctx.db, ownerId, kind, { limit: query.limit + 1, after });
  const [customer, own] = await Promise.all([
    readVisibleCustomer(ctx, caller, customerId),
    pageOf(customerId),
  ]);
  const mainOfficeId = mainOfficeOf(customer);
  const inherited = mainOfficeId ? await pageOf(mainOfficeId) : [];
  const sortKeyOf = (item: PbxItem) => pbxSortKey(kind, item.number);
  const merged = [...own, ...inherited].sort((a, b) => (sortKeyOf(a) < sortKeyOf(b) ? -1 : 1));
  const page = merged.slice(0, query.limit);
  const last = page.at(-1);
  return {
    items: page.map((item) => presentPbxItem(kind, item, customerId)),
    nextCursor:
      merged.length > query.limit && last
        ? Buffer.from(sortKeyOf(last)).toString('base64url')
        : null,
  };
}

function decodePbxCursor(cursor: string, kind: PbxKind): string {
  const sk = Buffer.from(cursor, 'base64url').toString('utf8');
  const pattern = new RegExp(`^${pbxSortPrefix(kind)}\\d#\\d{1,8}$`);
  if (!pattern.test(sk)) throw invalidCursor();
  return sk;
}

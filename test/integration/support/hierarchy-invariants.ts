import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { LocalRuntime } from '../../../infra/local/runtime.js';
import {
  type CustomerRecord,
  customerIndexAttributes,
  isMainOffice,
  mainOfficeOf,
  parseCustomerRecord,
} from '../../../lib/data/customer.js';

const indexAttributeNames = [
  'resellerPk',
  'allPk',
  'nameSk',
  'mainOfficeAllPk',
  'mainOfficeResellerPk',
  'mainOfficePk',
  'numberGroup',
];

/**
 * Scans the whole table and lists every broken invariant of the hierarchy of
 * offices: a branch points to an active main office of the same reseller; exactly
 * two levels; each main office's counters equal its real branches; every index
 * attribute matches the customer's state. An empty list means none is broken.
 */
export async function hierarchyViolations(runtime: LocalRuntime): Promise<string[]> {
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: runtime.dynamodbEndpoint }),
  );
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: runtime.tableName,
        ConsistentRead: true,
        FilterExpression: 'entityType = :customer',
        ExpressionAttributeValues: { ':customer': 'customer' },
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  db.destroy();

  const records = new Map<string, CustomerRecord>(
    items.map((item) => [String(item.id), parseCustomerRecord(item)]),
  );
  const violations: string[] = [];
  const branchesOf = new Map<string, CustomerRecord[]>();
  for (const [index, item] of items.entries()) {
    const record = parseCustomerRecord(item);
    const expected = customerIndexAttributes(record);
    for (const name of indexAttributeNames) {
      if (item[name] !== expected[name])
        violations.push(
          `${record.id}: index attribute ${name} is ${String(item[name])}, expected ${String(expected[name])} (item ${index})`,
        );
    }
    const hierarchy = record.additionalInfo.officeHierarchy;
    if (!hierarchy.enabled && (hierarchy.office !== null || hierarchy.mainOfficeId !== null)) {
      violations.push(`${record.id}: hierarchy disabled but office ${hierarchy.office}`);
    }
    if (hierarchy.office === 'main' && hierarchy.mainOfficeId !== null)
      violations.push(`${record.id}: a main office with a main office`);
    const mainOfficeId = mainOfficeOf(record);
    if (hierarchy.office === 'branch' && !mainOfficeId)
      violations.push(`${record.id}: a branch without a main office`);
    if (!mainOfficeId) continue;
    const mainOffice = records.get(mainOfficeId);
    if (!mainOffice) violations.push(`${record.id}: main office ${mainOfficeId} does not exist`);
    else {
      if (!isMainOffice(mainOffice))
        violations.push(`${record.id}: main office ${mainOfficeId} is not a main office`);
      if (mainOffice.status !== 'active' && record.status === 'active')
        violations.push(`${record.id}: active branch of terminated ${mainOfficeId}`);
      if (mainOffice.resellerId !== record.resellerId)
        violations.push(`${record.id}: reseller differs from ${mainOfficeId}`);
      if (record.linkedWithOtherCurrency !== (mainOffice.currency !== record.currency))
        violations.push(`${record.id}: wrong currency flag`);
    }
    branchesOf.set(mainOfficeId, [...(branchesOf.get(mainOfficeId) ?? []), record]);
  }
  for (const record of records.values()) {
    const branches = branchesOf.get(record.id) ?? [];
    const counted = record.additionalInfo.officeHierarchy.branchCount;
    if (counted !== branches.length)
      violations.push(`${record.id}: branchCount ${counted}, real ${branches.length}`);
    const otherCurrency = branches.filter((branch) => branch.currency !== record.currency).length;
    if (record.otherCurrencyBranchCount !== otherCurrency)
      violations.push(
        `${record.id}: otherCurrencyBranchCount ${record.otherCurrencyBranchCount}, real ${otherCurrency}`,
      );
    if (record.additionalInfo.officeHierarchy.invoicing === 'consolidated' && otherCurrency > 0)
      violations.push(`${record.id}: consolidated with other-currency branches`);
  }
  return violations;
}

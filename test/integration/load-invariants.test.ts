import { existsSync } from 'node:fs';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, sharedDb } from '../../lib/data/client.js';
import { customerDids } from '../../lib/data/customer-did.js';
import {
  chargeKey,
  consolidationPartKey,
  customerDidKey,
  customerKey,
  invoiceKey,
  pbxItemKey,
  phoneLineKey,
} from '../../lib/data/keys.js';
import { pbxItems } from '../../lib/data/pbx-item.js';
import { periodOf } from '../../lib/domain/billing/periods.js';
import { invariantViolations } from '../load/invariants.js';
import { runLoad } from '../load/run.js';
import {
  type CreatedCustomer,
  createConsolidatedGroup,
  createCustomer,
  createMainOffice,
  linkBranch,
} from './support/customers.js';
import {
  assign,
  createBatch,
  freshNumbers,
  importInto,
  inventoryEntry,
  provisionedCustomer,
  type TableReader,
  tableReader,
} from './support/dids.js';
import { injectFaults } from './support/faults.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * The load with invariants (README): a short run of the mixed, racing traffic of
 * test/load/run.ts answers no 5xx and leaves every invariant intact; and each kind of
 * violation, planted in the table, is reported by the checker, so its empty answer
 * means something.
 */
let api: TestApi;
let table: TableReader;

const deadLetterFile = `.local/test-dead-letter-load-${process.pid}.jsonl`;

beforeAll(async () => {
  api = await startTestApi({ deadLetterFile });
  table = tableReader(api);
});
afterAll(async () => {
  table?.close();
  await api?.stop();
});

const violations = () => invariantViolations(api.runtime, api.tokens);

describe('mixed traffic with races', () => {
  it('answers no 5xx and leaves every invariant intact', async () => {
    // Rounds until the races were met (conflicts answered, customers terminated under
    // the traffic): which race a short run meets depends on its draws and the machine's pace.
    let refusedAsTerminated = 0;
    let terminations = 0;
    for (let round = 0; round < 4 && (refusedAsTerminated === 0 || terminations === 0); round++) {
      const report = await runLoad({
        url: api.runtime.url,
        tokens: api.tokens,
        seconds: 8,
        concurrency: 8,
      });
      expect(report.serverErrors).toEqual([]);
      expect(report.breaches).toEqual([]);
      refusedAsTerminated += report.codes['409 customer_terminated'] ?? 0;
      terminations +=
        report.routes.find((route) => route.route === 'POST /customers/{id}/terminate')?.requests ??
        0;
    }
    expect(refusedAsTerminated).toBeGreaterThan(0);
    expect(terminations).toBeGreaterThan(0);
    await api.runtime.streamsIdle();
    expect(await violations()).toEqual([]);
    // No stream record was given up on (the poller writes the file only for one).
    expect(existsSync(deadLetterFile)).toBe(false);
  }, 120_000);
});

describe('the checker reports each kind of violation', () => {
  const period = periodOf(new Date(), 'UTC');
  let hq: CreatedCustomer;
  let branch: CreatedCustomer;
  let terminatedHq: CreatedCustomer;
  let holder: CreatedCustomer;
  let stranger: CreatedCustomer;
  let did: string;
  let billed: CreatedCustomer;
  let group: { hq: CreatedCustomer; branches: CreatedCustomer[] };
  let closedAccount: string;
  let closedCustomer: CreatedCustomer;

  const charge = async (customer: CreatedCustomer, amount: string) => {
    const answer = await api.request('POST', `/customers/${customer.id}/charges`, {
      token: api.tokens.switch,
      body: { amount, currency: 'EUR', kind: 'usage', description: 'Call to +4930123456' },
    });
    expect(answer.status).toBe(201);
  };
  const terminate = async (customer: CreatedCustomer) =>
    expect(
      (
        await api.request('POST', `/customers/${customer.id}/terminate`, {
          token: api.tokens.admin,
        })
      ).status,
    ).toBe(200);

  /** Runs the checker while the table holds what `plant` wrote, then undoes it. */
  async function reportedWhilePlanted(plant: () => Promise<() => Promise<void>>) {
    const undo = await plant();
    try {
      return await violations();
    } finally {
      await undo();
    }
  }

  let client: DynamoDBDocumentClient;
  const TableName = () => api.runtime.tableName;
  const update = async (
    key: Record<string, string>,
    UpdateExpression: string,
    values?: Record<string, unknown>,
  ) => {
    await client.send(
      new UpdateCommand({
        TableName: TableName(),
        Key: key,
        UpdateExpression,
        ExpressionAttributeValues: values,
      }),
    );
  };
  const put = async (Item: Record<string, unknown>) => {
    await client.send(new PutCommand({ TableName: TableName(), Item }));
  };
  const remove = async (Key: Record<string, string>) => {
    await client.send(new DeleteCommand({ TableName: TableName(), Key }));
  };

  beforeAll(async () => {
    client = createDocumentClient(api.runtime.dynamodbEndpoint);
    const admin = api.tokens.admin;
    hq = await createMainOffice(api, admin, { name: 'Planted HQ' });
    branch = await createCustomer(api, admin, { name: 'Planted branch' });
    expect((await linkBranch(api, admin, branch.id, hq.id)).status).toBe(200);
    const extension = await api.request('POST', `/customers/${hq.id}/extensions`, {
      token: admin,
      body: { number: '100', name: 'Reception' },
    });
    expect(extension.status).toBe(201);
    terminatedHq = await createMainOffice(api, admin, { name: 'Planted closed HQ' });
    await terminate(terminatedHq);

    const batch = await createBatch(api);
    [did = ''] = freshNumbers(1);
    await importInto(api, batch.id, [inventoryEntry(did)]);
    holder = await provisionedCustomer(api, batch.id);
    stranger = await provisionedCustomer(api, batch.id);
    expect((await assign(api, holder.id, [did])).status).toBe(201);

    billed = await createCustomer(api, admin);
    await charge(billed, '1.00');
    await charge(billed, '2.00');
    group = await createConsolidatedGroup(api, 'Planted consolidated HQ', ['Planted part']);
    await charge(group.branches[0] as CreatedCustomer, '1.25');
    await charge(group.branches[0] as CreatedCustomer, '0.75');

    closedCustomer = await createCustomer(api, admin);
    [closedAccount = ''] = freshNumbers(1, '+4940');
    const account = await api.request('POST', `/customers/${closedCustomer.id}/accounts`, {
      token: admin,
      body: { number: closedAccount },
    });
    expect(account.status).toBe(201);
    await terminate(closedCustomer);
    await api.runtime.streamsIdle();
    expect(await violations()).toEqual([]);
  });

  afterAll(async () => {
    // Every plant undone, the table is whole again: each report above was the plant's.
    expect(await violations()).toEqual([]);
    client.destroy();
  });

  it('an active branch under a terminated HQ', async () => {
    const pointer = 'additionalInfo.officeHierarchy.mainOfficeId';
    const pointTo = (id: string) => async () =>
      update(customerKey(branch.id), `SET ${pointer} = :id`, { ':id': id });
    const found = await reportedWhilePlanted(async () => {
      await pointTo(terminatedHq.id)();
      return pointTo(hq.id);
    });
    expect(found).toContain(`${branch.id}: active branch of terminated ${terminatedHq.id}`);
  });

  it('one number used twice in a group of offices', async () => {
    const found = await reportedWhilePlanted(async () => {
      const item = { number: '100', name: 'Copy', ownerId: branch.id, accountNumber: null };
      await put(pbxItems.extension.toItem(item));
      return () => remove(pbxItemKey(branch.id, 'extension', '100'));
    });
    expect(found).toContain(
      `group of ${hq.id}: number 100 used 2 times (extension of ${hq.id}, extension of ${branch.id})`,
    );
  });

  it('one DID held by two customers', async () => {
    const [holding] = await table.customerDids(holder.id);
    const found = await reportedWhilePlanted(async () => {
      await put(
        customerDids.toItem({ ...customerDids.parse(holding ?? {}), customerId: stranger.id }),
      );
      return () => remove(customerDidKey(stranger.id, did));
    });
    expect(found).toContain(`DID ${did}: held by 2 customers (${holder.id}, ${stranger.id})`);
  });

  it('a DID without its activation charge, and one with two', async () => {
    const [activation] = await table.charges(holder.id);
    if (!activation) throw new Error('the assignment wrote no activation charge');
    const key = { pk: String(activation.pk), sk: String(activation.sk) };
    const assignedAt = String(activation.occurredAt);
    const withoutCharge = await reportedWhilePlanted(async () => {
      await remove(key);
      return () => put(activation);
    });
    expect(withoutCharge).toContain(
      `DID ${did} of ${holder.id}: 0 activation charges for its assignment at ${assignedAt}, expected 1`,
    );
    const twice = await reportedWhilePlanted(async () => {
      // Already marked counted, so the invoice aggregation leaves the copy alone.
      await put({ ...activation, ...chargeKey(holder.id, 'PLANTED'), id: 'PLANTED' });
      return () => remove(chargeKey(holder.id, 'PLANTED'));
    });
    expect(twice).toContain(
      `DID ${did} of ${holder.id}: 2 activation charges for its assignment at ${assignedAt}, expected 1`,
    );
  });

  it('an invoice total off by 0.000001', async () => {
    const adjust = (micros: number) => () =>
      update(invoiceKey(billed.id, period), 'ADD totalMicros :micros', { ':micros': micros });
    const found = await reportedWhilePlanted(async () => {
      await adjust(1)();
      return adjust(-1);
    });
    expect(found).toContain(
      `invoice ${billed.id} ${period}: total 3.000001, its charges sum to 3.00`,
    );
  });

  it('a charge never counted', async () => {
    const [first] = await table.charges(billed.id);
    const key = { pk: String(first?.pk), sk: String(first?.sk) };
    // A charge without its marker is one the aggregation counts (that is how one is
    // re-driven): its transactions for this customer wait until the plant is undone,
    // and then find the marker back and count nothing.
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const removeFaults = injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'TransactWriteItemsCommand' && JSON.stringify(input).includes(billed.id),
      before: () => gate,
    });
    let found: string[];
    try {
      found = await reportedWhilePlanted(async () => {
        await update(key, 'REMOVE countedIn');
        return () => update(key, 'SET countedIn = :period', { ':period': period });
      });
    } finally {
      release();
      removeFaults();
    }
    await api.runtime.streamsIdle();
    expect(found).toContain(
      `charge ${String(first?.id)} of ${billed.id}: not counted in any invoice`,
    );
  });

  it('a consolidation part that does not sum to its branch’s charges', async () => {
    const part = group.branches[0] as CreatedCustomer;
    const adjust = (micros: number) => () =>
      update(consolidationPartKey(group.hq.id, period, part.id), 'ADD totalMicros :micros', {
        ':micros': micros,
      });
    const found = await reportedWhilePlanted(async () => {
      await adjust(1)();
      return adjust(-1);
    });
    expect(found).toContain(
      `branch ${part.id} ${period}: its parts hold all its charges but total 2.000001, its invoice 2.00`,
    );
  });

  it('a terminated customer’s line left registrable', async () => {
    const mark = (status: string) => () =>
      update(phoneLineKey(closedAccount), 'SET customerStatus = :status', { ':status': status });
    const found = await reportedWhilePlanted(async () => {
      await mark('active')();
      return mark('terminated');
    });
    expect(found).toContain(
      `line ${closedAccount}: marked active, its customer ${closedCustomer.id} is terminated`,
    );
    const refusal = `line ${closedAccount} of terminated ${closedCustomer.id}: authorize answered 200`;
    expect(found.find((violation) => violation.startsWith(refusal))).toContain('"allowed":true');
  });
});

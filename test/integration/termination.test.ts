import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as terminationHandler } from '../../functions/streams/termination-cascade.js';
import { sharedDb } from '../../lib/data/client.js';
import { customerItem } from '../../lib/data/customer.js';
import { customerKey, terminationCascadeKey } from '../../lib/data/keys.js';
import { customerRecord, seedHierarchy } from '../fixtures/seed.js';
import { createCustomer, createMainOffice, linkBranch, patchPanel } from './support/customers.js';
import { injectFaults } from './support/faults.js';
import { hierarchyViolations } from './support/hierarchy-invariants.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }));
});
afterAll(async () => {
  db?.destroy();
  await api?.stop();
});

const terminate = (id: string, token = admin, headers: Record<string, string> = {}) =>
  api.request('POST', `/customers/${id}/terminate`, { token, headers });

async function readItems(ids: readonly string[]): Promise<Map<string, Record<string, any>>> {
  const items = new Map<string, Record<string, any>>();
  for (let start = 0; start < ids.length; start += 100) {
    const { Responses } = await db.send(
      new BatchGetCommand({
        RequestItems: {
          [api.runtime.tableName]: {
            Keys: ids.slice(start, start + 100).map(customerKey),
            ConsistentRead: true,
          },
        },
      }),
    );
    for (const item of Responses?.[api.runtime.tableName] ?? []) items.set(String(item.id), item);
  }
  return items;
}

/** Every branch terminated by its HQ exactly once: one version more than when it was seeded. */
async function expectCascaded(
  mainOfficeId: string,
  branchIds: readonly string[],
  seededVersion = 1,
) {
  const items = await readItems(branchIds);
  const wrong = branchIds.filter((id) => {
    const item = items.get(id);
    return (
      item?.status !== 'terminated' ||
      item.version !== seededVersion + 1 ||
      item.terminatedBy?.reason !== 'main_office_terminated' ||
      item.terminatedBy?.mainOfficeId !== mainOfficeId
    );
  });
  expect(wrong).toEqual([]);
}

describe('POST /customers/{id}/terminate', () => {
  it('terminates in one write and answers the same customer when called again', async () => {
    const { id } = await createCustomer(api, admin);
    const first = await terminate(id);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id,
      status: 'terminated',
      terminatedBy: { reason: 'requested' },
    });
    expect(first.body.terminatedAt).toEqual(expect.any(String));
    expect(first.headers.get('etag')).toBe('"2"');
    const again = await terminate(id);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('etag')).toBe('"2"');
  });

  it('is for managers in scope only, and honours If-Match', async () => {
    const reseller = await api.tokens.reseller('terminate-r1');
    const { id } = await createCustomer(api, reseller);
    expect((await terminate(id, await api.tokens.customer(id))).body.code).toBe('forbidden');
    expect((await terminate(id, api.tokens.switch)).status).toBe(403);
    expect((await terminate(id, await api.tokens.reseller('terminate-r2'))).body.code).toBe(
      'not_found',
    );
    expect((await terminate(id, reseller, { 'if-match': '"7"' })).body.code).toBe(
      'precondition_failed',
    );
    expect((await api.request('GET', `/customers/${id}`, { token: reseller })).body.status).toBe(
      'active',
    );
    expect((await terminate(id, reseller, { 'if-match': '"1"' })).status).toBe(200);
  });

  it('leaves a terminated customer readable but unchangeable, and out of the dropdown', async () => {
    const hq = await createMainOffice(api, admin, { name: 'Gone HQ' });
    await terminate(hq.id);
    expect((await api.request('GET', `/customers/${hq.id}`, { token: admin })).status).toBe(200);
    expect(
      (await api.request('GET', `/customers/${hq.id}/additional-info`, { token: admin })).status,
    ).toBe(200);
    const rename = await api.request('PATCH', `/customers/${hq.id}`, {
      token: admin,
      body: { name: 'x' },
    });
    expect(rename.body.code).toBe('customer_terminated');
    expect((await patchPanel(api, admin, hq.id, { aliasAuthDefault: 'enabled' })).body.code).toBe(
      'customer_terminated',
    );
    const dropdown = await api.request('GET', '/customers?office=main&q=gone', { token: admin });
    expect(dropdown.body.items).toEqual([]);
  });
});

describe('the termination cascade (§5)', () => {
  it('terminates every branch of a 300-branch HQ exactly once, from the stream', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 300);
    const bystander = await seedHierarchy(db, api.runtime.tableName, 3);
    expect((await terminate(mainOfficeId)).status).toBe(200);
    await api.runtime.streamsIdle();
    await expectCascaded(mainOfficeId, branchIds);
    const untouched = await readItems(bystander.branchIds);
    expect([...untouched.values()].map((item) => item.status)).toEqual([
      'active',
      'active',
      'active',
    ]);
    const job = await db.send(
      new GetCommand({
        TableName: api.runtime.tableName,
        Key: terminationCascadeKey(mainOfficeId),
        ConsistentRead: true,
      }),
    );
    expect(job.Item).toMatchObject({ status: 'done', found: 300, terminatedCount: 300 });
    const list = await api.request('GET', `/customers/${mainOfficeId}/branches?limit=100`, {
      token: admin,
    });
    expect(new Set(list.body.items.map((branch: { status: string }) => branch.status))).toEqual(
      new Set(['terminated']),
    );
    const branchChange = await patchPanel(api, admin, branchIds[0] ?? '', {
      aliasAuthDefault: 'enabled',
    });
    expect(branchChange.body.code).toBe('customer_terminated');
  });

  it('keeps a branch terminated by request as it was, and counts it', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 4);
    const [early, ...rest] = branchIds as [string, ...string[]];
    const requested = await terminate(early);
    await terminate(mainOfficeId);
    await api.runtime.streamsIdle();
    const items = await readItems([early]);
    expect(items.get(early)).toMatchObject({
      terminatedBy: { reason: 'requested' },
      terminatedAt: requested.body.terminatedAt,
    });
    await expectCascaded(mainOfficeId, rest);
  });

  /** Runs `change` once the cascade has read the branch index, just before it writes `branchId`. */
  const beforeCascadeWrites = (branchId: string, change: () => Promise<unknown>) =>
    injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'UpdateItemCommand' &&
        String(input.Key?.pk?.S ?? input.Key?.pk) === customerKey(branchId).pk,
      before: change,
    });

  it('keeps a branch terminated by request after the cascade read the index as it was', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 4);
    const [raced, ...rest] = branchIds as [string, ...string[]];
    let requested: Awaited<ReturnType<typeof terminate>> | undefined;
    const remove = beforeCascadeWrites(raced, async () => {
      requested = await terminate(raced);
    });
    try {
      expect((await terminate(mainOfficeId)).status).toBe(200);
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect(requested?.status).toBe(200);
    expect((await readItems([raced])).get(raced)).toMatchObject({
      version: 2,
      terminatedBy: { reason: 'requested' },
      terminatedAt: requested?.body.terminatedAt,
    });
    await expectCascaded(mainOfficeId, rest);
  });

  it('leaves a branch the index still lists after it was unlinked active', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 4);
    const [unlinked, ...rest] = branchIds as [string, ...string[]];
    const table = api.runtime.tableName;
    // What an unlink committed just before the termination leaves, its index entry lagging behind.
    const remove = beforeCascadeWrites(unlinked, async () => {
      const { Item: hq } = await db.send(
        new GetCommand({ TableName: table, Key: customerKey(mainOfficeId), ConsistentRead: true }),
      );
      if (!hq) throw new Error('the main office is gone');
      hq.additionalInfo.officeHierarchy.branchCount -= 1;
      await db.send(new PutCommand({ TableName: table, Item: hq }));
      const standalone = customerRecord(unlinked, 'Unlinked', {}, { version: 2 });
      await db.send(new PutCommand({ TableName: table, Item: customerItem(standalone) }));
    });
    try {
      expect((await terminate(mainOfficeId)).status).toBe(200);
      await api.runtime.streamsIdle();
    } finally {
      remove();
    }
    expect((await readItems([unlinked])).get(unlinked)).toMatchObject({
      status: 'active',
      version: 2,
    });
    await expectCascaded(mainOfficeId, rest);
  });

  it('finishes exactly once under throttled writes and crashes mid-batch', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 200);
    const branchSet = new Set<string>(branchIds.map((id) => customerKey(id).pk));
    const touchesBranch = (command: string, input: Record<string, any>) =>
      command === 'UpdateItemCommand' && branchSet.has(String(input.Key?.pk?.S ?? input.Key?.pk));
    const removeThrottle = injectFaults(sharedDb().client, {
      applies: touchesBranch,
      throttleRate: 0.3,
    });
    const removeCrash = injectFaults(sharedDb().client, {
      applies: touchesBranch,
      crashAt: [40, 41, 120],
    });
    try {
      expect((await terminate(mainOfficeId)).status).toBe(200);
      await api.runtime.streamsIdle();
    } finally {
      removeCrash();
      removeThrottle();
    }
    await expectCascaded(mainOfficeId, branchIds);
  });

  it('changes nothing when a stream batch is delivered again', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 30);
    await terminate(mainOfficeId);
    await api.runtime.streamsIdle();
    const before = await readItems([mainOfficeId, ...branchIds]);
    const job = await db.send(
      new GetCommand({
        TableName: api.runtime.tableName,
        Key: terminationCascadeKey(mainOfficeId),
        ConsistentRead: true,
      }),
    );
    const hq = before.get(mainOfficeId) ?? {};
    const replay = (
      newImage: Record<string, unknown>,
      oldImage: Record<string, unknown>,
    ): DynamoDBRecord => ({
      eventName: 'MODIFY',
      dynamodb: {
        NewImage: marshall(newImage, { removeUndefinedValues: true }) as never,
        OldImage: marshall(oldImage, { removeUndefinedValues: true }) as never,
      },
    });
    const batch = {
      Records: [
        replay(hq, { ...hq, status: 'active' }),
        replay({ ...job.Item, status: 'running', cursor: 'START', pass: 1, found: 0 }, {}),
        replay({ ...job.Item, status: 'running' }, {}),
      ],
    };
    for (let delivery = 0; delivery < 2; delivery += 1) {
      const response = await terminationHandler(batch, {} as Context);
      expect(response.batchItemFailures).toEqual([]);
    }
    const after = await readItems([mainOfficeId, ...branchIds]);
    expect([...after.values()].map((item) => item.version)).toEqual(
      [...before.values()].map((item) => item.version),
    );
  });

  it('keeps the branches of a terminated HQ from leaving it before the cascade reaches them', async () => {
    const { mainOfficeId, branchIds } = await seedHierarchy(db, api.runtime.tableName, 300);
    const last = branchIds.at(-1) ?? '';
    expect((await terminate(mainOfficeId)).status).toBe(200);
    const leave = await patchPanel(api, admin, last, { officeHierarchy: { enabled: false } });
    expect(leave).toMatchObject({ status: 409, body: { code: 'customer_terminated' } });
    await api.runtime.streamsIdle();
    await expectCascaded(mainOfficeId, branchIds);
  });

  it('never leaves a branch that linked during the termination active under the terminated HQ', async () => {
    const hq = await createMainOffice(api, admin);
    const candidates = await Promise.all(
      Array.from({ length: 10 }, () => createCustomer(api, admin)),
    );
    const answers = await Promise.all([
      ...candidates.slice(0, 5).map((candidate) => linkBranch(api, admin, candidate.id, hq.id)),
      terminate(hq.id),
      ...candidates.slice(5).map((candidate) => linkBranch(api, admin, candidate.id, hq.id)),
    ]);
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    await api.runtime.streamsIdle();
    expect(await hierarchyViolations(api.runtime)).toEqual([]);
    const linked = candidates.filter(
      (_, index) => answers[index < 5 ? index : index + 1]?.status === 200,
    );
    const items = await readItems(linked.map((candidate) => candidate.id));
    expect([...items.values()].every((item) => item.status === 'terminated')).toBe(true);
  });
});

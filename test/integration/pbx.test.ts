import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDb } from '../../lib/data/client.js';
import { pbxItemKey, pbxRegistryKey } from '../../lib/data/keys.js';
import { createCustomer, createMainOffice, linkBranch, patchPanel } from './support/customers.js';
import { injectFaults } from './support/faults.js';
import { startTestApi, type TestApi } from './support/local-api.js';

let api: TestApi;
let admin: string;

beforeAll(async () => {
  api = await startTestApi();
  admin = api.tokens.admin;
});
afterAll(async () => {
  client?.destroy();
  await api?.stop();
});

let client: DynamoDBDocumentClient | undefined;
const db = () => {
  client ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: api.runtime.dynamodbEndpoint }),
  );
  return client;
};

const addExtension = (customerId: string, number: string, token = admin) =>
  api.request('POST', `/customers/${customerId}/extensions`, {
    token,
    body: { number, name: `Ext ${number}` },
  });
const addHuntGroup = (customerId: string, number: string, members: string[], token = admin) =>
  api.request('POST', `/customers/${customerId}/hunt-groups`, {
    token,
    body: { number, name: `Group ${number}`, strategy: 'sequential', members },
  });
const list = async (customerId: string, kind = 'extensions', token = admin) => {
  const items: { number: string; inheritedFrom: string | null }[] = [];
  let cursor: string | null = null;
  do {
    const page: any = await api.request(
      'GET',
      `/customers/${customerId}/${kind}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      { token },
    );
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
};

/** An HQ with two branches, as most tests need. */
async function group() {
  const hq = await createMainOffice(api, admin);
  const branches = [await createCustomer(api, admin), await createCustomer(api, admin)];
  for (const branch of branches)
    expect((await linkBranch(api, admin, branch.id, hq.id)).status).toBe(200);
  return { hq, branches: branches as [typeof hq, typeof hq] };
}

describe('extensions and hunt groups shared through the hierarchy (§6)', () => {
  it('shows a branch its own items and its HQ’s, marked inheritedFrom, in numeric order', async () => {
    const { hq, branches } = await group();
    for (const number of ['10', '9']) expect((await addExtension(hq.id, number)).status).toBe(201);
    expect((await addExtension(branches[0].id, '100')).status).toBe(201);
    expect(await list(branches[0].id)).toEqual([
      { number: '9', name: 'Ext 9', accountNumber: null, inheritedFrom: hq.id },
      { number: '10', name: 'Ext 10', accountNumber: null, inheritedFrom: hq.id },
      { number: '100', name: 'Ext 100', accountNumber: null, inheritedFrom: null },
    ]);
    expect((await list(hq.id)).map((item) => item.number)).toEqual(['9', '10']);
    expect((await list(branches[1].id)).map((item) => item.inheritedFrom)).toEqual([hq.id, hq.id]);
  });

  it('keeps numbers unique across the group, extensions and hunt groups alike', async () => {
    const { hq, branches } = await group();
    await addExtension(hq.id, '200');
    await addExtension(branches[0].id, '201');
    for (const [customer, number] of [
      [branches[1].id, '200'],
      [hq.id, '201'],
      [branches[0].id, '200'],
    ] as const) {
      expect(await addExtension(customer, number)).toMatchObject({
        status: 409,
        body: { code: 'number_conflict' },
      });
    }
    expect((await addHuntGroup(branches[1].id, '201', ['200'])).body.code).toBe('number_conflict');
    // Outside the group the same number is free.
    expect((await addExtension((await createCustomer(api, admin)).id, '200')).status).toBe(201);
  });

  it('gives exactly one of 20 racing requests a number across an HQ and its branches', async () => {
    const { hq, branches } = await group();
    const owners = [hq.id, ...branches.map((branch) => branch.id)];
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        addExtension(owners[index % owners.length] ?? hq.id, '777'),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    for (const answer of answers.filter((answer) => answer.status !== 201)) {
      expect(answer).toMatchObject({ status: 409, body: { code: 'number_conflict' } });
    }
  });

  it('refuses a number a link brought into a group whose HQ had none of its own', async () => {
    const hq = await createMainOffice(api, admin);
    const branch = await createCustomer(api, admin);
    expect((await addExtension(branch.id, '780')).status).toBe(201);
    // The link writes the HQ's registry first: it holds the branch's numbers only.
    expect((await linkBranch(api, admin, branch.id, hq.id)).status).toBe(200);
    expect(await addExtension(hq.id, '780')).toMatchObject({
      status: 409,
      body: { code: 'number_conflict', errors: [{ path: 'numbers.780' }] },
    });
  });

  /** Runs `change` once the request has read, just before its transaction touches `key`. */
  const beforeTransactionOn = (key: { pk: string; sk: string }, change: () => Promise<unknown>) =>
    injectFaults(sharedDb().client, {
      applies: (command, input) =>
        command === 'TransactWriteItemsCommand' &&
        (input.TransactItems ?? []).some((transactItem: Record<string, any>) => {
          const operation = Object.values(transactItem)[0] as Record<string, any>;
          const target = operation.Key ?? operation.Item;
          return target?.pk?.S === key.pk && target?.sk?.S === key.sk;
        }),
      before: change,
    });

  it('refuses to delete an extension a hunt group took after the delete read it', async () => {
    const customer = await createCustomer(api, admin);
    await addExtension(customer.id, '801');
    let created: Awaited<ReturnType<typeof addHuntGroup>> | undefined;
    const remove = beforeTransactionOn(pbxItemKey(customer.id, 'extension', '801'), async () => {
      created = await addHuntGroup(customer.id, '802', ['801']);
    });
    try {
      const deleted = await api.request('DELETE', `/customers/${customer.id}/extensions/801`, {
        token: admin,
      });
      expect(created?.status).toBe(201);
      expect(deleted).toMatchObject({ status: 409, body: { code: 'extension_in_use' } });
    } finally {
      remove();
    }
    expect((await list(customer.id)).map((item) => item.number)).toEqual(['801']);
  });

  it('refuses a hunt group whose member was deleted after it looked the members up', async () => {
    const customer = await createCustomer(api, admin);
    await addExtension(customer.id, '811');
    let deleted: Awaited<ReturnType<typeof api.request>> | undefined;
    const remove = beforeTransactionOn(pbxItemKey(customer.id, 'huntGroup', '812'), async () => {
      deleted = await api.request('DELETE', `/customers/${customer.id}/extensions/811`, {
        token: admin,
      });
    });
    try {
      const created = await addHuntGroup(customer.id, '812', ['811']);
      expect(deleted?.status).toBe(204);
      expect(created).toMatchObject({ status: 422, body: { code: 'unknown_member' } });
    } finally {
      remove();
    }
    expect(await list(customer.id)).toEqual([]);
    expect(await list(customer.id, 'hunt-groups')).toEqual([]);
  });

  it('plans a creation again for the group its customer joined after the creation read it', async () => {
    const hq = await createMainOffice(api, admin);
    await addExtension(hq.id, '821');
    const candidate = await createCustomer(api, admin);
    const remove = beforeTransactionOn(pbxItemKey(candidate.id, 'extension', '821'), () =>
      linkBranch(api, admin, candidate.id, hq.id),
    );
    try {
      expect(await addExtension(candidate.id, '821')).toMatchObject({
        status: 409,
        body: { code: 'number_conflict' },
      });
    } finally {
      remove();
    }
    expect((await list(candidate.id)).map((item) => item.inheritedFrom)).toEqual([hq.id]);
  });

  it('deletes only own items: inherited is 409, unknown 404, an extension in a hunt group 409', async () => {
    const { hq, branches } = await group();
    await addExtension(hq.id, '300');
    await addExtension(branches[0].id, '301');
    expect((await addHuntGroup(branches[0].id, '310', ['300', '301'])).status).toBe(201);
    const remove = (customerId: string, kind: string, number: string) =>
      api.request('DELETE', `/customers/${customerId}/${kind}/${number}`, { token: admin });
    expect((await remove(branches[0].id, 'extensions', '300')).body.code).toBe('inherited_item');
    expect((await remove(branches[0].id, 'extensions', '399')).status).toBe(404);
    expect((await remove(hq.id, 'extensions', '300')).body.code).toBe('extension_in_use');
    expect((await remove(branches[0].id, 'extensions', '301')).body.code).toBe('extension_in_use');
    expect((await remove(branches[0].id, 'hunt-groups', '310')).status).toBe(204);
    expect((await remove(hq.id, 'extensions', '300')).status).toBe(204);
    expect((await remove(branches[0].id, 'extensions', '301')).status).toBe(204);
    // A deleted number is free again in the group.
    expect((await addExtension(branches[1].id, '300')).status).toBe(201);
  });

  it('takes hunt-group members only among the extensions the customer can see', async () => {
    const { hq, branches } = await group();
    await addExtension(hq.id, '400');
    await addExtension(branches[1].id, '401');
    const answer = await addHuntGroup(branches[0].id, '410', ['400', '401', '402']);
    expect(answer).toMatchObject({ status: 422, body: { code: 'unknown_member' } });
    expect(answer.body.errors.map((error: { path: string }) => error.path)).toEqual([
      'body.members.401',
      'body.members.402',
    ]);
    const created = await addHuntGroup(branches[0].id, '410', ['400']);
    expect(created.body).toEqual({
      number: '410',
      name: 'Group 410',
      strategy: 'sequential',
      members: ['400'],
      inheritedFrom: null,
    });
    expect((await list(branches[0].id, 'hunt-groups')).map((item) => item.number)).toEqual(['410']);
  });

  it('refuses to link a branch whose numbers clash with the group, listing each, and links nothing', async () => {
    const hq = await createMainOffice(api, admin);
    await addExtension(hq.id, '500');
    await addExtension(hq.id, '501');
    const candidate = await createCustomer(api, admin);
    for (const number of ['501', '502', '500']) await addExtension(candidate.id, number);
    const before = await api.request('GET', `/customers/${candidate.id}/additional-info`, {
      token: admin,
    });
    const answer = await linkBranch(api, admin, candidate.id, hq.id);
    expect(answer).toMatchObject({ status: 409, body: { code: 'number_conflict' } });
    expect(answer.body.errors.map((error: { path: string }) => error.path)).toEqual([
      'numbers.500',
      'numbers.501',
    ]);
    expect(
      (await api.request('GET', `/customers/${candidate.id}/additional-info`, { token: admin }))
        .body,
    ).toEqual(before.body);
    expect((await list(candidate.id)).map((item) => item.inheritedFrom)).toEqual([
      null,
      null,
      null,
    ]);
  });

  it('removes inherited items from a branch’s view at once on unlink, freeing nothing the HQ owns', async () => {
    const { hq, branches } = await group();
    await addExtension(hq.id, '600');
    await addExtension(branches[0].id, '601');
    await patchPanel(api, admin, branches[0].id, { officeHierarchy: { enabled: false } });
    expect((await list(branches[0].id)).map((item) => item.number)).toEqual(['601']);
    expect((await addExtension(branches[1].id, '600')).body.code).toBe('number_conflict');
    // The unlinked customer's own numbers left the group: the group may use 601 now, and it may use 600.
    expect((await addExtension(branches[1].id, '601')).status).toBe(201);
    expect((await addExtension(branches[0].id, '600')).status).toBe(201);
  });

  it('keeps a branch whose hunt groups ring its HQ’s extensions from leaving, until they no longer do', async () => {
    const { hq, branches } = await group();
    await addExtension(hq.id, '650');
    await addExtension(branches[0].id, '651');
    expect((await addHuntGroup(branches[0].id, '660', ['650', '651'])).status).toBe(201);
    const leave = () =>
      patchPanel(api, admin, branches[0].id, { officeHierarchy: { enabled: false } });
    expect(await leave()).toMatchObject({ status: 409, body: { code: 'extension_in_use' } });
    expect(
      (await api.request('GET', `/customers/${branches[0].id}/additional-info`, { token: admin }))
        .body.officeHierarchy.mainOfficeId,
    ).toBe(hq.id);
    await api.request('DELETE', `/customers/${branches[0].id}/hunt-groups/660`, { token: admin });
    expect((await leave()).status).toBe(200);
    expect(
      (await api.request('DELETE', `/customers/${hq.id}/extensions/650`, { token: admin })).status,
    ).toBe(204);
  });

  it('lets the customer role read its lists but not change them, and hides other tenants', async () => {
    const reseller = await api.tokens.reseller('pbx-r1');
    const { id } = await createCustomer(api, reseller);
    await addExtension(id, '700', reseller);
    const self = await api.tokens.customer(id);
    expect(await list(id, 'extensions', self)).toHaveLength(1);
    expect((await addExtension(id, '701', self)).status).toBe(403);
    const other = await api.tokens.reseller('pbx-r2');
    expect((await api.request('GET', `/customers/${id}/extensions`, { token: other })).status).toBe(
      404,
    );
    await api.request('POST', `/customers/${id}/terminate`, { token: reseller });
    expect((await addExtension(id, '702', reseller)).body.code).toBe('customer_terminated');
  });

  it('never leaves a duplicate number in a group under random concurrent create/delete/link/unlink (property)', async () => {
    const operation = fc.oneof(
      fc.record({
        kind: fc.constant('create' as const),
        who: fc.nat(3),
        number: fc.constantFrom('1', '2', '3'),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        who: fc.nat(3),
        number: fc.constantFrom('1', '2', '3'),
      }),
      fc.record({ kind: fc.constant('link' as const), who: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('unlink' as const), who: fc.integer({ min: 1, max: 3 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 4, maxLength: 12 }), async (operations) => {
        const hq = await createMainOffice(api, admin);
        const others = await Promise.all([1, 2, 3].map(() => createCustomer(api, admin)));
        const everyone = [hq, ...others];
        const idOf = (who: number) => everyone[who]?.id ?? hq.id;
        const answers = await Promise.all(
          operations.map((op) => {
            switch (op.kind) {
              case 'create':
                return addExtension(idOf(op.who), op.number);
              case 'delete':
                return api.request('DELETE', `/customers/${idOf(op.who)}/extensions/${op.number}`, {
                  token: admin,
                });
              case 'link':
                return linkBranch(api, admin, idOf(op.who), hq.id);
              default:
                return patchPanel(api, admin, idOf(op.who), {
                  officeHierarchy: { enabled: false },
                });
            }
          }),
        );
        for (const answer of answers) expect(answer.status).toBeLessThan(500);
        const members = [hq.id];
        for (const other of others) {
          const panel = await api.request('GET', `/customers/${other.id}/additional-info`, {
            token: admin,
          });
          if (panel.body.officeHierarchy.mainOfficeId === hq.id) members.push(other.id);
        }
        const numbers: string[] = [];
        for (const member of members) {
          numbers.push(
            ...(await list(member))
              .filter((item) => item.inheritedFrom === null)
              .map((item) => item.number),
          );
        }
        expect(numbers.length).toBe(new Set(numbers).size);
        // The group's registry reserves exactly the numbers its members own.
        const { Item } = await db().send(
          new GetCommand({
            TableName: api.runtime.tableName,
            Key: pbxRegistryKey(hq.id),
            ConsistentRead: true,
          }),
        );
        expect([...((Item?.reserved as Set<string> | undefined) ?? [])].sort()).toEqual(
          [...numbers].sort(),
        );
      }),
      { numRuns: 10 },
    );
  });
});

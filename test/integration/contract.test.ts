import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer } from './support/customers.js';
import { startTestApi, type TestApi } from './support/local-api.js';

/**
 * The conventions a new user meets first, through HTTP: ids are opaque, the OpenAPI
 * document names its servers and licence, and every route it lists answers its own
 * declared codes (the error-code guard fails any file in which a route answers another).
 */
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api?.stop());

describe('ids are opaque', () => {
  it('answers 404 for an id of any shape that names nothing, on the customer reads (every route: test/unit/functions/routes-contract.test.ts)', async () => {
    const admin = api.tokens.admin;
    for (const id of [
      'not-a-ulid',
      'x',
      '01JDQ7ZK3M8V4T2W6X9Y0A1B2C',
      'a.b~c_d-e',
      'Z'.repeat(255),
    ]) {
      for (const path of [
        `/customers/${id}`,
        `/customers/${id}/additional-info`,
        `/customers/${id}/branches`,
        `/customers/${id}/extensions`,
        `/customers/${id}/accounts`,
      ]) {
        const answer = await api.request('GET', path, { token: admin });
        expect(answer.status, path).toBe(404);
        expect(answer.body.code, path).toBe('not_found');
      }
    }
  });

  it('answers 400 only for a value no id could ever be, and writes nothing', async () => {
    const admin = api.tokens.admin;
    for (const id of ['Z'.repeat(256), 'a%20b', 'a%2Fb', '%C3%A9']) {
      const answer = await api.request('PATCH', `/customers/${id}`, {
        token: admin,
        body: { name: 'Renamed' },
      });
      expect(answer.status, id).toBe(400);
      expect(answer.body).toMatchObject({
        code: 'validation_failed',
        errors: [expect.objectContaining({ path: 'path.id' })],
      });
    }
  });

  it('treats an id of another shape in a body as the rule’s own 404', async () => {
    const admin = api.tokens.admin;
    const branch = await createCustomer(api, admin);
    const answer = await api.request('PATCH', `/customers/${branch.id}/additional-info`, {
      token: admin,
      body: { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: 'not-a-ulid' } },
    });
    expect(answer).toMatchObject({ status: 404, body: { code: 'main_office_not_found' } });
    const panel = await api.request('GET', `/customers/${branch.id}/additional-info`, {
      token: admin,
    });
    expect(panel.body.officeHierarchy).toMatchObject({ enabled: false, mainOfficeId: null });
  });
});

describe('the served OpenAPI document', () => {
  it('names the local server, a deployed stage and a licence', async () => {
    const answer = await api.request('GET', '/openapi.json');
    expect(answer.status).toBe(200);
    expect(answer.body.servers.map((server: { url: string }) => server.url)).toEqual([
      'http://127.0.0.1:3000',
      'https://{apiId}.execute-api.{region}.amazonaws.com',
    ]);
    expect(answer.body.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
  });

  it('lists for each route the codes the catalog gives, e.g. extension_in_use on a panel change', async () => {
    const answer = await api.request('GET', '/openapi.json');
    const patchPanel = answer.body.paths['/customers/{id}/additional-info'].patch.responses;
    expect(patchPanel['409'].description).toContain('extension_in_use');
    expect(patchPanel['404'].description).toContain('main_office_not_found');
  });
});

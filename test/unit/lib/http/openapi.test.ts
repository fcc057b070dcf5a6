import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../../../lib/errors.js';
import { openApiDocument } from '../../../../lib/http/openapi.js';
import { declaredErrorCodes } from '../../../../lib/http/route.js';
import { routeList, routes } from '../../../../lib/http/routes.js';

type Operation = {
  operationId: string;
  responses: Record<string, { description: string }>;
  security?: unknown[];
};

describe('the OpenAPI document', () => {
  const document = openApiDocument() as unknown as {
    openapi: string;
    info: { license?: { name: string; identifier?: string } };
    servers?: { url: string }[];
    paths: Record<string, Record<string, Operation>>;
  };
  const operationOf = (route: (typeof routeList)[number]) =>
    document.paths[route.path]?.[route.method.toLowerCase()];

  it('describes every route of the routes table, by method and path', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const route of routeList) {
      expect(operationOf(route)?.operationId, `${route.method} ${route.path}`).toBe(
        route.operationId,
      );
    }
    const operations = Object.values(document.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(routeList.length);
  });

  it('names the local server, a deployed stage and a licence', () => {
    expect(document.servers?.map((server) => server.url)).toEqual([
      'http://127.0.0.1:3000',
      'https://{apiId}.execute-api.{region}.amazonaws.com',
    ]);
    expect(document.info.license).toEqual({ name: 'Apache-2.0', identifier: 'Apache-2.0' });
  });

  it('documents each declared code under the status the catalog gives it', () => {
    for (const route of routeList) {
      const responses = operationOf(route)?.responses ?? {};
      for (const code of declaredErrorCodes(route)) {
        const { status } = errorCatalog[code];
        expect(responses[status]?.description, `${route.operationId} ${code}`).toContain(code);
      }
    }
    const patch = operationOf(routes.patchAdditionalInfo);
    expect(Object.keys(patch?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '412', '413', '422']),
    );
  });

  it('needs no token only on the public routes', () => {
    expect(document.paths['/health']?.get?.security).toEqual([]);
    expect(document.paths['/customers']?.post?.security).toEqual([{ bearer: [] }]);
  });
});

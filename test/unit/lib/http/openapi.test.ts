import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../../lib/http/openapi.js';
import { routeList } from '../../../../lib/http/routes.js';

describe('the OpenAPI document', () => {
  const document = openApiDocument() as unknown as {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        { operationId: string; responses: Record<string, unknown>; security?: unknown[] }
      >
    >;
  };

  it('describes every route of the routes table, by method and path', () => {
    expect(document.openapi).toBe('3.1.0');
    for (const route of routeList) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation?.operationId, `${route.method} ${route.path}`).toBe(route.operationId);
    }
    const operations = Object.values(document.paths).flatMap((methods) => Object.keys(methods));
    expect(operations).toHaveLength(routeList.length);
  });

  it('documents the problem answers a route can give, and no token only for public routes', () => {
    const patch = document.paths['/customers/{id}/additional-info']?.patch;
    expect(Object.keys(patch?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '409', '412', '413', '422']),
    );
    expect(document.paths['/health']?.get?.security).toEqual([]);
    expect(document.paths['/customers']?.post?.security).toEqual([{ bearer: [] }]);
  });
});

import { healthSchema } from '../../schemas/common.js';
import { defineRoute } from '../route.js';

export const metaRoutes = {
  health: defineRoute({
    operationId: 'health',
    method: 'GET',
    path: '/health',
    entry: 'functions/api/health.ts',
    auth: 'public',
    summary: 'Liveness check',
    tags: ['meta'],
    responses: { 200: { description: 'The API answers', schema: healthSchema } },
  }),
  openapi: defineRoute({
    operationId: 'openapi',
    method: 'GET',
    path: '/openapi.json',
    entry: 'functions/api/openapi.ts',
    auth: 'public',
    summary: 'This OpenAPI 3.1 document',
    tags: ['meta'],
    responses: { 200: { description: 'The OpenAPI document' } },
  }),
} as const;

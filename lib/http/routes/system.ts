import { patchSystemConfigBody, systemConfigSchema } from '../../schemas/phone-lines.js';
import { defineRoute } from '../route.js';
import { adminOnly } from './roles.js';

export const systemRoutes = {
  getSystemConfig: defineRoute({
    operationId: 'getSystemConfig',
    method: 'GET',
    path: '/system/config',
    entry: 'functions/api/system/get-config.ts',
    auth: adminOnly,
    summary: 'The system configuration (what a system alias resolves to)',
    tags: ['system'],
    responses: {
      200: { description: 'The configuration', schema: systemConfigSchema, headers: ['ETag'] },
    },
  }),
  patchSystemConfig: defineRoute({
    operationId: 'patchSystemConfig',
    method: 'PATCH',
    path: '/system/config',
    entry: 'functions/api/system/patch-config.ts',
    auth: adminOnly,
    summary: 'Change the system configuration; every system alias follows at once',
    description:
      'The switch-facing calls cache the configuration for at most 5 seconds per instance. Honours If-Match with the ETag of GET /system/config (a stale one is 412 precondition_failed) and answers the new ETag; setting the value in force writes nothing and keeps the ETag.',
    tags: ['system'],
    body: patchSystemConfigBody,
    conditional: true,
    responses: {
      200: { description: 'The configuration', schema: systemConfigSchema, headers: ['ETag'] },
    },
    errorCodes: ['precondition_failed', 'concurrent_update'],
  }),
} as const;

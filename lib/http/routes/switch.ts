import {
  authorizationSchema,
  authorizeBody,
  numberParams,
  routingSchema,
} from '../../schemas/phone-lines.js';
import { defineRoute } from '../route.js';
import { switchFacing } from './roles.js';

export const switchRoutes = {
  sipAuthorize: defineRoute({
    operationId: 'sipAuthorize',
    method: 'POST',
    path: '/sip/authorize',
    entry: 'functions/api/switch/authorize.ts',
    auth: switchFacing,
    summary: 'May this username register or call, and which account is charged',
    description:
      'One DynamoDB read. A refusal is a 200 with allowed false and a reason: alias_registration_disabled, customer_terminated or unknown_username.',
    tags: ['switch'],
    body: authorizeBody,
    responses: { 200: { description: 'The decision', schema: authorizationSchema } },
  }),
  routeNumber: defineRoute({
    operationId: 'routeNumber',
    method: 'GET',
    path: '/routing/{number}',
    entry: 'functions/api/switch/route.ts',
    auth: switchFacing,
    summary: 'Where an incoming call to this number rings',
    description:
      'A disabled alias rings its main account. Lines of a terminated customer answer 409.',
    tags: ['switch'],
    params: numberParams,
    responses: { 200: { description: 'Where it rings', schema: routingSchema } },
    errorCodes: ['customer_terminated'],
  }),
} as const;

import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { signLocalToken } from '../../infra/local/jwt.js';
import { startLocalRuntime } from '../../infra/local/runtime.js';
import { invariantViolations } from './invariants.js';

/**
 * The load with invariants: a small world seeded through the API (two resellers, each
 * with HQs, branch candidates, accounts, and one inventory DID batch for all), then a
 * bounded time of mixed traffic from a pool of workers. The world is kept small on
 * purpose, so workers keep meeting on the same HQs, branches and numbers, and some
 * operations are bursts that fire conflicting requests at once (README, "Load with
 * invariants"). `npx tsx test/load/run.ts` runs it against its own local runtime and
 * then checks every invariant (./invariants.ts).
 */

export interface LoadTokens {
  readonly admin: string;
  readonly switch: string;
  reseller(resellerId: string): Promise<string>;
}

export interface LoadOptions {
  readonly url: string;
  readonly tokens: LoadTokens;
  readonly seconds: number;
  readonly concurrency: number;
  /** Seeds the choice of operations and targets (timing still varies from run to run). */
  readonly seed?: number;
}

export interface RouteFigures {
  /** Method and route template, e.g. `POST /customers/{id}/charges`. */
  readonly route: string;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Requests by status code. */
  readonly statuses: Readonly<Record<string, number>>;
}

/** A 5xx, or a request that got no answer: never expected, whatever the race. */
export interface ServerError {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly requestBody: unknown;
  readonly status: number;
  readonly body: unknown;
}

export interface LoadReport {
  readonly seed: number;
  /** How long the traffic ran, in seconds (the last workers finish their operation past the deadline). */
  readonly seconds: number;
  readonly concurrency: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly routes: readonly RouteFigures[];
  /** Answers by status and problem code, e.g. `409 number_conflict`, across routes. */
  readonly codes: Readonly<Record<string, number>>;
  readonly serverErrors: readonly ServerError[];
  /** Contract breaches seen in the answers themselves: a key replayed as a second charge. */
  readonly breaches: readonly string[];
}

interface Answer {
  readonly status: number;
  readonly body: any;
}

/** Small, seedable, good enough to pick operations: mulberry32. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const percentile = (sorted: readonly number[], fraction: number): number =>
  sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)] ?? 0;

/** Every request's latency and answer, by route template. */
class Recorder {
  private readonly latencies = new Map<string, number[]>();
  private readonly statuses = new Map<string, Map<string, number>>();
  private readonly codes = new Map<string, number>();
  readonly serverErrors: ServerError[] = [];
  readonly breaches: string[] = [];

  /** Forgets the figures so far (the seeding's), keeping its server errors: those count whenever. */
  startFigures(): void {
    this.latencies.clear();
    this.statuses.clear();
    this.codes.clear();
  }

  record(route: string, millis: number, answer: Answer): void {
    const latencies = this.latencies.get(route) ?? [];
    latencies.push(millis);
    this.latencies.set(route, latencies);
    const statuses = this.statuses.get(route) ?? new Map<string, number>();
    const status = String(answer.status);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    this.statuses.set(route, statuses);
    if (answer.status >= 400) {
      const code = `${answer.status} ${answer.body?.code ?? ''}`.trim();
      this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
    }
  }

  report(seed: number, seconds: number, concurrency: number): LoadReport {
    const routes = [...this.latencies].map(([route, millis]) => {
      const sorted = [...millis].sort((a, b) => a - b);
      return {
        route,
        requests: sorted.length,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        statuses: Object.fromEntries(this.statuses.get(route) ?? []),
      };
    });
    const requests = routes.reduce((sum, route) => sum + route.requests, 0);
    return {
      seed,
      seconds,
      concurrency,
      requests,
      requestsPerSecond: requests / seconds,
      routes: routes.sort((a, b) => b.requests - a.requests),
      codes: Object.fromEntries([...this.codes].sort((a, b) => b[1] - a[1])),
      serverErrors: this.serverErrors,
      breaches: this.breaches,
    };
  }
}

interface LoadCustomer {
  readonly id: string;
  readonly currency: string;
}

/** A place in the world that always holds a customer: a terminated one is replaced by a new one. */
interface Slot {
  customer: LoadCustomer;
  readonly role: 'hq' | 'member';
  readonly currency: string;
  readonly reseller: Reseller;
  replacing: boolean;
}

interface Reseller {
  readonly id: string;
  readonly token: string;
  readonly hqs: Slot[];
  readonly members: Slot[];
}

/** Sizes that keep the world crowded: every number and office is wanted by several workers. */
const worldSize = {
  resellers: 2,
  hqsPerReseller: 2,
  membersPerReseller: 5,
  dids: 60,
  /** Phone numbers that accounts and aliases compete for. */
  contestedLines: 240,
  extensionNumbers: Array.from({ length: 16 }, (_, index) => String(100 + index)),
  huntGroupNumbers: Array.from({ length: 8 }, (_, index) => String(500 + index)),
};

const paidPricing = {
  free: false,
  currency: 'EUR',
  activationFee: '1.00',
  recurringFee: '0.50',
  markupPercent: '10',
  roundingDecimals: 2,
};

/**
 * Seeds the world through the API, then drives mixed traffic at `options.url` for
 * `options.seconds` with `options.concurrency` workers. It answers what it measured;
 * checking the table afterwards is the caller's (`invariantViolations`, once the
 * stream consumers are idle).
 */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const seed = options.seed ?? randomInt(2 ** 31);
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const chance = (probability: number) => random() < probability;
  const recorder = new Recorder();
  const { admin, switch: switchToken } = options.tokens;
  // Numbers and names of this run only, so runs against one server never meet.
  const tag = String(randomInt(10_000)).padStart(4, '0');
  const numbered = (prefix: string, index: number) =>
    `${prefix}${tag}${String(index).padStart(4, '0')}`;
  const didPool = Array.from({ length: worldSize.dids }, (_, index) => numbered('+4930', index));
  const contestedLines = Array.from({ length: worldSize.contestedLines }, (_, index) =>
    numbered('+4940', index),
  );
  let enrolled = 0;
  let keys = 0;
  const period = () => new Date().toISOString().slice(0, 7);

  async function send(
    route: string,
    path: string,
    token: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const method = route.slice(0, route.indexOf(' '));
    const started = performance.now();
    let answer: Answer;
    try {
      const response = await fetch(`${options.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      answer = { status: response.status, body: text ? JSON.parse(text) : undefined };
    } catch (error) {
      answer = { status: 0, body: { error: String(error) } };
    }
    recorder.record(route, performance.now() - started, answer);
    if (answer.status === 0 || answer.status >= 500)
      recorder.serverErrors.push({
        route,
        method,
        path,
        requestBody: body,
        status: answer.status,
        body: answer.body,
      });
    return answer;
  }

  const panel = (slot: Slot, body: unknown) =>
    send(
      'PATCH /customers/{id}/additional-info',
      `/customers/${slot.customer.id}/additional-info`,
      slot.reseller.token,
      body,
    );

  // Seeding: one inventory batch, its numbers, the resellers' offices and their accounts.
  const batch = await send('POST /did-batches', '/did-batches', admin, {
    name: `Load ${tag}`,
    source: 'inventory',
    pricing: paidPricing,
  });
  if (batch.status !== 201) throw new Error(`cannot create the DID batch: ${batch.status}`);
  const batchId: string = batch.body.id;
  const imported = await send(
    'POST /did-batches/{id}/numbers',
    `/did-batches/${batchId}/numbers`,
    admin,
    {
      numbers: didPool.map((number, index) => ({
        number,
        kind: 'local',
        country: 'DE',
        area: '30',
        activationCost: `1.${String(index % 100).padStart(2, '0')}5`,
        recurringCost: '0.99',
      })),
    },
  );
  if (imported.status !== 200) throw new Error(`cannot import the DIDs: ${imported.status}`);

  const accounts = new Map<string, string[]>();
  const lines: string[] = [];
  const held = new Map<string, string>();
  const registered = (customerId: string, account: string) => {
    accounts.set(customerId, [...(accounts.get(customerId) ?? []), account]);
    lines.push(account);
  };

  /** A new customer for a slot: created, its panel set, one account. Undefined when a step is refused. */
  async function enroll(reseller: Reseller, role: Slot['role'], currency: string) {
    const number = ++enrolled;
    const created = await send('POST /customers', '/customers', reseller.token, {
      name: `Load ${tag} ${role} ${number}`,
      businessModel: role === 'hq' ? 'cloud_pbx' : 'universal',
      currency,
    });
    if (created.status !== 201) return undefined;
    const customer: LoadCustomer = { id: created.body.id, currency };
    const settings = {
      ...(role === 'hq'
        ? {
            officeHierarchy: {
              enabled: true,
              office: 'main',
              invoicing: chance(0.75) ? 'consolidated' : 'individual',
            },
          }
        : {}),
      // The batch is paid in EUR: another currency may not use it (422 currency_mismatch).
      ...(currency === 'EUR' ? { didAutoProvisioning: { enabled: true, batchId } } : {}),
    };
    if (Object.keys(settings).length > 0) {
      const set = await send(
        'PATCH /customers/{id}/additional-info',
        `/customers/${customer.id}/additional-info`,
        reseller.token,
        settings,
      );
      if (set.status !== 200) return undefined;
    }
    const account = numbered('+4941', number);
    const opened = await send(
      'POST /customers/{id}/accounts',
      `/customers/${customer.id}/accounts`,
      reseller.token,
      {
        number: account,
      },
    );
    if (opened.status !== 201) return undefined;
    registered(customer.id, account);
    // A new member joins one of its reseller's HQs; refused when that one cannot take it now.
    const hq = role === 'member' && reseller.hqs.length > 0 ? pick(reseller.hqs) : undefined;
    if (hq)
      await send(
        'PATCH /customers/{id}/additional-info',
        `/customers/${customer.id}/additional-info`,
        reseller.token,
        { officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq.customer.id } },
      );
    return customer;
  }

  const resellers: Reseller[] = [];
  for (let index = 0; index < worldSize.resellers; index++) {
    const id = `load-${tag}-${index}`;
    const reseller: Reseller = {
      id,
      token: await options.tokens.reseller(id),
      hqs: [],
      members: [],
    };
    const roles = [
      ...Array.from({ length: worldSize.hqsPerReseller }, () => ['hq', 'EUR'] as const),
      // One member in another currency: consolidated invoicing refuses it (422 currency_mismatch).
      ...Array.from(
        { length: worldSize.membersPerReseller },
        (_, member) => ['member', member === 0 ? 'USD' : 'EUR'] as const,
      ),
    ];
    for (const [role, currency] of roles) {
      const customer = await enroll(reseller, role, currency);
      if (!customer) throw new Error(`cannot seed a ${role} of ${id}`);
      const slot: Slot = { customer, role, currency, reseller, replacing: false };
      (role === 'hq' ? reseller.hqs : reseller.members).push(slot);
    }
    resellers.push(reseller);
  }
  const allSlots = () => resellers.flatMap((reseller) => [...reseller.hqs, ...reseller.members]);
  const anySlot = () => pick(allSlots());
  const hqSlot = () => pick(pick(resellers).hqs);
  const provisionedSlot = () => pick(allSlots().filter((slot) => slot.currency === 'EUR'));
  const someNumbers = <T>(pool: readonly T[], most: number) => [
    ...new Set(Array.from({ length: 1 + Math.floor(random() * most) }, () => pick(pool))),
  ];

  async function replace(slot: Slot): Promise<void> {
    if (slot.replacing) return;
    slot.replacing = true;
    try {
      const customer = await enroll(slot.reseller, slot.role, slot.currency);
      if (customer) slot.customer = customer;
    } finally {
      slot.replacing = false;
    }
  }

  /** A slot whose customer is refused as terminated (an HQ's cascade reached it) gets a new one. */
  async function noticeTermination(slot: Slot, answer: Answer): Promise<void> {
    if (answer.status !== 409 || answer.body?.code !== 'customer_terminated' || slot.replacing)
      return;
    const read = await send('GET /customers/{id}', `/customers/${slot.customer.id}`, admin);
    if (read.body?.status === 'terminated') await replace(slot);
  }

  const link = (member: Slot, hq: Slot) =>
    panel(member, {
      officeHierarchy: { enabled: true, office: 'branch', mainOfficeId: hq.customer.id },
    });
  const unlink = (member: Slot) =>
    panel(
      member,
      chance(0.5)
        ? { officeHierarchy: { enabled: true, office: 'main' } }
        : { officeHierarchy: { enabled: false } },
    );
  const createExtension = (slot: Slot, number = pick(worldSize.extensionNumbers)) =>
    send(
      'POST /customers/{id}/extensions',
      `/customers/${slot.customer.id}/extensions`,
      slot.reseller.token,
      {
        number,
        name: `Desk ${number}`,
      },
    );
  const createHuntGroup = (slot: Slot, members = someNumbers(worldSize.extensionNumbers, 2)) =>
    send(
      'POST /customers/{id}/hunt-groups',
      `/customers/${slot.customer.id}/hunt-groups`,
      slot.reseller.token,
      {
        number: pick(worldSize.huntGroupNumbers),
        name: 'Queue',
        strategy: pick(['simultaneous', 'sequential', 'round_robin', 'least_used']),
        members,
      },
    );
  const grab = async (slot: Slot, numbers: readonly string[], key?: string) => {
    const answer = await send(
      'POST /customers/{id}/dids',
      `/customers/${slot.customer.id}/dids`,
      slot.reseller.token,
      { numbers },
      key ? { 'idempotency-key': key } : {},
    );
    if (answer.status === 201) for (const number of numbers) held.set(number, slot.customer.id);
    return answer;
  };
  const release = async (customerId: string, number: string, token: string) => {
    const answer = await send(
      'DELETE /customers/{id}/dids/{number}',
      `/customers/${customerId}/dids/${encodeURIComponent(number)}`,
      token,
    );
    if (answer.status === 204 && held.get(number) === customerId) held.delete(number);
    return answer;
  };
  const amount = () =>
    `${Math.floor(random() * 3)}.${String(Math.floor(random() * 1e6)).padStart(6, '0')}`;
  const charge = (slot: Slot, body: Record<string, unknown> = {}, headers = {}) =>
    send(
      'POST /customers/{id}/charges',
      `/customers/${slot.customer.id}/charges`,
      switchToken,
      {
        amount: amount(),
        // Now and then another currency than the customer's: 422 currency_mismatch.
        currency: chance(0.03) ? 'GBP' : slot.customer.currency,
        kind: 'usage',
        description: `Call to ${pick(contestedLines)}`,
        ...body,
      },
      headers,
    );
  const terminate = async (slot: Slot) => {
    const answer = await send(
      'POST /customers/{id}/terminate',
      `/customers/${slot.customer.id}/terminate`,
      slot.reseller.token,
    );
    if (answer.status === 200) await replace(slot);
    return answer;
  };

  /** The mix, by weight: reads, writes of every part, and bursts of conflicting requests. */
  const operations: [weight: number, run: () => Promise<unknown>][] = [
    [
      10,
      async () => {
        const slot = anySlot();
        await send(
          'GET /customers/{id}/additional-info',
          `/customers/${slot.customer.id}/additional-info`,
          chance(0.5) ? slot.reseller.token : admin,
        );
      },
    ],
    [3, () => send('GET /customers/{id}', `/customers/${anySlot().customer.id}`, admin)],
    [
      3,
      () =>
        send(
          'GET /customers/{id}/branches',
          `/customers/${hqSlot().customer.id}/branches?limit=50`,
          admin,
        ),
    ],
    [
      4,
      () =>
        send(
          'GET /customers/{id}/invoices/{period}',
          `/customers/${anySlot().customer.id}/invoices/${period()}`,
          admin,
        ),
    ],
    [
      5,
      async () => {
        const slot = anySlot();
        const body =
          slot.role === 'hq' && chance(0.3)
            ? { officeHierarchy: { invoicing: chance(0.7) ? 'consolidated' : 'individual' } }
            : { aliasAuthDefault: pick(['system', 'enabled', 'disabled']) };
        await noticeTermination(slot, await panel(slot, body));
      },
    ],
    [
      8,
      async () => {
        const reseller = pick(resellers);
        const member = pick(reseller.members);
        await noticeTermination(member, await link(member, pick(reseller.hqs)));
      },
    ],
    [
      3,
      async () => {
        const member = pick(pick(resellers).members);
        await noticeTermination(member, await unlink(member));
      },
    ],
    [
      2,
      async () => {
        // Demoting an HQ with branches is refused; without them it steps down, and comes back.
        const hq = hqSlot();
        const body = chance(0.5)
          ? { officeHierarchy: { enabled: false } }
          : { officeHierarchy: { enabled: true, office: 'main' } };
        await noticeTermination(hq, await panel(hq, body));
      },
    ],
    [
      6,
      async () => {
        const slot = anySlot();
        await noticeTermination(slot, await createExtension(slot));
      },
    ],
    [
      3,
      async () => {
        const slot = anySlot();
        await noticeTermination(slot, await createHuntGroup(slot));
      },
    ],
    [
      4,
      async () => {
        const slot = anySlot();
        const [route, path] = chance(0.6)
          ? [
              'DELETE /customers/{id}/extensions/{number}',
              `extensions/${pick(worldSize.extensionNumbers)}`,
            ]
          : [
              'DELETE /customers/{id}/hunt-groups/{number}',
              `hunt-groups/${pick(worldSize.huntGroupNumbers)}`,
            ];
        await noticeTermination(
          slot,
          await send(route, `/customers/${slot.customer.id}/${path}`, slot.reseller.token),
        );
      },
    ],
    [
      3,
      () =>
        send(
          'GET /customers/{id}/extensions',
          `/customers/${anySlot().customer.id}/extensions`,
          admin,
        ),
    ],
    [
      2,
      async () => {
        const slot = anySlot();
        const number = pick(contestedLines);
        const answer = await send(
          'POST /customers/{id}/accounts',
          `/customers/${slot.customer.id}/accounts`,
          slot.reseller.token,
          {
            number,
          },
        );
        if (answer.status === 201) registered(slot.customer.id, number);
        await noticeTermination(slot, answer);
      },
    ],
    [
      5,
      async () => {
        const slot = anySlot();
        const account = pick(accounts.get(slot.customer.id) ?? [numbered('+4941', 0)]);
        const number = pick(contestedLines);
        const answer = await send(
          'POST /accounts/{number}/aliases',
          `/accounts/${encodeURIComponent(account)}/aliases`,
          slot.reseller.token,
          chance(0.5)
            ? { number }
            : { number, authentication: pick(['system', 'enabled', 'disabled']) },
        );
        if (answer.status === 201) lines.push(number);
        await noticeTermination(slot, answer);
      },
    ],
    [
      6,
      () =>
        send('POST /sip/authorize', '/sip/authorize', switchToken, {
          username: chance(0.9) ? pick(lines) : pick(contestedLines),
        }),
    ],
    [
      3,
      () =>
        send('GET /routing/{number}', `/routing/${encodeURIComponent(pick(lines))}`, switchToken),
    ],
    [
      6,
      async () => {
        // Every worker reads the same first offers, so they grab the same numbers.
        const slot = provisionedSlot();
        const offered = await send(
          'GET /customers/{id}/did-offers',
          `/customers/${slot.customer.id}/did-offers?kind=local&country=DE&limit=4`,
          slot.reseller.token,
        );
        await noticeTermination(slot, offered);
        const numbers: string[] = (offered.body?.items ?? []).map(
          (offer: { number: string }) => offer.number,
        );
        if (numbers.length === 0) return;
        const answer = await grab(
          slot,
          someNumbers(numbers, 2),
          chance(0.3) ? `load-${tag}-${++keys}` : undefined,
        );
        await noticeTermination(slot, answer);
      },
    ],
    [
      4,
      async () => {
        const slot = provisionedSlot();
        await noticeTermination(slot, await grab(slot, someNumbers(didPool, 3)));
      },
    ],
    [
      4,
      async () => {
        const owned = [...held];
        if (owned.length === 0 || chance(0.2)) {
          const slot = provisionedSlot();
          await release(slot.customer.id, pick(didPool), slot.reseller.token);
          return;
        }
        const [number, customerId] = pick(owned);
        await release(customerId, number, admin);
      },
    ],
    [
      2,
      () =>
        send(
          'GET /customers/{id}/dids',
          `/customers/${provisionedSlot().customer.id}/dids?limit=100`,
          admin,
        ),
    ],
    [14, () => charge(anySlot())],
    [
      2,
      () =>
        send('POST /customers/{id}/charges', `/customers/${anySlot().customer.id}/charges`, admin, {
          amount: `-${amount()}`,
          currency: 'EUR',
          kind: 'manual',
          description: 'Goodwill credit',
        }),
    ],
    [
      2,
      async () => {
        // The same key and body twice at once: one charge, answered twice (or 409 in flight).
        const slot = anySlot();
        const body = {
          amount: amount(),
          currency: slot.customer.currency,
          kind: 'usage',
          description: 'Retried call',
        };
        const key = `load-${tag}-${++keys}`;
        const answers = await Promise.all(
          [0, 1].map(() => charge(slot, body, { 'idempotency-key': key })),
        );
        const ids = new Set(
          answers.filter((answer) => answer.status === 201).map((answer) => answer.body.id),
        );
        if (ids.size > 1)
          recorder.breaches.push(
            `Idempotency-Key ${key} on ${slot.customer.id} recorded ${ids.size} charges`,
          );
      },
    ],
    [0.5, () => terminate(chance(0.5) ? hqSlot() : anySlot())],
    [
      2,
      async () => {
        // One branch claimed by both HQs of its reseller and unlinked, all at once.
        const reseller = pick(resellers);
        const member = pick(reseller.members);
        const answers = await Promise.all([
          ...reseller.hqs.map((hq) => link(member, hq)),
          unlink(member),
        ]);
        for (const answer of answers) await noticeTermination(member, answer);
      },
    ],
    [
      2,
      async () => {
        // Three customers grabbing the same two numbers, while the holder of one releases it.
        const numbers = someNumbers(didPool.slice(0, 12), 2);
        const holder = held.get(numbers[0] as string);
        await Promise.all([
          ...[0, 1, 2].map(() => {
            const slot = provisionedSlot();
            return grab(slot, numbers).then((answer) => noticeTermination(slot, answer));
          }),
          ...(holder ? [release(holder, numbers[0] as string, admin)] : []),
        ]);
      },
    ],
    [
      0.5,
      async () => {
        // An HQ terminated while a branch links to it, its branches are charged and it adds an extension.
        const reseller = pick(resellers);
        const hq = pick(reseller.hqs);
        const members = reseller.members.slice(0, 3);
        await Promise.all([
          terminate(hq),
          link(pick(members), hq),
          ...members.map((member) => charge(member)),
          charge(hq),
          createExtension(hq),
        ]);
      },
    ],
    [
      2,
      async () => {
        // One number created on an HQ and on a branch candidate while that one links to it,
        // and a hunt group of the candidate on the HQ's extension while it leaves.
        const reseller = pick(resellers);
        const hq = pick(reseller.hqs);
        const member = pick(reseller.members);
        const number = pick(worldSize.extensionNumbers);
        const answers = await Promise.all([
          createExtension(hq, number),
          createExtension(member, number),
          link(member, hq),
          createHuntGroup(member, [number]),
          unlink(member),
        ]);
        for (const answer of answers.slice(1)) await noticeTermination(member, answer);
      },
    ],
    [
      2,
      async () => {
        // One number wanted as an alias of two accounts and as an account, at once.
        const number = pick(contestedLines);
        const slots = [anySlot(), anySlot()];
        const answers = await Promise.all([
          ...slots.map((slot) =>
            send(
              'POST /accounts/{number}/aliases',
              `/accounts/${encodeURIComponent(pick(accounts.get(slot.customer.id) ?? [numbered('+4941', 0)]))}/aliases`,
              slot.reseller.token,
              { number },
            ),
          ),
          send(
            'POST /customers/{id}/accounts',
            `/customers/${(slots[0] as Slot).customer.id}/accounts`,
            admin,
            { number },
          ),
        ]);
        const won = answers.filter((answer) => answer.status === 201).length;
        if (won > 1) recorder.breaches.push(`number ${number} registered ${won} times at once`);
        if (answers[2]?.status === 201) registered((slots[0] as Slot).customer.id, number);
        else if (won === 1) lines.push(number);
      },
    ],
  ];
  const totalWeight = operations.reduce((sum, [weight]) => sum + weight, 0);
  const nextOperation = () => {
    let point = random() * totalWeight;
    for (const [weight, run] of operations) {
      point -= weight;
      if (point < 0) return run;
    }
    return (operations[0] as (typeof operations)[number])[1];
  };

  recorder.startFigures();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline) await nextOperation()();
    }),
  );
  return recorder.report(seed, (performance.now() - started) / 1000, options.concurrency);
}

const formatMillis = (millis: number) => millis.toFixed(1);

/** The report as printed: one row per route template, then the totals and the violations. */
/** One row per route: its requests, p50 and p99 latency, and answers by status. */
export const routeRows = (report: LoadReport) =>
  report.routes.map((route) => ({
    route: route.route,
    requests: route.requests,
    'p50 ms': formatMillis(route.p50Ms),
    'p99 ms': formatMillis(route.p99Ms),
    statuses: Object.entries(route.statuses)
      .map(([status, count]) => `${status}:${count}`)
      .join(' '),
  }));

export function printLoadReport(report: LoadReport, violations: readonly string[]): void {
  console.log(
    `\nLoad: ${report.concurrency} workers for ${report.seconds.toFixed(1)} s (seed ${report.seed})`,
  );
  console.table(routeRows(report));
  console.log('answers other than 2xx, by code:', report.codes);
  console.log(`requests: ${report.requests}, ${report.requestsPerSecond.toFixed(1)} requests/s`);
  console.log(`5xx or unanswered: ${report.serverErrors.length}`);
  for (const error of report.serverErrors.slice(0, 20)) console.log('  ', JSON.stringify(error));
  console.log(`contract breaches in answers: ${report.breaches.length}`);
  for (const breach of report.breaches) console.log(`  ${breach}`);
  console.log(`violations: ${violations.length}`);
  for (const violation of violations) console.log(`  ${violation}`);
}

/** `npx tsx test/load/run.ts`: its own local runtime, the load, then the checker; non-zero on any failure. */
async function main(): Promise<void> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const jwtSecret = randomBytes(24).toString('hex');
  const deadLetterFile = `.local/load-dead-letter-${process.pid}.jsonl`;
  const runtime = await startLocalRuntime({
    port: 0,
    tableName: `load-${randomBytes(3).toString('hex')}`,
    jwtSecret,
    deadLetterFile,
  });
  try {
    const signed = (claims: Record<string, string>) => signLocalToken(jwtSecret, claims);
    const tokens = {
      admin: await signed({ role: 'admin' }),
      switch: await signed({ role: 'switch' }),
      reseller: (resellerId: string) => signed({ role: 'reseller', resellerId }),
    };
    const report = await runLoad({
      url: runtime.url,
      tokens,
      seconds: Number(process.env.LOAD_SECONDS ?? 30),
      concurrency: Number(process.env.LOAD_CONCURRENCY ?? 16),
      seed: process.env.LOAD_SEED === undefined ? undefined : Number(process.env.LOAD_SEED),
    });
    const idleFrom = performance.now();
    await runtime.streamsIdle();
    console.log(
      `\nstream consumers idle ${((performance.now() - idleFrom) / 1000).toFixed(1)} s after the load`,
    );
    const violations = await invariantViolations(runtime, tokens);
    printLoadReport(report, violations);
    // A stream record a consumer gave up on is a failure even when nothing it touched shows.
    const deadLetters = existsSync(deadLetterFile)
      ? readFileSync(deadLetterFile, 'utf8').split('\n').filter(Boolean).length
      : 0;
    console.log(
      `dead-lettered stream records: ${deadLetters}${deadLetters ? ` (${deadLetterFile})` : ''}`,
    );
    const failed =
      violations.length + report.serverErrors.length + report.breaches.length + deadLetters > 0;
    process.exitCode = failed ? 1 : 0;
  } finally {
    await runtime.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

import type { DidKind } from '../../schemas/did-batches.js';

/**
 * The port to an external DID provider (§8): what a `provider` batch needs from it.
 * One adapter per provider (lib/providers/didww for DIDWW API v3); the local stand-in
 * speaks the same wire format, so the adapter's code runs in development and tests.
 *
 * Every method throws AppError `provider_error` (502) when the provider answers an
 * error or something that is not its documented shape, and `provider_timeout` (504)
 * when it does not answer within the adapter's bound (at most 10 s).
 */
export interface DidProvider {
  /** Numbers the provider offers now, filtered, at most `limit`. */
  search(query: ProviderSearch): Promise<ProviderNumber[]>;
  /** The offer of one exact number, or undefined when the provider does not offer it now. */
  find(number: string): Promise<ProviderNumber | undefined>;
  /**
   * Buys the offered numbers in one order (reserving first where the provider needs
   * it) and answers each bought DID. `reference` (our intent's id, URL-safe, ≤ 64
   * characters) is attached where the provider keeps one, for people reading its logs.
   * All or nothing: when the provider cannot sell every number, it throws
   * `provider_error` and none is bought.
   */
  order(numbers: readonly ProviderNumber[], reference: string): Promise<OrderedDid[]>;
  /** The DID on our account with this number, or undefined when we do not hold it. */
  findOwned(number: string): Promise<OrderedDid | undefined>;
  /** Gives a DID we hold back to the provider; releasing one already released succeeds. */
  release(providerDidId: string): Promise<void>;
}

export interface ProviderSearch {
  readonly kind: DidKind;
  /** ISO 3166-1 alpha-2, upper case. */
  readonly country: string;
  readonly area?: string | undefined;
  readonly limit: number;
}

/** An offered number with what the provider charges us for it (decimal strings). */
export interface ProviderNumber {
  readonly number: string;
  readonly kind: DidKind;
  readonly country: string;
  readonly area: string | null;
  readonly activationCost: string;
  readonly recurringCost: string;
  /** What the adapter needs to order this very offer (opaque to the domain). */
  readonly offerRef: string;
}

export interface OrderedDid {
  readonly number: string;
  /** The provider's id of the DID we hold: what `release` takes. */
  readonly providerDidId: string;
}

/** The providers a batch can name, each built from its configuration. */
export type DidProviders = (name: 'didww') => DidProvider;

import { AppError } from '../../errors.js';

/** §6: a number the group of offices already uses, on creation or on a link (one entry per number). */
export const numberConflict = (numbers: readonly string[]) =>
  new AppError(
    'number_conflict',
    `Already used in the group of offices: ${numbers.join(', ')}.`,
    numbers.map((number) => ({
      path: `numbers.${number}`,
      message: `${number} is already used in the group`,
    })),
  );

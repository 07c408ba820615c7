/** Largest limit enforced with an exact sliding-window log; larger ones use the sliding-window counter. */
export const EXACT_LIMIT = 1000;

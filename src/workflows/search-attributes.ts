import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/**
 * Custom search attributes for `temporal workflow list --query` and Temporal Web's
 * columns. Registered by Promiseflow's dev server start (scripts and tests); on another
 * server, create them once with `temporal operator search-attribute create` (README).
 */
export const SEARCH_ATTRIBUTES = {
  promiseName: defineSearchAttributeKey('PromiseName', SearchAttributeType.KEYWORD),
  promiseVersion: defineSearchAttributeKey('PromiseVersion', SearchAttributeType.KEYWORD),
  updatePhase: defineSearchAttributeKey('UpdatePhase', SearchAttributeType.KEYWORD),
  resourcesTotal: defineSearchAttributeKey('ResourcesTotal', SearchAttributeType.INT),
  resourcesDone: defineSearchAttributeKey('ResourcesDone', SearchAttributeType.INT),
  resourcesFailed: defineSearchAttributeKey('ResourcesFailed', SearchAttributeType.INT),
  /** On each child of a Promise update: the update's workflow id (hide or group children). */
  parentUpdate: defineSearchAttributeKey('ParentUpdate', SearchAttributeType.KEYWORD),
} as const;

/** `NAME=Type` pairs for `temporal server start-dev --search-attribute`. */
export const SEARCH_ATTRIBUTE_DEFINITIONS: string[] = [
  'PromiseName=Keyword',
  'PromiseVersion=Keyword',
  'UpdatePhase=Keyword',
  'ResourcesTotal=Int',
  'ResourcesDone=Int',
  'ResourcesFailed=Int',
  'ParentUpdate=Keyword',
];

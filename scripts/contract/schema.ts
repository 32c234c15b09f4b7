/**
 * zod → JSON Schema for the contract documents, and the example values they share.
 * OpenAPI 3.1 takes JSON Schema 2020-12 as it is; AsyncAPI 3.0 payloads are its own Schema
 * Object, a superset of draft-07, so each document asks for its own target.
 */
import { z } from 'zod';

export type Target = 'draft-2020-12' | 'draft-07';
export type JsonSchema = Record<string, unknown>;

/** what a client may send (`io: 'input'`: before transforms and defaults) or will receive */
export function jsonSchema(schema: z.ZodType, target: Target, io: 'input' | 'output' = 'output'): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { target, io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/**
 * Example values. The room id stands for "the room the buyer opened": ids are chosen by the
 * server, so the contract test substitutes the real one. Message ids are real: a fresh
 * database numbers them from 1.
 */
export const EXAMPLE = {
  roomId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  buyer: 'alice',
  seller: 'bob',
  stranger: 'carol',
  admin: 'support-admin',
  productId: 'bike-1',
  time: '2026-05-04T10:15:30.123Z',
  jwt: '<jwt>',
} as const;

/** who makes an example call: a user id whose token the caller holds, `admin` with role admin, or nobody */
export type Caller = 'alice' | 'bob' | 'carol' | 'admin' | null;

export const exampleMessage = {
  type: 'message',
  id: '1',
  roomId: EXAMPLE.roomId,
  senderId: EXAMPLE.buyer,
  content: 'Hi! Is the bike still available?',
  clientMsgId: '0d6f8a2e-5b7c-4c1e-9a3d-2f4b6c8e0a11',
  createdAt: EXAMPLE.time,
  attachments: [],
  deleted: false,
  roomUUID: EXAMPLE.roomId,
  sender: EXAMPLE.buyer,
  timestamp: EXAMPLE.time,
} as const;

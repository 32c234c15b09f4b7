/**
 * The one way tests get a room: the buyer opens it over tRPC, as the web page and the apps do,
 * on the instance at `baseUrl`.
 */
import { randomUUID } from 'node:crypto';
import { tokenFor } from './tokens.js';
import { trpcClient } from './trpc.js';

export interface TestRoom {
  roomId: string;
  buyer: string;
  seller: string;
}

export async function openRoom(
  baseUrl: string,
  buyer = `buyer-${randomUUID()}`,
  seller = `seller-${randomUUID()}`,
  productId = `product-${randomUUID()}`,
): Promise<TestRoom> {
  const res = await trpcClient(baseUrl, { token: await tokenFor(buyer) }).mutate('rooms.open', { productId, sellerId: seller });
  if (res.status !== 200 || !res.data) throw new Error(`rooms.open answered ${res.status}: ${JSON.stringify(res.error)}`);
  return { roomId: String(res.data.id), buyer, seller };
}

/**
 * The demo catalogue: a handful of listings with their sellers, so that the chat page has
 * something to talk about. The marketplace owns the real catalogue; the chat service only
 * knows product ids, so room titles are looked up here by id and fall back to the id.
 */
export type ProductIconName = 'bike' | 'camera' | 'lamp' | 'armchair' | 'headphones' | 'plant';

export interface Product {
  id: string;
  title: string;
  /** KRW, whole won */
  price: number;
  sellerId: string;
  sellerName: string;
  condition: 'Like new' | 'Good' | 'Fair';
  location: string;
  icon: ProductIconName;
  /** tile background and the illustration's ink */
  colour: string;
  ink: string;
}

export const PRODUCTS: readonly Product[] = [
  { id: 'p-road-bike', title: 'Road bike, 54 cm aluminium frame', price: 420_000, sellerId: 'bob', sellerName: 'Bob', condition: 'Good', location: 'Mapo-gu, Seoul', icon: 'bike', colour: '#dff3e8', ink: '#17623f' },
  { id: 'p-film-camera', title: '35 mm film camera with 50 mm lens', price: 185_000, sellerId: 'carol', sellerName: 'Carol', condition: 'Good', location: 'Haeundae-gu, Busan', icon: 'camera', colour: '#fdebd3', ink: '#8a4a10' },
  { id: 'p-desk-lamp', title: 'Adjustable desk lamp, warm white', price: 25_000, sellerId: 'alice', sellerName: 'Alice', condition: 'Like new', location: 'Seongsu-dong, Seoul', icon: 'lamp', colour: '#fff3bf', ink: '#7a6000' },
  { id: 'p-armchair', title: 'Reading armchair, green velvet', price: 150_000, sellerId: 'dave', sellerName: 'Dave', condition: 'Fair', location: 'Suwon', icon: 'armchair', colour: '#e3ecfb', ink: '#274c8f' },
  { id: 'p-headphones', title: 'Noise-cancelling headphones', price: 210_000, sellerId: 'bob', sellerName: 'Bob', condition: 'Like new', location: 'Mapo-gu, Seoul', icon: 'headphones', colour: '#ece3fb', ink: '#5a3596' },
  { id: 'p-houseplant', title: 'Monstera in a ceramic pot', price: 38_000, sellerId: 'carol', sellerName: 'Carol', condition: 'Good', location: 'Haeundae-gu, Busan', icon: 'plant', colour: '#e6f6dc', ink: '#3d6b1f' },
];

const byId = new Map(PRODUCTS.map((p) => [p.id, p]));

export function productById(id: string): Product | undefined {
  return byId.get(id);
}

const won = new Intl.NumberFormat('ko-KR', { style: 'currency', currency: 'KRW' });

export function formatPrice(krw: number): string {
  return won.format(krw);
}

/** demo users are ids like "bob"; show them as "Bob" when the service knows no better name */
export function displayName(id: string, name?: string | null): string {
  const n = name && name !== id ? name : id;
  return n.charAt(0).toUpperCase() + n.slice(1);
}

'use client';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { formatPrice, PRODUCTS } from '../_lib/catalogue';
import { useTRPC } from '../_lib/trpc';
import { Avatar } from './avatar';
import { ProductIcon } from './product-icon';

export function CatalogueGrid({ me }: { me: { id: string } }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [opening, setOpening] = useState<string | null>(null);
  const [error, setError] = useState<{ productId: string; message: string } | null>(null);
  const open = useMutation(
    trpc.rooms.open.mutationOptions({
      onSuccess(room) {
        queryClient.setQueryData(trpc.rooms.get.queryKey({ roomId: room.id }), room);
        void queryClient.invalidateQueries(trpc.rooms.list.pathFilter());
        router.push(`/chat/${room.id}`);
      },
      onError(err, vars) {
        setOpening(null);
        setError({ productId: vars.productId, message: err.message || 'Could not open the chat. Please try again.' });
      },
    }),
  );

  return (
    <ul className="catalogue" aria-label="Products">
      {PRODUCTS.map((p) => {
        const mine = p.sellerId === me.id;
        return (
          <li key={p.id} className="product-card" data-product={p.id} id={`product-${p.id}`}>
            <div className="product-tile" style={{ background: p.colour }} aria-hidden="true">
              <ProductIcon name={p.icon} colour={p.ink} size={88} />
            </div>
            <div className="product-body">
              <h2 className="product-title">{p.title}</h2>
              <p className="product-price">{formatPrice(p.price)}</p>
              <p className="muted small">
                {p.condition} · {p.location}
              </p>
              <div className="product-seller">
                <Avatar id={p.sellerId} name={p.sellerName} size={24} />
                <span className="small">Sold by {mine ? 'you' : p.sellerName}</span>
              </div>
              {mine ? (
                <span className="chip">Your listing</span>
              ) : (
                <button
                  type="button"
                  className="btn btn-primary btn-block"
                  disabled={opening !== null}
                  aria-label={`Chat with seller ${p.sellerName} about ${p.title}`}
                  onClick={() => {
                    setError(null);
                    setOpening(p.id);
                    open.mutate({ productId: p.id, sellerId: p.sellerId });
                  }}
                >
                  {opening === p.id ? 'Opening chat…' : 'Chat with seller'}
                </button>
              )}
              {error?.productId === p.id && (
                <p className="form-error" role="alert">
                  {error.message}
                </p>
              )}
            </div>
          </li>
        );
      })}
    </ul>
  );
}
